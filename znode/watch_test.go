package znode

import (
	"testing"

	"github.com/zkgo/zkgo/internal/auth"
	"github.com/zkgo/zkgo/wire"
)

func TestWatchTriggers(t *testing.T) {
	type step struct {
		do   func(h *harness)
		want []wire.WatcherEvent
	}
	tests := []struct {
		name  string
		setup func(h *harness, w Watcher)
		steps []step
	}{
		{
			name: "create fires exists then parent child watch",
			setup: func(h *harness, w Watcher) {
				h.mustCreate("/p", "")
				h.watch(wire.OpExists, "/p/a", w)
				h.watch(wire.OpGetChildren, "/p", w)
				h.watch(wire.OpGetChildren2, "/p", w) // same watch again
			},
			steps: []step{
				{func(h *harness) { h.mustCreate("/p/a", "") },
					[]wire.WatcherEvent{ev(wire.EventNodeCreated, "/p/a"), ev(wire.EventNodeChildrenChanged, "/p")}},
				{func(h *harness) { h.mustCreate("/p/b", "") }, nil}, // one-shot
			},
		},
		{
			name: "child of root fires on /",
			setup: func(h *harness, w Watcher) {
				h.watch(wire.OpGetChildren, "/", w)
			},
			steps: []step{
				{func(h *harness) { h.mustCreate("/x", "") }, []wire.WatcherEvent{ev(wire.EventNodeChildrenChanged, "/")}},
			},
		},
		{
			name: "delete fires once per watcher then parent",
			setup: func(h *harness, w Watcher) {
				h.mustCreate("/p", "")
				h.mustCreate("/p/a", "")
				h.watch(wire.OpGetData, "/p/a", w)
				h.watch(wire.OpExists, "/p/a", w)
				h.watch(wire.OpGetChildren, "/p/a", w)
				h.watch(wire.OpGetChildren, "/p", w)
			},
			steps: []step{
				{func(h *harness) { h.delete("/p/a", -1) },
					[]wire.WatcherEvent{ev(wire.EventNodeDeleted, "/p/a"), ev(wire.EventNodeChildrenChanged, "/p")}},
				// The suppressed child watch was consumed too.
				{func(h *harness) { h.mustCreate("/p/a", ""); h.delete("/p/a", -1) }, nil},
			},
		},
		{
			name: "child watch alone gets NodeDeleted",
			setup: func(h *harness, w Watcher) {
				h.mustCreate("/a", "")
				h.watch(wire.OpGetChildren, "/a", w)
			},
			steps: []step{
				{func(h *harness) { h.delete("/a", -1) }, []wire.WatcherEvent{ev(wire.EventNodeDeleted, "/a")}},
			},
		},
		{
			name: "setData fires data watch once",
			setup: func(h *harness, w Watcher) {
				h.mustCreate("/a", "")
				h.watch(wire.OpGetData, "/a", w)
				h.watch(wire.OpGetChildren, "/a", w)
			},
			steps: []step{
				{func(h *harness) { h.setData("/a", "x", -1) }, []wire.WatcherEvent{ev(wire.EventNodeDataChanged, "/a")}},
				{func(h *harness) { h.setData("/a", "y", -1) }, nil},
				{func(h *harness) { h.mustCreate("/a/c", "") }, []wire.WatcherEvent{ev(wire.EventNodeChildrenChanged, "/a")}},
			},
		},
		{
			name: "setACL fires nothing",
			setup: func(h *harness, w Watcher) {
				h.mustCreate("/a", "")
				h.watch(wire.OpGetData, "/a", w)
			},
			steps: []step{
				{func(h *harness) {
					h.mustApply(0, nil, wire.OpSetACL, &wire.SetACLRequest{Path: "/a", ACL: ReadACL, Version: -1})
				}, nil},
			},
		},
		{
			name: "failed write fires nothing",
			setup: func(h *harness, w Watcher) {
				h.mustCreate("/a", "")
				h.watch(wire.OpGetData, "/a", w)
			},
			steps: []step{
				{func(h *harness) { h.setData("/a", "x", 5) }, nil},
				{func(h *harness) { h.setData("/a", "x", 0) }, []wire.WatcherEvent{ev(wire.EventNodeDataChanged, "/a")}},
			},
		},
		{
			name: "exists on missing node sets a watch",
			setup: func(h *harness, w Watcher) {
				if err := h.watch(wire.OpExists, "/later", w); err != wire.ErrNoNode {
					t.Fatalf("exists: %v", err)
				}
				// getData and getChildren on a missing node do not.
				h.watch(wire.OpGetData, "/nodata", w)
				h.watch(wire.OpGetChildren, "/nochildren", w)
			},
			steps: []step{
				{func(h *harness) { h.mustCreate("/later", "") }, []wire.WatcherEvent{ev(wire.EventNodeCreated, "/later")}},
				{func(h *harness) { h.mustCreate("/nodata", ""); h.mustCreate("/nochildren", "") }, nil},
			},
		},
		{
			name: "persistent watch",
			setup: func(h *harness, w Watcher) {
				h.addWatch("/p", wire.AddWatchPersistent, w)
			},
			steps: []step{
				{func(h *harness) { h.mustCreate("/p", "") }, []wire.WatcherEvent{ev(wire.EventNodeCreated, "/p")}},
				{func(h *harness) { h.setData("/p", "1", -1) }, []wire.WatcherEvent{ev(wire.EventNodeDataChanged, "/p")}},
				{func(h *harness) { h.setData("/p", "2", -1) }, []wire.WatcherEvent{ev(wire.EventNodeDataChanged, "/p")}},
				{func(h *harness) { h.mustCreate("/p/c", "") }, []wire.WatcherEvent{ev(wire.EventNodeChildrenChanged, "/p")}},
				{func(h *harness) { h.setData("/p/c", "1", -1) }, nil},
				{func(h *harness) { h.delete("/p/c", -1) }, []wire.WatcherEvent{ev(wire.EventNodeChildrenChanged, "/p")}},
				{func(h *harness) { h.delete("/p", -1) }, []wire.WatcherEvent{ev(wire.EventNodeDeleted, "/p")}},
				{func(h *harness) { h.mustCreate("/p", "") }, []wire.WatcherEvent{ev(wire.EventNodeCreated, "/p")}},
			},
		},
		{
			name: "persistent recursive watch",
			setup: func(h *harness, w Watcher) {
				h.mustCreate("/r", "")
				h.mustCreate("/rx", "")
				h.addWatch("/r", wire.AddWatchPersistentRecursive, w)
			},
			steps: []step{
				{func(h *harness) { h.mustCreate("/r/a", "") }, []wire.WatcherEvent{ev(wire.EventNodeCreated, "/r/a")}},
				{func(h *harness) { h.mustCreate("/r/a/b", "") }, []wire.WatcherEvent{ev(wire.EventNodeCreated, "/r/a/b")}},
				{func(h *harness) { h.setData("/r/a/b", "x", -1) }, []wire.WatcherEvent{ev(wire.EventNodeDataChanged, "/r/a/b")}},
				{func(h *harness) { h.setData("/r", "x", -1) }, []wire.WatcherEvent{ev(wire.EventNodeDataChanged, "/r")}},
				{func(h *harness) { h.delete("/r/a/b", -1) }, []wire.WatcherEvent{ev(wire.EventNodeDeleted, "/r/a/b")}},
				{func(h *harness) { h.mustCreate("/rx/a", ""); h.setData("/rx", "", -1) }, nil},
				{func(h *harness) { h.delete("/r/a", -1); h.delete("/r", -1) },
					[]wire.WatcherEvent{ev(wire.EventNodeDeleted, "/r/a"), ev(wire.EventNodeDeleted, "/r")}},
			},
		},
		{
			name: "recursive plus one-shot on the same node: one event",
			setup: func(h *harness, w Watcher) {
				h.mustCreate("/r", "")
				h.mustCreate("/r/a", "")
				h.addWatch("/", wire.AddWatchPersistentRecursive, w)
				h.addWatch("/r", wire.AddWatchPersistentRecursive, w)
				h.watch(wire.OpGetData, "/r/a", w)
			},
			steps: []step{
				{func(h *harness) { h.setData("/r/a", "x", -1) }, []wire.WatcherEvent{ev(wire.EventNodeDataChanged, "/r/a")}},
				{func(h *harness) { h.setData("/r/a", "y", -1) }, []wire.WatcherEvent{ev(wire.EventNodeDataChanged, "/r/a")}},
			},
		},
		{
			name: "multi fires in op order",
			setup: func(h *harness, w Watcher) {
				h.mustCreate("/a", "")
				h.addWatch("/", wire.AddWatchPersistentRecursive, w)
			},
			steps: []step{
				{func(h *harness) {
					h.mustApply(0, nil, wire.OpMulti, &wire.MultiRequest{Ops: []wire.Op{
						{Type: wire.OpSetData, Body: &wire.SetDataRequest{Path: "/a", Version: -1}},
						{Type: wire.OpCreate, Body: createReq("/b", "", 0)},
						{Type: wire.OpDelete, Body: &wire.PathVersionRequest{Path: "/a", Version: -1}},
					}})
				}, []wire.WatcherEvent{ev(wire.EventNodeDataChanged, "/a"), ev(wire.EventNodeCreated, "/b"), ev(wire.EventNodeDeleted, "/a")}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Options{})
			w := &recorder{session: 1}
			tc.setup(h, w)
			w.take()
			for i, s := range tc.steps {
				s.do(h)
				got := w.take()
				if len(got) == 0 && len(s.want) == 0 {
					continue
				}
				eq(t, "step "+string(rune('0'+i)), got, s.want)
			}
		})
	}
}

