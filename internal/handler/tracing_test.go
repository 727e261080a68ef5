package handler

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// allowedAttributes are the only attributes a server span may carry; a new
// one must be added here on purpose, after checking it can hold no secret.
var allowedAttributes = []attribute.Key{
	"http.request.method", "http.route", "url.scheme", "network.protocol.version",
	"http.response.status_code", "authsvc.request_id", "client.address", "error.type",
}

// TestTraced_ServerSpans checks the server span of each request: named
// after its route (the method alone when none matched), the caller's trace
// continued, and only the allowed attributes — never a secret sent in the
// query, the path or the body.
func TestTraced_ServerSpans(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	s := newServer(t, Deps{Tracing: &Tracing{Provider: tp, Propagator: propagation.TraceContext{}}})

	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	cases := []struct {
		name, method, path string
		form               url.Values
		hdr                []string
		wantName           string
		wantStatus         int
		wantRoute          bool
	}{
		{"token", http.MethodPost, "/token?secret=" + testSecret, passwordForm("alice", testPassword), nil, "POST /token", 400, true},
		{"login", http.MethodPost, "/token", passwordForm("alice", testPassword), []string{"traceparent", "00-" + traceID + "-00f067aa0ba902b7-01"}, "POST /token", 200, true},
		{"unmatched route", http.MethodGet, "/no/such/" + testSecret, nil, nil, "GET", 404, false},
		{"health", http.MethodGet, "/healthz", nil, nil, "GET /healthz", 200, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			exp.Reset()
			if rec := s.do(tc.method, tc.path, "192.0.2.7", tc.form, tc.hdr...); rec.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d", rec.Code, tc.wantStatus)
			}
			spans := exp.GetSpans()
			if len(spans) != 1 {
				t.Fatalf("%d spans, want 1", len(spans))
			}
			sp := spans[0]
			if sp.Name != tc.wantName || sp.SpanKind != trace.SpanKindServer {
				t.Errorf("span %q kind %v, want %q server", sp.Name, sp.SpanKind, tc.wantName)
			}
			attrs := map[attribute.Key]string{}
			for _, kv := range sp.Attributes {
				if !slices.Contains(allowedAttributes, kv.Key) {
					t.Errorf("attribute %s is not an allowed one", kv.Key)
				}
				attrs[kv.Key] = kv.Value.String()
				for _, secret := range []string{testSecret, testPassword} {
					if strings.Contains(kv.Value.String(), secret) {
						t.Errorf("attribute %s holds a secret", kv.Key)
					}
				}
			}
			if _, ok := attrs["http.route"]; ok != tc.wantRoute {
				t.Errorf("http.route present = %v, want %v", ok, tc.wantRoute)
			}
			if attrs["http.response.status_code"] != strconv.Itoa(tc.wantStatus) || attrs["client.address"] != "192.0.2.7" {
				t.Errorf("attributes %v", attrs)
			}
			if tc.hdr != nil && sp.SpanContext.TraceID().String() != traceID {
				t.Errorf("trace id %s, want the incoming %s", sp.SpanContext.TraceID(), traceID)
			}
			if tc.hdr == nil && sp.Parent.IsValid() {
				t.Errorf("a request without traceparent has a parent")
			}
			if sp.Status.Code == codes.Error {
				t.Errorf("a %d is marked as an error", tc.wantStatus)
			}
		})
	}
}
