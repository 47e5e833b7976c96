package znode

import (
	"math"
	"testing"

	"github.com/zkgo/zkgo/internal/auth"
	"github.com/zkgo/zkgo/wire"
)

func TestNewTree(t *testing.T) {
	h := newHarness(t, Options{})
	eq(t, "root children", h.children("/"), []string{"zookeeper"})
	eq(t, "/zookeeper children", h.children("/zookeeper"), []string{"config", "quota"})
	// A fresh Apache server: all zero, cversion = 0*2 - numChildren.
	eq(t, "/", h.stat("/"), wire.Stat{Cversion: -1, NumChildren: 1})
	eq(t, "/zookeeper", h.stat("/zookeeper"), wire.Stat{Cversion: -2, NumChildren: 2})
	eq(t, "/zookeeper/quota", h.stat("/zookeeper/quota"), wire.Stat{})
	eq(t, "/zookeeper/config", h.stat("/zookeeper/config"), wire.Stat{Aversion: -1})
	if d := h.data("/zookeeper/config"); d == nil || len(d) != 0 {
		t.Errorf("config data %v, want empty non-null", d)
	}
	r, err := h.tree.Read(wire.OpGetACL, &wire.PathRequest{Path: "/zookeeper/config"}, Caller{})
	if err != wire.ErrOK {
		t.Fatal(err)
	}
	eq(t, "config ACL", r.(*wire.GetACLResponse).ACL, ReadACL)
	r, _ = h.tree.Read(wire.OpGetACL, &wire.PathRequest{Path: "/"}, Caller{})
	eq(t, "root ACL", r.(*wire.GetACLResponse).ACL, OpenACL)
	st := h.tree.Stats()
	eq(t, "znode count", st.NodeCount, 5)
	eq(t, "data size", st.ApproxDataSize, int64(44))
	eq(t, "last zxid", h.tree.LastZxid(), int64(0))
	// "" is the root's alias, as in Apache's node table.
	eq(t, "alias", h.stat(""), h.stat("/"))
}

