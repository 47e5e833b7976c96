package server

import (
	"time"

	"go.uber.org/zap"

	"github.com/zkgo/zkgo/wire"
	"github.com/zkgo/zkgo/znode"
)

// Local sessions (localSessionsEnabled), as Apache ZooKeeper's
// UpgradeableSessionTracker with its leader and learner trackers: in an
// ensemble every new session is local to the server the client connected
// to. It costs no txn: it is tracked, expired and closed on that server
// only, and the tree never records it. Its id has the usual form (server
// id in the top byte). A client that reconnects to another server finds
// it expired.
//
// A local session that creates an ephemeral node must become global
// first: with localSessionsUpgradingEnabled (the default) the server
// submits a createSession txn for it just before the create, else the
// create fails with EphemeralOnLocalSession. A standalone server ignores
// the setting, as Apache's does: its sessions are all global.

// localSessionsOn reports whether new sessions are local.
func (s *Server) localSessionsOn() bool {
	return s.ourEnsemble() != nil && s.cfg.LocalSessionsEnabled
}

// addLocal tracks a new local session with its password.
func (t *sessionTracker) addLocal(id int64, timeoutMs int32, passwd []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	d := time.Duration(timeoutMs) * time.Millisecond
	t.sessions[id] = &trackedSession{timeout: d, deadline: time.Now().Add(d), local: true, passwd: passwd}
}

// localPasswd returns the password of a local session that is not being
// closed.
func (t *sessionTracker) localPasswd(id int64) ([]byte, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.sessions[id]
	if !ok || !s.local || s.closing {
		return nil, false
	}
	return s.passwd, true
}

// isLocal reports whether id is a local session of this server.
func (t *sessionTracker) isLocal(id int64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.sessions[id]
	return ok && s.local
}

// upgrade turns a local session into a global one and returns what its
// createSession txn needs; false if id is not local.
func (t *sessionTracker) upgrade(id int64) (timeoutMs int32, passwd []byte, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, found := t.sessions[id]
	if !found || !s.local || s.closing {
		return 0, nil, false
	}
	s.local = false
	return int32(s.timeout / time.Millisecond), s.passwd, true
}

// dropLocal forgets every local session, as Apache's session tracker is
// thrown away with the server it belongs to when the peer changes state.
func (t *sessionTracker) dropLocal() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for id, s := range t.sessions {
		if s.local {
			delete(t.sessions, id)
		}
	}
}

// countLocal returns the number of local sessions (mntr's local_sessions).
func (t *sessionTracker) countLocal() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, s := range t.sessions {
		if s.local {
			n++
		}
	}
	return n
}

// createLocalSession starts a local session for c: no txn.
func (c *conn) createLocalSession(timeout int32, passwd []byte) {
	id := c.s.sessions.newID()
	c.s.sessions.addLocal(id, timeout, passwd)
	c.establish(id, timeout, passwd)
}

// closeLocalSession ends a local session of this server (expired): its
// connection closes. False if id is not local.
func (s *Server) closeLocalSession(id int64) bool {
	if !s.sessions.isLocal(id) {
		return false
	}
	s.sessions.remove(id)
	if c := s.connOf(id); c != nil {
		c.close()
	}
	return true
}

// screenWrite runs before an ensemble server submits a write, and answers
// the writes that need no txn or must not get one: every write while the
// server is read-only (NotReadOnly), closeSession of a local session, and
// an ephemeral create on a local session when upgrading is disabled
// (EphemeralOnLocalSession). When an ephemeral create upgrades its local
// session it passes the session's createSession to submit first. It
// reports whether r was answered.
func (s *Server) screenWrite(r *request, submit func(*request)) bool {
	if s.readOnlyActive() && r.conn != nil {
		if r.op == wire.OpCloseSession && s.closeLocalRequest(r) {
			return true
		}
		s.answer(r, wire.ErrNotReadOnly, nil)
		return true
	}
	if !s.localSessionsOn() || !s.sessions.isLocal(r.session) {
		return false
	}
	switch {
	case r.op == wire.OpCloseSession:
		return s.closeLocalRequest(r)
	case !createsEphemeral(r):
		return false
	case !s.cfg.LocalSessionsUpgradingEnabled:
		s.refuseEphemeral(r)
		return true
	}
	timeout, passwd, ok := s.sessions.upgrade(r.session)
	if ok {
		s.log.Info("upgrading session", zap.String("sessionId", hex(r.session)))
		submit(&request{op: wire.OpCreateSession, session: r.session, start: time.Now(),
			body: &znode.CreateSession{Timeout: timeout, Passwd: passwd}})
	}
	return false
}

// closeLocalRequest answers a client's closeSession of a local session:
// no txn, the session is forgotten and the connection closes once the
// reply is out. False if the session is not local.
func (s *Server) closeLocalRequest(r *request) bool {
	if !s.sessions.isLocal(r.session) {
		return false
	}
	s.sessions.remove(r.session)
	s.answer(r, wire.ErrOK, nil)
	return true
}

// answer completes a write that gets no txn with err and resp.
func (s *Server) answer(r *request, err wire.ErrCode, resp wire.Record) {
	r.hdr = wire.ReplyHeader{Xid: r.xid, Zxid: s.tree.LastZxid(), Err: err}
	r.resp = resp
	if r.conn != nil {
		r.conn.complete(r)
	}
}

// refuseEphemeral answers an ephemeral create on a local session with
// EphemeralOnLocalSession; in a multi that op fails with it, the ones
// before it with OK and the ones after it with RuntimeInconsistency, as
// when any op of a multi fails.
func (s *Server) refuseEphemeral(r *request) {
	m, ok := r.body.(*wire.MultiRequest)
	if !ok {
		s.answer(r, wire.ErrEphemeralOnLocalSession, nil)
		return
	}
	resp := &wire.MultiResponse{Results: make([]wire.OpResult, len(m.Ops))}
	failed := false
	for i, op := range m.Ops {
		res := wire.OpResult{Type: wire.OpError}
		switch {
		case failed:
			res.Err = wire.ErrRuntimeInconsistency
		case op.Type == wire.OpCreate || op.Type == wire.OpCreate2:
			if req, ok := op.Body.(*wire.CreateRequest); ok && isEphemeralFlag(req.Flags) {
				res.Err, failed = wire.ErrEphemeralOnLocalSession, true
			}
		}
		resp.Results[i] = res
	}
	s.answer(r, wire.ErrOK, resp)
}

// createsEphemeral reports whether r creates an ephemeral node: create,
// create2 or a multi with such a create (the requests Apache upgrades a
// local session for).
func createsEphemeral(r *request) bool {
	switch r.op {
	case wire.OpCreate, wire.OpCreate2:
		req, ok := r.body.(*wire.CreateRequest)
		return ok && isEphemeralFlag(req.Flags)
	case wire.OpMulti:
		m, ok := r.body.(*wire.MultiRequest)
		if !ok {
			return false
		}
		for _, op := range m.Ops {
			if op.Type != wire.OpCreate && op.Type != wire.OpCreate2 {
				continue
			}
			if req, ok := op.Body.(*wire.CreateRequest); ok && isEphemeralFlag(req.Flags) {
				return true
			}
		}
	}
	return false
}

func isEphemeralFlag(flags int32) bool {
	return flags == wire.FlagEphemeral || flags == wire.FlagEphemeralSequential
}
