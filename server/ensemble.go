package server

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/zkgo/zkgo/conf"
	"github.com/zkgo/zkgo/server/monitor"
	"github.com/zkgo/zkgo/wire"
	"github.com/zkgo/zkgo/zab"
	"github.com/zkgo/zkgo/zab/storage"
	"github.com/zkgo/zkgo/zab/transport"
	"github.com/zkgo/zkgo/znode"
)

// An ensemble server runs one driver goroutine that owns the zab.Node: it
// ticks it, steps it with the messages the transport delivers, and carries
// out every Ready in the order the zab package documents (snapshot,
// truncation, hard state, log append, messages, committed txns, snapshot
// requests, forwarded writes). It also takes the place of the standalone
// applier: client writes arrive on s.writes as before.
//
// Writes. On the leader the driver stamps a write (zxid from NextZxid, the
// leader's clock, session, cxid, identities) and proposes the encoded
// znode.Txn; the request is completed when that zxid commits and is
// applied. A follower forwards the unstamped txn (zxid 0) to the leader and
// completes the request when a committed txn with the same session and
// cxid is applied locally. Apply validates the txn, so a txn is just a
// stamped request and every server reaches the same result.
//
// Sessions are global. createSession and closeSession are txns like any
// other. Only the leader expires sessions: when it starts leading it tracks
// every session in the tree with a fresh deadline; followers report the
// sessions their clients used in a touch list once per tick, and forwarded
// writes touch their session too. An expiry is a closeSession txn, so
// ephemeral nodes vanish on every server.
//
// Clients are served only while the node reports Status.Serving; when it
// stops, every client connection is closed, so clients see a connection
// loss and move on to another server. A new connection that arrives while
// the server is not serving is held for up to holdWhileLooking (an
// election is usually over by then) and closed if it still is not.
//
// Reconnections. A client that brings an existing global session to a
// learner is answered only once the leader has re-validated it, as Apache
// ZooKeeper's REVALIDATE does: the learner forwards the session id, timeout
// and password, the leader checks them against its tree and tracker (and
// pushes the session's deadline back), and its answer comes out of the
// learner's node once the learner has applied every txn the leader had
// committed by then, so a session created or closed through another server
// is seen the way the leader sees it. A learner that holds its clients
// after losing its leader keeps the question for the next one
// (failover.go); otherwise, with no answer (the leader is gone), the
// connection closes and the client tries another server.
//
// Failover is driven by lost connections: the transport reports a peer
// whose connection closed or was refused, and the node (Disconnected)
// leaves a dead leader at once instead of waiting syncLimit for its pings.

// targetTick: the driver ticks the node about every 25ms, so that
// elections, retransmissions and timeouts react much faster than a whole
// tickTime (messages are stepped as they arrive, not on ticks).
const targetTick = 25 * time.Millisecond

// recvDrainMax bounds the received messages stepped in one go.
const recvDrainMax = 1024

// peerState is what the driver publishes for the four-letter words.
type peerState struct {
	role     zab.Role
	serving  bool
	leader   int64
	epoch    int64
	learners zab.LearnerStats
	since    time.Time // when the server started leading
}

type durableEvent struct {
	gen  uint64
	zxid int64
}

type pendingSync struct {
	gen     uint64
	zxid    int64
	pending storage.Pending
}

type snapshotData struct {
	zxid int64
	data []byte
}

type sessionCxid struct {
	session int64
	cxid    int32
}

