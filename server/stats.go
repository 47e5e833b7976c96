package server

import (
	"sync"
	"sync/atomic"
	"time"
)

// stats are the server-wide counters srvr, stat and mntr report.
type stats struct {
	received, sent atomic.Int64
	mu             sync.Mutex
	latency        latencyStats
}

func (s *stats) recordLatency(d time.Duration) {
	s.mu.Lock()
	s.latency.add(d)
	s.mu.Unlock()
}

func (s *stats) reset() {
	s.received.Store(0)
	s.sent.Store(0)
	s.mu.Lock()
	s.latency = latencyStats{}
	s.mu.Unlock()
}

func (s *stats) snapshot() latencyStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.latency
}

// latencyStats keeps min, max and sum of request latencies in ms.
type latencyStats struct {
	count, total, min, max int64
}

func (l *latencyStats) add(d time.Duration) {
	ms := d.Milliseconds()
	if l.count == 0 || ms < l.min {
		l.min = ms
	}
	if ms > l.max {
		l.max = ms
	}
	l.total += ms
	l.count++
}

// avg returns the mean latency in ms (0 with no samples), as a float the
// way Apache ZooKeeper prints it.
func (l latencyStats) avg() float64 {
	if l.count == 0 {
		return 0
	}
	return float64(l.total) / float64(l.count)
}
