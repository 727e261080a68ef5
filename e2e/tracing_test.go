package e2e

import (
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	collectorpb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/authsvc/authsvc/internal/redistest"
)

// otlpReceiver is an OTLP/HTTP trace receiver: it decodes the protobuf
// export requests authsvc sends to /v1/traces and keeps them.
type otlpReceiver struct {
	URL string
	mu  sync.Mutex
	req []*collectorpb.ExportTraceServiceRequest
	bad []string
}

func startOTLPReceiver(tb testing.TB) *otlpReceiver {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	r := &otlpReceiver{URL: "http://" + ln.Addr().String()}
	srv := &http.Server{Handler: http.HandlerFunc(r.serve)}
	go srv.Serve(ln)
	tb.Cleanup(func() { srv.Close() })
	return r
}

func (r *otlpReceiver) serve(w http.ResponseWriter, req *http.Request) {
	fail := func(msg string) {
		r.mu.Lock()
		r.bad = append(r.bad, msg)
		r.mu.Unlock()
		http.Error(w, msg, http.StatusBadRequest)
	}
	if req.Method != http.MethodPost || req.URL.Path != "/v1/traces" {
		fail(req.Method + " " + req.URL.Path)
		return
	}
	if ct := req.Header.Get("Content-Type"); ct != "application/x-protobuf" {
		fail("content type " + ct)
		return
	}
	body := io.Reader(req.Body)
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(req.Body)
		if err != nil {
			fail("gzip: " + err.Error())
			return
		}
		body = zr
	}
	b, err := io.ReadAll(body)
	if err != nil {
		fail(err.Error())
		return
	}
	var msg collectorpb.ExportTraceServiceRequest
	if err := proto.Unmarshal(b, &msg); err != nil {
		fail("decode: " + err.Error())
		return
	}
	r.mu.Lock()
	r.req = append(r.req, &msg)
	r.mu.Unlock()
	out, _ := proto.Marshal(&collectorpb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(out)
}

// exported is one received span with its resource's attributes.
type exported struct {
	span     *tracepb.Span
	resource map[string]string
}

// spans returns every span received so far, and every export request as
// JSON text (to search for secrets in every attribute, event and resource).
func (r *otlpReceiver) spans(tb testing.TB) ([]exported, string) {
	tb.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.bad) > 0 {
		tb.Errorf("the receiver refused requests: %q", r.bad)
	}
	var out []exported
	var text strings.Builder
	for _, req := range r.req {
		text.Write([]byte(protojson.Format(req)))
		for _, rs := range req.ResourceSpans {
			res := map[string]string{}
			for _, kv := range rs.GetResource().GetAttributes() {
				res[kv.Key] = kv.GetValue().GetStringValue()
			}
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					out = append(out, exported{s, res})
				}
			}
		}
	}
	return out, text.String()
}

func attr(s *tracepb.Span, key string) (string, bool) {
	for _, kv := range s.Attributes {
		if kv.Key == key {
			v := kv.GetValue()
			if _, isInt := v.GetValue().(*commonpb.AnyValue_IntValue); isInt {
				return strconv.FormatInt(v.GetIntValue(), 10), true
			}
			return v.GetStringValue(), true
		}
	}
	return "", false
}