// ensemble is the ensemble side of a Server: the driver of its zab.Node
// (drive, process), the transport and the durable log.
type ensemble struct {
	s *Server
	// cfg is the configuration the ensemble starts from: the server's,
	// or after a takeover (takeover.go) one with the new membership.
	cfg  *conf.Config
	log  *zap.Logger
	node *zab.Node
	tr   *transport.Transport
	tick time.Duration
	// ticks per tickTime
	scale int

	state atomic.Pointer[peerState]

	// Driver only.
	status    zab.Status
	repairing bool   // the stored HardState.Repairing
	gen       uint64 // bumped by every truncation: older appends report nothing
	byZxid    map[int64]*request
	// proposed holds the txns the leader proposed and has not applied yet.
	proposed map[int64]proposal
	txnDec   znode.TxnDecoder // for committed and forwarded txns
	byCxid   map[sessionCxid]*request
	fwdSeq   uint64 // numbers the writes forwarded, in order (request.fwdSeq)
	hold     leaderLossHold
	// revalSeq numbers the revalidations asked of the leader; revalPending
	// holds those not yet answered.
	revalSeq     uint64
	revalPending map[uint64]*revalidation

	revalidations chan *revalidation // from handshakes to the driver

	// Proposal sizes (srvr on the leader): last, min, max; -1 before any.
	propLast, propMin, propMax atomic.Int64

	// The syncer waits for appends to become durable.
	syncMu   sync.Mutex
	syncQ    []pendingSync
	syncWake chan struct{}
	durable  chan durableEvent

	snapReady  chan snapshotData
	compacted  chan int64
	driverDone chan struct{}

	rc reconfigState // reconfig.go; driver only

	ro readOnlyMode // readonly.go

	// holding is set while the driver holds the clients (failover.go);
	// holdEnd is when that hold ends (unix ns; 0 when not holding).
	holding atomic.Bool
	holdEnd atomic.Int64
}

func newEnsemble(s *Server) *ensemble {
	q := &ensemble{
		s:             s,
		cfg:           s.cfg,
		log:           s.log,
		byZxid:        map[int64]*request{},
		proposed:      map[int64]proposal{},
		byCxid:        map[sessionCxid]*request{},
		revalPending:  map[uint64]*revalidation{},
		revalidations: make(chan *revalidation, 64),
		syncWake:      make(chan struct{}, 1),
		durable:       make(chan durableEvent, 64),
		snapReady:     make(chan snapshotData, 1),
		compacted:     make(chan int64, 4),
		driverDone:    make(chan struct{}),
	}
	q.propLast.Store(-1)
	q.propMin.Store(-1)
	q.propMax.Store(-1)
	q.state.Store(&peerState{role: zab.Looking})
	s.sessions.collectTouches()
	return q
}

// start opens the quorum transport.
func (q *ensemble) start() error {
	var peers []transport.Peer
	for _, sv := range q.cfg.Servers {
		peers = append(peers, transport.Peer{
			ID:           sv.ID,
			QuorumAddr:   net.JoinHostPort(sv.Host, strconv.Itoa(sv.QuorumPort)),
			ElectionAddr: net.JoinHostPort(sv.Host, strconv.Itoa(sv.ElectionPort)),
		})
	}
	tc := transport.Config{ID: q.s.cfg.MyID, Peers: peers, Logger: q.log}
	if err := q.s.quorumTLS(&tc); err != nil {
		return err
	}
	tr, err := transport.New(tc)
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	q.tr = tr
	return nil
}

func (q *ensemble) closeTransport() {
	if q.tr != nil {
		q.tr.Close()
	}
}

// run starts the driver and the syncer (in s.wg).
func (q *ensemble) run() {
	q.s.wg.Add(2)
	go func() { defer q.s.wg.Done(); q.drive() }()
	go func() { defer q.s.wg.Done(); q.syncLoop() }()
}

// leading reports whether this server is the serving leader.
func (q *ensemble) leading() bool {
	st := q.state.Load()
	return st.role == zab.Leading && st.serving
}

// compactTo tells the driver that snapshots older than zxid were purged.
func (q *ensemble) compactTo(zxid int64) {
	select {
	case q.compacted <- zxid:
	case <-q.s.done:
	}
}

