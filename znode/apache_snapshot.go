package znode

import (
	"encoding/binary"
	"hash/adler32"
	"io"
	"sort"
	"strings"

	"github.com/zkgo/zkgo/wire"
)

// An Apache ZooKeeper snapshot (FileSnap, SerializeUtils, DataTree), after
// decompression when the file name ends in .gz or .snappy, in jute
// encoding:
//
//	FileHeader         int magic "ZKSN", int version 2, long dbid
//	sessions           int count, {long id, int timeout}
//	ACL cache          int count, {long id, vector<ACL>}   (-1 means OPEN_ACL_UNSAFE)
//	nodes, pre-order   {ustring path, buffer data, long acl, StatPersisted}
//	                   the root's path is "", the end is the path "/"
//	seal               long Adler32 of every byte before, ustring "/"
//	3.6+: ZxidDigest   long zxid, int digestVersion, long digest (ustring before version 2), seal
//	3.9+ option:       long lastProcessedZxid, seal
//
// StatPersisted is czxid, mzxid, ctime, mtime (long), version, cversion,
// aversion (int), ephemeralOwner, pzxid (long); its cversion counts child
// creations only, as ours.
const (
	apacheSnapMagic = 0x5a4b534e // "ZKSN"
	apacheVersion   = 2
	apacheOpenACL   = -1 // ReferenceCountedACLCache.OPEN_UNSAFE_ACL_ID
)

// ApacheSnapshotInfo describes what ReadApacheSnapshot found besides the
// tree.
type ApacheSnapshotInfo struct {
	DBID int64
	// DigestZxid is the zxid of the tree digest the snapshot carries (3.6+),
	// 0 if none.
	DigestZxid int64
	// LastProcessedZxid is the zxid some 3.9+ servers append, 0 if none.
	LastProcessedZxid int64
}

// ReadApacheSnapshot rebuilds the tree held by an Apache ZooKeeper snapshot
// taken at zxid (the zxid in its file name), given the whole decompressed
// stream, and verifies its checksums. The sessions get
// ApacheSessionPasswd passwords. As when Apache ZooKeeper loads a snapshot,
// the zookeeper_stats node of every quota is recomputed from its subtree
// (DataTree.setupQuota). Errors wrap ErrCorruptApache.
//
// A snapshot is fuzzy: the txns after zxid must be replayed on it with
// ApplyApache, even those it already partly holds.
func ReadApacheSnapshot(b []byte, zxid int64, opts Options) (*Tree, ApacheSnapshotInfo, error) {
	var info ApacheSnapshotInfo
	d := wire.NewDecoder(b)
	magic, version := d.Int(), d.Int()
	info.DBID = d.Long()
	if d.Err() != nil {
		return nil, info, corruptApache("file header: %v", d.Err())
	}
	if uint32(magic) != apacheSnapMagic {
		return nil, info, corruptApache("not a snapshot (magic %08x)", uint32(magic))
	}
	if version != apacheVersion {
		return nil, info, corruptApache("unsupported snapshot version %d", version)
	}
	t := newEmptyTree(opts)

	ns := int(d.Int())
	if d.Err() == nil && (ns < 0 || ns > d.Remaining()/12) {
		return nil, info, corruptApache("bad session count %d", ns)
	}
	for i := 0; i < ns && d.Err() == nil; i++ {
		id, timeout := d.Long(), d.Int()
		t.sessions[id] = &SessionInfo{ID: id, Timeout: timeout, Passwd: ApacheSessionPasswd(id)}
	}

	na := int(d.Int())
	if d.Err() == nil && (na < 0 || na > d.Remaining()/12) {
		return nil, info, corruptApache("bad ACL count %d", na)
	}
	acls := make(map[int64][]wire.ACL, na)
	for i := 0; i < na && d.Err() == nil; i++ {
		id := d.Long()
		list := wire.DecodeACLs(d)
		if d.Err() == nil && list == nil {
			return nil, info, corruptApache("ACL %d is null", id)
		}
		acls[id] = list
	}
	if d.Err() != nil {
		return nil, info, corruptApache("sessions and ACLs: %v", d.Err())
	}

	if err := t.readApacheNodes(d, acls); err != nil {
		return nil, info, err
	}
	pos := len(b) - d.Remaining()
	if !apacheSealAt(b, pos) {
		return nil, info, corruptApache("checksum mismatch")
	}
	pos += apacheSealLen
	// Optional sections, each sealed: a ZxidDigest, then lastProcessedZxid.
	var seenDigest, seenLast bool
	for pos < len(b) {
		rest := wire.NewDecoder(b[pos:])
		dz, dv := rest.Long(), rest.Int()
		if dv < 2 {
			_ = rest.String() // hex digest of the old digest versions
		} else {
			rest.Long()
		}
		if end := len(b) - rest.Remaining(); !seenDigest && !seenLast && rest.Err() == nil && apacheSealAt(b, end) {
			seenDigest, info.DigestZxid = true, dz
			pos = end + apacheSealLen
			continue
		}
		if end := pos + 8; !seenLast && apacheSealAt(b, end) {
			seenLast, info.LastProcessedZxid = true, int64(binary.BigEndian.Uint64(b[pos:]))
			pos = end + apacheSealLen
			continue
		}
		return nil, info, corruptApache("%d bytes after the tree are no sealed section (checksum mismatch?)", len(b)-pos)
	}

	t.apacheSetupQuota()
	t.lastZxid.Store(zxid)
	return t, info, nil
}

