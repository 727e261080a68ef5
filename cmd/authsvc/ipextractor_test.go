package main

import (
	"log/slog"
	"net"
	"net/http/httptest"
	"testing"
)

func TestIPExtractor_BelievesHeadersOnlyFromTrustedProxies(t *testing.T) {
	cidrs := func(ss ...string) []*net.IPNet {
		var out []*net.IPNet
		for _, s := range ss {
			_, n, err := net.ParseCIDR(s)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, n)
		}
		return out
	}
	cases := []struct {
		name    string
		header  string // CLIENT_IP_HEADER; "" is the default X-Forwarded-For
		trusted []*net.IPNet
		peer    string
		xff     string
		realIP  string
		want    string
	}{
		{"no proxies: peer, headers ignored", "", nil, "192.0.2.1", "198.51.100.7", "198.51.100.8", "192.0.2.1"},
		{"untrusted peer: headers ignored", "", cidrs("10.0.0.0/8"), "192.0.2.1", "198.51.100.7", "198.51.100.8", "192.0.2.1"},
		{"loopback is not trusted by default", "", cidrs("10.0.0.0/8"), "127.0.0.1", "198.51.100.7", "", "127.0.0.1"},
		{"trusted proxy: X-Forwarded-For", "", cidrs("10.0.0.0/8"), "10.1.1.1", "198.51.100.7", "", "198.51.100.7"},
		{"spoofed left-most entry is skipped", "", cidrs("10.0.0.0/8"), "10.1.1.1", "6.6.6.6, 198.51.100.7", "", "198.51.100.7"},
		{"chain of trusted proxies", "", cidrs("10.0.0.0/8"), "10.1.1.1", "198.51.100.7, 10.2.2.2", "", "198.51.100.7"},
		{"garbage in the chain: peer", "", cidrs("10.0.0.0/8"), "10.1.1.1", "not-an-ip", "", "10.1.1.1"},
		{"trusted proxy: X-Real-IP", "X-Real-IP", cidrs("10.0.0.0/8"), "10.1.1.1", "", "198.51.100.8", "198.51.100.8"},
		{"X-Real-IP: a client's X-Forwarded-For is ignored", "X-Real-IP", cidrs("10.0.0.0/8"), "10.1.1.1", "6.6.6.6", "198.51.100.8", "198.51.100.8"},
		{"X-Forwarded-For: a client's X-Real-IP is ignored", "", cidrs("10.0.0.0/8"), "10.1.1.1", "", "6.6.6.6", "10.1.1.1"},
		{"X-Forwarded-For: only it counts", "X-Forwarded-For", cidrs("10.0.0.0/8"), "10.1.1.1", "198.51.100.7", "6.6.6.6", "198.51.100.7"},
		{"IPv6 proxy range", "", cidrs("2001:db8::/32"), "2001:db8::1", "2001:db9::9, 2001:db8::2", "", "2001:db9::9"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/token", nil)
			r.RemoteAddr = net.JoinHostPort(tc.peer, "40000")
			if tc.xff != "" {
				r.Header.Set("X-Forwarded-For", tc.xff)
			}
			if tc.realIP != "" {
				r.Header.Set("X-Real-IP", tc.realIP)
			}
			if got := ipExtractor(tc.trusted, tc.header, slog.New(slog.DiscardHandler))(r); got != tc.want {
				t.Fatalf("client address %q, want %q", got, tc.want)
			}
		})
	}
}
