package znode

import (
	"io"

	"github.com/zkgo/zkgo/wire"
)

// CONTRACT STUBS: the znode implementer replaces this file with the real
// implementation in files of their own, keeping every signature below.

// Tree is the data tree plus the session table and the watch manager.
// Reads may run concurrently with Apply.
type Tree struct{}

// NewTree returns a tree holding "/", "/zookeeper", "/zookeeper/quota" and
// "/zookeeper/config", as a fresh Apache ZooKeeper server has.
func NewTree(opts Options) *Tree { panic("TODO") }

// Apply applies one txn, fires the watches it triggers and returns the
// result for the client.
func (t *Tree) Apply(txn *Txn) Result { panic("TODO") }

// Read answers a non-mutating request: exists, getData, getChildren,
// getChildren2, getACL, getAllChildrenNumber, getEphemerals, multiRead,
// checkWatches, removeWatches, addWatch, setWatches, setWatches2. Watches
// the request sets are registered for c.Watcher atomically with the read.
func (t *Tree) Read(op wire.OpCode, body wire.Record, c Caller) (wire.Record, wire.ErrCode) {
	panic("TODO")
}

// RemoveWatcher drops every watch of w (its connection closed).
func (t *Tree) RemoveWatcher(w Watcher) { panic("TODO") }

// LastZxid is the zxid of the last applied txn.
func (t *Tree) LastZxid() int64 { panic("TODO") }

// Session returns a live session.
func (t *Tree) Session(id int64) (SessionInfo, bool) { panic("TODO") }

// Sessions lists the live sessions, sorted by ID.
func (t *Tree) Sessions() []SessionInfo { panic("TODO") }

// ExpiredContainers lists nodes due for removal at time now (ms): empty
// containers that once had children and expired TTL nodes. The leader
// proposes an OpDeleteContainer txn for each; Apply checks again.
func (t *Tree) ExpiredContainers(now int64) []string { panic("TODO") }

// Stats counts the tree for monitoring.
func (t *Tree) Stats() Stats { panic("TODO") }

// Stats are tree counters for 4lw and metrics.
type Stats struct {
	NodeCount       int
	ApproxDataSize  int64 // sum of path lengths and data lengths, as Apache
	EphemeralCount  int
	WatchCount      int // total watches (wchs "Total watches")
	WatchedPaths    int
	WatchingClients int // distinct watchers
}

// WatchesBySession lists watched paths per session (wchc), sorted.
func (t *Tree) WatchesBySession() map[int64][]string { panic("TODO") }

// WatchesByPath lists the sessions watching each path (wchp), sorted.
func (t *Tree) WatchesByPath() map[string][]int64 { panic("TODO") }

// EphemeralsBySession lists ephemeral paths per session (dump), sorted.
func (t *Tree) EphemeralsBySession() map[int64][]string { panic("TODO") }

// WriteSnapshot writes the whole state (nodes, ACLs, sessions, last zxid)
// in a deterministic byte order.
func (t *Tree) WriteSnapshot(w io.Writer) error { panic("TODO") }

// ReadSnapshot rebuilds a tree written by WriteSnapshot.
func ReadSnapshot(r io.Reader, opts Options) (*Tree, error) { panic("TODO") }

// Authenticate checks an auth packet's credentials for a scheme the server
// supports ("digest": "user:password") and returns the identities to add to
// the session; a digest matching superDigest also adds {"super", ""}. Unknown
// schemes and bad credentials give ErrAuthFailed.
func Authenticate(scheme string, cred []byte, superDigest string) ([]wire.Id, wire.ErrCode) {
	panic("TODO")
}
