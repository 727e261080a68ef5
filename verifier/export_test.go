package verifier

import "time"

// RefreshAfter exposes refreshAfter to the tests.
var RefreshAfter = refreshAfter

// OtherKeys exposes otherKeys to the tests.
var OtherKeys = otherKeys

// SetMinRefresh shortens the least JWKS lifetime for a test.
func SetMinRefresh(d time.Duration) (restore func()) {
	old := minRefresh
	minRefresh = d
	return func() { minRefresh = old }
}
