package server

import (
	"bytes"
	"net"
	"strings"
	"testing"

	"github.com/zkgo/zkgo/conf"
	"github.com/zkgo/zkgo/wire"
)

var openACL = []wire.ACL{{Perms: wire.PermAll, ID: wire.Id{Scheme: "world", ID: "anyone"}}}

func create(path, data string, flags int32) *wire.CreateRequest {
	return &wire.CreateRequest{Path: path, Data: []byte(data), ACL: openACL, Flags: flags}
}

func TestEveryOpcode(t *testing.T) {
	s := startServer(t, func(c *conf.Config) { c.ExtendedTypesEnabled = true })
	c := newRaw(t, s)

	var cr wire.PathRequest
	c.expect(wire.ErrOK, wire.OpCreate, create("/a", "x", 0), &cr)
	if cr.Path != "/a" {
		t.Fatalf("create path %q", cr.Path)
	}
	var c2 wire.Create2Response
	c.expect(wire.ErrOK, wire.OpCreate2, create("/a/s-", "", wire.FlagPersistentSequential), &c2)
	if c2.Path != "/a/s-0000000000" || c2.Stat.Version != 0 {
		t.Fatalf("create2 %+v", c2)
	}
	c.expect(wire.ErrOK, wire.OpCreateContainer, create("/box", "", wire.FlagContainer), &c2)
	ttl := create("/ttl", "", wire.FlagPersistentWithTTL)
	ttl.HasTTL, ttl.TTL = true, 60000
	c.expect(wire.ErrOK, wire.OpCreateTTL, ttl, &c2)
	c.expect(wire.ErrNodeExists, wire.OpCreate, create("/a", "", 0), nil)
	c.expect(wire.ErrNoNode, wire.OpCreate, create("/no/child", "", 0), nil)

	var st wire.StatResponse
	c.expect(wire.ErrOK, wire.OpExists, &wire.PathWatchRequest{Path: "/a"}, &st)
	if st.Stat.NumChildren != 1 || st.Stat.DataLength != 1 {
		t.Fatalf("exists stat %+v", st.Stat)
	}
	c.expect(wire.ErrNoNode, wire.OpExists, &wire.PathWatchRequest{Path: "/zz"}, nil)
	var gd wire.GetDataResponse
	c.expect(wire.ErrOK, wire.OpGetData, &wire.PathWatchRequest{Path: "/a"}, &gd)
	if string(gd.Data) != "x" {
		t.Fatalf("getData %q", gd.Data)
	}
	c.expect(wire.ErrOK, wire.OpSetData, &wire.SetDataRequest{Path: "/a", Data: []byte("y"), Version: 0}, &st)
	if st.Stat.Version != 1 {
		t.Fatalf("setData version %d", st.Stat.Version)
	}
	c.expect(wire.ErrBadVersion, wire.OpSetData, &wire.SetDataRequest{Path: "/a", Version: 0}, nil)
	var acl wire.GetACLResponse
	c.expect(wire.ErrOK, wire.OpGetACL, &wire.PathRequest{Path: "/a"}, &acl)
	if len(acl.ACL) != 1 || acl.ACL[0].ID.Scheme != "world" {
		t.Fatalf("getACL %+v", acl)
	}
	c.expect(wire.ErrOK, wire.OpSetACL, &wire.SetACLRequest{Path: "/a", ACL: openACL, Version: 0}, &st)
	if st.Stat.Aversion != 1 {
		t.Fatalf("setACL aversion %d", st.Stat.Aversion)
	}
	var ch wire.StringsResponse
	c.expect(wire.ErrOK, wire.OpGetChildren, &wire.PathWatchRequest{Path: "/a"}, &ch)
	var ch2 wire.GetChildren2Response
	c.expect(wire.ErrOK, wire.OpGetChildren2, &wire.PathWatchRequest{Path: "/a"}, &ch2)
	if len(ch.Strings) != 1 || len(ch2.Children) != 1 || ch2.Stat.NumChildren != 1 {
		t.Fatalf("children %v %+v", ch, ch2)
	}
	var sy wire.PathRequest
	c.expect(wire.ErrOK, wire.OpSync, &wire.PathRequest{Path: "/a"}, &sy)
	if sy.Path != "/a" {
		t.Fatalf("sync path %q", sy.Path)
	}
	c.expect(wire.ErrOK, wire.OpPing, nil, nil)
	c.expect(wire.ErrOK, wire.OpCheck, &wire.PathVersionRequest{Path: "/a", Version: 1}, nil)
	c.expect(wire.ErrBadVersion, wire.OpCheck, &wire.PathVersionRequest{Path: "/a", Version: 7}, nil)

	var n wire.IntResponse
	c.expect(wire.ErrOK, wire.OpGetAllChildrenNumber, &wire.PathRequest{Path: "/a"}, &n)
	if n.Value != 1 {
		t.Fatalf("getAllChildrenNumber %d", n.Value)
	}
	c.expect(wire.ErrOK, wire.OpCreate, create("/a/eph", "", wire.FlagEphemeral), nil)
	var eph wire.StringsResponse
	c.expect(wire.ErrOK, wire.OpGetEphemerals, &wire.PathRequest{Path: "/"}, &eph)
	if len(eph.Strings) != 1 || eph.Strings[0] != "/a/eph" {
		t.Fatalf("getEphemerals %v", eph.Strings)
	}
	var who wire.WhoAmIResponse
	c.expect(wire.ErrOK, wire.OpWhoAmI, nil, &who)
	if len(who.ClientInfo) != 1 || who.ClientInfo[0].AuthScheme != "ip" || who.ClientInfo[0].User != "127.0.0.1" {
		t.Fatalf("whoAmI %+v", who)
	}
	c.expect(wire.ErrOK, wire.OpAuth, &wire.AuthPacket{Scheme: "digest", Auth: []byte("bob:secret")}, nil)
	c.expect(wire.ErrOK, wire.OpWhoAmI, nil, &who)
	if len(who.ClientInfo) != 2 || who.ClientInfo[1].AuthScheme != "digest" || who.ClientInfo[1].User != "bob" {
		t.Fatalf("whoAmI after auth %+v", who)
	}
	// As Apache: any credentials; the identity is the client's address,
	// which the connection has already.
	c.expect(wire.ErrOK, wire.OpAuth, &wire.AuthPacket{Scheme: "ip", Auth: []byte("10.1.2.3")}, nil)
	c.expect(wire.ErrOK, wire.OpWhoAmI, nil, &who)
	if len(who.ClientInfo) != 2 || who.ClientInfo[0] != (wire.ClientInfo{AuthScheme: "ip", User: "127.0.0.1"}) {
		t.Fatalf("whoAmI after ip auth %+v", who)
	}
	c.expect(wire.ErrReconfigDisabled, wire.OpReconfig, &wire.ReconfigRequest{CurConfigID: -1}, nil)
	c.expect(wire.ErrUnimplemented, wire.OpCode(55), nil, nil)

	var mr wire.MultiResponse
	c.expect(wire.ErrOK, wire.OpMultiRead, &wire.MultiRequest{Ops: []wire.Op{
		{Type: wire.OpGetData, Body: &wire.PathWatchRequest{Path: "/a"}},
		{Type: wire.OpGetChildren, Body: &wire.PathWatchRequest{Path: "/nope"}},
	}}, &mr)
	if len(mr.Results) != 2 || mr.Results[0].Type != wire.OpGetData || mr.Results[1].Err != wire.ErrNoNode {
		t.Fatalf("multiRead %+v", mr.Results)
	}
	c.call(wire.OpMulti, &wire.MultiRequest{Ops: []wire.Op{
		{Type: wire.OpCreate, Body: create("/m", "", 0)},
		{Type: wire.OpDelete, Body: &wire.PathVersionRequest{Path: "/missing", Version: -1}},
		{Type: wire.OpSetData, Body: &wire.SetDataRequest{Path: "/a", Version: -1}},
	}}, &mr)
	c.expect(wire.ErrNoNode, wire.OpExists, &wire.PathWatchRequest{Path: "/m"}, nil)

	// Watch management.
	c.expect(wire.ErrOK, wire.OpGetData, &wire.PathWatchRequest{Path: "/a", Watch: true}, &gd)
	c.expect(wire.ErrOK, wire.OpCheckWatches, &wire.PathTypeRequest{Path: "/a", Type: wire.WatcherData}, nil)
	c.expect(wire.ErrNoWatcher, wire.OpCheckWatches, &wire.PathTypeRequest{Path: "/a", Type: wire.WatcherChildren}, nil)
	c.expect(wire.ErrOK, wire.OpRemoveWatches, &wire.PathTypeRequest{Path: "/a", Type: wire.WatcherData}, nil)
	c.expectEvents() // the client, not the server, raises DataWatchRemoved
	c.expect(wire.ErrOK, wire.OpAddWatch, &wire.PathTypeRequest{Path: "/a", Type: wire.AddWatchPersistentRecursive}, nil)
	c.expect(wire.ErrOK, wire.OpSetData, &wire.SetDataRequest{Path: "/a/s-0000000000", Version: -1}, nil)
	c.expect(wire.ErrOK, wire.OpSetData, &wire.SetDataRequest{Path: "/a", Version: -1}, nil)
	c.expectEvents("NodeDataChanged /a/s-0000000000", "NodeDataChanged /a")
	c.expect(wire.ErrOK, wire.OpSetWatches2, &wire.SetWatches{V2: true, RelativeZxid: 1,
		DataWatches: []string{"/a"}, ExistWatches: []string{"/gone"}, ChildWatches: []string{},
		PersistentWatches: []string{}, PersistentRecursiveWatches: []string{}}, nil)
	c.expectEvents("NodeDataChanged /a")

	c.expect(wire.ErrOK, wire.OpDelete, &wire.PathVersionRequest{Path: "/a/s-0000000000", Version: -1}, nil)
	c.expect(wire.ErrNotEmpty, wire.OpDelete, &wire.PathVersionRequest{Path: "/a", Version: -1}, nil)
	c.expectEvents("NodeDeleted /a/s-0000000000")

	c.expect(wire.ErrOK, wire.OpCloseSession, nil, nil)
	c.waitClosed()
}

