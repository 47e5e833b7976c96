package test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkgo/zkgo/test/harness"
	"github.com/zkgo/zkgo/test/netproxy"
	"github.com/zkgo/zkgo/zab/apache"
)

// inOrder is a go-zookeeper HostProvider that tries its servers in its
// own order (zk.Connect shuffles the list it hands Init), so that a test
// decides where a client moves. As go-zookeeper's own provider, it tells
// the client to back off (retryStart) only after a whole round failed
// since the last server it connected to.
type inOrder struct {
	mu         sync.Mutex
	servers    []string
	curr, last int
}

func newInOrder(servers []string) *inOrder { return &inOrder{servers: servers, curr: -1, last: -1} }

func (h *inOrder) Init([]string) error { return nil }
func (h *inOrder) Len() int            { return len(h.servers) }
func (h *inOrder) Connected() {
	h.mu.Lock()
	h.last = h.curr
	h.mu.Unlock()
}
func (h *inOrder) Next() (string, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.curr = (h.curr + 1) % len(h.servers)
	return h.servers[h.curr], h.curr == h.last
}

// connectInOrder connects a go-zookeeper client that tries servers in
// order, and waits for its session. The session events it returns come
// from the client's event callback into a channel of sessionEventBuffer:
// the client's own event channel holds six and drops the rest while nobody
// reads it, as during an outage with a reconnection attempt every second.
func connectInOrder(t *testing.T, servers ...string) (*zk.Conn, <-chan zk.Event) {
	t.Helper()
	events := make(chan zk.Event, sessionEventBuffer)
	record := func(ev zk.Event) {
		select {
		case events <- ev:
		default:
			t.Errorf("more than %d session events unread: %v dropped", sessionEventBuffer, ev)
		}
	}
	c, _, err := zk.Connect(servers, 10*time.Second, zk.WithLogInfo(false),
		zk.WithHostProvider(newInOrder(servers)), zk.WithEventCallback(record))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	awaitState(t, events, zk.StateHasSession)
	return c, events
}

