package issuer

import (
	"encoding/json"
	"testing"
)

// TestMarshalJSON_MatchesReflection holds the hand-written claim encoders to
// encoding/json's output for the same values, including strings that need
// escaping and the one-or-many audience.
func TestMarshalJSON_MatchesReflection(t *testing.T) {
	// Types with the same fields and tags but without MarshalJSON.
	type plainAccess accessJWT
	type plainRefresh refreshJWT
	subjects := []string{"alice", `o"brien\`, "<admin>&co", "ünï ✓", "ctl\x01\n", "bad\xff", ""}
	audiences := []audience{{"api"}, {"api", "billing"}, {}, nil}
	for _, sub := range subjects {
		for _, aud := range audiences {
			for _, opt := range []string{"", "read write", "x<y"} {
				a := accessJWT{Issuer: "https://auth.test", Subject: sub, Audience: aud, ExpiresAt: 1800000900,
					IssuedAt: 1800000000, NotBefore: 1800000000, ID: "jti-" + sub, Type: typeAccess, Scope: opt, ClientID: opt, SessionID: opt}
				for _, cnf := range []*confirmation{nil, {JKT: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}} {
					a.Cnf = cnf
					want, err := json.Marshal(plainAccess(a))
					if err != nil {
						t.Fatal(err)
					}
					got, err := json.Marshal(a) // through MarshalJSON, as golang-jwt calls it
					if err != nil || string(got) != string(want) {
						t.Errorf("access claims:\n got %s (%v)\nwant %s", got, err, want)
					}
				}
				r := refreshJWT{Issuer: "https://auth.test", Subject: sub, Audience: aud, ExpiresAt: 1800604800,
					IssuedAt: 1800000000, ID: "rt-" + sub, Type: typeRefresh, SessionID: "sid", Scope: opt, ClientID: opt, AuthTime: 1799990000, Origin: opt}
				want, err := json.Marshal(plainRefresh(r))
				if err != nil {
					t.Fatal(err)
				}
				got, err := json.Marshal(r)
				if err != nil || string(got) != string(want) {
					t.Errorf("refresh claims:\n got %s (%v)\nwant %s", got, err, want)
				}
			}
		}
	}
}
