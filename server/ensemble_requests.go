package server

import (
	"bytes"
	"time"

	"go.uber.org/zap"

	"github.com/zkgo/zkgo/server/monitor"
	"github.com/zkgo/zkgo/wire"
	"github.com/zkgo/zkgo/zab"
	"github.com/zkgo/zkgo/znode"
)

// The ensemble driver's requests: writes submitted on this server (stamped
// and proposed on the leader, forwarded elsewhere), the requests the leader
// receives from its learners, and the revalidation of reconnecting
// sessions.

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

// reject drops a write that cannot be carried out now: its client's
// connection closes, so the client retries elsewhere.
func (q *ensemble) reject(r *request) {
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
func (q *ensemble) submit(r *request) {
	if q.s.screenWrite(r, q.submit) {
		return
	}
	q.sendWrite(r)
}

// sendWrite proposes (leader) or forwards (learner) a screened write; while
// the server holds its clients (failover.go) it keeps the write for the
// next leader.
func (q *ensemble) sendWrite(r *request) {
	if !q.status.Serving {
		if !q.holdWrite(r) {
			q.reject(r)
		}
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
	e := wire.NewEncoder(txnBuffer(&txn, fwdTxn))
	txn.Encode(e)
	if err := q.node.Forward(e.Bytes()); err != nil {
		q.reject(r)
		return
	}
	q.fwdSeq++
	r.fwdSeq = q.fwdSeq
	q.byCxid[sessionCxid{r.session, r.xid}] = r
}

// propose stamps txn and proposes it; r (may be nil) is completed when it
// is applied.
func (q *ensemble) propose(txn *znode.Txn, r *request) bool {
	z, err := q.node.NextZxid()
	if err != nil {
		return false
	}
	txn.Zxid = z
	txn.Time = time.Now().UnixMilli()
	// A fresh buffer: the node and the tree keep it.
	e := wire.NewEncoder(txnBuffer(txn))
	txn.Encode(e)
	data := e.Bytes()
	if _, err := q.node.Propose(data); err != nil {
		q.log.Warn("proposing a txn failed", zap.Error(err))
		return false
	}
	q.s.stats.Add(monitor.ProposalCount, 1)
	q.proposed[z] = proposal{at: time.Now(), txn: txn, data: data}
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

// txnBuffer returns an empty buffer that starts with prefix and holds
// txn's encoding without growing, bar large identities or multis:
// appending to a small buffer copied a txn five times as it grew.
func txnBuffer(txn *znode.Txn, prefix ...byte) []byte {
	n := 256
	switch b := txn.Body.(type) {
	case *wire.SetDataRequest:
		n += len(b.Path) + len(b.Data)
	case *wire.CreateRequest:
		n += len(b.Path) + len(b.Data)
	}
	return append(make([]byte, 0, n), prefix...)
}

// proposal is a txn the leader proposed and has not applied yet: when
// (quorum_ack_latency, commit_count), and the txn itself with its
// encoding, the entry's data: once that entry is committed the leader
// applies the txn rather than decoding the entry. Nothing changes a txn
// once it is proposed.
type proposal struct {
	at   time.Time
	txn  *znode.Txn
	data []byte
}

// forwarded handles a learner's request on the leader.
func (q *ensemble) forwarded(req zab.Request) {
	if len(req.Data) == 0 {
		return
	}
	switch req.Data[0] {
	case fwdTxn:
		txn := new(znode.Txn)
		if err := q.txnDec.Decode(req.Data[1:], txn); err != nil {
			q.log.Warn("malformed write forwarded by a learner", zap.Int64("from", req.From), zap.Error(err))
			return
		}
		q.s.sessions.touch(txn.Session)
		if txn.Type == wire.OpReconfig {
			q.prepReconfig(txn)
		}
		q.propose(txn, nil)
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
func (q *ensemble) revalidate(session int64, timeout int32, passwd []byte, quit <-chan struct{}) revalResult {
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
// to the leader on a learner. A server that does not serve keeps it for the
// next leader while it holds its clients (failover.go), and answers it as
// lost otherwise.
func (q *ensemble) startRevalidation(rv *revalidation) {
	switch {
	case !q.status.Serving:
		if !q.holdRevalidation(rv) {
			rv.result <- revalLost
		}
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
func (q *ensemble) validSession(id int64, timeout int32, passwd []byte) bool {
	info, ok := q.s.tree.Session(id)
	return ok && bytes.Equal(info.Passwd, passwd) && q.s.sessions.ensure(id, timeout)
}

// replied hands the leader's answer to a revalidation to its handshake.
func (q *ensemble) replied(data []byte) {
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
