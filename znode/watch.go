package znode

import "github.com/zkgo/zkgo/wire"

// AuthWatcher is a Watcher that can tell the identities of its connection.
// Apache ZooKeeper (3.8.4+, 3.9.2+) delivers a watch event only to a
// connection whose identities have READ permission on the node the event is
// about (the parent for NodeChildrenChanged); the tree applies that filter
// to watchers that implement this interface and delivers everything to the
// others. Auth is called while the tree is locked: it must not block or
// call into the tree. An event filtered out still consumes a one-shot
// watch, as in Apache.
type AuthWatcher interface {
	Watcher
	Auth() []wire.Id
}

// ZxidWatcher is a Watcher that wants the zxid of the txn that caused each
// event: Apache ZooKeeper 3.9 puts it in the notification's ReplyHeader
// (3.8 sends -1). The tree calls NotifyZxid instead of Notify for watchers
// that implement it, with -1 for events not caused by a txn (the catch-up
// events of setWatches). Same rules as Notify: it must not block or call
// back into the tree.
type ZxidWatcher interface {
	Watcher
	NotifyZxid(ev wire.WatcherEvent, zxid int64)
}

// watchMode is a set of WatcherMode bits (Apache's WatchStats).
type watchMode uint8

const (
	modeStandard   watchMode = 1 << iota // one-shot
	modePersistent                       // addWatch PERSISTENT
	modeRecursive                        // addWatch PERSISTENT_RECURSIVE
)

type watchEntry struct {
	w    Watcher
	mode watchMode
}

// smallWatchSet is how many watchers of one path are kept in a slice
// before the set becomes a map.
const smallWatchSet = 8

// watchSet holds the watchers of one path with their modes.
type watchSet struct {
	small []watchEntry
	big   map[Watcher]watchMode
}

func (s *watchSet) len() int {
	if s.big != nil {
		return len(s.big)
	}
	return len(s.small)
}

func (s *watchSet) get(w Watcher) watchMode {
	if s.big != nil {
		return s.big[w]
	}
	for _, e := range s.small {
		if e.w == w {
			return e.mode
		}
	}
	return 0
}

func (s *watchSet) set(w Watcher, mode watchMode) {
	if s.big != nil {
		s.big[w] = mode
		return
	}
	for i := range s.small {
		if s.small[i].w == w {
			s.small[i].mode = mode
			return
		}
	}
	if len(s.small) < smallWatchSet {
		s.small = append(s.small, watchEntry{w, mode})
		return
	}
	s.big = make(map[Watcher]watchMode, 2*smallWatchSet)
	for _, e := range s.small {
		s.big[e.w] = e.mode
	}
	s.small = nil
	s.big[w] = mode
}

func (s *watchSet) del(w Watcher) {
	if s.big != nil {
		delete(s.big, w)
		return
	}
	for i := range s.small {
		if s.small[i].w == w {
			last := len(s.small) - 1
			copy(s.small[i:], s.small[i+1:])
			s.small[last] = watchEntry{}
			s.small = s.small[:last]
			return
		}
	}
}

func (s *watchSet) each(fn func(w Watcher, mode watchMode)) {
	if s.big != nil {
		for w, m := range s.big {
			fn(w, m)
		}
		return
	}
	for _, e := range s.small {
		fn(e.w, e.mode)
	}
}

// watchManager is one of Apache's two watch tables (data or child).
type watchManager struct {
	byPath map[string]*watchSet
	// byWatcher holds the paths of each watcher. A watcher's set is kept
	// when it empties (a one-shot watch fired and is about to be re-armed:
	// no new map each time) and dropped by removeWatcher.
	byWatcher map[Watcher]map[string]struct{}
	recursive int // (path, watcher) pairs with modeRecursive
}

func (m *watchManager) init() {
	m.byPath = make(map[string]*watchSet)
	m.byWatcher = make(map[Watcher]map[string]struct{})
}

// watchers counts the watchers with at least one watch.
func (m *watchManager) watchers() int {
	n := 0
	for _, paths := range m.byWatcher {
		if len(paths) > 0 {
			n++
		}
	}
	return n
}

// size counts the (path, watcher) pairs.
func (m *watchManager) size() int {
	n := 0
	for _, s := range m.byPath {
		n += s.len()
	}
	return n
}

// add registers w on path with mode and reports whether that changed
// anything.
func (m *watchManager) add(path string, w Watcher, mode watchMode) bool {
	set := m.byPath[path]
	if set == nil {
		set = &watchSet{}
		m.byPath[path] = set
	}
	old := set.get(w)
	if old|mode == old {
		return false
	}
	set.set(w, old|mode)
	paths := m.byWatcher[w]
	if paths == nil {
		paths = make(map[string]struct{})
		m.byWatcher[w] = paths
	}
	paths[path] = struct{}{}
	if mode == modeRecursive && old&modeRecursive == 0 {
		m.recursive++
	}
	return true
}

// contains reports whether w watches path with mode (any mode if 0).
func (m *watchManager) contains(path string, w Watcher, mode watchMode) bool {
	set := m.byPath[path]
	if set == nil {
		return false
	}
	got := set.get(w)
	if mode == 0 {
		return got != 0
	}
	return got&mode != 0
}

// remove drops mode (every mode if 0) of w on path and reports whether
// anything was removed (WatchManager.removeWatcher(path, watcher, mode)).
func (m *watchManager) remove(path string, w Watcher, mode watchMode) bool {
	set := m.byPath[path]
	if set == nil || m.byWatcher[w] == nil {
		return false
	}
	old := set.get(w)
	next := old &^ mode
	if mode == 0 {
		next = 0
	}
	if next == old {
		return false
	}
	if next != 0 {
		set.set(w, next)
	} else {
		m.unwatch(path, w, set)
	}
	if old&modeRecursive != 0 && next&modeRecursive == 0 {
		m.recursive--
	}
	return true
}

