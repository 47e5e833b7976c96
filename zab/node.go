// Package zab implements ZooKeeper's atomic broadcast (fast leader election,
// discovery, sync and broadcast) as a deterministic state machine in the
// manner of etcd's raft package: a Node has no goroutines, clock, I/O or
// randomness of its own. A driver feeds it messages (Step), clock ticks
// (Tick), local proposals (Propose), log durability (Persisted) and lost
// peer connections (Disconnected), and
// carries out what Ready returns: persist, send, apply.
//
// The driver loop, in order, for each Ready:
//
//  1. Snapshot: write it durably (it replaces the data tree); log entries at
//     or below its zxid are never read again and may be deleted.
//  2. TruncateAfter (if HasTruncate): durably drop log entries above it.
//     Every entry appended earlier must be durable afterwards
//     (storage.Log.TruncateAfter syncs, which covers earlier AppendAsync
//     writes), and Persisted must not be called for appends made before it.
//  3. HardState: store it durably.
//  4. Entries: append them to the log in order; call Persisted(zxid) once
//     everything up to zxid is durable (asynchronously is fine).
//  5. Messages: send them (messages to one peer in order; coalescing many
//     into one socket write is encouraged).
//  6. Committed: apply them to the tree in order. Steps 5 and 6 may be
//     swapped: no message needs the tree, and a leader that applies before
//     it sends its COMMIT is never behind a follower.
//  7. NeedSnapshot: serialize the tree and pass it to SnapshotReady.
//  8. Requests: (leader) prepare and Propose the forwarded writes, answer
//     the forwarded questions (Reply); Replies: (learner) the leader's
//     answers, each after the txns committed before it were in Committed.
//  9. Memberships: the memberships that became active (see Membership);
//     Syncs: how the leader synced learners, for the log.
//
// All methods must be called from one goroutine (or under one lock).
package zab

import (
	"fmt"
	"slices"
)

// Ready is what the node asks its driver to do; see the package comment for
// the order.
type Ready struct {
	// Status is set when the role, leader, epoch or serving flag changed.
	Status *Status
	// HardState is set when the epochs changed.
	HardState *HardState
	// Snapshot, if set, is a snapshot from the leader to install.
	Snapshot *Snapshot
	// HasTruncate says the log must be truncated after TruncateAfter.
	HasTruncate   bool
	TruncateAfter int64
	// Entries are to be appended to the log.
	Entries []Entry
	// Messages are to be sent.
	Messages []Message
	// Committed are entries to apply, in zxid order.
	Committed []Entry
	// NeedSnapshot asks for a snapshot of the tree (SnapshotReady) to sync
	// a learner whose history the log does not reach.
	NeedSnapshot bool
	// Requests are writes and questions forwarded by learners (leader
	// only).
	Requests []Request
	// Replies are the leader's answers to this learner's questions (see
	// Node.Reply), in the order they were sent; each comes once every txn
	// the leader had committed when it answered is in Committed (of this
	// Ready or an earlier one).
	Replies [][]byte
	// Memberships are the memberships that became active, oldest first
	// (see Membership): applied changes and newer ones heard from peers.
	Memberships []Membership
	// Syncs are the learners the leader started syncing (for the log).
	Syncs []LearnerSync
	// Fatal is set once the node failed (a log read failed or a safety
	// invariant broke): the server must stop. It is repeated in every later
	// Ready.
	Fatal error
}

// Node is one server's ZAB state machine.
type Node struct {
	cfg     Config
	id      int64
	voter   bool
	voters  map[int64]bool
	learner map[int64]bool // observers
	now     int64

	members   Membership   // active
	pending   []Membership // logged, not yet applied, in zxid order
	cfgHist   []Membership // recently active, oldest first
	activated []Membership // for the next Ready
	syncs     []LearnerSync

	hs        HardState
	log       history
	committed int64 // highest zxid known to be committed
	applied   int64 // highest zxid handed out in Ready.Committed

	status   Status
	reported Status
	fatal    error

	elect election
	// down are the peers whose connection was reported lost (Disconnected)
	// and that sent nothing since: the election does not wait for them.
	down  map[int64]bool
	lead  *leaderState
	learn *learnerState

	// Pending output.
	hsDirty      bool
	snapOut      *Snapshot
	hasTrunc     bool
	truncAfter   int64
	entriesOut   []Entry
	preOut       int64 // log.last before entriesOut[0]
	msgs         []Message
	lastMsgTo    map[int64]int
	needSnapshot bool
	requests     []Request
}

