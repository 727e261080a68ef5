package e2e

// Fault tests: real authsvc processes against real redis-server processes
// (a single node, a Sentinel-managed pair, a three-master Cluster) that the
// tests stop and restart under load. Each is bounded by explicit waits of
// a few seconds and reports its counts with t.Logf; `make test` runs them
// with -v so the counts stay in its output.

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/authsvc/authsvc/internal/redistest"
	"github.com/authsvc/authsvc/internal/store"
)

// Phases of a fault test, as labels of the counts.
const (
	phaseBefore = "before"
	phaseDuring = "during"
	phaseAfter  = "after"
)

// TestFault_RedisStoppedUnderLoad kills Redis (AOF, fsync always) while
// clients loop over login and refresh, and starts it again. Every answer
// must be 200 or 503 temporarily_unavailable; afterwards the same authsvc
// process serves again and every session's newest refresh token works
// exactly once.
//
// REFRESH_REUSE_GRACE is on (30 s), as a deployment that expects faults
// should run it: a rotation Redis executed and persisted just before the
// kill, whose reply never arrived, gave the client a 503, so the client
// still holds the token it presented. Presenting it again after the
// restart is then the idempotent retry the grace window exists for, and
// returns the successor the store recorded, where without grace it would
// be reported as a reuse and revoke the session.
func TestFault_RedisStoppedUnderLoad(t *testing.T) {
	rds := redistest.Start(t, redistest.WithAOF(redistest.FsyncAlways))
	env := baseEnv(t, rds.URL())
	env["REFRESH_REUSE_GRACE"] = "30s"
	env["LOG_LEVEL"] = "info"
	svc := startAuthsvc(t, env)

	const clients, sessionsEach = 16, 3
	l := newLoadClient(clients)
	held := make([][]string, clients) // held[i][k]: newest refresh token of client i's session k
	servedAfter := make([]atomic.Int64, clients)
	var phase atomic.Value
	phase.Store(phaseBefore)
	stop := loop(clients, func(i, n int) {
		p := phase.Load().(string)
		var a answer
		if len(held[i]) == 0 || (len(held[i]) < sessionsEach && n%4 == 0) {
			if a = l.login(svc.URL, p); a.ok() {
				held[i] = append(held[i], a.refresh)
			}
		} else {
			k := n % len(held[i])
			if a = l.refresh(svc.URL, p, held[i][k]); a.ok() {
				held[i][k] = a.refresh
			}
		}
		switch {
		case a.ok():
			if p == phaseAfter {
				servedAfter[i].Add(1)
			}
		case a.unavailable():
			time.Sleep(20 * time.Millisecond) // a client backs off
		default:
			l.unexpected("client %d, %s: %v", i, p, a)
		}
	})

	waitFor(t, 15*time.Second, "traffic before the fault", func() bool {
		return l.count(phaseBefore, "200") >= clients*sessionsEach*3
	})
	phase.Store(phaseDuring)
	rds.Stop()
	waitFor(t, 15*time.Second, "503s during the outage", func() bool {
		return l.count(phaseDuring, "503") >= clients*3
	})
	rds.Restart()
	restarted := time.Now()
	phase.Store(phaseAfter)
	waitFor(t, 15*time.Second, "every client served after the restart", allAtLeast(servedAfter, 2))
	recovered := time.Since(restarted)
	stop()
	svc.alive(t)
	l.check(t, false)

	// Every session's newest token: it refreshes (so the store recorded
	// it), a second presentation inside grace gets the identical successor
	// (no second branch), and once the successor has rotated too, the
	// token is a reuse.
	sessions := 0
	for i := range held {
		for k, rt := range held[i] {
			sessions++
			first := l.refresh(svc.URL, "final", rt)
			if !first.ok() {
				t.Errorf("client %d session %d: its newest refresh token got %v after the restart", i, k, first)
				continue
			}
			if again := l.refresh(svc.URL, "final", rt); !again.ok() || again.refresh != first.refresh {
				t.Errorf("client %d session %d: second presentation inside grace got %v, another successor: %v",
					i, k, again, again.refresh != first.refresh)
			}
			if next := l.refresh(svc.URL, "final", first.refresh); !next.ok() {
				t.Errorf("client %d session %d: the successor got %v", i, k, next)
			}
			if late := l.refresh(svc.URL, "final", rt); !late.invalidGrant() {
				t.Errorf("client %d session %d: the used token two rotations back got %v, want 400 invalid_grant", i, k, late)
			}
		}
	}
	t.Logf("Redis stopped under load: %d clients, %d sessions; the same authsvc process served again %v after Redis restarted; %s",
		clients, sessions, recovered.Round(time.Millisecond), l.report())
}

