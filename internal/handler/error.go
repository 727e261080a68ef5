package handler

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/authsvc/authsvc/internal/auth"
)

// statusOf is the one table from protocol error codes to HTTP statuses
// (RFC 6749 §5.2; the table in docs/api.md).
var statusOf = map[auth.Code]int{
	auth.InvalidRequest:         http.StatusBadRequest,
	auth.InvalidClient:          http.StatusUnauthorized,
	auth.InvalidGrant:           http.StatusBadRequest,
	auth.UnauthorizedClient:     http.StatusBadRequest,
	auth.UnsupportedGrantType:   http.StatusBadRequest,
	auth.InvalidScope:           http.StatusBadRequest,
	auth.TooManyRequests:        http.StatusTooManyRequests,
	auth.TemporarilyUnavailable: http.StatusServiceUnavailable,
	auth.InvalidTarget:          http.StatusBadRequest,
	auth.InvalidDPoPProof:       http.StatusBadRequest,
	auth.UseDPoPNonce:           http.StatusBadRequest,
	auth.ServerError:            http.StatusInternalServerError,
	auth.NotFound:               http.StatusNotFound,
	auth.InvalidConfig:          http.StatusBadRequest,
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
		if errors.As(err, new(unsupportedMedia)) {
			status = http.StatusUnsupportedMediaType
		}
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
// Retry-After in whole seconds (0 for none).
func describe(err error) (int, errorBody, int) {
	var ae *auth.Error
	if errors.As(err, &ae) {
		status, ok := statusOf[ae.Code]
		if !ok {
			status = http.StatusInternalServerError
		}
		retry := 0
		if ae.RetryAfter > 0 {
			retry = int((ae.RetryAfter + 999_999_999) / 1_000_000_000)
		}
		return status, errorBody{Error: ae.Code, Description: ae.Description, Problems: ae.Problems}, retry
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		switch he.Code {
		case http.StatusRequestEntityTooLarge:
			return he.Code, errorBody{Error: auth.InvalidRequest, Description: "request body too large"}, 0
		case http.StatusNotFound:
			return he.Code, errorBody{Error: "not_found", Description: "no such endpoint"}, 0
		case http.StatusMethodNotAllowed:
			// Echo's router has set Allow (RFC 9110 §15.5.6).
			return he.Code, errorBody{Error: auth.InvalidRequest, Description: "method not allowed; see the Allow header"}, 0
		}
		if he.Code < 500 {
			return he.Code, errorBody{Error: auth.InvalidRequest, Description: http.StatusText(he.Code)}, 0
		}
	}
	return http.StatusInternalServerError, errorBody{Error: auth.ServerError, Description: "internal error"}, 0
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