func TestWatchersAreSeparate(t *testing.T) {
	h := newHarness(t, Options{})
	h.mustCreate("/a", "")
	w1, w2 := &recorder{session: 1}, &recorder{session: 2}
	h.watch(wire.OpGetData, "/a", w1)
	h.watch(wire.OpGetData, "/a", w2)
	h.addWatch("/", wire.AddWatchPersistentRecursive, w2)
	h.setData("/a", "x", -1)
	eq(t, "w1", w1.take(), []wire.WatcherEvent{ev(wire.EventNodeDataChanged, "/a")})
	eq(t, "w2", w2.take(), []wire.WatcherEvent{ev(wire.EventNodeDataChanged, "/a")})

	eq(t, "by session", h.tree.WatchesBySession(), map[int64][]string{2: {"/"}})
	eq(t, "by path", h.tree.WatchesByPath(), map[string][]int64{"/": {2}})
	h.RemoveWatcherAndCheck(t, w2)
	h.setData("/a", "y", -1)
	eq(t, "removed", w2.take(), []wire.WatcherEvent(nil))
}

func (h *harness) RemoveWatcherAndCheck(t *testing.T, w Watcher) {
	h.tree.RemoveWatcher(w)
	st := h.tree.Stats()
	eq(t, "watches after remove", st.AllWatches, 0)
	eq(t, "recursive count", h.tree.dataWatches.recursive, 0)
}

