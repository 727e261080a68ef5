package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/authsvc/authsvc/internal/auth"
	"github.com/authsvc/authsvc/internal/handler"
	"github.com/authsvc/authsvc/internal/metrics"
	"github.com/authsvc/authsvc/internal/reload"
	"github.com/authsvc/authsvc/internal/tlscert"
)

// adminParts are what the admin listener is built from.
type adminParts struct {
	cfg      *Config
	svc      *auth.Service
	reloader *reload.Reloader
	// jwks returns the JWKS document in force, to count the published keys.
	jwks    func() []byte
	log     *slog.Logger
	metrics *metrics.Metrics
	certs   *tlscert.Reloader // nil: plain HTTP
}

// reloadSummary re-reads the configuration files for the admin API.
func (p adminParts) reloadSummary() (handler.ReloadSummary, []string) {
	if err := p.reloader.Reload("admin API"); err != nil {
		var re *reload.Error
		if errors.As(err, &re) {
			return handler.ReloadSummary{}, re.Problems
		}
		return handler.ReloadSummary{}, []string{err.Error()}
	}
	users, clients := p.svc.Credentials().Len()
	return handler.ReloadSummary{Users: users, Clients: clients, Keys: publishedKeys(p.jwks())}, nil
}

// serveAdmin starts the admin API on ADMIN_ADDR, when it is set. It listens
// synchronously (an address in use is a start-up error) and serves in a
// goroutine; stop shuts it down within the deadline of ctx.
func serveAdmin(p adminParts) (addr string, stop func(ctx context.Context) error, err error) {
	if p.cfg.AdminAddr == "" {
		return "", func(context.Context) error { return nil }, nil
	}
	h := handler.NewAdmin(handler.AdminDeps{
		Auth:        p.svc,
		Reload:      p.reloadSummary,
		Log:         p.log,
		IPExtractor: ipExtractor(p.cfg.trustedNets, p.cfg.ClientIPHeader, p.log),
		Observe:     p.metrics.ObserveRequest,
		HSTS:        p.certs != nil,
	})
	ln, err := new(net.ListenConfig).Listen(context.Background(), "tcp", p.cfg.AdminAddr)
	if err != nil {
		return "", nil, fmt.Errorf("ADMIN_ADDR: %w", err)
	}
	srv := newHTTPServer(h, p.log)
	srv.WriteTimeout = 30 * time.Second // ending thousands of sessions
	scheme := "http"
	if p.certs != nil {
		scheme = "https"
		srv.TLSConfig = tlscert.ServerConfig(p.certs.GetCertificate)
	}
	go func() {
		var err error
		if p.certs != nil {
			err = srv.ServeTLS(ln, "", "")
		} else {
			err = srv.Serve(ln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			p.log.Error("admin API stopped serving", "error", err.Error())
		}
	}()
	p.log.Info("admin API listening", "addr", ln.Addr().String(), "scheme", scheme)
	return ln.Addr().String(), srv.Shutdown, nil
}

// adminUsage is the help of the admin command.
const adminUsage = `usage: authsvc admin <command>

Talks to the admin API of a running authsvc. Environment:
  AUTHSVC_ADMIN_URL            base URL of the admin API (default: http://ADMIN_ADDR,
                               https when TLS_CERT_FILE is set)
  AUTHSVC_ADMIN_CLIENT_ID      a client with admin: true
  AUTHSVC_ADMIN_CLIENT_SECRET  its secret

Commands:
  sessions SUBJECT        list the subject's live sessions (JSON)
  end-sessions SUBJECT    end every session of the subject
  end-session SESSION_ID  end one session
  reload                  re-read CREDENTIALS_FILE and the key set
`

// adminCommand runs `authsvc admin ...`: one admin API request, its JSON
// answer printed on stdout. An error answer is returned as an error whose
// text is the answer's error code, description and problems.
func adminCommand(ctx context.Context, args []string, getenv func(string) string, client *http.Client, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New(adminUsage)
	}
	if len(args) == 1 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
		_, err := fmt.Fprint(stdout, adminUsage)
		return err
	}
	var method, path string
	switch {
	case args[0] == "sessions" && len(args) == 2:
		method, path = http.MethodGet, "/admin/subjects/"+url.PathEscape(args[1])+"/sessions"
	case args[0] == "end-sessions" && len(args) == 2:
		method, path = http.MethodDelete, "/admin/subjects/"+url.PathEscape(args[1])+"/sessions"
	case args[0] == "end-session" && len(args) == 2:
		method, path = http.MethodDelete, "/admin/sessions/"+url.PathEscape(args[1])
	case args[0] == "reload" && len(args) == 1:
		method, path = http.MethodPost, "/admin/reload"
	default:
		return errors.New(adminUsage)
	}
	base := strings.TrimRight(getenv("AUTHSVC_ADMIN_URL"), "/")
	if base == "" {
		addr := getenv("ADMIN_ADDR")
		if addr == "" {
			return errors.New("admin: set AUTHSVC_ADMIN_URL (or ADMIN_ADDR) to the admin API's address")
		}
		scheme := "http"
		if getenv("TLS_CERT_FILE") != "" {
			scheme = "https"
		}
		base = scheme + "://" + hostPort(addr)
	}
	id, secret := getenv("AUTHSVC_ADMIN_CLIENT_ID"), getenv("AUTHSVC_ADMIN_CLIENT_SECRET")
	if id == "" || secret == "" {
		return errors.New("admin: set AUTHSVC_ADMIN_CLIENT_ID and AUTHSVC_ADMIN_CLIENT_SECRET (a client with admin: true)")
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, base+path, nil)
	if err != nil {
		return fmt.Errorf("admin: %w", err)
	}
	// RFC 6749 §2.3.1: the id and secret are form-encoded before Basic.
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("admin: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("admin: read the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error       string   `json:"error"`
			Description string   `json:"error_description"`
			Problems    []string `json:"problems"`
		}
		_ = json.Unmarshal(body, &e)
		msg := fmt.Sprintf("admin: %s: %s", resp.Status, e.Error)
		if e.Description != "" {
			msg += ": " + e.Description
		}
		for _, p := range e.Problems {
			msg += "\n  " + p
		}
		return errors.New(msg)
	}
	var out bytes.Buffer
	if json.Indent(&out, body, "", "  ") != nil {
		return fmt.Errorf("admin: the answer is not JSON (%s)", resp.Status)
	}
	out.WriteByte('\n')
	_, err = out.WriteTo(stdout)
	return err
}
