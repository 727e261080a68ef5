package auth_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/authsvc/authsvc/internal/auth"
	"github.com/authsvc/authsvc/internal/authenticator"
	"github.com/authsvc/authsvc/internal/credential"
	"github.com/authsvc/authsvc/internal/issuer"
	"github.com/authsvc/authsvc/internal/store/memory"
	"github.com/authsvc/authsvc/internal/testkit"
)

// fakeAuthn is a UserAuthenticator whose answer per username is set by the
// test; it records every call.
type fakeAuthn struct {
	mu      sync.Mutex
	answers map[string]func() (authenticator.User, error)
	calls   []authenticator.Request
	ctxErrs []error // ctx.Err() of each call
	// afterErrs is ctx.Err() of each call once its answer was made.
	afterErrs []error
}

func (f *fakeAuthn) Authenticate(ctx context.Context, req authenticator.Request) (authenticator.User, error) {
	f.mu.Lock()
	f.calls = append(f.calls, req)
	f.ctxErrs = append(f.ctxErrs, ctx.Err())
	a := f.answers[req.Username]
	f.mu.Unlock()
	if a == nil {
		return authenticator.User{}, fmt.Errorf("%w (status 404)", authenticator.ErrRejected)
	}
	u, err := a()
	f.mu.Lock()
	f.afterErrs = append(f.afterErrs, ctx.Err())
	f.mu.Unlock()
	return u, err
}

func (f *fakeAuthn) count(username string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if c.Username == username {
			n++
		}
	}
	return n
}

