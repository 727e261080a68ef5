package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/authsvc/authsvc/internal/audit"
	"github.com/authsvc/authsvc/internal/metrics"
	"github.com/authsvc/authsvc/internal/oauth"
	"github.com/authsvc/authsvc/internal/store"
	"github.com/authsvc/authsvc/internal/store/memory"
)

// scrape returns the /metrics text of m.
func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("/metrics: %d", rec.Code)
	}
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

// wantLines checks that every line is in the scrape.
func wantLines(t *testing.T, text string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(text, "\n"+l+"\n") {
			t.Errorf("scrape lacks %q", l)
		}
	}
}

func TestOnEvent_CountsEachEventWithoutWhoLabels(t *testing.T) {
	m := metrics.New("v1.2.3")
	who := audit.Event{Subject: "alice-the-user", Client: "billing-client", Addr: "192.0.2.7", RequestID: "req-1", Session: "sess-1"}
	for _, e := range []audit.Event{
		{Name: audit.EventLogin, Grant: oauth.GrantPassword},
		{Name: audit.EventLogin, Grant: oauth.GrantPassword},
		{Name: audit.EventLogin, Grant: oauth.GrantClientCredentials},
		{Name: audit.EventLogin, Grant: "made-up"},
		{Name: audit.EventRefresh, Grant: oauth.GrantRefreshToken},
		{Name: audit.EventRefreshRetry, Grant: oauth.GrantRefreshToken},
		{Name: audit.EventReuseDetected},
		{Name: audit.EventRevoke, TokenType: oauth.TokenTypeRefresh},
		{Name: audit.EventRevoke, TokenType: oauth.TokenTypeAccess},
		{Name: audit.EventLoginFailed},
		{Name: audit.EventClientAuthFailed},
		{Name: audit.EventRateLimited, Reason: "login_failures"},
		{Name: audit.EventRateLimited, Reason: "Not A Reason {}"},
		{Name: "unknown_event"},
	} {
		e.Subject, e.Client, e.Addr, e.RequestID, e.Session = who.Subject, who.Client, who.Addr, who.RequestID, who.Session
		m.OnEvent(e)
	}
	text := scrape(t, m)
	wantLines(t, text,
		`authsvc_tokens_issued_total{grant_type="password"} 2`,
		`authsvc_tokens_issued_total{grant_type="client_credentials"} 1`,
		`authsvc_tokens_issued_total{grant_type="refresh_token"} 1`,
		`authsvc_tokens_issued_total{grant_type="other"} 1`,
		`authsvc_refreshes_total{result="rotated"} 1`,
		`authsvc_refreshes_total{result="retried"} 1`,
		`authsvc_refresh_reuse_detected_total 1`,
		`authsvc_revocations_total{token_type="refresh_token"} 1`,
		`authsvc_revocations_total{token_type="access_token"} 1`,
		`authsvc_login_failures_total{kind="user"} 1`,
		`authsvc_login_failures_total{kind="client"} 1`,
		`authsvc_rate_limited_total{reason="login_failures"} 1`,
		`authsvc_rate_limited_total{reason="other"} 1`,
		`authsvc_build_info{goversion="`+goVersion(t, text)+`",version="v1.2.3"} 1`,
	)
	for _, v := range []string{who.Subject, who.Client, who.Addr, who.RequestID, who.Session} {
		if strings.Contains(text, v) {
			t.Errorf("the scrape contains %q, a value of who did it", v)
		}
	}
}

// goVersion returns the goversion label of authsvc_build_info.
func goVersion(t *testing.T, text string) string {
	t.Helper()
	_, rest, ok := strings.Cut(text, `authsvc_build_info{goversion="`)
	if !ok {
		t.Fatal("no authsvc_build_info")
	}
	v, _, _ := strings.Cut(rest, `"`)
	return v
}

