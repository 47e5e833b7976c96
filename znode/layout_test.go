package znode

import (
	"testing"
	"unsafe"

	"github.com/zkgo/zkgo/wire"
)

// TestNodeSize guards the memory per znode: a leaf is one node allocation
// in Go's 96-byte size class, plus one buffer with its name and data, plus
// a pointer slot in its parent's childSet.
func TestNodeSize(t *testing.T) {
	if got := unsafe.Sizeof(node{}); got > 96 {
		t.Fatalf("node is %d bytes, want at most 96", got)
	}
}

// TestLeafHasNoDir checks that a created leaf carries no dir until it gets
// a child, and that its Stat is still Apache's (pzxid = czxid).
func TestLeafHasNoDir(t *testing.T) {
	h := newHarness(t, Options{})
	h.mustCreate("/a", "x")
	n := h.tree.lookup("/a")
	if n.dir != nil {
		t.Fatalf("leaf /a has a dir: %+v", n.dir)
	}
	if st := h.stat("/a"); st.Pzxid != st.Czxid || st.Cversion != 0 || st.NumChildren != 0 {
		t.Fatalf("leaf stat %+v", st)
	}
	h.mustCreate("/a/b", "")
	if err := h.delete("/a/b", -1); err != wire.ErrOK {
		t.Fatal(err)
	}
	st := h.stat("/a")
	if st.Pzxid == st.Czxid || st.Cversion != 2 || st.NumChildren != 0 {
		t.Fatalf("stat after a child came and went %+v", st)
	}
}
