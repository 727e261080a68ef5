package redistest

import (
	"context"
	"fmt"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

func TestKeySlot_CheckValue(t *testing.T) {
	t.Parallel()
	if got := crc16("123456789"); got != 0x31C3 {
		t.Fatalf("crc16(123456789) = %#x, want the XMODEM check value 0x31c3", got)
	}
	if KeySlot("a{user1}b") != KeySlot("{user1}") || KeySlot("{}x") == KeySlot("") {
		t.Fatalf("hash tags not applied as Redis does")
	}
}

func TestStartCluster_ShardsSurviveOneStoppedNode(t *testing.T) {
	t.Parallel()
	c := StartCluster(t)
	if len(c.Addrs()) != 3 {
		t.Fatalf("Addrs = %v, want 3 seeds", c.Addrs())
	}
	client := goredis.NewClusterClient(&goredis.ClusterOptions{
		Addrs: c.Addrs(), DialTimeout: time.Second, DialerRetries: 1, MaxRedirects: 1,
	})
	t.Cleanup(func() { client.Close() })
	ctx := context.Background()

	// One key per master, found by their slots.
	keys := make([]string, len(c.Nodes()))
	for i := 0; keys[0] == "" || keys[1] == "" || keys[2] == ""; i++ {
		k := fmt.Sprintf("k{%d}", i)
		if owner := c.SlotOwner(KeySlot(k)); keys[owner] == "" {
			keys[owner] = k
		}
	}
	for _, k := range keys {
		if err := client.Set(ctx, k, "v", 0).Err(); err != nil {
			t.Fatalf("SET %s: %v", k, err)
		}
	}
	// The harness's slot map is the cluster's.
	for i, k := range keys {
		slot := KeySlot(k)
		got, err := client.ClusterKeySlot(ctx, k).Result()
		if err != nil || got != int64(slot) {
			t.Fatalf("CLUSTER KEYSLOT %s = %d, %v; KeySlot says %d", k, got, err, slot)
		}
		withClient(t, c.Nodes()[i], func(cl *goredis.Client) {
			if n, err := cl.ClusterCountKeysInSlot(ctx, slot).Result(); err != nil || n != 1 {
				t.Errorf("node %d holds %d keys of slot %d (%v), want 1", i, n, slot, err)
			}
		})
	}

	c.Nodes()[0].Stop()
	for i, k := range keys {
		err := client.Get(ctx, k).Err()
		if i == 0 && err == nil {
			t.Errorf("GET %s on the stopped node succeeded", k)
		}
		if i > 0 && err != nil {
			t.Errorf("GET %s on a surviving node: %v", k, err)
		}
	}
	c.Nodes()[0].Restart()
	c.WaitOK()
}

func TestStartSentinel_FailsOver(t *testing.T) {
	t.Parallel()
	s := StartSentinel(t)
	if len(s.Addrs()) != 3 || s.MasterName() == "" {
		t.Fatalf("Addrs %v, MasterName %q", s.Addrs(), s.MasterName())
	}
	old, err := s.MasterAddr()
	if err != nil || old != s.Master().Addr() {
		t.Fatalf("MasterAddr = %q, %v; want %s", old, err, s.Master().Addr())
	}
	client := goredis.NewFailoverClient(&goredis.FailoverOptions{
		MasterName: s.MasterName(), SentinelAddrs: s.Addrs(), DialTimeout: time.Second, DialerRetries: 1,
	})
	t.Cleanup(func() { client.Close() })
	ctx := context.Background()
	if err := client.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if n, err := client.Wait(ctx, 1, 2*time.Second).Result(); err != nil || n != 1 {
		t.Fatalf("WAIT = %d, %v; want the replica to acknowledge", n, err)
	}

	s.Master().Stop()
	if got := s.WaitFailover(old); got != s.Replica().Addr() {
		t.Fatalf("new master %s, want the replica %s", got, s.Replica().Addr())
	}
	var got string
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err = client.Get(ctx, "k").Result()
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil || got != "v" {
		t.Fatalf("GET after failover = %q, %v; want v", got, err)
	}
	if err := client.Set(ctx, "k2", "v", 0).Err(); err != nil {
		t.Fatalf("SET after failover: %v", err)
	}
}
