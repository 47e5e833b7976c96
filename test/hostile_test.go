package test

import (
	"fmt"
	"math/rand/v2"
	"net"
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

// TestSlowReader: a client that asks for megabytes and never reads its
// replies is disconnected once its queue passes the bound; others are
// served meanwhile.
func TestSlowReader(t *testing.T) {
	srv := harness.StartOurs(t, nil)
	c := connect(t, srv.Addr())
	defer c.Close()
	big := []byte(strings.Repeat("x", 1000_000))
	if _, err := c.Create("/big", big, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	nc, _, err := handshake(srv.Addr(), 30000)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	var req []byte
	for i := int32(1); i <= 200; i++ { // 200 MB of replies asked for
		req = wire.AppendFrame(req[:0], &wire.RequestHeader{Xid: i, Type: wire.OpGetData}, &wire.PathWatchRequest{Path: "/big"})
		nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := nc.Write(req); err != nil {
			break // the server closed us: what we expect
		}
	}
	stillServes(t, srv.Addr(), "/after-slow")
	// The slow connection is gone: reading drains what was sent, then EOF.
	nc.SetReadDeadline(time.Now().Add(30 * time.Second))
	buf := make([]byte, 1<<20)
	total := 0
	for {
		n, err := nc.Read(buf)
		total += n
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatalf("slow reader still connected after %d bytes", total)
			}
			break
		}
	}
	if total >= 200_000_000 {
		t.Fatalf("the server queued all %d bytes for a client that did not read", total)
	}
}

// TestTenThousandConnections holds 10,000 sessions open at once; the server
// keeps answering.
func TestTenThousandConnections(t *testing.T) {
	srv := harness.StartOurs(t, map[string]string{"maxClientCnxns": "0"})
	const n = 10_000
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, nc := range conns {
			nc.Close()
		}
	}()
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 200)
	var failed error
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			nc, resp, err := handshake(srv.Addr(), 30000)
			mu.Lock()
			defer mu.Unlock()
			if err != nil || resp.SessionID == 0 {
				failed = fmt.Errorf("handshake: %v (session %x)", err, resp.SessionID)
				return
			}
			conns = append(conns, nc)
		}()
	}
	wg.Wait()
	if failed != nil {
		t.Fatal(failed)
	}
	stillServes(t, srv.Addr(), "/after-10k")
	// srvr counts its own connection too, as Apache does.
	srvr, err := srv.FourLetter("srvr")
	var open int
	for _, line := range strings.Split(srvr, "\n") {
		fmt.Sscanf(line, "Connections: %d", &open)
	}
	if err != nil || open < n {
		t.Fatalf("srvr with %d connections open: %v\n%s", n, err, srvr)
	}
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
	const sessions, perSession = 100, 1000
	var wg sync.WaitGroup
	errs := make(chan error, sessions)
	var raws []net.Conn
	var mu sync.Mutex
	for s := 0; s < sessions; s++ {
		wg.Add(1)
		go func(s int) {
			defer wg.Done()
			nc, _, err := handshake(srv.Addr(), 1000)
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
