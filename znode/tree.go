package znode

import (
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/zkgo/zkgo/wire"
)

// Special ephemeralOwner values (EphemeralType).
const (
	// ContainerOwner is the ephemeralOwner stored for container nodes.
	ContainerOwner int64 = math.MinInt64
	// MaxTTL is the largest TTL (ms) a TTL node may have.
	MaxTTL int64 = 1<<40 - 1

	ttlMask int64 = -1 << 56 // 0xff00000000000000: extended type marker
)

// TTLOwner returns the ephemeralOwner stored for a TTL node with the given
// TTL (ms), which must be in 1..MaxTTL.
func TTLOwner(ttl int64) int64 { return ttlMask | ttl }

// nodeKind is Apache's EphemeralType.
type nodeKind uint8

const (
	kindPersistent nodeKind = iota // VOID
	kindEphemeral                  // NORMAL
	kindContainer
	kindTTL
)

// node is one znode. A node knows its name, not its path: the full path is
// known only while walking to it. Stats are kept as Apache's StatPersisted:
// cversion counts child creations only. What only a parent needs (its
// children, cversion and pzxid) lives in dir, which a leaf that never had
// a child does not have: most znodes are such leaves, and a leaf is two
// allocations, the 96-byte node and its name and data in one buffer.
type node struct {
	// buf is the node's name followed by its data; it is never modified
	// once the node holds it (setData replaces it), so slices of it may be
	// handed out.
	buf []byte
	acl *aclEntry
	dir *dir // nil: no children, cversion 0, pzxid = czxid

	czxid, mzxid, ctime, mtime int64
	owner                      int64 // ephemeralOwner as stored
	version, aversion          int32
	// gen is the tree generation the node belongs to. While a snapshot is
	// being written, nodes of older generations are shared with it and are
	// copied before they change (see mutable).
	gen     uint32
	nameLen uint32 // length of the name in buf, plus nullData if data is null
}

// nullData marks a node whose data is null (as distinct from empty).
const nullData = 1 << 31

// newNode returns a node called name holding data.
func newNode(name string, data []byte) *node {
	n := &node{}
	n.set(name, data)
	return n
}

// set gives n its name and data in one fresh buffer.
func (n *node) set(name string, data []byte) {
	buf := make([]byte, len(name)+len(data))
	copy(buf[copy(buf, name):], data)
	n.buf, n.nameLen = buf, uint32(len(name))
	if data == nil {
		n.nameLen |= nullData
	}
}

// name returns the node's name (without copying it).
func (n *node) name() string {
	l := n.nameLen &^ nullData
	if l == 0 {
		return ""
	}
	return unsafe.String(&n.buf[0], l)
}

// data returns the node's data (nil if null). Callers must not modify it.
func (n *node) data() []byte {
	if n.nameLen&nullData != 0 {
		return nil
	}
	return n.buf[n.nameLen:len(n.buf):len(n.buf)]
}

// setData replaces the node's data.
func (n *node) setData(data []byte) { n.set(n.name(), data) }

// dir is the part of a node that concerns its children.
type dir struct {
	children childSet
	pzxid    int64
	cversion int32
}

// kids returns the node's children (nil if it has no dir; the methods of
// childSet that only read accept nil).
func (n *node) kids() *childSet {
	if n.dir == nil {
		return nil
	}
	return &n.dir.children
}

// pzxid is the zxid of the last change to the node's children.
func (n *node) pzxid() int64 {
	if n.dir == nil {
		return n.czxid
	}
	return n.dir.pzxid
}

// cversion counts the creations of the node's children.
func (n *node) cversion() int32 {
	if n.dir == nil {
		return 0
	}
	return n.dir.cversion
}

// mkdir returns the node's dir, adding one if it has none.
func (n *node) mkdir() *dir {
	if n.dir == nil {
		n.dir = &dir{pzxid: n.czxid}
	}
	return n.dir
}

// setDir gives a node read from a snapshot its child counters, adding a dir
// only where they differ from a leaf's.
func (n *node) setDir(cversion int32, pzxid int64, nchild int) {
	if cversion != 0 || pzxid != n.czxid || nchild > 0 {
		n.dir = &dir{pzxid: pzxid, cversion: cversion}
	}
}

