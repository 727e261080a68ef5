package handler

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"go.opentelemetry.io/otel/trace"
)

// tracerName is the instrumentation scope of the server spans.
const tracerName = "github.com/authsvc/authsvc/internal/handler"

// Tracing is what the handler needs to trace requests: the provider spans
// start from and the propagator that reads an incoming traceparent.
type Tracing struct {
	Provider   trace.TracerProvider
	Propagator propagation.TextMapPropagator
}

// traced starts one server span per request, named after its route
// ("POST /refresh", OpenTelemetry's HTTP convention), continuing the trace
// of an incoming W3C traceparent. The request's context carries the span,
// so the store's spans become its children.
//
// Only these attributes are recorded: the method, the route pattern, the
// scheme, the protocol version, the status, the request id and the client
// address. Never the URL, the query, a header or a body: a token or a
// password sent in the wrong place must not reach the trace backend.
func traced(t Tracing) echo.MiddlewareFunc {
	tracer := t.Provider.Tracer(tracerName)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			ctx := t.Propagator.Extract(req.Context(), propagation.HeaderCarrier(req.Header))
			method, route := req.Method, c.Path()
			name := method
			if route != "" {
				name = method + " " + route
			}
			scheme := "http"
			if req.TLS != nil {
				scheme = "https"
			}
			attrs := []attribute.KeyValue{
				semconv.HTTPRequestMethodKey.String(method),
				semconv.URLScheme(scheme),
				semconv.NetworkProtocolVersion(strconv.Itoa(req.ProtoMajor) + "." + strconv.Itoa(req.ProtoMinor)),
			}
			if route != "" {
				attrs = append(attrs, semconv.HTTPRoute(route))
			}
			ctx, span := tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
			defer span.End()
			c.SetRequest(req.WithContext(ctx))
			// accessLog, inside, turns an error into its response, so
			// the status read below is the one sent.
			err := next(c)

			status := c.Response().Status
			span.SetAttributes(
				semconv.HTTPResponseStatusCode(status),
				attribute.String("authsvc.request_id", c.Response().Header().Get(echo.HeaderXRequestID)),
				semconv.ClientAddress(c.RealIP()),
			)
			if status >= http.StatusInternalServerError {
				span.SetStatus(codes.Error, http.StatusText(status))
				span.SetAttributes(semconv.ErrorTypeKey.String(strconv.Itoa(status)))
			}
			return err
		}
	}
}
