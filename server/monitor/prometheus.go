package monitor

import (
	"math"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"

	"github.com/zkgo/zkgo/conf"
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

// Quantiles of Apache's Prometheus summaries: a BASIC summary has the
// median, an ADVANCED one (mntr's p50/p95/p99/p999 kind) three.
var (
	basicQuantiles    = []float64{0.5}
	advancedQuantiles = []float64{0.5, 0.9, 0.99}
)

// PrometheusEnabled reports whether metricsProvider.className asks for
// the Prometheus endpoint. A provider this server does not have is logged
// and exports nothing.
func PrometheusEnabled(cfg *conf.Config, log *zap.Logger) bool {
	switch name := cfg.MetricsProviderClassName; name {
	case PrometheusMetricsProvider:
		return true
	case "", defaultMetricsProvider, nullMetricsProvider:
	default:
		log.Warn("metrics provider is not supported; no metrics are exported (supported: "+PrometheusMetricsProvider+")",
			zap.String("metricsProvider.className", name))
	}
	return false
}

// MetricsHandler serves the server's metrics in the Prometheus formats:
// every metric of the table (Metrics), under Apache ZooKeeper's names and
// with the types its Prometheus provider gives them (gauges, counters,
// summaries), plus the Go runtime and process metrics unless
// metricsProvider.exportJvmInfo is false. Values are read from the server
// on each scrape.
func (m *Monitor) MetricsHandler() http.Handler {
	m.metricsOnce.Do(func() {
		reg := prometheus.NewRegistry()
		reg.MustRegister(newZKCollector(m))
		if m.exportRuntimeMetrics() {
			reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		}
		m.metricsHandler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{
			ErrorLog:      zap.NewStdLog(m.log),
			ErrorHandling: promhttp.ContinueOnError,
		})
	})
	return m.metricsHandler
}

// exportRuntimeMetrics is metricsProvider.exportJvmInfo (default true; as
// Java's Boolean.parseBoolean, only "true" in any case is true).
func (m *Monitor) exportRuntimeMetrics() bool {
	v, ok := m.cfg.MetricsProviderConfig["exportJvmInfo"]
	return !ok || strings.EqualFold(strings.TrimSpace(v), "true")
}

// zkCollector exports the metric table as Prometheus metrics, reading the
// values from the server on each scrape.
type zkCollector struct {
	m     *Monitor
	descs map[*Metric]*prometheus.Desc
}

func newZKCollector(m *Monitor) *zkCollector {
	c := &zkCollector{m: m, descs: make(map[*Metric]*prometheus.Desc, len(Metrics))}
	for _, metric := range Metrics {
		c.descs[metric] = prometheus.NewDesc(metric.Name, metric.Help, nil, nil)
	}
	return c
}

// Describe implements prometheus.Collector.
func (c *zkCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, metric := range Metrics {
		ch <- c.descs[metric]
	}
}

// Collect implements prometheus.Collector. Before Serve and after Close
// the server has no values and exports none. Counters and summaries the
// server feeds (Stats.Add, Stats.Observe) have their values; the others
// are 0, and summaries without observations have NaN quantiles, as
// Prometheus' Java client. An Ensemble gauge is exported only when the
// server has it.
func (c *zkCollector) Collect(ch chan<- prometheus.Metric) {
	if !c.m.srv.Running() {
		return
	}
	gauges := c.m.gauges()
	for _, metric := range Metrics {
		desc := c.descs[metric]
		switch metric.Kind {
		case Gauge:
			v, ok := gauges[metric]
			if !ok && metric.Ensemble {
				continue
			}
			ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, toFloat(v))
		case Counter:
			ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, float64(c.m.stats.counterValue(metric)))
		case Summary, PercentileSummary:
			quantiles := basicQuantiles
			if metric.Kind == PercentileSummary {
				quantiles = advancedQuantiles
			}
			v := c.m.stats.summaryOf(metric)
			q := make(map[float64]float64, len(quantiles))
			for _, p := range quantiles {
				q[p] = v.quantile(p)
			}
			ch <- prometheus.MustNewConstSummary(desc, uint64(v.count), float64(v.sum), q)
		}
	}
}

// summaryValues calls line with mntr's keys of the summary metric, as
// Apache's AvgMinMaxCounter (avg_, min_, max_, cnt_, sum_) and, for a
// PercentileSummary, AvgMinMaxPercentileCounter (p50_, p95_, p99_, p999_).
// A summary the server does not feed is all zeros.
func (m *Monitor) summaryValues(line func(key string, v any), metric *Metric) {
	name := metric.Name
	v := m.stats.summaryOf(metric)
	line("avg_"+name, v.avg())
	line("min_"+name, v.min)
	line("max_"+name, v.max)
	line("cnt_"+name, v.count)
	line("sum_"+name, v.sum)
	if metric.Kind != PercentileSummary {
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
