package test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkgo/zkgo/test/harness"
	"github.com/zkgo/zkgo/test/netproxy"
)

// inOrder is a go-zookeeper HostProvider that tries its servers in its
// own order (zk.Connect shuffles the list it hands Init), so that a test
// decides where a client moves.
type inOrder struct {
	mu      sync.Mutex
	servers []string
	next    int
}

func (h *inOrder) Init([]string) error { return nil }
func (h *inOrder) Len() int            { return len(h.servers) }
func (h *inOrder) Connected()          {}
func (h *inOrder) Next() (string, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.servers[h.next%len(h.servers)]
	h.next++
	return s, h.next%len(h.servers) == 0
}

// connectInOrder connects a go-zookeeper client that tries servers in
// order, and waits for its session.
func connectInOrder(t *testing.T, servers ...string) (*zk.Conn, <-chan zk.Event) {
	t.Helper()
	c, events, err := zk.Connect(servers, 10*time.Second, zk.WithLogInfo(false), zk.WithHostProvider(&inOrder{servers: servers}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	for {
		select {
		case ev := <-events:
			if ev.State == zk.StateHasSession {
				return c, events
			}
		case <-time.After(modeTimeout):
			t.Fatalf("no session on %v", servers)
		}
	}
}

// treeDump is every znode of the tree c's server holds but /zookeeper's
// (the servers' own configuration differs), with data and Stat.
func treeDump(t *testing.T, c *zk.Conn) string {
	t.Helper()
	var b strings.Builder
	err := harness.WalkTree(c, func(p string, data []byte, st *zk.Stat) {
		if p == "/zookeeper" || strings.HasPrefix(p, "/zookeeper/") {
			return
		}
		fmt.Fprintf(&b, "%s %q %+v\n", p, data, *st)
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// sameTree fails the test unless the trees a and b's servers hold are
// equal, once both have synced.
func sameTree(t *testing.T, aName string, a *zk.Conn, bName string, b *zk.Conn) {
	t.Helper()
	ta, tb := treeDump(t, a), treeDump(t, b)
	if ta != tb {
		t.Fatalf("trees differ:\n%s", harness.UnifiedDiff(aName, ta, bName, tb))
	}
}

// TestApacheObserver runs our server as an observer of a real Apache
// ZooKeeper 3.8 ensemble (quorumProtocol=apache): it syncs the tree the
// ensemble had before it joined, follows live writes, fires watches for
// writes made through Apache, forwards writes, sync and sessions, and a
// client moves between an Apache server and ours keeping its session and
// its ephemerals.
func TestApacheObserver(t *testing.T) {
	members := append(harness.NewMembers(t, 3), harness.NewMember(t, 4, true))
	apaches := harness.StartApacheMembers(t, members[:3], members, nil)
	ac, _ := connectInOrder(t, apaches[0].Addr())
	acl := zk.WorldACL(zk.PermAll)
	for _, p := range []string{"/before", "/before/a", "/before/b"} {
		if _, err := ac.Create(p, []byte("data of "+p), 0, acl); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		if _, err := ac.Create("/before/seq-", nil, zk.FlagSequence, acl); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ac.Create("/before/eph", nil, zk.FlagEphemeral, acl); err != nil {
		t.Fatal(err)
	}
	if _, err := ac.Set("/before/a", []byte("changed"), 0); err != nil {
		t.Fatal(err)
	}
	if err := ac.Delete("/before/b", 0); err != nil {
		t.Fatal(err)
	}

	ours := harness.StartMembers(t, members[3:], members, map[string]string{"quorumProtocol": "apache"})[0]
	if out, err := ours.FourLetter("srvr"); err != nil || !strings.Contains(out, "Mode: observer") {
		t.Errorf("srvr of ours:\n%s (%v)", out, err)
	}
	oc, ocEvents := connectInOrder(t, ours.Addr())
	sameTree(t, "apache", ac, "ours", oc)

	// A watch set on ours fires for a write made through Apache.
	_, _, watch, err := oc.ExistsW("/live")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ac.Create("/live", []byte("x"), 0, acl); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-watch:
		if ev.Type != zk.EventNodeCreated || ev.Path != "/live" {
			t.Errorf("watch event %+v", ev)
		}
	case <-time.After(modeTimeout):
		t.Fatal("the watch on ours did not fire for a create through Apache")
	}

	// Writes through ours: the Apache leader carries them out.
	if _, err := oc.Create("/viaours", []byte("o"), 0, acl); err != nil {
		t.Fatal(err)
	}
	seq, err := oc.Create("/before/seq-", nil, zk.FlagSequence, acl)
	if err != nil {
		t.Fatal(err)
	}
	if seq != "/before/seq-0000000006" {
		t.Errorf("sequential create through ours: %s, want the counter of the parent to go on (6)", seq)
	}
	if st, err := oc.Set("/viaours", []byte("o2"), 0); err != nil || st.Version != 1 {
		t.Errorf("setData through ours: %+v %v", st, err)
	}
	if _, err := oc.Create("/viaours", nil, 0, acl); !errors.Is(err, zk.ErrNodeExists) {
		t.Errorf("a create of an existing node through ours: %v", err)
	}
	ops := []any{&zk.CreateRequest{Path: "/multi", Data: []byte("m"), Acl: acl}, &zk.SetDataRequest{Path: "/multi", Data: []byte("m2"), Version: 0}}
	if res, err := oc.Multi(ops...); err != nil || len(res) != 2 || res[0].String != "/multi" {
		t.Errorf("multi through ours: %+v %v", res, err)
	}
	ephOurs, err := oc.Create("/eph-ours-", nil, zk.FlagEphemeral|zk.FlagSequence, acl)
	if err != nil {
		t.Fatal(err)
	}
	sameTree(t, "apache", ac, "ours", oc)

	// A client moves from Apache to ours and back, keeping its session
	// and its ephemeral.
	proxy, err := netproxy.Listen("127.0.0.1:0", apaches[1].Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	mc, mevents := connectInOrder(t, proxy.Addr(), ours.Addr())
	if _, err := mc.Create("/moving", nil, zk.FlagEphemeral, acl); err != nil {
		t.Fatal(err)
	}
	session := mc.SessionID()
	proxy.Set(netproxy.Reject, 0)
	awaitState(t, mevents, zk.StateHasSession)
	if mc.SessionID() != session {
		t.Fatalf("the client got session 0x%x on ours, not its own 0x%x", mc.SessionID(), session)
	}
	if ok, _, err := mc.Exists("/moving"); err != nil || !ok {
		t.Errorf("the moved client's ephemeral on ours: %v %v", ok, err)
	}
	if _, err := mc.Create("/moved", nil, 0, acl); err != nil {
		t.Errorf("a write of the moved client through ours: %v", err)
	}
	sameTree(t, "apache", ac, "ours", oc)

	// Ours restarts from its own data directory: the leader syncs it by
	// DIFF with what was written meanwhile.
	ours.Stop()
	for i := range 5 {
		if _, err := ac.Create(fmt.Sprintf("/while-down-%d", i), nil, 0, acl); err != nil {
			t.Fatal(err)
		}
	}
	if err := ours.Restart(); err != nil {
		t.Fatal(err)
	}
	if log := ours.Log(); !strings.Contains(log, "synced by diff") {
		t.Errorf("ours did not sync by DIFF after its restart")
	}
	// ours' client re-attaches its session (the Apache leader
	// re-validates it).
	awaitState(t, ocEvents, zk.StateHasSession)
	sameTree(t, "apache", ac, "ours", oc)

	// The Apache leader stops: ours finds the new one through the
	// election port, syncs and serves again, its clients keep their
	// sessions.
	leader := leaderOf(t, apaches)
	leader.Stop()
	var rest []*harness.Server
	for _, a := range apaches {
		if a != leader {
			rest = append(rest, a)
		}
	}
	newLeader := leaderOf(t, rest)
	t.Logf("the Apache leader %d stopped; %d leads now", leader.ID(), newLeader.ID())
	nc, _ := connectInOrder(t, rest[0].Addr())
	createRetrying(t, oc, "/after-failover")
	sameTree(t, "apache", nc, "ours", oc)
	ac = nc

	// Ours' client closes its session: its ephemeral goes everywhere.
	oc.Close()
	deadline := time.Now().Add(modeTimeout)
	for {
		ok, _, err := ac.Exists(ephOurs)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s outlived the session that closed through ours", ephOurs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// createRetrying creates path (a persistent node) through c, retrying
// while c's connection is lost (its server lost its leader and closed
// it): the create either failed or made the node.
func createRetrying(t *testing.T, c *zk.Conn, path string) {
	t.Helper()
	deadline := time.Now().Add(modeTimeout)
	for {
		_, err := c.Create(path, nil, 0, zk.WorldACL(zk.PermAll))
		switch {
		case err == nil, errors.Is(err, zk.ErrNodeExists):
			return
		case !errors.Is(err, zk.ErrConnectionClosed) || time.Now().After(deadline):
			t.Fatalf("create %s: %v", path, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// awaitState waits for a go-zookeeper session event of state s.
func awaitState(t *testing.T, events <-chan zk.Event, s zk.State) {
	t.Helper()
	timeout := time.After(modeTimeout)
	for {
		select {
		case ev := <-events:
			if ev.State == s {
				return
			}
		case <-timeout:
			t.Fatalf("no %v event", s)
		}
	}
}

// TestApacheCutover is the migration with a short outage that the
// observers' data directories allow: three of ours observe an Apache
// ensemble and serve clients; the clients move to ours; ours and then
// the Apache servers stop; ours restart with a zoo.cfg that lists only
// them, as participants, and form an ensemble of ours from their own
// logs (Apache's txns, logged as they came). Every znode and Stat, the
// sequence counters and the sessions (with their ephemerals) carry over.
func TestApacheCutover(t *testing.T) {
	members := harness.NewMembers(t, 3)
	for id := 4; id <= 6; id++ {
		members = append(members, harness.NewMember(t, id, true))
	}
	apaches := harness.StartApacheMembers(t, members[:3], members, nil)
	ours := harness.StartMembers(t, members[3:], members, map[string]string{"quorumProtocol": "apache"})
	acl := zk.WorldACL(zk.PermAll)
	ac, _ := connectInOrder(t, apaches[0].Addr())
	for i := range 20 {
		if _, err := ac.Create(fmt.Sprintf("/app-%02d", i), []byte("through apache"), 0, acl); err != nil {
			t.Fatal(err)
		}
	}
	// A client of ours with an ephemeral node; it lives through the
	// cut-over, reconnecting to ours.
	var addrs []string
	for _, s := range ours {
		addrs = append(addrs, s.Addr())
	}
	oc, ocEvents := connectInOrder(t, addrs...)
	if _, err := oc.Create("/queue", nil, 0, acl); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := oc.Create("/queue/item-", nil, zk.FlagSequence, acl); err != nil {
			t.Fatal(err)
		}
	}
	eph, err := oc.Create("/lock-", nil, zk.FlagEphemeral|zk.FlagSequence, acl)
	if err != nil {
		t.Fatal(err)
	}
	sameTree(t, "apache", ac, "ours", oc)
	before := treeDump(t, oc)

	ac.Close()
	for _, s := range ours {
		s.Stop()
	}
	for _, s := range apaches {
		s.Stop()
	}
	for _, s := range ours {
		path := filepath.Join(s.Dir(), "zoo.cfg")
		if err := os.WriteFile(path, []byte(cutoverConfig(s.ConfigFile())), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range ours {
		if err := s.Relaunch(); err != nil {
			t.Fatal(err)
		}
	}
	leaderOf(t, ours)
	awaitState(t, ocEvents, zk.StateHasSession)
	if after := treeDump(t, oc); after != before {
		t.Fatalf("the tree changed in the cut-over:\n%s", harness.UnifiedDiff("before", before, "after", after))
	}
	if ok, _, err := oc.Exists(eph); err != nil || !ok {
		t.Errorf("the ephemeral %s of a session that lived through the cut-over: %v %v", eph, ok, err)
	}
	item, err := oc.Create("/queue/item-", nil, zk.FlagSequence, acl)
	if err != nil || item != "/queue/item-0000000003" {
		t.Errorf("a sequential create after the cut-over: %q %v, want the counter to go on at 3", item, err)
	}
}

// cutoverConfig turns the zoo.cfg of one of our observers of an Apache
// ensemble into one of an ensemble of ours: the Apache servers' lines,
// peerType and quorumProtocol go, our servers become participants.
func cutoverConfig(cfg string) string {
	var b strings.Builder
	for _, line := range strings.Split(cfg, "\n") {
		key, value, _ := strings.Cut(line, "=")
		switch {
		case key == "peerType", key == "quorumProtocol":
			continue
		case strings.HasPrefix(key, "server."):
			if !strings.Contains(value, ":observer") {
				continue // an Apache participant
			}
			line = key + "=" + strings.Replace(value, ":observer", ":participant", 1)
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}