func TestManyWatchersOnOnePath(t *testing.T) {
	h := newHarness(t, Options{})
	h.mustCreate("/hot", "")
	var ws []*recorder
	for i := 0; i < 50; i++ {
		w := &recorder{session: int64(i)}
		ws = append(ws, w)
		h.watch(wire.OpGetData, "/hot", w)
		h.watch(wire.OpGetChildren, "/hot", w)
		if i%2 == 0 {
			h.addWatch("/", wire.AddWatchPersistentRecursive, w)
		}
	}
	st := h.tree.Stats()
	eq(t, "data watches", st.WatchCount, 75)
	eq(t, "paths", st.WatchedPaths, 2)
	eq(t, "clients", st.WatchingClients, 50)
	eq(t, "all", st.AllWatches, 125)
	h.tree.RemoveWatcher(ws[3])
	h.delete("/hot", -1)
	for i, w := range ws {
		got := w.take()
		switch {
		case i == 3:
			eq(t, "removed", got, []wire.WatcherEvent(nil))
		case i%2 == 0:
			eq(t, "recursive", got, []wire.WatcherEvent{ev(wire.EventNodeDeleted, "/hot")})
		default:
			eq(t, "plain", got, []wire.WatcherEvent{ev(wire.EventNodeDeleted, "/hot")})
		}
	}
	st = h.tree.Stats()
	eq(t, "only recursive left", st.AllWatches, 25)
}