func TestCreateErrors(t *testing.T) {
	digest := wire.Id{Scheme: "digest", ID: auth.DigestID("u", "p")}
	tests := []struct {
		name  string
		op    wire.OpCode
		req   *wire.CreateRequest
		sess  int64
		auth  []wire.Id
		ext   bool
		want  wire.ErrCode
		setup func(h *harness)
	}{
		{name: "bad flags", req: createReq("/a", "", 7), want: wire.ErrBadArguments},
		{name: "negative flags", req: createReq("/a", "", -1), want: wire.ErrBadArguments},
		{name: "ttl disabled", req: createReq("/a", "", wire.FlagPersistentWithTTL), want: wire.ErrUnimplemented},
		{name: "ttl mode without ttl", req: createReq("/a", "", wire.FlagPersistentWithTTL), ext: true, want: wire.ErrBadArguments},
		{name: "createTTL zero", op: wire.OpCreateTTL, ext: true, want: wire.ErrBadArguments,
			req: &wire.CreateRequest{Path: "/a", ACL: OpenACL, Flags: wire.FlagPersistentWithTTL, TTL: 0, HasTTL: true}},
		{name: "createTTL too long", op: wire.OpCreateTTL, ext: true, want: wire.ErrBadArguments,
			req: &wire.CreateRequest{Path: "/a", ACL: OpenACL, Flags: wire.FlagPersistentWithTTL, TTL: MaxTTL + 1, HasTTL: true}},
		{name: "createTTL plain mode", op: wire.OpCreateTTL, ext: true, want: wire.ErrBadArguments,
			req: &wire.CreateRequest{Path: "/a", ACL: OpenACL, Flags: wire.FlagPersistent, TTL: 10, HasTTL: true}},
		{name: "no slash", req: createReq("a", "", 0), want: wire.ErrBadArguments},
		{name: "null char", req: createReq("/a\x00b", "", 0), want: wire.ErrBadArguments},
		{name: "no parent", req: createReq("/x/y", "", 0), want: wire.ErrNoNode},
		{name: "empty component", req: createReq("/a//b", "", 0), want: wire.ErrNoNode},
		{name: "trailing slash", req: createReq("/zookeeper/", "", 0), want: wire.ErrBadArguments},
		{name: "dot", req: createReq("/zookeeper/.", "", 0), want: wire.ErrBadArguments},
		{name: "dotdot", req: createReq("/zookeeper/..", "", 0), want: wire.ErrBadArguments},
		{name: "control char", req: createReq("/a\tb", "", 0), want: wire.ErrBadArguments},
		{name: "exists", req: createReq("/zookeeper", "", 0), want: wire.ErrNodeExists},
		{name: "root", req: createReq("/", "", 0), want: wire.ErrNodeExists},
		{name: "empty ACL", req: &wire.CreateRequest{Path: "/a"}, want: wire.ErrInvalidACL},
		{name: "invalid ACL before missing parent", req: &wire.CreateRequest{Path: "/x/y"}, want: wire.ErrInvalidACL},
		{name: "world nobody", want: wire.ErrInvalidACL,
			req: &wire.CreateRequest{Path: "/a", ACL: []wire.ACL{{Perms: wire.PermAll, ID: wire.Id{Scheme: "world", ID: "nobody"}}}}},
		{name: "bad digest", want: wire.ErrInvalidACL,
			req: &wire.CreateRequest{Path: "/a", ACL: []wire.ACL{{Perms: wire.PermAll, ID: wire.Id{Scheme: "digest", ID: "nocolon"}}}}},
		{name: "bad ip", want: wire.ErrInvalidACL,
			req: &wire.CreateRequest{Path: "/a", ACL: []wire.ACL{{Perms: wire.PermAll, ID: wire.Id{Scheme: "ip", ID: "1.2.3"}}}}},
		{name: "bad ip bits", want: wire.ErrInvalidACL,
			req: &wire.CreateRequest{Path: "/a", ACL: []wire.ACL{{Perms: wire.PermAll, ID: wire.Id{Scheme: "ip", ID: "1.2.3.4/33"}}}}},
		{name: "unknown scheme", want: wire.ErrInvalidACL,
			req: &wire.CreateRequest{Path: "/a", ACL: []wire.ACL{{Perms: wire.PermAll, ID: wire.Id{Scheme: "super", ID: ""}}}}},
		{name: "auth without identity", auth: []wire.Id{{Scheme: "ip", ID: "127.0.0.1"}, superID}, want: wire.ErrInvalidACL,
			req: &wire.CreateRequest{Path: "/a", ACL: []wire.ACL{{Perms: wire.PermAll, ID: wire.Id{Scheme: "auth", ID: ""}}}}},
		{name: "no create permission", req: createReq("/p/a", "", 0), want: wire.ErrNoAuth, setup: func(h *harness) {
			h.mustApply(0, nil, wire.OpCreate, &wire.CreateRequest{Path: "/p",
				ACL: []wire.ACL{{Perms: wire.PermAll &^ wire.PermCreate, ID: wire.Id{Scheme: "world", ID: "anyone"}}}})
		}},
		{name: "digest lacks create", req: createReq("/p/a", "", 0), auth: []wire.Id{digest}, want: wire.ErrNoAuth, setup: func(h *harness) {
			h.mustApply(0, nil, wire.OpCreate, &wire.CreateRequest{Path: "/p",
				ACL: []wire.ACL{{Perms: wire.PermRead, ID: digest}, {Perms: wire.PermCreate, ID: wire.Id{Scheme: "digest", ID: "other:x"}}}})
		}},
		{name: "ephemeral parent", req: createReq("/e/a", "", 0), want: wire.ErrNoChildrenForEphemerals, setup: func(h *harness) {
			h.openSession(1)
			if _, err := h.create(1, "/e", "", wire.FlagEphemeral); err != wire.ErrOK {
				t.Fatal(err)
			}
		}},
		{name: "expired session", req: createReq("/a", "", 0), sess: 42, want: wire.ErrSessionExpired},
		{name: "expired session after flags", req: createReq("/a", "", 9), sess: 42, want: wire.ErrBadArguments},
		{name: "sequential trailing slash ok", req: createReq("/zookeeper/", "", wire.FlagPersistentSequential), want: wire.ErrOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Options{ExtendedTypes: tc.ext})
			if tc.setup != nil {
				tc.setup(h)
			}
			op := tc.op
			if op == 0 {
				op = wire.OpCreate2
			}
			before := h.snapshot()
			zxid := h.zxid
			r := h.txn(tc.sess, tc.auth, op, tc.req)
			eq(t, "err", r.Err, tc.want)
			if tc.want != wire.ErrOK {
				if r.Body != nil {
					t.Errorf("body %v on failure", r.Body)
				}
				// Nothing changed but the last zxid.
				h.tree.lastZxid.Store(zxid)
				if string(before) != string(h.snapshot()) {
					t.Errorf("failed create changed the tree")
				}
				h.tree.lastZxid.Store(h.zxid)
			}
			eq(t, "last zxid", h.tree.LastZxid(), h.zxid)
		})
	}
}

