package zkclient

import (
	"context"
	"io"
	"net"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/zkgo/zkgo/test/harness"
	"github.com/zkgo/zkgo/wire"
)

func TestValidatePath(t *testing.T) {
	for _, tc := range []struct {
		path string
		seq  bool
		want string
	}{
		{"/", false, ""},
		{"/a/b", false, ""},
		{"/a/", true, ""},
		{"/a/...", false, ""},
		{"", false, "Path length must be > 0"},
		{"a", false, "Path must start with / character"},
		{"/a/", false, "Path must not end with / character"},
		{"/a//b", false, `Invalid path string "/a//b" caused by empty node name specified @3`},
		{"/a/./b", false, `Invalid path string "/a/./b" caused by relative paths not allowed @3`},
		{"/a/..", false, `Invalid path string "/a/.." caused by relative paths not allowed @4`},
		{"/a\x01", false, `Invalid path string "/a` + "\x01" + `" caused by invalid character @2`},
		{"/a\x00", false, `Invalid path string "/a` + "\x00" + `" caused by null character not allowed @2`},
		{"/é😀x\u0085", false, `Invalid path string "/é😀x` + "\u0085" + `" caused by invalid character @2`},
		{"//", true, `Invalid path string "//1" caused by empty node name specified @1`},
	} {
		err := ValidatePath(tc.path, tc.seq)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("ValidatePath(%q, %v) = %q, want %q", tc.path, tc.seq, got, tc.want)
		}
	}
}

func TestParseConnectString(t *testing.T) {
	servers, chroot, err := ParseConnectString("h1:1,h2,127.0.0.1:3/app/x")
	if err != nil || !reflect.DeepEqual(servers, []string{"h1:1", "h2:2181", "127.0.0.1:3"}) || chroot != "/app/x" {
		t.Errorf("got %q %q %v", servers, chroot, err)
	}
	if _, chroot, _ := ParseConnectString("h:1/"); chroot != "" {
		t.Errorf("chroot / = %q", chroot)
	}
	if _, _, err := ParseConnectString("h:1/a/"); err == nil {
		t.Errorf("a bad chroot is accepted")
	}
}

func TestWatchManager(t *testing.T) {
	m := newWatchManager()
	a, b := NewWatcher(nil), NewWatcher(nil)
	m.add(kindData, "/x", a)
	m.add(kindExist, "/x", b)
	m.add(kindChild, "/x", a)
	m.add(kindRecursive, "/", b)
	m.add(kindPersistent, "/x", a)

	got := m.materialize(wire.EventNodeDataChanged, "/x")
	if len(got) != 2 {
		t.Errorf("data change triggers %d watchers, want a and b", len(got))
	}
	// The data and exist watches were one-shot; the child watch stays.
	if m.contains("/x", WatchData, b) || !m.contains("/x", WatchChildren, a) {
		t.Errorf("one-shot watches not consumed as they should")
	}
	got = m.materialize(wire.EventNodeChildrenChanged, "/x")
	if _, ok := got[a]; !ok {
		t.Errorf("child change misses the child watch")
	}
	// Persistent watches stay.
	if got := m.materialize(wire.EventNodeDeleted, "/x/y"); len(got) != 1 {
		t.Errorf("a recursive watch on / should see /x/y: %d", len(got))
	}
	if !m.contains("/x", WatchAny, a) {
		t.Errorf("persistent watch lost")
	}
	r, ok := m.remove("/x", WatchAny, nil)
	if !ok || !reflect.DeepEqual(r.types, []wire.EventType{wire.EventPersistentWatchRemoved}) {
		t.Errorf("remove: %+v %v", r, ok)
	}
	if _, ok := m.remove("/x", WatchAny, nil); ok {
		t.Errorf("removed twice")
	}
}

// proxy forwards TCP connections to a server and can cut them, so that a
// client reconnects.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	down   bool
}

func newProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); p.cut(false) })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			down := p.down
			p.mu.Unlock()
			if down {
				c.Close()
				continue
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { io.Copy(s, c); s.Close() }()
			go func() { io.Copy(c, s); c.Close() }()
		}
	}()
	return p
}

// cut closes the forwarded connections; with down, new ones are refused
// until up is called.
func (p *proxy) cut(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
	p.down = down
}

func (p *proxy) up() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

type eventLog struct {
	ch chan Event
}

func (l *eventLog) await(t *testing.T, want Event) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case ev := <-l.ch:
			if ev == want {
				return
			}
		case <-timeout:
			t.Fatalf("no event %v", want)
		}
	}
}

// A dropped connection is resumed in the same session: the requests sent
// on go-zookeeper's connection by this package still work, and the watches
// are set again, including the events missed while disconnected.
func TestReconnect(t *testing.T) {
	srv := harness.StartApache(t, nil)
	px := newProxy(t, srv.Addr())
	log := &eventLog{ch: make(chan Event, 100)}
	cl, err := Connect(px.ln.Addr().String(), Options{
		SessionTimeout: 20 * time.Second,
		DefaultWatcher: NewWatcher(func(ev Event) { log.ch <- ev }),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	other, err := Connect(srv.Addr(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	if _, err := cl.Create(ctx, "/rw", []byte("a"), OpenACL, wire.FlagPersistent, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Create(ctx, "/eph", nil, OpenACL, wire.FlagEphemeral, 0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := cl.Get(ctx, "/rw", Default); err != nil {
		t.Fatal(err)
	}
	if err := cl.AddWatch(ctx, "/tree", PersistentRecursive, Default); err != nil {
		t.Fatal(err)
	}
	sid := cl.SessionID()

	px.cut(true)
	log.await(t, Event{Type: wire.EventNone, State: StateDisconnected})
	// Changes while the client is away...
	if _, err := other.Set(ctx, "/rw", []byte("b"), -1); err != nil {
		t.Fatal(err)
	}
	px.up()
	log.await(t, Event{Type: wire.EventNone, State: StateSyncConnected})
	// ... are reported once it is back (setWatches with the last zxid).
	log.await(t, Event{Type: wire.EventNodeDataChanged, State: StateSyncConnected, Path: "/rw"})
	if cl.SessionID() != sid {
		t.Fatalf("session %x became %x", sid, cl.SessionID())
	}
	if _, err := other.Create(ctx, "/tree", nil, OpenACL, wire.FlagPersistent, 0); err != nil {
		t.Fatal(err)
	}
	log.await(t, Event{Type: wire.EventNodeCreated, State: StateSyncConnected, Path: "/tree"})
	eph, err := cl.GetEphemerals(ctx, "/")
	if err != nil || !reflect.DeepEqual(eph, []string{"/eph"}) {
		t.Errorf("GetEphemerals after the reconnect = %q, %v", eph, err)
	}
	n, err := cl.GetAllChildrenNumber(ctx, "/")
	if err != nil || n < 3 {
		t.Errorf("GetAllChildrenNumber = %d, %v", n, err)
	}
	infos, err := cl.WhoAmI(ctx)
	if err != nil || len(infos) != 1 || infos[0].AuthScheme != "ip" {
		t.Errorf("WhoAmI = %+v, %v", infos, err)
	}
	// A request waiting when the connection drops fails with
	// ConnectionLoss rather than hanging.
	px.cut(true)
	_, err = cl.GetEphemerals(ctx, "/")
	if err != nil && Code(err) != wire.ErrConnectionLoss {
		t.Errorf("GetEphemerals while cut: %v", err)
	}
	px.up()
}
