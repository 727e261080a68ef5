package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// serveManagement serves the management handler (/metrics, /healthz,
// /readyz) on addr (MANAGEMENT_ADDR), a listener of its own in plain HTTP,
// meant for the cluster's network only. It listens before returning, so a
// taken address is a start-up error; the returned function shuts it down,
// letting in-flight scrapes finish within the deadline of ctx.
func serveManagement(addr string, h http.Handler, log *slog.Logger) (stop func(context.Context), err error) {
	ln, err := new(net.ListenConfig).Listen(context.Background(), "tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := newHTTPServer(h, log)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("management listener stopped", "error", err.Error())
		}
	}()
	log.Info("management listener", "addr", ln.Addr().String(), "routes", "/metrics /healthz /readyz")
	return func(ctx context.Context) { _ = srv.Shutdown(ctx) }, nil
}

// newHTTPServer is the http.Server of every listener that serves a handler
// of package handler: bounded reads, writes, idle connections and headers,
// and net/http's own complaints in the log.
func newHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       90 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}