// sessionEventBuffer is how many session events connectInOrder keeps
// unread: a few per reconnection attempt, so minutes of outage.
const sessionEventBuffer = 1024

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

	// Apache's election answers zab/apache's notification with the votes
	// of its leader.
	var voters []apache.Voter
	for _, m := range members[:3] {
		voters = append(voters, apache.Voter{ID: int64(m.ID), ElectionAddr: fmt.Sprintf("127.0.0.1:%d", m.ElectionPort)})
	}
	ctx, cancel := context.WithTimeout(context.Background(), modeTimeout)
	vote, err := apache.FindLeader(ctx, 4, fmt.Sprintf("127.0.0.1:%d", members[3].ElectionPort), 0, voters)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	if leader := leaderOf(t, apaches); vote.Leader != int64(leader.ID()) || vote.PeerEpoch != 1 {
		t.Errorf("FindLeader: %+v; the leader is %d", vote, leader.ID())
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
	// A failing multi answers through ours as through Apache.
	failing := []any{&zk.CreateRequest{Path: "/mfail", Acl: acl}, &zk.SetDataRequest{Path: "/viaours", Version: 99}, &zk.DeleteRequest{Path: "/multi", Version: -1}}
	resA, errA := ac.Multi(failing...)
	resO, errO := oc.Multi(failing...)
	if fmt.Sprint(resA, errA) != fmt.Sprint(resO, errO) || errA == nil {
		t.Errorf("a failing multi: through Apache %v %v, through ours %v %v", resA, errA, resO, errO)
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

	// Ours is killed, and killed again as it registers with the leader
	// (during or just after its sync); it restarts from its own data
	// directory, and the leader syncs it by DIFF with what was written
	// meanwhile.
	ours.Kill()
	for i := range 50 {
		if _, err := ac.Create(fmt.Sprintf("/while-down-%d", i), nil, 0, acl); err != nil {
			t.Fatal(err)
		}
	}
	if err := ours.Relaunch(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(modeTimeout); strings.Count(ours.Log(), "registered with the Apache leader") < 2; {
		if time.Now().After(deadline) {
			t.Fatal("ours did not register with the leader after its restart")
		}
		time.Sleep(time.Millisecond)
	}
	ours.Kill()
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

// loadWriter writes persistent sequential nodes under prefix through a
// go-zookeeper client, one after the other, retrying through connection
// losses, and records what was acknowledged and the longest time between
// two acknowledgements.
type loadWriter struct {
	name   string
	c      *zk.Conn
	prefix string

	mu     sync.Mutex
	acked  []string
	last   time.Time
	maxGap time.Duration
	gapEnd time.Time
	err    error
	paused bool
	pauses []string // those over longPause, for the log
}

// longPause is the pause between two acknowledged writes that the
// takeover test lists.
const longPause = 250 * time.Millisecond

// run writes until stop closes; while w.paused it does not write.
func (w *loadWriter) run(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	acl := zk.WorldACL(zk.PermAll)
	for {
		select {
		case <-stop:
			return
		default:
		}
		w.mu.Lock()
		paused := w.paused
		w.mu.Unlock()
		if paused {
			time.Sleep(5 * time.Millisecond)
			continue
		}
		p, err := w.c.Create(w.prefix+"/n-", nil, zk.FlagSequence, acl)
		if err != nil {
			if errors.Is(err, zk.ErrConnectionClosed) || errors.Is(err, zk.ErrNoServer) {
				time.Sleep(5 * time.Millisecond)
				continue
			}
			w.mu.Lock()
			w.err = err
			w.mu.Unlock()
			return
		}
		w.ack(p, time.Now())
	}
}

// ack records an acknowledged create at t.
func (w *loadWriter) ack(path string, t time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.last.IsZero() && t.Sub(w.last) > w.maxGap {
		w.maxGap, w.gapEnd = t.Sub(w.last), t
	}
	if !w.last.IsZero() && t.Sub(w.last) > longPause {
		w.pauses = append(w.pauses, fmt.Sprintf("%v ending %s", t.Sub(w.last).Round(time.Millisecond), t.Format("15:04:05.000")))
	}
	w.last = t
	w.acked = append(w.acked, path)
}

// setPaused pauses or resumes the writer; a pause is no gap.
func (w *loadWriter) setPaused(p bool) {
	w.mu.Lock()
	w.paused = p
	w.last = time.Time{}
	w.mu.Unlock()
}

func (w *loadWriter) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.acked)
}

// kazooWriter runs test/clients/kazoo_writer.py: the same load through
// kazoo, in its own process.
type kazooWriter struct {
	loadWriter
	*clientProc // its lines are what the script printed besides acks
}

func startKazooWriter(t *testing.T, hosts, prefix string) *kazooWriter {
	t.Helper()
	requireClient(t, debianPython, "python3")
	k := &kazooWriter{loadWriter: loadWriter{name: "kazoo " + prefix, prefix: prefix}}
	k.clientProc = startClient(t, exec.Command(debianPython, "clients/kazoo_writer.py", hosts, prefix),
		func(line string) bool {
			p, ok := strings.CutPrefix(line, "ack ")
			if ok {
				k.ack(p, time.Now())
			}
			return ok
		})
	k.await(t, "ready")
	return k
}

// waitAcks polls until every writer has at least n more acknowledged
// writes than it had when called.
func waitAcks(t *testing.T, n int, ws ...*loadWriter) {
	t.Helper()
	start := make([]int, len(ws))
	for i, w := range ws {
		start[i] = w.count()
	}
	deadline := time.Now().Add(modeTimeout)
	for i := 0; i < len(ws); {
		if ws[i].count() >= start[i]+n {
			i++
			continue
		}
		ws[i].mu.Lock()
		err := ws[i].err
		ws[i].mu.Unlock()
		if err != nil {
			t.Fatalf("%s: %v", ws[i].name, err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d writes acknowledged, want %d", ws[i].name, ws[i].count(), start[i]+n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestApacheTakeover is issue 20's acceptance test. An Apache 3.8
// ensemble (three participants and an Apache observer) has three
// observers of ours. kazoo and go-zookeeper clients write through an
// Apache server and through ours for the whole run. `zkserver takeover`
// refuses while Apache servers have clients; the clients on Apache move
// to ours (keeping their sessions); ours' tree equals the Apache
// observer's; the takeover then makes ours an ensemble of their own,
// and the Apache servers stop. No acknowledged write is lost, the
// ephemerals of the live sessions are kept, the sequence counters go on,
// and the longest pause of a writer on ours is logged.
func TestApacheTakeover(t *testing.T) {
	members := harness.NewMembers(t, 3)
	for id := 4; id <= 6; id++ {
		members = append(members, harness.NewMember(t, id, true))
	}
	members = append(members, harness.NewMember(t, 7, true)) // an Apache observer
	apaches := harness.StartApacheMembers(t, members[:3], members, nil)
	apaches = append(apaches, harness.StartApacheMembers(t, members[6:], members, nil)...)
	ours := harness.StartMembers(t, members[3:6], members, map[string]string{"quorumProtocol": "apache"})
	var oursAddrs []string
	for _, s := range ours {
		oursAddrs = append(oursAddrs, s.Addr())
	}
	bin := harness.BuildOurs(t)

	// Writers: go-zookeeper and kazoo, on ours and on Apache (through
	// proxies, which later cut them off so that they move to ours).
	var proxies []*netproxy.Proxy
	viaApache := func(a *harness.Server) []string {
		p, err := netproxy.Listen("127.0.0.1:0", a.Addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		proxies = append(proxies, p)
		return append([]string{p.Addr()}, oursAddrs...)
	}
	acl := zk.WorldACL(zk.PermAll)
	newGoWriter := func(prefix string, servers []string) (*loadWriter, *zk.Conn) {
		c, _ := connectInOrder(t, servers...)
		if _, err := c.Create(prefix, nil, 0, acl); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Create(prefix+"-eph", nil, zk.FlagEphemeral, acl); err != nil {
			t.Fatal(err)
		}
		return &loadWriter{name: "go-zookeeper " + prefix, c: c, prefix: prefix}, c
	}
	gzOurs, gzOursConn := newGoWriter("/gz-ours", oursAddrs)
	gzApache, gzApacheConn := newGoWriter("/gz-apache", viaApache(apaches[1]))
	gzSessions := map[*zk.Conn]int64{gzOursConn: gzOursConn.SessionID(), gzApacheConn: gzApacheConn.SessionID()}
	kzOurs := startKazooWriter(t, strings.Join(oursAddrs, ","), "/kz-ours")
	kzApache := startKazooWriter(t, strings.Join(viaApache(apaches[2]), ","), "/kz-apache")
	stop := make(chan struct{})
	var dones []chan struct{}
	for _, w := range []*loadWriter{gzOurs, gzApache} {
		done := make(chan struct{})
		dones = append(dones, done)
		go w.run(stop, done)
	}
	all := []*loadWriter{gzOurs, gzApache, &kzOurs.loadWriter, &kzApache.loadWriter}
	waitAcks(t, 50, all...)

	// Refused: Apache servers have clients.
	cfgPath := filepath.Join(ours[0].Dir(), "zoo.cfg")
	out, err := exec.Command(bin, "takeover", cfgPath).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "has 1 client connections") {
		t.Fatalf("takeover with clients on Apache: %v\n%s", err, out)
	}
	t.Logf("takeover refused, as it must be:\n%s", out)
	waitAcks(t, 20, all...)

	// The clients on Apache move to ours, with their sessions.
	t.Logf("the clients on Apache are cut off at %s", time.Now().Format("15:04:05.000"))
	for _, p := range proxies {
		p.Set(netproxy.Reject, 0)
	}
	waitAcks(t, 20, all...)

	// Ours' tree equals the Apache observer's, the go-zookeeper writers
	// paused (the kazoo writers write under their own prefixes, left out).
	gzOurs.setPaused(true)
	gzApache.setPaused(true)
	apacheObs, _ := connectInOrder(t, apaches[3].Addr())
	oursConn, _ := connectInOrder(t, ours[1].Addr())
	stable := func(c *zk.Conn) string {
		var b strings.Builder
		for _, line := range strings.Split(treeDump(t, c), "\n") {
			if !strings.HasPrefix(line, "/kz-") {
				b.WriteString(line + "\n")
			}
		}
		return b.String()
	}
	if a, o := stable(apacheObs), stable(oursConn); a != o {
		t.Fatalf("trees differ:\n%s", harness.UnifiedDiff("apache observer", a, "ours", o))
	}
	apacheObs.Close()
	gzOurs.setPaused(false)
	gzApache.setPaused(false)

	// The takeover, once every Apache server counts no client (mntr
	// counts itself).
	for _, a := range apaches {
		waitMntr(t, a, "zk_num_alive_connections", "1")
	}
	t.Logf("no client on Apache at %s", time.Now().Format("15:04:05.000"))
	out, err = exec.Command(bin, "takeover", cfgPath).CombinedOutput()
	if err != nil {
		t.Fatalf("takeover: %v\n%s", err, out)
	}
	t.Logf("takeover, done at %s:\n%s", time.Now().Format("15:04:05.000"), out)
	for _, a := range apaches {
		a.Stop()
	}
	t.Logf("the Apache servers stopped at %s", time.Now().Format("15:04:05.000"))
	leaderOf(t, ours)
	waitAcks(t, 50, all...)
	for _, o := range ours {
		if c, err := o.FourLetter("conf"); err != nil || !strings.Contains(c, "peerType=0\n") {
			t.Errorf("%s: conf after the takeover does not say it is a participant (%v):\n%s", o.Addr(), err, c)
		}
	}

	close(stop)
	for _, d := range dones {
		<-d
	}
	for _, k := range []*kazooWriter{kzOurs, kzApache} {
		got := k.finish(t)
		if !slices.Equal(got, []string{"session same", "eph kept", "done"}) {
			t.Errorf("%s at its end: %v", k.name, got)
		}
	}
	for c, id := range gzSessions {
		if c.SessionID() != id {
			t.Errorf("a go-zookeeper client's session changed from 0x%x to 0x%x", id, c.SessionID())
		}
	}

	// Every acknowledged write is there; ephemerals of live sessions are
	// kept; the sequence counters go on.
	for _, w := range all {
		names, _, err := oursConn.Children(w.prefix)
		if err != nil {
			t.Fatal(err)
		}
		have := map[string]bool{}
		for _, n := range names {
			have[w.prefix+"/"+n] = true
		}
		w.mu.Lock()
		lost, highest := 0, ""
		for _, p := range w.acked {
			if !have[p] {
				lost++
			}
			highest = max(highest, p)
		}
		t.Logf("%s: %d writes acknowledged, %d lost; longest pause %v (ended %s); pauses over %v: %v",
			w.name, len(w.acked), lost, w.maxGap, w.gapEnd.Format("15:04:05.000"), longPause, w.pauses)
		w.mu.Unlock()
		if lost > 0 {
			t.Errorf("%s: %d acknowledged writes lost", w.name, lost)
		}
		if ok, _, err := oursConn.Exists(w.prefix + "-eph"); w.c != nil && (err != nil || !ok) {
			// (kazoo's script checked its own before it closed its session)
			t.Errorf("%s's ephemeral: %v %v", w.name, ok, err)
		}
		next, err := oursConn.Create(w.prefix+"/n-", nil, zk.FlagSequence, acl)
		if err != nil || next <= highest {
			t.Errorf("%s: a sequential create after the takeover gave %q (%v), not after %q", w.name, next, err, highest)
		}
	}
}
