package znode

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"unsafe"

	"github.com/zkgo/zkgo/wire"
)

// Snapshot layout (jute encoding, version 1):
//
//	"ZKGOSNAP" int(version) long(lastZxid)
//	int(#sessions) {long(id) int(timeout) buffer(passwd)}      sorted by id
//	int(#acls) {vector<ACL>}                                   sorted by encoding
//	node, pre-order, children in kidsToWrite's order:
//	  string(name) buffer(data) int(acl index)
//	  long(czxid) long(mzxid) long(ctime) long(mtime)
//	  int(version) int(cversion) int(aversion) long(ephemeralOwner) long(pzxid)
//	  int(#children) {node}
//	uint32(CRC-32C of everything before)
//
// WriteSnapshot sorts everything, so the same tree always gives the same
// bytes. The server's periodic snapshots (Snapshot) write children in
// memory order instead; reading does not depend on the order.
const (
	snapMagic   = "ZKGOSNAP"
	snapVersion = 1
)

// ErrCorruptSnapshot is wrapped by the errors DecodeSnapshot returns for a
// snapshot that is damaged or not a snapshot.
var ErrCorruptSnapshot = errors.New("znode: corrupt snapshot")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// WriteSnapshot writes the whole state (nodes, ACLs, sessions, last zxid)
// in a deterministic byte order: two trees that applied the same txns write
// identical bytes.
func (t *Tree) WriteSnapshot(w io.Writer) error {
	_, write := t.snapshot(true)
	return write(w)
}

// Snapshot freezes the tree's current state and returns its zxid and a
// function that writes it to w. Apply keeps running while the snapshot is
// written: nodes are never changed in place and the dirs it shares are
// copied before they change (see owned), so the snapshot is exactly the
// state at zxid. The write function must be called exactly once: until it
// returns, shared dirs are copied. Children are written in memory order
// (see kidsToWrite), so two trees holding the same nodes may write them
// in different orders.
func (t *Tree) Snapshot() (zxid int64, write func(w io.Writer) error) {
	return t.snapshot(false)
}

func (t *Tree) snapshot(canonical bool) (zxid int64, write func(w io.Writer) error) {
	t.mu.Lock()
	t.gen++
	t.frozen++
	f := frozenTree{
		root:      t.root,
		lastZxid:  t.lastZxid.Load(),
		sessions:  make([]SessionInfo, 0, len(t.sessions)),
		acls:      slices.Clone(t.acls.entries),
		canonical: canonical,
	}
	for _, si := range t.sessions {
		f.sessions = append(f.sessions, *si)
	}
	t.mu.Unlock()
	return f.lastZxid, func(w io.Writer) error {
		defer func() {
			t.mu.Lock()
			t.frozen--
			t.mu.Unlock()
		}()
		return f.write(w)
	}
}

// frozenTree is the state a snapshot writes: nodes reachable from root are
// not changed while it is written.
type frozenTree struct {
	root     node
	lastZxid int64
	sessions []SessionInfo
	acls     []*aclEntry // the ACL cache's entries by index, as frozen
	// canonical writes children by name, not in memory order.
	canonical bool
}

// snapshotFlushSize is how much encoded snapshot is buffered before it is
// handed to the writer.
const snapshotFlushSize = 256 << 10

func (f *frozenTree) write(w io.Writer) error {
	e := wire.NewEncoder(append(make([]byte, 0, snapshotFlushSize+4096), snapMagic...))
	sw := &snapshotWriter{w: w, e: e, crc: crc32.New(castagnoli), canonical: f.canonical}
	e.Int(snapVersion)
	e.Long(f.lastZxid)

	sort.Slice(f.sessions, func(i, j int) bool { return f.sessions[i].ID < f.sessions[j].ID })
	e.Int(int32(len(f.sessions)))
	for _, s := range f.sessions {
		e.Long(s.ID)
		e.Int(s.Timeout)
		e.Buffer(s.Passwd)
	}

	acls, index := liveACLs(f.acls)
	e.Int(int32(len(acls)))
	for _, a := range acls {
		wire.EncodeACLs(e, a.acls)
	}
	encodeNode(sw, "", f.root, index)
	if err := sw.flush(); err != nil {
		return err
	}
	_, err := w.Write(binary.BigEndian.AppendUint32(nil, sw.crc.Sum32()))
	return err
}

// snapshotWriter streams an encoding to w in chunks, checksumming it.
type snapshotWriter struct {
	w   io.Writer
	e   *wire.Encoder
	crc hash.Hash32
	err error
	// canonical writes children by name, not in memory order.
	canonical bool
}

