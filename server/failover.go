package server

import (
	"cmp"
	"maps"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/zkgo/zkgo/wire"
	"github.com/zkgo/zkgo/zab"
	"github.com/zkgo/zkgo/znode"
)

// Holding clients across a change of leader.
//
// A follower or observer that loses its leader does not close its client
// connections (Apache ZooKeeper's do): it holds them while it elects or
// finds the next leader and syncs with it, for at most leaderLossHoldMs
// (conf.Config.LeaderLossHoldMs). Meanwhile:
//
//   - pings are answered at once, ahead of the session's pending requests
//     (clients match ping replies by their xid), so sessions stay
//     connected;
//   - every other request waits: a read that the session's FIFO would run
//     at once is queued instead, and writes are kept, in arrival order, for
//     the next leader;
//   - the writes forwarded to the old leader and not yet answered stay
//     in byCxid.
//
// Once the server serves again (synced with the new leader, its committed
// history applied) it resumes: a write in flight whose txn the new
// leader's history holds is answered when that txn is applied, as any
// forwarded write (by session and cxid; some were applied during the sync
// already). Its log after the applied zxid is the rest of that history,
// and a write found there waits for its commit. Every other write in flight
// was never committed and never will be, and is resubmitted to the new
// leader: see resume for why. Then the held writes go to the leader in
// order, and the held reads at the head of each session's queue are
// answered from the synced tree. A session's requests are so carried out
// in its order: the writes resubmitted are, per session, the last ones it
// forwarded (the old leader proposed a learner's writes in order, so the
// new history holds a prefix of them), and they go before the held ones.
//
// Watches stay exact. A DIFF or TRUNC sync hands the missed txns over as
// commits, which fire the watches as they are applied, in zxid order. A
// SNAP replaces the tree: znode.Tree.Restore then fires what setWatches
// would fire for the watches the connections hold, relative to the zxid
// the tree had (the newest any session of this server saw). No read sees
// older data than before: a learner's tree holds committed txns only,
// the zab core refuses to truncate below its commit point or to install a
// snapshot older than what it applied (the server stops with an error and
// its connections close), so the tree never goes back; and held reads are
// answered only once the server serves again.
//
// A SNAP leaves the writes in flight ambiguous: the snapshot may hold
// their txns with no way to tell them apart. Their connections are closed,
// as before this hold existed (the client sees a connection loss and
// cannot know whether the write happened).
//
// A client that re-attaches its session here meanwhile (a ConnectRequest
// with a session id, often right after its connection to the lost leader
// ended) waits too. A new connection waits for the server to serve again
// before its handshake starts (awaitServing), but one whose handshake was
// under way when the hold began has its session's revalidation
// (ensemble_requests.go) pending with the old leader, or asked while there
// is none: those revalidations are kept and asked of the next leader once
// the server serves again (before the held writes go), and the client gets
// its ConnectResponse, or session expired, from that leader's verdict. A
// handshake still waits for at most its session timeout.
//
// Past the bound the server closes its client connections (stopServing),
// and answers the revalidations it kept as lost, so those handshakes close
// theirs too: clients of a server cut off from the quorum reconnect to
// another while their sessions live. A leader that loses its quorum closes
// them at once, as before (and a revalidation asked of it then is lost):
// its proposals in flight may or may not survive into the next epoch, and
// its clients reconnect to the servers that go on.

// leaderLossHold is the driver's state while it holds its clients.
type leaderLossHold struct {
	active bool
	until  time.Time
	// writes are the writes submitted during the hold (screened), in
	// arrival order.
	writes []*request
	// snapshot is set when a snapshot from the leader replaced the tree
	// during the hold.
	snapshot bool
	// revals are the revalidations of re-attaching sessions kept for the
	// next leader, in the order they were asked.
	revals []*revalidation
}

// holding reports whether the server holds its clients' requests while it
// finds a new leader.
func (s *Server) holding() bool {
	q := s.ourEnsemble()
	return q != nil && q.holding.Load()
}

// startHold begins holding the clients of a learner that stopped serving,
// if it may; false means the caller closes them (stopServing).
func (q *ensemble) startHold(old zab.Status) bool {
	if old.Role == zab.Leading || q.s.cfg.LeaderLossHoldMs <= 0 {
		return false
	}
	q.beginHold("lost the leader: holding client connections while finding the next one",
		zap.Int64("leader", old.Leader))
	return true
}

// beginHold holds the clients' requests for up to leaderLossHoldMs, until
// the server serves again (resume) or the bound passes (holdTick).
func (q *ensemble) beginHold(msg string, fields ...zap.Field) {
	bound := time.Duration(q.s.cfg.LeaderLossHoldMs) * time.Millisecond
	s := q.s
	s.serving.Store(false)
	ps := *q.state.Load()
	ps.serving = false
	q.state.Store(&ps)
	until := time.Now().Add(bound)
	q.hold = leaderLossHold{active: true, until: until}
	q.holdEnd.Store(until.UnixNano())
	q.holding.Store(true)
	// The old leader will not answer the revalidations it was asked: the
	// next one is.
	for _, id := range slices.Sorted(maps.Keys(q.revalPending)) {
		q.hold.revals = append(q.hold.revals, q.revalPending[id])
	}
	clear(q.revalPending)
	q.log.Info(msg, append(fields, zap.Int("inFlightWrites", len(q.byCxid)),
		zap.Int("revalidations", len(q.hold.revals)), zap.Duration("leaderLossHold", bound))...)
}