// TestFIFO pipelines writes and a read without waiting: the read must see
// every write before it, and replies must come back in request order.
func TestFIFO(t *testing.T) {
	s := startServer(t, nil)
	c := newRaw(t, s)
	const n = 200
	var chans []chan reply
	for i := 0; i < n; i++ {
		_, ch := c.send(wire.OpCreate, create("/n"+string(rune('a'+i%26))+strings.Repeat("x", i/26), "", 0))
		chans = append(chans, ch)
	}
	_, last := c.send(wire.OpGetChildren, &wire.PathWatchRequest{Path: "/"})
	var prev int32
	for i := 0; i <= n; i++ {
		xid := <-c.order
		if xid <= prev {
			t.Fatalf("reply %d out of order after %d", xid, prev)
		}
		prev = xid
	}
	r := <-last
	var ch wire.StringsResponse
	if err := wire.Decode(r.body, &ch); err != nil || len(ch.Strings) != n+1 {
		t.Fatalf("read saw %d children (%v), want %d", len(ch.Strings), err, n+1)
	}
	for _, c := range chans {
		if r := <-c; r.hdr.Err != wire.ErrOK {
			t.Fatalf("create failed: %v", r.hdr.Err)
		}
	}
}

func TestSessionExpiryDeletesEphemerals(t *testing.T) {
	s := startServer(t, nil)
	owner, err := dialRaw(t, s.Addr().String(), wire.ConnectRequest{TimeOut: 300})
	if err != nil {
		t.Fatal(err)
	}
	if owner.resp.TimeOut != 300 {
		t.Fatalf("negotiated timeout %d", owner.resp.TimeOut)
	}
	owner.expect(wire.ErrOK, wire.OpCreate, create("/e", "", wire.FlagEphemeral), nil)
	watcher := newRaw(t, s)
	watcher.expect(wire.ErrOK, wire.OpExists, &wire.PathWatchRequest{Path: "/e", Watch: true}, nil)
	// The owner never pings: its session expires and /e goes.
	watcher.expectEvents("NodeDeleted /e")
	owner.waitClosed()
	// Reconnecting to the expired session is refused the way Apache does.
	again, err := dialRaw(t, s.Addr().String(), wire.ConnectRequest{SessionID: owner.resp.SessionID, Passwd: owner.resp.Passwd})
	if err != nil {
		t.Fatal(err)
	}
	if again.resp.SessionID != 0 || again.resp.TimeOut != 0 {
		t.Fatalf("expired session accepted: %+v", again.resp)
	}
	again.waitClosed()
}