// NewNode returns a node recovered from cfg.State. It starts LOOKING.
func NewNode(cfg Config) (*Node, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	n := &Node{
		cfg:       cfg,
		id:        cfg.ID,
		hs:        cfg.State.HardState,
		log:       newHistory(cfg.Log, cfg.State),
		lastMsgTo: map[int64]int{},
		down:      map[int64]bool{},
	}
	n.setMembers(Membership{Version: cfg.Version, Voters: cfg.Voters, Observers: cfg.Observers})
	n.committed, n.applied = n.log.base, n.log.base
	if cfg.Members != nil && n.log.last > n.log.base {
		// Membership changes logged but not yet applied are pending.
		err := cfg.Log.Iterate(n.log.base+1, func(zxid int64, data []byte) error {
			if zxid > n.log.last {
				return errStop
			}
			n.noteEntries([]Entry{{Zxid: zxid, Data: data}})
			return nil
		})
		if err != nil && err != errStop {
			return nil, fmt.Errorf("zab: reading the log for membership changes: %w", err)
		}
	}
	n.reported = Status{Role: -1}
	n.becomeLooking()
	return n, nil
}

// quorum is the number of voters that make a majority of the active
// membership.
func (n *Node) quorum() int { return n.members.quorum() }

// Status returns the node's current role.
func (n *Node) Status() Status { return n.status }

// HardState returns the node's epochs as last handed out (or recovered).
func (n *Node) HardState() HardState { return n.hs }

// LastZxid returns the zxid of the last entry in the node's log.
func (n *Node) LastZxid() int64 { return n.log.last }

// CommittedZxid returns the highest zxid known to be committed.
func (n *Node) CommittedZxid() int64 { return n.committed }

// Tick advances the node's clock by one tick.
func (n *Node) Tick() {
	if n.fatal != nil {
		return
	}
	n.now++
	switch {
	case n.lead != nil:
		n.leaderTick()
	case n.learn != nil:
		n.learnerTick()
	default:
		n.electionTick()
	}
}

// Step hands the node a message received from peer m.From.
func (n *Node) Step(m Message) {
	if n.fatal != nil || m.From == n.id {
		return
	}
	delete(n.down, m.From)
	if m.Type == MsgVote {
		n.adopt(m.Members)
		if n.fatal == nil {
			n.stepVote(m)
		}
		return
	}
	switch {
	case n.lead != nil:
		n.leaderStep(m)
	case n.learn != nil:
		n.learnerStep(m)
	}
}

// Disconnected tells the node that the connection with peer id was lost:
// closed or reset by the peer, or refused (Apache ZooKeeper's followers
// notice a dead leader the same way, when its sockets close). A follower or
// observer whose leader that is goes LOOKING at once; a leader forgets the
// learner and steps down if it no longer has a quorum; a LOOKING server
// stops waiting for the peer's vote. The report may be spurious (a
// connection that flapped, a late report about a peer that is back): it
// costs an election at worst, never correctness, like any message loss.
func (n *Node) Disconnected(id int64) {
	if n.fatal != nil || id == n.id {
		return
	}
	n.down[id] = true
	switch {
	case n.lead != nil:
		n.leaderDisconnected(id)
	case n.learn != nil:
		if n.learn.leader == id {
			n.becomeLooking()
		}
	default:
		n.checkElection()
	}
}