func TestNew_SeriesStartAtZero(t *testing.T) {
	wantLines(t, scrape(t, metrics.New("dev")),
		`authsvc_tokens_issued_total{grant_type="password"} 0`,
		`authsvc_refreshes_total{result="rotated"} 0`,
		`authsvc_refresh_reuse_detected_total 0`,
		`authsvc_revocations_total{token_type="access_token"} 0`,
		`authsvc_login_failures_total{kind="user"} 0`,
		`authsvc_rate_limited_total{reason="login_failures"} 0`,
	)
}

func TestNew_RegistriesAreIndependent(t *testing.T) {
	a, b := metrics.New("dev"), metrics.New("dev")
	a.OnEvent(audit.Event{Name: audit.EventReuseDetected})
	wantLines(t, scrape(t, b), `authsvc_refresh_reuse_detected_total 0`)
}

func TestObserveRequest_BoundsLabels(t *testing.T) {
	m := metrics.New("dev")
	m.ObserveRequest("POST", "/token", 200, 3*time.Millisecond)
	m.ObserveRequest("POST", "/token", 400, time.Millisecond)
	m.ObserveRequest("GET", "", 404, time.Millisecond)
	m.ObserveRequest("BREW", "", 404, time.Millisecond)
	text := scrape(t, m)
	wantLines(t, text,
		`authsvc_http_requests_total{method="POST",route="/token",status="200"} 1`,
		`authsvc_http_requests_total{method="POST",route="/token",status="400"} 1`,
		`authsvc_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`authsvc_http_requests_total{method="other",route="unmatched",status="404"} 1`,
		`authsvc_http_request_duration_seconds_count{method="POST",route="/token",status="200"} 1`,
		`authsvc_http_request_duration_seconds_bucket{method="POST",route="/token",status="200",le="0.0025"} 0`,
		`authsvc_http_request_duration_seconds_bucket{method="POST",route="/token",status="200",le="0.005"} 1`,
	)
	if strings.Contains(text, "BREW") {
		t.Errorf("an unknown method became a label value")
	}
}

// failingStore fails every operation it overrides with err.
type failingStore struct {
	store.Store
	err error
}

func (f failingStore) Ping(context.Context) error { return f.err }

func (f failingStore) RevokeSession(context.Context, string) error { return f.err }

func TestStore_TimesOperationsAndCountsFailures(t *testing.T) {
	m := metrics.New("dev")
	ctx := context.Background()

	s := m.Store(memory.New(nil))
	if _, err := s.Rotate(ctx, store.RotateRequest{SessionID: "nope", Presented: "x", Now: time.Now()}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Rotate: %v", err)
	}
	if _, _, err := s.Session(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Session: %v", err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}

	down := m.Store(failingStore{Store: memory.New(nil), err: fmt.Errorf("redis: %w", store.ErrUnavailable)})
	broken := m.Store(failingStore{Store: memory.New(nil), err: errors.New("bug")})
	for range 2 {
		if err := down.Ping(ctx); !errors.Is(err, store.ErrUnavailable) {
			t.Fatalf("the decorator changed the error: %v", err)
		}
	}
	_ = broken.RevokeSession(ctx, "x")

	wantLines(t, scrape(t, m),
		`authsvc_store_operation_duration_seconds_count{operation="rotate"} 1`,
		`authsvc_store_operation_duration_seconds_count{operation="session"} 1`,
		`authsvc_store_operation_duration_seconds_count{operation="ping"} 3`,
		`authsvc_store_operation_duration_seconds_count{operation="revoke_session"} 1`,
		`authsvc_store_errors_total{kind="unavailable",operation="ping"} 2`,
		`authsvc_store_errors_total{kind="other",operation="revoke_session"} 1`,
	)
	// A session not found is an answer, not a failure.
	if n := testutil.CollectAndCount(m.Registry(), "authsvc_store_errors_total"); n != 2 {
		t.Errorf("%d store error series, want 2 (not found is no error)", n)
	}
}