// drive is the driver loop: the only goroutine that touches q.node and,
// in an ensemble, the only one that applies txns to the tree.
func (q *ensemble) drive() {
	s := q.s
	defer close(q.driverDone)
	ticker := time.NewTicker(q.tick)
	defer ticker.Stop()
	batch := make([]*request, 0, s.maxBatch)
	for {
		select {
		case <-s.done:
			q.stopServing()
			return
		case <-ticker.C:
			q.node.Tick()
			q.onTick()
			q.holdTick()
			q.readOnlyTick()
		case m := <-q.tr.Recv():
			q.node.Step(m)
		more:
			for range recvDrainMax {
				select {
				case m := <-q.tr.Recv():
					q.node.Step(m)
				default:
					break more
				}
			}
		case id := <-q.tr.Disconnected():
			// The transport queued the peer's last messages before the
			// report: step them first, so that they do not look like the
			// peer being back.
		pending:
			for range recvDrainMax {
				select {
				case m := <-q.tr.Recv():
					q.node.Step(m)
				default:
					break pending
				}
			}
			q.node.Disconnected(id)
		case ev := <-q.durable:
			q.persisted(ev)
		case r := <-s.writes:
			batch = append(batch[:0], r)
		drain:
			for len(batch) < s.maxBatch {
				select {
				case r := <-s.writes:
					batch = append(batch, r)
				default:
					break drain
				}
			}
			for _, r := range batch {
				q.submit(r)
			}
			clear(batch)
		case rv := <-q.revalidations:
			q.startRevalidation(rv)
		case sd := <-q.snapReady:
			q.node.SnapshotReady(sd.zxid, sd.data)
		case z := <-q.compacted:
			q.node.Compact(z)
			if err := s.txnLog.PurgeBefore(z + 1); err != nil {
				q.log.Warn("purging the transaction log failed", zap.Error(err))
			}
		}
		if !q.process() {
			q.stopServing()
			return
		}
	}
}

func (q *ensemble) persisted(ev durableEvent) {
	if ev.gen == q.gen {
		q.node.Persisted(ev.zxid)
	}
}

// process handles every Ready the node has; false means the server must
// stop (storage failed or the node failed).
func (q *ensemble) process() bool {
	s := q.s
	for q.node.HasReady() {
		rd := q.node.Ready()
		if rd.Fatal != nil {
			s.failStorage(rd.Fatal)
			return false
		}
		becameServing := false
		if rd.Status != nil {
			becameServing = q.setStatus(*rd.Status)
		}
		// 1. Snapshot from the leader.
		if rd.Snapshot != nil {
			if err := q.installSnapshot(rd.Snapshot); err != nil {
				s.failStorage(err)
				return false
			}
			q.learnConfigNode()
		}
		// 2. Truncation (it syncs: every earlier append is durable).
		if rd.HasTruncate {
			q.gen++
			if err := s.txnLog.TruncateAfter(rd.TruncateAfter); err != nil {
				s.failStorage(err)
				return false
			}
			q.log.Info("truncated the transaction log", zap.String("after", hex(rd.TruncateAfter)))
		}
		// 3. Epochs.
		if hs := rd.HardState; hs != nil {
			for _, m := range []struct {
				key string
				v   int64
			}{
				{zab.MetaAcceptedEpoch, hs.AcceptedEpoch},
				{zab.MetaAcceptedLeader, hs.AcceptedLeader},
				{zab.MetaCurrentEpoch, hs.CurrentEpoch},
				{zab.MetaRepairing, boolInt(hs.Repairing)},
			} {
				if err := s.txnLog.SetMeta(m.key, m.v); err != nil {
					s.failStorage(err)
					return false
				}
			}
			if q.repairing && !hs.Repairing {
				if s.txnLog.Lost() != nil {
					if err := s.txnLog.Repaired(); err != nil {
						s.failStorage(err)
						return false
					}
				}
				q.repairing = false
				q.log.Info("the transaction log is repaired: synced with the leader, this server votes again",
					zap.String("lastZxid", hex(s.txnLog.LastZxid())))
			}
		}
		// 4. Log append; durability is reported by the syncer (group
		// commit: appends made meanwhile share its syncs).
		if len(rd.Entries) > 0 {
			p, err := s.txnLog.AppendAsync(rd.Entries)
			if err != nil {
				s.failStorage(err)
				return false
			}
			q.queueSync(pendingSync{gen: q.gen, zxid: rd.Entries[len(rd.Entries)-1].Zxid, pending: p})
		}
		// 5. Messages and 6. committed txns, in zxid order. A leader
		// applies first: its COMMIT lets followers apply and answer, and
		// a client that saw a zxid there and then loses that follower must
		// find the leader at least as far along (a server refuses a client
		// that has seen a newer zxid than its own). A follower sends first:
		// its acks are on the path of every write.
		leading := q.status.Role == zab.Leading
		if leading && !q.applyCommitted(rd.Committed) {
			return false
		}
		if len(rd.Messages) > 0 {
			q.tr.Send(rd.Messages)
		}
		for _, sy := range rd.Syncs {
			q.log.Info("syncing a learner", zap.Int64("learner", sy.Learner), zap.String("mode", sy.Mode),
				zap.String("peerLastZxid", hex(sy.PeerLast)), zap.String("from", hex(sy.From)),
				zap.Int("entries", sy.Entries))
		}
		if !leading && !q.applyCommitted(rd.Committed) {
			return false
		}
		if len(rd.Memberships) > 0 {
			q.membershipsActivated(rd.Memberships)
		}
		if becameServing && q.status.Role == zab.Leading {
			// The new leader takes over every session of the tree (all
			// its history is applied by now) with a fresh deadline.
			s.sessions.reset(s.tree.Sessions())
			q.afterLeading()
		}
		if becameServing && q.status.Serving {
			if q.hold.active {
				q.resume()
			}
			s.serving.Store(true)
		}
		// 7. A snapshot to sync a learner with.
		if rd.NeedSnapshot {
			zxid, write := s.tree.Snapshot()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				var b bytes.Buffer
				if err := write(&b); err != nil {
					q.log.Error("serializing a snapshot for a learner failed", zap.Error(err))
					return
				}
				select {
				case q.snapReady <- snapshotData{zxid: zxid, data: b.Bytes()}:
				case <-s.done:
				}
			}()
		}
		// 8. Writes and questions forwarded by learners; the leader's
		// answers to this learner's questions.
		for _, req := range rd.Requests {
			q.forwarded(req)
		}
		for _, rep := range rd.Replies {
			q.replied(rep)
		}
	}
	s.flushQueued() // the replies and notifications of the txns applied
	q.publish()
	return true
}

