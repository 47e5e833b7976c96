package znode

import (
	"bytes"
	"testing"

	"github.com/zkgo/zkgo/wire"
)

// A sync txn changes nothing but the last zxid, answers with its path, and
// survives an encode/decode round trip (followers forward it).
func TestSyncTxnIsNoOp(t *testing.T) {
	h := newHarness(t, Options{})
	h.mustCreate("/a", "x")
	before := h.stat("/a")
	snap := h.snapshot()
	res := h.txn(0, nil, wire.OpSync, &wire.PathRequest{Path: "/a"})
	if res.Err != wire.ErrOK {
		t.Fatalf("sync: %v", res.Err)
	}
	eq(t, "sync body", res.Body, wire.Record(&wire.PathRequest{Path: "/a"}))
	eq(t, "stat after sync", h.stat("/a"), before)
	eq(t, "last zxid", h.tree.LastZxid(), h.zxid)
	after := h.snapshot()
	// Only the last zxid (after the magic and version) differs.
	if bytes.Equal(snap, after) || !bytes.Equal(snap[20:len(snap)-4], after[20:len(after)-4]) {
		t.Errorf("sync changed more than the last zxid")
	}
	if r := h.txn(0, nil, wire.OpSync, &wire.Empty{}); r.Err != wire.ErrMarshallingError {
		t.Errorf("sync with a wrong body: %v, want MarshallingError", r.Err)
	}

	in := Txn{Zxid: 7, Time: 9, Session: 3, Cxid: 4, Type: wire.OpSync, Body: &wire.PathRequest{Path: "/p"}}
	var out Txn
	if err := wire.Decode(wire.Encode(&in), &out); err != nil {
		t.Fatal(err)
	}
	eq(t, "round trip", out, in)
}

// Restore replaces the whole state by another tree's.
func TestRestore(t *testing.T) {
	src := newHarness(t, Options{})
	src.openSession(5)
	src.mustCreate("/a", "1")
	src.mustCreate("/a/b", "2")
	want := src.snapshot()
	dst := newHarness(t, Options{})
	dst.mustCreate("/old", "z")
	_, write := dst.tree.Snapshot() // a snapshot in flight keeps its state
	dst.tree.Restore(src.tree)
	var frozen bytes.Buffer
	if err := write(&frozen); err != nil {
		t.Fatal(err)
	}
	eq(t, "restored", dst.snapshot(), want)
	if !bytes.Contains(frozen.Bytes(), []byte("old")) {
		t.Errorf("the frozen snapshot lost /old")
	}
	dst.zxid = dst.tree.LastZxid()
	dst.mustCreate("/a/c", "3")
	eq(t, "children", dst.children("/a"), []string{"b", "c"})
}

// Restore fires the one-shot watches the restored state implies, as
// setWatches would relative to the old last zxid, in zxid order; watches
// on what did not change stay armed, persistent ones fire nothing.
func TestRestoreCatchesUpWatches(t *testing.T) {
	// Both trees share the history up to /same's creation.
	base := func() *harness {
		h := newHarness(t, Options{})
		h.mustCreate("/same", "s")
		h.mustCreate("/gone", "g")
		h.mustCreate("/changed", "c")
		h.mustCreate("/dir", "")
		return h
	}
	src := base()
	src.mustCreate("/born", "b")                           // exists watch fires NodeCreated
	src.setData("/changed", "c2", -1)                      // data watch fires NodeDataChanged
	src.mustCreate("/dir/kid", "k")                        // child watch fires NodeChildrenChanged
	if err := src.delete("/gone", -1); err != wire.ErrOK { // data watch fires NodeDeleted
		t.Fatal(err)
	}
	dst := base()
	w := &recorder{}
	for _, c := range []struct {
		op   wire.OpCode
		path string
	}{
		{wire.OpGetData, "/same"}, {wire.OpGetData, "/gone"}, {wire.OpGetData, "/changed"},
		{wire.OpExists, "/born"}, {wire.OpGetChildren, "/dir"}, {wire.OpGetChildren, "/same"},
	} {
		dst.watch(c.op, c.path, w)
	}
	p := &recorder{}
	dst.addWatch("/changed", 0, p) // persistent
	dst.tree.Restore(src.tree)
	eq(t, "events", w.take(), []wire.WatcherEvent{ // in the order src made the changes
		ev(wire.EventNodeCreated, "/born"),
		ev(wire.EventNodeDataChanged, "/changed"),
		ev(wire.EventNodeChildrenChanged, "/dir"),
		ev(wire.EventNodeDeleted, "/gone"),
	})
	eq(t, "persistent events", p.take(), []wire.WatcherEvent(nil))
	// The watches on /same are still armed; the fired ones are gone.
	dst.zxid = dst.tree.LastZxid()
	dst.setData("/same", "s2", -1)
	dst.setData("/changed", "c3", -1)
	eq(t, "after", w.take(), []wire.WatcherEvent{ev(wire.EventNodeDataChanged, "/same")})
	eq(t, "persistent after", p.take(), []wire.WatcherEvent{ev(wire.EventNodeDataChanged, "/changed")})
}
