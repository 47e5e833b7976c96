package server

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/zkgo/zkgo/conf"
	"github.com/zkgo/zkgo/wire"
)

// cutOff closes every server but keep and waits until keep is read-only.
func cutOff(t *testing.T, servers []*Server, keep *Server) {
	t.Helper()
	for _, s := range servers {
		if s != keep {
			s.Close()
		}
	}
	deadline := time.Now().Add(waitLimit)
	for fourLetter(t, keep.Addr().String(), "isro") != "ro" {
		if time.Now().After(deadline) {
			t.Fatal("the server cut off from the quorum did not become read-only")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestReadOnlyMode(t *testing.T) {
	servers := startInProcessEnsemble(t, 3, func(c *conf.Config) {
		c.ReadOnlyModeEnabled = true
		c.LocalSessionsEnabled = true
	})
	if got := fourLetter(t, servers[0].Addr().String(), "isro"); got != "rw" {
		t.Fatalf("isro %q in a serving ensemble, want rw", got)
	}
	w := newRaw(t, servers[0])
	w.expect(wire.ErrOK, wire.OpCreate, create("/ro", "data", wire.FlagPersistent), nil)
	sameZxid(t, servers, servers[0].tree.LastZxid())
	w.nc.Close()

	ro := servers[2]
	cutOff(t, servers, ro)
	addr := ro.Addr().String()
	srvr := fourLetter(t, addr, "srvr")
	if !strings.Contains(srvr, "\nREAD-ONLY mode; serving only read-only clients\n") ||
		!strings.Contains(srvr, "\nMode: read-only\n") {
		t.Fatalf("srvr in read-only mode:\n%s", srvr)
	}
	if got := mntrValue(t, ro, "server_state"); got != "read-only" {
		t.Fatalf("mntr zk_server_state %q, want read-only", got)
	}
	admin := adminServer(t, ro)
	for _, cmd := range []string{"isro", "srvr"} {
		if a := adminGet(t, admin, "/commands/"+cmd); string(a.fields["read_only"]) != "true" {
			t.Fatalf("admin %s in read-only mode, want read_only true: %d %s", cmd, a.status, a.body)
		}
	}

	// A client that does not ask for read-only is refused.
	if c, err := dialRaw(t, addr, wire.ConnectRequest{}); err == nil {
		t.Fatalf("a read-write client got a session from a read-only server: %+v", c.resp)
	}
	c, err := dialRaw(t, addr, wire.ConnectRequest{ReadOnly: true, HasReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if !c.resp.ReadOnly || c.resp.SessionID == 0 {
		t.Fatalf("connect response %+v, want a read-only session", c.resp)
	}
	last := ro.tree.LastZxid()
	var gd wire.GetDataResponse
	h := c.expect(wire.ErrOK, wire.OpGetData, &wire.PathWatchRequest{Path: "/ro"}, &gd)
	if string(gd.Data) != "data" || h.Zxid != last {
		t.Fatalf("getData in read-only mode: %q zxid %#x", gd.Data, h.Zxid)
	}
	c.expect(wire.ErrOK, wire.OpGetChildren2, &wire.PathWatchRequest{Path: "/"}, &wire.GetChildren2Response{})
	for _, r := range []struct {
		op   wire.OpCode
		body wire.Record
	}{
		{wire.OpCreate, create("/x", "", wire.FlagPersistent)},
		{wire.OpCreate2, create("/x", "", wire.FlagEphemeral)},
		{wire.OpSetData, &wire.SetDataRequest{Path: "/ro", Data: []byte("no"), Version: -1}},
		{wire.OpDelete, &wire.PathVersionRequest{Path: "/ro", Version: -1}},
		{wire.OpSync, &wire.PathRequest{Path: "/"}},
		{wire.OpMulti, &wire.MultiRequest{Ops: []wire.Op{{Type: wire.OpCheck, Body: &wire.PathVersionRequest{Path: "/ro", Version: -1}}}}},
		// Apache's ReadOnlyRequestProcessor refuses reconfig before the
		// reconfigEnabled check (disabled here) is reached.
		{wire.OpReconfig, &wire.ReconfigRequest{CurConfigID: -1}},
	} {
		if h := c.expect(wire.ErrNotReadOnly, r.op, r.body, nil); h.Zxid != last {
			t.Fatalf("%v refused with zxid %#x, want %#x", r.op, h.Zxid, last)
		}
	}
	// Closing the (local) session is fine.
	c.expect(wire.ErrOK, wire.OpCloseSession, nil, nil)
	c.waitClosed()

	kept, err := dialRaw(t, addr, wire.ConnectRequest{ReadOnly: true, HasReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := ro.sessions.countLocal(); n != 1 {
		t.Fatalf("%d local sessions, want 1 (the closed one is gone)", n)
	}

	// The quorum returns: the read-only connection closes, its local
	// session is forgotten, and read-write clients are served again.
	for _, s := range servers {
		if s != ro {
			startServerWith(t, s.cfg)
		}
	}
	kept.waitClosed()
	waitFor(t, "the server serves read-write clients", func() bool { return ro.serving.Load() })
	if got := fourLetter(t, addr, "isro"); got != "rw" {
		t.Fatalf("isro %q after the quorum returned, want rw", got)
	}
	if n := ro.sessions.countLocal(); n != 0 {
		t.Fatalf("%d local sessions survived read-only mode", n)
	}
	// The read-only session is gone with the read-only server.
	back, err := dialRaw(t, addr, wire.ConnectRequest{SessionID: kept.resp.SessionID, Passwd: kept.resp.Passwd,
		ReadOnly: true, HasReadOnly: true})
	if err != nil || back.resp.TimeOut != 0 || back.resp.ReadOnly {
		t.Fatalf("resuming a read-only session after read-only mode: %v %+v, want expired", err, back.resp)
	}
	rw := newRaw(t, ro)
	if rw.resp.ReadOnly {
		t.Fatal("a read-write server answered readOnly")
	}
	rw.expect(wire.ErrOK, wire.OpSetData, &wire.SetDataRequest{Path: "/ro", Data: []byte("rw"), Version: -1}, &wire.StatResponse{})
}

func TestReadOnlyWithoutLocalSessions(t *testing.T) {
	servers := startInProcessEnsemble(t, 3, func(c *conf.Config) { c.ReadOnlyModeEnabled = true })
	w := newRaw(t, servers[1])
	global, passwd := w.resp.SessionID, w.resp.Passwd
	ro := servers[1]
	cutOff(t, servers, ro)
	addr := ro.Addr().String()
	// A global session cannot come back in read-only mode.
	if c, err := dialRaw(t, addr, wire.ConnectRequest{SessionID: global, Passwd: passwd, ReadOnly: true, HasReadOnly: true}); err == nil {
		t.Fatalf("a global session reconnected to a read-only server: %+v", c.resp)
	}
	// A new session gets NotReadOnly where the ConnectResponse should be.
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.Write(wire.AppendFrame(nil, &wire.ConnectRequest{TimeOut: 10000, Passwd: make([]byte, 16), ReadOnly: true, HasReadOnly: true}))
	nc.SetReadDeadline(time.Now().Add(waitLimit))
	pkt, err := wire.ReadFrame(nc, nil, wire.DefaultMaxBuffer)
	if err != nil {
		t.Fatal(err)
	}
	var h wire.ReplyHeader
	if err := wire.Decode(pkt, &h); err != nil || h.Err != wire.ErrNotReadOnly || h.Xid != 0 || h.Zxid != ro.tree.LastZxid() {
		t.Fatalf("answer to a new session in read-only mode without local sessions: %+v (%v)", h, err)
	}
}