// Persisted tells the node that its log is durable up to zxid.
func (n *Node) Persisted(zxid int64) {
	if n.fatal != nil {
		return
	}
	zxid = min(zxid, n.log.last)
	if zxid <= n.log.persisted {
		return
	}
	n.log.persisted = zxid
	switch {
	case n.lead != nil:
		n.leaderPersisted()
	case n.learn != nil:
		n.learnerPersisted()
	}
}

// Compact tells the node that the driver keeps a durable snapshot at zxid
// (at most the last applied zxid) and may purge log entries up to it. The
// node never reads them again; learners further behind get a snapshot.
func (n *Node) Compact(zxid int64) {
	n.log.compact(min(zxid, n.applied))
}

// SnapshotReady answers Ready.NeedSnapshot with the serialized tree, taken
// at zxid (the last zxid applied to it).
func (n *Node) SnapshotReady(zxid int64, data []byte) {
	if n.fatal != nil || n.lead == nil {
		return
	}
	n.leaderSnapshot(zxid, data)
}

// HasReady reports whether Ready has anything to hand out.
func (n *Node) HasReady() bool {
	return n.status != n.reported || n.hsDirty || n.snapOut != nil || n.hasTrunc ||
		len(n.entriesOut) > 0 || len(n.msgs) > 0 || n.needSnapshot || len(n.requests) > 0 ||
		len(n.activated) > 0 || len(n.syncs) > 0 || n.applied < min(n.committed, n.log.last) || n.fatal != nil ||
		n.replyDue()
}

// Ready hands out everything the driver has to do, and forgets it: the
// caller owns the returned slices.
func (n *Node) Ready() Ready {
	rd := Ready{Fatal: n.fatal}
	if n.status != n.reported {
		s := n.status
		rd.Status = &s
		n.reported = s
	}
	if n.hsDirty {
		hs := n.hs
		rd.HardState = &hs
		n.hsDirty = false
	}
	rd.Snapshot, n.snapOut = n.snapOut, nil
	rd.HasTruncate, rd.TruncateAfter = n.hasTrunc, n.truncAfter
	n.hasTrunc = false
	rd.Entries, n.entriesOut = n.entriesOut, nil
	rd.Messages, n.msgs = n.msgs, nil
	clear(n.lastMsgTo)
	rd.NeedSnapshot, n.needSnapshot = n.needSnapshot, false
	rd.Requests, n.requests = n.liveRequests(), nil
	if n.fatal == nil {
		if upto := min(n.committed, n.log.last); n.applied < upto {
			es, err := n.log.entries(n.applied, upto, n.cfg.MaxCommittedPerReady)
			if err != nil {
				n.fail(err)
				rd.Fatal = n.fatal
			} else if len(es) > 0 {
				rd.Committed = es
				n.applied = es[len(es)-1].Zxid
				n.activateApplied()
			}
		}
		n.log.trim(n.applied, n.cfg.KeepEntries)
		rd.Replies = n.takeReplies()
	}
	rd.Memberships, n.activated = n.activated, nil
	rd.Syncs, n.syncs = n.syncs, nil
	return rd
}

