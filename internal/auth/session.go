package auth

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/authsvc/authsvc/internal/audit"
	"github.com/authsvc/authsvc/internal/credential"
	"github.com/authsvc/authsvc/internal/issuer"
	"github.com/authsvc/authsvc/internal/store"
)

// Reasons a session ends, in audit.EventSessionsEnded.Reason.
const (
	EndLogoutAll     = "logout_all"
	EndAdmin         = "admin"
	EndMaxSessions   = "max_sessions"
	EndUserRemoved   = "user_removed"
	EndClientRemoved = "client_removed"
	EndGrantRemoved  = "refresh_grant_removed"
)

// newSessionID returns a fresh session id for subject (store.NewSessionID).
func (s *Service) newSessionID(subject string) (string, error) {
	rnd, err := s.iss.NewID()
	if err != nil {
		return "", internal(err)
	}
	return store.NewSessionID(subject, rnd), nil
}

// createSession stores a new session, ending the subject's oldest ones
// beyond MaxSessionsPerSubject in the same store step.
func (s *Service) createSession(ctx context.Context, sess store.Session, first store.Token, now time.Time, m Meta) error {
	ended, err := s.store.CreateSessionCapped(ctx, sess, first, s.cfg.MaxSessionsPerSubject, now)
	if err != nil {
		return storeError(err)
	}
	return s.sessionsEnded(ctx, ended, now, audit.Event{
		Reason: EndMaxSessions, Subject: sess.Subject, Client: sess.ClientID, Addr: m.Addr, RequestID: m.RequestID,
	})
}

// sessionsEnded is where sessions ended on purpose by this file's ways
// (logout everywhere, the admin API, MAX_SESSIONS_PER_SUBJECT, a failed
// re-check) are announced: each goes to the revocation feed
// (RecordRevocation), and one audit event e is written (its Name and Count
// filled here). ids may be empty: then nothing happens.
func (s *Service) sessionsEnded(ctx context.Context, ids []string, at time.Time, e audit.Event) error {
	if len(ids) == 0 {
		return nil
	}
	e.Name, e.Count = audit.EventSessionsEnded, len(ids)
	if len(ids) == 1 {
		e.Session = ids[0]
	}
	s.emit(e)
	for _, id := range ids {
		if err := s.RecordRevocation(ctx, SessionEnded(id, at)); err != nil {
			return err
		}
	}
	return nil
}

// endSession ends one session on a failed re-check and returns fail, the
// answer for the request; a store that cannot be written answers 503
// instead, leaving the session for the next attempt.
func (s *Service) endSession(ctx context.Context, rc issuer.RefreshClaims, reason string, fail error, m Meta) error {
	now := s.now()
	if _, err := s.store.EndSession(ctx, rc.SessionID, now); err != nil && !errors.Is(err, store.ErrNotFound) {
		return storeError(err)
	}
	if err := s.sessionsEnded(ctx, []string{rc.SessionID}, now, audit.Event{
		Reason: reason, Subject: rc.Subject, Client: rc.ClientID, Addr: m.Addr, RequestID: m.RequestID,
	}); err != nil {
		return err
	}
	return fail
}

// recheckClientGone answers a refresh whose client authentication failed
// with fail, first ending the session when the token is valid and bound to
// a client the credentials no longer hold: that session can never refresh
// again. Every other failure leaves the token unused.
func (s *Service) recheckClientGone(ctx context.Context, token string, fail error, m Meta) error {
	rc, err := s.iss.VerifyRefresh(token)
	if err != nil || rc.ClientID == "" {
		return fail
	}
	if _, ok := s.creds.Load().Client(rc.ClientID); ok {
		return fail
	}
	return s.endSession(ctx, rc, EndClientRemoved, fail, m)
}

// recheckGrantLost answers a refresh by a client that may not use the
// refresh_token grant with fail, first ending the session when the token is
// bound to that very client: it lost the grant since the login.
func (s *Service) recheckGrantLost(ctx context.Context, token, client string, fail error, m Meta) error {
	rc, err := s.iss.VerifyRefresh(token)
	if err != nil || rc.ClientID != client {
		return fail
	}
	return s.endSession(ctx, rc, EndGrantRemoved, fail, m)
}

