package server

import (
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/zkgo/zkgo/wire"
	"github.com/zkgo/zkgo/znode"
)

// sessionTracker decides when sessions expire. Expiry itself is a txn
// (closeSession), so the tree and every server agree on it.
type sessionTracker struct {
	mu       sync.Mutex
	next     int64
	sessions map[int64]*trackedSession
	// touched collects the sessions seen active since the last takeTouched
	// (in an ensemble, followers report them to the leader); nil when not
	// collecting.
	touched map[int64]struct{}
}

type trackedSession struct {
	timeout  time.Duration
	deadline time.Time
	closing  bool // closeSession submitted
	// local marks a local session (localSessionsEnabled): known to this
	// server only, never in the tree; passwd is then its password.
	local  bool
	passwd []byte
}

// newSessionTracker seeds session ids the way Apache ZooKeeper does: the
// server id in the top byte, the clock below, so ids stay unique across
// servers and restarts.
func newSessionTracker(serverID int64) *sessionTracker {
	next := int64(uint64(time.Now().UnixMilli()<<24) >> 8)
	next |= serverID << 56
	return &sessionTracker{next: next, sessions: make(map[int64]*trackedSession)}
}

func (t *sessionTracker) newID() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.next++
	return t.next
}

// add starts tracking a session with its negotiated timeout (ms).
func (t *sessionTracker) add(id int64, timeoutMs int32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	d := time.Duration(timeoutMs) * time.Millisecond
	t.sessions[id] = &trackedSession{timeout: d, deadline: time.Now().Add(d)}
}

// ensure tracks a session that exists in the tree (after a restart it may
// not be tracked yet) with a fresh deadline; false if it is being closed.
func (t *sessionTracker) ensure(id int64, timeoutMs int32) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.sessions[id]
	d := time.Duration(timeoutMs) * time.Millisecond
	if !ok {
		t.sessions[id] = &trackedSession{timeout: d, deadline: time.Now().Add(d)}
		return true
	}
	if s.closing {
		return false
	}
	s.timeout = d
	s.deadline = time.Now().Add(d)
	return true
}

// touch pushes a session's deadline back; false if unknown or closing.
func (t *sessionTracker) touch(id int64) bool { return t.touchAt(id, time.Now()) }

// touchAt is touch at time now.
func (t *sessionTracker) touchAt(id int64, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.sessions[id]
	if t.touched != nil && id != 0 && !(ok && s.local) {
		t.touched[id] = struct{}{}
	}
	if !ok || s.closing {
		return false
	}
	s.deadline = now.Add(s.timeout)
	return true
}

// collectTouches makes touch record the sessions it sees (takeTouched).
func (t *sessionTracker) collectTouches() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.touched = make(map[int64]struct{})
}

// takeTouched returns the sessions touched since the last call.
func (t *sessionTracker) takeTouched() []int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.touched) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(t.touched))
	for id := range t.touched {
		ids = append(ids, id)
	}
	clear(t.touched)
	return ids
}

// reset tracks exactly the given sessions, each with a fresh deadline (a
// new leader takes over the sessions recorded in the tree), and this
// server's local sessions.
func (t *sessionTracker) reset(sessions []znode.SessionInfo) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	old := t.sessions
	t.sessions = make(map[int64]*trackedSession, len(sessions))
	for id, s := range old {
		if s.local {
			t.sessions[id] = s
		}
	}
	for _, si := range sessions {
		d := time.Duration(si.Timeout) * time.Millisecond
		t.sessions[si.ID] = &trackedSession{timeout: d, deadline: now.Add(d)}
	}
}

// addIfAbsent tracks a session unless it is tracked already; a local
// session becomes global (its createSession txn was committed).
func (t *sessionTracker) addIfAbsent(id int64, timeoutMs int32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s, ok := t.sessions[id]; ok {
		s.local, s.passwd = false, nil
	} else {
		d := time.Duration(timeoutMs) * time.Millisecond
		t.sessions[id] = &trackedSession{timeout: d, deadline: time.Now().Add(d)}
	}
}

func (t *sessionTracker) remove(id int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.sessions, id)
}

// expire returns the sessions past their deadline (only the local ones
// if localOnly) and marks them closing.
func (t *sessionTracker) expire(now time.Time, localOnly bool) map[int64]time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out map[int64]time.Duration
	for id, s := range t.sessions {
		if !s.closing && now.After(s.deadline) && (s.local || !localOnly) {
			s.closing = true
			if out == nil {
				out = make(map[int64]time.Duration)
			}
			out[id] = s.timeout
		}
	}
	return out
}

// count returns the number of tracked global sessions.
func (t *sessionTracker) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, s := range t.sessions {
		if !s.local {
			n++
		}
	}
	return n
}

// runExpiry closes expired sessions through closeSession txns.
func (s *Server) runExpiry() {
	tick := time.Duration(s.cfg.TickTime) * time.Millisecond / 2
	if tick <= 0 {
		tick = time.Second
	}
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	for {
		select {
		case <-s.done:
			return
		case now := <-ticker.C:
			// In an ensemble only the leader expires global sessions;
			// every server expires its local sessions.
			leader := !s.observingApache() && (s.quorum == nil || s.quorum.leading())
			for id, timeout := range s.sessions.expire(now, !leader) {
				s.log.Info("expiring session", zap.String("sessionId", hex(id)),
					zap.Duration("timeout", timeout))
				if !s.closeLocalSession(id) {
					s.closeSession(id)
				}
			}
		}
	}
}

// runContainerManager removes empty containers and expired TTL nodes as
// Apache's ContainerManager: every znode.container.checkIntervalMs the
// leader (or the standalone server) lists them and proposes a
// deleteContainer txn for each, the txns a minute divided by
// znode.container.maxPerMinute apart (in whole milliseconds, as Apache).
func (s *Server) runContainerManager() {
	interval := time.Duration(s.cfg.ContainerCheckIntervalMs) * time.Millisecond
	spacing := time.Duration(60000/s.cfg.ContainerMaxPerMinute) * time.Millisecond
	s.log.Info("container manager", zap.Duration("checkInterval", interval),
		zap.Int("maxPerMinute", s.cfg.ContainerMaxPerMinute),
		zap.Int64("maxNeverUsedIntervalMs", s.cfg.ContainerMaxNeverUsedIntervalMs))
	leading := func() bool { return !s.observingApache() && (s.quorum == nil || s.quorum.leading()) }
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-ticker.C:
		}
		if !leading() {
			continue
		}
		for _, path := range s.tree.ExpiredContainers(time.Now().UnixMilli()) {
			if !leading() {
				break
			}
			start := time.Now()
			s.log.Info("deleting candidate container", zap.String("path", path))
			s.submitWrite(&request{op: wire.OpDeleteContainer, body: &wire.PathRequest{Path: path}, start: start})
			if wait := spacing - time.Since(start); wait > 0 {
				select {
				case <-s.done:
					return
				case <-time.After(wait):
				}
			}
		}
	}
}

// closeSession submits a closeSession txn for an expired session and
// closes its connection once applied.
func (s *Server) closeSession(id int64) {
	s.submitWrite(&request{
		op:      wire.OpCloseSession,
		body:    &wire.Empty{},
		session: id,
		start:   time.Now(),
		onApplied: func(_ *request, _ znode.Result) {
			if c := s.connOf(id); c != nil {
				c.close()
			}
		},
	})
}

func hex(v int64) string { return fmt.Sprintf("0x%x", uint64(v)) }
