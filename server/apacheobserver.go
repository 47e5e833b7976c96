package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/zkgo/zkgo/conf"
	"github.com/zkgo/zkgo/wire"
	"github.com/zkgo/zkgo/zab"
	"github.com/zkgo/zkgo/zab/apache"
	"github.com/zkgo/zkgo/zab/storage"
	"github.com/zkgo/zkgo/znode"
)

// The Apache observer mode (quorumProtocol=apache): this server joins a
// running Apache ZooKeeper ensemble as one of its observers, speaking
// Apache's own protocol (zab/apache). It learns the leader through
// Apache's election port, syncs from it (DIFF, TRUNC or SNAP) and then
// follows the txns the leader INFORMs it of, as Apache's observers do.
// Each txn is logged in our own log as a znode.OpApacheTxn txn (Apache's
// txn verbatim, with its zxid) and applied as Apache applies it; a SNAP
// becomes our snapshot, and the epochs are stored as our zab stores
// them. So our data directory is at every moment a valid one of ours at
// an Apache zxid, from which the server restarts (and syncs by DIFF).
//
// It serves reads and watches from its tree and forwards writes, sync,
// createSession and closeSession to the Apache leader as REQUEST packets;
// a client re-attaching a session is re-validated by the leader
// (REVALIDATE), and PING answers carry the sessions its clients used.
// Sessions are global: Apache's own.
//
// The Apache leader expires sessions and deletes containers; this server
// does neither.

// apacheObserver is the server's link to the Apache ensemble.
type apacheObserver struct {
	s      *Server
	log    *zap.Logger
	me     conf.Server
	voters []apache.Voter
	addrs  map[int64]string // quorum address of each voter

	// Only the connection loop touches these: the epochs this server
	// accepted and holds (Apache's acceptedEpoch and currentEpoch), and
	// the txns received and not yet logged.
	acceptedEpoch, currentEpoch int64
	batch                       []loggedTxn

	// The takeover (takeover.go): the forwarder pauses on pauseReq and
	// goes on on resumeReq, or ends on fwdStop; stopConnect ends the
	// connection loop, which closes connDone. handingOver keeps the
	// clients' connections open when the loop ends for the takeover;
	// handedOver is set once the ensemble of ours runs (s.quorum).
	ctl         sync.Mutex // one control word at a time
	paused      bool       // ctl's
	pauseReq    chan chan struct{}
	resumeReq   chan struct{}
	fwdStop     chan struct{}
	fwdDone     chan struct{}
	stopConnect context.CancelFunc
	connDone    chan struct{}
	handingOver atomic.Bool
	handedOver  atomic.Bool

	mu      sync.Mutex
	l       *apache.Learner // the connection to the leader while synced
	pending map[sessionCxid]*request
	syncs   []*request // forwarded syncs, answered in order
	revals  map[int64][]chan revalResult
}

// newApacheObserver returns the observer of the Apache ensemble that
// s.cfg's server lines describe.
func newApacheObserver(s *Server) *apacheObserver {
	a := &apacheObserver{
		s:       s,
		log:     s.log.With(zap.String("quorumProtocol", conf.QuorumProtocolApache)),
		addrs:   make(map[int64]string),
		pending: make(map[sessionCxid]*request),
		revals:  make(map[int64][]chan revalResult),

		pauseReq:  make(chan chan struct{}),
		resumeReq: make(chan struct{}),
		fwdStop:   make(chan struct{}),
		fwdDone:   make(chan struct{}),
		connDone:  make(chan struct{}),
	}
	for _, sv := range s.cfg.Servers {
		if sv.ID == s.cfg.MyID {
			a.me = sv
			continue
		}
		if sv.Observer {
			continue
		}
		a.voters = append(a.voters, apache.Voter{ID: sv.ID, ElectionAddr: net.JoinHostPort(sv.Host, strconv.Itoa(sv.ElectionPort))})
		a.addrs[sv.ID] = net.JoinHostPort(sv.Host, strconv.Itoa(sv.QuorumPort))
	}
	return a
}

