package monitor

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Stats are the server-wide counters srvr, stat and mntr report, and the
// counters and summaries of the metric table the server feeds.
type Stats struct {
	// Received and Sent count the packets of every client connection.
	Received, Sent atomic.Int64
	mu             sync.Mutex // guards the fields below
	latency        Latency
	summaries      map[*Metric]*summaryValues
	counters       map[*Metric]int64
	// lookingSince is when this server last started looking for a
	// leader (zero when it is not looking).
	lookingSince time.Time
}

// Add adds n to the counter m.
func (s *Stats) Add(m *Metric, n int64) {
	s.mu.Lock()
	s.count(m, n)
	s.mu.Unlock()
}

// count adds n to the counter m; s.mu is held.
func (s *Stats) count(m *Metric, n int64) {
	if s.counters == nil {
		s.counters = make(map[*Metric]int64)
	}
	s.counters[m] += n
}

// counterValue returns the counter m (0 if the server does not feed it).
func (s *Stats) counterValue(m *Metric) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counters[m]
}

// RecordLatency records the latency of an answered request; write is true
// for a request that went through the log.
func (s *Stats) RecordLatency(d time.Duration, write bool) {
	m := ReadLatency
	if write {
		m = UpdateLatency
	}
	s.mu.Lock()
	s.latency.Add(d)
	s.summary(m).observe(d.Milliseconds())
	s.mu.Unlock()
}

// Observe adds one value, in ms, to the summary m.
func (s *Stats) Observe(m *Metric, ms int64) {
	s.mu.Lock()
	s.summary(m).observe(ms)
	s.mu.Unlock()
}

// summary returns the summary m, creating it; s.mu is held.
func (s *Stats) summary(m *Metric) *summaryValues {
	v := s.summaries[m]
	if v == nil {
		if s.summaries == nil {
			s.summaries = make(map[*Metric]*summaryValues)
		}
		v = &summaryValues{}
		s.summaries[m] = v
	}
	return v
}

// summaryOf returns a copy of the summary m (empty if it has no values).
func (s *Stats) summaryOf(m *Metric) summaryValues {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.summaries[m]
	if v == nil {
		return summaryValues{}
	}
	c := *v
	c.samples = append([]int64(nil), v.samples...)
	return c
}

// NoteRole is told of every change of an ensemble server's role (wasLooking:
// it was looking before; looking: it is now). It counts elections
// (LookingCount) and times them, from looking until the server leads,
// follows or observes, into ElectionTime; started is when the server
// started, the start of its first election. It returns how long an
// election that just finished took.
func (s *Stats) NoteRole(wasLooking, looking bool, started time.Time) (took time.Duration, finished bool) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if looking {
		if !wasLooking || s.lookingSince.IsZero() {
			s.lookingSince = now
			s.count(LookingCount, 1)
		}
		return 0, false
	}
	if !wasLooking {
		return 0, false
	}
	since := s.lookingSince
	if since.IsZero() {
		// The first election, since the server started looking at start.
		since = started
		s.count(LookingCount, 1)
	}
	took = now.Sub(since)
	s.lookingSince = time.Time{}
	s.summary(ElectionTime).observe(took.Milliseconds())
	return took, true
}

// reset is srst: like Apache's ServerStats.reset it clears the latency and
// packet counters and every metric (ServerMetrics.resetAll).
func (s *Stats) reset() {
	s.Received.Store(0)
	s.Sent.Store(0)
	s.mu.Lock()
	s.latency = Latency{}
	s.summaries = nil
	s.counters = nil
	s.mu.Unlock()
}

// summaryReservoir is how many values a summary keeps for its quantiles:
// a uniform sample of all values, as Apache's ResettableUniformReservoir.
const summaryReservoir = 1024

// summaryValues are the values of one of Apache's summaries
// (AvgMinMaxPercentileCounter): the count, sum, min and max of its values,
// and a uniform sample of them for quantiles.
type summaryValues struct {
	count, sum, min, max int64
	samples              []int64
}

func (m *summaryValues) observe(v int64) {
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
func (m *summaryValues) avg() float64 {
	if m.count == 0 {
		return 0
	}
	return roundHalfUp4(float64(m.sum) / float64(m.count))
}

// quantile returns the q-quantile of the sample as Dropwizard's
// UniformSnapshot computes it (interpolating between neighbours); NaN
// with no values.
func (m *summaryValues) quantile(q float64) float64 {
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

// latencies returns the request latencies recorded since the last reset.
func (s *Stats) latencies() Latency {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.latency
}

// Latency keeps the count, sum, min and max of request latencies in ms,
// of the server or of one connection.
type Latency struct {
	Count, Total, Min, Max int64
}

// Add records one latency.
func (l *Latency) Add(d time.Duration) {
	ms := d.Milliseconds()
	if l.Count == 0 || ms < l.Min {
		l.Min = ms
	}
	if ms > l.Max {
		l.Max = ms
	}
	l.Total += ms
	l.Count++
}

// avg returns the mean latency in ms (0 with no samples), as a float the
// way Apache ZooKeeper prints it.
func (l Latency) avg() float64 {
	if l.Count == 0 {
		return 0
	}
	return float64(l.Total) / float64(l.Count)
}
