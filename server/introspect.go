package server

import (
	"net"
	"sort"
	"time"

	"github.com/zkgo/zkgo/server/monitor"
)

// This file holds the read-only views of the server, its connections and
// its sessions that the four-letter words print, and the helpers that
// format numbers and addresses the way the Java server does.

// info takes a consistent view of c.
func (c *conn) info() monitor.ConnInfo {
	ci := monitor.ConnInfo{
		Remote:      c.nc.RemoteAddr(),
		InterestOps: 1,
		Created:     c.created,
		LastActive:  c.created,
	}
	if c.fourLetter.Load() {
		ci.InterestOps = 0
	}
	c.mu.Lock()
	ci.Session, ci.Timeout, ci.Queued = c.session, c.timeout, len(c.queue)
	c.mu.Unlock()
	ci.Received, ci.Sent = c.stats.received.Load(), c.stats.sent.Load()

	st := &c.stats
	st.mu.Lock()
	defer st.mu.Unlock()
	ci.LastCxid = int64(st.lastCxid)
	ci.LastZxid = st.lastZxid
	ci.LastOp = "NA"
	if !st.lastResp.IsZero() {
		ci.LastOp = consOpName(st.lastOp, st.lastErr)
		ci.LastResp = c.s.mon.ElapsedMs(st.lastResp)
		ci.LastActive = st.lastResp
	}
	ci.LastLatency = st.lastLatency.Milliseconds()
	if st.latency.Count > 0 {
		ci.MinLatency = st.latency.Min
		ci.MaxLatency = st.latency.Max
		ci.AvgLatency = st.latency.Total / st.latency.Count
	}
	return ci
}

// reset clears the counters of a connection (crst), leaving them as
// Apache's ServerCnxn.resetStats does: no last operation, cxid or zxid.
func (s *connStats) reset() {
	s.received.Store(0)
	s.sent.Store(0)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastOp = 0
	s.lastCxid = -1
	s.lastZxid = -1
	s.lastResp = time.Time{}
	s.lastLatency = 0
	s.latency = monitor.Latency{}
}

func (c *conn) queued() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.queue)
}

// connByNetConn finds the registered connection of nc.
func (s *Server) connByNetConn(nc net.Conn) *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if c.nc == nc {
			return c
		}
	}
	return nil
}

// connectionsByAge returns the open connections, oldest first.
func (s *Server) connectionsByAge() []*conn {
	conns := s.connections()
	sort.Slice(conns, func(i, j int) bool { return conns[i].created.Before(conns[j].created) })
	return conns
}

// outstanding counts requests received and not yet answered (see
// admission).
func (s *Server) outstanding() int { return int(s.adm.inProcess.Load()) }

// expiries lists the tracked sessions, including those being closed.
func (t *sessionTracker) expiries() []monitor.SessionExpiry {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]monitor.SessionExpiry, 0, len(t.sessions))
	for id, s := range t.sessions {
		out = append(out, monitor.SessionExpiry{ID: id, Deadline: s.deadline})
	}
	return out
}