// maybeFlush writes the buffered encoding once it is large enough.
func (sw *snapshotWriter) maybeFlush() {
	if sw.e.Len() >= snapshotFlushSize {
		sw.flush()
	}
}

func (sw *snapshotWriter) flush() error {
	if sw.err == nil && sw.e.Len() > 0 {
		b := sw.e.Bytes()
		sw.crc.Write(b)
		_, sw.err = sw.w.Write(b)
	}
	sw.e.Reset()
	return sw.err
}

// encodeNode writes n and its subtree; index maps the ACL cache's indexes
// to the snapshot's.
func encodeNode(sw *snapshotWriter, name string, n node, index []int32) {
	sw.maybeFlush()
	e := sw.e
	st := n.stat()
	e.String(name)
	e.Buffer(n.data())
	e.Int(index[st.acl])
	encodeStatPersisted(e, n, &st)
	kids := kidsToWrite(n, sw.canonical)
	e.Int(int32(len(kids)))
	for _, c := range kids {
		encodeNode(sw, c.name(), c, index)
	}
}

// kidsToWrite returns n's children in the order a snapshot writes them: by
// name if canonical, else by address. Nodes are visited in the order they
// were allocated then, not scattered over the heap: on a busy server,
// fetching the nodes of a 300,000-child parent in name order (or any order
// unrelated to memory) took most of a snapshot's time.
func kidsToWrite(n node, canonical bool) []node {
	ks := n.kids()
	if canonical {
		names := sortedChildren(n)
		kids := make([]node, len(names))
		for i, name := range names {
			kids[i] = ks.get(name)
		}
		return kids
	}
	kids := slices.AppendSeq(make([]node, 0, ks.len()), ks.all())
	sortByAddress(kids)
	return kids
}

// encodeStatPersisted writes a node's Stat as Apache's StatPersisted (both
// snapshot formats use its field order).
func encodeStatPersisted(e *wire.Encoder, n node, st *nodeStat) {
	e.Long(st.czxid)
	e.Long(st.mzxid)
	e.Long(st.ctime)
	e.Long(st.mtime)
	e.Int(st.version)
	e.Int(n.cversion())
	e.Int(st.aversion)
	e.Long(st.owner)
	e.Long(n.pzxid())
}

// decodeStatPersisted reads what encodeStatPersisted writes.
func decodeStatPersisted(d *wire.Decoder) (st nodeStat, cversion int32, pzxid int64) {
	st.czxid, st.mzxid, st.ctime, st.mtime = d.Long(), d.Long(), d.Long(), d.Long()
	st.version = d.Int()
	cversion = d.Int()
	st.aversion = d.Int()
	st.owner = d.Long()
	pzxid = d.Long()
	return st, cversion, pzxid
}

// sortByAddress sorts nodes by address: a radix sort of the addresses'
// low 48 bits, a byte at a time (bytes that all nodes share are skipped).
// Comparison sorting a 500,000-child parent took a third of a snapshot.
func sortByAddress(kids []node) {
	if len(kids) < 64 {
		slices.SortFunc(kids, func(a, b node) int { return cmp.Compare(uintptr(a.p), uintptr(b.p)) })
		return
	}
	src, dst := kids, make([]node, len(kids))
	for shift := 0; shift < 48; shift += 8 {
		var count [256]int
		for _, k := range src {
			count[byte(uintptr(k.p)>>shift)]++
		}
		if count[byte(uintptr(src[0].p)>>shift)] == len(src) {
			continue
		}
		sum := 0
		for i, c := range count {
			count[i], sum = sum, sum+c
		}
		for _, k := range src {
			d := byte(uintptr(k.p) >> shift)
			dst[count[d]] = k
			count[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &kids[0] {
		copy(kids, src)
	}
}

// DecodeSnapshot rebuilds a tree written by WriteSnapshot. A damaged
// snapshot gives an error wrapping ErrCorruptSnapshot. The tree keeps no
// reference to b.
func DecodeSnapshot(b []byte, opts Options) (*Tree, error) {
	if len(b) < len(snapMagic)+4 || string(b[:len(snapMagic)]) != snapMagic {
		return nil, fmt.Errorf("%w: not a snapshot", ErrCorruptSnapshot)
	}
	body, sum := b[:len(b)-4], binary.BigEndian.Uint32(b[len(b)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrCorruptSnapshot)
	}
	d := wire.NewDecoder(body[len(snapMagic):])
	if v := d.Int(); v != snapVersion {
		return nil, fmt.Errorf("%w: unsupported version %d", ErrCorruptSnapshot, v)
	}
	t := newEmptyTree(opts)
	lastZxid := d.Long()

	ns := d.Int()
	if ns < 0 || int(ns) > d.Remaining()/16 {
		return nil, fmt.Errorf("%w: bad session count %d", ErrCorruptSnapshot, ns)
	}
	for i := 0; i < int(ns); i++ {
		s := &SessionInfo{ID: d.Long(), Timeout: d.Int(), Passwd: d.Buffer()}
		t.sessions[s.ID] = s
	}

	na := d.Int()
	if na < 0 || int(na) > d.Remaining()/4 {
		return nil, fmt.Errorf("%w: bad ACL count %d", ErrCorruptSnapshot, na)
	}
	entries := make([]uint32, na)
	for i := range entries {
		entries[i] = t.acls.intern(wire.DecodeACLs(d))
	}
	if d.Err() != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorruptSnapshot, d.Err())
	}

	rd := snapReader{t: t, d: d, entries: entries}
	root, err := rd.node("", true)
	if err != nil {
		return nil, err
	}
	if d.Remaining() != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrCorruptSnapshot, d.Remaining())
	}
	t.root = root.node
	for _, a := range entries {
		t.acls.release(a) // drop the reference taken while reading the table
	}
	t.lastZxid.Store(lastZxid)
	return t, nil
}