func TestCheckAndRemoveWatches(t *testing.T) {
	type call struct {
		remove bool
		typ    int32
		want   wire.ErrCode
	}
	tests := []struct {
		name  string
		setup func(h *harness, w Watcher)
		calls []call
	}{
		{"none", func(h *harness, w Watcher) {}, []call{
			{false, wire.WatcherAny, wire.ErrNoWatcher}, {true, wire.WatcherData, wire.ErrNoWatcher},
		}},
		{"data", func(h *harness, w Watcher) { h.watch(wire.OpGetData, "/a", w) }, []call{
			{false, wire.WatcherData, wire.ErrOK}, {false, wire.WatcherChildren, wire.ErrNoWatcher},
			{false, wire.WatcherAny, wire.ErrOK}, {false, wire.WatcherPersistent, wire.ErrNoWatcher},
			{true, wire.WatcherChildren, wire.ErrNoWatcher}, {true, wire.WatcherData, wire.ErrOK},
			{false, wire.WatcherData, wire.ErrNoWatcher}, {true, wire.WatcherData, wire.ErrNoWatcher},
		}},
		{"children", func(h *harness, w Watcher) { h.watch(wire.OpGetChildren, "/a", w) }, []call{
			{false, wire.WatcherChildren, wire.ErrOK}, {false, wire.WatcherData, wire.ErrNoWatcher},
			{true, wire.WatcherAny, wire.ErrOK}, {false, wire.WatcherAny, wire.ErrNoWatcher},
		}},
		{"persistent", func(h *harness, w Watcher) { h.addWatch("/a", wire.AddWatchPersistent, w) }, []call{
			{false, wire.WatcherPersistent, wire.ErrOK}, {false, wire.WatcherData, wire.ErrNoWatcher},
			{false, wire.WatcherPersistentRecursive, wire.ErrNoWatcher},
			{true, wire.WatcherPersistent, wire.ErrOK}, {false, wire.WatcherAny, wire.ErrNoWatcher},
		}},
		{"recursive", func(h *harness, w Watcher) { h.addWatch("/a", wire.AddWatchPersistentRecursive, w) }, []call{
			{false, wire.WatcherPersistentRecursive, wire.ErrOK}, {false, wire.WatcherPersistent, wire.ErrNoWatcher},
			{true, wire.WatcherPersistent, wire.ErrNoWatcher}, {true, wire.WatcherPersistentRecursive, wire.ErrOK},
			{false, wire.WatcherAny, wire.ErrNoWatcher},
		}},
		{"data plus recursive", func(h *harness, w Watcher) {
			h.watch(wire.OpGetData, "/a", w)
			h.addWatch("/a", wire.AddWatchPersistentRecursive, w)
		}, []call{
			{true, wire.WatcherData, wire.ErrOK}, {false, wire.WatcherPersistentRecursive, wire.ErrOK},
			{true, wire.WatcherAny, wire.ErrOK}, {false, wire.WatcherAny, wire.ErrNoWatcher},
		}},
		{"bad type", func(h *harness, w Watcher) { h.watch(wire.OpGetData, "/a", w) }, []call{
			{false, 9, wire.ErrMarshallingError}, {true, 0, wire.ErrMarshallingError},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Options{})
			h.mustCreate("/a", "")
			w := &recorder{}
			tc.setup(h, w)
			for i, c := range tc.calls {
				op := wire.OpCheckWatches
				if c.remove {
					op = wire.OpRemoveWatches
				}
				_, err := h.tree.Read(op, &wire.PathTypeRequest{Path: "/a", Type: c.typ}, Caller{Watcher: w})
				if err != c.want {
					t.Errorf("call %d %v type %d: %v, want %v", i, op, c.typ, err, c.want)
				}
			}
			// The server sends no *WatchRemoved events; clients make them.
			eq(t, "events", w.take(), []wire.WatcherEvent(nil))
		})
	}
	h := newHarness(t, Options{})
	_, err := h.tree.Read(wire.OpAddWatch, &wire.PathTypeRequest{Path: "/", Type: 2}, Caller{Watcher: &recorder{}})
	eq(t, "bad addWatch mode", err, wire.ErrMarshallingError)
}

