package handler

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/authsvc/authsvc/internal/auth"
	"github.com/authsvc/authsvc/internal/store"
)

// feedWriteTime is how long a held /revocations request has to write its
// answer once its wait is over.
const feedWriteTime = 10 * time.Second

// revokedToken and revokedSession are the entries of a /revocations answer.
type revokedToken struct {
	JTI string `json:"jti"`
	Exp int64  `json:"exp"`
}

type revokedSession struct {
	SID string `json:"sid"`
	Exp int64  `json:"exp"`
}

// revocationsResponse is the body of GET /revocations. The lists are never
// null.
type revocationsResponse struct {
	Cursor          string           `json:"cursor"`
	Complete        bool             `json:"complete"`
	RevokedTokens   []revokedToken   `json:"revoked_tokens"`
	RevokedSessions []revokedSession `json:"revoked_sessions"`
}

// revocationsHandler serves GET /revocations, the revocation feed for
// resource servers that verify access tokens themselves. The caller
// authenticates with HTTP Basic as a client allowed to introspect. The query
// carries `since` (a cursor) and `wait` (seconds, 0 to 30), each at most
// once; they hold no secret. A held request gets its own write deadline, past
// the server's WriteTimeout, so that the wait is not cut short.
func revocationsHandler(svc *auth.Service) echo.HandlerFunc {
	return func(c echo.Context) error {
		q, err := url.ParseQuery(c.Request().URL.RawQuery)
		if err != nil {
			return auth.ErrorF(auth.InvalidRequest, "the query string is malformed")
		}
		for _, name := range []string{"since", "wait"} {
			if len(q[name]) > 1 {
				return auth.ErrorF(auth.InvalidRequest, "parameter "+name+" given more than once")
			}
		}
		wait := time.Duration(0)
		if q.Has("wait") {
			n, err := strconv.Atoi(q.Get("wait"))
			if err != nil || n < 0 || time.Duration(n)*time.Second > auth.MaxFeedWait {
				return auth.ErrorF(auth.InvalidRequest, "wait must be a whole number of seconds from 0 to 30")
			}
			wait = time.Duration(n) * time.Second
		}
		if c.Request().Header.Get(echo.HeaderAuthorization) == "" {
			return auth.ErrorF(auth.InvalidClient, "client authentication is required")
		}
		ca, err := clientAuth(c, params{})
		if err != nil {
			return err
		}
		if wait > 0 {
			// Neither the server's read nor its write timeout may end a
			// held request: the first would cancel its context, the
			// second cut its answer.
			rc := http.NewResponseController(c.Response())
			_ = rc.SetReadDeadline(time.Time{})
			_ = rc.SetWriteDeadline(time.Now().Add(wait + feedWriteTime))
		}
		page, err := svc.Revocations(c.Request().Context(), auth.FeedRequest{
			Client: ca, Since: q.Get("since"), Wait: wait,
		}, meta(c))
		if err != nil {
			return err
		}
		body := revocationsResponse{
			Cursor: page.Cursor, Complete: page.Complete,
			RevokedTokens: []revokedToken{}, RevokedSessions: []revokedSession{},
		}
		for _, r := range page.Entries {
			exp := r.ExpiresAt.Add(time.Second - time.Nanosecond).Unix() // whole seconds, rounded up
			switch r.Kind {
			case store.RevokedToken:
				body.RevokedTokens = append(body.RevokedTokens, revokedToken{JTI: r.ID, Exp: exp})
			case store.RevokedSession:
				body.RevokedSessions = append(body.RevokedSessions, revokedSession{SID: r.ID, Exp: exp})
			}
		}
		h := c.Response().Header()
		h[echo.HeaderCacheControl] = valNoStore
		h["Pragma"] = valNoCache
		return c.JSON(http.StatusOK, body)
	}
}
