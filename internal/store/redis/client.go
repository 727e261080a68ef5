package redisstore

import (
	"crypto/tls"
	"errors"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Connection says where the Redis store is and how to log in: a Cluster
// (ClusterAddrs), a Sentinel-managed primary (SentinelAddrs and
// SentinelMaster) or a single node (URL), in that order of precedence.
type Connection struct {
	// URL is a redis:// or rediss:// URL of a single node (user, password
	// and database in the URL).
	URL string
	// ClusterAddrs are host:port seeds of a Redis Cluster.
	ClusterAddrs []string
	// SentinelAddrs are host:port of the sentinels; SentinelMaster is the
	// name they know the primary by.
	SentinelAddrs  []string
	SentinelMaster string
	// Username and Password are the ACL credentials of the Cluster or
	// Sentinel nodes (and of the sentinels themselves).
	Username, Password string
	// TLS connects to a Cluster or Sentinel set over TLS 1.2 or later (a
	// single node takes rediss:// in URL instead).
	TLS bool
}

// ErrBadURL is returned by NewClient for a URL go-redis cannot parse. It
// never quotes the URL, which may hold a password.
var ErrBadURL = errors.New("redis URL cannot be parsed")

// Settings of the client, the same for every topology: short, so that an
// outage turns into a quick 503 instead of requests piling up. A refused
// connection fails at once; a host that does not answer at all costs at
// most (maxRetries+1) × dialTimeout, well inside an HTTP write timeout.
// Retries are safe: every script of this package recognises its own repeat
// (see Rotate).
const (
	dialTimeout = 1 * time.Second
	ioTimeout   = 1 * time.Second // scripts run in well under a millisecond
	poolTimeout = 1 * time.Second // waiting for a free connection
	// dialerRetries is 1: no extra dial inside one attempt; the
	// command-level retries below are the only ones.
	dialerRetries = 1
	// maxRetries is the retries of a command on a network error or
	// timeout (single node and Sentinel); the Cluster client retries
	// within maxRedirects instead, which also bounds MOVED/ASK redirects.
	maxRetries      = 2
	maxRedirects    = 3
	minRetryBackoff = 10 * time.Millisecond
	maxRetryBackoff = 100 * time.Millisecond
)

// NewClient builds the go-redis client for c's topology. Every command goes
// to a primary: Cluster ReadOnly, RouteByLatency and RouteRandomly stay off
// and the Sentinel client is a FailoverClient (never ReplicaOnly), because
// the scripts write and a replica may lag behind its primary. The client
// connects lazily: an unreachable Redis is not an error here.
func NewClient(c Connection) (goredis.UniversalClient, error) {
	var tlsConf *tls.Config
	if c.TLS {
		tlsConf = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	switch {
	case len(c.ClusterAddrs) > 0:
		// MOVED and ASK are followed, and the slot map reloaded, by the
		// client; a node that fails over is found through them.
		return goredis.NewClusterClient(&goredis.ClusterOptions{
			Addrs: c.ClusterAddrs, Username: c.Username, Password: c.Password,
			TLSConfig: tlsConf, ReadOnly: false, MaxRedirects: maxRedirects,
			DialTimeout: dialTimeout, DialerRetries: dialerRetries,
			ReadTimeout: ioTimeout, WriteTimeout: ioTimeout, PoolTimeout: poolTimeout,
			MinRetryBackoff: minRetryBackoff, MaxRetryBackoff: maxRetryBackoff,
		}), nil
	case len(c.SentinelAddrs) > 0:
		// The client asks the sentinels for the primary on every new
		// connection and drops its connections when they announce a new
		// one (+switch-master); until the failover is done, requests get
		// ErrUnavailable. The sentinels get the same ACL credentials as
		// the data nodes.
		return goredis.NewFailoverClient(&goredis.FailoverOptions{
			MasterName: c.SentinelMaster, SentinelAddrs: c.SentinelAddrs,
			Username: c.Username, Password: c.Password,
			SentinelUsername: c.Username, SentinelPassword: c.Password,
			TLSConfig: tlsConf, ReplicaOnly: false,
			MaxRetries: maxRetries, DialTimeout: dialTimeout, DialerRetries: dialerRetries,
			ReadTimeout: ioTimeout, WriteTimeout: ioTimeout, PoolTimeout: poolTimeout,
			MinRetryBackoff: minRetryBackoff, MaxRetryBackoff: maxRetryBackoff,
		}), nil
	}
	opts, err := goredis.ParseURL(c.URL)
	if err != nil {
		return nil, ErrBadURL
	}
	opts.MaxRetries = maxRetries
	opts.DialTimeout = dialTimeout
	opts.DialerRetries = dialerRetries
	opts.ReadTimeout = ioTimeout
	opts.WriteTimeout = ioTimeout
	opts.PoolTimeout = poolTimeout
	opts.MinRetryBackoff = minRetryBackoff
	opts.MaxRetryBackoff = maxRetryBackoff
	return goredis.NewClient(opts), nil
}
