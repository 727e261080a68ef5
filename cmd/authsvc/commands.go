package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/authsvc/authsvc/internal/credential"
)

// maxPasswordBytes bounds what hash-password reads.
const maxPasswordBytes = 1024

// hashPassword reads one password from stdin (a trailing newline is not part
// of it) and prints its argon2id hash, the format the credentials file takes.
func hashPassword(stdin io.Reader, stdout io.Writer) error {
	pw, err := io.ReadAll(io.LimitReader(stdin, maxPasswordBytes+2))
	if err != nil {
		return errors.New("hash-password: cannot read standard input")
	}
	pw = bytes.TrimSuffix(pw, []byte("\n"))
	pw = bytes.TrimSuffix(pw, []byte("\r"))
	switch {
	case len(pw) == 0:
		return errors.New("hash-password: the password is empty")
	case len(pw) > maxPasswordBytes:
		return fmt.Errorf("hash-password: the password is longer than %d bytes", maxPasswordBytes)
	}
	h, err := credential.Hash(pw)
	if err != nil {
		return fmt.Errorf("hash-password: %w", err)
	}
	_, err = fmt.Fprintln(stdout, h)
	return err
}

// genClientSecret prints a new random client secret (256 bits) and its hash.
func genClientSecret(stdout io.Writer) error {
	secret, hash, err := credential.GenerateClientSecret()
	if err != nil {
		return fmt.Errorf("gen-client-secret: %w", err)
	}
	_, err = fmt.Fprintf(stdout, "client_secret: %s\nclient_secret_hash: %s\n", secret, hash)
	return err
}

// healthcheck asks the local service's /readyz and succeeds on 200. It needs
// only HTTP_ADDR (and TLS_CERT_FILE to know the scheme), so a container
// HEALTHCHECK can run it without curl.
func healthcheck(ctx context.Context, getenv func(string) string) error {
	addr := getenv("HTTP_ADDR")
	if addr == "" {
		addr = ":8080"
	}
	scheme := "http"
	client := &http.Client{Timeout: 3 * time.Second}
	if getenv("TLS_CERT_FILE") != "" {
		scheme = "https"
		// The check dials the local process itself; the name in its
		// certificate is not "127.0.0.1".
		client.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // loopback self-check
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+hostPort(addr)+"/readyz", nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return errors.New("healthcheck: the service does not answer")
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: not ready (status %d)", resp.StatusCode)
	}
	return nil
}