func TestCreateStat(t *testing.T) {
	h := newHarness(t, Options{})
	h.openSession(7)
	h.mustCreate("/p", "")
	pc := h.stat("/p")

	r := h.txn(7, nil, wire.OpCreate2, createReq("/p/e", "hello", wire.FlagEphemeral))
	if r.Err != wire.ErrOK {
		t.Fatal(r.Err)
	}
	z, tm := h.zxid, h.time
	got := r.Body.(*wire.Create2Response)
	want := wire.Stat{Czxid: z, Mzxid: z, Pzxid: z, Ctime: tm, Mtime: tm, EphemeralOwner: 7, DataLength: 5}
	eq(t, "path", got.Path, "/p/e")
	eq(t, "create2 stat", got.Stat, want)
	eq(t, "exists stat", h.stat("/p/e"), want)

	ps := h.stat("/p")
	eq(t, "parent cversion", ps.Cversion, int32(1))
	eq(t, "parent numChildren", ps.NumChildren, int32(1))
	eq(t, "parent pzxid", ps.Pzxid, z)
	eq(t, "parent mzxid unchanged", ps.Mzxid, pc.Mzxid)
	eq(t, "parent version unchanged", ps.Version, int32(0))

	// Plain create answers the path only.
	r = h.txn(0, nil, wire.OpCreate, createReq("/p/f", "", 0))
	eq(t, "create body", r.Body, wire.Record(&wire.PathRequest{Path: "/p/f"}))

	// Delete: visible cversion counts deletions too; pzxid moves.
	if err := h.delete("/p/f", -1); err != wire.ErrOK {
		t.Fatal(err)
	}
	ps = h.stat("/p")
	eq(t, "cversion after delete", ps.Cversion, int32(3))
	eq(t, "pzxid after delete", ps.Pzxid, h.zxid)
	eq(t, "numChildren after delete", ps.NumChildren, int32(1))

	// null data stays null, empty stays empty.
	h.mustApply(0, nil, wire.OpCreate, &wire.CreateRequest{Path: "/null", ACL: OpenACL})
	h.mustApply(0, nil, wire.OpCreate, &wire.CreateRequest{Path: "/empty", Data: []byte{}, ACL: OpenACL})
	if h.data("/null") != nil {
		t.Errorf("null data came back non-null")
	}
	if d := h.data("/empty"); d == nil || len(d) != 0 {
		t.Errorf("empty data came back as %v", d)
	}
}

func TestSequential(t *testing.T) {
	h := newHarness(t, Options{})
	h.mustCreate("/s", "")
	var got []string
	for i := 0; i < 3; i++ {
		p, err := h.create(0, "/s/n-", "", wire.FlagPersistentSequential)
		if err != wire.ErrOK {
			t.Fatal(err)
		}
		got = append(got, p)
	}
	eq(t, "names", got, []string{"/s/n-0000000000", "/s/n-0000000001", "/s/n-0000000002"})
	// Deleting does not reuse numbers; plain creates consume one.
	if err := h.delete("/s/n-0000000002", -1); err != wire.ErrOK {
		t.Fatal(err)
	}
	h.mustCreate("/s/plain", "")
	p, _ := h.create(0, "/s/n-", "", wire.FlagPersistentSequential)
	eq(t, "after delete and plain create", p, "/s/n-0000000004")
	// A sequential child of the root gets the root's count; "/" + seq is
	// valid.
	p, err := h.create(0, "/", "", wire.FlagPersistentSequential)
	eq(t, "root sequential", p, "/0000000001")
	eq(t, "err", err, wire.ErrOK)
	// Sequential ephemeral.
	h.openSession(3)
	p, _ = h.create(3, "/s/e", "", wire.FlagEphemeralSequential)
	eq(t, "ephemeral sequential", p, "/s/e0000000005")
	eq(t, "owner", h.stat(p).EphemeralOwner, int64(3))

	eq(t, "negative", sequentialName("/x", -1), "/x-000000001")
	eq(t, "min", sequentialName("/x", math.MinInt32), "/x-2147483648")
	eq(t, "max", sequentialName("/x", math.MaxInt32), "/x2147483647")
}

func TestDelete(t *testing.T) {
	tests := []struct {
		name    string
		path    string
		version int32
		want    wire.ErrCode
	}{
		{"root", "/", -1, wire.ErrBadArguments},
		{"zookeeper", "/zookeeper", -1, wire.ErrBadArguments},
		{"quota", "/zookeeper/quota", -1, wire.ErrBadArguments},
		{"config", "/zookeeper/config", -1, wire.ErrBadArguments},
		{"relative", "a", -1, wire.ErrBadArguments},
		{"null", "/a\x00", -1, wire.ErrBadArguments},
		{"no parent", "/x/y", -1, wire.ErrNoNode},
		{"no node", "/a/x", -1, wire.ErrNoNode},
		{"bad version", "/a/b", 3, wire.ErrBadVersion},
		{"not empty", "/a", -1, wire.ErrNotEmpty},
		{"no delete permission", "/locked/c", -1, wire.ErrNoAuth},
		{"any version", "/a/b", -1, wire.ErrOK},
		{"exact version", "/a/b", 1, wire.ErrOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Options{})
			h.mustCreate("/a", "")
			h.mustCreate("/a/b", "")
			h.setData("/a/b", "x", -1)
			h.mustCreate("/locked", "")
			h.mustCreate("/locked/c", "")
			h.mustApply(0, nil, wire.OpSetACL, &wire.SetACLRequest{Path: "/locked", Version: -1,
				ACL: []wire.ACL{{Perms: wire.PermAll &^ wire.PermDelete, ID: wire.Id{Scheme: "world", ID: "anyone"}}}})
			eq(t, "err", h.delete(tc.path, tc.version), tc.want)
			if tc.want == wire.ErrOK && h.exists(tc.path) {
				t.Errorf("%s still exists", tc.path)
			}
		})
	}
}