// TestFault_RedisRestartedWithAOF restarts Redis (killed, AOF fsync
// always): sessions created before the restart refresh after it, with the
// same authsvc process.
func TestFault_RedisRestartedWithAOF(t *testing.T) {
	rds := redistest.Start(t, redistest.WithAOF(redistest.FsyncAlways))
	svc := startAuthsvc(t, baseEnv(t, rds.URL()))
	l := newLoadClient(1)
	var tokens []string
	for i := range 5 {
		rt := login(t, svc.URL).str("refresh_token")
		if i%2 == 1 { // some sessions rotated once before the restart
			a := l.refresh(svc.URL, "before", rt)
			if !a.ok() {
				t.Fatalf("refresh before the restart: %v", a)
			}
			rt = a.refresh
		}
		tokens = append(tokens, rt)
	}

	rds.Restart()
	waitForReady(t, svc)
	for i, rt := range tokens {
		if a := l.refresh(svc.URL, "after", rt); !a.ok() {
			t.Errorf("session %d after the restart: %v", i, a)
		}
	}
	svc.alive(t)
	t.Logf("Redis restarted with AOF: %s", l.report())
}

// topologyEnv is baseEnv for a Cluster or Sentinel: REDIS_URL unset, the
// variable name set to the comma-separated addrs.
func topologyEnv(tb testing.TB, name string, addrs []string) map[string]string {
	env := baseEnv(tb, "")
	delete(env, "REDIS_URL")
	env[name] = strings.Join(addrs, ",")
	return env
}

// allAtLeast returns a condition for waitFor: every counter is at least min.
func allAtLeast(counters []atomic.Int64, min int64) func() bool {
	return func() bool {
		for i := range counters {
			if counters[i].Load() < min {
				return false
			}
		}
		return true
	}
}

// waitForReady waits until /readyz answers 200; docs/operations.md gives it 5 s
// to follow the store.
func waitForReady(tb testing.TB, svc *proc) {
	tb.Helper()
	waitFor(tb, 5*time.Second, "/readyz 200", func() bool {
		return call(tb, "GET", svc.URL+"/readyz", "", "").Status == 200
	})
}

// TestFault_SentinelFailover stops the Sentinel-managed master while
// clients keep refreshing: authsvc, configured with the sentinels only,
// follows the promoted replica without a restart. The requests failed
// during the switch (503) are counted; every other answer is 200, and every
// client's newest token works exactly once afterwards.
//
// Replication is asynchronous, so a rotation acknowledged by the master in
// the instant before it dies may be missing on the replica. The test makes
// that case impossible rather than rare: it holds the clients for a moment,
// waits until the replica has acknowledged everything (WAIT), and kills the
// master with no request in flight. (What a lost write means in production
// is in docs/operations.md.)
func TestFault_SentinelFailover(t *testing.T) {
	s := redistest.StartSentinel(t)
	env := topologyEnv(t, "REDIS_SENTINEL_ADDRS", s.Addrs())
	env["REDIS_SENTINEL_MASTER"] = s.MasterName()
	env["LOG_LEVEL"] = "info"
	svc := startAuthsvc(t, env)

	const clients = 10
	l := newLoadClient(clients)
	held := make([]string, clients)
	for i := range held {
		held[i] = login(t, svc.URL).str("refresh_token")
	}
	servedAfter := make([]atomic.Int64, clients)
	var phase atomic.Value
	phase.Store(phaseBefore)
	var gate sync.RWMutex // held by the test to quiesce the clients
	stop := loop(clients, func(i, _ int) {
		gate.RLock()
		p := phase.Load().(string)
		a := l.refresh(svc.URL, p, held[i])
		gate.RUnlock()
		switch {
		case a.ok():
			held[i] = a.refresh
			if p == phaseAfter {
				servedAfter[i].Add(1)
			}
		case a.unavailable():
			time.Sleep(20 * time.Millisecond)
		default:
			l.unexpected("client %d, %s: %v", i, p, a)
		}
	})

	waitFor(t, 15*time.Second, "traffic before the failover", func() bool {
		return l.count(phaseBefore, "200") >= clients*5
	})
	oldMaster := s.Master().Addr()
	gate.Lock()
	waitReplicated(t, oldMaster, env["REDIS_KEY_PREFIX"])
	s.Master().Stop()
	killed := time.Now()
	phase.Store(phaseDuring)
	gate.Unlock()

	newMaster := s.WaitFailover(oldMaster)
	promoted := time.Since(killed)
	phase.Store(phaseAfter)
	waitFor(t, 20*time.Second, "every client served by the new master", allAtLeast(servedAfter, 1))
	stop()
	svc.alive(t)
	l.check(t, true)

	for i, rt := range held {
		if a := l.refresh(svc.URL, "final", rt); !a.ok() {
			t.Errorf("client %d: newest token after the failover got %v", i, a)
		} else if again := l.refresh(svc.URL, "final", rt); !again.invalidGrant() {
			t.Errorf("client %d: second use got %v, want 400 invalid_grant", i, again)
		}
	}
	failed := l.count(phaseDuring, "503")
	t.Logf("Sentinel failover: master %s stopped, replica %s promoted after %v; %d requests failed (503) during the switch; %s",
		oldMaster, newMaster, promoted.Round(time.Millisecond), failed, l.report())
}

