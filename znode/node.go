package znode

import (
	"encoding/binary"
	"math/bits"
	"unsafe"
)

// node is one znode. A node knows its name, not its path: the full path is
// known only while walking to it.
//
// Nodes are immutable: a change builds a new node and puts it in its
// parent's childSet in place of the old one (Tree.put). Only a dir is
// changed in place, and only when no snapshot being written shares it
// (Tree.owned). So a snapshot writer may read any node it reached without
// a lock, and data slices handed to readers never change.
//
// Memory is the reason for the layout. Most znodes are leaves, and a leaf
// is a single pointer-free blob holding its name, data and Stat (see pack)
// plus the pointer to it in its parent's childSet. The Stat fields are
// varint-encoded and the ones that usually equal another (mzxid = czxid,
// mtime = ctime, owner, version and aversion 0) are left out, so a fresh
// znode's Stat takes about 15 bytes where Apache's StatPersisted takes 68.
// Being pointer-free, blobs cost the garbage collector nothing to scan.
//
// A node with a dir (children, cversion, pzxid) is a branch, which holds
// its blob. A node value points either to a leaf's blob or to a branch;
// the first byte pointed to tells which (see branchTag). The
// zero node is no node.
type node struct{ p unsafe.Pointer }

// branch is a node with a dir.
type branch struct {
	tag  byte  // branchTag
	blob *byte // pack's encoding; never modified
	dir  dir
}

// branchTag is a branch's first byte. A blob's first byte is never
// branchTag: it is the first byte of the uvarint length of the rest of the
// blob, which is at least 6 (a name length, a data length and four Stat
// fields of a byte or more) or has its high bit set.
const branchTag = 1

// leaf returns the node whose blob is b.
func leaf(b *byte) node { return node{unsafe.Pointer(b)} }

// newBranch returns the node with blob b and dir d.
func newBranch(b *byte, d dir) node {
	return node{unsafe.Pointer(&branch{tag: branchTag, blob: b, dir: d})}
}

// ok reports whether n is a node (not the zero node).
func (n node) ok() bool { return n.p != nil }

// branch returns n's branch, or nil for a leaf.
func (n node) branch() *branch {
	if *(*byte)(n.p) != branchTag {
		return nil
	}
	return (*branch)(n.p)
}

// blob returns n's blob.
func (n node) blob() *byte {
	if b := n.branch(); b != nil {
		return b.blob
	}
	return (*byte)(n.p)
}

// dir returns n's dir, or nil for a leaf (no children, cversion 0,
// pzxid = czxid).
func (n node) dir() *dir {
	if b := n.branch(); b != nil {
		return &b.dir
	}
	return nil
}

// nodeStat is the part of a node's Stat its blob holds (Apache's
// StatPersisted without cversion and pzxid, which are in dir), plus its ACL.
type nodeStat struct {
	czxid, mzxid, ctime, mtime int64
	owner                      int64 // ephemeralOwner as stored
	version, aversion          int32
	acl                        uint32 // index in the tree's aclCache
}

// dir is the part of a branch that concerns its children.
type dir struct {
	children childSet
	pzxid    int64
	cversion int32
	// gen is the tree generation the dir belongs to. While a snapshot is
	// being written, dirs of older generations are shared with it and are
	// copied before they change (see Tree.owned).
	gen uint32
}

// Flags of a blob: which optional Stat fields follow the mandatory ones.
const (
	hasMzxid    = 1 << iota // mzxid - czxid
	hasMtime                // mtime - ctime
	hasOwner                // owner, 8 bytes little-endian
	hasVersion              // version
	hasAversion             // aversion
)

// maxStatLen bounds the encoded Stat: flags, ACL index, six varints and
// the owner.
const maxStatLen = 1 + binary.MaxVarintLen32 + 6*binary.MaxVarintLen64 + 8

// newNode returns a leaf called name holding data and st.
func newNode(name string, data []byte, st nodeStat) node {
	return leaf(pack(name, data, &st))
}

// with returns a copy of n (same name, and a copy of its dir) holding data
// and st. n must be dropped for it: a copied dir shares its child table.
func (n node) with(data []byte, st nodeStat) node {
	b := pack(n.name(), data, &st)
	if d := n.dir(); d != nil {
		return newBranch(b, *d)
	}
	return leaf(b)
}

