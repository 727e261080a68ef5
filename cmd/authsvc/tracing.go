package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/redis/go-redis/extra/redisotel/v9"
	goredis "github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel"

	"github.com/authsvc/authsvc/internal/handler"
	"github.com/authsvc/authsvc/internal/tracing"
)

// tracingFlushTimeout bounds the export of the last spans at shutdown.
const tracingFlushTimeout = 2 * time.Second

// startTracing starts OpenTelemetry tracing when the OTEL_* environment
// asks for it. Off, it returns nil and a stop that does nothing: no
// exporter, no middleware, no Redis hook. stop exports the queued spans.
func startTracing(ctx context.Context, log *slog.Logger) (*tracing.Provider, func(), error) {
	tp, err := tracing.Start(ctx, os.Getenv, version)
	if err != nil || tp == nil {
		return nil, func() {}, err
	}
	// The exporter reports failed exports here; its messages name the
	// endpoint, never the headers.
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		log.Warn("tracing: export failed", "error", err.Error())
	}))
	protocol, _, _ := tracing.Protocol(os.Getenv)
	log.Info("tracing on: exporting spans over OTLP", "protocol", protocol)
	return tp, func() {
		sctx, cancel := context.WithTimeout(context.Background(), tracingFlushTimeout)
		defer cancel()
		if err := tp.Shutdown(sctx); err != nil {
			log.Warn("tracing: the last spans were not exported", "error", err.Error())
		}
	}, nil
}

// handlerTracing is the handler's view of tp; nil when tracing is off.
func handlerTracing(tp *tracing.Provider) *handler.Tracing {
	if tp == nil {
		return nil
	}
	return &handler.Tracing{Provider: tp.TracerProvider(), Propagator: tp.Propagator()}
}

// traceRedis gives every Redis command a child span of the request's span.
// The command's arguments (tokens' ids, and a password in AUTH or HELLO)
// are never recorded: db.statement is off, and so is the caller lookup,
// which costs a stack walk per command.
func traceRedis(client goredis.UniversalClient, tp *tracing.Provider) error {
	if tp == nil {
		return nil
	}
	return redisotel.InstrumentTracing(client,
		redisotel.WithTracerProvider(tp.TracerProvider()),
		redisotel.WithDBStatement(false),
		redisotel.WithCallerEnabled(false),
	)
}
