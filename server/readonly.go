package server

import (
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/zkgo/zkgo/zab"
)

// Read-only mode (readonlymode.enabled), as Apache ZooKeeper's
// ReadOnlyZooKeeperServer. An ensemble server that has been LOOKING for
// readOnlyGrace (it is cut off from the quorum) starts serving read-only
// clients, those whose ConnectRequest says readOnly:
//
//   - a client that does not ask for read-only is refused (its connection
//     closes), and so is a global session that tries to reconnect;
//   - new sessions are local sessions when localSessionsEnabled; without
//     it the server has no session to give and answers the createSession
//     with NotReadOnly, as Apache's does;
//   - ConnectResponse.readOnly is true; reads are answered from the local
//     tree; sync, create, delete, setData, setACL, multi, check and an
//     enabled reconfig get NotReadOnly (ReadOnlyRequestProcessor), so does
//     closeSession of a global session;
//   - isro answers "ro", srvr and stat say "READ-ONLY mode; serving only
//     read-only clients" and "Mode: read-only", mntr zk_server_state
//     read-only.
//
// As soon as the election ends the read-only server is gone: its
// connections are closed and its local sessions forgotten, so clients
// reconnect to a read-write server (where such a session is expired).

// readOnlyMode is the read-only state of an ensemble server.
type readOnlyMode struct {
	active atomic.Bool
	// lookingSince is when the peer last became LOOKING (driver only).
	lookingSince time.Time
}

// readOnlyGrace is how long a peer must be LOOKING before it serves
// read-only clients: Apache waits max(2s, tickTime) before it decides it
// is partitioned.
func (q *ensemble) readOnlyGrace() time.Duration {
	return max(2*time.Second, time.Duration(q.s.cfg.TickTime)*time.Millisecond)
}

// readOnlyActive reports whether the server serves read-only clients now.
func (s *Server) readOnlyActive() bool {
	q := s.ourEnsemble()
	return q != nil && q.ro.active.Load()
}

// readOnlyTick starts read-only mode once the peer has been LOOKING for
// the grace period. The driver calls it every tick.
func (q *ensemble) readOnlyTick() {
	if !q.s.cfg.ReadOnlyModeEnabled || q.status.Role != zab.Looking || q.ro.active.Load() || q.hold.active {
		return
	}
	now := time.Now()
	if q.ro.lookingSince.IsZero() {
		q.ro.lookingSince = now
		return
	}
	if now.Sub(q.ro.lookingSince) < q.readOnlyGrace() {
		return
	}
	q.ro.active.Store(true)
	q.log.Info("read-only server started: serving read-only clients",
		zap.Duration("lookingFor", now.Sub(q.ro.lookingSince).Round(time.Millisecond)))
}

// readOnlyRoleChanged ends read-only mode when the peer leaves LOOKING:
// every client connection closes and the read-only server's local sessions
// are forgotten. The driver calls it on every status change.
func (q *ensemble) readOnlyRoleChanged(role zab.Role) {
	if role == zab.Looking {
		if q.ro.lookingSince.IsZero() {
			q.ro.lookingSince = time.Now()
		}
		return
	}
	q.ro.lookingSince = time.Time{}
	if !q.ro.active.Swap(false) {
		return
	}
	q.log.Info("read-only server stopped: the election is over; closing its client connections")
	q.closeClients()
	q.s.sessions.dropLocal()
}

// closeClients closes every client connection (not four-letter words).
func (q *ensemble) closeClients() {
	for _, c := range q.s.connections() {
		if !c.fourLetter.Load() {
			c.close()
		}
	}
}
