package server

import (
	"strings"
	"testing"
	"time"

	"github.com/zkgo/zkgo/conf"
	"github.com/zkgo/zkgo/wire"
	"github.com/zkgo/zkgo/znode"
)

// startInProcessEnsemble runs n servers as one ensemble in this process
// (ids 1..n) and waits until each serves clients.
func startInProcessEnsemble(t *testing.T, n int, edit func(*conf.Config)) []*Server {
	t.Helper()
	var peers []conf.Server
	for i := 1; i <= n; i++ {
		peers = append(peers, conf.Server{ID: int64(i), Host: "127.0.0.1",
			QuorumPort: freePort(t), ElectionPort: freePort(t)})
	}
	servers := make([]*Server, n)
	for i := range servers {
		cfg := conf.Default()
		cfg.DataDir = t.TempDir()
		cfg.DataLogDir = cfg.DataDir
		cfg.TickTime = 100
		cfg.InitLimit, cfg.SyncLimit = 20, 10
		cfg.MinSessionTimeout = 200
		cfg.MaxSessionTimeout = 20000
		cfg.FourLetterWords = []string{"*"}
		cfg.Servers = peers
		cfg.MyID = int64(i + 1)
		if edit != nil {
			edit(cfg)
		}
		servers[i] = startServerWith(t, cfg)
	}
	for _, s := range servers {
		waitFor(t, "server serves clients", func() bool { return s.serving.Load() })
	}
	return servers
}

// waitFor polls cond until it holds, failing the test after waitLimit.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// follower returns a server of the ensemble that is not the leader.
func follower(t testing.TB, servers []*Server) *Server {
	t.Helper()
	for _, s := range servers {
		if !s.quorum.leading() {
			return s
		}
	}
	t.Fatal("no follower")
	return nil
}

// mntrValue returns one zk_ value of s's mntr.
func mntrValue(t testing.TB, s *Server, key string) string {
	t.Helper()
	for _, line := range strings.Split(fourLetter(t, s.Addr().String(), "mntr"), "\n") {
		if k, v, ok := strings.Cut(line, "\t"); ok && k == "zk_"+key {
			return v
		}
	}
	t.Fatalf("mntr has no zk_%s", key)
	return ""
}

// sameZxid waits until every server has applied up to zxid want.
func sameZxid(t testing.TB, servers []*Server, want int64) {
	t.Helper()
	waitFor(t, "every server at the same zxid", func() bool {
		for _, s := range servers {
			if s.tree.LastZxid() != want {
				return false
			}
		}
		return true
	})
}

func TestLocalSessionsStandaloneAreGlobal(t *testing.T) {
	// Apache's standalone server ignores localSessionsEnabled: its session
	// tracker has no local sessions, every session costs a txn.
	s := startServer(t, func(c *conf.Config) { c.LocalSessionsEnabled = true })
	before := s.tree.LastZxid()
	c := newRaw(t, s)
	if got := s.tree.LastZxid(); got != before+1 {
		t.Fatalf("zxid after connect %#x, want %#x (a createSession txn)", got, before+1)
	}
	if _, ok := s.tree.Session(c.resp.SessionID); !ok {
		t.Fatal("the session is not in the tree")
	}
	c.expect(wire.ErrOK, wire.OpCreate, create("/e", "", wire.FlagEphemeral), &wire.PathRequest{})
	if got := mntrValue(t, s, "local_sessions"); got != "0" {
		t.Fatalf("local_sessions %s, want 0", got)
	}
}

func TestLocalSessionUpgradesOnEphemeral(t *testing.T) {
	servers := startInProcessEnsemble(t, 3, func(c *conf.Config) {
		c.LocalSessionsEnabled = true
		c.LocalSessionsUpgradingEnabled = true
	})
	f := follower(t, servers)
	before := f.tree.LastZxid()
	c := newRaw(t, f)
	id := c.resp.SessionID
	if id>>56 != f.cfg.MyID {
		t.Fatalf("session id %#x does not carry server id %d in its top byte", id, f.cfg.MyID)
	}
	// No createSession txn: the zxid stays, no server knows the session.
	c.expect(wire.ErrOK, wire.OpExists, &wire.PathWatchRequest{Path: "/"}, &wire.StatResponse{})
	for _, s := range servers {
		if got := s.tree.LastZxid(); got != before {
			t.Fatalf("server %d: zxid %#x after a local session was created, want %#x", s.cfg.MyID, got, before)
		}
		if _, ok := s.tree.Session(id); ok {
			t.Fatalf("server %d has the local session in its tree", s.cfg.MyID)
		}
	}
	if got := mntrValue(t, f, "local_sessions"); got != "1" {
		t.Fatalf("local_sessions %s, want 1", got)
	}
	// A local session may write persistent nodes.
	first := c.expect(wire.ErrOK, wire.OpCreate, create("/p", "x", wire.FlagPersistent), &wire.PathRequest{}).Zxid
	// An ephemeral upgrades it: createSession, then the create.
	h := c.expect(wire.ErrOK, wire.OpCreate, create("/p/e", "", wire.FlagEphemeral), &wire.PathRequest{})
	if h.Zxid != first+2 {
		t.Fatalf("ephemeral create zxid %#x, want %#x (after the upgrade's createSession)", h.Zxid, first+2)
	}
	sameZxid(t, servers, h.Zxid)
	for _, s := range servers {
		if _, ok := s.tree.Session(id); !ok {
			t.Fatalf("server %d does not know the upgraded session", s.cfg.MyID)
		}
		if _, err := s.tree.Read(wire.OpExists, &wire.PathWatchRequest{Path: "/p/e"}, znode.Caller{}); err != wire.ErrOK {
			t.Fatalf("server %d: ephemeral missing: %v", s.cfg.MyID, err)
		}
	}
	if got := mntrValue(t, f, "local_sessions"); got != "0" {
		t.Fatalf("local_sessions %s after the upgrade, want 0", got)
	}
	// Closing the now global session is a txn that removes the ephemeral.
	h = c.expect(wire.ErrOK, wire.OpCloseSession, nil, nil)
	sameZxid(t, servers, h.Zxid)
	for _, s := range servers {
		if _, err := s.tree.Read(wire.OpExists, &wire.PathWatchRequest{Path: "/p/e"}, znode.Caller{}); err != wire.ErrNoNode {
			t.Fatalf("server %d: the ephemeral outlived its session: %v", s.cfg.MyID, err)
		}
	}
}