type snapReader struct {
	t       *Tree
	d       *wire.Decoder
	entries []uint32 // the snapshot's ACL indexes -> the tree's
	// kids is a stack of the children read so far of every branch being
	// read: each branch's run starts where its parent's ended, and a
	// branch's child set is built once all its children are read (see
	// childSet.build).
	kids []hashedNode
}

// node reads one node (with its subtree) whose parent's path is prefix
// (with a trailing '/'), and records it in the tree's indexes. Its path is
// built only where it is needed: most nodes are leaves that no index holds.
func (r *snapReader) node(prefix string, root bool) (hashedNode, error) {
	d := r.d
	// The name is read in place: pack copies it, and the paths built
	// from it below are copies too.
	nameBytes, data := d.View(), d.View()
	name := unsafe.String(unsafe.SliceData(nameBytes), len(nameBytes))
	ai := d.Int()
	st, cversion, pzxid := decodeStatPersisted(d)
	nc := d.Int()
	if d.Err() != nil {
		return hashedNode{}, fmt.Errorf("%w: %v", ErrCorruptSnapshot, d.Err())
	}
	if !root {
		if name == "" || strings.IndexByte(name, '/') >= 0 {
			return hashedNode{}, fmt.Errorf("%w: bad node name %q under %q", ErrCorruptSnapshot, name, prefix)
		}
	} else if name != "" {
		return hashedNode{}, fmt.Errorf("%w: root named %q", ErrCorruptSnapshot, name)
	}
	if ai < 0 || int(ai) >= len(r.entries) {
		return hashedNode{}, fmt.Errorf("%w: bad ACL index %d at %q", ErrCorruptSnapshot, ai, prefix+name)
	}
	// A node takes at least 63 bytes.
	if nc < 0 || int(nc) > d.Remaining()/63 {
		return hashedNode{}, fmt.Errorf("%w: bad child count %d at %q", ErrCorruptSnapshot, nc, prefix+name)
	}
	t := r.t
	st.acl = r.entries[ai]
	t.acls.retain(st.acl)
	n := newNode(name, data, st)
	n = n.withCounters(st.czxid, cversion, pzxid, int(nc), t.gen)
	t.nodeCount++
	if root {
		t.dataSize += int64(len(rootPath) + len(data))
	} else {
		t.dataSize += int64(len(prefix) + len(name) + len(data))
		if t.kind(st.owner) != kindPersistent || name == quotaLimitNode {
			t.index(prefix+name, strings.TrimSuffix(prefix, "/"), name, st.owner)
		}
	}
	if nc > 0 {
		childPrefix := rootPath
		if !root {
			childPrefix = prefix + name + "/"
		}
		base := len(r.kids)
		for i := 0; i < int(nc); i++ {
			c, err := r.node(childPrefix, false)
			if err != nil {
				return hashedNode{}, err
			}
			r.kids = append(r.kids, c)
		}
		if dup := n.dir().children.build(r.kids[base:]); dup.ok() {
			return hashedNode{}, fmt.Errorf("%w: duplicate node %q", ErrCorruptSnapshot, childPrefix+dup.name())
		}
		clear(r.kids[base:])
		r.kids = r.kids[:base]
	}
	// The name's hash is taken here, where the name is at hand, not when
	// the parent's child table is built from nodes all over the heap.
	return hashedNode{n, nameHash(name)}, nil
}