// waitReplicated writes a marker on the master and waits until its replica
// has acknowledged it, and so every write before it.
func waitReplicated(tb testing.TB, master, prefix string) {
	tb.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: master, MaxRetries: -1})
	defer c.Close()
	ctx := context.Background()
	if err := c.Set(ctx, prefix+"replication-marker", "1", time.Minute).Err(); err != nil {
		tb.Fatalf("marker on the master: %v", err)
	}
	if n, err := c.Wait(ctx, 1, 5*time.Second).Result(); err != nil || n != 1 {
		tb.Fatalf("WAIT for the replica: %d, %v", n, err)
	}
}

// TestFault_ClusterNodeStopped stops one of three Cluster masters (no
// replicas; the harness runs cluster-require-full-coverage no, so the other
// masters keep serving): sessions whose key lives on a surviving master
// still refresh, those on the stopped one get 503 (never 500), and a login
// either lands on a surviving master or gets 503. After the node restarts
// (AOF on), its sessions refresh again.
//
// The login-failure limit is off here: with it on, a password login also
// reads the (user, address) failure counter, and when that key's slot is on
// the stopped master every login of that user from that address gets 503
// (fail closed), which would hide where the new sessions land.
func TestFault_ClusterNodeStopped(t *testing.T) {
	c := redistest.StartCluster(t, redistest.WithAOF(redistest.FsyncAlways))
	env := topologyEnv(t, "REDIS_CLUSTER_ADDRS", c.Addrs())
	env["LOGIN_FAILURES_MAX"] = "0"
	env["LOG_LEVEL"] = "info"
	// A subject's sessions share one hash slot (the subject tag of the
	// session id), so sessions spread over the masters only across
	// subjects: the test logs in as many users.
	users := clusterUsers(t, env, 24)
	svc := startAuthsvc(t, env)
	prefix := env["REDIS_KEY_PREFIX"]
	shardOf := func(rt string) int {
		tag, ok := store.SessionTag(sessionOf(t, rt))
		if !ok {
			t.Fatalf("session id %q has no subject tag", sessionOf(t, rt))
		}
		return c.SlotOwner(redistest.KeySlot(prefix + "s:{" + tag + "}"))
	}
	loginAs := func(user string) *response {
		r := postForm(t, svc.URL+"/token", "grant_type", "password", "username", user, "password", clusterUserPassword)
		if r.Status != http.StatusOK {
			t.Fatalf("login of %s: %d %s", user, r.Status, r.Body)
		}
		return r
	}

	// Log in until every master holds three sessions.
	const perShard, dead = 3, 0
	byShard := make([][]string, len(c.Nodes()))
	for n := 0; ; n++ {
		if n == 300 {
			t.Fatalf("300 logins of %d users did not give every master %d sessions", len(users), perShard)
		}
		rt := loginAs(users[n%len(users)]).str("refresh_token")
		if sh := shardOf(rt); len(byShard[sh]) < perShard {
			byShard[sh] = append(byShard[sh], rt)
		}
		if len(byShard[0]) == perShard && len(byShard[1]) == perShard && len(byShard[2]) == perShard {
			break
		}
	}

	l := newLoadClient(1)
	c.Nodes()[dead].Stop()
	for sh, tokens := range byShard {
		for k, rt := range tokens {
			a := l.refresh(svc.URL, "node stopped, shard "+strconv.Itoa(sh), rt)
			switch {
			case sh == dead && !a.unavailable():
				t.Errorf("session %d on the stopped master: %v, want 503 temporarily_unavailable", k, a)
			case sh != dead && !a.ok():
				t.Errorf("session %d on surviving master %d: %v, want 200", k, sh, a)
			case a.ok():
				tokens[k] = a.refresh
			}
		}
	}
	for i := range 15 {
		a := l.post(svc.URL+"/token", "grant_type", "password", "username", users[i%len(users)], "password", clusterUserPassword)
		l.note("node stopped login", a)
		switch {
		case a.ok() && shardOf(a.refresh) == dead:
			t.Errorf("login returned a session on the stopped master")
		case !a.ok() && !a.unavailable():
			t.Errorf("login with a master stopped: %v, want 200 or 503", a)
		}
	}

	c.Nodes()[dead].Restart()
	c.WaitOK()
	waitFor(t, 10*time.Second, "the restarted master to serve its sessions", func() bool {
		a := l.refresh(svc.URL, "node restarted", byShard[dead][0])
		if a.ok() {
			byShard[dead][0] = a.refresh
		}
		return a.ok()
	})
	for sh, tokens := range byShard {
		for k, rt := range tokens {
			if a := l.refresh(svc.URL, "node restarted, shard "+strconv.Itoa(sh), rt); !a.ok() {
				t.Errorf("session %d on master %d after the restart: %v", k, sh, a)
			}
		}
	}
	svc.alive(t)
	t.Logf("Cluster node stopped (cluster-require-full-coverage no): %s", l.report())
}