// applyCommitted applies committed txns in order; false means the server
// must stop.
func (q *ensemble) applyCommitted(committed []zab.Entry) bool {
	for _, e := range committed {
		if err := q.apply(e); err != nil {
			q.s.failStorage(err)
			return false
		}
	}
	if n := len(committed); n > 0 {
		q.s.maybeSnapshot(n)
	}
	return true
}

// publish updates what the four-letter words see.
func (q *ensemble) publish() {
	old := q.state.Load()
	st := &peerState{role: q.status.Role, serving: q.status.Serving, leader: q.status.Leader,
		epoch: q.status.Epoch, learners: q.node.LearnerStats(), since: old.since}
	if *st != *old {
		q.state.Store(st)
	}
}

// setStatus reacts to a role change; it reports whether the server just
// started serving.
func (q *ensemble) setStatus(st zab.Status) bool {
	old := q.status
	q.status = st
	q.readOnlyRoleChanged(st.Role)
	q.s.noteElection(old.Role, st)
	q.log.Info("peer state changed", zap.Stringer("state", st.Role), zap.Int64("leader", st.Leader),
		zap.Int64("epoch", st.Epoch), zap.Bool("serving", st.Serving))
	if old.Serving && (!st.Serving || st.Leader != old.Leader || st.Epoch != old.Epoch || st.Role != old.Role) &&
		!q.startHold(old) {
		q.stopServing()
	}
	if st.Serving && !q.s.serving.Load() {
		ps := *q.state.Load()
		if st.Role == zab.Leading {
			ps.since = time.Now()
		}
		ps.role, ps.serving = st.Role, true
		q.state.Store(&ps)
		// s.serving is set by process once this Ready's committed txns
		// are applied: a client's handshake then sees the whole history.
		q.log.Info("serving clients", zap.String("mode", modeName(st.Role)), zap.Int64("leader", st.Leader),
			zap.Int64("epoch", st.Epoch))
		return true
	}
	return false
}