func TestSetData(t *testing.T) {
	h := newHarness(t, Options{})
	h.mustCreate("/a", "one")
	c := h.stat("/a")
	st, err := h.setData("/a", "four", 0)
	eq(t, "err", err, wire.ErrOK)
	want := c
	want.Version, want.Mzxid, want.Mtime, want.DataLength = 1, h.zxid, h.time, 4
	eq(t, "stat", st, want)
	eq(t, "data", string(h.data("/a")), "four")
	st, _ = h.setData("/a", "", -1)
	eq(t, "version", st.Version, int32(2))

	h.mustApply(0, nil, wire.OpCreate, &wire.CreateRequest{Path: "/ro", ACL: ReadACL})
	for _, tc := range []struct {
		path    string
		version int32
		want    wire.ErrCode
	}{
		{"/a", 1, wire.ErrBadVersion},
		{"/missing", -1, wire.ErrNoNode},
		{"/a/", -1, wire.ErrBadArguments},
		{"a", -1, wire.ErrBadArguments},
		{"/ro", -1, wire.ErrNoAuth},
	} {
		_, err := h.setData(tc.path, "x", tc.version)
		eq(t, tc.path, err, tc.want)
	}
	// super passes every ACL.
	r := h.txn(0, superAuth, wire.OpSetData, &wire.SetDataRequest{Path: "/ro", Data: []byte("x"), Version: -1})
	eq(t, "super", r.Err, wire.ErrOK)
}

func TestNextVersion(t *testing.T) {
	for _, tc := range []struct {
		cur, expected, next int32
		ok                  bool
	}{
		{0, -1, 1, true},
		{0, 0, 1, true},
		{0, 1, 0, false},
		{math.MaxInt32, -1, math.MinInt32, true},
		{-2, -1, 0, true}, // skips -1 (ZOOKEEPER-4743)
	} {
		n, ok := nextVersion(tc.cur, tc.expected)
		if ok != tc.ok || (ok && n != tc.next) {
			t.Errorf("nextVersion(%d, %d) = %d, %v", tc.cur, tc.expected, n, ok)
		}
	}
}

func TestSetACL(t *testing.T) {
	h := newHarness(t, Options{})
	alice := wire.Id{Scheme: "digest", ID: auth.DigestID("alice", "pw")}
	bob := wire.Id{Scheme: "digest", ID: auth.DigestID("bob", "pw")}
	h.mustCreate("/a", "")
	// "auth" expands to the caller's authenticated ids, not ip or super.
	auth := []wire.Id{{Scheme: "ip", ID: "10.0.0.1"}, alice, superID, bob}
	r := h.mustApply(0, auth, wire.OpSetACL, &wire.SetACLRequest{Path: "/a", Version: 0,
		ACL: []wire.ACL{{Perms: wire.PermAll, ID: wire.Id{Scheme: "auth", ID: "ignored"}},
			{Perms: wire.PermRead, ID: wire.Id{Scheme: "ip", ID: "10.0.0.0/8"}},
			{Perms: wire.PermRead, ID: wire.Id{Scheme: "ip", ID: "10.0.0.0/8"}}}})
	eq(t, "aversion", r.Body.(*wire.StatResponse).Stat.Aversion, int32(1))
	acl, err := h.tree.Read(wire.OpGetACL, &wire.PathRequest{Path: "/a"}, Caller{Auth: []wire.Id{alice}})
	eq(t, "err", err, wire.ErrOK)
	eq(t, "expanded", acl.(*wire.GetACLResponse).ACL, []wire.ACL{
		{Perms: wire.PermAll, ID: alice}, {Perms: wire.PermAll, ID: bob},
		{Perms: wire.PermRead, ID: wire.Id{Scheme: "ip", ID: "10.0.0.0/8"}}})

	for _, tc := range []struct {
		name string
		req  *wire.SetACLRequest
		auth []wire.Id
		want wire.ErrCode
	}{
		{"no admin", &wire.SetACLRequest{Path: "/a", ACL: OpenACL, Version: -1}, []wire.Id{{Scheme: "ip", ID: "10.1.1.1"}}, wire.ErrNoAuth},
		{"bad version", &wire.SetACLRequest{Path: "/a", ACL: OpenACL, Version: 0}, []wire.Id{alice}, wire.ErrBadVersion},
		{"invalid acl", &wire.SetACLRequest{Path: "/a", Version: -1}, []wire.Id{alice}, wire.ErrInvalidACL},
		{"invalid acl before no node", &wire.SetACLRequest{Path: "/nope", Version: -1}, nil, wire.ErrInvalidACL},
		{"no node", &wire.SetACLRequest{Path: "/nope", ACL: OpenACL, Version: -1}, nil, wire.ErrNoNode},
		{"bad path", &wire.SetACLRequest{Path: "/a/", ACL: OpenACL, Version: -1}, nil, wire.ErrBadArguments},
		{"admin ok", &wire.SetACLRequest{Path: "/a", ACL: OpenACL, Version: 1}, []wire.Id{bob}, wire.ErrOK},
	} {
		eq(t, tc.name, h.txn(0, tc.auth, wire.OpSetACL, tc.req).Err, tc.want)
	}
	eq(t, "aversion", h.stat("/a").Aversion, int32(2))
}

