package test

import (
	"bytes"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkgo/zkgo/test/harness"
)

// ensembleCfg makes failover quick: a leader is declared dead after
// syncLimit*tickTime = 1.5s of silence (a killed leader is noticed at once,
// when its connections close).
var ensembleCfg = map[string]string{"tickTime": "500", "initLimit": "10", "syncLimit": "3"}

const modeTimeout = 30 * time.Second

// leaderOf waits until exactly one of the live servers leads and the others
// follow, and returns the leader.
func leaderOf(t *testing.T, servers []*harness.Server) *harness.Server {
	t.Helper()
	deadline := time.Now().Add(modeTimeout)
	for {
		var leaders []*harness.Server
		followers := 0
		live := 0
		for _, s := range servers {
			if !s.Alive() {
				continue
			}
			live++
			switch s.Mode() {
			case "leader":
				leaders = append(leaders, s)
			case "follower":
				followers++
			}
		}
		if len(leaders) == 1 && followers == live-1 {
			return leaders[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no single leader after %v (%d leaders, %d followers of %d)", modeTimeout, len(leaders), followers, live)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func alive(servers []*harness.Server) []*harness.Server {
	var out []*harness.Server
	for _, s := range servers {
		if s.Alive() {
			out = append(out, s)
		}
	}
	return out
}

// nodeState is a znode as a full tree walk sees it.
type nodeState struct {
	Data string
	Stat zk.Stat
}

// walk reads the whole tree of the server c is connected to, after a sync.
func walk(t *testing.T, c *zk.Conn) map[string]nodeState {
	t.Helper()
	out := map[string]nodeState{}
	if err := harness.WalkTree(c, func(p string, data []byte, st *zk.Stat) {
		out[p] = nodeState{Data: string(data), Stat: *st}
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// sameTrees checks that every live server holds the same tree.
func sameTrees(t *testing.T, servers []*harness.Server) {
	t.Helper()
	var first map[string]nodeState
	for i, s := range servers {
		c := connect(t, s.Addr())
		tree := walk(t, c)
		c.Close()
		if i == 0 {
			first = tree
			continue
		}
		if !reflect.DeepEqual(tree, first) {
			for p, n := range first {
				if m, ok := tree[p]; !ok || m != n {
					t.Errorf("server %d: %s is %+v, server %d has %+v", s.ID(), p, m, servers[0].ID(), n)
				}
			}
			for p := range tree {
				if _, ok := first[p]; !ok {
					t.Errorf("server %d has %s, server %d does not", s.ID(), p, servers[0].ID())
				}
			}
			t.Fatalf("trees differ")
		}
	}
	t.Logf("%d servers hold the same tree of %d nodes", len(servers), len(first))
}

// writeEverywhere creates one node through each server and checks that
// each server sees all of them after a sync.
func writeEverywhere(t *testing.T, servers []*harness.Server, prefix string) {
	t.Helper()
	var conns []*zk.Conn
	for _, s := range servers {
		c := connect(t, s.Addr())
		defer c.Close()
		conns = append(conns, c)
		p := fmt.Sprintf("%s-%d", prefix, s.ID())
		if _, err := c.Create(p, []byte(p), 0, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatalf("create %s on server %d: %v", p, s.ID(), err)
		}
	}
	for i, c := range conns {
		if _, err := c.Sync("/"); err != nil {
			t.Fatalf("sync on server %d: %v", servers[i].ID(), err)
		}
		for _, s := range servers {
			p := fmt.Sprintf("%s-%d", prefix, s.ID())
			data, _, err := c.Get(p)
			if err != nil || string(data) != p {
				t.Fatalf("server %d: get %s = %q, %v", servers[i].ID(), p, data, err)
			}
		}
	}
}

// TestEnsembleReplicatesAndFailsOver: writes through any server are seen by
// all; the leader is killed with SIGKILL while a client keeps writing
// through a follower; the survivors elect a leader and go on; the old
// leader restarts, catches up, and every server ends with the same tree.
//
// Snapshots are taken every few txns, so that the leader's log is purged
// and the restarted server must be synced with a snapshot (SNAP) rather
// than from the log (DIFF or TRUNC).
func TestEnsembleReplicatesAndFailsOver(t *testing.T) {
	cfg := maps.Clone(ensembleCfg)
	cfg["snapCount"] = "20"
	servers := harness.StartEnsemble(t, 3, cfg)
	leader := leaderOf(t, servers)
	t.Logf("leader: server %d", leader.ID())
	writeEverywhere(t, servers, "/a")

	var follower *harness.Server
	for _, s := range servers {
		if s != leader {
			follower = s
			break
		}
	}
	// A writer through the followers (the servers that survive the kill),
	// measuring the longest gap between two successful writes.
	var survivors []string
	survivors = append(survivors, follower.Addr())
	for _, s := range servers {
		if s != leader && s != follower {
			survivors = append(survivors, s.Addr())
		}
	}
	c, events, err := zk.Connect(survivors, 10*time.Second, zk.WithLogger(quietLogger{}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go func() {
		for range events {
		}
	}()
	if _, err := c.Create("/w", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var maxGap time.Duration
	var ackTimes []time.Time
	acked := 0
	wg.Add(1)
	go func() {
		defer wg.Done()
		last := time.Now()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			_, err := c.Create(fmt.Sprintf("/w/n%06d", i), []byte("x"), 0, zk.WorldACL(zk.PermAll))
			now := time.Now()
			if err == nil || err == zk.ErrNodeExists {
				mu.Lock()
				maxGap = max(maxGap, now.Sub(last))
				acked++
				ackTimes = append(ackTimes, now)
				mu.Unlock()
				last = now
			}
		}
	}()
	waitAcked := func(n int) {
		deadline := time.Now().Add(modeTimeout)
		for {
			mu.Lock()
			a := acked
			mu.Unlock()
			if a >= n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("only %d writes acknowledged, want %d", a, n)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitAcked(50)
	mu.Lock()
	before := acked
	mu.Unlock()
	killed := time.Now()
	leader.Kill()
	t.Logf("killed the leader, server %d, after %d writes", leader.ID(), before)
	newLeader := leaderOf(t, alive(servers))
	t.Logf("new leader: server %d, %v after the kill", newLeader.ID(), time.Since(killed).Round(time.Millisecond))
	waitAcked(before + 150)
	logFailoverGap(t, &mu, ackTimes, killed)
	writeEverywhere(t, alive(servers), "/b")

	if err := leader.Restart(); err != nil {
		t.Fatalf("restart: %v", err)
	}
	leaderOf(t, servers)
	// 150 writes went by while it was down, and with snapCount=20 the
	// leader's log no longer reaches back to where it stopped: a SNAP.
	if b, err := os.ReadFile(filepath.Join(leader.Dir(), "server.log")); err != nil {
		t.Fatal(err)
	} else if !bytes.Contains(b, []byte("installed a snapshot from the leader")) {
		t.Fatalf("the restarted server did not sync with a snapshot (SNAP); its log:\n%s", b)
	}
	waitAcked(before + 200)
	close(stop)
	wg.Wait()
	t.Logf("longest gap between acknowledged writes through a follower: %v (%d writes)", maxGap.Round(time.Millisecond), acked)
	writeEverywhere(t, servers, "/c")
	sameTrees(t, servers)
}

// logFailoverGap reports (without asserting on wall-clock time) how long
// the ensemble went without a successful write around the leader's kill:
// the gap between the last write acknowledged before the kill and the
// first one after it, and the longest gap in the 5s that follow.
func logFailoverGap(t *testing.T, mu *sync.Mutex, acks []time.Time, killed time.Time) {
	t.Helper()
	mu.Lock()
	acks = slices.Clone(acks)
	mu.Unlock()
	var gap, worst time.Duration
	for i := 1; i < len(acks); i++ {
		d := acks[i].Sub(acks[i-1])
		if !acks[i-1].After(killed) && acks[i].After(killed) {
			gap = d
		}
		if acks[i].After(killed) && acks[i-1].Before(killed.Add(5*time.Second)) {
			worst = max(worst, d)
		}
	}
	if !acks[len(acks)-1].After(killed) {
		t.Logf("no write acknowledged after the kill")
		return
	}
	t.Logf("FAILOVER: no successful write for %v across the leader's SIGKILL; longest gap in the 5s after it %v",
		gap.Round(time.Millisecond), worst.Round(time.Millisecond))
}

// TestEnsembleEphemeralExpiresEverywhere: a session held by a follower
// stays alive while its client talks only to that follower (the follower
// reports it to the leader); once the follower is killed, the leader
// expires it and its ephemeral node vanishes on every server.
func TestEnsembleEphemeralExpiresEverywhere(t *testing.T) {
	servers := harness.StartEnsemble(t, 3, ensembleCfg)
	leader := leaderOf(t, servers)
	var follower, other *harness.Server
	for _, s := range servers {
		switch {
		case s == leader:
		case follower == nil:
			follower = s
		default:
			other = s
		}
	}
	const timeout = 2 * time.Second
	owner := connectWith(t, follower.Addr(), timeout, net.DialTimeout)
	defer owner.Close()
	if _, err := owner.Create("/eph", []byte("e"), zk.FlagEphemeral, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	var watches []<-chan zk.Event
	for _, s := range []*harness.Server{leader, other} {
		c := connect(t, s.Addr())
		defer c.Close()
		if _, err := c.Sync("/"); err != nil {
			t.Fatal(err)
		}
		ok, st, ch, err := c.ExistsW("/eph")
		if err != nil || !ok || st.EphemeralOwner != owner.SessionID() {
			t.Fatalf("server %d: /eph exists=%v %+v %v", s.ID(), ok, st, err)
		}
		watches = append(watches, ch)
	}
	// Twice the session timeout with the client talking to the follower
	// only: the leader must not expire the session.
	select {
	case ev := <-watches[0]:
		t.Fatalf("the leader expired a live session: %+v", ev)
	case <-time.After(2 * timeout):
	}
	killed := time.Now()
	follower.Kill()
	for i, ch := range watches {
		select {
		case ev := <-ch:
			if ev.Type != zk.EventNodeDeleted || ev.Path != "/eph" {
				t.Fatalf("watch %d: %+v", i, ev)
			}
		case <-time.After(timeout + 20*time.Second):
			t.Fatalf("watch %d: /eph not deleted %v after the follower died", i, time.Since(killed))
		}
	}
	t.Logf("ephemeral deleted on the leader and the other follower %v after the follower died (session timeout %v)",
		time.Since(killed).Round(time.Millisecond), timeout)
	sameTrees(t, alive(servers))
}

// TestEnsembleFiveSurvivesTwoFollowers: a 5-server ensemble keeps serving
// with two followers killed.
func TestEnsembleFiveSurvivesTwoFollowers(t *testing.T) {
	servers := harness.StartEnsemble(t, 5, ensembleCfg)
	leader := leaderOf(t, servers)
	writeEverywhere(t, servers, "/before")
	killed := 0
	for _, s := range servers {
		if s != leader && killed < 2 {
			s.Kill()
			killed++
		}
	}
	if got := leaderOf(t, alive(servers)); got != leader {
		t.Logf("leader changed from server %d to %d", leader.ID(), got.ID())
	}
	writeEverywhere(t, alive(servers), "/after")
	sameTrees(t, alive(servers))

	// mntr and srvr tell the roles apart; the leader counts its followers
	// (the killed ones until syncLimit has passed).
	for _, s := range alive(servers) {
		var mntr string
		deadline := time.Now().Add(modeTimeout)
		for {
			var err error
			if mntr, err = s.FourLetter("mntr"); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(mntr, "zk_learners\t4") || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		srvr, err := s.FourLetter("srvr")
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"zk_server_state\tfollower\n", "zk_peer_state\tfollowing - broadcast\n", "zk_quorum_size\t5\n"}
		wantSrvr := "Mode: follower\n"
		if s.Mode() == "leader" {
			want = []string{"zk_server_state\tleader\n", "zk_peer_state\tleading - broadcast\n",
				"zk_learners\t2\n", "zk_synced_followers\t2\n"}
			wantSrvr = "Proposal sizes last/min/max: "
		}
		for _, w := range want {
			if !strings.Contains(mntr, w) {
				t.Errorf("server %d: mntr lacks %q:\n%s", s.ID(), w, mntr)
			}
		}
		if !strings.Contains(srvr, wantSrvr) {
			t.Errorf("server %d: srvr lacks %q:\n%s", s.ID(), wantSrvr, srvr)
		}
	}
}

// TestEnsembleFollowerCatchesUpFromLog: a follower is killed, the others go
// on writing, and it restarts. The leader's log still holds every txn it
// missed (no snapshot is due), so it is synced from the log (DIFF, per
// zab/sync.go) rather than with a snapshot; its tree ends equal.
func TestEnsembleFollowerCatchesUpFromLog(t *testing.T) {
	servers := harness.StartEnsemble(t, 3, ensembleCfg)
	leader := leaderOf(t, servers)
	var follower *harness.Server
	for _, s := range servers {
		if s != leader {
			follower = s
			break
		}
	}
	writeEverywhere(t, servers, "/before")
	follower.Kill()
	c := connect(t, leader.Addr())
	for i := 0; i < 200; i++ {
		if _, err := c.Create(fmt.Sprintf("/missed-%03d", i), []byte("x"), 0, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	if err := follower.Restart(); err != nil {
		t.Fatal(err)
	}
	if mode := follower.WaitMode(modeTimeout, "follower"); mode != "follower" {
		t.Fatalf("restarted server %d is %q, not a follower", follower.ID(), mode)
	}
	writeEverywhere(t, servers, "/after")
	sameTrees(t, servers)
}

// TestEnsembleTruncatesUncommitted: a leader logs a write that no follower
// acknowledges (one follower is dead, the other stopped) and dies; the
// followers come back, elect a new leader and write on. When the old
// leader returns, its uncommitted txn is truncated away (TRUNC): it exists
// nowhere, and every tree is equal.
func TestEnsembleTruncatesUncommitted(t *testing.T) {
	servers := harness.StartEnsemble(t, 3, ensembleCfg)
	old := leaderOf(t, servers)
	var followers []*harness.Server
	for _, s := range servers {
		if s != old {
			followers = append(followers, s)
		}
	}
	writeEverywhere(t, servers, "/before")

	// The leader still has a quorum on paper (the stopped follower has not
	// timed out yet) and proposes; nobody acknowledges.
	c := connect(t, old.Addr())
	if err := followers[1].Pause(); err != nil {
		t.Fatal(err)
	}
	followers[0].Kill()
	go c.Create("/uncommitted", bytes.Repeat([]byte("u"), 8000), 0, zk.WorldACL(zk.PermAll)) // never answered
	deadline := time.Now().Add(modeTimeout)
	for {
		if n, _ := strconv.Atoi(mntrValue(t, old, "zk_last_proposal_size")); n >= 8000 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the leader did not propose the write")
		}
		time.Sleep(5 * time.Millisecond)
	}
	old.Kill()
	c.Close()
	followers[1].Kill() // stopped: it never read the proposal

	// The followers form a quorum of their own in a new epoch.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, f := range followers {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = f.Restart() }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	newLeader := leaderOf(t, followers)
	c2 := connect(t, newLeader.Addr())
	for i := range 10 {
		if _, err := c2.Create(fmt.Sprintf("/new-epoch-%d", i), nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatal(err)
		}
	}
	c2.Close()

	if err := old.Restart(); err != nil {
		t.Fatal(err)
	}
	if mode := old.WaitMode(modeTimeout, "follower"); mode != "follower" {
		t.Fatalf("old leader is %q after restarting", mode)
	}
	sameTrees(t, servers)
	c3 := connect(t, old.Addr())
	defer c3.Close()
	if ok, _, err := c3.Exists("/uncommitted"); err != nil || ok {
		t.Fatalf("the uncommitted write exists (%v, %v)", ok, err)
	}
	logOf := func(s *harness.Server) string {
		b, err := os.ReadFile(filepath.Join(s.Dir(), "server.log"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if l := logOf(old); !strings.Contains(l, "truncated the transaction log") {
		t.Errorf("the old leader's log does not mention a truncation")
	}
	if l := logOf(newLeader); !strings.Contains(l, `"mode": "TRUNC"`) {
		t.Errorf("the new leader's log does not mention a TRUNC sync")
	}
}
