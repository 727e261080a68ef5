package auth

import (
	"context"
	"log/slog"
)

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

// emit writes an audit event to the log (Warn for a detected reuse, Info
// otherwise) and hands it to the OnEvent hook.
func (s *Service) emit(e Event) {
	if s.events != nil {
		s.events(e)
	}
	level := slog.LevelInfo
	if e.Name == EventReuseDetected {
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{slog.String("event", e.Name)}
	add := func(k, v string) {
		if v != "" {
			attrs = append(attrs, slog.String(k, v))
		}
	}
	add("grant_type", e.Grant)
	add("sub", e.Subject)
	add("client_id", e.Client)
	add("addr", e.Addr)
	add("request_id", e.RequestID)
	add("session", e.Session)
	add("token_type", e.TokenType)
	add("reason", e.Reason)
	add("unknown_name", e.Unknown)
	add("result", e.Result)
	if e.Name == EventSessionsEnded || e.Name == EventAdmin {
		attrs = append(attrs, slog.Int("count", e.Count))
	}
	if e.Name == EventReuseDetected {
		// The store revokes the family in the same atomic step that
		// detects the reuse (store.ErrReused), so this is a fact, not
		// a hope; alerts key on it.
		attrs = append(attrs, slog.Bool("family_revoked", true))
	}
	s.log.LogAttrs(context.Background(), level, "audit", attrs...)
}

// RateLimited records a request that the per-address request limit
// (RATE_LIMIT_PER_ADDRESS) refused, as a rate_limited audit event.
func (s *Service) RateLimited(m Meta) {
	s.emit(Event{Name: EventRateLimited, Addr: m.Addr, RequestID: m.RequestID, Reason: "address_rate"})
}