// recover loads the tree from our own data directory, as a standalone
// server does (snapshot and log, whose txns are the Apache txns this
// server logged, znode.OpApacheTxn), and the epochs it stored.
func (a *apacheObserver) recover() error {
	s := a.s
	if _, ok := s.cfg.Server(s.cfg.MyID); !ok {
		return fmt.Errorf("server: myid %d is not one of the server.N lines of %s", s.cfg.MyID, s.cfg.File)
	}
	if err := s.recover(); err != nil {
		return err
	}
	var err error
	if a.acceptedEpoch, _, err = s.txnLog.Meta(zab.MetaAcceptedEpoch); err != nil {
		return err
	}
	if a.currentEpoch, _, err = s.txnLog.Meta(zab.MetaCurrentEpoch); err != nil {
		return err
	}
	s.sessions.collectTouches()
	return nil
}

// setEpoch stores an epoch (zab.MetaAcceptedEpoch or MetaCurrentEpoch)
// as this server's zab would: after Apache's epochs, so that the ensemble
// of ours that takes over starts above them.
func (a *apacheObserver) setEpoch(key string, v *int64, epoch int64) error {
	if epoch <= *v {
		return nil
	}
	if err := a.s.txnLog.SetMeta(key, epoch); err != nil {
		return err
	}
	*v = epoch
	return nil
}

// run starts the connection loop and the write forwarder.
func (a *apacheObserver) run() {
	ctx, cancel := context.WithCancel(context.Background())
	a.stopConnect = cancel
	a.s.wg.Add(2)
	go func() { defer a.s.wg.Done(); defer close(a.connDone); a.connectLoop(ctx) }()
	go func() { defer a.s.wg.Done(); defer close(a.fwdDone); a.forwardWrites() }()
}

// retryDelay is how long the observer waits before it looks for the
// leader again after losing it.
const retryDelay = 500 * time.Millisecond

// connectLoop finds the leader, syncs with it and follows it, again and
// again until the server closes.
func (a *apacheObserver) connectLoop(ctx context.Context) {
	go func() {
		select {
		case <-a.s.done:
			a.stopConnect()
		case <-ctx.Done():
		}
	}()
	for ctx.Err() == nil {
		err := a.observe(ctx)
		if a.handingOver.Load() {
			// The takeover: our ensemble takes the clients over, and
			// the history up to the last txn received.
			if err := a.Flush(); err != nil {
				a.log.Error("logging the last txns of the Apache leader failed", zap.Error(err))
			}
			for _, r := range a.dropInFlight() {
				if r.conn != nil {
					r.conn.close() // its client retries with our ensemble
				}
			}
			return
		}
		a.stopServing()
		if ctx.Err() != nil {
			return
		}
		a.log.Info("not observing the Apache ensemble; retrying", zap.Error(err))
		select {
		case <-ctx.Done():
		case <-time.After(retryDelay):
		}
	}
}

// observe runs one connection to the leader: election, handshake, sync,
// then the txns it informs of, until the connection fails. Txns received
// and not logged when it fails are dropped: the next sync sends them
// again.
func (a *apacheObserver) observe(ctx context.Context) error {
	clear(a.batch)
	a.batch = a.batch[:0]
	tick := time.Duration(a.s.cfg.TickTime) * time.Millisecond
	fctx, cancel := context.WithTimeout(ctx, tick*time.Duration(max(a.s.cfg.InitLimit, 1)))
	myAddr := net.JoinHostPort(a.me.Host, strconv.Itoa(a.me.ElectionPort))
	vote, err := apache.FindLeader(fctx, a.s.cfg.MyID, myAddr, a.s.tree.LastZxid(), a.voters)
	cancel()
	if err != nil {
		return err
	}
	addr, ok := a.addrs[vote.Leader]
	if !ok {
		return fmt.Errorf("the voters elected server %d, which is no participant of %s", vote.Leader, a.s.cfg.File)
	}
	hello := apache.Hello{
		SID:           a.s.cfg.MyID,
		ConfigVersion: a.s.cfg.ConfigVersion,
		AcceptedEpoch: a.acceptedEpoch,
		CurrentEpoch:  a.currentEpoch,
		LastZxid:      a.s.tree.LastZxid(),
		Timeout:       tick * time.Duration(max(a.s.cfg.InitLimit, 1)),
	}
	dctx, cancel := context.WithTimeout(ctx, hello.Timeout)
	l, err := apache.Dial(dctx, addr, hello)
	cancel()
	if err != nil {
		return fmt.Errorf("registering with leader %d at %s: %w", vote.Leader, addr, err)
	}
	defer l.Close()
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	if err := a.setEpoch(zab.MetaAcceptedEpoch, &a.acceptedEpoch, l.Epoch()); err != nil {
		return err
	}
	a.log.Info("registered with the Apache leader", zap.Int64("leader", vote.Leader), zap.String("address", addr),
		zap.Int64("epoch", l.Epoch()), zap.String("lastZxid", hex(hello.LastZxid)))
	if _, err := l.Sync(a); err != nil {
		return fmt.Errorf("syncing with leader %d: %w", vote.Leader, err)
	}
	if err := a.setEpoch(zab.MetaCurrentEpoch, &a.currentEpoch, l.Epoch()); err != nil {
		return err
	}
	a.s.flushQueued()
	a.mu.Lock()
	a.l = l
	a.mu.Unlock()
	a.s.serving.Store(true)
	a.log.Info("serving clients as an observer of the Apache ensemble", zap.Int64("leader", vote.Leader),
		zap.String("zxid", hex(a.s.tree.LastZxid())))
	return fmt.Errorf("following leader %d: %w", vote.Leader, l.Follow(a))
}

