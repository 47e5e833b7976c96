package znode

import (
	"math"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

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

// Tree is the data tree plus the session table and the watch manager.
// Reads may run concurrently with Apply: one sync.RWMutex guards the tree;
// Apply takes it for writing, Read, Stats and WriteSnapshot for reading.
// Watch events are delivered (Notify) while Apply still holds the lock, in
// the order the changes happen, so a reply the server sends after Apply
// returns always follows the events the write caused.
type Tree struct {
	opts Options

	namesMu   sync.Mutex   // guards childSet.sorted among holders of mu's read lock
	mu        sync.RWMutex // guards everything below but the watches
	root      node
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
	open := func() nodeStat { return nodeStat{acl: t.acls.intern(OpenACL)} }
	config := newNode("config", []byte{}, nodeStat{acl: t.acls.intern(ReadACL), aversion: -1})
	quota := newNode("quota", []byte{}, open())
	proc := t.ownDir(newNode("zookeeper", []byte{}, open()))
	proc.dir().children.put(quota)
	proc.dir().children.put(config)
	t.root = t.ownDir(newNode("", []byte{}, open()))
	t.root.dir().children.put(proc)
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

// lookup returns the node at path, or the zero node. "" is an alias of the
// root, as in Apache's node table.
func (t *Tree) lookup(path string) node {
	if path == "" || path == rootPath {
		return t.root
	}
	if path[0] != '/' {
		return node{}
	}
	n := t.root
	for rest := path[1:]; ; {
		name, after, more := strings.Cut(rest, "/")
		if n = n.kids().get(name); !n.ok() || !more {
			return n
		}
		rest = after
	}
}

// owned returns the node at path (the zero node if there is none) as a
// branch whose dir may be changed in place, as may its ancestors': a leaf
// becomes a branch, and while a snapshot is being written a dir it shares
// (of an older generation) is copied first. The nodes so replaced are
// replaced in their parents too.
func (t *Tree) owned(path string) node {
	t.root = t.ownDir(t.root)
	if path == "" || path == rootPath {
		return t.root
	}
	if path[0] != '/' {
		return node{}
	}
	d := t.root.dir()
	for rest := path[1:]; ; {
		name, after, more := strings.Cut(rest, "/")
		c := d.children.get(name)
		if !c.ok() {
			return c
		}
		if o := t.ownDir(c); o != c {
			d.children.put(o)
			c = o
		}
		if !more {
			return c
		}
		d, rest = c.dir(), after
	}
}

// ownDir returns n if it is a branch whose dir may be changed in place, or
// else a branch with n's blob and a dir that may: a copy of n's dir, or a
// new one for a leaf.
func (t *Tree) ownDir(n node) node {
	d := n.dir()
	switch {
	case d == nil:
		return newBranch(n.blob(), dir{pzxid: n.stat().czxid, gen: t.gen})
	case t.frozen > 0 && d.gen != t.gen:
		c := *d
		c.children = c.children.clone()
		c.gen = t.gen
		return newBranch(n.blob(), c)
	}
	return n
}

// slot returns the node at path (the zero node if there is none) and the
// dir that holds it, ready to be changed (see owned); nil for the root. A
// change to the node is a new node put in its place (see put).
func (t *Tree) slot(path string) (node, *dir) {
	if path == "" || path == rootPath {
		return t.root, nil
	}
	parentPath, name, ok := splitPath(path)
	if !ok {
		return node{}, nil
	}
	parent := t.owned(parentPath)
	if !parent.ok() {
		return node{}, nil
	}
	d := parent.dir()
	return d.children.get(name), d
}

// put stores n in d, in place of the node of the same name; a nil d holds
// the root.
func (t *Tree) put(d *dir, n node) {
	if d == nil {
		t.root = n
		return
	}
	d.children.put(n)
}

// aclOf returns the ACL list of a node.
func (t *Tree) aclOf(n node) []wire.ACL { return t.acls.list(n.stat().acl) }

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
func (t *Tree) statOf(n node) wire.Stat {
	st := n.stat()
	nc := int32(n.kids().len())
	owner := st.owner
	if t.kind(owner) != kindEphemeral {
		owner = 0
	}
	pzxid := st.czxid
	if d := n.dir(); d != nil {
		pzxid = d.pzxid
	}
	return wire.Stat{
		Czxid:          st.czxid,
		Mzxid:          st.mzxid,
		Ctime:          st.ctime,
		Mtime:          st.mtime,
		Version:        st.version,
		Cversion:       n.cversion()*2 - nc,
		Aversion:       st.aversion,
		EphemeralOwner: owner,
		DataLength:     int32(len(n.data())),
		NumChildren:    nc,
		Pzxid:          pzxid,
	}
}

// childNames returns the names of n's children in order (never nil), as
// sortedChildren does, from a cache in n's child set that lasts until the
// set next changes: sorting a listing cost more than the rest of a
// getChildren. The caller holds t.mu, for reading or writing, and must not
// modify the result.
func (t *Tree) childNames(n node) []string {
	s := n.kids()
	if s == nil {
		return []string{}
	}
	// Readers share t.mu; namesMu orders their fills of the cache.
	// Writers, who hold t.mu alone, clear it (childSet.put, del).
	t.namesMu.Lock()
	defer t.namesMu.Unlock()
	if s.sorted == nil {
		s.sorted = sortedChildren(n)
	}
	return s.sorted
}

// sortedChildren returns the names of n's children in order (never nil).
func sortedChildren(n node) []string {
	names := make([]string, 0, n.kids().len())
	for c := range n.kids().all() {
		names = append(names, c.name())
	}
	sort.Strings(names)
	return names
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
		if n := t.lookup(p); n.ok() && t.containerExpired(n, now) {
			out = append(out, p)
		}
	}
	for p := range t.ttls {
		if n := t.lookup(p); n.ok() && t.ttlExpired(n, now) {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

func (t *Tree) containerExpired(n node, now int64) bool {
	st := n.stat()
	if n.kids().len() > 0 || t.kind(st.owner) != kindContainer {
		return false
	}
	if n.cversion() > 0 {
		return true
	}
	limit := t.opts.MaxNeverUsedIntervalMs
	return limit != 0 && now-st.mtime > limit
}

func (t *Tree) ttlExpired(n node, now int64) bool {
	st := n.stat()
	if n.kids().len() > 0 || t.kind(st.owner) != kindTTL {
		return false
	}
	ttl := st.owner &^ ttlMask &^ (0xffff << 40)
	return ttl != 0 && now-st.mtime > ttl
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