// stopServing closes every client connection and forgets the requests in
// flight: their clients see a connection loss.
func (q *ensemble) stopServing() {
	s := q.s
	wasServing := s.serving.Swap(false) || q.hold.active
	q.loseHeldRevalidations()
	q.endHold()
	ps := *q.state.Load()
	ps.serving = false
	q.state.Store(&ps)
	if wasServing {
		q.log.Info("not serving clients any more: closing their connections")
	}
	q.closeClients()
	s.sessions.dropLocal() // local sessions belong to the server that stopped
	clear(q.byZxid)
	clear(q.proposed)
	clear(q.byCxid)
	for id, rv := range q.revalPending {
		rv.result <- revalLost
		delete(q.revalPending, id)
	}
}

// holdWhileLooking is how long an ensemble server that does not serve
// (its election is under way) holds a new client connection before closing
// it. Closing at once would send the client round the other servers, all
// likely in the same election, and clients pause after a full round (1s
// for go-zookeeper); an election usually ends well within this.
const holdWhileLooking = time.Second

// awaitServing reports whether the server serves clients; in an ensemble it
// waits up to holdWhileLooking for that, or while it holds its clients.
func (s *Server) awaitServing() bool {
	if s.serving.Load() {
		return true
	}
	if s.apache == nil && s.quorum == nil {
		return false
	}
	deadline := s.awaitServingDeadline()
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return false
		case <-time.After(5 * time.Millisecond):
		}
		if s.serving.Load() {
			return true
		}
	}
	return false
}

// onTick sends the sessions this learner's clients used to the leader.
func (q *ensemble) onTick() {
	if q.hold.active {
		return // kept for the next leader
	}
	ids := q.s.sessions.takeTouched()
	if len(ids) == 0 || q.status.Role == zab.Leading || !q.status.Serving {
		return
	}
	e := wire.NewEncoder([]byte{fwdTouches})
	e.Int(int32(len(ids)))
	for _, id := range ids {
		e.Long(id)
	}
	q.node.Forward(e.Bytes())
}

// apply applies one committed txn and completes the local request that
// issued it, if this server holds it.
func (q *ensemble) apply(e zab.Entry) error {
	s := q.s
	// The leader applies a txn it proposed as soon as a quorum acked
	// it, from the record it encoded, if the entry is that encoding
	// itself (the same bytes, not a copy read back from the log).
	p, proposed := q.proposed[e.Zxid]
	var txn *znode.Txn
	if proposed {
		delete(q.proposed, e.Zxid)
		s.stats.Add(monitor.CommitCount, 1)
		s.stats.Observe(monitor.QuorumAckLatency, time.Since(p.at).Milliseconds())
		if len(e.Data) > 0 && len(e.Data) == len(p.data) && &e.Data[0] == &p.data[0] {
			txn = p.txn
		}
	}
	if txn == nil {
		txn = new(znode.Txn)
		if err := q.txnDec.Decode(e.Data, txn); err != nil || txn.Zxid != e.Zxid {
			return &storage.CorruptionError{Path: s.txnLog.Dir(), Zxid: e.Zxid, Reason: "undecodable committed txn"}
		}
	}
	var res znode.Result
	if txn.Type == wire.OpReconfig {
		res = q.applyReconfig(txn)
	} else {
		res = s.tree.Apply(txn)
	}
	var r *request
	if q.status.Role == zab.Leading {
		if r = q.byZxid[txn.Zxid]; r != nil {
			delete(q.byZxid, txn.Zxid)
		}
	}
	if r == nil && len(q.byCxid) > 0 {
		// A learner's forwarded write; or, on a leader, one it forwarded
		// as a follower before the leader it followed was lost.
		k := sessionCxid{txn.Session, txn.Cxid}
		if r = q.byCxid[k]; r != nil {
			if r.op != txn.Type {
				r = nil
			} else {
				delete(q.byCxid, k)
			}
		}
	}
	switch txn.Type {
	case wire.OpCreateSession:
		if cs, ok := txn.Body.(*znode.CreateSession); ok && res.Err == wire.ErrOK {
			s.sessions.addIfAbsent(txn.Session, cs.Timeout)
		}
	case wire.OpCloseSession:
		s.sessions.remove(txn.Session)
		if r == nil {
			// Expired by the leader: the client's connection here closes.
			if c := s.connOf(txn.Session); c != nil {
				c.close()
			}
		}
	}
	if r == nil {
		return nil
	}
	if r.onApplied != nil {
		r.onApplied(r, res)
	}
	if r.conn != nil {
		r.hdr = wire.ReplyHeader{Xid: r.xid, Zxid: txn.Zxid, Err: res.Err}
		r.resp = res.Body
		r.conn.complete(r)
	}
	return nil
}