func TestSetWatches(t *testing.T) {
	h := newHarness(t, Options{})
	h.mustCreate("/same", "")
	h.mustCreate("/changed", "")
	h.mustCreate("/kids", "")
	h.mustCreate("/quiet", "")
	h.mustCreate("/exists", "")
	rel := h.zxid
	h.setData("/changed", "x", -1)
	h.mustCreate("/kids/c", "")

	w := &connRecorder{}
	req := &wire.SetWatches{
		RelativeZxid:               rel,
		DataWatches:                []string{"/same", "/changed", "/deleted"},
		ExistWatches:               []string{"/exists", "/absent"},
		ChildWatches:               []string{"/kids", "/quiet", "/gone"},
		PersistentWatches:          []string{"/p"},
		PersistentRecursiveWatches: []string{"/r"},
	}
	_, err := h.tree.Read(wire.OpSetWatches, req, Caller{Watcher: w})
	eq(t, "err", err, wire.ErrOK)
	eq(t, "catch-up", w.take(), []wire.WatcherEvent{
		ev(wire.EventNodeDataChanged, "/changed"), ev(wire.EventNodeDeleted, "/deleted"),
		ev(wire.EventNodeCreated, "/exists"),
		ev(wire.EventNodeChildrenChanged, "/kids"), ev(wire.EventNodeDeleted, "/gone"),
	})
	eq(t, "catch-up zxids", w.zxids, []int64{-1, -1, -1, -1, -1})
	w.zxids = nil
	// setWatches (v1) ignores the persistent lists.
	eq(t, "persistent not set", h.tree.dataWatches.contains("/p", w, 0), false)
	h.setData("/same", "y", -1)
	h.mustCreate("/absent", "")
	h.mustCreate("/quiet/c", "")
	eq(t, "registered", w.take(), []wire.WatcherEvent{
		ev(wire.EventNodeDataChanged, "/same"), ev(wire.EventNodeCreated, "/absent"),
		ev(wire.EventNodeChildrenChanged, "/quiet"),
	})
	eq(t, "zxids", w.zxids, []int64{h.zxid - 2, h.zxid - 1, h.zxid})

	req2 := &wire.SetWatches{V2: true, RelativeZxid: h.zxid, PersistentWatches: []string{"/p"}, PersistentRecursiveWatches: []string{"/r"}}
	h.tree.Read(wire.OpSetWatches2, req2, Caller{Watcher: w})
	h.mustCreate("/p", "")
	h.mustCreate("/p/c", "")
	h.mustCreate("/r", "")
	h.mustCreate("/r/c", "")
	eq(t, "persistent", w.take(), []wire.WatcherEvent{
		ev(wire.EventNodeCreated, "/p"), ev(wire.EventNodeChildrenChanged, "/p"),
		ev(wire.EventNodeCreated, "/r"), ev(wire.EventNodeCreated, "/r/c"),
	})
}

