// Package znode is the data tree: nodes with their Stat and ACLs,
// ephemeral, sequential, container and TTL nodes, sessions, watches and
// quotas. Every change goes through Apply(txn), which is deterministic: the
// same txns in the same order give the same tree, byte for byte.
package znode

import (
	"github.com/zkgo/zkgo/wire"
)

// Txn is one state change. The server that receives a write stamps it
// (zxid, time, session, the session's identities) and every server applies
// it in zxid order. Apply itself validates the request against the tree
// (versions, existence, ACLs), so a failed write is a txn too and consumes
// its zxid, as in Apache ZooKeeper.
type Txn struct {
	Zxid    int64
	Time    int64 // ms since the epoch, from the stamping server's clock
	Session int64 // issuing session; 0 for server-internal txns
	Cxid    int32
	Type    wire.OpCode
	// Auth holds the issuing session's identities at stamping time; ACL
	// checks and "auth" ACL expansion use them.
	Auth []wire.Id
	// Body is the request: a wire request record for client writes,
	// *CreateSession for OpCreateSession, *wire.Empty for OpCloseSession,
	// *wire.PathRequest for OpDeleteContainer and OpSync (TxnBody returns the right
	// empty record for a type).
	Body wire.Record
}

// CreateSession is the body of an OpCreateSession txn.
type CreateSession struct {
	Timeout int32 // negotiated, ms
	Passwd  []byte
}

// Result is the outcome of applying a txn: an error code and, on success,
// the response body for the client (*wire.PathRequest for create,
// *wire.Create2Response for create2/createContainer/createTTL,
// *wire.StatResponse for setData and setACL, *wire.MultiResponse for
// multi, nil otherwise). A multi always has Err ErrOK (as Apache's reply
// header) and reports a failure in its body; see Apply.
type Result struct {
	Err  wire.ErrCode
	Body wire.Record
}

// Watcher receives watch notifications. Notify is called while the tree is
// locked, so it must not block or call back into the tree. Watchers are
// compared with ==, so use pointers. A Watcher may also implement
// AuthWatcher (events filtered by READ permission, as Apache) and
// ZxidWatcher (events carry the zxid that caused them).
type Watcher interface {
	Notify(ev wire.WatcherEvent)
	SessionID() int64
}

// Caller is who issues a read: its session, identities and the watcher
// that watches set by the read are registered for.
type Caller struct {
	Session int64
	Auth    []wire.Id
	Watcher Watcher
}

// Options configure a tree.
type Options struct {
	// ExtendedTypes enables TTL nodes (zookeeper.extendedTypesEnabled).
	// As in Apache, an ephemeralOwner whose top byte is 0xff then means a
	// TTL node, so session ids must not start with 0xff (server id <= 254).
	ExtendedTypes bool
	// EnforceQuota checks quota limits on create and setData
	// (zookeeper.enforceQuota, default false as in Apache): exceeding a soft
	// limit is logged through Warn, exceeding a hard limit fails with
	// ErrQuotaExceeded. Usage is tracked in zookeeper_stats either way.
	EnforceQuota bool
	// MaxNeverUsedIntervalMs lets ExpiredContainers report containers that
	// never had a child once they are older than this many ms
	// (znode.container.maxNeverUsedIntervalMs); 0, the default, never does.
	MaxNeverUsedIntervalMs int64
	// LocalSessions accepts writes from sessions the tree does not know,
	// except ephemeral creates (localSessionsEnabled: a server's local
	// sessions are never recorded in the tree; the ensemble checks them).
	LocalSessions bool
	// Warn logs soft quota violations and other notable events; may be nil.
	Warn func(msg string, keysAndValues ...any)
}

// SessionInfo is a session as recorded in the tree.
type SessionInfo struct {
	ID      int64
	Timeout int32
	Passwd  []byte
}
