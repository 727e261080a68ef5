package redisstore_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/authsvc/authsvc/internal/redistest"
	"github.com/authsvc/authsvc/internal/store"
	redisstore "github.com/authsvc/authsvc/internal/store/redis"
)

// clusterClient returns a new client of cluster c; the caller closes it, or
// hands it to a Store that does.
func clusterClient(c *redistest.Cluster) *goredis.ClusterClient {
	return goredis.NewClusterClient(&goredis.ClusterOptions{
		Addrs: c.Addrs(), DialTimeout: time.Second, DialerRetries: 1, MaxRedirects: 3,
		MaxRetryBackoff: 20 * time.Millisecond,
	})
}

// sentinelClient returns a new failover client of s.
func sentinelClient(s *redistest.Sentinel) *goredis.Client {
	return goredis.NewFailoverClient(&goredis.FailoverOptions{
		MasterName: s.MasterName(), SentinelAddrs: s.Addrs(), DialTimeout: time.Second, DialerRetries: 1,
		MaxRetries: 1, MaxRetryBackoff: 20 * time.Millisecond,
	})
}

// TestStore_Cluster runs the conformance suite on a three-master Redis
// Cluster: every key of every case lands on whichever master owns its slot,
// and Redis refuses any script whose keys live on another master.
func TestStore_Cluster(t *testing.T) {
	t.Parallel()
	c := redistest.StartCluster(t)
	runConformance(t, func() goredis.UniversalClient { return clusterClient(c) })
}

// TestStore_Sentinel runs the conformance suite through Sentinel: the
// client asks the sentinels for the master and writes there.
func TestStore_Sentinel(t *testing.T) {
	t.Parallel()
	s := redistest.StartSentinel(t)
	runConformance(t, func() goredis.UniversalClient { return sentinelClient(s) })
}

// TestStore_ClusterRunsEveryOperationOnOneSlot runs every operation on the
// real Cluster, with ids spread over all three masters, and requires that
// none is refused for its keys. It first proves that the Cluster refuses a
// script touching an undeclared key on another master, so passing means
// something. Redis (7.0) does not refuse an undeclared key in another slot
// of the same master, which would still break on resharding: that case is
// caught by TestStore_EachOperationTouchesOneSlot, which watches every
// command, script-internal ones included, with MONITOR.
func TestStore_ClusterRunsEveryOperationOnOneSlot(t *testing.T) {
	t.Parallel()
	c := redistest.StartCluster(t)
	client := clusterClient(c)
	t.Cleanup(func() { client.Close() })
	ctx := context.Background()
	prefix := newPrefix()

	// A tag on another master than {a}.
	slotA := redistest.KeySlot("{a}")
	other := ""
	for i := 0; other == ""; i++ {
		if tag := "{" + strconv.Itoa(i) + "}"; c.SlotOwner(redistest.KeySlot(tag)) != c.SlotOwner(slotA) {
			other = tag
		}
	}
	err := client.Eval(ctx,
		"redis.call('SET', KEYS[1], 1, 'PX', 60000) redis.call('SET', ARGV[1], 1, 'PX', 60000) return 1",
		[]string{prefix + "{a}"}, prefix+other).Err()
	if err == nil || !strings.Contains(err.Error(), "Script attempted to access a non local key") {
		t.Fatalf("a script writing an undeclared key on another master was not refused: %v", err)
	}

	s := redisstore.New(clusterClient(c), prefix)
	t.Cleanup(func() { s.Close() })
	owners := map[int]bool{}
	for len(owners) < len(c.Nodes()) {
		sess, first := mustFamily(t, s)
		owners[c.SlotOwner(redistest.KeySlot(sess.ID))] = true
		for _, o := range opsOn(sess, first) {
			err := o.call(ctx, s)
			if err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrReused) {
				t.Errorf("%s on the cluster: %v", o.name, err)
			}
		}
	}
}