func TestReconnect(t *testing.T) {
	s := startServer(t, nil)
	c := newRaw(t, s)
	c.expect(wire.ErrOK, wire.OpCreate, create("/e", "", wire.FlagEphemeral), nil)
	bad, err := dialRaw(t, s.Addr().String(), wire.ConnectRequest{SessionID: c.resp.SessionID, Passwd: make([]byte, 16)})
	if err != nil {
		t.Fatal(err)
	}
	if bad.resp.SessionID != 0 {
		t.Fatal("wrong password accepted")
	}
	good, err := dialRaw(t, s.Addr().String(), wire.ConnectRequest{SessionID: c.resp.SessionID, Passwd: c.resp.Passwd})
	if err != nil {
		t.Fatal(err)
	}
	if good.resp.SessionID != c.resp.SessionID {
		t.Fatalf("session not resumed: %+v", good.resp)
	}
	c.waitClosed() // the old connection is closed when the session moves
	var st wire.StatResponse
	good.expect(wire.ErrOK, wire.OpExists, &wire.PathWatchRequest{Path: "/e"}, &st)
	if st.Stat.EphemeralOwner != c.resp.SessionID {
		t.Fatalf("ephemeral owner %x", st.Stat.EphemeralOwner)
	}
	// A client that has seen a newer zxid than ours is refused.
	nc, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.Write(wire.AppendFrame(nil, &wire.ConnectRequest{LastZxidSeen: 1 << 40, TimeOut: 1000, Passwd: make([]byte, 16)}))
	if _, err := wire.ReadFrame(nc, nil, wire.DefaultMaxBuffer); err == nil {
		t.Fatal("client ahead of the server was accepted")
	}
}