// endHold forgets the hold (stopServing closes the connections and has
// answered the revalidations kept).
func (q *ensemble) endHold() {
	q.hold = leaderLossHold{}
	q.holding.Store(false)
	q.holdEnd.Store(0)
}

// holdTick closes the held clients once the bound has passed.
func (q *ensemble) holdTick() {
	if q.hold.active && time.Now().After(q.hold.until) {
		q.log.Info("not serving again within leaderLossHoldMs: closing the held client connections",
			zap.Int("leaderLossHoldMs", q.s.cfg.LeaderLossHoldMs))
		q.stopServing()
	}
}

// holdWrite keeps a screened write for the next leader; false means the
// server does not hold its clients now.
func (q *ensemble) holdWrite(r *request) bool {
	if !q.hold.active {
		return false
	}
	q.hold.writes = append(q.hold.writes, r)
	return true
}

// holdRevalidation keeps a re-attaching session's revalidation for the
// next leader; false means the server does not hold its clients now.
func (q *ensemble) holdRevalidation(rv *revalidation) bool {
	if !q.hold.active {
		return false
	}
	q.hold.revals = append(q.hold.revals, rv)
	return true
}

// loseHeldRevalidations answers the revalidations the hold kept as lost:
// their handshakes close their connections.
func (q *ensemble) loseHeldRevalidations() {
	for _, rv := range q.hold.revals {
		rv.result <- revalLost
	}
	q.hold.revals = nil
}

// resume ends the hold once the server serves again (its committed
// history applied): it asks the new leader the revalidations kept,
// settles the writes in flight, submits the held writes in order and
// answers the held reads.
//
// Resubmitting a write in flight that the new history lacks is safe: its
// txn was not committed and never will be. The new leader's history holds
// every txn that was committed. A txn of an older epoch that it lacks is
// dropped for good: a quorum promised the new epoch before that history
// was fixed. The leader this server follows now proposes no request of
// this server's earlier learner sessions (zab hands out only the requests
// of a learner's current session), and every request of an earlier session
// that it did propose came before this server's new session, so it is in
// the history this server synced, found in its log. A resubmitted write is
// then ordered after everything the session saw: after every txn applied
// here, which includes everything read or written through this server.
func (q *ensemble) resume() {
	h := q.hold
	q.endHold()
	for _, rv := range h.revals {
		q.startRevalidation(rv)
	}
	inLog := q.inFlightInLog()
	var again []*request
	for k, r := range q.byCxid {
		if inLog[k] {
			continue
		}
		delete(q.byCxid, k)
		again = append(again, r)
	}
	slices.SortFunc(again, func(a, b *request) int { return cmp.Compare(a.fwdSeq, b.fwdSeq) })
	if h.snapshot {
		for _, r := range again {
			q.lostInFlight(r)
		}
	} else {
		for _, r := range again {
			q.sendWrite(r)
		}
	}
	for _, r := range h.writes {
		q.sendWrite(r)
	}
	for _, c := range q.s.connections() {
		c.releaseHeld()
	}
	q.log.Info("serving the held clients again", zap.Int("inFlightInHistory", len(inLog)),
		zap.Int("inFlightResubmitted", len(again)), zap.Bool("snapshotSynced", h.snapshot),
		zap.Int("heldWrites", len(h.writes)), zap.Int("revalidations", len(h.revals)))
}

// lostInFlight gives up on a write in flight whose fate a snapshot hid:
// its client's connection closes (a connection loss: the write may or may
// not have happened), and a server-internal write fails.
func (q *ensemble) lostInFlight(r *request) {
	if r.conn != nil {
		r.conn.close()
		return
	}
	if r.onApplied != nil {
		r.onApplied(r, znode.Result{Err: wire.ErrConnectionLoss})
	}
}

// inFlightInLog returns the writes in flight whose txns the log holds
// after the applied zxid: the synced history not yet committed here.
func (q *ensemble) inFlightInLog() map[sessionCxid]bool {
	found := map[sessionCxid]bool{}
	if len(q.byCxid) == 0 {
		return found
	}
	s := q.s
	last := q.node.LastZxid()
	from := s.tree.LastZxid() + 1
	if from > last {
		return found
	}
	err := s.txnLog.Iterate(from, func(zxid int64, data []byte) error {
		if zxid > last {
			return nil
		}
		d := wire.NewDecoder(data)
		d.Long() // zxid
		d.Long() // time
		k := sessionCxid{session: d.Long(), cxid: d.Int()}
		if d.Err() == nil && q.byCxid[k] != nil {
			found[k] = true
		}
		return nil
	})
	if err != nil {
		q.log.Warn("reading the log for the writes in flight failed", zap.Error(err))
	}
	return found
}

// releaseHeld answers the requests at the head of the queue that a hold
// kept from running: reads, up to the first pending write.
func (c *conn) releaseHeld() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.answerHead()
}

// awaitServingDeadline is when a new connection stops waiting for the
// server to serve: holdWhileLooking from now, or the end of the hold if
// later.
func (s *Server) awaitServingDeadline() time.Time {
	deadline := time.Now().Add(holdWhileLooking)
	if q := s.ourEnsemble(); q != nil {
		if end := q.holdEnd.Load(); end != 0 {
			deadline = later(deadline, time.Unix(0, end))
		}
	}
	return deadline
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