// Tree is the data tree plus the session table and the watch manager.
// Reads may run concurrently with Apply: one sync.RWMutex guards the tree;
// Apply takes it for writing, Read, Stats and WriteSnapshot for reading.
// Watch events are delivered (Notify) while Apply still holds the lock, in
// the order the changes happen, so a reply the server sends after Apply
// returns always follows the events the write caused.
type Tree struct {
	opts Options

	mu        sync.RWMutex // guards everything below but the watches
	root      *node
	acls      *aclCache
	nodeCount int   // real nodes, the root included
	dataSize  int64 // sum of len(path)+len(data) over the nodes

	ephemerals map[int64]map[string]struct{} // session -> its ephemeral paths
	containers map[string]struct{}
	ttls       map[string]struct{}
	quotas     map[string]struct{} // paths with a zookeeper_limits node
	sessions   map[int64]*SessionInfo

	lastZxid atomic.Int64

	// gen is the current generation; frozen counts the snapshots of
	// earlier generations being written (see Snapshot).
	gen    uint32
	frozen int

	// wmu guards the watch managers. Apply holds it (under mu) while it
	// triggers watches; reads take it (under mu.RLock) to register them.
	wmu          sync.Mutex
	dataWatches  watchManager
	childWatches watchManager
	wbuf1, wbuf2 []Watcher // scratch for triggers
}

// NewTree returns a tree holding "/", "/zookeeper", "/zookeeper/quota" and
// "/zookeeper/config", as a fresh Apache ZooKeeper server has: every Stat
// field zero, empty (not null) data, world:anyone ACLs with all
// permissions, except /zookeeper/config which is read-only for everyone and
// has aversion -1 (Apache sets its ACL with version -1).
func NewTree(opts Options) *Tree {
	t := newEmptyTree(opts)
	open := t.acls.intern(OpenACL)
	t.root = newNode("", []byte{})
	t.root.acl = open
	proc := newNode("zookeeper", []byte{})
	proc.acl = t.acls.intern(OpenACL)
	quota := newNode("quota", []byte{})
	quota.acl = t.acls.intern(OpenACL)
	config := newNode("config", []byte{})
	config.acl, config.aversion = t.acls.intern(ReadACL), -1
	t.root.mkdir().children.put(proc)
	proc.mkdir().children.put(quota)
	proc.dir.children.put(config)
	t.nodeCount = 4
	t.dataSize = int64(len(rootPath) + len(procPath) + len(quotaPath) + len(configPath))
	return t
}

func newEmptyTree(opts Options) *Tree {
	t := &Tree{
		opts:       opts,
		acls:       newACLCache(),
		ephemerals: make(map[int64]map[string]struct{}),
		containers: make(map[string]struct{}),
		ttls:       make(map[string]struct{}),
		quotas:     make(map[string]struct{}),
		sessions:   make(map[int64]*SessionInfo),
	}
	t.dataWatches.init()
	t.childWatches.init()
	return t
}

func (t *Tree) warn(msg string, kv ...any) {
	if t.opts.Warn != nil {
		t.opts.Warn(msg, kv...)
	}
}

// lookup returns the node at path, or nil. "" is an alias of the root, as
// in Apache's node table.
func (t *Tree) lookup(path string) *node { return t.walk(path, false) }

// mutable returns the node at path, or nil, ready to be changed. While a
// snapshot is being written the nodes it shares are never changed: the node
// and its ancestors are copied into the current generation first.
func (t *Tree) mutable(path string) *node { return t.walk(path, t.frozen > 0) }

// walk finds the node at path, copying the nodes on the way that belong to
// an older generation when copy is set.
func (t *Tree) walk(path string, copy bool) *node {
	if copy && t.root.gen != t.gen {
		t.root = t.copyNode(t.root)
	}
	if path == "" || path == rootPath {
		return t.root
	}
	if path[0] != '/' {
		return nil
	}
	n := t.root
	rest := path[1:]
	for {
		i := strings.IndexByte(rest, '/')
		name := rest
		if i >= 0 {
			name = rest[:i]
		}
		c := n.kids().get(name)
		if c == nil {
			return nil
		}
		if copy && c.gen != t.gen {
			c = t.copyNode(c)
			n.dir.children.put(c)
		}
		if i < 0 {
			return c
		}
		n, rest = c, rest[i+1:]
	}
}

