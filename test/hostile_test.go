package test

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkgo/zkgo/test/harness"
	"github.com/zkgo/zkgo/wire"
)

// handshake opens a raw session on addr.
func handshake(addr string, timeoutMs int32) (net.Conn, wire.ConnectResponse, error) {
	var resp wire.ConnectResponse
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, resp, err
	}
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	req := &wire.ConnectRequest{TimeOut: timeoutMs, Passwd: make([]byte, 16)}
	if _, err := nc.Write(wire.AppendFrame(nil, req)); err != nil {
		nc.Close()
		return nil, resp, err
	}
	pkt, err := wire.ReadFrame(nc, nil, wire.DefaultMaxBuffer)
	if err == nil {
		err = wire.Decode(pkt, &resp)
	}
	if err != nil {
		nc.Close()
		return nil, resp, err
	}
	nc.SetDeadline(time.Time{})
	return nc, resp, nil
}

// stillServes checks that a fresh client can write and read.
func stillServes(t *testing.T, addr, path string) {
	t.Helper()
	c := connect(t, addr)
	defer c.Close()
	if _, err := c.Create(path, []byte("ok"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatalf("server stopped serving: create %s: %v", path, err)
	}
	if data, _, err := c.Get(path); err != nil || string(data) != "ok" {
		t.Fatalf("server stopped serving: get %s: %q %v", path, data, err)
	}
}

// TestHostileInput sends random bytes, truncated frames, oversized and
// malformed packets from many connections: each is closed, and the server
// keeps serving everyone else and loses nothing.
func TestHostileInput(t *testing.T) {
	srv := harness.StartOurs(t, map[string]string{"maxClientCnxns": "0"})
	good := connect(t, srv.Addr())
	defer good.Close()
	if _, err := good.Create("/keep", []byte("v"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var wg sync.WaitGroup
	for i := 0; i < 200; i++ {
		junk := make([]byte, 1+rng.IntN(4096))
		for j := range junk {
			junk[j] = byte(rng.IntN(256))
		}
		kind := i % 4
		wg.Add(1)
		go func() {
			defer wg.Done()
			var nc net.Conn
			var err error
			switch kind {
			case 0: // random bytes instead of a handshake
				nc, err = net.Dial("tcp", srv.Addr())
			default: // a session, then garbage
				nc, _, err = handshake(srv.Addr(), 10000)
			}
			if err != nil {
				t.Errorf("connect: %v", err)
				return
			}
			defer nc.Close()
			switch kind {
			case 2: // a frame that promises more than it sends
				junk = append([]byte{0, 0, 0x10, 0}, junk[:min(len(junk), 100)]...)
			case 3: // a length over jute.maxbuffer
				junk = append([]byte{0x7f, 0xff, 0xff, 0xff}, junk...)
			}
			nc.Write(junk)
		}()
	}
	wg.Wait()
	if data, _, err := good.Get("/keep"); err != nil || string(data) != "v" {
		t.Fatalf("after hostile input: %q %v", data, err)
	}
	stillServes(t, srv.Addr(), "/after-hostile")
}

// TestSlowReader: a client that pipelines getData of a 1 MB node and never
// reads a reply is cut off; meanwhile the server's resident memory grows by
// no more than its bound on a connection's unsent output (twice
// maxClientOutputBytes at most) plus slack for the garbage collector, and
// another client reading the same node is served throughout.
func TestSlowReader(t *testing.T) {
	const (
		limit = 16 << 20 // maxClientOutputBytes, the default
		slack = 48 << 20
	)
	srv := harness.StartOurs(t, nil)
	c := connect(t, srv.Addr())
	defer c.Close()
	big := []byte(strings.Repeat("x", 1000_000))
	if _, err := c.Create("/big", big, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	readBig := func() {
		t.Helper()
		if data, _, err := c.Get("/big"); err != nil || len(data) != len(big) {
			t.Fatalf("get /big: %d bytes, %v", len(data), err)
		}
	}
	readBig()
	if err := srv.ResetPeakRSS(); err != nil {
		t.Fatal(err)
	}
	before, err := srv.RSS()
	if err != nil {
		t.Fatal(err)
	}
	nc, _, err := handshake(srv.Addr(), 4000)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	var req []byte
	for i := int32(1); i <= 300; i++ { // 300 MB of replies asked for
		req = wire.AppendFrame(req, &wire.RequestHeader{Xid: i, Type: wire.OpGetData}, &wire.PathWatchRequest{Path: "/big"})
	}
	nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := nc.Write(req); err != nil {
		t.Fatalf("sending the requests: %v", err)
	}
	for range 10 {
		readBig()
	}
	// The server cuts the connection: a write then fails (the peer resets
	// it). Nothing is ever read from it.
	ping := wire.AppendFrame(nil, &wire.RequestHeader{Xid: wire.XidPing, Type: wire.OpPing})
	deadline := time.Now().Add(60 * time.Second)
	for {
		nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := nc.Write(ping); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the server did not cut off a client that never reads its replies")
		}
		time.Sleep(100 * time.Millisecond)
	}
	readBig()
	peak, err := srv.PeakRSS()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("server RSS %d MB before, peak %d MB: grew %d MB for a client that never read (bound %d MB)",
		before>>20, peak>>20, (peak-before)>>20, 2*limit>>20)
	if peak-before > 2*limit+slack {
		t.Fatalf("the server grew by %d MB for a client that never read its replies; bound %d MB plus %d MB slack",
			(peak-before)>>20, 2*limit>>20, slack>>20)
	}
	stillServes(t, srv.Addr(), "/after-slow")
}

// TestEphemeralStorm: 100,000 ephemeral nodes whose sessions all expire at
// once vanish, and the server answers throughout.
func TestEphemeralStorm(t *testing.T) {
	srv := harness.StartOurs(t, map[string]string{"maxClientCnxns": "0", "minSessionTimeout": "1000"})
	setup := connect(t, srv.Addr())
	defer setup.Close()
	if _, err := setup.Create("/storm", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	// The raw sessions never ping: their timeout must outlast the time the
	// server takes to apply all 100,000 creates on a loaded machine, or a
	// session expires before its last create is answered.
	const sessions, perSession, timeoutMs = 100, 1000, 10000
	var wg sync.WaitGroup
	errs := make(chan error, sessions)
	var raws []net.Conn
	var mu sync.Mutex
	for s := 0; s < sessions; s++ {
		wg.Add(1)
		go func(s int) {
			defer wg.Done()
			nc, _, err := handshake(srv.Addr(), timeoutMs)
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			raws = append(raws, nc)
			mu.Unlock()
			var out []byte
			for i := 0; i < perSession; i++ {
				out = wire.AppendFrame(out, &wire.RequestHeader{Xid: int32(i + 1), Type: wire.OpCreate},
					&wire.CreateRequest{Path: fmt.Sprintf("/storm/s%d-%d", s, i), ACL: []wire.ACL{{Perms: wire.PermAll, ID: wire.Id{Scheme: "world", ID: "anyone"}}}, Flags: wire.FlagEphemeral})
			}
			if _, err := nc.Write(out); err != nil {
				errs <- err
				return
			}
			// Read the replies so every create is known to be applied.
			for i := 0; i < perSession; i++ {
				pkt, err := wire.ReadFrame(nc, nil, wire.DefaultMaxBuffer)
				if err != nil {
					errs <- err
					return
				}
				var h wire.ReplyHeader
				if err := wire.Decode(pkt[:16], &h); err != nil || h.Err != wire.ErrOK {
					errs <- fmt.Errorf("create reply %+v %v", h, err)
					return
				}
			}
		}(s)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	_, stat, err := setup.Exists("/storm")
	if err != nil || stat.NumChildren != sessions*perSession {
		t.Fatalf("/storm has %v children (%v), want %d", stat, err, sessions*perSession)
	}
	// Every owner stops pinging at once: the sessions expire together.
	for _, nc := range raws {
		nc.Close()
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, stat, err := setup.Exists("/storm")
		if err != nil {
			t.Fatal(err)
		}
		if stat.NumChildren == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d ephemerals left a minute after their sessions died", stat.NumChildren)
		}
		time.Sleep(50 * time.Millisecond) // polling the server's state, with a deadline
	}
	stillServes(t, srv.Addr(), "/after-storm")
}

// Sizes for TestNearJuteMaxBuffer, at the default jute.maxbuffer of
// 1048575 bytes (both servers read a request frame of up to that many
// bytes and close the connection of a client that announces more).
const (
	juteMaxBuffer = 0xfffff
	// createOverhead is a create request's frame length less its path
	// length, with no data and the world ACL: xid and opcode (8), the
	// path's length (4), empty data (4), one ACL (4 + 4 + 4+5 + 4+6) and
	// the flags (4).
	createOverhead = 47
	// deepDepth is the depth of the deep path, one-letter names.
	deepDepth = 2000
	// childName is the length of each name in the huge child list: a
	// getChildren reply is a 16-byte header, a 4-byte count and 4+len
	// bytes per child.
	childName = 246
	// childrenUnder is the largest child count whose getChildren2 reply
	// (header, count, names, Stat) fits in jute.maxbuffer.
	childrenUnder = (juteMaxBuffer - 16 - 4 - 68) / (4 + childName)
)

// TestNearJuteMaxBuffer runs the same scenario against Apache ZooKeeper and
// zkserver and compares what a client sees: a path 2000 levels deep; a
// node whose name makes its create request exactly jute.maxbuffer long
// (accepted) and one byte longer (the connection is closed, the session
// survives); a node whose getChildren reply is just under jute.maxbuffer,
// then just over it (the server sends it anyway: only clients enforce the
// limit on replies, Apache's Java client with "Packet len ... is out of
// range"); and after a restart, everything is still there. Another client
// is served throughout.
func TestNearJuteMaxBuffer(t *testing.T) {
	var mu sync.Mutex
	got := map[string]string{}
	t.Run("sides", func(t *testing.T) { // returns when both sides are done
		for _, side := range []string{"apache", "ours"} {
			t.Run(side, func(t *testing.T) {
				t.Parallel()
				start := harness.StartOurs
				if side == "apache" || os.Getenv(envDiffSelf) == "1" {
					start = harness.StartApache
				}
				transcript := nearMaxBuffer(t, start(t, nil))
				mu.Lock()
				got[side] = transcript
				mu.Unlock()
			})
		}
	})
	if t.Failed() {
		return
	}
	// What both must show, beyond agreeing.
	for _, want := range []string{
		"create with a request of exactly jute.maxbuffer bytes: <nil>",
		"create with a request of jute.maxbuffer+1 bytes: zk: connection closed",
		"the refused node exists: false <nil>",
		fmt.Sprintf("over: getChildren2 /many: %d children", childrenUnder+10),
		fmt.Sprintf("after a restart: /many has %d children, <nil>", childrenUnder+10),
	} {
		if !strings.Contains(got["ours"], want) {
			t.Errorf("zkserver's transcript lacks %q", want)
		}
	}
	if d := harness.UnifiedDiff("apache", got["apache"], "ours", got["ours"]); d != "" {
		t.Errorf("near jute.maxbuffer, zkserver differs from Apache ZooKeeper:\n%s", d)
	} else {
		t.Logf("transcript (same on both):\n%s", got["ours"])
	}
}

// nearMaxBuffer runs TestNearJuteMaxBuffer's scenario on srv and returns
// its transcript.
func nearMaxBuffer(t *testing.T, srv *harness.Server) string {
	var out strings.Builder
	logf := func(format string, args ...any) { fmt.Fprintf(&out, format+"\n", args...) }
	other := connect(t, srv.Addr())
	defer func() { other.Close() }()
	if _, err := other.Create("/keep", []byte("v"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	c, events, err := zk.Connect([]string{srv.Addr()}, 10*time.Second, zk.WithLogger(quietLogger{}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go func() {
		for range events {
		}
	}()
	acl := zk.WorldACL(zk.PermAll)
	// createAll creates paths in order with multis of about 64 KiB.
	createAll := func(paths []string) error {
		var ops []any
		size := 0
		flush := func() error {
			if len(ops) == 0 {
				return nil
			}
			_, err := c.Multi(ops...)
			ops, size = ops[:0], 0
			return err
		}
		for _, p := range paths {
			ops = append(ops, &zk.CreateRequest{Path: p, Acl: acl})
			if size += len(p) + 64; size > 64<<10 {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		return flush()
	}

	// A deep path.
	var deep []string
	p := ""
	for range deepDepth {
		p += "/d"
		deep = append(deep, p)
	}
	logf("create a path %d deep (%d bytes): %v", deepDepth, len(p), createAll(deep))
	_, err = c.Set(p, []byte("leaf"), -1)
	data, st, err2 := c.Get(p)
	logf("set and get the deepest node: %v, %q, %v, numChildren=%d", err, data, err2, numChildren(st))
	_, err = c.Create(p+"/missing/child", nil, 0, acl)
	logf("create under a missing parent at depth %d: %v", deepDepth+2, err)

	// A name as long as a request allows, then one byte longer.
	long := "/" + strings.Repeat("n", juteMaxBuffer-createOverhead-1)
	_, err = c.Create(long, nil, 0, acl)
	logf("create with a request of exactly jute.maxbuffer bytes: %v", err)
	session := c.SessionID()
	_, err = c.Create(long+"x", nil, 0, acl)
	logf("create with a request of jute.maxbuffer+1 bytes: %v", err)
	ok, _, err := c.Exists(long)
	logf("after that, the same session (%v) sees the long node: %v %v", c.SessionID() == session, ok, err)
	ok, _, err = c.Exists(long + "x")
	logf("the refused node exists: %v %v", ok, err)
	children, _, err := c.Children("/")
	logf("getChildren / (a reply over jute.maxbuffer): %d children, %v", len(children), err)

	// A child list whose reply is just under jute.maxbuffer, then over.
	logf("create /many: %v", createAll([]string{"/many"}))
	names := make([]string, childrenUnder)
	for i := range names {
		names[i] = fmt.Sprintf("/many/%0*d", childName, i)
	}
	logf("create %d children of %d-byte names: %v", len(names), childName, createAll(names))
	// go-zookeeper's Children is getChildren2: the reply also holds a
	// Stat (68 bytes).
	listChildren := func(when string) {
		children, st, err := c.Children("/many")
		size := 16 + 4 + 68
		for _, ch := range children {
			size += 4 + len(ch)
		}
		logf("%s: getChildren2 /many: %d children (a %d-byte reply; jute.maxbuffer %d), numChildren=%d, %v",
			when, len(children), size, juteMaxBuffer, numChildren(st), err)
	}
	listChildren("just under")
	var more []string
	for i := range 10 {
		more = append(more, fmt.Sprintf("/many/%0*d", childName, childrenUnder+i))
	}
	logf("create 10 more: %v", createAll(more))
	listChildren("over")
	if data, _, err := other.Get("/keep"); err != nil || string(data) != "v" {
		t.Errorf("another client's get /keep: %q %v", data, err)
	}

	// Nothing is lost across a restart.
	c.Close()
	other.Close()
	srv.Stop()
	if err := srv.Restart(); err != nil {
		t.Fatalf("restart: %v", err)
	}
	other = connect(t, srv.Addr())
	ok, _, err = other.Exists(p)
	logf("after a restart: the deepest node exists: %v %v", ok, err)
	ok, _, err = other.Exists(long)
	logf("after a restart: the long node exists: %v %v", ok, err)
	children, _, err = other.Children("/many")
	logf("after a restart: /many has %d children, %v", len(children), err)
	stillServes(t, srv.Addr(), "/after-maxbuffer")
	return out.String()
}

func numChildren(st *zk.Stat) int32 {
	if st == nil {
		return -1
	}
	return st.NumChildren
}