func TestCheck(t *testing.T) {
	h := newHarness(t, Options{})
	h.mustCreate("/a", "")
	h.mustApply(0, nil, wire.OpCreate, &wire.CreateRequest{Path: "/hidden",
		ACL: []wire.ACL{{Perms: wire.PermWrite, ID: wire.Id{Scheme: "world", ID: "anyone"}}}})
	for _, tc := range []struct {
		path    string
		version int32
		want    wire.ErrCode
	}{
		{"/a", 0, wire.ErrOK},
		{"/a", -1, wire.ErrOK},
		{"/a", 1, wire.ErrBadVersion},
		{"/b", -1, wire.ErrNoNode},
		{"/a/", -1, wire.ErrBadArguments},
		{"/hidden", -1, wire.ErrNoAuth},
	} {
		r := h.txn(0, nil, wire.OpCheck, &wire.PathVersionRequest{Path: tc.path, Version: tc.version})
		eq(t, tc.path, r.Err, tc.want)
		if r.Body != nil {
			t.Errorf("check body %v", r.Body)
		}
	}
}

func TestSessionsAndEphemerals(t *testing.T) {
	h := newHarness(t, Options{})
	h.openSession(2)
	h.openSession(1)
	eq(t, "sessions", h.tree.Sessions(), []SessionInfo{
		{ID: 1, Timeout: 30000, Passwd: []byte("pw")}, {ID: 2, Timeout: 30000, Passwd: []byte("pw")}})
	s, ok := h.tree.Session(2)
	eq(t, "session", s.ID, int64(2))
	eq(t, "ok", ok, true)
	if _, ok := h.tree.Session(3); ok {
		t.Error("unknown session found")
	}

	h.mustCreate("/app", "")
	for _, p := range []string{"/app/z", "/app/b", "/e"} {
		if _, err := h.create(1, p, "", wire.FlagEphemeral); err != wire.ErrOK {
			t.Fatal(err)
		}
	}
	h.create(2, "/other", "", wire.FlagEphemeral)
	eq(t, "by session", h.tree.EphemeralsBySession(), map[int64][]string{1: {"/app/b", "/app/z", "/e"}, 2: {"/other"}})
	eq(t, "ephemeral count", h.tree.Stats().EphemeralCount, 4)

	get := func(prefix string) []string {
		r, err := h.tree.Read(wire.OpGetEphemerals, &wire.PathRequest{Path: prefix}, Caller{Session: 1})
		if err != wire.ErrOK {
			t.Fatal(err)
		}
		return r.(*wire.StringsResponse).Strings
	}
	eq(t, "all", get(""), []string{"/app/b", "/app/z", "/e"})
	eq(t, "slash", get(" / "), []string{"/app/b", "/app/z", "/e"})
	eq(t, "prefix", get("/app"), []string{"/app/b", "/app/z"})
	eq(t, "string prefix", get("/app/z"), []string{"/app/z"})
	eq(t, "none", get("/nothing"), []string{})

	// Closing deletes the ephemerals in path order, each with its events.
	w := &recorder{}
	for _, p := range []string{"/app/b", "/app/z", "/e"} {
		h.watch(wire.OpExists, p, w)
	}
	h.watch(wire.OpGetChildren, "/app", w)
	h.watch(wire.OpGetChildren, "/", w)
	h.mustApply(1, nil, wire.OpCloseSession, &wire.Empty{})
	eq(t, "events", w.take(), []wire.WatcherEvent{
		ev(wire.EventNodeDeleted, "/app/b"), ev(wire.EventNodeChildrenChanged, "/app"),
		ev(wire.EventNodeDeleted, "/app/z"),
		ev(wire.EventNodeDeleted, "/e"), ev(wire.EventNodeChildrenChanged, "/"),
	})
	eq(t, "children", h.children("/app"), []string{})
	eq(t, "pzxid", h.stat("/app").Pzxid, h.zxid)
	if _, ok := h.tree.Session(1); ok {
		t.Error("closed session still live")
	}
	eq(t, "by session after close", h.tree.EphemeralsBySession(), map[int64][]string{2: {"/other"}})
	// Writes of a closed session fail; closing again is harmless.
	_, err := h.create(1, "/x", "", 0)
	eq(t, "closed session write", err, wire.ErrSessionExpired)
	eq(t, "close again", h.txn(1, nil, wire.OpCloseSession, &wire.Empty{}).Err, wire.ErrOK)
	for _, op := range []wire.OpCode{wire.OpDelete, wire.OpCheck} {
		eq(t, op.String(), h.txn(1, nil, op, &wire.PathVersionRequest{Path: "/app", Version: -1}).Err, wire.ErrSessionExpired)
	}
	eq(t, "setData", h.txn(1, nil, wire.OpSetData, &wire.SetDataRequest{Path: "/app", Version: -1}).Err, wire.ErrSessionExpired)
	eq(t, "setACL", h.txn(1, nil, wire.OpSetACL, &wire.SetACLRequest{Path: "/app", ACL: OpenACL, Version: -1}).Err, wire.ErrSessionExpired)
}