func (m *watchManager) unwatch(path string, w Watcher, set *watchSet) {
	set.del(w)
	if set.len() == 0 {
		delete(m.byPath, path)
	}
	delete(m.byWatcher[w], path)
}

// removeWatcher drops every watch of w.
func (m *watchManager) removeWatcher(w Watcher) {
	paths := m.byWatcher[w]
	if paths == nil {
		return
	}
	delete(m.byWatcher, w)
	for p := range paths {
		set := m.byPath[p]
		if set == nil {
			continue
		}
		if set.get(w)&modeRecursive != 0 {
			m.recursive--
		}
		set.del(w)
		if set.len() == 0 {
			delete(m.byPath, p)
		}
	}
}

// trigger collects the watchers an event on path reaches, appending them
// to out (WatchManager.triggerWatch): every watcher of path itself, whose
// one-shot mode is consumed, and the persistent-recursive watchers of its
// ancestors. Each watcher appears once.
func (m *watchManager) trigger(path string, out []Watcher) []Watcher {
	if set := m.byPath[path]; set != nil {
		if set.big != nil {
			for w, mode := range set.big {
				out = append(out, w)
				m.consume(path, w, mode, set)
			}
		} else {
			for i := 0; i < len(set.small); {
				e := set.small[i]
				out = append(out, e.w)
				if m.consume(path, e.w, e.mode, set) {
					continue // e was removed; the next entry moved to i
				}
				i++
			}
		}
		if set.len() == 0 {
			delete(m.byPath, path)
		}
	}
	if m.recursive == 0 || path == "" {
		return out
	}
	var seen map[Watcher]struct{}
	for p := parentOf(path); p != ""; p = parentOf(p) {
		set := m.byPath[p]
		if set == nil {
			continue
		}
		set.each(func(w Watcher, mode watchMode) {
			if mode&modeRecursive == 0 {
				return
			}
			if seen == nil && len(out) > 16 {
				seen = make(map[Watcher]struct{}, len(out))
				for _, x := range out {
					seen[x] = struct{}{}
				}
			}
			if seen != nil {
				if _, dup := seen[w]; dup {
					return
				}
				seen[w] = struct{}{}
			} else {
				for _, x := range out {
					if x == w {
						return
					}
				}
			}
			out = append(out, w)
		})
	}
	return out
}

// consume removes the one-shot mode of a triggered watch and reports
// whether the whole entry went away.
func (m *watchManager) consume(path string, w Watcher, mode watchMode, set *watchSet) bool {
	next := mode &^ modeStandard
	if next == mode {
		return false
	}
	if next != 0 {
		set.set(w, next)
		return false
	}
	set.del(w)
	delete(m.byWatcher[w], path)
	return true
}

// parentOf steps up as Apache's PathParentIterator does: "/a/b" -> "/a"
// -> "/" -> "" (done).
func parentOf(p string) string {
	if p == rootPath {
		return ""
	}
	i := lastSlash(p)
	if i <= 0 {
		if i < 0 {
			return ""
		}
		return rootPath
	}
	return p[:i]
}

func lastSlash(p string) int {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return i
		}
	}
	return -1
}

// fire triggers path in m and delivers the event to the watchers reached,
// skipping those in suppress. It returns the watchers reached (in *buf).
func (t *Tree) fire(m *watchManager, path string, typ wire.EventType, acl []wire.ACL, zxid int64, suppress []Watcher, buf *[]Watcher) []Watcher {
	ws := m.trigger(path, (*buf)[:0])
	*buf = ws
	if len(ws) == 0 {
		return ws
	}
	ev := wire.WatcherEvent{Type: typ, State: wire.StateSyncConnected, Path: path}
	var skip map[Watcher]struct{}
	if len(suppress) > 8 {
		skip = make(map[Watcher]struct{}, len(suppress))
		for _, w := range suppress {
			skip[w] = struct{}{}
		}
	}
outer:
	for _, w := range ws {
		if skip != nil {
			if _, ok := skip[w]; ok {
				continue
			}
		} else {
			for _, s := range suppress {
				if s == w {
					continue outer
				}
			}
		}
		deliver(w, ev, acl, zxid)
	}
	return ws
}

// deliver hands one event to w, filtered by READ permission on acl for
// watchers that report their identities (nil acl: no filter).
func deliver(w Watcher, ev wire.WatcherEvent, acl []wire.ACL, zxid int64) {
	if acl != nil {
		if aw, ok := w.(AuthWatcher); ok && !CheckACL(acl, wire.PermRead, aw.Auth()) {
			return
		}
	}
	if zw, ok := w.(ZxidWatcher); ok {
		zw.NotifyZxid(ev, zxid)
		return
	}
	w.Notify(ev)
}

// RemoveWatcher drops every watch of w (its connection closed).
func (t *Tree) RemoveWatcher(w Watcher) {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	t.dataWatches.removeWatcher(w)
	t.childWatches.removeWatcher(w)
}

// addWatch registers a watch of c's watcher; the caller holds mu (read or
// write).
func (t *Tree) addWatch(m *watchManager, path string, w Watcher, mode watchMode) {
	if w == nil {
		return
	}
	t.wmu.Lock()
	m.add(path, w, mode)
	t.wmu.Unlock()
}
