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