// stopServing closes the clients' connections and forgets the requests in
// flight, as an ensemble server does when it loses its leader: the
// clients reconnect and retry elsewhere.
func (a *apacheObserver) stopServing() {
	s := a.s
	if s.serving.Swap(false) {
		a.log.Info("not serving clients any more: closing their connections")
	}
	a.dropInFlight()
	for _, c := range s.connections() {
		if !c.fourLetter.Load() {
			c.close()
		}
	}
}

// dropInFlight forgets the connection to the leader and what was sent on
// it and not answered: the writes and syncs forwarded, which it returns,
// and the revalidations, which are lost (the client must try again).
func (a *apacheObserver) dropInFlight() []*request {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.l = nil
	var lost []*request
	for k, r := range a.pending {
		lost = append(lost, r)
		delete(a.pending, k)
	}
	lost = append(lost, a.syncs...)
	a.syncs = nil
	for id, chs := range a.revals {
		for _, ch := range chs {
			ch <- revalLost
		}
		delete(a.revals, id)
	}
	return lost
}

// Begin implements apache.SyncHandler. A snapshot replaces the tree and
// becomes our snapshot; a truncation drops our logged txns after its
// zxid and reloads the tree. Each leaves the data directory valid at
// every step: the log is cut before a snapshot is written.
func (a *apacheObserver) Begin(kind apache.PacketType, zxid int64, snapshot []byte) error {
	s := a.s
	switch kind {
	case apache.Snap:
		tree, err := znode.ReadApacheSnapshotStream(snapshot, zxid, s.treeOptions())
		if err != nil {
			return fmt.Errorf("the leader's snapshot at 0x%x: %w", zxid, err)
		}
		if err := s.txnLog.TruncateAfter(zxid); err != nil {
			return err
		}
		path, err := storage.WriteSnapshot(s.snapshotDir(), zxid, tree.WriteSnapshot)
		if err != nil {
			return err
		}
		if err := s.txnLog.PurgeBefore(zxid + 1); err != nil {
			return err
		}
		s.tree.Restore(tree)
		s.sessions.reset(tree.Sessions())
		a.log.Info("synced by snapshot", zap.String("zxid", hex(zxid)), zap.Int("bytes", len(snapshot)), zap.String("file", path))
	case apache.Trunc:
		if zxid >= s.tree.LastZxid() {
			return nil
		}
		if err := s.txnLog.TruncateAfter(zxid); err != nil {
			return err
		}
		tree, _, _, err := LoadTree(s.snapshotDir(), s.txnLog, s.treeOptions(), s.log)
		if err != nil {
			return err
		}
		if tree.LastZxid() != zxid {
			return fmt.Errorf("the leader truncates to 0x%x, but our snapshots go on to 0x%x: remove this server's data directory to sync it afresh",
				zxid, tree.LastZxid())
		}
		s.tree.Restore(tree)
		s.sessions.reset(tree.Sessions())
		a.log.Info("synced by truncation", zap.String("zxid", hex(zxid)))
	case apache.Diff:
		a.log.Info("synced by diff", zap.String("from", hex(s.tree.LastZxid())), zap.String("to", hex(zxid)))
	}
	return nil
}