// liveRequests returns the forwarded requests whose learner session is
// still current. A learner that lost its leader forgets what it forwarded
// and may send it again in its next session (the server resubmits the
// writes its new leader's history lacks), so a request of an older session
// must never be handed out once the leader has seen that learner's next
// FOLLOWERINFO, or left the epoch: the history the learner is synced with
// then holds every request of the old session that will ever be proposed.
func (n *Node) liveRequests() []Request {
	if n.lead == nil {
		return nil
	}
	out := n.requests[:0]
	for _, r := range n.requests {
		if li := n.lead.learners[r.From]; li != nil && li.session == r.session {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// fail stops the node for good.
func (n *Node) fail(err error) {
	if n.fatal == nil {
		n.fatal = fmt.Errorf("zab: server %d: %w", n.id, err)
	}
}

// send queues m for its peer, merging it into the previous message to that
// peer when both are PROPOSALs, COMMITs, ACKs or PINGs of the same session; it
// reports whether it merged.
func (n *Node) send(m Message) (merged bool) {
	m.From = n.id
	if i, ok := n.lastMsgTo[m.To]; ok {
		p := &n.msgs[i]
		if p.Session == m.Session && p.Epoch == m.Epoch {
			switch {
			case m.Type == MsgProposal && p.Type == MsgProposal && len(p.Entries)+len(m.Entries) <= n.cfg.MaxEntriesPerMsg:
				p.Entries = append(p.Entries, m.Entries...)
				return true
			case m.Type == MsgCommit && p.Type == MsgCommit, m.Type == MsgPing && p.Type == MsgPing:
				p.Commit = max(p.Commit, m.Commit)
				return true
			case m.Type == MsgAck && p.Type == MsgAck:
				p.Zxid = max(p.Zxid, m.Zxid)
				return true
			}
		}
	}
	n.lastMsgTo[m.To] = len(n.msgs)
	n.msgs = append(n.msgs, m)
	return false
}

// appendEntries adds entries to the log and queues them for persistence.
func (n *Node) appendEntries(es []Entry) {
	if len(es) == 0 {
		return
	}
	if len(n.entriesOut) == 0 {
		n.preOut = n.log.last
	}
	n.log.append(es)
	n.entriesOut = append(n.entriesOut, es...)
	n.noteEntries(es)
}

// truncate drops the log's entries after z. Committed entries are never
// dropped: that would lose an acknowledged write.
func (n *Node) truncate(z int64) bool {
	if z < n.committed || z < n.log.base {
		n.fail(fmt.Errorf("asked to truncate the log after %s, below the commit point %s (log base %s)",
			ZxidString(z), ZxidString(n.committed), ZxidString(n.log.base)))
		return false
	}
	if err := n.log.truncate(z); err != nil {
		n.fail(err)
		return false
	}
	n.dropPendingAfter(n.log.last)
	// Entries not yet handed out above the new last are dropped; those
	// below it are appended after the truncation, so not yet durable.
	i, _ := slices.BinarySearchFunc(n.entriesOut, n.log.last+1, func(e Entry, z int64) int { return cmpZxid(e.Zxid, z) })
	n.entriesOut = n.entriesOut[:i]
	if len(n.entriesOut) > 0 {
		n.log.persisted = n.preOut
	}
	n.hasTrunc, n.truncAfter = true, z
	return true
}

// installSnapshot replaces the history by a leader's snapshot, whose
// active membership was m.
func (n *Node) installSnapshot(zxid int64, data []byte, m *Membership) bool {
	if zxid < n.applied {
		n.fail(fmt.Errorf("snapshot at %s is older than the applied zxid %s", ZxidString(zxid), ZxidString(n.applied)))
		return false
	}
	n.log.reset(zxid)
	n.entriesOut, n.hasTrunc = nil, false
	n.snapOut = &Snapshot{Zxid: zxid, Data: data}
	n.applied = zxid
	n.committed = max(n.committed, zxid)
	n.pending = nil
	if m != nil && m.Version > n.members.Version {
		c := m.clone()
		if c.validate() == nil {
			n.setMembers(c)
			n.activated = append(n.activated, c)
		}
	}
	return true
}

// setHardState records new epochs for the next Ready; Repairing is kept
// (only learnerPersisted clears it).
func (n *Node) setHardState(hs HardState) {
	hs.Repairing = n.hs.Repairing
	n.storeHardState(hs)
}

func (n *Node) storeHardState(hs HardState) {
	if hs != n.hs {
		n.hs = hs
		n.hsDirty = true
	}
}

// nextZxid returns the zxid the next proposal of epoch would get.
func (n *Node) nextZxid(epoch int64) (int64, error) {
	limit := uint32(maxCounter)
	if n.cfg.counterLimit != 0 {
		limit = n.cfg.counterLimit
	}
	c := uint32(1)
	if EpochOf(n.log.last) == epoch {
		if CounterOf(n.log.last) >= limit {
			return 0, ErrZxidExhausted
		}
		c = CounterOf(n.log.last) + 1
	}
	return MakeZxid(epoch, c), nil
}
