package handler

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/authsvc/authsvc/internal/auth"
)

// Refusals of the HTTP layer itself. They share invalid_request (or, for
// an unknown path, not_found) with the body they produce but not its
// status, so each is a key of errorTable of its own; a response never
// carries these names.
const (
	reasonUnsupportedMedia auth.Code = "unsupported_media_type"
	reasonBodyTooLarge     auth.Code = "request_entity_too_large"
	reasonNotFound         auth.Code = "no_such_route"
	reasonMethodNotAllowed auth.Code = "method_not_allowed"
)

// answer is a row of errorTable: the status and the error code of the body.
type answer struct {
	status int
	code   auth.Code
}

// errorTable is the one table from errors to HTTP answers (RFC 6749 §5.2;
// the table in docs/api.md). Every error of every route, the router's own
// 404 and 405, the body limit's 413, the media type's 415 and /readyz's 503
// are answered from it by errorHandler; no other code writes an error
// response.
var errorTable = map[auth.Code]answer{
	auth.InvalidRequest:         {http.StatusBadRequest, auth.InvalidRequest},
	auth.InvalidClient:          {http.StatusUnauthorized, auth.InvalidClient},
	auth.InvalidGrant:           {http.StatusBadRequest, auth.InvalidGrant},
	auth.UnauthorizedClient:     {http.StatusBadRequest, auth.UnauthorizedClient},
	auth.UnsupportedGrantType:   {http.StatusBadRequest, auth.UnsupportedGrantType},
	auth.InvalidScope:           {http.StatusBadRequest, auth.InvalidScope},
	auth.TooManyRequests:        {http.StatusTooManyRequests, auth.TooManyRequests},
	auth.TemporarilyUnavailable: {http.StatusServiceUnavailable, auth.TemporarilyUnavailable},
	auth.InvalidTarget:          {http.StatusBadRequest, auth.InvalidTarget},
	auth.InvalidDPoPProof:       {http.StatusBadRequest, auth.InvalidDPoPProof},
	auth.UseDPoPNonce:           {http.StatusBadRequest, auth.UseDPoPNonce},
	auth.ServerError:            {http.StatusInternalServerError, auth.ServerError},
	reasonUnsupportedMedia:      {http.StatusUnsupportedMediaType, auth.InvalidRequest},
	reasonBodyTooLarge:          {http.StatusRequestEntityTooLarge, auth.InvalidRequest},
	reasonNotFound:              {http.StatusNotFound, auth.NotFound},
	auth.NotFound:               {http.StatusNotFound, auth.NotFound},
	auth.InvalidConfig:          {http.StatusBadRequest, auth.InvalidConfig},
	reasonMethodNotAllowed:      {http.StatusMethodNotAllowed, auth.InvalidRequest},
}

// Errors of the HTTP layer, answered from errorTable like every other.
var (
	errBodyTooLarge     = &auth.Error{Code: reasonBodyTooLarge, Description: "request body too large"}
	errNoSuchRoute      = &auth.Error{Code: reasonNotFound, Description: "no such endpoint"}
	errMethodNotAllowed = &auth.Error{Code: reasonMethodNotAllowed, Description: "method not allowed; see the Allow header"}
	errInternal         = &auth.Error{Code: auth.ServerError, Description: "internal error"}
)

// routerErrors translates the errors Echo's router and middlewares return
// into errors of this package. (Echo has set Allow on a 405, RFC 9110
// §15.5.6.)
var routerErrors = map[int]*auth.Error{
	http.StatusNotFound:              errNoSuchRoute,
	http.StatusMethodNotAllowed:      errMethodNotAllowed,
	http.StatusRequestEntityTooLarge: errBodyTooLarge,
}

// errorBody is the RFC 6749 §5.2 error response.
type errorBody struct {
	Error       auth.Code `json:"error"`
	Description string    `json:"error_description,omitempty"`
	// Problems lists why a configuration reload was refused
	// (invalid_config).
	Problems []string `json:"problems,omitempty"`
}

// errorHandler is installed as Echo's HTTPErrorHandler: every error of every
// route is written here, and nowhere else.
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		status, body, retryAfter := describe(err)
		h := c.Response().Header()
		h.Set(echo.HeaderCacheControl, "no-store")
		h.Set("Pragma", "no-cache")
		if body.Error == auth.InvalidClient {
			h.Set(echo.HeaderWWWAuthenticate, `Basic realm="authsvc"`)
		}
		if retryAfter > 0 {
			h.Set(echo.HeaderRetryAfter, strconv.Itoa(retryAfter))
		}
		if nonce := dpopNonceOf(err); nonce != "" {
			h.Set(headerDPoPNonce, nonce)
		}
		if status >= 500 {
			// The full cause goes to the log with the request id; the
			// client sees only the fixed description.
			log.ErrorContext(c.Request().Context(), "request failed",
				"request_id", h.Get(echo.HeaderXRequestID), "status", status, "error", causeOf(err))
		}
		var werr error
		if c.Request().Method == http.MethodHead {
			werr = c.NoContent(status)
		} else {
			werr = c.JSON(status, body)
		}
		if werr != nil {
			log.WarnContext(c.Request().Context(), "write error response", "error", werr.Error())
		}
	}
}

// describe turns any error into a status, an RFC 6749 body and a
// Retry-After in whole seconds (0 for none), from errorTable.
func describe(err error) (int, errorBody, int) {
	ae := asAuthError(err)
	row, ok := errorTable[ae.Code]
	if !ok {
		row = answer{http.StatusInternalServerError, ae.Code}
	}
	retry := 0
	if ae.RetryAfter > 0 {
		retry = int((ae.RetryAfter + time.Second - 1) / time.Second)
	}
	return row.status, errorBody{Error: row.code, Description: ae.Description, Problems: ae.Problems}, retry
}

// asAuthError returns the *auth.Error that err is or wraps; Echo's own
// errors are translated by routerErrors (another 4xx of Echo's becomes an
// invalid_request), anything else is an internal error.
func asAuthError(err error) *auth.Error {
	var ae *auth.Error
	if errors.As(err, &ae) {
		return ae
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		if e, ok := routerErrors[he.Code]; ok {
			return e
		}
		if he.Code < 500 {
			return &auth.Error{Code: auth.InvalidRequest, Description: http.StatusText(he.Code)}
		}
	}
	return errInternal
}

// headerDPoPNonce carries the server's current DPoP nonce (RFC 9449 §8).
const headerDPoPNonce = "DPoP-Nonce"

// dpopNonceOf returns the DPoP nonce an error carries for its answer.
func dpopNonceOf(err error) string {
	var ae *auth.Error
	if errors.As(err, &ae) {
		return ae.DPoPNonce
	}
	return ""
}

// causeOf returns the internal cause of err for the log. auth.Error's own
// message is public by construction; its Err may hold store or signing
// detail, which is safe to log (it never contains tokens or secrets).
func causeOf(err error) string {
	var ae *auth.Error
	if errors.As(err, &ae) && ae.Err != nil {
		return ae.Error() + ": " + ae.Err.Error()
	}
	return err.Error()
}