// index records a node with ephemeralOwner owner in the ephemeral,
// container, TTL and quota indexes.
func (t *Tree) index(path, parentPath, name string, owner int64) {
	switch t.kind(owner) {
	case kindContainer:
		t.containers[path] = struct{}{}
	case kindTTL:
		t.ttls[path] = struct{}{}
	case kindEphemeral:
		set := t.ephemerals[owner]
		if set == nil {
			set = make(map[string]struct{})
			t.ephemerals[owner] = set
		}
		set[path] = struct{}{}
	}
	if name == quotaLimitNode && strings.HasPrefix(parentPath, quotaPath) {
		t.addQuota(parentPath[len(quotaPath):])
	}
}

// Restore replaces the tree's state (nodes, ACLs, sessions, last zxid) by
// src's, as when a server installs a snapshot from its leader; src must not
// be used afterwards. A snapshot being written keeps the state it froze.
//
// Registered watches are kept, and the changes the snapshot brings fire
// them as setWatches would for a client that saw the tree's old last zxid:
// a one-shot data watch on a node now gone or changed since, an exists
// watch on a node now there, a child watch on a node gone or whose
// children changed since (catchUpWatches). Persistent watches stay and
// fire nothing, as with setWatches.
func (t *Tree) Restore(src *Tree) {
	src.mu.Lock()
	defer src.mu.Unlock()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.wmu.Lock()
	defer t.wmu.Unlock()
	rel := t.lastZxid.Load()
	// Whether each watched path existed tells a data watch from an
	// exists watch.
	existed := make(map[string]bool, len(t.dataWatches.byPath))
	for p := range t.dataWatches.byPath {
		existed[p] = t.lookup(p).ok()
	}
	t.root, t.acls = src.root, src.acls
	t.nodeCount, t.dataSize = src.nodeCount, src.dataSize
	t.ephemerals, t.containers, t.ttls = src.ephemerals, src.containers, src.ttls
	t.quotas, t.sessions = src.quotas, src.sessions
	t.lastZxid.Store(src.lastZxid.Load())
	// src's nodes belong to no generation of t: move to a new one so that
	// the next snapshot never shares a node it might see changing.
	t.gen = max(t.gen, src.gen) + 1
	t.catchUpWatches(existed, rel)
}

// catchUp is one event a Restore fires; zxid orders them.
type catchUp struct {
	path string
	typ  wire.EventType
	zxid int64
	m    *watchManager
}

// catchUpWatches fires, after a Restore, the one-shot watches whose events
// the restored state implies relative to rel (the old last zxid), in the
// order of the zxids that caused them where the tree knows them (a
// deletion's is not known: those come last). t.mu and t.wmu are held.
func (t *Tree) catchUpWatches(existed map[string]bool, rel int64) {
	var events []catchUp
	for p, set := range t.dataWatches.byPath {
		if !hasStandard(set) {
			continue
		}
		n := t.lookup(p)
		switch {
		case existed[p] && !n.ok():
			events = append(events, catchUp{p, wire.EventNodeDeleted, math.MaxInt64, &t.dataWatches})
		case existed[p] && n.stat().mzxid > rel:
			events = append(events, catchUp{p, wire.EventNodeDataChanged, n.stat().mzxid, &t.dataWatches})
		case !existed[p] && n.ok():
			events = append(events, catchUp{p, wire.EventNodeCreated, n.stat().czxid, &t.dataWatches})
		}
	}
	for p, set := range t.childWatches.byPath {
		if !hasStandard(set) {
			continue
		}
		n := t.lookup(p)
		switch {
		case !n.ok():
			events = append(events, catchUp{p, wire.EventNodeDeleted, math.MaxInt64, &t.childWatches})
		case n.pzxid() > rel:
			events = append(events, catchUp{p, wire.EventNodeChildrenChanged, n.pzxid(), &t.childWatches})
		}
	}
	slices.SortFunc(events, func(a, b catchUp) int {
		if c := cmp.Compare(a.zxid, b.zxid); c != 0 {
			return c
		}
		return strings.Compare(a.path, b.path)
	})
	for _, e := range events {
		set := e.m.byPath[e.path]
		if set == nil {
			continue
		}
		var ws []Watcher
		set.each(func(w Watcher, mode watchMode) {
			if mode&modeStandard != 0 {
				ws = append(ws, w)
			}
		})
		for _, w := range ws {
			e.m.remove(e.path, w, modeStandard)
			deliver(w, wire.WatcherEvent{Type: e.typ, State: wire.StateSyncConnected, Path: e.path}, nil, -1)
		}
	}
}

// hasStandard reports whether a one-shot watch is in set.
func hasStandard(set *watchSet) bool {
	found := false
	set.each(func(_ Watcher, mode watchMode) {
		if mode&modeStandard != 0 {
			found = true
		}
	})
	return found
}