// clusterUserPassword is the password of every user clusterUsers writes.
const clusterUserPassword = "cluster-Pa55word-Gecko-58"

// clusterUsers writes a credentials file with n users (user00, user01, …)
// sharing one password, points env's CREDENTIALS_FILE at it, and returns
// their names.
func clusterUsers(tb testing.TB, env map[string]string, n int) []string {
	tb.Helper()
	hash := mustHash(tb, clusterUserPassword)
	var b strings.Builder
	b.WriteString("users:\n")
	users := make([]string, n)
	for i := range users {
		users[i] = fmt.Sprintf("user%02d", i)
		fmt.Fprintf(&b, "  - username: %s\n    password_hash: %q\n    scopes: [read]\n", users[i], hash)
	}
	b.WriteString("clients: []\n")
	path := filepath.Join(tb.TempDir(), "cluster-users.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		tb.Fatal(err)
	}
	env["CREDENTIALS_FILE"] = path
	return users
}

// Roles of the clients of TestFault_ThreeReplicasOneCluster.
const (
	roleHonest   = iota
	roleReplayed // the attacker replays the login token after the owner rotated it
	roleRaced    // the attacker presents the owner's current token at the same moment
)

// TestFault_ThreeReplicasOneCluster: three authsvc processes share one
// Redis Cluster; 200 clients each log in and refresh their own session
// five times, each request through another replica, while an attacker
// works on 40 of the sessions: for 20 it replays the login token after the
// owner has rotated it away, for 20 it presents the owner's current token
// at the same moment as the owner. No refresh token succeeds twice, every
// replay is answered 400 invalid_grant and its session ends revoked, and
// every session not attacked is alive at the end.
func TestFault_ThreeReplicasOneCluster(t *testing.T) {
	c := redistest.StartCluster(t)
	env := topologyEnv(t, "REDIS_CLUSTER_ADDRS", c.Addrs())
	env["LOG_LEVEL"] = "warn"
	// Many subjects, so that the sessions spread over the masters (a
	// subject's sessions share one slot).
	users := clusterUsers(t, env, 40)
	replicas := []*proc{startAuthsvc(t, env), startAuthsvc(t, env), startAuthsvc(t, env)}
	via := func(i, n int) string { return replicas[(i+n)%len(replicas)].URL }

	const clients, rounds = 200, 5
	role := func(i int) int {
		switch i % 10 {
		case 0:
			return roleReplayed
		case 5:
			return roleRaced
		}
		return roleHonest
	}
	l := newLoadClient(clients)
	held := make([]string, clients)
	var replays, replaysDetected, races, racesOneWinner atomic.Int64

	// The attacker's replays: a login token sent here has been rotated away.
	stolen := make(chan int, clients)
	loginTokens := make([]string, clients)
	var attacker sync.WaitGroup
	for range 4 {
		attacker.Add(1)
		go func() {
			defer attacker.Done()
			for i := range stolen {
				replays.Add(1)
				a := retryUnavailable(func() answer { return l.refresh(via(i, 2), "attacker replay", loginTokens[i]) })
				if a.invalidGrant() {
					replaysDetected.Add(1)
				} else {
					l.unexpected("client %d: replay of a rotated-away token got %v, want 400 invalid_grant", i, a)
				}
			}
		}()
	}

	var owners sync.WaitGroup
	for i := range clients {
		owners.Add(1)
		go func() {
			defer owners.Done()
			a := retryUnavailable(func() answer {
				a := l.post(via(i, 0)+"/token", "grant_type", "password", "username", users[i%len(users)], "password", clusterUserPassword)
				l.note("owner login", a)
				return a
			})
			if !a.ok() {
				l.unexpected("client %d: login got %v", i, a)
				return
			}
			held[i], loginTokens[i] = a.refresh, a.refresh
			for r := 1; r <= rounds; r++ {
				if role(i) == roleRaced && r == 3 {
					races.Add(1)
					if raceOnce(l, via(i, r), via(i, r+1), held[i]) {
						racesOneWinner.Add(1)
					} else {
						l.unexpected("client %d: owner and attacker presenting one token at once did not give exactly one 200 and one 400", i)
					}
					return // the loser's presentation was a reuse: the session is revoked
				}
				a := retryUnavailable(func() answer { return l.refresh(via(i, r), "owner", held[i]) })
				switch {
				case a.ok():
					held[i] = a.refresh
					if r == 1 && role(i) == roleReplayed {
						stolen <- i
					}
				case a.invalidGrant() && role(i) == roleReplayed && r > 1:
					return // the replay revoked the session first
				default:
					l.unexpected("client %d, round %d: %v", i, r, a)
					return
				}
			}
		}()
	}
	owners.Wait()
	close(stolen)
	attacker.Wait()

	alive, revoked := 0, 0
	for i, rt := range held {
		if rt == "" {
			continue // its login failed, reported above
		}
		a := retryUnavailable(func() answer { return l.refresh(via(i, rounds+1), "final", rt) })
		switch {
		case role(i) == roleHonest && a.ok():
			alive++
		case role(i) != roleHonest && a.invalidGrant():
			revoked++
		default:
			t.Errorf("client %d (role %d): its newest token at the end got %v", i, role(i), a)
		}
	}
	for _, p := range replicas {
		p.alive(t)
	}
	l.check(t, true)
	if replays.Load() != clients/10 || races.Load() != clients/10 {
		t.Errorf("%d replays and %d races ran, want %d of each", replays.Load(), races.Load(), clients/10)
	}
	t.Logf("three replicas, one Cluster, %d clients × %d rounds: honest sessions alive at the end %d/%d; "+
		"replays detected %d/%d; races with exactly one winner %d/%d; attacked sessions revoked at the end %d/%d; %s",
		clients, rounds, alive, clients*8/10, replaysDetected.Load(), replays.Load(),
		racesOneWinner.Load(), races.Load(), revoked, clients*2/10, l.report())
}

// retryUnavailable calls send until it gets something other than 503
// temporarily_unavailable, at most five times: what a client does with
// Retry-After. Resending a refresh token is safe after a 503 with no
// successor handed out, since go-redis already retried the store's
// idempotent script.
func retryUnavailable(send func() answer) answer {
	a := send()
	for n := 0; n < 4 && a.unavailable(); n++ {
		time.Sleep(50 * time.Millisecond)
		a = send()
	}
	return a
}

// raceOnce presents rt through two replicas at the same moment and reports
// whether exactly one got 200 and the other 400 invalid_grant.
func raceOnce(l *loadClient, ownerURL, attackerURL, rt string) bool {
	var owner, thief answer
	start := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); <-start; owner = l.refresh(ownerURL, "owner race", rt) }()
	go func() { defer wg.Done(); <-start; thief = l.refresh(attackerURL, "attacker race", rt) }()
	close(start)
	wg.Wait()
	return (owner.ok() && thief.invalidGrant()) || (owner.invalidGrant() && thief.ok())
}