// maxObserverBatch bounds the txns the observer logs with one append.
const maxObserverBatch = 1024

// loggedTxn is a txn of the leader's waiting in the batch: ours, to log,
// and Apache's, to answer its request.
type loggedTxn struct {
	txn znode.Txn
	at  *znode.ApacheTxn
}

// Txn implements apache.SyncHandler and apache.FollowHandler: it adds one
// committed txn to the batch that Flush logs (znode.OpApacheTxn) and
// applies.
func (a *apacheObserver) Txn(zxid int64, b []byte) error {
	at, err := znode.DecodeApacheTxn(b)
	if err != nil {
		return err
	}
	last := a.s.tree.LastZxid()
	if n := len(a.batch); n > 0 {
		last = a.batch[n-1].txn.Zxid
	}
	if at.Zxid <= last {
		return nil // in the snapshot already
	}
	a.batch = append(a.batch, loggedTxn{at: at, txn: znode.Txn{Zxid: at.Zxid, Time: at.Time, Session: at.Session,
		Cxid: at.Cxid, Type: znode.OpApacheTxn, Body: &znode.ApacheTxnBody{Raw: b}}})
	if len(a.batch) >= maxObserverBatch {
		return a.Flush()
	}
	return nil
}

// Flush implements apache.SyncHandler and apache.FollowHandler: the batch
// is appended to our log with one sync, then applied in order, each txn
// answering the request of ours it carries out.
func (a *apacheObserver) Flush() error {
	s := a.s
	if len(a.batch) == 0 {
		return nil
	}
	entries := make([]zab.Entry, len(a.batch))
	for i := range a.batch {
		entries[i] = zab.Entry{Zxid: a.batch[i].txn.Zxid, Data: wire.Encode(&a.batch[i].txn)}
	}
	if err := s.txnLog.Append(entries); err != nil {
		return err
	}
	defer s.flushQueued() // the replies and notifications
	for i := range a.batch {
		if err := a.apply(&a.batch[i]); err != nil {
			return err
		}
	}
	s.maybeSnapshot(len(a.batch))
	clear(a.batch)
	a.batch = a.batch[:0]
	return nil
}

// apply applies a logged txn and answers its request.
func (a *apacheObserver) apply(lt *loggedTxn) error {
	s, at := a.s, lt.at
	res := s.tree.Apply(&lt.txn)
	if res.Err == wire.ErrMarshallingError {
		return fmt.Errorf("txn 0x%x of the leader does not apply", at.Zxid)
	}
	switch at.Type {
	case wire.OpCreateSession:
		s.sessions.addIfAbsent(at.Session, at.Timeout)
	case wire.OpCloseSession:
		s.sessions.remove(at.Session)
	}
	a.mu.Lock()
	k := sessionCxid{at.Session, at.Cxid}
	r := a.pending[k]
	delete(a.pending, k)
	a.mu.Unlock()
	if r == nil {
		if at.Type == wire.OpCloseSession {
			if c := s.connOf(at.Session); c != nil {
				c.close() // expired by the leader
			}
		}
		return nil
	}
	errCode, resp := a.reply(r, at, res.Err)
	if r.onApplied != nil {
		r.onApplied(r, znode.Result{Err: errCode, Body: resp})
	}
	if r.conn != nil {
		r.hdr = wire.ReplyHeader{Xid: r.xid, Zxid: at.Zxid, Err: errCode}
		r.resp = resp
		r.conn.complete(r)
	}
	return nil
}

