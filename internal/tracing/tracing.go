// Package tracing sets up OpenTelemetry tracing from the standard OTEL_*
// environment variables: an OTLP exporter (OTLP/HTTP with protobuf unless
// OTEL_EXPORTER_OTLP_PROTOCOL says grpc), a batching tracer provider and the
// W3C trace-context propagator. It is off unless an OTLP endpoint is set;
// off, nothing of it runs.
//
// What becomes a span attribute is decided where spans start (the handler's
// middleware, the Redis instrumentation in cmd/authsvc); none of them
// records a token, a password, a secret or a Redis command's arguments.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"go.opentelemetry.io/otel/trace"
)

// DefaultServiceName is service.name unless OTEL_SERVICE_NAME (or
// OTEL_RESOURCE_ATTRIBUTES) names another.
const DefaultServiceName = "authsvc"

// Protocols of the OTLP exporter.
const (
	ProtocolHTTPProtobuf = "http/protobuf"
	ProtocolGRPC         = "grpc"
)

// ErrProtocol is an OTLP protocol this build does not export with.
var ErrProtocol = errors.New("must be http/protobuf or grpc")

// Enabled reports whether tracing is configured: an OTLP endpoint for
// traces is set, the SDK is not disabled and the traces exporter is not
// "none".
func Enabled(getenv func(string) string) bool {
	if strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true") ||
		strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER")) == "none" {
		return false
	}
	return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// Protocol returns the OTLP protocol the environment asks for and the
// variable that asked (empty for the default), or ErrProtocol.
func Protocol(getenv func(string) string) (protocol, variable string, err error) {
	for _, v := range []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		p := strings.TrimSpace(getenv(v))
		if p == "" {
			continue
		}
		switch p {
		case ProtocolHTTPProtobuf, ProtocolGRPC:
			return p, v, nil
		}
		return "", v, fmt.Errorf("%s: %w (http/json is not supported)", v, ErrProtocol)
	}
	return ProtocolHTTPProtobuf, "", nil
}

// Check validates the tracing settings without starting anything, for
// start-up and check-config. It returns one error per problem.
func Check(getenv func(string) string) []error {
	if !Enabled(getenv) {
		return nil
	}
	if _, _, err := Protocol(getenv); err != nil {
		return []error{err}
	}
	return nil
}

// Provider is a running tracer provider and its propagator.
type Provider struct {
	tp         *sdktrace.TracerProvider
	propagator propagation.TextMapPropagator
}

// Start builds the exporter and the tracer provider the environment asks
// for. It returns nil, nil when tracing is not enabled. The exporter reads
// the other standard variables itself (endpoint, headers, timeout,
// certificates, compression), and the provider reads the sampler
// (OTEL_TRACES_SAMPLER) and the batching settings (OTEL_BSP_*).
// Nothing is dialled here: the exporter connects when it first exports.
func Start(ctx context.Context, getenv func(string) string, version string) (*Provider, error) {
	if !Enabled(getenv) {
		return nil, nil
	}
	protocol, _, err := Protocol(getenv)
	if err != nil {
		return nil, err
	}
	var exp sdktrace.SpanExporter
	switch protocol {
	case ProtocolGRPC:
		exp, err = otlptracegrpc.New(ctx)
	default:
		exp, err = otlptracehttp.New(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("OTLP exporter: %w", err)
	}
	// The environment's service name and attributes win over the defaults.
	res, err := resource.Merge(
		resource.NewSchemaless(semconv.ServiceName(DefaultServiceName), semconv.ServiceVersion(version)),
		resource.Environment(),
	)
	if err != nil {
		return nil, fmt.Errorf("OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}
	return New(sdktrace.WithBatcher(exp), sdktrace.WithResource(res)), nil
}

// New returns a Provider built with opts (an exporter or span processor,
// a resource): Start's production provider, or a test's.
func New(opts ...sdktrace.TracerProviderOption) *Provider {
	return &Provider{
		tp:         sdktrace.NewTracerProvider(opts...),
		propagator: propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
	}
}

// TracerProvider returns the provider spans are started from.
func (p *Provider) TracerProvider() trace.TracerProvider { return p.tp }

// Propagator returns the W3C trace-context (and baggage) propagator.
func (p *Provider) Propagator() propagation.TextMapPropagator { return p.propagator }

// Shutdown exports the spans still queued and stops the exporter, within
// the deadline of ctx.
func (p *Provider) Shutdown(ctx context.Context) error {
	return p.tp.Shutdown(ctx)
}
