package server

import (
	"bytes"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

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
// is seen the way the leader sees it. With no answer (the leader is gone),
// the connection closes and the client tries another server.
//
// Failover is driven by lost connections: the transport reports a peer
// whose connection closed or was refused, and the node (Disconnected)
// leaves a dead leader at once instead of waiting syncLimit for its pings.

// Kinds of forwarded request (the first byte of zab.Request.Data).
const (
	fwdTxn     byte = 1 // an unstamped znode.Txn
	fwdTouches byte = 2 // int count, then session ids (longs)
	// fwdRevalidate asks whether a session is valid: request id and session
	// (longs), timeout (int), password (buffer). The leader answers with
	// the request id (long) and the verdict (bool).
	fwdRevalidate byte = 3
)

// revalResult is the leader's verdict on a reconnecting session.
type revalResult int8

const (
	revalLost    revalResult = iota // no answer: the client must try elsewhere
	revalValid                      // the session lives; its deadline was pushed back
	revalInvalid                    // expired, closed or a wrong password
)

// revalidation is a handshake's question about a session, answered on
// result (buffered) by the driver.
type revalidation struct {
	session int64
	timeout int32
	passwd  []byte
	result  chan revalResult
}

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
	gen  uint64
	zxid int64
	wait func() error
}

type snapshotData struct {
	zxid int64
	data []byte
}

type sessionCxid struct {
	session int64
	cxid    int32
}

// quorumPeer is the ensemble side of a Server.
type quorumPeer struct {
	s    *Server
	log  *zap.Logger
	node *zab.Node
	tr   *transport.Transport
	tick time.Duration
	// ticks per tickTime
	scale int

	state atomic.Pointer[peerState]

	// Driver only.
	status zab.Status
	gen    uint64 // bumped by every truncation: older appends report nothing
	byZxid map[int64]*request
	// proposedAt is when the leader proposed each txn not yet applied
	// (quorum_ack_latency, commit_count).
	proposedAt map[int64]time.Time
	byCxid     map[sessionCxid]*request
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
}