// pack encodes a blob:
//
//	uvarint  length of the rest
//	uvarint  len(name), name
//	uvarint  len(data)+1, or 0 for null data; data
//	byte     flags
//	uvarint  acl; varint czxid; varint ctime
//	then, as flags say: varint mzxid-czxid, varint mtime-ctime,
//	owner (8 bytes), varint version, varint aversion
//
// The data comes before the Stat so that name and data are found by
// decoding two lengths.
func pack(name string, data []byte, st *nodeStat) *byte {
	var statBuf [maxStatLen]byte
	stat := statBuf[:1]
	stat = binary.AppendUvarint(stat, uint64(st.acl))
	stat = binary.AppendVarint(stat, st.czxid)
	stat = binary.AppendVarint(stat, st.ctime)
	var flags byte
	if st.mzxid != st.czxid {
		flags |= hasMzxid
		stat = binary.AppendVarint(stat, st.mzxid-st.czxid)
	}
	if st.mtime != st.ctime {
		flags |= hasMtime
		stat = binary.AppendVarint(stat, st.mtime-st.ctime)
	}
	if st.owner != 0 {
		flags |= hasOwner
		stat = binary.LittleEndian.AppendUint64(stat, uint64(st.owner))
	}
	if st.version != 0 {
		flags |= hasVersion
		stat = binary.AppendVarint(stat, int64(st.version))
	}
	if st.aversion != 0 {
		flags |= hasAversion
		stat = binary.AppendVarint(stat, int64(st.aversion))
	}
	stat[0] = flags

	var dataField uint64 // 0: null
	if data != nil {
		dataField = uint64(len(data)) + 1
	}
	rest := uvarintLen(uint64(len(name))) + len(name) + uvarintLen(dataField) + len(data) + len(stat)
	b := make([]byte, 0, uvarintLen(uint64(rest))+rest)
	b = binary.AppendUvarint(b, uint64(rest))
	b = binary.AppendUvarint(b, uint64(len(name)))
	b = append(b, name...)
	b = binary.AppendUvarint(b, dataField)
	b = append(b, data...)
	b = append(b, stat...)
	if b[0] == branchTag {
		panic("znode: a blob that reads as a branch") // impossible, see branchTag
	}
	return unsafe.SliceData(b)
}

// uvarintLen is the length of x's uvarint encoding.
func uvarintLen(x uint64) int { return (bits.Len64(x|1) + 6) / 7 }

// body returns the blob after its leading length.
func (n node) body() []byte {
	blob := n.blob()
	p := unsafe.Pointer(blob)
	var rest uint64
	k := 0
	for shift := 0; ; shift += 7 {
		c := *(*byte)(unsafe.Add(p, k))
		k++
		rest |= uint64(c&0x7f) << shift
		if c < 0x80 {
			break
		}
	}
	return unsafe.Slice(blob, k+int(rest))[k:]
}

// name returns the node's name (without copying it).
func (n node) name() string {
	b := n.body()
	l, k := binary.Uvarint(b)
	if l == 0 {
		return ""
	}
	return unsafe.String(&b[k], int(l))
}

// split returns the node's data (nil if null; callers must not modify it)
// and its encoded Stat.
func (n node) split() (data, stat []byte) {
	b := n.body()
	l, k := binary.Uvarint(b)
	b = b[k+int(l):]
	f, k := binary.Uvarint(b)
	b = b[k:]
	if f == 0 {
		return nil, b
	}
	end := int(f - 1)
	return b[:end:end], b[end:]
}

// data returns the node's data (nil if null). Callers must not modify it.
func (n node) data() []byte {
	d, _ := n.split()
	return d
}

// stat decodes the node's Stat fields (but cversion and pzxid).
func (n node) stat() nodeStat {
	_, b := n.split()
	flags := b[0]
	b = b[1:]
	var st nodeStat
	acl, k := binary.Uvarint(b)
	b = b[k:]
	st.acl = uint32(acl)
	st.czxid, k = binary.Varint(b)
	b = b[k:]
	st.ctime, k = binary.Varint(b)
	b = b[k:]
	st.mzxid, st.mtime = st.czxid, st.ctime
	if flags&hasMzxid != 0 {
		d, k := binary.Varint(b)
		b = b[k:]
		st.mzxid += d
	}
	if flags&hasMtime != 0 {
		d, k := binary.Varint(b)
		b = b[k:]
		st.mtime += d
	}
	if flags&hasOwner != 0 {
		st.owner = int64(binary.LittleEndian.Uint64(b))
		b = b[8:]
	}
	if flags&hasVersion != 0 {
		v, k := binary.Varint(b)
		b = b[k:]
		st.version = int32(v)
	}
	if flags&hasAversion != 0 {
		v, _ := binary.Varint(b)
		st.aversion = int32(v)
	}
	return st
}

// owner is the node's ephemeralOwner as stored.
func (n node) owner() int64 { return n.stat().owner }

// kids returns the node's children (nil if it has no dir; the methods of
// childSet that only read accept nil).
func (n node) kids() *childSet {
	if d := n.dir(); d != nil {
		return &d.children
	}
	return nil
}

// pzxid is the zxid of the last change to the node's children.
func (n node) pzxid() int64 {
	if d := n.dir(); d != nil {
		return d.pzxid
	}
	return n.stat().czxid
}

// cversion counts the creations of the node's children.
func (n node) cversion() int32 {
	if d := n.dir(); d != nil {
		return d.cversion
	}
	return 0
}

// withCounters returns a node read from a snapshot with its child
// counters: a branch where they differ from a leaf's, else n itself. czxid
// is n's (given, not decoded again from n's blob).
func (n node) withCounters(czxid int64, cversion int32, pzxid int64, nchild int, gen uint32) node {
	if cversion != 0 || pzxid != czxid || nchild > 0 {
		return newBranch(n.blob(), dir{pzxid: pzxid, cversion: cversion, gen: gen})
	}
	return n
}
