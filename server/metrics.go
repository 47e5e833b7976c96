package server

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"

	"github.com/zkgo/zkgo/zab"
)

// PrometheusMetricsProvider is the metricsProvider.className that turns on
// the Prometheus endpoint, as with Apache ZooKeeper's provider of that
// name: GET /metrics on metricsProvider.httpHost:metricsProvider.httpPort
// (default 0.0.0.0:7000).
const PrometheusMetricsProvider = "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider"

// Apache ZooKeeper's providers that export nothing over HTTP.
const (
	defaultMetricsProvider = "org.apache.zookeeper.metrics.impl.DefaultMetricsProvider"
	nullMetricsProvider    = "org.apache.zookeeper.metrics.impl.NullMetricsProvider"
)

// quorumGauges are the gauges Apache ZooKeeper registers only in a quorum
// (quorum_size) or on a leader or follower. They are exported when
// monitorGauges has them; a standalone server has none, like Apache's.
var quorumGauges = []string{
	"quorum_size", "learners", "synced_followers", "synced_non_voting_followers",
	"synced_observers", "pending_syncs", "leader_uptime",
	"last_proposal_size", "max_proposal_size", "min_proposal_size",
}

// Quantiles of Apache's Prometheus summaries: a BASIC summary has the
// median, an ADVANCED one (mntr's p50/p95/p99/p999 kind) three.
var (
	basicQuantiles    = []float64{0.5}
	advancedQuantiles = []float64{0.5, 0.9, 0.99}
)

// listenMetrics binds the Prometheus endpoint when metricsProvider.className
// asks for it; ok is false when no endpoint is configured.
func (s *Server) listenMetrics() (ep httpEndpoint, ok bool, err error) {
	switch name := s.cfg.MetricsProviderClassName; name {
	case PrometheusMetricsProvider:
	case "", defaultMetricsProvider, nullMetricsProvider:
		return httpEndpoint{}, false, nil
	default:
		s.log.Warn("metrics provider is not supported; no metrics are exported (supported: "+PrometheusMetricsProvider+")",
			zap.String("metricsProvider.className", name))
		return httpEndpoint{}, false, nil
	}
	addr := net.JoinHostPort(s.cfg.MetricsHTTPHost, strconv.Itoa(s.cfg.MetricsHTTPPort))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return httpEndpoint{}, false, fmt.Errorf("server: cannot start the Prometheus metrics endpoint on %s (metricsProvider.httpHost, metricsProvider.httpPort): %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", s.MetricsHandler())
	return httpEndpoint{name: "Prometheus metrics endpoint", ln: ln, handler: mux}, true, nil
}

// MetricsHandler serves the server's metrics in the Prometheus formats:
// every metric mntr reports, under Apache ZooKeeper's names and with the
// types its Prometheus provider gives them (gauges, counters, summaries),
// plus the Go runtime and process metrics unless
// metricsProvider.exportJvmInfo is false. Values are read from the server
// on each scrape. Start serves it at /metrics when metricsProvider.className
// is PrometheusMetricsProvider; an embedder that uses Serve may mount it
// itself.
func (s *Server) MetricsHandler() http.Handler {
	s.web.metricsOnce.Do(func() {
		reg := prometheus.NewRegistry()
		reg.MustRegister(newZKCollector(s))
		if s.exportRuntimeMetrics() {
			reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		}
		s.web.metricsHandler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{
			ErrorLog:      zap.NewStdLog(s.log),
			ErrorHandling: promhttp.ContinueOnError,
		})
	})
	return s.web.metricsHandler
}

// exportRuntimeMetrics is metricsProvider.exportJvmInfo (default true; as
// Java's Boolean.parseBoolean, only "true" in any case is true).
func (s *Server) exportRuntimeMetrics() bool {
	v, ok := s.cfg.MetricsProviderConfig["exportJvmInfo"]
	return !ok || strings.EqualFold(strings.TrimSpace(v), "true")
}

// zkCollector exports the mntr values as Prometheus metrics, reading them
// from the server on each scrape.
type zkCollector struct {
	s         *Server
	gauges    []zkMetric
	counters  []zkMetric
	summaries []zkMetric
}

type zkMetric struct {
	name      string
	desc      *prometheus.Desc
	quantiles []float64 // summaries
	optional  bool      // gauges: exported only when the server has a value
}

