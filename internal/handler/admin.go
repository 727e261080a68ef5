package handler

import (
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/authsvc/authsvc/internal/auth"
	"github.com/authsvc/authsvc/internal/store"
)

// adminClientKey is the context key of the authenticated admin client id.
const adminClientKey = "authsvc.admin_client"

// adminAuth requires HTTP Basic authentication by a client with admin: true
// on every admin route; anything else is 401 invalid_client with
// WWW-Authenticate (written by the error table). Admin answers are never
// cached.
func adminAuth(svc *auth.Service) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h["Cache-Control"] = valNoStore
			h["Pragma"] = valNoCache
			if c.QueryString() != "" {
				return errQueryParameters
			}
			ca, err := clientAuth(c, params{})
			if err != nil {
				return err
			}
			admin, err := svc.AuthenticateAdmin(c.Request().Context(), ca, meta(c))
			if err != nil {
				return err
			}
			c.Set(adminClientKey, admin)
			return next(c)
		}
	}
}

// adminClient returns the admin client adminAuth authenticated.
func adminClient(c echo.Context) string {
	id, _ := c.Get(adminClientKey).(string)
	return id
}

// pathParam returns the percent-decoded path segment name: a subject or a
// session id may hold any character, '/' included, sent percent-encoded.
func pathParam(c echo.Context, name string) (string, error) {
	v, err := url.PathUnescape(c.Param(name))
	if err != nil || v == "" {
		return "", auth.ErrorF(auth.InvalidRequest, "malformed path segment "+name)
	}
	return v, nil
}

// adminSession is one session in the admin API's list. Times are Unix
// seconds; refreshed_at is 0 before the first rotation.
type adminSession struct {
	SessionID    string `json:"session_id"`
	ClientID     string `json:"client_id"`
	Scope        string `json:"scope"`
	AuthTime     int64  `json:"auth_time"`
	RefreshedAt  int64  `json:"refreshed_at"`
	ExpiresAt    int64  `json:"expires_at"`
	MaxExpiresAt int64  `json:"max_expires_at"`
}

// adminSessionsResponse is the answer of GET /admin/subjects/{sub}/sessions.
type adminSessionsResponse struct {
	Sessions []adminSession `json:"sessions"`
}

// unix returns t in Unix seconds, 0 for the zero time.
func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// adminListHandler serves GET /admin/subjects/{sub}/sessions: the
// subject's live sessions, oldest login first.
func adminListHandler(svc *auth.Service) echo.HandlerFunc {
	return func(c echo.Context) error {
		sub, err := pathParam(c, "sub")
		if err != nil {
			return err
		}
		list, err := svc.AdminSessions(c.Request().Context(), adminClient(c), sub, meta(c))
		if err != nil {
			return err
		}
		resp := adminSessionsResponse{Sessions: make([]adminSession, 0, len(list))}
		for _, si := range list {
			resp.Sessions = append(resp.Sessions, adminSessionOf(si))
		}
		return c.JSON(http.StatusOK, resp)
	}
}

func adminSessionOf(si store.SessionInfo) adminSession {
	return adminSession{
		SessionID: si.ID, ClientID: si.ClientID, Scope: si.Scope,
		AuthTime: unix(si.AuthTime), RefreshedAt: unix(si.RefreshedAt),
		ExpiresAt: unix(si.Current.ExpiresAt), MaxExpiresAt: unix(si.MaxExpiresAt),
	}
}

// adminEndAllHandler serves DELETE /admin/subjects/{sub}/sessions: every
// session of the subject ends.
func adminEndAllHandler(svc *auth.Service) echo.HandlerFunc {
	return func(c echo.Context) error {
		sub, err := pathParam(c, "sub")
		if err != nil {
			return err
		}
		n, err := svc.AdminEndSessions(c.Request().Context(), adminClient(c), sub, meta(c))
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, logoutAllResponse{RevokedSessions: n})
	}
}

// adminEndOneHandler serves DELETE /admin/sessions/{session_id}: 200 with
// revoked_sessions 1, or 404 not_found.
func adminEndOneHandler(svc *auth.Service) echo.HandlerFunc {
	return func(c echo.Context) error {
		sid, err := pathParam(c, "sid")
		if err != nil {
			return err
		}
		if err := svc.AdminEndSession(c.Request().Context(), adminClient(c), sid, meta(c)); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, logoutAllResponse{RevokedSessions: 1})
	}
}

// adminReloadHandler serves POST /admin/reload: the configuration files are
// re-read all or nothing; 200 with what is in force now, or 400
// invalid_config with every problem.
func adminReloadHandler(svc *auth.Service, reload func() (ReloadSummary, []string)) echo.HandlerFunc {
	return func(c echo.Context) error {
		if reload == nil {
			return auth.ErrorF(auth.ServerError, "reload is not configured")
		}
		summary, problems := reload()
		var err error
		if len(problems) > 0 {
			err = auth.ConfigError(problems)
		}
		svc.AdminReloaded(adminClient(c), err, meta(c))
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, summary)
	}
}
