package server

import (
	"time"

	"github.com/zkgo/zkgo/wire"
	"github.com/zkgo/zkgo/zab"
	"github.com/zkgo/zkgo/znode"
)

// request is one client request (or a server-internal write) on its way
// through the pipeline.
type request struct {
	conn    *conn // nil for server-internal writes
	xid     int32
	op      wire.OpCode
	body    wire.Record
	session int64
	auth    []wire.Id
	start   time.Time

	// Set when the request is answered.
	done bool
	hdr  wire.ReplyHeader
	resp wire.Record

	// onApplied, if set, runs in the applier after the txn is applied.
	onApplied func(r *request, res znode.Result)

	// fwdSeq orders the writes an ensemble learner forwarded (see
	// ensemble.resume).
	fwdSeq uint64
}

// defaultMaxBatch bounds how many writes the applier takes at once, and so
// how many share one log sync (group commit).
const defaultMaxBatch = 1024

// runApplier stamps, applies and answers writes in arrival order. It is the
// only goroutine that changes the tree. Writes are taken in batches: the
// durable log will persist a whole batch with one sync before applying it.
func (s *Server) runApplier() {
	maxBatch := s.maxBatch
	batch := make([]*request, 0, maxBatch)
	for {
		select {
		case <-s.done:
			return
		case r := <-s.writes:
			batch = append(batch[:0], r)
		}
	drain:
		for len(batch) < maxBatch {
			select {
			case r := <-s.writes:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		if !s.commit(batch) {
			return
		}
	}
}

// commit stamps a batch of writes as txns, makes them durable with one
// log append (one sync), then applies and answers them. False means the
// log failed and the server is stopping.
func (s *Server) commit(batch []*request) bool {
	now := time.Now().UnixMilli()
	zxid := s.tree.LastZxid()
	s.txns = s.txns[:0]
	s.entries = s.entries[:0]
	enc := wire.NewEncoder(s.encBuf[:0])
	offsets := s.offsets[:0]
	for _, r := range batch {
		zxid++
		txn := znode.Txn{Zxid: zxid, Time: now, Session: r.session, Cxid: r.xid,
			Type: r.op, Auth: r.auth, Body: r.body}
		txn.Encode(enc)
		offsets = append(offsets, enc.Len())
		s.txns = append(s.txns, txn)
	}
	buf := enc.Bytes()
	prev := 0
	for i, end := range offsets {
		s.entries = append(s.entries, zab.Entry{Zxid: s.txns[i].Zxid, Data: buf[prev:end]})
		prev = end
	}
	s.encBuf, s.offsets = buf, offsets
	if err := s.txnLog.Append(s.entries); err != nil {
		s.failStorage(err)
		return false
	}
	for i, r := range batch {
		s.apply(r, &s.txns[i])
	}
	s.flushQueued()
	s.maybeSnapshot(len(batch))
	return true
}

// apply applies one durable txn and completes its request.
func (s *Server) apply(r *request, txn *znode.Txn) {
	res := s.tree.Apply(txn)
	if r.op == wire.OpCloseSession {
		s.sessions.remove(r.session)
	}
	if r.onApplied != nil {
		r.onApplied(r, res)
	}
	if r.conn == nil {
		return
	}
	r.hdr = wire.ReplyHeader{Xid: r.xid, Zxid: txn.Zxid, Err: res.Err}
	r.resp = res.Body
	r.conn.complete(r)
}

// submitWrite hands a write to the applier.
func (s *Server) submitWrite(r *request) {
	select {
	case s.writes <- r:
	case <-s.done:
	}
}

// execRead answers a request that does not change the tree. With into,
// getData and exists are answered in its records (see znode.ReadInto),
// which the reply must be encoded from before into is used again.
func (s *Server) execRead(c *conn, r *request, into *znode.Replies) {
	var resp wire.Record
	err := wire.ErrOK
	switch r.op {
	case wire.OpPing, wire.OpSetWatches, wire.OpSetWatches2:
		if r.op != wire.OpPing {
			resp, err = s.tree.Read(r.op, r.body, c.caller())
		}
		resp = nil
	case wire.OpSync:
		resp = &wire.PathRequest{Path: r.body.(*wire.PathRequest).Path}
	case wire.OpWhoAmI:
		resp = c.whoAmI()
	default:
		resp, err = s.tree.ReadInto(r.op, r.body, c.caller(), into)
	}
	r.hdr = wire.ReplyHeader{Xid: r.xid, Zxid: s.tree.LastZxid(), Err: err}
	if err == wire.ErrOK {
		r.resp = resp
	}
	r.done = true
}
