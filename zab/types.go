package zab

import (
	"errors"
	"fmt"
)

// Entry is one transaction: its zxid and its opaque serialized form. The
// driver's durable log (zab/storage) stores entries of this type.
type Entry struct {
	// Zxid is the transaction's id; entries are kept in zxid order.
	Zxid int64
	// Data is the serialized transaction, opaque to the core.
	Data []byte
}

// Role is what a server is doing in the ensemble; the names and numbers
// follow Apache ZooKeeper's ServerState.
type Role int8

// The roles.
const (
	Looking Role = iota
	Following
	Leading
	Observing
)

func (r Role) String() string {
	switch r {
	case Looking:
		return "LOOKING"
	case Following:
		return "FOLLOWING"
	case Leading:
		return "LEADING"
	case Observing:
		return "OBSERVING"
	}
	return fmt.Sprintf("Role(%d)", int8(r))
}

// Vote is a leader election vote: the server voted for and the history it
// claims (its currentEpoch and last zxid).
type Vote struct {
	Leader int64
	Zxid   int64
	Epoch  int64
}

// Less reports whether v loses to w in fast leader election: votes are
// ordered by (Epoch, Zxid, Leader).
func (v Vote) Less(w Vote) bool {
	if v.Epoch != w.Epoch {
		return v.Epoch < w.Epoch
	}
	if v.Zxid != w.Zxid {
		return v.Zxid < w.Zxid
	}
	return v.Leader < w.Leader
}

func (v Vote) String() string {
	return fmt.Sprintf("(leader %d, zxid %s, epoch %d)", v.Leader, ZxidString(v.Zxid), v.Epoch)
}

// HardState is the small durable state besides the log. The driver stores
// all three values (for example with storage.Log.SetMeta) whenever a Ready
// carries a HardState, before sending that Ready's messages.
type HardState struct {
	// AcceptedEpoch is the newest epoch this server promised to follow.
	AcceptedEpoch int64
	// AcceptedLeader is the server that proposed AcceptedEpoch: a server
	// acknowledges the same epoch again only from the same leader.
	AcceptedLeader int64
	// CurrentEpoch is the epoch of the newest leader this server synced with.
	CurrentEpoch int64
	// Repairing is set (by the driver, from its storage) when the log lost
	// entries this server had acknowledged: a damaged file, or a log
	// shorter than its high-water mark. Such a server neither votes nor
	// leads, so that it cannot help elect a history without those
	// entries; it follows a leader that the others elect, and the node
	// clears Repairing once that leader's history is durable in its log.
	Repairing bool
}

// Keys under which a driver using storage.Log.SetMeta keeps the HardState.
const (
	MetaAcceptedEpoch  = "acceptedEpoch"
	MetaAcceptedLeader = "acceptedLeader"
	MetaCurrentEpoch   = "currentEpoch"
	MetaRepairing      = "repairing" // 1 while HardState.Repairing
)

// Status is the volatile role of a server, reported in Ready when it
// changes.
type Status struct {
	Role Role
	// Leader is the leader's id when following, observing or leading.
	Leader int64
	// Epoch is the leader's epoch once known (zero while LOOKING).
	Epoch int64
	// Serving is true once the leader is established (a quorum acked
	// NEWLEADER) or the learner has received UPTODATE: the server may serve
	// clients. The leader accepts proposals only while serving.
	Serving bool
}

func (s Status) String() string {
	return fmt.Sprintf("%v leader=%d epoch=%d serving=%v", s.Role, s.Leader, s.Epoch, s.Serving)
}

// Snapshot is a serialized data tree at a zxid, opaque to this package.
type Snapshot struct {
	Zxid int64
	Data []byte
}

// Request is a request forwarded by a learner to the leader (see
// Node.Forward): a write, which the leader's driver prepares and proposes,
// or a question, which it answers with Node.Reply.
type Request struct {
	From int64
	Data []byte
	// session is the learner session the request came in: it is handed
	// out only while that session is the learner's current one.
	session uint64
}

// Errors returned by Propose, Forward and Reply.
var (
	// ErrNotLeader: the server is not an established leader.
	ErrNotLeader = errors.New("zab: not the established leader")
	// ErrNotSynced: the server is not a learner synced with a leader.
	ErrNotSynced = errors.New("zab: not synced with a leader")
	// ErrZxidExhausted: the epoch's counter is used up; the leader steps
	// down so that a new election starts a new epoch.
	ErrZxidExhausted = errors.New("zab: zxid counter exhausted, forcing a new election")
	// ErrFailed: the node stopped after a storage read failed; see
	// Ready.Fatal.
	ErrFailed = errors.New("zab: node failed")
)