func TestWatchACLFilter(t *testing.T) {
	h := newHarness(t, Options{})
	alice := wire.Id{Scheme: "digest", ID: auth.DigestID("alice", "pw")}
	h.mustCreate("/open", "")
	h.mustApply(0, nil, wire.OpCreate, &wire.CreateRequest{Path: "/open/secret",
		ACL: []wire.ACL{{Perms: wire.PermAll, ID: alice}}})

	anon := &connRecorder{ids: []wire.Id{{Scheme: "ip", ID: "127.0.0.1"}}}
	friend := &connRecorder{ids: []wire.Id{alice}}
	admin := &connRecorder{ids: superAuth}
	plain := &recorder{}
	for _, w := range []Watcher{anon, friend, admin, plain} {
		h.addWatch("/", wire.AddWatchPersistentRecursive, w)
		h.watch(wire.OpGetChildren, "/open", w)
	}
	sset := func(path, data string) {
		h.mustApply(0, superAuth, wire.OpSetData, &wire.SetDataRequest{Path: path, Data: []byte(data), Version: -1})
	}
	sset("/open/secret", "x")
	eq(t, "anon", anon.take(), []wire.WatcherEvent(nil))
	eq(t, "friend", friend.take(), []wire.WatcherEvent{ev(wire.EventNodeDataChanged, "/open/secret")})
	eq(t, "super", admin.take(), []wire.WatcherEvent{ev(wire.EventNodeDataChanged, "/open/secret")})
	eq(t, "plain watcher is not filtered", plain.take(), []wire.WatcherEvent{ev(wire.EventNodeDataChanged, "/open/secret")})
	// NodeChildrenChanged is judged by the parent's ACL.
	h.mustApply(0, superAuth, wire.OpDelete, &wire.PathVersionRequest{Path: "/open/secret", Version: -1})
	eq(t, "anon sees parent event only", anon.take(), []wire.WatcherEvent{ev(wire.EventNodeChildrenChanged, "/open")})
	eq(t, "friend", friend.take(), []wire.WatcherEvent{ev(wire.EventNodeDeleted, "/open/secret"), ev(wire.EventNodeChildrenChanged, "/open")})
	eq(t, "friend zxids", friend.zxids[len(friend.zxids)-2:], []int64{h.zxid, h.zxid})

	// A filtered one-shot watch is consumed anyway.
	h.mustApply(0, nil, wire.OpCreate, &wire.CreateRequest{Path: "/s2", ACL: []wire.ACL{{Perms: wire.PermAll, ID: alice}}})
	h.watch(wire.OpExists, "/s2", anon) // exists as super in the harness
	anon.take()
	sset("/s2", "x")
	eq(t, "filtered", anon.take(), []wire.WatcherEvent(nil))
	anon.ids = []wire.Id{alice}
	sset("/s2", "y")
	eq(t, "consumed", anon.take(), []wire.WatcherEvent{ev(wire.EventNodeDataChanged, "/s2")}) // from the recursive watch only
}

func TestWatchManagerSmallToBig(t *testing.T) {
	var s watchSet
	ws := make([]*recorder, 20)
	for i := range ws {
		ws[i] = &recorder{session: int64(i)}
		s.set(ws[i], modeStandard)
	}
	if s.big == nil || s.len() != 20 {
		t.Fatalf("set did not grow: %d", s.len())
	}
	for i := range ws {
		if s.get(ws[i]) != modeStandard {
			t.Fatalf("lost %d", i)
		}
	}
	s.del(ws[0])
	eq(t, "len", s.len(), 19)
	eq(t, "parentOf", []string{parentOf("/a/b"), parentOf("/a"), parentOf("/"), parentOf("x")}, []string{"/a", "/", "", ""})
}