// apacheSealLen is the size of a seal: a long and the ustring "/".
const apacheSealLen = 8 + 4 + 1

// apacheSealAt reports whether b holds at pos a seal whose checksum is the
// Adler32 of b[:pos] (SnapStream.checkSealIntegrity).
func apacheSealAt(b []byte, pos int) bool {
	if pos < 0 || pos+apacheSealLen > len(b) {
		return false
	}
	sum := binary.BigEndian.Uint64(b[pos:])
	return sum == uint64(adler32.Checksum(b[:pos])) &&
		binary.BigEndian.Uint32(b[pos+8:]) == 1 && b[pos+12] == '/'
}

// readApacheNodes reads the nodes up to the "/" end marker
// (DataTree.deserialize).
func (t *Tree) readApacheNodes(d *wire.Decoder, acls map[int64][]wire.ACL) error {
	entries := make(map[int64]uint32, len(acls))
	for first := true; ; first = false {
		path := d.String()
		if d.Err() != nil {
			return corruptApache("nodes: %v", d.Err())
		}
		if path == rootPath {
			if first {
				return corruptApache("no nodes")
			}
			return nil
		}
		data := d.Buffer()
		aclID := d.Long()
		st, cversion, pzxid := decodeStatPersisted(d)
		if d.Err() != nil {
			return corruptApache("node %q: %v", path, d.Err())
		}
		if a, ok := entries[aclID]; ok {
			t.acls.retain(a)
			st.acl = a
		} else {
			list, ok := acls[aclID]
			if aclID == apacheOpenACL {
				list, ok = OpenACL, true
			}
			if !ok {
				return corruptApache("node %q: unknown ACL %d", path, aclID)
			}
			st.acl = t.acls.intern(list)
			entries[aclID] = st.acl
		}
		if first {
			if path != "" {
				return corruptApache("first node is %q, not the root", path)
			}
			n := newNode("", data, st)
			n = n.withCounters(st.czxid, cversion, pzxid, 0, t.gen)
			t.root = n
			t.nodeCount++
			t.dataSize += int64(len(rootPath) + len(n.data()))
			continue
		}
		parentPath, name, ok := splitPath(path)
		if !ok || name == "" || path[0] != '/' {
			return corruptApache("bad node path %q", path)
		}
		parent := t.owned(parentPath)
		if !parent.ok() {
			return corruptApache("node %q comes before its parent", path)
		}
		if parent.dir().children.get(name).ok() {
			return corruptApache("node %q twice", path)
		}
		n := newNode(name, data, st)
		n = n.withCounters(st.czxid, cversion, pzxid, 0, t.gen)
		parent.dir().children.put(n)
		t.nodeCount++
		t.dataSize += int64(len(path) + len(data))
		t.index(path, parentPath, name, st.owner)
	}
}

