package redistest

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

const (
	// SentinelMasterName is the name the sentinels of StartSentinel know
	// the master by (REDIS_SENTINEL_MASTER).
	SentinelMasterName = "authsvc-test"
	// sentinelCount and sentinelQuorum: three sentinels, two of which must
	// agree that the master is down.
	sentinelCount  = 3
	sentinelQuorum = 2
	// sentinelReadyTimeout bounds the wait for the replica to sync and for
	// the sentinels to discover the replica and each other (they announce
	// themselves every 2 s).
	sentinelReadyTimeout = 15 * time.Second
	// dataNodeConf is the config file of the master and the replica: empty,
	// but there, because the sentinels rewrite it (CONFIG REWRITE) when they
	// reconfigure a node.
	dataNodeConf = "# written by redistest.StartSentinel; the sentinels may rewrite it\n"
)

// Sentinel is a Sentinel-managed Redis owned by one test: a master, one
// replica and three sentinels (quorum 2), each on its own free loopback
// port. The sentinels judge a master down after 1 s without an answer
// (down-after-milliseconds 1000) and a failover times out after 5 s, so
// stopping the master promotes the replica within a few seconds.
type Sentinel struct {
	tb        testing.TB
	master    *Server
	replica   *Server
	sentinels []*Server
}

// StartSentinel starts the master, the replica (waiting until it is in sync)
// and the three sentinels (waiting until each knows the replica and the
// other two sentinels, so a failover can be elected). opts apply to the
// master and the replica (WithAOF, WithArgs; not WithPort). Every process is
// killed when the test ends. It fails the test, never skips it, when
// redis-server is not on PATH.
func StartSentinel(tb testing.TB, opts ...Option) *Sentinel {
	tb.Helper()
	cfg := newConfig(opts)
	cfg.port = 0
	cfg.confText = dataNodeConf
	// Full syncs start at once instead of waiting for more replicas.
	cfg.extra = append([]string{"--repl-diskless-sync-delay", "0"}, cfg.extra...)

	s := &Sentinel{tb: tb}
	s.master = start(tb, cfg)
	replicaCfg := cfg
	replicaCfg.extra = append(append([]string(nil), cfg.extra...), "--replicaof", "127.0.0.1", strconv.Itoa(s.master.Port()))
	s.replica = start(tb, replicaCfg)
	s.waitFor("the replica's sync", func() error { return replicaInSync(tb, s.replica) })

	sentinelCfg := config{sentinel: true, confText: fmt.Sprintf(
		"sentinel monitor %[1]s 127.0.0.1 %[2]d %[3]d\n"+
			"sentinel down-after-milliseconds %[1]s 1000\n"+
			"sentinel failover-timeout %[1]s 5000\n"+
			"sentinel parallel-syncs %[1]s 1\n",
		SentinelMasterName, s.master.Port(), sentinelQuorum)}
	for range sentinelCount {
		s.sentinels = append(s.sentinels, start(tb, sentinelCfg))
	}
	s.waitFor("the sentinels (knowing the replica and each other)", s.sentinelsReady)
	return s
}

// Addrs returns the host:port of every sentinel (REDIS_SENTINEL_ADDRS).
func (s *Sentinel) Addrs() []string {
	return addrs(s.sentinels)
}

// MasterName returns the name the sentinels monitor the master under
// (REDIS_SENTINEL_MASTER).
func (s *Sentinel) MasterName() string {
	return SentinelMasterName
}

// Master returns the server started as master. Stop it to make the
// sentinels fail over to the replica.
func (s *Sentinel) Master() *Server {
	return s.master
}

// Replica returns the server started as the master's replica.
func (s *Sentinel) Replica() *Server {
	return s.replica
}

// Sentinels returns the sentinel processes.
func (s *Sentinel) Sentinels() []*Server {
	return s.sentinels
}

