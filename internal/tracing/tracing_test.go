package tracing

import (
	"context"
	"errors"
	"testing"
)

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestSettings(t *testing.T) {
	const ep = "http://collector:4318"
	cases := []struct {
		name     string
		getenv   func(string) string
		enabled  bool
		protocol string
		errVar   string // the variable a protocol error names
	}{
		{"nothing set", env(), false, ProtocolHTTPProtobuf, ""},
		{"endpoint", env("OTEL_EXPORTER_OTLP_ENDPOINT", ep), true, ProtocolHTTPProtobuf, ""},
		{"traces endpoint", env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", ep+"/v1/traces"), true, ProtocolHTTPProtobuf, ""},
		{"sdk disabled", env("OTEL_EXPORTER_OTLP_ENDPOINT", ep, "OTEL_SDK_DISABLED", "true"), false, ProtocolHTTPProtobuf, ""},
		{"exporter none", env("OTEL_EXPORTER_OTLP_ENDPOINT", ep, "OTEL_TRACES_EXPORTER", "none"), false, ProtocolHTTPProtobuf, ""},
		{"grpc", env("OTEL_EXPORTER_OTLP_ENDPOINT", ep, "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"), true, ProtocolGRPC, ""},
		{"traces protocol wins", env("OTEL_EXPORTER_OTLP_ENDPOINT", ep, "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc",
			"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf"), true, ProtocolHTTPProtobuf, ""},
		{"json refused", env("OTEL_EXPORTER_OTLP_ENDPOINT", ep, "OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"), true, "", "OTEL_EXPORTER_OTLP_PROTOCOL"},
		{"typo refused", env("OTEL_EXPORTER_OTLP_ENDPOINT", ep, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grcp"), true, "", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Enabled(tc.getenv); got != tc.enabled {
				t.Errorf("Enabled = %v, want %v", got, tc.enabled)
			}
			p, v, err := Protocol(tc.getenv)
			if tc.errVar != "" {
				if !errors.Is(err, ErrProtocol) || v != tc.errVar {
					t.Fatalf("Protocol = %q, %q, %v; want ErrProtocol naming %s", p, v, err, tc.errVar)
				}
				if errs := Check(tc.getenv); len(errs) != 1 {
					t.Errorf("Check = %v, want the protocol error", errs)
				}
				return
			}
			if err != nil || p != tc.protocol {
				t.Errorf("Protocol = %q, %v; want %q", p, err, tc.protocol)
			}
			if errs := Check(tc.getenv); len(errs) != 0 {
				t.Errorf("Check = %v", errs)
			}
		})
	}
}

// TestStart_OffStartsNothing checks that without an endpoint Start builds
// no provider, so the caller installs no middleware and no Redis hook.
func TestStart_OffStartsNothing(t *testing.T) {
	p, err := Start(context.Background(), env(), "test")
	if p != nil || err != nil {
		t.Fatalf("Start = %v, %v; want nil, nil", p, err)
	}
}