// TestE2E_Tracing runs the binary against an OTLP receiver the test starts
// and a Redis with a password: every request gets one server span named
// after its route, every store operation a child span, an incoming
// traceparent is continued, and no token, password or secret is in any
// span, attribute or resource.
func TestE2E_Tracing(t *testing.T) {
	const redisPassword = "redis-Pa55-traced-Wombat-5"
	rds := redistest.Start(t, redistest.WithArgs("--requirepass", redisPassword))
	rcv := startOTLPReceiver(t)
	env := baseEnv(t, "redis://:"+redisPassword+"@"+rds.Addr()+"/0")
	env["OTEL_EXPORTER_OTLP_ENDPOINT"] = rcv.URL
	env["OTEL_BSP_SCHEDULE_DELAY"] = "50"
	svc := startAuthsvc(t, env)
	waitForReady(t, svc)

	r := login(t, svc.URL, "scope", "read")
	access, refresh := r.str("access_token"), r.str("refresh_token")

	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	r2 := call(t, http.MethodPost, svc.URL+"/refresh", "application/x-www-form-urlencoded", "refresh_token="+refresh,
		"traceparent", "00-"+traceID+"-"+parentID+"-01")
	if r2.Status != http.StatusOK {
		t.Fatalf("refresh: %d %s", r2.Status, r2.Body)
	}
	cc := postForm(t, svc.URL+"/token", "grant_type", "client_credentials", "client_id", "billing", "client_secret", billingSecret)
	if cc.Status != http.StatusOK {
		t.Fatalf("client_credentials: %d %s", cc.Status, cc.Body)
	}
	// Secrets in the wrong places: the query string and a wrong password.
	wantError(t, call(t, http.MethodPost, svc.URL+"/token?password="+alicePassword, "application/x-www-form-urlencoded",
		"grant_type=password&username=alice&password="+alicePassword), 400, "invalid_request")
	wrongPassword := "wrong-Pa55word-Ibex-13"
	wantError(t, postForm(t, svc.URL+"/token", "grant_type", "password", "username", "alice", "password", wrongPassword), 400, "invalid_grant")
	if r := postForm(t, svc.URL+"/revoke", "token", r2.str("refresh_token")); r.Status != http.StatusOK {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	svc.stop(t) // flushes the spans still queued

	spans, text := rcv.spans(t)
	if len(spans) == 0 {
		t.Fatalf("no span received\n%s", svc.logs.String())
	}
	byID := map[string]exported{}
	var servers []exported
	for _, s := range spans {
		byID[hex.EncodeToString(s.span.SpanId)] = s
		if s.span.Kind == tracepb.Span_SPAN_KIND_SERVER {
			servers = append(servers, s)
		}
		if s.resource["service.name"] != "authsvc" {
			t.Errorf("span %q: service.name = %q, want authsvc", s.span.Name, s.resource["service.name"])
		}
	}

	// One server span per request, named after its route.
	names := map[string]int{}
	for _, s := range servers {
		names[s.span.Name]++
		route, _ := attr(s.span, "http.route")
		if route == "" || s.span.Name != s.span.Name[:strings.IndexByte(s.span.Name, ' ')+1]+route {
			t.Errorf("server span %q has http.route %q", s.span.Name, route)
		}
	}
	for name, want := range map[string]int{"POST /token": 4, "POST /refresh": 1, "POST /revoke": 1} {
		if names[name] != want {
			t.Errorf("%d server spans named %q, want %d (all: %v)", names[name], name, want, names)
		}
	}

	// The refresh continues the caller's trace, and each of its store
	// operations is a child span of it.
	var refreshSpan *tracepb.Span
	for _, s := range servers {
		if s.span.Name == "POST /refresh" {
			refreshSpan = s.span
		}
	}
	if refreshSpan == nil {
		t.Fatal("no POST /refresh span")
	}
	if got := hex.EncodeToString(refreshSpan.TraceId); got != traceID {
		t.Errorf("refresh span trace id %s, want the incoming %s", got, traceID)
	}
	if got := hex.EncodeToString(refreshSpan.ParentSpanId); got != parentID {
		t.Errorf("refresh span parent %s, want the incoming %s", got, parentID)
	}
	if status, _ := attr(refreshSpan, "http.response.status_code"); status != "200" {
		t.Errorf("refresh span status attribute = %s", status)
	}
	children := 0
	for _, s := range spans {
		if bytes.Equal(s.span.ParentSpanId, refreshSpan.SpanId) {
			children++
			if s.span.Kind != tracepb.Span_SPAN_KIND_CLIENT {
				t.Errorf("child span %q kind %v, want client", s.span.Name, s.span.Kind)
			}
			if db, _ := attr(s.span, "db.system"); db != "redis" {
				t.Errorf("child span %q db.system = %q", s.span.Name, db)
			}
			if !bytes.Equal(s.span.TraceId, refreshSpan.TraceId) {
				t.Errorf("child span %q is in another trace", s.span.Name)
			}
		}
	}
	if children == 0 {
		t.Errorf("the refresh span has no store child span")
	}
	for _, s := range servers {
		if s.span.Name == "POST /token" && hex.EncodeToString(s.span.TraceId) == traceID {
			t.Errorf("a request without traceparent joined the caller's trace")
		}
	}

	// No secret anywhere in what was exported.
	secrets := map[string]string{
		"alice's password": alicePassword, "a wrong password": wrongPassword, "the client secret": billingSecret,
		"the Redis password": redisPassword, "SECRET_KEY": testSecret, "REFRESH_SECRET_KEY": testRefreshSecret,
		"the access token": access, "the refresh token": refresh, "the rotated refresh token": r2.str("refresh_token"),
		"the client's access token": cc.str("access_token"),
	}
	for what, s := range secrets {
		if s == "" {
			t.Fatalf("%s is empty", what)
		}
		if strings.Contains(text, s) {
			t.Errorf("%s is in the exported spans", what)
		}
		// Tokens also by their signature alone.
		if i := strings.LastIndexByte(s, '.'); i > 0 && strings.Contains(text, s[i+1:]) {
			t.Errorf("the signature of %s is in the exported spans", what)
		}
	}
	if strings.Contains(text, "db.statement") || strings.Contains(text, "EVALSHA") || strings.Contains(text, "AUTH ") {
		t.Errorf("a Redis command's text is recorded")
	}
}

// TestE2E_TracingProtocol checks OTEL_EXPORTER_OTLP_PROTOCOL: a protocol
// this build cannot export with is a start-up problem (and check-config's),
// naming the variable.
func TestE2E_TracingProtocol(t *testing.T) {
	env := baseEnv(t, "redis://127.0.0.1:1/0")
	env["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:1"
	env["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/json"
	const want = "authsvc: OTEL_EXPORTER_OTLP_PROTOCOL: must be http/protobuf or grpc"
	for _, args := range [][]string{nil, {"check-config"}} {
		e := map[string]string{"HTTP_ADDR": freeAddr(t)}
		for k, v := range env {
			e[k] = v
		}
		_, stderr, code := runBinary(t, e, args...)
		if code != 1 || !strings.Contains(stderr, want) {
			t.Errorf("authsvc %v: exit %d, want 1 and %q in:\n%s", args, code, want, stderr)
		}
	}
}