// copyNode copies a node shared with a snapshot into the current generation.
func (t *Tree) copyNode(n *node) *node {
	c := *n
	c.gen = t.gen
	if n.dir != nil {
		d := *n.dir
		d.children = d.children.clone()
		c.dir = &d
	}
	return &c
}

// kind classifies an ephemeralOwner as EphemeralType.get does: TTL owners
// are recognised only with extended types enabled.
func (t *Tree) kind(owner int64) nodeKind {
	switch {
	case owner == 0:
		return kindPersistent
	case owner == ContainerOwner:
		return kindContainer
	case t.opts.ExtendedTypes && owner&ttlMask == ttlMask && owner&(0xffff<<40) == 0:
		return kindTTL
	}
	return kindEphemeral
}

// statOf is the client view of a node's Stat (DataNode.copyStat): cversion
// counts creations and deletions of children, and only plain ephemerals
// show their owner.
func (t *Tree) statOf(n *node) wire.Stat {
	nc := int32(n.kids().len())
	owner := n.owner
	if t.kind(owner) != kindEphemeral {
		owner = 0
	}
	return wire.Stat{
		Czxid:          n.czxid,
		Mzxid:          n.mzxid,
		Ctime:          n.ctime,
		Mtime:          n.mtime,
		Version:        n.version,
		Cversion:       n.cversion()*2 - nc,
		Aversion:       n.aversion,
		EphemeralOwner: owner,
		DataLength:     int32(len(n.data())),
		NumChildren:    nc,
		Pzxid:          n.pzxid(),
	}
}

// sortedChildren returns the names of n's children in order (never nil).
func sortedChildren(n *node) []string {
	names := make([]string, 0, n.kids().len())
	for c := range n.kids().all() {
		names = append(names, c.name())
	}
	sort.Strings(names)
	return names
}

// sortedKids returns n's children in name order.
func sortedKids(n *node) []*node {
	kids := slices.Collect(n.kids().all())
	slices.SortFunc(kids, func(a, b *node) int { return strings.Compare(a.name(), b.name()) })
	return kids
}

// LastZxid is the zxid of the last applied txn.
func (t *Tree) LastZxid() int64 { return t.lastZxid.Load() }

// Session returns a live session.
func (t *Tree) Session(id int64) (SessionInfo, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	s, ok := t.sessions[id]
	if !ok {
		return SessionInfo{}, false
	}
	return *s, true
}

