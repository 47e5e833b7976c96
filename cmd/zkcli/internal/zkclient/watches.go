package zkclient

import (
	"strings"
	"sync"

	"github.com/zkgo/zkgo/wire"
)

// Keeper states of an Event (Watcher.Event.KeeperState).
const (
	StateDisconnected      int32 = 0
	StateSyncConnected     int32 = 3
	StateAuthFailed        int32 = 4
	StateConnectedReadOnly int32 = 5
	StateSaslAuthenticated int32 = 6
	StateClosed            int32 = 7
	StateExpired           int32 = -112
)

// KeeperStateName returns the name Apache ZooKeeper gives a keeper state.
func KeeperStateName(s int32) string {
	switch s {
	case StateDisconnected:
		return "Disconnected"
	case StateSyncConnected:
		return "SyncConnected"
	case StateAuthFailed:
		return "AuthFailed"
	case StateConnectedReadOnly:
		return "ConnectedReadOnly"
	case StateSaslAuthenticated:
		return "SaslAuthenticated"
	case StateClosed:
		return "Closed"
	case StateExpired:
		return "Expired"
	}
	return "Unknown"
}

// Event is a watch notification or a session state change (Type
// wire.EventNone, empty Path).
type Event struct {
	Type  wire.EventType
	State int32
	Path  string
}

// String formats the event as Apache ZooKeeper's WatchedEvent does.
func (e Event) String() string {
	p := e.Path
	if e.Type == wire.EventNone && p == "" {
		p = "null"
	}
	return "WatchedEvent state:" + KeeperStateName(e.State) + " type:" + e.Type.String() + " path:" + p
}

// Watcher receives events. Its function is called from the goroutine that
// reads the connection, in the order the server sent them: it must not
// block for long and must not call the Client.
type Watcher struct {
	fn func(Event)
}

// NewWatcher returns a watcher calling fn for each event.
func NewWatcher(fn func(Event)) *Watcher { return &Watcher{fn: fn} }

// WatcherType selects watches to remove (Watcher.WatcherType).
type WatcherType int32

// Watcher types.
const (
	WatchChildren WatcherType = 1
	WatchData     WatcherType = 2
	WatchAny      WatcherType = 3
)

// AddWatchMode is the mode of a persistent watch.
type AddWatchMode int32

// Persistent watch modes.
const (
	Persistent          AddWatchMode = 0
	PersistentRecursive AddWatchMode = 1
)

type watchKind int

const (
	kindData watchKind = iota
	kindExist
	kindChild
	kindPersistent
	kindRecursive
	numKinds
)

type watcherSet map[*Watcher]struct{}

// watchManager is the client side of watches, with the rules of Apache
// ZooKeeper's ZKWatchManager: which watches an event triggers, which are
// one-shot, and what a removal reports.
type watchManager struct {
	mu    sync.Mutex
	kinds [numKinds]map[string]watcherSet
}

func newWatchManager() *watchManager {
	m := &watchManager{}
	m.reset()
	return m
}

func (m *watchManager) reset() {
	for i := range m.kinds {
		m.kinds[i] = map[string]watcherSet{}
	}
}

func (m *watchManager) add(k watchKind, path string, w *Watcher) {
	if w == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.kinds[k][path]
	if s == nil {
		s = watcherSet{}
		m.kinds[k][path] = s
	}
	s[w] = struct{}{}
}

// clear forgets every watch (the session is gone).
func (m *watchManager) clear() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reset()
}

// paths returns the watched paths of each kind, for re-registering them on
// a new connection.
func (m *watchManager) paths() [numKinds][]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out [numKinds][]string
	for k := range m.kinds {
		for p := range m.kinds[k] {
			out[k] = append(out[k], p)
		}
	}
	return out
}

// all returns every registered watcher (a session event goes to all).
func (m *watchManager) all() watcherSet {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := watcherSet{}
	for k := range m.kinds {
		for _, s := range m.kinds[k] {
			for w := range s {
				out[w] = struct{}{}
			}
		}
	}
	return out
}

// materialize returns the watchers a node event triggers and removes the
// one-shot ones it consumes.
func (m *watchManager) materialize(t wire.EventType, path string) watcherSet {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := watcherSet{}
	take := func(k watchKind) {
		for w := range m.kinds[k][path] {
			out[w] = struct{}{}
		}
		delete(m.kinds[k], path)
	}
	switch t {
	case wire.EventNodeCreated, wire.EventNodeDataChanged:
		take(kindData)
		take(kindExist)
	case wire.EventNodeChildrenChanged:
		take(kindChild)
	case wire.EventNodeDeleted:
		take(kindData)
		take(kindExist)
		take(kindChild)
	default:
		return out
	}
	for w := range m.kinds[kindPersistent][path] {
		out[w] = struct{}{}
	}
	for p := path; ; p = parentPath(p) {
		for w := range m.kinds[kindRecursive][p] {
			out[w] = struct{}{}
		}
		if p == "/" {
			break
		}
	}
	return out
}

// contains reports whether w (nil: anyone) watches path with a watch that
// a removal of type t would concern.
func (m *watchManager) contains(path string, t WatcherType, w *Watcher) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	var kinds []watchKind
	switch t {
	case WatchChildren:
		kinds = []watchKind{kindChild, kindPersistent, kindRecursive}
	case WatchData:
		kinds = []watchKind{kindData, kindExist, kindPersistent, kindRecursive}
	default:
		kinds = []watchKind{kindChild, kindData, kindExist, kindPersistent, kindRecursive}
	}
	for _, k := range kinds {
		s := m.kinds[k][path]
		if w == nil && len(s) > 0 {
			return true
		}
		if _, ok := s[w]; ok && w != nil {
			return true
		}
	}
	return false
}

// removal is what a successful removeWatches removed: for each event type
// (DataWatchRemoved, ChildWatchRemoved, PersistentWatchRemoved), the
// watchers to tell.
type removal struct {
	types    []wire.EventType
	watchers []watcherSet
}

// remove drops the watches of type t on path held by w (nil: anyone) and
// reports whether any was removed.
func (m *watchManager) remove(path string, t WatcherType, w *Watcher) (removal, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	data, child, pers := watcherSet{}, watcherSet{}, watcherSet{}
	found := false
	drop := func(k watchKind, into watcherSet) {
		s := m.kinds[k][path]
		if s == nil {
			return
		}
		if w == nil {
			for x := range s {
				into[x] = struct{}{}
			}
			delete(m.kinds[k], path)
			found = true
			return
		}
		if _, ok := s[w]; ok {
			delete(s, w)
			into[w] = struct{}{}
			if len(s) == 0 {
				delete(m.kinds[k], path)
			}
			found = true
		}
	}
	switch t {
	case WatchChildren:
		drop(kindChild, child)
	case WatchData:
		drop(kindData, data)
		drop(kindExist, data)
	default:
		drop(kindChild, child)
		drop(kindData, data)
		drop(kindExist, data)
		drop(kindPersistent, pers)
		drop(kindRecursive, pers)
	}
	var r removal
	for i, s := range []watcherSet{data, child, pers} {
		if len(s) > 0 {
			r.types = append(r.types, []wire.EventType{wire.EventDataWatchRemoved, wire.EventChildWatchRemoved, wire.EventPersistentWatchRemoved}[i])
			r.watchers = append(r.watchers, s)
		}
	}
	return r, found
}

// parentPath returns the parent of a znode path ("/" for "/" itself).
func parentPath(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/"
	}
	return p[:i]
}