// recheck applies the credentials in force to a session at refresh: a
// session of a credentials-file user who is gone ends (invalid_grant), and
// the returned scope is the session's scope narrowed to what the user (for
// a credentials-file session) and the bound client may have now. Sessions
// that started through the user authenticator are not looked up.
func (s *Service) recheck(ctx context.Context, rc issuer.RefreshClaims, client *credential.Client, m Meta) (string, error) {
	allowed := strings.Fields(rc.Scope)
	if rc.Origin == issuer.OriginFile {
		user, ok := s.creds.Load().User(rc.Subject)
		if !ok {
			return "", s.endSession(ctx, rc, EndUserRemoved,
				newError(InvalidGrant, "the user no longer exists; the session is revoked"), m)
		}
		allowed = intersect(allowed, user.Scopes)
	}
	if client != nil {
		allowed = intersect(allowed, client.Scopes)
	}
	return strings.Join(allowed, " "), nil
}

// LogoutAllRequest is a "log out of all my devices" request.
type LogoutAllRequest struct {
	RefreshToken string
	Client       *ClientAuth // required when the token is bound to a client
}

// LogoutAll ends every session of the subject of a live session's refresh
// token, under every client, and returns how many ended. The token must be
// the session's current one (or the previous one within REFRESH_REUSE_GRACE
// of its rotation); an invalid, expired, revoked or forged token is
// InvalidGrant and ends nothing, and a rotated-away token is a reuse: its
// session is revoked, as at refresh. Client authentication is as for
// Refresh. A session bound to a DPoP key needs a proof made with it (RFC
// 9449): without one the answer is InvalidGrant and nothing ends.
func (s *Service) LogoutAll(ctx context.Context, req LogoutAllRequest, m Meta) (int, error) {
	s.activity()
	jkt, err := s.checkProof(ctx, m.DPoP)
	if err != nil {
		return 0, err
	}
	var client *credential.Client
	if req.Client != nil {
		// A public client sends its client_id alone, as for Refresh.
		c, err := s.authenticateClientOrPublic(ctx, *req.Client, false, m)
		if err != nil {
			return 0, err
		}
		client = &c
	}
	rc, err := s.iss.VerifyRefresh(req.RefreshToken)
	if err != nil {
		return 0, &Error{Code: InvalidGrant, Description: errBadRefresh, Err: err}
	}
	if rc.ClientID != "" && client == nil {
		return 0, newError(InvalidClient, "this refresh token requires client authentication")
	}
	if rc.ClientID != clientID(client) {
		return 0, newError(InvalidGrant, "refresh token was issued to another client")
	}
	now := s.now()
	subject, ended, err := s.store.LogoutAll(ctx, store.LogoutAllRequest{
		SessionID: rc.SessionID, Presented: rc.ID, Now: now, Grace: s.cfg.ReuseGrace, JKT: jkt,
	})
	switch {
	case errors.Is(err, store.ErrReused):
		s.emit(audit.Event{Name: audit.EventReuseDetected, Subject: rc.Subject, Client: rc.ClientID, Addr: m.Addr, RequestID: m.RequestID, Session: rc.SessionID})
		if err := s.RecordRevocation(ctx, SessionEnded(rc.SessionID, now)); err != nil {
			return 0, err
		}
		return 0, &Error{Code: InvalidGrant, Description: "refresh token was already used; the session is revoked", Err: err}
	case errors.Is(err, store.ErrNotFound):
		return 0, &Error{Code: InvalidGrant, Description: errBadRefresh, Err: err}
	case errors.Is(err, store.ErrKeyMismatch):
		return 0, &Error{Code: InvalidGrant, Description: errDPoPWrongKey, Err: err}
	case err != nil:
		return 0, storeError(err)
	}
	if err := s.sessionsEnded(ctx, ended, now, audit.Event{
		Reason: EndLogoutAll, Subject: subject, Client: rc.ClientID, Addr: m.Addr, RequestID: m.RequestID,
	}); err != nil {
		return 0, err
	}
	return len(ended), nil
}