// Sessions lists the live sessions, sorted by ID.
func (t *Tree) Sessions() []SessionInfo {
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make([]SessionInfo, 0, len(t.sessions))
	for _, s := range t.sessions {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// ExpiredContainers lists nodes due for removal at time now (ms), sorted:
// empty containers that once had children (or, with
// Options.MaxNeverUsedIntervalMs, that never had any for longer than that)
// and childless TTL nodes not modified for longer than their TTL, as
// Apache's ContainerManager finds them. The leader proposes an
// OpDeleteContainer txn for each; Apply checks again.
func (t *Tree) ExpiredContainers(now int64) []string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	var out []string
	for p := range t.containers {
		if n := t.lookup(p); n != nil && t.containerExpired(n, now) {
			out = append(out, p)
		}
	}
	for p := range t.ttls {
		if n := t.lookup(p); n != nil && t.ttlExpired(n, now) {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

func (t *Tree) containerExpired(n *node, now int64) bool {
	if n.kids().len() > 0 || t.kind(n.owner) != kindContainer {
		return false
	}
	if n.cversion() > 0 {
		return true
	}
	limit := t.opts.MaxNeverUsedIntervalMs
	return limit != 0 && now-n.mtime > limit
}

func (t *Tree) ttlExpired(n *node, now int64) bool {
	if n.kids().len() > 0 || t.kind(n.owner) != kindTTL {
		return false
	}
	ttl := n.owner &^ ttlMask &^ (0xffff << 40)
	return ttl != 0 && now-n.mtime > ttl
}

// Stats are tree counters for 4lw and metrics. The watch counters follow
// Apache, whose wchs, wchc and wchp report the data watch table only
// (exists, getData and persistent watches), while its watch_count metric
// adds the child watches.
type Stats struct {
	NodeCount       int   // Apache's zk_znode_count: the nodes plus the root's "" alias
	ApproxDataSize  int64 // sum of path lengths and data lengths, as Apache
	EphemeralCount  int
	WatchCount      int // data watches (wchs "Total watches")
	WatchedPaths    int // paths with data watches (wchs)
	WatchingClients int // watchers with data watches (wchs "connections")
	AllWatches      int // data plus child watches (mntr zk_watch_count)
}

// Stats counts the tree for monitoring.
func (t *Tree) Stats() Stats {
	t.mu.RLock()
	defer t.mu.RUnlock()
	s := Stats{
		NodeCount:      t.nodeCount + 1,
		ApproxDataSize: t.dataSize,
	}
	for _, set := range t.ephemerals {
		s.EphemeralCount += len(set)
	}
	t.wmu.Lock()
	defer t.wmu.Unlock()
	s.WatchCount = t.dataWatches.size()
	s.WatchedPaths = len(t.dataWatches.byPath)
	s.WatchingClients = t.dataWatches.watchers()
	s.AllWatches = s.WatchCount + t.childWatches.size()
	return s
}

// WatchesBySession lists the data-watched paths per session (wchc),
// sorted. Like Apache it covers the data watch table only. SessionID is
// called without the tree locked.
func (t *Tree) WatchesBySession() map[int64][]string {
	type watched struct {
		w     Watcher
		paths []string
	}
	t.wmu.Lock()
	all := make([]watched, 0, len(t.dataWatches.byWatcher))
	for w, paths := range t.dataWatches.byWatcher {
		if len(paths) == 0 {
			continue
		}
		ps := make([]string, 0, len(paths))
		for p := range paths {
			ps = append(ps, p)
		}
		all = append(all, watched{w, ps})
	}
	t.wmu.Unlock()
	out := make(map[int64][]string)
	for _, x := range all {
		id := x.w.SessionID()
		out[id] = append(out[id], x.paths...)
	}
	for id, ps := range out {
		sort.Strings(ps)
		out[id] = dedupSorted(ps)
	}
	return out
}

// WatchesByPath lists the sessions watching each path (wchp), sorted. Like
// Apache it covers the data watch table only. SessionID is called without
// the tree locked.
func (t *Tree) WatchesByPath() map[string][]int64 {
	t.wmu.Lock()
	byPath := make(map[string][]Watcher, len(t.dataWatches.byPath))
	for p, set := range t.dataWatches.byPath {
		ws := make([]Watcher, 0, set.len())
		set.each(func(w Watcher, _ watchMode) { ws = append(ws, w) })
		byPath[p] = ws
	}
	t.wmu.Unlock()
	out := make(map[string][]int64, len(byPath))
	for p, ws := range byPath {
		ids := make([]int64, 0, len(ws))
		for _, w := range ws {
			ids = append(ids, w.SessionID())
		}
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		n := 0
		for i, id := range ids {
			if i == 0 || id != ids[n-1] {
				ids[n] = id
				n++
			}
		}
		out[p] = ids[:n]
	}
	return out
}

func dedupSorted(s []string) []string {
	n := 0
	for i, v := range s {
		if i == 0 || v != s[n-1] {
			s[n] = v
			n++
		}
	}
	return s[:n]
}

// EphemeralsBySession lists ephemeral paths per session (dump), sorted.
func (t *Tree) EphemeralsBySession() map[int64][]string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make(map[int64][]string, len(t.ephemerals))
	for id, set := range t.ephemerals {
		out[id] = sortedSet(set)
	}
	return out
}

func sortedSet(set map[string]struct{}) []string {
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}