func newZKCollector(s *Server) *zkCollector {
	c := &zkCollector{s: s}
	// Apache's provider names each metric after its mntr key and uses the
	// name as its help text too.
	metric := func(name string) zkMetric {
		return zkMetric{name: name, desc: prometheus.NewDesc(name, name, nil, nil)}
	}
	for _, group := range mntrMetrics {
		for _, name := range group.names {
			m := metric(name)
			switch group.kind {
			case mntrGauge:
				c.gauges = append(c.gauges, m)
			case mntrCounter:
				c.counters = append(c.counters, m)
			case mntrSummary:
				m.quantiles = basicQuantiles
				c.summaries = append(c.summaries, m)
			case mntrPercentiles:
				m.quantiles = advancedQuantiles
				c.summaries = append(c.summaries, m)
			}
		}
	}
	for _, name := range quorumGauges {
		m := metric(name)
		m.optional = true
		c.gauges = append(c.gauges, m)
	}
	return c
}

// Describe implements prometheus.Collector.
func (c *zkCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, group := range [][]zkMetric{c.gauges, c.counters, c.summaries} {
		for _, m := range group {
			ch <- m.desc
		}
	}
}

// Collect implements prometheus.Collector. Before Serve and after Close
// the server has no values and exports none. Counters and summaries this
// server feeds (stats.add, stats.observe) have their values; the others
// are 0, and summaries without observations (NaN quantiles, as
// Prometheus' Java client).
func (c *zkCollector) Collect(ch chan<- prometheus.Metric) {
	if !c.s.running.Load() {
		return
	}
	values := c.s.monitorGauges()
	for _, m := range c.gauges {
		v, ok := values[m.name]
		if !ok && m.optional {
			continue
		}
		ch <- prometheus.MustNewConstMetric(m.desc, prometheus.GaugeValue, toFloat(v))
	}
	for _, m := range c.counters {
		ch <- prometheus.MustNewConstMetric(m.desc, prometheus.CounterValue, float64(c.s.stats.counterValue(m.name)))
	}
	for _, m := range c.summaries {
		v := c.s.stats.summaryValues(m.name)
		q := make(map[float64]float64, len(m.quantiles))
		for _, p := range m.quantiles {
			q[p] = v.quantile(p)
		}
		ch <- prometheus.MustNewConstSummary(m.desc, uint64(v.count), float64(v.sum), q)
	}
}

// monitorSummary calls line with mntr's keys of the summary name, as
// Apache's AvgMinMaxCounter (avg_, min_, max_, cnt_, sum_) and, with
// percentiles, AvgMinMaxPercentileCounter (p50_, p95_, p99_, p999_). A
// summary this server does not feed is all zeros.
func (s *Server) monitorSummary(line func(key string, v any), name string, percentiles bool) {
	v := s.stats.summaryValues(name)
	line("avg_"+name, v.avg())
	line("min_"+name, v.min)
	line("max_"+name, v.max)
	line("cnt_"+name, v.count)
	line("sum_"+name, v.sum)
	if !percentiles {
		return
	}
	for _, p := range []struct {
		key string
		q   float64
	}{{"p50_", 0.5}, {"p95_", 0.95}, {"p99_", 0.99}, {"p999_", 0.999}} {
		x := v.quantile(p.q)
		if math.IsNaN(x) {
			x = 0
		}
		line(p.key+name, int64(math.Round(x)))
	}
}

// noteElection is told of every role change of the quorum driver (old is
// the previous role): it counts elections (looking_count), times them,
// from LOOKING until this server leads, follows or observes, feeds
// election_time and logs the result.
func (s *Server) noteElection(old zab.Role, st zab.Status) {
	now := time.Now()
	s.stats.mu.Lock()
	if st.Role == zab.Looking {
		if old != zab.Looking || s.stats.lookingSince.IsZero() {
			s.stats.lookingSince = now
			s.stats.count("looking_count", 1)
		}
		s.stats.mu.Unlock()
		return
	}
	since := s.stats.lookingSince
	if old != zab.Looking {
		s.stats.mu.Unlock()
		return
	}
	if since.IsZero() {
		// The first election, since the server started looking at start.
		since = s.started
		s.stats.count("looking_count", 1)
	}
	took := now.Sub(since)
	s.stats.lookingSince = time.Time{}
	s.stats.summary("election_time").observe(took.Milliseconds())
	s.stats.mu.Unlock()
	s.log.Info("leader election finished", zap.String("mode", modeName(st.Role)),
		zap.Int64("myid", s.cfg.MyID), zap.Int64("leader", st.Leader), zap.Duration("took", took))
}

// toFloat converts a monitor value to a sample value; a missing one is 0,
// as mntr prints it.
func toFloat(v any) float64 {
	switch v := v.(type) {
	case int:
		return float64(v)
	case int32:
		return float64(v)
	case int64:
		return float64(v)
	case uint64:
		return float64(v)
	case float64:
		return v
	case bool:
		if v {
			return 1
		}
	}
	return 0
}