func TestContainers(t *testing.T) {
	h := newHarness(t, Options{})
	r := h.mustApply(0, nil, wire.OpCreateContainer, createReq("/c", "", wire.FlagContainer))
	st := r.Body.(*wire.Create2Response).Stat
	eq(t, "client owner", st.EphemeralOwner, int64(0))
	eq(t, "stored owner", h.tree.lookup("/c").owner(), ContainerOwner)
	eq(t, "fresh container not expired", h.tree.ExpiredContainers(h.time+1e9), []string(nil))
	delC := func(path string, time int64) wire.ErrCode {
		h.zxid++
		return h.tree.Apply(&Txn{Zxid: h.zxid, Time: time, Type: wire.OpDeleteContainer, Body: &wire.PathRequest{Path: path}}).Err
	}
	// Whether a container is due is the proposer's to say, not each
	// replica's configuration: the txn deletes any childless container.
	h.mustApply(0, nil, wire.OpCreateContainer, createReq("/unused", "", wire.FlagContainer))
	eq(t, "delete unused container", delC("/unused", h.time), wire.ErrOK)
	eq(t, "unused container gone", h.exists("/unused"), false)

	h.mustCreate("/c/child", "")
	eq(t, "not empty", delC("/c", h.time), wire.ErrNotEmpty)
	eq(t, "with child", h.tree.ExpiredContainers(h.time), []string(nil))
	h.delete("/c/child", -1)
	eq(t, "expired", h.tree.ExpiredContainers(h.time), []string{"/c"})
	// A child can still appear before the delete is applied.
	h.mustCreate("/c/again", "")
	eq(t, "raced", delC("/c", h.time), wire.ErrNotEmpty)
	h.delete("/c/again", -1)

	w := &recorder{}
	h.watch(wire.OpExists, "/c", w)
	eq(t, "delete", delC("/c", h.time), wire.ErrOK)
	eq(t, "events", w.take(), []wire.WatcherEvent{ev(wire.EventNodeDeleted, "/c")})
	eq(t, "gone", h.exists("/c"), false)
	eq(t, "no node", delC("/c", h.time), wire.ErrNoNode)
	h.mustCreate("/plain", "")
	eq(t, "persistent", delC("/plain", h.time), wire.ErrBadVersion)
	eq(t, "special", delC("/zookeeper", h.time), wire.ErrBadArguments)
	h.openSession(5)
	h.create(5, "/eph", "", wire.FlagEphemeral)
	eq(t, "ephemeral", delC("/eph", h.time), wire.ErrBadVersion)

	// Never-used containers expire only with MaxNeverUsedIntervalMs.
	h2 := newHarness(t, Options{MaxNeverUsedIntervalMs: 5000})
	h2.mustApply(0, nil, wire.OpCreateContainer, createReq("/n", "", wire.FlagContainer))
	eq(t, "young", h2.tree.ExpiredContainers(h2.time+5000), []string(nil))
	eq(t, "old", h2.tree.ExpiredContainers(h2.time+5001), []string{"/n"})

	// A container may have children of any kind, including ephemerals.
	h.mustApply(0, nil, wire.OpCreateContainer, createReq("/c2", "", wire.FlagContainer))
	_, err := h.create(5, "/c2/e", "", wire.FlagEphemeral)
	eq(t, "ephemeral under container", err, wire.ErrOK)
	// Plain create with the container flag makes a persistent node, as
	// Apache's CreateTxn does.
	h.mustApply(0, nil, wire.OpCreate, createReq("/notc", "", wire.FlagContainer))
	eq(t, "create op with container flag", h.tree.lookup("/notc").owner(), int64(0))
}

func TestTTL(t *testing.T) {
	h := newHarness(t, Options{ExtendedTypes: true})
	r := h.mustApply(0, nil, wire.OpCreateTTL, &wire.CreateRequest{Path: "/t", ACL: OpenACL,
		Flags: wire.FlagPersistentWithTTL, TTL: 5000, HasTTL: true})
	eq(t, "client owner", r.Body.(*wire.Create2Response).Stat.EphemeralOwner, int64(0))
	eq(t, "stored owner", h.tree.lookup("/t").owner(), TTLOwner(5000))
	created := h.time
	eq(t, "at ttl", h.tree.ExpiredContainers(created+5000), []string(nil))
	eq(t, "after ttl", h.tree.ExpiredContainers(created+5001), []string{"/t"})
	// Children keep it alive; TTL nodes may have children.
	h.mustCreate("/t/c", "")
	eq(t, "with child", h.tree.ExpiredContainers(created+1e6), []string(nil))
	h.delete("/t/c", -1)
	// setData refreshes mtime.
	h.setData("/t", "x", -1)
	mtime := h.time
	eq(t, "refreshed", h.tree.ExpiredContainers(created+5001), []string(nil))
	h.zxid++
	res := h.tree.Apply(&Txn{Zxid: h.zxid, Time: mtime + 100, Type: wire.OpDeleteContainer, Body: &wire.PathRequest{Path: "/t"}})
	eq(t, "too early", res.Err, wire.ErrBadVersion)
	h.zxid++
	res = h.tree.Apply(&Txn{Zxid: h.zxid, Time: mtime + 5001, Type: wire.OpDeleteContainer, Body: &wire.PathRequest{Path: "/t"}})
	eq(t, "expired", res.Err, wire.ErrOK)
	eq(t, "gone", h.exists("/t"), false)

	// Sequential TTL.
	r = h.mustApply(0, nil, wire.OpCreateTTL, &wire.CreateRequest{Path: "/s", ACL: OpenACL,
		Flags: wire.FlagPersistentSequentialWithTTL, TTL: 1, HasTTL: true})
	eq(t, "sequential ttl", r.Body.(*wire.Create2Response).Path, "/s0000000001")
}

