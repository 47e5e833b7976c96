package test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkgo/zkgo/test/harness"
)

// mntrValue returns the value of key in s's mntr output ("" if absent).
func mntrValue(t *testing.T, s *harness.Server, key string) string {
	t.Helper()
	out, err := s.FourLetter("mntr")
	if err != nil {
		t.Fatalf("mntr: %v", err)
	}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(line, "\t"); ok && k == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// waitMntr polls s's mntr until key has value want.
func waitMntr(t *testing.T, s *harness.Server, key, want string) {
	t.Helper()
	deadline := time.Now().Add(modeTimeout)
	for {
		got := mntrValue(t, s, key)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("mntr %s = %q, want %q", key, got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// An observer serves reads, forwards writes, fires watches for writes made
// elsewhere, follows a new leader after failover, catches up after a
// restart, and never counts toward a quorum: with one voter of three left
// it stops serving.
func TestEnsembleObserver(t *testing.T) {
	members := append(harness.NewMembers(t, 3), harness.NewMember(t, 4, true))
	servers := harness.StartMembers(t, members, members, ensembleCfg)
	voters, obs := servers[:3], servers[3]
	if m := obs.WaitMode(modeTimeout, "observer"); m != "observer" {
		t.Fatalf("observer mode %q", m)
	}
	if v := mntrValue(t, obs, "zk_server_state"); v != "observer" {
		t.Errorf("observer's zk_server_state %q", v)
	}
	// conf ends with the quorum part, as Apache's: peerType 1 and the
	// membership.
	if out, err := obs.FourLetter("conf"); err != nil || !strings.Contains(out, "peerType=1\nmembership: \nserver.1=") ||
		!strings.Contains(out, fmt.Sprintf("server.4=127.0.0.1:%d:%d:observer;127.0.0.1:%d\nversion=0", members[3].QuorumPort, members[3].ElectionPort, members[3].ClientPort)) {
		t.Errorf("observer's conf:\n%s (%v)", out, err)
	}
	leader := leaderOf(t, voters)
	waitMntr(t, leader, "zk_synced_observers", "1")
	waitMntr(t, leader, "zk_synced_followers", "2")
	if v := mntrValue(t, leader, "zk_learners"); v != "3" {
		t.Errorf("leader's zk_learners %q, want 3 (followers and the observer)", v)
	}

	oc, _, err := zk.Connect([]string{obs.Addr()}, 10*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	defer oc.Close()
	lc, _, err := zk.Connect([]string{leader.Addr()}, 10*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	defer lc.Close()

	// A write through the observer is forwarded, and read back there.
	if _, err := oc.Create("/obs", []byte("via observer"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatalf("create through the observer: %v", err)
	}
	if data, _, err := lc.Get("/obs"); err != nil || string(data) != "via observer" {
		t.Fatalf("leader reads %q, %v", data, err)
	}
	// A watch on the observer fires for a write made on the leader.
	_, _, ev, err := oc.GetW("/obs")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lc.Set("/obs", []byte("via leader"), -1); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-ev:
		if e.Type != zk.EventNodeDataChanged {
			t.Fatalf("observer's watch: %v", e)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the observer's watch did not fire")
	}
	if data, _, err := oc.Get("/obs"); err != nil || string(data) != "via leader" {
		t.Fatalf("observer reads %q, %v", data, err)
	}

	// Failover: the observer follows the new leader and keeps serving.
	leader.Kill()
	lc.Close()
	rest := alive(voters)
	newLeader := leaderOf(t, rest)
	obs.WaitMode(modeTimeout, "observer")
	for i := range 20 {
		if _, err := oc.Create(fmt.Sprintf("/after-%d", i), nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatalf("create %d through the observer after failover: %v", i, err)
		}
	}
	waitMntr(t, newLeader, "zk_synced_observers", "1")
	sameTrees(t, append(rest, obs))

	// A restarted observer catches up with what it missed.
	oc.Close()
	obs.Kill()
	nc, _, err := zk.Connect([]string{newLeader.Addr()}, 10*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	for i := range 20 {
		if _, err := nc.Create(fmt.Sprintf("/missed-%d", i), nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatalf("create %d while the observer is down: %v", i, err)
		}
	}
	if err := obs.Restart(); err != nil {
		t.Fatal(err)
	}
	obs.WaitMode(modeTimeout, "observer")
	sameTrees(t, append(rest, obs))

	// One voter and the observer are no quorum.
	for _, s := range rest {
		if s != newLeader {
			s.Kill()
		}
	}
	deadline := time.Now().Add(modeTimeout)
	for obs.Mode() != "" || newLeader.Mode() != "" {
		if time.Now().After(deadline) {
			t.Fatalf("with one voter of three left: observer %q, voter %q; want neither serving", obs.Mode(), newLeader.Mode())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