// reply is the answer to request r, which txn carried out: the error of
// an error txn, else the response its op gives, read from the tree just
// after the txn.
func (a *apacheObserver) reply(r *request, txn *znode.ApacheTxn, code wire.ErrCode) (wire.ErrCode, wire.Record) {
	if txn.Type == wire.OpError {
		return txn.Err, nil
	}
	if code != wire.ErrOK {
		return code, nil
	}
	if txn.Type == wire.OpMulti {
		// A multi failed if one of its ops is an error; its other ops are
		// then errors too, OK before the first failure and
		// RuntimeInconsistency after it (DataTree.processTxn).
		failed := slices.ContainsFunc(txn.Ops, func(op znode.ApacheOp) bool { return op.Type == wire.OpError })
		res := &wire.MultiResponse{Results: make([]wire.OpResult, len(txn.Ops))}
		after := false
		for i := range txn.Ops {
			op := &txn.Ops[i]
			if op.Type == wire.OpError {
				res.Results[i] = wire.OpResult{Type: wire.OpError, Err: op.Err}
				after = after || op.Err != wire.ErrOK
				continue
			}
			if failed {
				r := wire.OpResult{Type: wire.OpError}
				if after {
					r.Err = wire.ErrRuntimeInconsistency
				}
				res.Results[i] = r
				continue
			}
			_, body := a.opReply(op.Type, op)
			typ := op.Type
			if typ == wire.OpCreateContainer || typ == wire.OpCreateTTL {
				typ = wire.OpCreate2 // as Apache's CreateResult with a Stat
			}
			res.Results[i] = wire.OpResult{Type: typ, Body: body}
		}
		return wire.ErrOK, res
	}
	return a.opReply(r.op, &txn.ApacheOp)
}

// opReply is the response of a successful op of type typ.
func (a *apacheObserver) opReply(typ wire.OpCode, op *znode.ApacheOp) (wire.ErrCode, wire.Record) {
	stat := func() wire.Stat {
		resp, _ := a.s.tree.Read(wire.OpExists, &wire.PathWatchRequest{Path: op.Path}, znode.Caller{})
		if sr, ok := resp.(*wire.StatResponse); ok {
			return sr.Stat
		}
		return wire.Stat{}
	}
	switch typ {
	case wire.OpCreate:
		return wire.ErrOK, &wire.PathRequest{Path: op.Path}
	case wire.OpCreate2, wire.OpCreateContainer, wire.OpCreateTTL:
		return wire.ErrOK, &wire.Create2Response{Path: op.Path, Stat: stat()}
	case wire.OpSetData, wire.OpSetACL:
		return wire.ErrOK, &wire.StatResponse{Stat: stat()}
	}
	return wire.ErrOK, nil
}

// Touches implements apache.FollowHandler: the sessions our clients used
// since the last PING, with their timeouts.
func (a *apacheObserver) Touches() []apache.Touch {
	ids := a.s.sessions.takeTouched()
	ts := make([]apache.Touch, 0, len(ids))
	for _, id := range ids {
		if timeout, ok := a.s.sessions.timeoutOf(id); ok {
			ts = append(ts, apache.Touch{Session: id, Timeout: timeout})
		}
	}
	return ts
}

// Synced implements apache.FollowHandler: the oldest forwarded sync is
// answered once every txn before the leader's SYNC is applied, which it
// is, as this goroutine applies them in order.
func (a *apacheObserver) Synced() {
	a.mu.Lock()
	if len(a.syncs) == 0 {
		a.mu.Unlock()
		a.log.Warn("the Apache leader answered a sync this server did not forward")
		return
	}
	r := a.syncs[0]
	a.syncs = a.syncs[1:]
	a.mu.Unlock()
	r.hdr = wire.ReplyHeader{Xid: r.xid, Zxid: a.s.tree.LastZxid(), Err: wire.ErrOK}
	r.resp = &wire.PathRequest{Path: r.body.(*wire.PathRequest).Path}
	if r.onApplied != nil {
		r.onApplied(r, znode.Result{Body: r.resp})
	}
	if r.conn != nil {
		r.conn.complete(r)
	}
	a.s.flushQueued()
}

// Revalidated implements apache.FollowHandler.
func (a *apacheObserver) Revalidated(session int64, valid bool) {
	res := revalInvalid
	if valid {
		res = revalValid
	}
	a.mu.Lock()
	chs := a.revals[session]
	delete(a.revals, session)
	a.mu.Unlock()
	for _, ch := range chs {
		ch <- res
	}
}