// AuthenticateAdmin checks the credentials of an admin API request: a
// client with admin: true, counted against the brute-force limit like any
// client authentication. It returns the client id, or InvalidClient.
func (s *Service) AuthenticateAdmin(ctx context.Context, ca *ClientAuth, m Meta) (string, error) {
	if ca == nil {
		return "", newError(InvalidClient, "client authentication is required")
	}
	c, err := s.authenticateClient(ctx, *ca, false, m)
	if err != nil {
		return "", err
	}
	if !c.Admin {
		return "", newError(InvalidClient, "the client may not use the admin API")
	}
	return c.ClientID, nil
}

// Admin actions, in audit.EventAdmin.Reason.
const (
	AdminListSessions = "list_sessions"
	AdminEndSessions  = "end_sessions"
	AdminEndSession   = "end_session"
	AdminReload       = "reload"
)

// AdminSessions lists subject's live sessions, oldest login first, for the
// admin client admin (already authenticated by AuthenticateAdmin).
func (s *Service) AdminSessions(ctx context.Context, admin, subject string, m Meta) ([]store.SessionInfo, error) {
	list, err := s.store.Sessions(ctx, subject, s.now())
	if err != nil {
		return nil, storeError(err)
	}
	s.emit(audit.Event{Name: audit.EventAdmin, Reason: AdminListSessions, Client: admin, Subject: subject, Count: len(list), Addr: m.Addr, RequestID: m.RequestID})
	return list, nil
}

// AdminEndSessions ends every session of subject for the admin client
// admin and returns how many ended.
func (s *Service) AdminEndSessions(ctx context.Context, admin, subject string, m Meta) (int, error) {
	now := s.now()
	ended, err := s.store.EndSessions(ctx, subject, now)
	if err != nil {
		return 0, storeError(err)
	}
	s.emit(audit.Event{Name: audit.EventAdmin, Reason: AdminEndSessions, Client: admin, Subject: subject, Count: len(ended), Addr: m.Addr, RequestID: m.RequestID})
	if err := s.sessionsEnded(ctx, ended, now, audit.Event{
		Reason: EndAdmin, Subject: subject, Client: admin, Addr: m.Addr, RequestID: m.RequestID,
	}); err != nil {
		return 0, err
	}
	return len(ended), nil
}

// AdminEndSession ends the session id for the admin client admin; a
// session that does not exist is NotFound.
func (s *Service) AdminEndSession(ctx context.Context, admin, id string, m Meta) error {
	now := s.now()
	sess, err := s.store.EndSession(ctx, id, now)
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.emit(audit.Event{Name: audit.EventAdmin, Reason: AdminEndSession, Client: admin, Session: id, Addr: m.Addr, RequestID: m.RequestID})
		return newError(NotFound, "no such session")
	case err != nil:
		return storeError(err)
	}
	s.emit(audit.Event{Name: audit.EventAdmin, Reason: AdminEndSession, Client: admin, Subject: sess.Subject, Session: id, Count: 1, Addr: m.Addr, RequestID: m.RequestID})
	return s.sessionsEnded(ctx, []string{id}, now, audit.Event{
		Reason: EndAdmin, Subject: sess.Subject, Client: admin, Addr: m.Addr, RequestID: m.RequestID,
	})
}

// AdminReloaded records a configuration reload asked for by the admin
// client admin; err is the reload's outcome.
func (s *Service) AdminReloaded(admin string, err error, m Meta) {
	result := "ok"
	if err != nil {
		result = "refused"
	}
	s.emit(audit.Event{Name: audit.EventAdmin, Reason: AdminReload, Client: admin, Result: result, Addr: m.Addr, RequestID: m.RequestID})
}

// ConfigError is the answer for a refused reload: InvalidConfig with every
// problem.
func ConfigError(problems []string) error {
	return &Error{Code: InvalidConfig, Description: "the configuration has problems; nothing changed", Problems: problems}
}