func TestMulti(t *testing.T) {
	h := newHarness(t, Options{})
	h.mustCreate("/m", "")
	w := &recorder{}
	h.watch(wire.OpGetChildren, "/m", w)
	h.watch(wire.OpExists, "/m/a", w)
	h.watch(wire.OpExists, "/m/gone", w)
	h.mustCreate("/m/gone", "")
	w.take()
	h.watch(wire.OpExists, "/m/gone", w)
	h.watch(wire.OpGetChildren, "/m", w)

	ops := []wire.Op{
		{Type: wire.OpCreate, Body: createReq("/m/a", "1", 0)},
		{Type: wire.OpSetData, Body: &wire.SetDataRequest{Path: "/m/a", Data: []byte("22"), Version: 0}},
		{Type: wire.OpCreate2, Body: createReq("/m/a/b", "", 0)},
		{Type: wire.OpCreate, Body: createReq("/m/c", "", wire.FlagContainer)},
		{Type: wire.OpCreate2, Body: createReq("/m/s-", "", wire.FlagPersistentSequential)},
		{Type: wire.OpCreate2, Body: createReq("/m/s-", "", wire.FlagPersistentSequential)},
		{Type: wire.OpDelete, Body: &wire.PathVersionRequest{Path: "/m/gone", Version: 0}},
		{Type: wire.OpCreate, Body: createReq("/m/gone", "", 0)},
		{Type: wire.OpCheck, Body: &wire.PathVersionRequest{Path: "/m/a", Version: 1}},
	}
	r := h.txn(0, nil, wire.OpMulti, &wire.MultiRequest{Ops: ops})
	eq(t, "err", r.Err, wire.ErrOK)
	z, tm := h.zxid, h.time
	res := r.Body.(*wire.MultiResponse).Results
	if len(res) != len(ops) {
		t.Fatalf("%d results", len(res))
	}
	types := []wire.OpCode{wire.OpCreate, wire.OpSetData, wire.OpCreate2, wire.OpCreate2, wire.OpCreate2,
		wire.OpCreate2, wire.OpDelete, wire.OpCreate, wire.OpCheck}
	for i, r := range res {
		eq(t, "type", r.Type, types[i])
	}
	eq(t, "create", res[0].Body, wire.Record(&wire.PathRequest{Path: "/m/a"}))
	eq(t, "setData", res[1].Body, wire.Record(&wire.StatResponse{Stat: wire.Stat{Czxid: z, Mzxid: z, Pzxid: z,
		Ctime: tm, Mtime: tm, Version: 1, DataLength: 2}}))
	eq(t, "create2", res[2].Body.(*wire.Create2Response).Stat.Czxid, z)
	eq(t, "seq 1", res[4].Body.(*wire.Create2Response).Path, "/m/s-0000000003")
	eq(t, "seq 2", res[5].Body.(*wire.Create2Response).Path, "/m/s-0000000004")
	eq(t, "delete body", res[6].Body, wire.Record(nil))
	eq(t, "container", h.tree.lookup("/m/c").owner(), ContainerOwner)
	eq(t, "children", h.children("/m"), []string{"a", "c", "gone", "s-0000000003", "s-0000000004"})
	eq(t, "gone recreated", h.stat("/m/gone").Czxid, z)
	// Events in op order, each one-shot watch firing once.
	eq(t, "events", w.take(), []wire.WatcherEvent{
		ev(wire.EventNodeCreated, "/m/a"), ev(wire.EventNodeChildrenChanged, "/m"),
		ev(wire.EventNodeDeleted, "/m/gone"),
	})

	// Failure: nothing applied, earlier ops report ok, later ones
	// runtime inconsistency.
	before := h.snapshot()
	fail := []wire.Op{
		{Type: wire.OpCreate, Body: createReq("/m/new", "", 0)},
		{Type: wire.OpSetData, Body: &wire.SetDataRequest{Path: "/m/new", Version: 0}},
		{Type: wire.OpSetData, Body: &wire.SetDataRequest{Path: "/m/new", Version: 0}},
		{Type: wire.OpDelete, Body: &wire.PathVersionRequest{Path: "/m/a", Version: -1}},
	}
	h.watch(wire.OpExists, "/m/new", w)
	r = h.txn(0, nil, wire.OpMulti, &wire.MultiRequest{Ops: fail})
	eq(t, "failed multi err", r.Err, wire.ErrOK)
	eq(t, "failed results", r.Body.(*wire.MultiResponse).Results, []wire.OpResult{
		{Type: wire.OpError, Err: wire.ErrOK}, {Type: wire.OpError, Err: wire.ErrOK},
		{Type: wire.OpError, Err: wire.ErrBadVersion}, {Type: wire.OpError, Err: wire.ErrRuntimeInconsistency}})
	eq(t, "last zxid", h.tree.LastZxid(), h.zxid)
	h.tree.lastZxid.Store(h.zxid - 1)
	eq(t, "unchanged", string(h.snapshot()), string(before))
	h.tree.lastZxid.Store(h.zxid)
	eq(t, "no events", w.take(), []wire.WatcherEvent(nil))

	// Whole-multi failures.
	for _, tc := range []struct {
		name string
		ops  []wire.Op
	}{
		{"read op", []wire.Op{{Type: wire.OpGetData, Body: &wire.PathWatchRequest{Path: "/m"}}}},
		{"setACL", []wire.Op{{Type: wire.OpSetACL, Body: &wire.SetACLRequest{Path: "/m", ACL: OpenACL, Version: -1}}}},
		{"bad body", []wire.Op{{Type: wire.OpCreate, Body: &wire.PathRequest{Path: "/m"}}}},
		{"bad flags", []wire.Op{{Type: wire.OpCreate, Body: createReq("/m/z", "", 9)}}},
	} {
		eq(t, tc.name, h.txn(0, nil, wire.OpMulti, &wire.MultiRequest{Ops: tc.ops}), Result{Err: wire.ErrMarshallingError})
	}
	eq(t, "empty multi", h.txn(0, nil, wire.OpMulti, &wire.MultiRequest{}), Result{Body: &wire.MultiResponse{Results: []wire.OpResult{}}})

	// A delete then create of the parent's child count inside a multi:
	// NotEmpty sees pending children.
	r = h.txn(0, nil, wire.OpMulti, &wire.MultiRequest{Ops: []wire.Op{
		{Type: wire.OpCreate, Body: createReq("/m/c/x", "", 0)},
		{Type: wire.OpDelete, Body: &wire.PathVersionRequest{Path: "/m/c", Version: -1}},
	}})
	eq(t, "not empty", r.Body.(*wire.MultiResponse).Results[1].Err, wire.ErrNotEmpty)
	// Session checks happen per op.
	r = h.txn(99, nil, wire.OpMulti, &wire.MultiRequest{Ops: []wire.Op{
		{Type: wire.OpCheck, Body: &wire.PathVersionRequest{Path: "/m", Version: -1}},
	}})
	eq(t, "expired", r.Body.(*wire.MultiResponse).Results[0].Err, wire.ErrSessionExpired)
}