// revalidate asks the Apache leader whether a session a client re-attaches
// here lives. Apache's servers keep no session passwords: a session's
// password is derived from its id (znode.ApacheSessionPasswd).
func (a *apacheObserver) revalidate(session int64, timeout int32, passwd []byte, quit <-chan struct{}) revalResult {
	if string(passwd) != string(znode.ApacheSessionPasswd(session)) {
		return revalInvalid
	}
	ch := make(chan revalResult, 1)
	a.mu.Lock()
	l := a.l
	if l != nil {
		a.revals[session] = append(a.revals[session], ch)
	}
	a.mu.Unlock()
	if l == nil {
		return revalLost
	}
	if err := l.RevalidateSession(session, timeout); err != nil {
		return revalLost
	}
	timer := time.NewTimer(time.Duration(timeout) * time.Millisecond)
	defer timer.Stop()
	select {
	case res := <-ch:
		if res == revalValid {
			a.s.sessions.ensure(session, timeout)
		}
		return res
	case <-timer.C:
	case <-quit:
	case <-a.s.done:
	}
	return revalLost
}

// forwardWrites sends every write of our clients to the Apache leader.
func (a *apacheObserver) forwardWrites() {
	for {
		select {
		case <-a.s.done:
			return
		case ack := <-a.pauseReq:
			// Paused: writes wait in s.writes.
			close(ack)
			select {
			case <-a.s.done:
				return
			case <-a.fwdStop:
				return // our ensemble takes s.writes over
			case <-a.resumeReq:
			}
		case r := <-a.s.writes:
			if err := a.forward(r); err != nil {
				a.log.Info("closing a client connection: its write could not be forwarded to the Apache leader",
					zap.String("sessionId", hex(r.session)), zap.Error(err))
				if r.conn != nil {
					r.conn.close()
				}
				if r.onApplied != nil {
					r.onApplied(r, znode.Result{Err: wire.ErrConnectionLoss})
				}
			}
		}
	}
}

// errNotObserving is the error of a write that arrives while the server
// is not synced with the Apache leader.
var errNotObserving = errors.New("not synced with the Apache leader")

// forward sends one write as a REQUEST; the txn or SYNC that carries it
// out answers it.
func (a *apacheObserver) forward(r *request) error {
	fr := &apache.ForwardedRequest{Session: r.session, Cxid: r.xid, Type: r.op}
	switch body := r.body.(type) {
	case *znode.CreateSession:
		// Learner.createSession: the body is the timeout; the password
		// is the one Apache derives from the id.
		fr.Cxid = 0
		e := wire.NewEncoder(nil)
		e.Int(body.Timeout)
		fr.Body = e.Bytes()
	case nil:
	default:
		fr.Body = wire.Encode(body)
	}
	if r.op == wire.OpCloseSession {
		fr.Body = nil
	}
	a.mu.Lock()
	l := a.l
	if l == nil {
		a.mu.Unlock()
		return errNotObserving
	}
	if r.op == wire.OpSync {
		a.syncs = append(a.syncs, r)
	} else {
		a.pending[sessionCxid{fr.Session, fr.Cxid}] = r
	}
	a.mu.Unlock()
	return l.Forward(fr, r.auth)
}

// timeoutOf returns a tracked session's timeout in ms.
func (t *sessionTracker) timeoutOf(id int64) (int32, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.sessions[id]
	if !ok {
		return 0, false
	}
	return int32(s.timeout / time.Millisecond), true
}

// revalidate asks the leader whether a session a client re-attaches lives
// (an ensemble or an Apache observer).
func (s *Server) revalidate(session int64, timeout int32, passwd []byte, quit <-chan struct{}) revalResult {
	if s.observingApache() {
		return s.apache.revalidate(session, timeout, passwd, quit)
	}
	return s.quorum.revalidate(session, timeout, passwd, quit)
}

// observingApache reports whether the server is an observer of an Apache
// ensemble: in the Apache observer mode, and not taken over yet.
func (s *Server) observingApache() bool {
	return s.apache != nil && !s.apache.handedOver.Load()
}

// ourEnsemble returns the server's ensemble of ours: nil when standalone,
// and while it observes an Apache ensemble. The takeover sets s.quorum
// before handedOver, so a goroutine that read handedOver true sees it.
func (s *Server) ourEnsemble() *ensemble {
	if s.observingApache() {
		return nil
	}
	return s.quorum
}
