package znode

import (
	"testing"
	"unsafe"

	"github.com/zkgo/zkgo/wire"
)

// TestNodeSize guards the memory per znode: a leaf is a blob with its
// name, data and Stat, pointed to by a one-pointer slot in its parent's
// childSet. A fresh znode's Stat, as zkbench's fill creates them, takes at
// most 16 bytes, so a 7-byte name and 100 bytes of data fit Go's 128-byte
// size class.
func TestNodeSize(t *testing.T) {
	if got := unsafe.Sizeof(node{}); got != unsafe.Sizeof(uintptr(0)) {
		t.Fatalf("node is %d bytes, want one pointer", got)
	}
	n := newNode("f999999", make([]byte, 100), nodeStat{
		czxid: 0x1000f4240, mzxid: 0x1000f4240, ctime: 1_790_000_000_000, mtime: 1_790_000_000_000, acl: 3})
	if got := len(n.body()); got > 128-1 {
		t.Fatalf("blob is %d bytes plus its length, want at most 128 in all", got)
	}
	if n.branch() != nil {
		t.Fatal("a new node is a branch")
	}
}

// TestLeafHasNoDir checks that a created leaf carries no dir until it gets
// a child, and that its Stat is still Apache's (pzxid = czxid).
func TestLeafHasNoDir(t *testing.T) {
	h := newHarness(t, Options{})
	h.mustCreate("/a", "x")
	n := h.tree.lookup("/a")
	if n.dir() != nil {
		t.Fatalf("leaf /a has a dir: %+v", n.dir())
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
