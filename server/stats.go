package server

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// stats are the server-wide counters srvr, stat and mntr report, and the
// summaries of Apache's ServerMetrics this server feeds.
type stats struct {
	received, sent atomic.Int64
	mu             sync.Mutex // guards the fields below
	latency        latencyStats
	summaries      map[string]*summary // by mntr name; see summaryNames
	counters       map[string]int64    // by mntr name
	// lookingSince is when this server last started looking for a
	// leader (zero when it is not looking).
	lookingSince time.Time
}

// summaryNames are the mntr summaries this server feeds, all in ms, as
// Apache ZooKeeper's ServerMetrics: request latencies (readlatency for
// requests without a txn, updatelatency for those with one), transaction
// log fsyncs, snapshots, loading the database at startup, and elections
// (from LOOKING until this server leads or follows), and on a leader
// quorum_ack_latency (from a txn's proposal until it is committed).
// With the request throttle on, request_throttle_queue_time_ms is the time
// requests waited in it (see admission).
var summaryNames = []string{"readlatency", "updatelatency", "fsynctime", "snapshottime", "dbinittime", "election_time", "quorum_ack_latency", "request_throttle_queue_time_ms"}

// add adds n to the counter name.
func (s *stats) add(name string, n int64) {
	s.mu.Lock()
	s.count(name, n)
	s.mu.Unlock()
}

// count adds n to the counter name; s.mu is held.
func (s *stats) count(name string, n int64) {
	if s.counters == nil {
		s.counters = make(map[string]int64)
	}
	s.counters[name] += n
}

// counterValue returns the counter name (0 if this server does not feed
// it).
func (s *stats) counterValue(name string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counters[name]
}

// recordLatency records the latency of an answered request; write is true
// for a request that went through the log.
func (s *stats) recordLatency(d time.Duration, write bool) {
	name := "readlatency"
	if write {
		name = "updatelatency"
	}
	s.mu.Lock()
	s.latency.add(d)
	s.summary(name).observe(d.Milliseconds())
	s.mu.Unlock()
}

// observe adds one value, in ms, to the summary name.
func (s *stats) observe(name string, ms int64) {
	s.mu.Lock()
	s.summary(name).observe(ms)
	s.mu.Unlock()
}

// summary returns the summary name, creating it; s.mu is held.
func (s *stats) summary(name string) *summary {
	m := s.summaries[name]
	if m == nil {
		if s.summaries == nil {
			s.summaries = make(map[string]*summary)
		}
		m = &summary{}
		s.summaries[name] = m
	}
	return m
}

// summaryValues returns a copy of the summary name (empty if it has no
// values).
func (s *stats) summaryValues(name string) summary {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.summaries[name]
	if m == nil {
		return summary{}
	}
	c := *m
	c.samples = append([]int64(nil), m.samples...)
	return c
}

// reset is srst: like Apache's ServerStats.reset it clears the latency and
// packet counters and every metric (ServerMetrics.resetAll).
func (s *stats) reset() {
	s.received.Store(0)
	s.sent.Store(0)
	s.mu.Lock()
	s.latency = latencyStats{}
	s.summaries = nil
	s.counters = nil
	s.mu.Unlock()
}

// summaryReservoir is how many values a summary keeps for its quantiles:
// a uniform sample of all values, as Apache's ResettableUniformReservoir.
const summaryReservoir = 1024

// summary is one of Apache's summaries (AvgMinMaxPercentileCounter): the
// count, sum, min and max of its values, and a uniform sample of them for
// quantiles.
type summary struct {
	count, sum, min, max int64
	samples              []int64
}

func (m *summary) observe(v int64) {
	if m.count == 0 || v < m.min {
		m.min = v
	}
	if m.count == 0 || v > m.max {
		m.max = v
	}
	m.count++
	m.sum += v
	if len(m.samples) < summaryReservoir {
		m.samples = append(m.samples, v)
	} else if i := rand.Int64N(m.count); i < summaryReservoir {
		m.samples[i] = v
	}
}

// avg is the mean rounded half up to 4 decimals (0 with no values).
func (m *summary) avg() float64 {
	if m.count == 0 {
		return 0
	}
	return roundHalfUp4(float64(m.sum) / float64(m.count))
}

// quantile returns the q-quantile of the sample as Dropwizard's
// UniformSnapshot computes it (interpolating between neighbours); NaN
// with no values.
func (m *summary) quantile(q float64) float64 {
	n := len(m.samples)
	if n == 0 {
		return math.NaN()
	}
	sorted := slices.Clone(m.samples)
	slices.Sort(sorted)
	pos := q * float64(n+1)
	switch {
	case pos < 1:
		return float64(sorted[0])
	case pos >= float64(n):
		return float64(sorted[n-1])
	}
	lower, upper := float64(sorted[int(pos)-1]), float64(sorted[int(pos)])
	return lower + (pos-math.Floor(pos))*(upper-lower)
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
