// Package audit defines the audit events the domain (internal/auth) emits
// and their stable names, so that consumers such as internal/metrics depend
// on the event's shape, not on the package that emits it.
package audit

// Event names of the audit log. They are stable: dashboards and alerts key
// on them.
const (
	EventLogin            = "login"
	EventLoginFailed      = "login_failed"
	EventClientAuthFailed = "client_auth_failed"
	EventRefresh          = "refresh"
	EventRefreshRetry     = "refresh_retry"
	EventReuseDetected    = "reuse_detected"
	EventRevoke           = "revoke"
	EventRateLimited      = "rate_limited"
	// EventSessionsEnded: sessions ended by a logout everywhere, the
	// admin API, MAX_SESSIONS_PER_SUBJECT or a failed re-check; Reason
	// says which, Count how many.
	EventSessionsEnded = "sessions_ended"
	// EventAdmin: an admin API action; Client names the admin client,
	// Reason the action.
	EventAdmin = "admin"
)

// Event is one audit event. It never carries a token, a password or a
// secret: only who, from where and what happened.
type Event struct {
	Name      string
	Grant     string // for login and refresh
	Subject   string // user (or client for client_credentials)
	Client    string
	Addr      string
	RequestID string
	Session   string // refresh-token family id; an opaque random id
	TokenType string // for revoke
	Reason    string // for rate_limited, sessions_ended and admin
	Count     int    // for sessions_ended and admin: how many sessions
	Result    string // for admin reload: ok or refused
	// Unknown stands for a username or client id that is not in the
	// credentials file: the start of its keyed hash, never the name as
	// typed (it may be a password typed into the wrong field).
	Unknown string
}