// newAuthnService is a Service with one file user (alice), a public client
// (mobile), LOGIN_FAILURES_MAX=3 and the fake authenticator.
func newAuthnService(t *testing.T, fa *fakeAuthn) *auth.Service {
	t.Helper()
	clk := testkit.NewClock(testkit.T0)
	iss, err := issuer.New(issuer.Config{
		Algorithm: "HS256", Secret: []byte("test-secret-key-0123456789-abcdefghij"),
		Issuer: testIssuer, Audience: []string{testAudience}, Leeway: 30 * time.Second, Now: clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	creds, _, err := credential.Parse([]byte(fmt.Sprintf(
		"users:\n  - {username: alice, password_hash: %q, scopes: [read]}\n"+
			"clients:\n  - {client_id: mobile, public: true, grant_types: [password, refresh_token], scopes: [read, write]}\n",
		testkit.MustHash(t, userPassword))))
	if err != nil {
		t.Fatal(err)
	}
	st := memory.New(clk.Now)
	t.Cleanup(func() { st.Close() })
	return auth.New(auth.Config{
		AccessTTL: accessTTL, RefreshTTL: refreshTTL, SessionMaxTTL: 24 * time.Hour,
		LoginFailuresMax: 3, LoginFailuresWindow: time.Hour,
	}, auth.Deps{Issuer: iss, Store: st, Credentials: creds, Authenticator: fa, Now: clk.Now})
}

func TestPassword_AuthenticatorCountsRejectsNotOutages(t *testing.T) {
	down := true
	fa := &fakeAuthn{answers: map[string]func() (authenticator.User, error){
		"carol": func() (authenticator.User, error) {
			return authenticator.User{Subject: "u-7", Scopes: []string{"read", "write"}}, nil
		},
		"erin": func() (authenticator.User, error) {
			if down {
				return authenticator.User{}, fmt.Errorf("%w: unexpected status 500", authenticator.ErrUnavailable)
			}
			return authenticator.User{Subject: "u-9"}, nil
		},
	}}
	svc := newAuthnService(t, fa)
	ctx, m := context.Background(), auth.Meta{Addr: "192.0.2.1"}
	login := func(user, pw string) error {
		_, err := svc.Password(ctx, auth.PasswordRequest{Username: user, Password: pw}, m)
		return err
	}

	// Outages count nothing: five in a row, then a success.
	for range 5 {
		wantCode(t, login("erin", "pw"), auth.TemporarilyUnavailable)
	}
	down = false
	if err := login("erin", "pw"); err != nil {
		t.Fatalf("after outages: %v", err)
	}

	// Rejections count: three, then locked without asking.
	fa.answers["dave"] = func() (authenticator.User, error) {
		return authenticator.User{}, fmt.Errorf("%w (status 401)", authenticator.ErrRejected)
	}
	for range 3 {
		wantCode(t, login("dave", "pw"), auth.InvalidGrant)
	}
	wantCode(t, login("dave", "pw"), auth.TooManyRequests)
	if n := fa.count("dave"); n != 3 {
		t.Errorf("dave: %d calls, want 3", n)
	}

	// An empty password is refused without asking (and counted).
	wantCode(t, login("carol", ""), auth.InvalidGrant)
	if n := fa.count("carol"); n != 0 {
		t.Errorf("an empty password reached the authenticator")
	}

	// A file user never reaches it.
	wantCode(t, login("alice", "wrong"), auth.InvalidGrant)
	if err := login("alice", userPassword); err != nil {
		t.Fatal(err)
	}
	if n := fa.count("alice"); n != 0 {
		t.Errorf("alice: %d calls, want 0", n)
	}
}

func TestPassword_AuthenticatorClientIDAndScopes(t *testing.T) {
	fa := &fakeAuthn{answers: map[string]func() (authenticator.User, error){
		"carol": func() (authenticator.User, error) {
			return authenticator.User{Subject: "u-7", Scopes: []string{"write", "admin"}}, nil
		},
	}}
	svc := newAuthnService(t, fa)
	set, err := svc.Password(context.Background(), auth.PasswordRequest{
		Username: "carol", Password: "pw", Client: &auth.ClientAuth{ID: "mobile"},
	}, auth.Meta{Addr: "192.0.2.2"})
	if err != nil {
		t.Fatal(err)
	}
	// The answer's scopes ∩ the client's.
	if set.Scope != "write" {
		t.Errorf("scope = %q, want write", set.Scope)
	}
	if fa.calls[0].ClientID != "mobile" || fa.calls[0].Password != "pw" {
		t.Errorf("request = %v", fa.calls[0])
	}
	// A refresh does not ask again.
	if _, err := svc.Refresh(context.Background(), auth.RefreshRequest{
		RefreshToken: set.RefreshToken, Client: &auth.ClientAuth{ID: "mobile"},
	}, auth.Meta{Addr: "192.0.2.2"}); err != nil {
		t.Fatal(err)
	}
	if len(fa.calls) != 1 {
		t.Errorf("%d calls after a refresh, want 1", len(fa.calls))
	}
}

func TestPublicClient_EndpointRules(t *testing.T) {
	svc := newAuthnService(t, &fakeAuthn{})
	ctx, m := context.Background(), auth.Meta{Addr: "192.0.2.3"}
	pw := func(ca *auth.ClientAuth) error {
		_, err := svc.Password(ctx, auth.PasswordRequest{Username: "alice", Password: userPassword, Client: ca}, m)
		return err
	}
	if err := pw(&auth.ClientAuth{ID: "mobile"}); err != nil {
		t.Fatalf("id alone: %v", err)
	}
	wantCode(t, pw(&auth.ClientAuth{ID: "mobile", Secret: "x"}), auth.InvalidClient)
	_, err := svc.ClientCredentials(ctx, &auth.ClientAuth{ID: "mobile"}, "", m)
	wantCode(t, err, auth.InvalidClient)
	_, err = svc.AuthenticateClient(ctx, auth.ClientAuth{ID: "mobile"}, m)
	wantCode(t, err, auth.InvalidClient)
	if _, err := svc.AuthenticateClientOrPublic(ctx, auth.ClientAuth{ID: "mobile"}, m); err != nil {
		t.Errorf("AuthenticateClientOrPublic: %v", err)
	}
}

// TestPassword_AuthenticatorCheckOutlivesTheClient checks that a check
// sent to the authenticator is not cut short when the client goes during
// it (its context is detached from the request's cancellation), and that a
// client gone before the check starts is not checked at all.
func TestPassword_AuthenticatorCheckOutlivesTheClient(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fa := &fakeAuthn{answers: map[string]func() (authenticator.User, error){
		"carol": func() (authenticator.User, error) {
			cancel() // the client goes while the authenticator answers
			return authenticator.User{Subject: "u-7"}, nil
		},
	}}
	svc := newAuthnService(t, fa)
	_, _ = svc.Password(ctx, auth.PasswordRequest{Username: "carol", Password: "pw"}, auth.Meta{Addr: "192.0.2.4"})
	if len(fa.ctxErrs) != 1 || fa.ctxErrs[0] != nil || fa.afterErrs[0] != nil {
		t.Errorf("the authenticator saw ctx errors %v then %v, want one call with a live context throughout", fa.ctxErrs, fa.afterErrs)
	}

	// Gone before the check: nothing is sent.
	_, err := svc.Password(ctx, auth.PasswordRequest{Username: "carol", Password: "pw"}, auth.Meta{Addr: "192.0.2.4"})
	wantCode(t, err, auth.TemporarilyUnavailable)
	if n := fa.count("carol"); n != 1 {
		t.Errorf("%d authenticator calls, want 1: a gone client's password was checked", n)
	}
}
