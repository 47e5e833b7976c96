package test

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkgo/zkgo/test/harness"
	"github.com/zkgo/zkgo/wire"
)

// readOnlyCfg is an ensemble whose servers serve read-only clients when
// cut off from the quorum; a read-only server has sessions to give only
// with local sessions (as Apache 3.7+).
var readOnlyCfg = map[string]string{"tickTime": "500", "localSessionsEnabled": "true"}

// roClient is a raw client that asks for read-only sessions: go-zookeeper
// never sends the readOnly flag.
type roClient struct {
	nc   net.Conn
	resp wire.ConnectResponse
	xid  int32
}

func dialReadOnly(addr string, readOnly bool) (*roClient, error) {
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	req := &wire.ConnectRequest{TimeOut: 10000, Passwd: make([]byte, 16), ReadOnly: readOnly, HasReadOnly: true}
	c := &roClient{nc: nc}
	if _, err := nc.Write(wire.AppendFrame(nil, req)); err != nil {
		nc.Close()
		return nil, err
	}
	pkt, err := wire.ReadFrame(nc, nil, wire.DefaultMaxBuffer)
	if err == nil {
		err = wire.Decode(pkt, &c.resp)
	}
	if err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}

// call sends one request and returns its reply header and body.
func (c *roClient) call(op wire.OpCode, body wire.Record) (wire.ReplyHeader, []byte, error) {
	c.xid++
	var h wire.ReplyHeader
	if _, err := c.nc.Write(wire.AppendFrame(nil, &wire.RequestHeader{Xid: c.xid, Type: op}, body)); err != nil {
		return h, nil, err
	}
	for {
		pkt, err := wire.ReadFrame(c.nc, nil, wire.DefaultMaxBuffer)
		if err != nil {
			return h, nil, err
		}
		d := wire.NewDecoder(pkt)
		h.Decode(d)
		if err := d.Err(); err != nil {
			return h, nil, err
		}
		if h.Xid == c.xid {
			return h, pkt[16:], nil
		}
	}
}

// awaitWord polls a four-letter word until it answers want.
func awaitWord(t *testing.T, s *harness.Server, cmd, want string) {
	t.Helper()
	deadline := time.Now().Add(modeTimeout)
	for {
		got, _ := s.FourLetter(cmd)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s answers %q, want %q", cmd, got, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestEnsembleReadOnlyMode(t *testing.T) {
	t.Setenv("SERVER_JVMFLAGS", "-Dreadonlymode.enabled=true")
	servers := harness.StartEnsemble(t, 3, readOnlyCfg)
	rw := connect(t, servers[0].Addr())
	if _, err := rw.Create("/ro", []byte("before"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	rw.Close()
	for _, s := range servers {
		awaitWord(t, s, "isro", "rw")
	}

	// Cut server 3 off: the other two stop.
	cut := servers[2]
	servers[0].Stop()
	servers[1].Stop()
	awaitWord(t, cut, "isro", "ro")
	if mode := cut.Mode(); mode != "read-only" {
		t.Fatalf("srvr Mode %q, want read-only", mode)
	}
	mntr, err := cut.FourLetter("mntr")
	if err != nil || !strings.Contains(mntr, "zk_server_state\tread-only\n") {
		t.Fatalf("mntr in read-only mode (%v):\n%s", err, mntr)
	}

	// A client that does not ask for read-only is refused.
	if c, err := dialReadOnly(cut.Addr(), false); err == nil {
		t.Fatalf("a read-write client got a session: %+v", c.resp)
	}
	c, err := dialReadOnly(cut.Addr(), true)
	if err != nil {
		t.Fatal(err)
	}
	defer c.nc.Close()
	if !c.resp.ReadOnly || c.resp.SessionID == 0 {
		t.Fatalf("connect response %+v, want a read-only session", c.resp)
	}
	h, body, err := c.call(wire.OpGetData, &wire.PathWatchRequest{Path: "/ro"})
	var gd wire.GetDataResponse
	if err == nil && h.Err == wire.ErrOK {
		err = wire.Decode(body, &gd)
	}
	if err != nil || h.Err != wire.ErrOK || string(gd.Data) != "before" {
		t.Fatalf("getData in read-only mode: %v %v %q", err, h.Err, gd.Data)
	}
	for _, r := range []struct {
		op   wire.OpCode
		body wire.Record
	}{
		{wire.OpCreate, &wire.CreateRequest{Path: "/x", ACL: []wire.ACL{{Perms: 31, ID: wire.Id{Scheme: "world", ID: "anyone"}}}}},
		{wire.OpSetData, &wire.SetDataRequest{Path: "/ro", Data: []byte("no"), Version: -1}},
		{wire.OpDelete, &wire.PathVersionRequest{Path: "/ro", Version: -1}},
		{wire.OpSync, &wire.PathRequest{Path: "/"}},
	} {
		if h, _, err := c.call(r.op, r.body); err != nil || h.Err != wire.ErrNotReadOnly {
			t.Fatalf("%v in read-only mode: %v %v, want NotReadOnly", r.op, err, h.Err)
		}
	}

	// The quorum returns: the read-only connection is closed and the
	// server serves read-write clients again.
	for _, s := range servers[:2] {
		if err := s.Restart(); err != nil {
			t.Fatal(err)
		}
	}
	awaitWord(t, cut, "isro", "rw")
	c.nc.SetDeadline(time.Now().Add(modeTimeout))
	var ne net.Error
	if _, _, err := c.call(wire.OpGetData, &wire.PathWatchRequest{Path: "/ro"}); err == nil || errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the read-only connection survived the return of the quorum: %v", err)
	}
	rw = connect(t, cut.Addr())
	if _, err := rw.Set("/ro", []byte("after"), -1); err != nil {
		t.Fatalf("write on the server back in read-write mode: %v", err)
	}
	rw.Close()
}

// TestKazooReadOnly runs kazoo's own read-only test
// (test_connection.py::TestReadOnlyMode: two of three servers stop, the
// client must reach CONNECTED_RO within 6s, read, and get
// NotReadOnlyCallError on a write) against a 3-server ensemble of ours in
// read-only mode. As with Apache 3.7+, that needs localSessionsEnabled:
// the client's session is then local, found expired on the read-only
// server, and replaced by a read-only one.
func TestKazooReadOnly(t *testing.T) {
	t.Setenv("SERVER_JVMFLAGS", "-Dreadonlymode.enabled=true")
	cfg := map[string]string{"localSessionsEnabled": "true"}
	for k, v := range kazooSuiteCfg {
		cfg[k] = v
	}
	runKazooSuite(t, "our 3-server ensemble in read-only mode", harness.StartEnsemble(t, 3, cfg),
		// The test sleeps 15s on the read-only server.
		[]string{"KAZOO_SHIM_READ_ONLY=1", "KAZOO_SHIM_TIMEOUT=60"},
		"test_connection.py::TestReadOnlyMode")
}
