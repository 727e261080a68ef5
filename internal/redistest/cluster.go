package redistest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

const (
	// clusterMasters is the number of masters StartCluster starts.
	clusterMasters = 3
	// clusterSlots is the number of hash slots of every Redis Cluster.
	clusterSlots = 16384
	// clusterReadyTimeout bounds the wait for every node to report
	// cluster_state:ok with every master known.
	clusterReadyTimeout = 10 * time.Second
)

// Cluster is a Redis Cluster of three masters without replicas, each a
// Server on its own free loopback port, owned by one test. Master i serves
// the i-th third of the hash slots (see SlotOwner).
//
// Every node runs with cluster-require-full-coverage no: a Cluster without
// replicas cannot fail a dead master over, and with the default (yes) one
// stopped node would put every node in CLUSTERDOWN; with no, the other
// masters keep serving their own slots and only the dead node's keys are
// unavailable. cluster-node-timeout is short (1 s) so the survivors mark a
// stopped node as failed quickly.
type Cluster struct {
	tb    testing.TB
	nodes []*Server
}

// StartCluster starts three cluster-enabled redis-server processes, assigns
// each a third of the slots (CLUSTER ADDSLOTS), joins them (CLUSTER MEET),
// and waits until every node reports cluster_state:ok and knows every
// master. opts apply to every node (WithAOF, WithArgs; not WithPort). Every
// process is killed when the test ends. It fails the test, never skips it,
// when redis-server is not on PATH.
func StartCluster(tb testing.TB, opts ...Option) *Cluster {
	tb.Helper()
	cfg := newConfig(opts)
	cfg.port = 0
	cfg.busPort = true
	cfg.extra = append([]string{
		"--cluster-enabled", "yes",
		"--cluster-config-file", "nodes.conf",
		"--cluster-node-timeout", "1000",
		"--cluster-require-full-coverage", "no",
	}, cfg.extra...)

	c := &Cluster{tb: tb}
	for range clusterMasters {
		c.nodes = append(c.nodes, start(tb, cfg))
	}
	ctx := context.Background()
	for i, n := range c.nodes {
		withClient(tb, n, func(cl *goredis.Client) {
			// Distinct epochs before meeting, as redis-cli --cluster create
			// does, so no epoch collision has to be resolved.
			must(tb, cl.Do(ctx, "CLUSTER", "SET-CONFIG-EPOCH", i+1).Err(), "CLUSTER SET-CONFIG-EPOCH")
			lo, hi := slotRange(i)
			args := []any{"CLUSTER", "ADDSLOTS"}
			for slot := lo; slot <= hi; slot++ {
				args = append(args, slot)
			}
			must(tb, cl.Do(ctx, args...).Err(), "CLUSTER ADDSLOTS")
		})
	}
	withClient(tb, c.nodes[0], func(cl *goredis.Client) {
		for _, n := range c.nodes[1:] {
			// The bus port is named: it is not the default port+10000.
			must(tb, cl.Do(ctx, "CLUSTER", "MEET", "127.0.0.1", n.Port(), n.busPort).Err(), "CLUSTER MEET")
		}
	})
	c.WaitOK()
	return c
}

// Addrs returns the host:port of every node: the seeds a cluster client
// (REDIS_CLUSTER_ADDRS) takes.
func (c *Cluster) Addrs() []string {
	return addrs(c.nodes)
}

// Nodes returns the masters, in slot order: Nodes()[i] serves the slots for
// which SlotOwner returns i. Stop and Restart them to fail one shard.
func (c *Cluster) Nodes() []*Server {
	return c.nodes
}

// SlotOwner returns the index in Nodes of the master serving slot.
func (c *Cluster) SlotOwner(slot int) int {
	for i := range c.nodes {
		if _, hi := slotRange(i); slot <= hi {
			return i
		}
	}
	return len(c.nodes) - 1
}

// WaitOK waits until every node reports cluster_state:ok and sees every
// master with its slots and none failed: after StartCluster, or after a
// stopped node's Restart (the node rejoins from its nodes.conf).
func (c *Cluster) WaitOK() {
	c.tb.Helper()
	waitUntil(c.tb, clusterReadyTimeout, "cluster", c.check)
}

// check returns nil when every running node is ok and sees all masters
// with their slots and none of them failed.
func (c *Cluster) check() error {
	ctx := context.Background()
	for _, n := range c.nodes {
		if !n.running() {
			continue
		}
		var err error
		withClient(c.tb, n, func(cl *goredis.Client) {
			var info string
			if info, err = cl.ClusterInfo(ctx).Result(); err != nil {
				return
			}
			if !strings.Contains(info, "cluster_state:ok") {
				err = fmt.Errorf("node %s: cluster_state not ok", n.Addr())
				return
			}
			var nodes string
			if nodes, err = cl.ClusterNodes(ctx).Result(); err != nil {
				return
			}
			err = checkNodes(nodes, len(c.nodes))
			if err != nil {
				err = fmt.Errorf("node %s: %w", n.Addr(), err)
			}
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// checkNodes checks a CLUSTER NODES reply: want masters, each serving slots,
// none flagged fail, pfail or handshake.
func checkNodes(reply string, want int) error {
	masters := 0
	for _, line := range strings.Split(strings.TrimSpace(reply), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 {
			return fmt.Errorf("short CLUSTER NODES line %q", line)
		}
		flags := f[2]
		for _, bad := range []string{"fail", "handshake", "noaddr"} {
			if strings.Contains(flags, bad) {
				return fmt.Errorf("a node is flagged %s", flags)
			}
		}
		if strings.Contains(flags, "master") && len(f) > 8 {
			masters++
		}
	}
	if masters != want {
		return fmt.Errorf("sees %d masters with slots, want %d", masters, want)
	}
	return nil
}

// slotRange returns the first and last slot of master i.
func slotRange(i int) (lo, hi int) {
	return i * clusterSlots / clusterMasters, (i+1)*clusterSlots/clusterMasters - 1
}

// KeySlot returns the Redis Cluster hash slot of key: CRC16 (XMODEM) of its
// hash tag (the part between the first { and the next }, when not empty),
// or of the whole key, modulo 16384. go-redis keeps its copy internal.
func KeySlot(key string) int {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	return int(crc16(key)) % clusterSlots
}

// crc16 is CRC-16/XMODEM (polynomial 0x1021, initial value 0), the checksum
// Redis Cluster uses.
func crc16(s string) uint16 {
	var crc uint16
	for i := 0; i < len(s); i++ {
		crc ^= uint16(s[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// withClient runs fn with a short-lived plain client of node n.
func withClient(tb testing.TB, n *Server, fn func(*goredis.Client)) {
	tb.Helper()
	cl := goredis.NewClient(&goredis.Options{
		Addr: n.Addr(), DialTimeout: time.Second, ReadTimeout: 2 * time.Second,
		MaxRetries: -1, PoolSize: 1,
	})
	defer cl.Close()
	fn(cl)
}

// must fails the test when err is not nil.
func must(tb testing.TB, err error, what string) {
	tb.Helper()
	if err != nil {
		tb.Fatalf("redistest: %s: %v", what, err)
	}
}

// running reports whether the server's process runs.
func (s *Server) running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc != nil
}
