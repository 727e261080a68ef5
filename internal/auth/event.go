package auth

import (
	"context"
	"log/slog"

	"github.com/authsvc/authsvc/internal/audit"
)

// emit writes an audit event to the log (Warn for a detected reuse, Info
// otherwise) and hands it to the OnEvent hook.
func (s *Service) emit(e audit.Event) {
	if s.events != nil {
		s.events(e)
	}
	level := slog.LevelInfo
	if e.Name == audit.EventReuseDetected {
		level = slog.LevelWarn
	}
	attrs := make([]slog.Attr, 1, 12) // room for every attribute below
	attrs[0] = slog.String("event", e.Name)
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
	if e.Name == audit.EventSessionsEnded || e.Name == audit.EventAdmin {
		attrs = append(attrs, slog.Int("count", e.Count))
	}
	if e.Name == audit.EventReuseDetected {
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
	s.emit(audit.Event{Name: audit.EventRateLimited, Addr: m.Addr, RequestID: m.RequestID, Reason: "address_rate"})
}