func TestLocalSessionEphemeralWithoutUpgrading(t *testing.T) {
	servers := startInProcessEnsemble(t, 3, func(c *conf.Config) {
		c.LocalSessionsEnabled = true
		c.LocalSessionsUpgradingEnabled = false
	})
	for _, s := range []*Server{follower(t, servers), leaderOf(t, servers)} {
		before := s.tree.LastZxid()
		c := newRaw(t, s)
		c.expect(wire.ErrEphemeralOnLocalSession, wire.OpCreate, create("/e", "", wire.FlagEphemeral), nil)
		c.expect(wire.ErrEphemeralOnLocalSession, wire.OpCreate2, create("/e", "", wire.FlagEphemeralSequential), nil)
		var mr wire.MultiResponse
		c.expect(wire.ErrOK, wire.OpMulti, &wire.MultiRequest{Ops: []wire.Op{
			{Type: wire.OpCreate, Body: create("/a", "", wire.FlagPersistent)},
			{Type: wire.OpCreate, Body: create("/b", "", wire.FlagEphemeral)},
			{Type: wire.OpCreate, Body: create("/c", "", wire.FlagPersistent)},
		}}, &mr)
		var codes []wire.ErrCode
		for _, r := range mr.Results {
			codes = append(codes, r.Err)
		}
		want := []wire.ErrCode{wire.ErrOK, wire.ErrEphemeralOnLocalSession, wire.ErrRuntimeInconsistency}
		if len(codes) != 3 || codes[0] != want[0] || codes[1] != want[1] || codes[2] != want[2] {
			t.Fatalf("multi results %v, want %v", codes, want)
		}
		// Closing a local session costs no txn either.
		h := c.expect(wire.ErrOK, wire.OpCloseSession, nil, nil)
		c.waitClosed()
		if h.Zxid != before || s.tree.LastZxid() != before {
			t.Fatalf("server %d: zxid moved from %#x to %#x without a write", s.cfg.MyID, before, s.tree.LastZxid())
		}
	}
}

func TestLocalSessionReconnect(t *testing.T) {
	servers := startInProcessEnsemble(t, 3, func(c *conf.Config) { c.LocalSessionsEnabled = true })
	f := follower(t, servers)
	c := newRaw(t, f)
	id, passwd := c.resp.SessionID, c.resp.Passwd
	c.nc.Close()
	// The same server resumes it.
	c2, err := dialRaw(t, f.Addr().String(), wire.ConnectRequest{SessionID: id, Passwd: passwd})
	if err != nil || c2.resp.SessionID != id {
		t.Fatalf("resuming a local session on its server: %v, session %#x", err, c2.resp.SessionID)
	}
	// Another server does not know it: expired.
	other := leaderOf(t, servers)
	c3, err := dialRaw(t, other.Addr().String(), wire.ConnectRequest{SessionID: id, Passwd: passwd})
	if err != nil {
		t.Fatal(err)
	}
	if c3.resp.TimeOut != 0 || c3.resp.SessionID != 0 {
		t.Fatalf("another server resumed a local session: %+v", c3.resp)
	}
}

// leaderOf returns the ensemble's leader.
func leaderOf(t testing.TB, servers []*Server) *Server {
	t.Helper()
	for _, s := range servers {
		if s.quorum.leading() {
			return s
		}
	}
	t.Fatal("no leader")
	return nil
}

func TestLocalSessionExpiresWithoutTxn(t *testing.T) {
	servers := startInProcessEnsemble(t, 3, func(c *conf.Config) { c.LocalSessionsEnabled = true })
	f := follower(t, servers)
	before := f.tree.LastZxid()
	c, err := dialRaw(t, f.Addr().String(), wire.ConnectRequest{TimeOut: 200})
	if err != nil {
		t.Fatal(err)
	}
	id := c.resp.SessionID
	if !f.sessions.isLocal(id) {
		t.Fatal("the new session is not local")
	}
	c.waitClosed() // no pings: the server expires the session and closes
	waitFor(t, "the local session is forgotten", func() bool { return f.sessions.countLocal() == 0 })
	if got := f.tree.LastZxid(); got != before {
		t.Fatalf("zxid %#x after a local session expired, want %#x", got, before)
	}
}
