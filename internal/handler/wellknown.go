package handler

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
)

// jwksHandler serves the public keys that verify access tokens. Resource
// servers cache it as long as Cache-Control says: published, when set, says
// for how long (never beyond a change of the key set it knows of ahead);
// otherwise the fixed doc is served with max-age=300.
func jwksHandler(doc []byte, published func() ([]byte, time.Duration)) echo.HandlerFunc {
	if published == nil {
		published = func() ([]byte, time.Duration) { return doc, 300 * time.Second }
	}
	return func(c echo.Context) error {
		doc, maxAge := published()
		c.Response().Header().Set(echo.HeaderCacheControl, "public, max-age="+strconv.Itoa(int(maxAge/time.Second)))
		return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, doc)
	}
}
