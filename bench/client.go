package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// client is one HTTP/1.1 keep-alive connection, used by one worker at a
// time. Requests are written from a reused buffer and responses read with
// net/http's parser, so the generator costs little CPU beside the server.
type client struct {
	addr string
	conn net.Conn
	br   *bufio.Reader
	wbuf []byte
	// scratch is reused for request bodies.
	scratch []byte
	// body is the last response body; it is overwritten by the next call.
	body bytes.Buffer
}

func newClient(addr string) *client { return &client{addr: addr} }

// Content types of request bodies.
const (
	formType = "application/x-www-form-urlencoded"
	jsonType = "application/json"
)

// errTransport marks a failure of the connection, not an HTTP status.
var errTransport = errors.New("transport")

// post sends one POST and reads the whole response. The status is 0 when the
// connection failed; the connection is then dropped and dialled again by the
// next call.
func (c *client) post(path, ctype, extraHeader string, body []byte) (int, error) {
	if c.conn == nil {
		conn, err := net.DialTimeout("tcp", c.addr, 5*time.Second)
		if err != nil {
			return 0, fmt.Errorf("%w: %w", errTransport, err)
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetNoDelay(true)
		}
		c.conn = conn
		c.br = bufio.NewReaderSize(conn, 16<<10)
	}
	w := c.wbuf[:0]
	w = append(w, "POST "...)
	w = append(w, path...)
	w = append(w, " HTTP/1.1\r\nHost: "...)
	w = append(w, c.addr...)
	w = append(w, "\r\nContent-Type: "...)
	w = append(w, ctype...)
	w = append(w, "\r\nContent-Length: "...)
	w = strconv.AppendInt(w, int64(len(body)), 10)
	w = append(w, "\r\n"...)
	w = append(w, extraHeader...)
	w = append(w, "\r\n"...)
	w = append(w, body...)
	c.wbuf = w
	if _, err := c.conn.Write(w); err != nil {
		c.drop()
		return 0, fmt.Errorf("%w: %w", errTransport, err)
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		c.drop()
		return 0, fmt.Errorf("%w: %w", errTransport, err)
	}
	c.body.Reset()
	_, err = c.body.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil {
		c.drop()
		return 0, fmt.Errorf("%w: %w", errTransport, err)
	}
	if resp.Close {
		c.drop()
	}
	return resp.StatusCode, nil
}

func (c *client) drop() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

// field returns the value of the JSON string member name in the last
// response body, or "" when there is none. Token responses hold JWTs,
// which never need JSON escapes, so a scan is enough.
func (c *client) field(name string) string {
	return jsonField(c.body.Bytes(), name)
}

func jsonField(body []byte, name string) string {
	key := append(append(append(make([]byte, 0, len(name)+4), '"'), name...), `":"`...)
	i := bytes.Index(body, key)
	if i < 0 {
		return ""
	}
	rest := body[i+len(key):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}

// get performs one GET with a fresh connection and returns the status and
// body; it is for readiness checks and profiles, not for load.
func get(url string, timeout time.Duration) (int, []byte, error) {
	hc := &http.Client{Timeout: timeout}
	resp, err := hc.Get(url)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// storeOps sums authsvc's store operations so far from its /metrics (the
// _count of authsvc_store_operation_duration_seconds over every operation):
// each is one Redis round trip.
func storeOps(addr string) (int64, error) {
	status, body, err := get("http://"+addr+"/metrics", 5*time.Second)
	if err != nil {
		return 0, err
	}
	if status != http.StatusOK {
		return 0, fmt.Errorf("/metrics answered %d", status)
	}
	var total int64
	for _, line := range strings.Split(string(body), "\n") {
		if !strings.HasPrefix(line, "authsvc_store_operation_duration_seconds_count") {
			continue
		}
		f := strings.Fields(line)
		n, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			return 0, fmt.Errorf("/metrics line %q: %w", line, err)
		}
		total += int64(n)
	}
	return total, nil
}
