package auth_test

import (
	"context"
	"strings"
	"testing"

	"github.com/authsvc/authsvc/internal/audit"
	"github.com/authsvc/authsvc/internal/auth"
	"github.com/authsvc/authsvc/internal/credential"
)

// reload puts the fixture's credentials file, edited by replacing old with
// new, in force.
func (f *fixture) reload(t *testing.T, old, new string) {
	t.Helper()
	if !strings.Contains(f.yaml, old) {
		t.Fatalf("the fixture's credentials lack %q", old)
	}
	set, _, err := credential.Parse([]byte(strings.Replace(f.yaml, old, new, 1)))
	if err != nil {
		t.Fatal(err)
	}
	f.svc.SetCredentials(set)
}

// accessActive introspects an access token as the intro client.
func (f *fixture) accessActive(t *testing.T, tok string) bool {
	t.Helper()
	in, err := f.svc.Introspect(context.Background(), auth.IntrospectRequest{Token: tok, Client: f.client("intro")}, auth.Meta{})
	if err != nil {
		t.Fatalf("Introspect: %v", err)
	}
	return in.Active
}

// billingTail is the end of the billing client's entry in the fixture's
// credentials file (the client after it is app).
const billingTail = "scopes: [read, write]\n    introspect: false\n  - client_id: app"

func TestRefresh_RechecksTheCredentials(t *testing.T) {
	tests := []struct {
		name string
		// old and new edit the credentials file before the refresh.
		old, new  string
		wantCode  auth.Code // "" for success
		wantScope string
		// ended: the session ends with the failure (a failed re-check);
		// otherwise the presented token stays usable once the file is
		// restored.
		ended  bool
		reason string
	}{
		{name: "nothing changed", old: "", new: "", wantScope: "read write"},
		{name: "user's scopes cut", old: "scopes: [read, write]\n  - username: bob", new: "scopes: [read]\n  - username: bob", wantScope: "read"},
		{name: "client's scopes cut", old: billingTail, new: "scopes: [read]\n    introspect: false\n  - client_id: app", wantScope: "read"},
		{name: "user removed", old: "  - username: alice\n", new: "  - username: carol\n", wantCode: auth.InvalidGrant, ended: true, reason: auth.EndUserRemoved},
		{name: "bound client removed", old: "client_id: billing\n", new: "client_id: billing-gone\n", wantCode: auth.InvalidClient, ended: true, reason: auth.EndClientRemoved},
		{name: "bound client lost the refresh_token grant", old: "grant_types: [password, refresh_token]\n    " + billingTail,
			new: "grant_types: [password]\n    " + billingTail, wantCode: auth.UnauthorizedClient, ended: true, reason: auth.EndGrantRemoved},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			set, err := f.svc.Password(context.Background(), auth.PasswordRequest{
				Username: "alice", Password: userPassword, Scope: "read write", Client: f.client("billing"),
			}, auth.Meta{})
			if err != nil {
				t.Fatal(err)
			}
			if tt.old != "" {
				f.reload(t, tt.old, tt.new)
			}
			got, err := f.svc.Refresh(context.Background(), auth.RefreshRequest{RefreshToken: set.RefreshToken, Client: f.client("billing")}, auth.Meta{})
			if tt.wantCode == "" {
				if err != nil {
					t.Fatalf("Refresh: %v", err)
				}
				if got.Scope != tt.wantScope {
					t.Errorf("scope = %q, want %q", got.Scope, tt.wantScope)
				}
				return
			}
			wantCode(t, err, tt.wantCode)
			if f.accessActive(t, set.AccessToken) == tt.ended {
				t.Errorf("access token active = %v after the failure, want %v", !tt.ended, !tt.ended)
			}
			if n := f.count(audit.EventSessionsEnded); (n == 1) != tt.ended {
				t.Errorf("%d sessions_ended events, want ended = %v", n, tt.ended)
			}
			for _, e := range f.events {
				if e.Name == audit.EventSessionsEnded && e.Reason != tt.reason {
					t.Errorf("sessions_ended reason = %q, want %q", e.Reason, tt.reason)
				}
			}
			// With the old file back, the session is gone for good.
			creds, _, err := credential.Parse([]byte(f.yaml))
			if err != nil {
				t.Fatal(err)
			}
			f.svc.SetCredentials(creds)
			_, err = f.svc.Refresh(context.Background(), auth.RefreshRequest{RefreshToken: set.RefreshToken, Client: f.client("billing")}, auth.Meta{})
			wantCode(t, err, auth.InvalidGrant)
		})
	}
}

func TestRefresh_FailedClientAuthLeavesTheTokenUnused(t *testing.T) {
	f := newFixture(t)
	set := f.mustLogin(t, "billing")
	_, err := f.svc.Refresh(context.Background(), auth.RefreshRequest{
		RefreshToken: set.RefreshToken, Client: &auth.ClientAuth{ID: "billing", Secret: "wrong"},
	}, auth.Meta{})
	wantCode(t, err, auth.InvalidClient)
	if !f.accessActive(t, set.AccessToken) {
		t.Fatal("a wrong client secret ended the session")
	}
	if _, err := f.svc.Refresh(context.Background(), auth.RefreshRequest{RefreshToken: set.RefreshToken, Client: f.client("billing")}, auth.Meta{}); err != nil {
		t.Fatalf("the token was used up by a failed authentication: %v", err)
	}
}
