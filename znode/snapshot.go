package znode

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"sort"
	"strings"

	"github.com/zkgo/zkgo/wire"
)

// Snapshot layout (jute encoding, version 1):
//
//	"ZKGOSNAP" int(version) long(lastZxid)
//	int(#sessions) {long(id) int(timeout) buffer(passwd)}      sorted by id
//	int(#acls) {vector<ACL>}                                   sorted by encoding
//	node, pre-order, children sorted by name:
//	  string(name) buffer(data) int(acl index)
//	  long(czxid) long(mzxid) long(ctime) long(mtime)
//	  int(version) int(cversion) int(aversion) long(ephemeralOwner) long(pzxid)
//	  int(#children) {node}
//	uint32(CRC-32C of everything before)
//
// Everything is sorted, so the same tree always gives the same bytes.
const (
	snapMagic   = "ZKGOSNAP"
	snapVersion = 1
)

// ErrCorruptSnapshot is wrapped by the errors ReadSnapshot returns for a
// snapshot that is damaged or not a snapshot.
var ErrCorruptSnapshot = errors.New("znode: corrupt snapshot")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// WriteSnapshot writes the whole state (nodes, ACLs, sessions, last zxid)
// in a deterministic byte order: two trees that applied the same txns write
// identical bytes. The snapshot is encoded in memory under the read lock
// (Apply waits for that, not for w) and then written to w.
func (t *Tree) WriteSnapshot(w io.Writer) error {
	buf := t.encodeSnapshot()
	_, err := w.Write(buf)
	return err
}

func (t *Tree) encodeSnapshot() []byte {
	t.mu.RLock()
	defer t.mu.RUnlock()
	buf := make([]byte, 0, 64+int(t.dataSize)+t.nodeCount*80)
	e := wire.NewEncoder(append(buf, snapMagic...))
	e.Int(snapVersion)
	e.Long(t.lastZxid.Load())

	ids := make([]int64, 0, len(t.sessions))
	for id := range t.sessions {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	e.Int(int32(len(ids)))
	for _, id := range ids {
		s := t.sessions[id]
		e.Long(s.ID)
		e.Int(s.Timeout)
		e.Buffer(s.Passwd)
	}

	entries := make([]*aclEntry, 0, len(t.acls.m))
	for _, a := range t.acls.m {
		entries = append(entries, a)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].key < entries[j].key })
	index := make(map[*aclEntry]int32, len(entries))
	e.Int(int32(len(entries)))
	for i, a := range entries {
		index[a] = int32(i)
		wire.EncodeACLs(e, a.acls)
	}

	encodeNode(e, "", t.root, index)
	out := e.Bytes()
	return binary.BigEndian.AppendUint32(out, crc32.Checksum(out, castagnoli))
}

func encodeNode(e *wire.Encoder, name string, n *node, index map[*aclEntry]int32) {
	e.String(name)
	e.Buffer(n.data)
	e.Int(index[n.acl])
	e.Long(n.czxid)
	e.Long(n.mzxid)
	e.Long(n.ctime)
	e.Long(n.mtime)
	e.Int(n.version)
	e.Int(n.cversion)
	e.Int(n.aversion)
	e.Long(n.owner)
	e.Long(n.pzxid)
	names := sortedChildren(n)
	e.Int(int32(len(names)))
	for _, c := range names {
		encodeNode(e, c, n.children[c], index)
	}
}

// ReadSnapshot rebuilds a tree written by WriteSnapshot. A damaged
// snapshot gives an error wrapping ErrCorruptSnapshot.
func ReadSnapshot(r io.Reader, opts Options) (*Tree, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
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
	entries := make([]*aclEntry, na)
	for i := range entries {
		entries[i] = t.acls.intern(wire.DecodeACLs(d))
	}
	if d.Err() != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorruptSnapshot, d.Err())
	}

	rd := snapReader{t: t, d: d, entries: entries}
	_, root, err := rd.node("", true)
	if err != nil {
		return nil, err
	}
	if d.Remaining() != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrCorruptSnapshot, d.Remaining())
	}
	t.root = root
	for _, a := range entries {
		t.acls.release(a) // drop the reference taken while reading the table
	}
	t.lastZxid.Store(lastZxid)
	return t, nil
}

type snapReader struct {
	t       *Tree
	d       *wire.Decoder
	entries []*aclEntry
}

// node reads one node (with its subtree) whose parent's path is prefix
// without its trailing '/', and records it in the tree's indexes.
func (r *snapReader) node(prefix string, root bool) (string, *node, error) {
	d := r.d
	name := d.String()
	n := &node{data: d.Buffer()}
	ai := d.Int()
	n.czxid, n.mzxid, n.ctime, n.mtime = d.Long(), d.Long(), d.Long(), d.Long()
	n.version, n.cversion, n.aversion = d.Int(), d.Int(), d.Int()
	n.owner, n.pzxid = d.Long(), d.Long()
	nc := d.Int()
	if d.Err() != nil {
		return "", nil, fmt.Errorf("%w: %v", ErrCorruptSnapshot, d.Err())
	}
	path := rootPath
	if !root {
		if name == "" || strings.IndexByte(name, '/') >= 0 {
			return "", nil, fmt.Errorf("%w: bad node name %q under %q", ErrCorruptSnapshot, name, prefix)
		}
		path = prefix + name
	} else if name != "" {
		return "", nil, fmt.Errorf("%w: root named %q", ErrCorruptSnapshot, name)
	}
	if ai < 0 || int(ai) >= len(r.entries) {
		return "", nil, fmt.Errorf("%w: bad ACL index %d at %q", ErrCorruptSnapshot, ai, path)
	}
	// A node takes at least 63 bytes.
	if nc < 0 || int(nc) > d.Remaining()/63 {
		return "", nil, fmt.Errorf("%w: bad child count %d at %q", ErrCorruptSnapshot, nc, path)
	}
	a := r.entries[ai]
	a.refs++
	n.acl = a
	t := r.t
	t.nodeCount++
	t.dataSize += int64(len(path) + len(n.data))
	if !root {
		t.index(path, strings.TrimSuffix(prefix, "/"), name, n)
	}
	if nc > 0 {
		n.children = make(map[string]*node, nc)
		childPrefix := path + "/"
		if root {
			childPrefix = rootPath
		}
		for i := 0; i < int(nc); i++ {
			cname, c, err := r.node(childPrefix, false)
			if err != nil {
				return "", nil, err
			}
			if _, dup := n.children[cname]; dup {
				return "", nil, fmt.Errorf("%w: duplicate node %q", ErrCorruptSnapshot, childPrefix+cname)
			}
			n.children[cname] = c
		}
	}
	return name, n, nil
}

// index records a loaded node in the ephemeral, container, TTL and quota
// indexes, as createNode does.
func (t *Tree) index(path, parentPath, name string, n *node) {
	switch t.kind(n.owner) {
	case kindContainer:
		t.containers[path] = struct{}{}
	case kindTTL:
		t.ttls[path] = struct{}{}
	case kindEphemeral:
		set := t.ephemerals[n.owner]
		if set == nil {
			set = make(map[string]struct{})
			t.ephemerals[n.owner] = set
		}
		set[path] = struct{}{}
	}
	if name == quotaLimitNode && strings.HasPrefix(parentPath, quotaPath) {
		t.addQuota(parentPath[len(quotaPath):])
	}
}
