package test

import (
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkgo/zkgo/test/harness"
)

// mntrOf returns one zk_ value of a server's mntr.
func mntrOf(t *testing.T, s *harness.Server, key string) string {
	t.Helper()
	out, err := s.FourLetter("mntr")
	if err != nil {
		t.Fatalf("mntr: %v", err)
	}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(line, "\t"); ok && k == "zk_"+key {
			return v
		}
	}
	t.Fatalf("mntr has no zk_%s:\n%s", key, out)
	return ""
}

// zxidOf returns the Zxid line of a server's srvr.
func zxidOf(t *testing.T, s *harness.Server) string {
	t.Helper()
	out, err := s.FourLetter("srvr")
	if err != nil {
		t.Fatalf("srvr: %v", err)
	}
	for _, line := range strings.Split(out, "\n") {
		if z, ok := strings.CutPrefix(line, "Zxid: "); ok {
			return z
		}
	}
	t.Fatalf("srvr has no Zxid:\n%s", out)
	return ""
}

// followerOf returns a follower of the ensemble.
func followerOf(t *testing.T, servers []*harness.Server) *harness.Server {
	t.Helper()
	leader := leaderOf(t, servers)
	for _, s := range servers {
		if s != leader {
			return s
		}
	}
	t.Fatal("no follower")
	return nil
}

// awaitMntr polls a mntr value until it is want.
func awaitMntr(t *testing.T, s *harness.Server, key, want string) {
	t.Helper()
	deadline := time.Now().Add(modeTimeout)
	for {
		got := mntrOf(t, s, key)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("mntr zk_%s = %s, want %s", key, got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestEnsembleLocalSessionUpgrades(t *testing.T) {
	servers := harness.StartEnsemble(t, 3, map[string]string{
		"localSessionsEnabled": "true", "localSessionsUpgradingEnabled": "true"})
	f := followerOf(t, servers)
	other := leaderOf(t, servers)
	zxid := zxidOf(t, f)
	c := connect(t, f.Addr())
	if _, _, err := c.Exists("/"); err != nil {
		t.Fatal(err)
	}
	// A local session: no createSession txn, known to its server only.
	if got := zxidOf(t, f); got != zxid {
		t.Fatalf("zxid went from %s to %s when a local session was created", zxid, got)
	}
	if got := mntrOf(t, f, "local_sessions"); got != "1" {
		t.Fatalf("zk_local_sessions %s on the session's server, want 1", got)
	}
	if got := mntrOf(t, other, "global_sessions"); got != "0" {
		t.Fatalf("zk_global_sessions %s on the leader, want 0", got)
	}
	// An ephemeral upgrades it to a global session first.
	if _, err := c.Create("/eph", nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatalf("ephemeral on a local session with upgrading enabled: %v", err)
	}
	awaitMntr(t, other, "global_sessions", "1")
	if got := mntrOf(t, f, "local_sessions"); got != "0" {
		t.Fatalf("zk_local_sessions %s after the upgrade, want 0", got)
	}
	watcher := connect(t, other.Addr())
	defer watcher.Close()
	ok, _, gone, err := watcher.ExistsW("/eph")
	if err != nil || !ok {
		t.Fatalf("the ephemeral is not on the other servers: %v %v", ok, err)
	}
	// Closing the session removes the ephemeral everywhere.
	c.Close()
	select {
	case ev := <-gone:
		if ev.Type != zk.EventNodeDeleted {
			t.Fatalf("event %v, want NodeDeleted", ev.Type)
		}
	case <-time.After(modeTimeout):
		t.Fatal("the ephemeral outlived its upgraded session")
	}
}

func TestEnsembleLocalSessionWithoutUpgrading(t *testing.T) {
	// Apache's default: localSessionsUpgradingEnabled=false.
	servers := harness.StartEnsemble(t, 3, map[string]string{"localSessionsEnabled": "true"})
	f := followerOf(t, servers)
	c := connect(t, f.Addr())
	defer c.Close()
	if _, err := c.Create("/p", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatalf("persistent node from a local session: %v", err)
	}
	_, err := c.Create("/eph", nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll))
	if err == nil || !strings.Contains(err.Error(), "-120") {
		t.Fatalf("ephemeral on a local session without upgrading: %v, want EphemeralOnLocalSession (-120)", err)
	}
	if ok, _, err := c.Exists("/eph"); err != nil || ok {
		t.Fatalf("the refused ephemeral exists: %v %v", ok, err)
	}
	if got := mntrOf(t, f, "local_sessions"); got != "1" {
		t.Fatalf("zk_local_sessions %s, want 1", got)
	}
}