func TestBadInputClosesOnlyThatConnection(t *testing.T) {
	s := startServer(t, func(c *conf.Config) { c.JuteMaxBuffer = 1024 })
	good := newRaw(t, s)
	good.expect(wire.ErrOK, wire.OpCreate, create("/keep", "", 0), nil)

	malformed := newRaw(t, s)
	malformed.nc.Write(wire.AppendFrame(nil, &wire.RequestHeader{Xid: 1, Type: wire.OpCreate}, &wire.IntResponse{Value: 99}))
	malformed.waitClosed()

	oversized := newRaw(t, s)
	oversized.nc.Write(wire.AppendFrame(nil, &wire.RequestHeader{Xid: 1, Type: wire.OpSetData},
		&wire.SetDataRequest{Path: "/keep", Data: bytes.Repeat([]byte("x"), 2048), Version: -1}))
	oversized.waitClosed()

	garbage, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	garbage.Write([]byte{0xff, 0xff, 0xff, 0xff, 1, 2, 3})
	garbage.Close()

	var gd wire.GetDataResponse
	good.expect(wire.ErrOK, wire.OpGetData, &wire.PathWatchRequest{Path: "/keep"}, &gd)
	if len(gd.Data) != 0 {
		t.Fatal("oversized write was applied")
	}
}

func TestMaxClientCnxns(t *testing.T) {
	s := startServer(t, func(c *conf.Config) { c.MaxClientCnxns = 2 })
	newRaw(t, s)
	newRaw(t, s)
	if c, err := dialRaw(t, s.Addr().String(), wire.ConnectRequest{}); err == nil {
		t.Fatalf("third connection from one address accepted: %+v", c.resp)
	}
}

func TestFourLetterWords(t *testing.T) {
	s := startServer(t, nil)
	addr := s.Addr().String()
	if got := fourLetter(t, addr, "ruok"); got != "imok" {
		t.Fatalf("ruok: %q", got)
	}
	srvr := fourLetter(t, addr, "srvr")
	for _, want := range []string{"Zookeeper version: 3.9", "Mode: standalone\n", "Node count: "} {
		if !strings.Contains(srvr, want) {
			t.Fatalf("srvr lacks %q:\n%s", want, srvr)
		}
	}
	limited := startServer(t, func(c *conf.Config) { c.FourLetterWords = []string{"srvr"} })
	if got := fourLetter(t, limited.Addr().String(), "ruok"); got != "ruok is not executed because it is not in the whitelist.\n" {
		t.Fatalf("non-whitelisted ruok: %q", got)
	}
}

// The container manager checks every ContainerCheckIntervalMs: an emptied
// container, an expired TTL node and, with ContainerMaxNeverUsedIntervalMs,
// a container that never had a child go well within waitLimit, which the
// default interval (a minute) would exceed.
func TestContainerManagerInterval(t *testing.T) {
	s := startServer(t, func(c *conf.Config) {
		c.ExtendedTypesEnabled = true
		c.ContainerCheckIntervalMs = 50
		c.ContainerMaxNeverUsedIntervalMs = 100
	})
	c := newRaw(t, s)
	c.expect(wire.ErrOK, wire.OpCreateContainer, create("/used", "", wire.FlagContainer), nil)
	c.expect(wire.ErrOK, wire.OpCreate, create("/used/child", "", 0), nil)
	c.expect(wire.ErrOK, wire.OpCreateTTL, &wire.CreateRequest{Path: "/ttl", ACL: openACL,
		Flags: wire.FlagPersistentWithTTL, TTL: 100, HasTTL: true}, nil)
	c.expect(wire.ErrOK, wire.OpCreateContainer, create("/unused", "", wire.FlagContainer), nil)
	pending := map[string]bool{}
	for _, p := range []string{"/used", "/ttl", "/unused"} {
		// NoNode: gone already.
		if h := c.call(wire.OpExists, &wire.PathWatchRequest{Path: p, Watch: true}, nil); h.Err == wire.ErrOK {
			pending[p] = true
		}
	}
	c.expect(wire.ErrOK, wire.OpDelete, &wire.PathVersionRequest{Path: "/used/child", Version: -1}, nil)
	for len(pending) > 0 {
		ev := c.event()
		if ev.Type != wire.EventNodeDeleted || !pending[ev.Path] {
			t.Fatalf("event %v %s; still waiting for the deletion of %v", ev.Type, ev.Path, pending)
		}
		delete(pending, ev.Path)
	}
}