func TestMultiTTL(t *testing.T) {
	h := newHarness(t, Options{ExtendedTypes: true})
	r := h.mustApply(0, nil, wire.OpMulti, &wire.MultiRequest{Ops: []wire.Op{
		{Type: wire.OpCreateTTL, Body: &wire.CreateRequest{Path: "/t", ACL: OpenACL, Flags: wire.FlagPersistentWithTTL, TTL: 100, HasTTL: true}},
		{Type: wire.OpCreateTTL, Body: &wire.CreateRequest{Path: "/p", ACL: OpenACL, Flags: wire.FlagPersistent, TTL: 100, HasTTL: true}},
		{Type: wire.OpCreate2, Body: createReq("/bad", "", wire.FlagPersistentWithTTL)},
	}})
	eq(t, "results", r.Body.(*wire.MultiResponse).Results[2], wire.OpResult{Type: wire.OpError, Err: wire.ErrBadArguments})
	r = h.mustApply(0, nil, wire.OpMulti, &wire.MultiRequest{Ops: []wire.Op{
		{Type: wire.OpCreateTTL, Body: &wire.CreateRequest{Path: "/t", ACL: OpenACL, Flags: wire.FlagPersistentWithTTL, TTL: 100, HasTTL: true}},
		{Type: wire.OpCreateTTL, Body: &wire.CreateRequest{Path: "/p", ACL: OpenACL, Flags: wire.FlagPersistent, TTL: 100, HasTTL: true}},
	}})
	res := r.Body.(*wire.MultiResponse).Results
	eq(t, "ttl type", res[0].Type, wire.OpCreate2)
	eq(t, "plain type", res[1].Type, wire.OpCreate)
	eq(t, "ttl owner", h.tree.lookup("/t").owner(), TTLOwner(100))
	eq(t, "plain owner", h.tree.lookup("/p").owner(), int64(0))
}

func TestUnknownTxn(t *testing.T) {
	h := newHarness(t, Options{})
	eq(t, "reconfig", h.txn(0, nil, wire.OpReconfig, &wire.ReconfigRequest{}).Err, wire.ErrUnimplemented)
	eq(t, "getData", h.txn(0, nil, wire.OpGetData, &wire.PathWatchRequest{}).Err, wire.ErrUnimplemented)
	eq(t, "bad body", h.txn(0, nil, wire.OpCreate, &wire.PathRequest{}).Err, wire.ErrMarshallingError)
	eq(t, "bad session body", h.txn(1, nil, wire.OpCreateSession, &wire.Empty{}).Err, wire.ErrMarshallingError)
	eq(t, "zxid", h.tree.LastZxid(), h.zxid)
}