// MasterAddr returns the master's host:port as the first sentinel that
// answers reports it.
func (s *Sentinel) MasterAddr() (string, error) {
	var last error
	for _, n := range s.sentinels {
		if !n.running() {
			continue
		}
		addr, err := sentinelMasterAddr(n)
		if err == nil {
			return addr, nil
		}
		last = err
	}
	return "", fmt.Errorf("no sentinel reports the master: %w", last)
}

// WaitFailover waits until every running sentinel reports a master other
// than old, and that master answers as a master; it returns its address.
func (s *Sentinel) WaitFailover(old string) string {
	s.tb.Helper()
	var addr string
	s.waitFor("a failover away from "+old, func() error {
		for _, n := range s.sentinels {
			if !n.running() {
				continue
			}
			got, err := sentinelMasterAddr(n)
			if err != nil {
				return err
			}
			if got == old {
				return fmt.Errorf("sentinel %s still reports %s", n.Addr(), old)
			}
			addr = got
		}
		return isMaster(addr)
	})
	return addr
}

// waitFor polls check until it returns nil, or fails the test after
// sentinelReadyTimeout.
func (s *Sentinel) waitFor(what string, check func() error) {
	s.tb.Helper()
	waitUntil(s.tb, sentinelReadyTimeout, what, check)
}

// sentinelsReady returns nil when every sentinel sees the master as a
// master, its replica and the other sentinels.
func (s *Sentinel) sentinelsReady() error {
	for _, n := range s.sentinels {
		sc := goredis.NewSentinelClient(&goredis.Options{Addr: n.Addr(), DialTimeout: time.Second, MaxRetries: -1})
		m, err := sc.Master(context.Background(), SentinelMasterName).Result()
		sc.Close()
		if err != nil {
			return fmt.Errorf("sentinel %s: %w", n.Addr(), err)
		}
		if m["flags"] != "master" || m["num-slaves"] != "1" || m["num-other-sentinels"] != strconv.Itoa(sentinelCount-1) {
			return fmt.Errorf("sentinel %s: flags %q, %s replicas, %s other sentinels",
				n.Addr(), m["flags"], m["num-slaves"], m["num-other-sentinels"])
		}
	}
	return nil
}

// sentinelMasterAddr asks sentinel n for the master's address.
func sentinelMasterAddr(n *Server) (string, error) {
	sc := goredis.NewSentinelClient(&goredis.Options{Addr: n.Addr(), DialTimeout: time.Second, MaxRetries: -1})
	defer sc.Close()
	hp, err := sc.GetMasterAddrByName(context.Background(), SentinelMasterName).Result()
	if err != nil {
		return "", fmt.Errorf("sentinel %s: %w", n.Addr(), err)
	}
	if len(hp) != 2 {
		return "", fmt.Errorf("sentinel %s answered %q", n.Addr(), hp)
	}
	return net.JoinHostPort(hp[0], hp[1]), nil
}

// replicaInSync returns nil when the replica's link to its master is up
// and the initial sync is done.
func replicaInSync(tb testing.TB, replica *Server) error {
	var err error
	withClient(tb, replica, func(cl *goredis.Client) {
		var info string
		if info, err = cl.Info(context.Background(), "replication").Result(); err != nil {
			return
		}
		if !strings.Contains(info, "master_link_status:up") || strings.Contains(info, "master_sync_in_progress:1") {
			err = fmt.Errorf("replica %s not in sync", replica.Addr())
		}
	})
	return err
}

// isMaster returns nil when the server at addr reports role:master.
func isMaster(addr string) error {
	cl := goredis.NewClient(&goredis.Options{Addr: addr, DialTimeout: time.Second, MaxRetries: -1, PoolSize: 1})
	defer cl.Close()
	info, err := cl.Info(context.Background(), "replication").Result()
	if err != nil {
		return err
	}
	if !strings.Contains(info, "role:master") {
		return fmt.Errorf("%s is not a master yet", addr)
	}
	return nil
}
