package server

import (
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/zkgo/zkgo/server/monitor"
	"github.com/zkgo/zkgo/wire"
)

// Admission of client requests, as Apache ZooKeeper's two bounds on the
// requests a server has in process (read from a client, not yet answered):
//
//   - The request throttle (zookeeper.request_throttle_max_requests, 0 by
//     default: off; Apache's RequestThrottler). A request read while that
//     many are in process waits until one is answered, looking again every
//     request_throttle_stall_time ms (each wait counts in
//     request_throttle_wait_count); its connection's reader waits with it,
//     so the client's later requests wait in its socket. A waiting request
//     that has gone stale (its connection closed, or with
//     zookeeper.request_stale_latency_check it waited longer than its
//     session timeout) is dropped unanswered and its connection closed
//     when request_throttle_drop_stale is true (the default;
//     stale_requests_dropped), and carried out otherwise (stale_requests).
//     request_throttle_queue_time_ms is the time requests waited.
//   - zookeeper.globalOutstandingLimit (default 1000): while more requests
//     than that are in process, or waiting in the throttle, the server
//     reads no further request from a connection that has requests of its
//     own in process (awaitOutstanding), until the count drops or that
//     connection's requests are answered.
//
// Neither fails a request; they slow clients down. Unlike Apache, this
// server answers most reads at once on the reader, so they are in process
// only for that moment.
type admission struct {
	inProcess atomic.Int64  // requests admitted and not yet answered
	waiting   atomic.Int64  // requests waiting in the throttle
	slots     chan struct{} // one per request in process; nil without a throttle

	// A reader held by awaitOutstanding waits for drained, closed (and
	// cleared) once the server is no longer over globalOutstandingLimit.
	held    atomic.Int64 // readers waiting for drained
	mu      sync.Mutex   // guards drained
	drained chan struct{}
}

func newAdmission(maxRequests int) *admission {
	a := &admission{}
	if maxRequests > 0 {
		a.slots = make(chan struct{}, maxRequests)
	}
	return a
}

// overOutstanding reports whether the server has more requests in process,
// or waiting in the throttle, than globalOutstandingLimit.
func (s *Server) overOutstanding() bool {
	limit := int64(s.cfg.GlobalOutstandingLimit)
	return limit < s.adm.inProcess.Load() || limit < s.adm.waiting.Load()
}

// release ends n requests in process.
func (s *Server) release(n int) {
	if n == 0 {
		return
	}
	a := s.adm
	a.inProcess.Add(int64(-n))
	if a.slots != nil {
		for range n {
			<-a.slots
		}
	}
	s.wakeHeld()
}

// wakeHeld wakes the readers held by awaitOutstanding once the server is
// no longer over globalOutstandingLimit.
func (s *Server) wakeHeld() {
	a := s.adm
	if a.held.Load() == 0 || s.overOutstanding() {
		return
	}
	a.mu.Lock()
	if a.drained != nil {
		close(a.drained)
		a.drained = nil
	}
	a.mu.Unlock()
}

// drainedChan returns the channel awaitOutstanding waits for.
func (a *admission) drainedChan() chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.drained == nil {
		a.drained = make(chan struct{})
	}
	return a.drained
}

// admit counts r in process, waiting first in the request throttle while
// it is full. False means r was dropped as stale: the connection ends.
func (c *conn) admit(r *request) bool {
	s := c.s
	a := s.adm
	if a.slots == nil {
		a.inProcess.Add(1)
		return true
	}
	select {
	case a.slots <- struct{}{}:
		a.inProcess.Add(1)
		s.stats.Observe(monitor.RequestThrottleQueueTimeMs, 0)
		return true
	default:
	}
	c.flush() // the replies already produced go out while r waits
	a.waiting.Add(1)
	defer func() {
		a.waiting.Add(-1)
		s.wakeHeld()
	}()
	stall := time.Duration(s.cfg.RequestThrottleStallTime) * time.Millisecond
	timer := time.NewTimer(stall)
	defer timer.Stop()
	quit := c.quit
	for {
		if s.cfg.RequestThrottleDropStale && c.stale(r) {
			s.stats.Add(monitor.StaleRequestsDropped, 1)
			s.log.Info("dropping a stale request held by the request throttle; closing its connection",
				zap.String("client", c.nc.RemoteAddr().String()), zap.String("sessionId", hex(r.session)),
				zap.Stringer("op", r.op), zap.Duration("waited", time.Since(r.start)))
			return false
		}
		s.stats.Add(monitor.RequestThrottleWaitCount, 1)
		select {
		case a.slots <- struct{}{}:
			a.inProcess.Add(1)
			if c.stale(r) {
				s.stats.Add(monitor.StaleRequests, 1)
			}
			s.stats.Observe(monitor.RequestThrottleQueueTimeMs, time.Since(r.start).Milliseconds())
			return true
		case <-timer.C:
			timer.Reset(stall)
		case <-quit:
			quit = nil // look at staleness again; never again at quit
		}
	}
}

// stale reports whether r has gone stale, as Apache's Request.isStale: its
// connection has closed (zookeeper.request_stale_connection_check), or it
// has waited longer than its session timeout
// (zookeeper.request_stale_latency_check). A closeSession never is.
func (c *conn) stale(r *request) bool {
	if r.op == wire.OpCloseSession {
		return false
	}
	if c.s.cfg.RequestStaleConnectionCheck && c.closed() {
		return true
	}
	return c.s.cfg.RequestStaleLatencyCheck && time.Since(r.start) > c.sessionTimeout()
}

// closed reports whether the connection has been closed.
func (c *conn) closed() bool {
	select {
	case <-c.quit:
		return true
	default:
		return false
	}
}

// awaitOutstanding holds the reader, before it reads the next request,
// while the server is over globalOutstandingLimit and this connection has
// requests in process. False means the connection ends.
func (c *conn) awaitOutstanding() bool {
	s := c.s
	if !s.overOutstanding() || c.queued() == 0 {
		return true
	}
	c.flush()
	c.waited = true
	a := s.adm
	for {
		a.held.Add(1)
		drained := a.drainedChan()
		if !s.overOutstanding() || c.queued() == 0 {
			a.held.Add(-1)
			return true
		}
		select {
		case <-drained:
		case <-c.resume:
		case <-c.quit:
			a.held.Add(-1)
			return false
		}
		a.held.Add(-1)
	}
}

// dropQueue ends the requests of a closed connection still in its queue:
// nobody will read their answers. Called by the reader as it exits, after
// which nothing is queued any more.
func (c *conn) dropQueue() {
	c.mu.Lock()
	n := len(c.queue)
	c.queue = nil
	c.mu.Unlock()
	c.s.release(n)
}