func newQuorumPeer(s *Server) *quorumPeer {
	q := &quorumPeer{
		s:             s,
		log:           s.log,
		byZxid:        map[int64]*request{},
		proposedAt:    map[int64]time.Time{},
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

// recover opens the log and loads the newest snapshot only: the node hands
// the committed txns of the log after it back through Ready.Committed once
// the ensemble has a leader.
func (q *quorumPeer) recover() error {
	s := q.s
	cfg := s.cfg
	if _, ok := cfg.Server(cfg.MyID); !ok {
		return fmt.Errorf("server: myid %d is not one of the server.N lines of %s", cfg.MyID, cfg.File)
	}
	start := time.Now()
	txnLog, err := s.openTxnLog()
	if err != nil {
		return err
	}
	tree, path, dmg, err := q.loadDamaged(txnLog)
	if err != nil {
		return err
	}
	s.tree = tree
	for _, si := range tree.Sessions() {
		s.sessions.add(si.ID, si.Timeout)
	}
	var hs zab.HardState
	for _, m := range []struct {
		key string
		v   *int64
	}{
		{zab.MetaAcceptedEpoch, &hs.AcceptedEpoch},
		{zab.MetaAcceptedLeader, &hs.AcceptedLeader},
		{zab.MetaCurrentEpoch, &hs.CurrentEpoch},
	} {
		if *m.v, _, err = txnLog.Meta(m.key); err != nil {
			return err
		}
	}
	repairing, _, err := txnLog.Meta(zab.MetaRepairing)
	if err != nil {
		return err
	}
	if dmg != nil {
		// Recorded before anything is dropped: until a leader has synced
		// this server it must not vote with what is left.
		if err := txnLog.SetMeta(zab.MetaRepairing, 1); err != nil {
			return err
		}
		repairing = 1
		s.log.Error("the transaction log or snapshot is damaged: this server neither votes nor leads until a leader has synced it",
			zap.Error(dmg.err))
		if dmg.truncateAfter >= 0 {
			// What follows the damage is dropped, to be synced again
			// from the leader.
			if err := txnLog.TruncateAfter(dmg.truncateAfter); err != nil {
				return err
			}
		}
	} else if repairing == 1 {
		s.log.Warn("the transaction log is still under repair: this server neither votes nor leads until a leader has synced it")
	}
	hs.Repairing = repairing == 1
	st := zab.DurableState{HardState: hs, SnapshotZxid: tree.LastZxid(), LastZxid: txnLog.LastZxid()}

	// Tick about every targetTick: limits are in tickTime units.
	tickTime := time.Duration(cfg.TickTime) * time.Millisecond
	q.scale = max(1, int(tickTime/targetTick))
	q.tick = tickTime / time.Duration(q.scale)
	q.initReconfig()
	var voters, observers []int64
	for _, sv := range cfg.Servers {
		if sv.Observer {
			observers = append(observers, sv.ID)
		} else {
			voters = append(voters, sv.ID)
		}
	}
	var seed [16]byte
	crand.Read(seed[:])
	node, err := zab.NewNode(zab.Config{
		ID:            cfg.MyID,
		Voters:        voters,
		Observers:     observers,
		Version:       cfg.ConfigVersion,
		Members:       membersOf,
		InitLimit:     max(1, cfg.InitLimit) * q.scale,
		SyncLimit:     max(1, cfg.SyncLimit) * q.scale,
		ElectionTicks: max(1, int(400*time.Millisecond/q.tick)),
		FinalizeTicks: max(1, int(200*time.Millisecond/q.tick)),
		Log:           txnLog,
		State:         st,
		Rand:          rand.New(rand.NewPCG(binary.BigEndian.Uint64(seed[:8]), binary.BigEndian.Uint64(seed[8:]))),
	})
	if err != nil {
		return err
	}
	q.node = node
	s.log.Info("database loaded for the ensemble",
		zap.String("snapshot", path), zap.String("snapshotZxid", hex(st.SnapshotZxid)),
		zap.String("logLastZxid", hex(st.LastZxid)), zap.Int64("acceptedEpoch", hs.AcceptedEpoch),
		zap.Int64("currentEpoch", hs.CurrentEpoch), zap.Duration("took", time.Since(start)))
	s.resetSnapCountdown()
	return nil
}

// start opens the quorum transport.
func (q *quorumPeer) start() error {
	var peers []transport.Peer
	for _, sv := range q.s.cfg.Servers {
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

func (q *quorumPeer) closeTransport() {
	if q.tr != nil {
		q.tr.Close()
	}
}

// run starts the driver and the syncer (in s.wg).
func (q *quorumPeer) run() {
	q.s.wg.Add(2)
	go func() { defer q.s.wg.Done(); q.drive() }()
	go func() { defer q.s.wg.Done(); q.syncLoop() }()
}

// leading reports whether this server is the serving leader.
func (q *quorumPeer) leading() bool {
	st := q.state.Load()
	return st.role == zab.Leading && st.serving
}

// compactTo tells the driver that snapshots older than zxid were purged.
func (q *quorumPeer) compactTo(zxid int64) {
	select {
	case q.compacted <- zxid:
	case <-q.s.done:
	}
}

// drive is the driver loop: the only goroutine that touches q.node and,
// in an ensemble, the only one that applies txns to the tree.
func (q *quorumPeer) drive() {
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

func (q *quorumPeer) persisted(ev durableEvent) {
	if ev.gen == q.gen {
		q.node.Persisted(ev.zxid)
	}
}

// process handles every Ready the node has; false means the server must
// stop (storage failed or the node failed).
func (q *quorumPeer) process() bool {
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
			if !hs.Repairing && s.txnLog.Lost() != nil {
				if err := s.txnLog.Repaired(); err != nil {
					s.failStorage(err)
					return false
				}
				q.log.Info("the transaction log is repaired: synced with the leader, this server votes again",
					zap.String("lastZxid", hex(s.txnLog.LastZxid())))
			}
		}
		// 4. Log append; durability is reported by the syncer (group
		// commit: appends made meanwhile share its syncs).
		if len(rd.Entries) > 0 {
			wait, err := s.txnLog.AppendAsync(rd.Entries)
			if err != nil {
				s.failStorage(err)
				return false
			}
			q.queueSync(pendingSync{gen: q.gen, zxid: rd.Entries[len(rd.Entries)-1].Zxid, wait: wait})
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
func (q *quorumPeer) applyCommitted(committed []zab.Entry) bool {
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
func (q *quorumPeer) publish() {
	old := q.state.Load()
	st := &peerState{role: q.status.Role, serving: q.status.Serving, leader: q.status.Leader,
		epoch: q.status.Epoch, learners: q.node.LearnerStats(), since: old.since}
	if *st != *old {
		q.state.Store(st)
	}
}

// setStatus reacts to a role change; it reports whether the server just
// started serving.
func (q *quorumPeer) setStatus(st zab.Status) bool {
	old := q.status
	q.status = st
	q.readOnlyRoleChanged(st.Role)
	q.s.noteElection(old.Role, st)
	q.log.Info("peer state changed", zap.Stringer("state", st.Role), zap.Int64("leader", st.Leader),
		zap.Int64("epoch", st.Epoch), zap.Bool("serving", st.Serving))
	if old.Serving && (!st.Serving || st.Leader != old.Leader || st.Epoch != old.Epoch || st.Role != old.Role) {
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
func (q *quorumPeer) stopServing() {
	s := q.s
	wasServing := s.serving.Swap(false)
	ps := *q.state.Load()
	ps.serving = false
	q.state.Store(&ps)
	if wasServing {
		q.log.Info("not serving clients any more: closing their connections")
	}
	q.closeClients()
	s.sessions.dropLocal() // local sessions belong to the server that stopped
	clear(q.byZxid)
	clear(q.proposedAt)
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
// waits up to holdWhileLooking for that.
func (s *Server) awaitServing() bool {
	if s.serving.Load() {
		return true
	}
	if s.quorum == nil {
		return false
	}
	deadline := time.Now().Add(holdWhileLooking)
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

// reject drops a write that cannot be carried out now: its client's
// connection closes, so the client retries elsewhere.
func (q *quorumPeer) reject(r *request) {
	if r.conn != nil {
		r.conn.close()
	}
}

// submit handles a local write: proposed by the leader, forwarded by a
// learner.
//
// sync is a write here too: a no-op txn (see znode's Apply). The follower
// answers it when that txn is applied locally, which is after every txn the
// leader had committed (or even proposed) before it. Simple and correct,
// at the cost of a zxid per sync.
func (q *quorumPeer) submit(r *request) {
	if q.s.screenWrite(r, q.submit) {
		return
	}
	if !q.status.Serving {
		q.reject(r)
		return
	}
	txn := znode.Txn{Session: r.session, Cxid: r.xid, Type: r.op, Auth: r.auth, Body: r.body}
	if q.status.Role == zab.Leading {
		if txn.Type == wire.OpReconfig {
			q.prepReconfig(&txn)
		}
		if !q.propose(&txn, r) {
			q.reject(r)
		}
		return
	}
	e := wire.NewEncoder([]byte{fwdTxn})
	txn.Encode(e)
	if err := q.node.Forward(e.Bytes()); err != nil {
		q.reject(r)
		return
	}
	q.byCxid[sessionCxid{r.session, r.xid}] = r
}

// propose stamps txn and proposes it; r (may be nil) is completed when it
// is applied.
func (q *quorumPeer) propose(txn *znode.Txn, r *request) bool {
	z, err := q.node.NextZxid()
	if err != nil {
		return false
	}
	txn.Zxid = z
	txn.Time = time.Now().UnixMilli()
	data := wire.Encode(txn) // a fresh buffer: the node and the tree keep it
	if _, err := q.node.Propose(data); err != nil {
		q.log.Warn("proposing a txn failed", zap.Error(err))
		return false
	}
	q.s.stats.Add(monitor.ProposalCount, 1)
	q.proposedAt[z] = time.Now()
	n := int64(len(data))
	q.propLast.Store(n)
	if m := q.propMin.Load(); m < 0 || n < m {
		q.propMin.Store(n)
	}
	if n > q.propMax.Load() {
		q.propMax.Store(n)
	}
	if r != nil {
		q.byZxid[z] = r
	}
	return true
}

// forwarded handles a learner's request on the leader.
func (q *quorumPeer) forwarded(req zab.Request) {
	if len(req.Data) == 0 {
		return
	}
	switch req.Data[0] {
	case fwdTxn:
		var txn znode.Txn
		if err := wire.Decode(req.Data[1:], &txn); err != nil {
			q.log.Warn("malformed write forwarded by a learner", zap.Int64("from", req.From), zap.Error(err))
			return
		}
		q.s.sessions.touch(txn.Session)
		if txn.Type == wire.OpReconfig {
			q.prepReconfig(&txn)
		}
		q.propose(&txn, nil)
	case fwdRevalidate:
		d := wire.NewDecoder(req.Data[1:])
		id, session, timeout, passwd := d.Long(), d.Long(), d.Int(), d.Buffer()
		if d.Err() != nil {
			q.log.Warn("malformed revalidation forwarded by a learner", zap.Int64("from", req.From), zap.Error(d.Err()))
			return
		}
		e := wire.NewEncoder(nil)
		e.Long(id)
		e.Bool(q.validSession(session, timeout, passwd))
		if err := q.node.Reply(req.From, e.Bytes()); err != nil {
			q.log.Info("not answering a revalidation", zap.Int64("learner", req.From), zap.Error(err))
		}
	case fwdTouches:
		d := wire.NewDecoder(req.Data[1:])
		n := int(d.Int())
		if d.Err() != nil || n < 0 || n > d.Remaining()/8 {
			return
		}
		for range n {
			q.s.sessions.touch(d.Long())
		}
	}
}

// revalidate asks the leader whether a reconnecting client's global
// session is valid, and waits for the answer for at most the session's
// timeout, or until the connection (quit) or the server closes.
func (q *quorumPeer) revalidate(session int64, timeout int32, passwd []byte, quit <-chan struct{}) revalResult {
	rv := &revalidation{session: session, timeout: timeout, passwd: passwd, result: make(chan revalResult, 1)}
	select {
	case q.revalidations <- rv:
	case <-quit:
		return revalLost
	case <-q.s.done:
		return revalLost
	}
	timer := time.NewTimer(time.Duration(timeout) * time.Millisecond)
	defer timer.Stop()
	select {
	case res := <-rv.result:
		return res
	case <-timer.C:
	case <-quit:
	case <-q.s.done:
	}
	return revalLost
}

// startRevalidation answers a revalidation on the leader, and forwards it
// to the leader on a learner.
func (q *quorumPeer) startRevalidation(rv *revalidation) {
	switch {
	case !q.status.Serving:
		rv.result <- revalLost
	case q.status.Role == zab.Leading:
		if q.validSession(rv.session, rv.timeout, rv.passwd) {
			rv.result <- revalValid
		} else {
			rv.result <- revalInvalid
		}
	default:
		q.revalSeq++
		e := wire.NewEncoder([]byte{fwdRevalidate})
		e.Long(int64(q.revalSeq))
		e.Long(rv.session)
		e.Int(rv.timeout)
		e.Buffer(rv.passwd)
		if err := q.node.Forward(e.Bytes()); err != nil {
			rv.result <- revalLost
			return
		}
		q.revalPending[q.revalSeq] = rv
	}
}

// validSession is the leader's verdict on a reconnecting session: it is in
// the tree with that password and not being closed. A valid session's
// deadline is pushed back (with the newly negotiated timeout).
func (q *quorumPeer) validSession(id int64, timeout int32, passwd []byte) bool {
	info, ok := q.s.tree.Session(id)
	return ok && bytes.Equal(info.Passwd, passwd) && q.s.sessions.ensure(id, timeout)
}

// replied hands the leader's answer to a revalidation to its handshake.
func (q *quorumPeer) replied(data []byte) {
	d := wire.NewDecoder(data)
	id, valid := uint64(d.Long()), d.Bool()
	rv := q.revalPending[id]
	if d.Err() != nil || rv == nil {
		return
	}
	delete(q.revalPending, id)
	if !valid {
		rv.result <- revalInvalid
		return
	}
	q.s.sessions.ensure(rv.session, rv.timeout)
	rv.result <- revalValid
}

// onTick sends the sessions this learner's clients used to the leader.
func (q *quorumPeer) onTick() {
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
func (q *quorumPeer) apply(e zab.Entry) error {
	s := q.s
	var txn znode.Txn
	if err := wire.Decode(e.Data, &txn); err != nil || txn.Zxid != e.Zxid {
		return &storage.CorruptionError{Path: s.txnLog.Dir(), Zxid: e.Zxid, Reason: "undecodable committed txn"}
	}
	var res znode.Result
	if txn.Type == wire.OpReconfig {
		res = q.applyReconfig(&txn)
	} else {
		res = s.tree.Apply(&txn)
	}
	var r *request
	if q.status.Role == zab.Leading {
		// The leader applies a txn it proposed as soon as a quorum
		// acked it.
		if at, ok := q.proposedAt[txn.Zxid]; ok {
			delete(q.proposedAt, txn.Zxid)
			s.stats.Add(monitor.CommitCount, 1)
			s.stats.Observe(monitor.QuorumAckLatency, time.Since(at).Milliseconds())
		}
		if r = q.byZxid[txn.Zxid]; r != nil {
			delete(q.byZxid, txn.Zxid)
		}
	} else {
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
func (q *quorumPeer) installSnapshot(snap *zab.Snapshot) error {
	s := q.s
	tree, err := znode.ReadSnapshot(bytes.NewReader(snap.Data), s.treeOptions())
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
	q.log.Info("installed a snapshot from the leader", zap.String("file", path), zap.String("zxid", hex(snap.Zxid)))
	return nil
}

// queueSync hands an append's wait to the syncer.
func (q *quorumPeer) queueSync(p pendingSync) {
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
func (q *quorumPeer) syncLoop() {
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
		var last durableEvent
		failed := false
		for _, p := range batch {
			if err := p.wait(); err != nil && !failed {
				failed = true
				q.s.failStorage(err)
			}
			if p.gen != last.gen && last.zxid != 0 {
				q.report(last)
			}
			last = durableEvent{gen: p.gen, zxid: p.zxid}
		}
		clear(batch)
		if !failed {
			q.report(last)
		}
	}
}

func (q *quorumPeer) report(ev durableEvent) {
	select {
	case q.durable <- ev:
	case <-q.driverDone:
	}
}

// modeName is srvr's Mode for a role.
func modeName(r zab.Role) string {
	switch r {
	case zab.Leading:
		return "leader"
	case zab.Following:
		return "follower"
	case zab.Observing:
		return "observer"
	}
	return "looking"
}

// peerState is mntr's zk_peer_state, as Apache's QuorumPeer names it.
func (q *quorumPeer) peerState() string {
	st := q.state.Load()
	switch {
	case st.role == zab.Looking:
		return "looking - election"
	case st.serving:
		return fmt.Sprintf("%s - broadcast", roleWord(st.role))
	}
	return fmt.Sprintf("%s - synchronization", roleWord(st.role))
}

func roleWord(r zab.Role) string {
	switch r {
	case zab.Leading:
		return "leading"
	case zab.Following:
		return "following"
	case zab.Observing:
		return "observing"
	}
	return "looking"
}

// monitorGauges gives set the ensemble's gauges: the quorum size
// everywhere, the learner counts and proposal sizes on the serving leader,
// as Apache's QuorumZooKeeperServer and LeaderZooKeeperServer register
// them.
func (q *quorumPeer) monitorGauges(set func(*monitor.Metric, any)) {
	voters := 0
	for _, sv := range q.s.cfg.Servers {
		if !sv.Observer {
			voters++
		}
	}
	set(monitor.QuorumSize, voters)
	st := q.state.Load()
	if st.role != zab.Leading || !st.serving {
		return
	}
	set(monitor.Learners, st.learners.Learners)
	set(monitor.SyncedFollowers, st.learners.SyncedFollowers)
	set(monitor.SyncedNonVotingFollowers, st.learners.SyncedNonVoting)
	set(monitor.SyncedObservers, st.learners.SyncedObservers)
	set(monitor.PendingSyncs, 0)
	set(monitor.LeaderUptime, time.Since(st.since).Milliseconds())
	set(monitor.LastProposalSize, q.propLast.Load())
	set(monitor.MaxProposalSize, q.propMax.Load())
	set(monitor.MinProposalSize, q.propMin.Load())
}

// damage is what loadDamaged found wrong with the stored state.
type damage struct {
	err           error
	truncateAfter int64 // the log must be cut after this zxid; -1: it need not
}

// loadDamaged loads the newest valid snapshot and checks the log after
// it, as far as this server can use them. Damage (a log that lost entries
// it had made durable, a bad group, no valid snapshot, a log that does not
// reach back to the snapshot) is returned, not failed on: the server
// repairs it from its leader.
func (q *quorumPeer) loadDamaged(txnLog *storage.Log) (tree *znode.Tree, path string, dmg *damage, err error) {
	s := q.s
	note := func(err error, truncateAfter int64) {
		if dmg == nil {
			dmg = &damage{err: err, truncateAfter: -1}
		}
		if truncateAfter >= 0 && (dmg.truncateAfter < 0 || truncateAfter < dmg.truncateAfter) {
			dmg.truncateAfter = truncateAfter
		}
	}
	if lost := txnLog.Lost(); lost != nil {
		note(lost, -1)
	}
	tree = znode.NewTree(s.treeOptions())
	snapZxid, path, ok, snapErr := storage.LatestSnapshot(s.snapshotDir(), s.log)
	if snapErr == nil && ok {
		tree, snapErr = loadSnapshot(path, snapZxid, s.treeOptions())
	}
	if snapErr != nil {
		var ce *storage.CorruptionError
		if ok && !errors.As(snapErr, &ce) {
			return nil, "", nil, snapErr
		}
		tree, path, snapZxid = znode.NewTree(s.treeOptions()), "", 0
		note(snapErr, -1)
	}
	if purged := txnLog.Purged(); purged > snapZxid {
		// The log was purged behind a newer snapshot that is gone: it
		// cannot be replayed onto this one.
		note(&storage.CorruptionError{Path: txnLog.Dir(), Zxid: purged,
			Reason: fmt.Sprintf("the log was purged up to 0x%x, after the newest valid snapshot 0x%x", purged, snapZxid)}, snapZxid)
		return tree, path, dmg, nil
	}
	good := snapZxid
	verr := txnLog.Iterate(snapZxid+1, func(z int64, _ []byte) error { good = z; return nil })
	var ce *storage.CorruptionError
	switch {
	case verr == nil:
	case errors.As(verr, &ce):
		note(verr, good)
	default:
		return nil, "", nil, verr
	}
	return tree, path, dmg, nil
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