// apacheSetupQuota is DataTree.setupQuota: every childless zookeeper_limits
// node under /zookeeper/quota marks a quota, whose zookeeper_stats node is
// recomputed from the subtree.
func (t *Tree) apacheSetupQuota() {
	clear(t.quotas)
	q := t.lookup(quotaPath)
	if !q.ok() {
		return
	}
	var walk func(path string, n node)
	walk = func(path string, n node) {
		if n.kids().len() == 0 {
			const end = "/" + quotaLimitNode
			if strings.HasSuffix(path, end) {
				quoted := path[len(quotaPath):strings.Index(path, end)]
				t.updateQuotaForPath(quoted)
				t.addQuota(quoted)
			}
			return
		}
		for c := range n.kids().all() {
			walk(path+"/"+c.name(), c)
		}
	}
	walk(quotaPath, q)
}

// WriteApacheSnapshot writes the tree as an uncompressed Apache ZooKeeper
// snapshot (FileSnap.serialize) without the optional digest section:
// header, sessions with their timeouts, the ACL cache, the nodes and the
// seal. Apache ZooKeeper loads it as snapshot.<LastZxid in hex>.
func (t *Tree) WriteApacheSnapshot(w io.Writer) error {
	t.mu.RLock()
	e := wire.NewEncoder(nil)
	e.Int(apacheSnapMagic)
	e.Int(apacheVersion)
	e.Long(0)

	ids := make([]int64, 0, len(t.sessions))
	for id := range t.sessions {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	e.Int(int32(len(ids)))
	for _, id := range ids {
		e.Long(id)
		e.Int(t.sessions[id].Timeout)
	}

	entries, index := liveACLs(t.acls.entries)
	e.Int(int32(len(entries)))
	for i, a := range entries {
		e.Long(int64(i + 1))
		wire.EncodeACLs(e, a.acls)
	}

	var walk func(path string, n node)
	walk = func(path string, n node) {
		st := n.stat()
		e.String(path)
		e.Buffer(n.data())
		e.Long(int64(index[st.acl]) + 1)
		encodeStatPersisted(e, n, &st)
		for _, name := range sortedChildren(n) {
			walk(path+"/"+name, n.kids().get(name))
		}
	}
	walk("", t.root)
	t.mu.RUnlock()
	e.String(rootPath)
	e.Long(int64(adler32.Checksum(e.Bytes())))
	e.String(rootPath)
	_, err := w.Write(e.Bytes())
	return err
}

// ReadApacheSnapshotStream builds the tree of the snapshot an Apache
// ZooKeeper leader sends a learner after SNAP (ZKDatabase.serializeSnapshot):
// the sessions, the ACL cache and the nodes as in a snapshot file, but
// without the file header, the seals and the digest. The snapshot is
// fuzzy as a file's is; the leader's txns after zxid follow it.
func ReadApacheSnapshotStream(body []byte, zxid int64, opts Options) (*Tree, error) {
	b := make([]byte, 0, 16+len(body)+apacheSealLen)
	b = binary.BigEndian.AppendUint32(b, apacheSnapMagic)
	b = binary.BigEndian.AppendUint32(b, apacheVersion)
	b = binary.BigEndian.AppendUint64(b, 0)
	b = append(b, body...)
	b = binary.BigEndian.AppendUint64(b, uint64(adler32.Checksum(b)))
	b = binary.BigEndian.AppendUint32(b, 1)
	b = append(b, '/')
	t, _, err := ReadApacheSnapshot(b, zxid, opts)
	return t, err
}