// installSnapshot makes the leader's snapshot durable and replaces the
// tree with it.
func (q *ensemble) installSnapshot(snap *zab.Snapshot) error {
	s := q.s
	tree, err := znode.DecodeSnapshot(snap.Data, s.treeOptions())
	if err != nil {
		return fmt.Errorf("snapshot from the leader at %s: %w", hex(snap.Zxid), err)
	}
	if tree.LastZxid() != snap.Zxid {
		return fmt.Errorf("snapshot from the leader claims %s but holds %s", hex(snap.Zxid), hex(tree.LastZxid()))
	}
	path, err := storage.WriteSnapshot(s.snapshotDir(), snap.Zxid, func(w io.Writer) error {
		_, err := w.Write(snap.Data)
		return err
	})
	if err != nil {
		return err
	}
	// The log's entries are all older (the leader sends a snapshot only
	// then); none is read again.
	q.gen++
	if err := s.txnLog.TruncateAfter(snap.Zxid); err != nil {
		return err
	}
	if err := s.txnLog.PurgeBefore(snap.Zxid + 1); err != nil {
		return err
	}
	s.tree.Restore(tree)
	s.sessions.reset(s.tree.Sessions())
	if q.hold.active {
		q.hold.snapshot = true
	}
	q.log.Info("installed a snapshot from the leader", zap.String("file", path), zap.String("zxid", hex(snap.Zxid)))
	return nil
}

// queueSync hands an append's wait to the syncer.
func (q *ensemble) queueSync(p pendingSync) {
	q.syncMu.Lock()
	q.syncQ = append(q.syncQ, p)
	q.syncMu.Unlock()
	select {
	case q.syncWake <- struct{}{}:
	default:
	}
}

// syncLoop waits for appends to become durable, in order, and reports the
// highest durable zxid to the driver. It ends once the driver has ended and
// every wait was called, so the log closes with nothing in flight.
func (q *ensemble) syncLoop() {
	var batch []pendingSync
	for {
		q.syncMu.Lock()
		batch, q.syncQ = q.syncQ, batch[:0]
		q.syncMu.Unlock()
		if len(batch) == 0 {
			select {
			case <-q.syncWake:
				continue
			case <-q.driverDone:
				q.syncMu.Lock()
				n := len(q.syncQ)
				q.syncMu.Unlock()
				if n == 0 {
					return
				}
				continue
			}
		}
		// Every append of the batch is synced first, then the log's
		// high-water mark moves once for all of them (for each run of
		// one generation), then durability is reported.
		var last pendingSync
		failed := false
		durable := func() {
			if failed || last.zxid == 0 {
				return
			}
			if err := q.s.txnLog.MarkDurable(last.pending); err != nil {
				failed = true
				q.s.failStorage(err)
				return
			}
			q.report(durableEvent{gen: last.gen, zxid: last.zxid})
		}
		for _, p := range batch {
			if err := p.pending.Synced(); err != nil && !failed {
				failed = true
				q.s.failStorage(err)
			}
			if p.gen != last.gen {
				durable()
			}
			last = p
		}
		durable()
		clear(batch)
	}
}

func (q *ensemble) report(ev durableEvent) {
	select {
	case q.durable <- ev:
	case <-q.driverDone:
	}
}
