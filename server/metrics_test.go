package server

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/zkgo/zkgo/conf"
	"github.com/zkgo/zkgo/server/monitor"
	"github.com/zkgo/zkgo/wire"
	"github.com/zkgo/zkgo/zab"
)

// scrape fetches the server's metrics and parses them with Prometheus'
// text parser.
func scrape(t *testing.T, s *Server) map[string]*dto.MetricFamily {
	t.Helper()
	hs := httptest.NewServer(s.MetricsHandler())
	defer hs.Close()
	resp, err := http.Get(hs.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: status %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Fatalf("scrape: Content-Type %q", ct)
	}
	var p expfmt.TextParser
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	return fams
}

// value returns the one sample of a gauge or counter family.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, typ dto.MetricType) float64 {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		t.Fatalf("no metric family %s", name)
	}
	if f.GetType() != typ || len(f.Metric) != 1 {
		t.Fatalf("%s: type %v with %d samples, want one %v", name, f.GetType(), len(f.Metric), typ)
	}
	if f.GetHelp() != name {
		t.Errorf("%s: help %q; Apache's provider uses the name", name, f.GetHelp())
	}
	m := f.Metric[0]
	if typ == dto.MetricType_COUNTER {
		return m.GetCounter().GetValue()
	}
	return m.GetGauge().GetValue()
}

// fedSummaries are the summaries this server feeds; every other summary
// stays empty.
var fedSummaries = []*monitor.Metric{monitor.ReadLatency, monitor.UpdateLatency, monitor.FsyncTime,
	monitor.SnapshotTime, monitor.DBInitTime, monitor.ElectionTime, monitor.QuorumAckLatency,
	monitor.RequestThrottleQueueTimeMs}

func TestPrometheusMetrics(t *testing.T) {
	s := startServer(t, func(c *conf.Config) { c.MetricsProviderClassName = monitor.PrometheusMetricsProvider })
	c := activity(t, s)
	c.expect(wire.ErrOK, wire.OpSetData, &wire.SetDataRequest{Path: "/a", Data: []byte("bye"), Version: -1}, nil)
	fams := scrape(t, s)

	gauge := func(name string) float64 { return value(t, fams, name, dto.MetricType_GAUGE) }
	st := s.tree.Stats()
	for name, want := range map[string]float64{
		"znode_count":           float64(st.NodeCount),
		"ephemerals_count":      1,
		"watch_count":           2, // the child watch on / and the data watch on /a/e; setData fired /a's
		"approximate_data_size": float64(st.ApproxDataSize),
		"num_alive_connections": 1,
		"outstanding_requests":  0,
		"global_sessions":       1,
	} {
		if got := gauge(name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if st.NodeCount < 7 || st.ApproxDataSize <= 0 {
		t.Errorf("tree stats %+v", st)
	}
	if got := gauge("packets_received"); got < 12 {
		t.Errorf("packets_received = %v, want at least 12", got)
	}
	if got := gauge("packets_sent"); got < 12 {
		t.Errorf("packets_sent = %v, want at least 12", got)
	}
	minLat, avgLat, maxLat := gauge("min_latency"), gauge("avg_latency"), gauge("max_latency")
	if minLat < 0 || avgLat < minLat || maxLat < avgLat {
		t.Errorf("latency min/avg/max %v/%v/%v", minLat, avgLat, maxLat)
	}
	if got := gauge("uptime"); got <= 0 {
		t.Errorf("uptime = %v", got)
	}
	if got := gauge("open_file_descriptor_count"); got <= 0 || got > gauge("max_file_descriptor_count") {
		t.Errorf("open_file_descriptor_count = %v", got)
	}
	for _, name := range []string{"commit_count", "proposal_count", "snap_count", "diff_count", "looking_count"} {
		if got := value(t, fams, name, dto.MetricType_COUNTER); got != 0 {
			t.Errorf("%s = %v", name, got)
		}
	}

	// Every mntr metric is a family of Apache's type; summaries carry
	// Apache's quantiles.
	for _, m := range monitor.Metrics {
		name := m.Name
		if m.Ensemble {
			// A standalone server has no quorum, like Apache's.
			if _, ok := fams[name]; ok {
				t.Errorf("standalone server exports %s", name)
			}
			continue
		}
		f, ok := fams[name]
		if !ok {
			t.Errorf("no family %s", name)
			continue
		}
		var want dto.MetricType
		var quantiles []float64
		switch m.Kind {
		case monitor.Gauge:
			want = dto.MetricType_GAUGE
		case monitor.Counter:
			want = dto.MetricType_COUNTER
		case monitor.Summary:
			want, quantiles = dto.MetricType_SUMMARY, []float64{0.5}
		case monitor.PercentileSummary:
			want, quantiles = dto.MetricType_SUMMARY, []float64{0.5, 0.9, 0.99}
		}
		if f.GetType() != want || len(f.Metric) != 1 {
			t.Errorf("%s: %v with %d samples, want %v", name, f.GetType(), len(f.Metric), want)
			continue
		}
		if want != dto.MetricType_SUMMARY || slices.Contains(fedSummaries, m) {
			continue // fed summaries: see TestSummariesFed
		}
		sum := f.Metric[0].GetSummary()
		var got []float64
		for _, q := range sum.Quantile {
			got = append(got, q.GetQuantile())
			if !math.IsNaN(q.GetValue()) {
				t.Errorf("%s: quantile %v = %v without observations", name, q.GetQuantile(), q.GetValue())
			}
		}
		if len(got) != len(quantiles) || sum.GetSampleCount() != 0 || sum.GetSampleSum() != 0 {
			t.Errorf("%s: quantiles %v count %d sum %v", name, got, sum.GetSampleCount(), sum.GetSampleSum())
		}
	}
	for _, name := range []string{"fsynctime", "snapshottime", "election_time", "quorum_ack_latency", "updatelatency", "readlatency"} {
		if fams[name].GetType() != dto.MetricType_SUMMARY {
			t.Errorf("%s is not a summary", name)
		}
	}
	// Go runtime and process metrics, in place of Apache's JVM ones.
	for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "go_gc_duration_seconds", "process_open_fds", "process_resident_memory_bytes"} {
		if _, ok := fams[name]; !ok {
			t.Errorf("no runtime metric %s", name)
		}
	}

	// Values are read on each scrape.
	c.expect(wire.ErrOK, wire.OpCreate, create("/b", "", wire.FlagEphemeral), nil)
	fams = scrape(t, s)
	if got := value(t, fams, "ephemerals_count", dto.MetricType_GAUGE); got != 2 {
		t.Errorf("ephemerals_count after a create = %v, want 2", got)
	}
}

func TestPrometheusWithoutRuntimeMetrics(t *testing.T) {
	s := startServer(t, func(c *conf.Config) {
		c.MetricsProviderClassName = monitor.PrometheusMetricsProvider
		c.MetricsProviderConfig["exportJvmInfo"] = "false"
	})
	fams := scrape(t, s)
	if _, ok := fams["znode_count"]; !ok {
		t.Error("no znode_count")
	}
	for name := range fams {
		if strings.HasPrefix(name, "go_") || strings.HasPrefix(name, "process_") {
			t.Errorf("exportJvmInfo=false but %s is exported", name)
		}
	}
}

// summaryOf returns the one sample of a summary family.
func summaryOf(t *testing.T, fams map[string]*dto.MetricFamily, name string) *dto.Summary {
	t.Helper()
	f, ok := fams[name]
	if !ok || f.GetType() != dto.MetricType_SUMMARY || len(f.Metric) != 1 {
		t.Fatalf("%s: no summary family", name)
	}
	return f.Metric[0].GetSummary()
}

// mntrValues runs mntr and returns its values by key.
func mntrValues(t *testing.T, s *Server) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(fourLetter(t, s.Addr().String(), "mntr")), "\n") {
		k, v, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("mntr line %q", line)
		}
		out[k] = v
	}
	return out
}

// TestSummariesFed checks the summaries this server feeds, after writes,
// reads and a snapshot, in a Prometheus scrape and in mntr (Apache's
// format: a double average, integer min, max, count, sum and percentiles),
// and that srst resets them.
func TestSummariesFed(t *testing.T) {
	s := startServer(t, func(c *conf.Config) {
		c.MetricsProviderClassName = monitor.PrometheusMetricsProvider
		c.SnapCount = 2
	})
	c := newRaw(t, s)
	const writes, reads = 20, 30
	for i := range writes {
		c.expect(wire.ErrOK, wire.OpCreate, create("/n"+strconv.Itoa(i), "x", 0), nil)
	}
	for range reads {
		c.expect(wire.ErrOK, wire.OpGetData, &wire.PathWatchRequest{Path: "/n1"}, nil)
	}
	// Snapshots are written in the background: wait for one.
	deadline := time.Now().Add(waitLimit)
	for mntrValues(t, s)["zk_cnt_snapshottime"] == "0" {
		if time.Now().After(deadline) {
			t.Fatal("no snapshot taken after 20 writes with snapCount=2")
		}
		time.Sleep(10 * time.Millisecond)
	}

	fams := scrape(t, s)
	for name, least := range map[string]uint64{
		"updatelatency": writes, "readlatency": reads, "fsynctime": 1, "snapshottime": 1, "dbinittime": 1,
	} {
		sum := summaryOf(t, fams, name)
		if sum.GetSampleCount() < least {
			t.Errorf("%s: count %d, want at least %d", name, sum.GetSampleCount(), least)
		}
		for _, q := range sum.Quantile {
			if math.IsNaN(q.GetValue()) || q.GetValue() < 0 {
				t.Errorf("%s: quantile %v = %v", name, q.GetQuantile(), q.GetValue())
			}
		}
	}
	if got := summaryOf(t, fams, "election_time").GetSampleCount(); got != 0 {
		t.Errorf("standalone election_time count %d", got)
	}

	m := mntrValues(t, s)
	for _, name := range []string{"updatelatency", "readlatency", "fsynctime", "snapshottime"} {
		cnt, err := strconv.ParseInt(m["zk_cnt_"+name], 10, 64)
		if err != nil || cnt <= 0 {
			t.Errorf("zk_cnt_%s = %q", name, m["zk_cnt_"+name])
		}
		if _, err := strconv.ParseFloat(m["zk_avg_"+name], 64); err != nil || !strings.Contains(m["zk_avg_"+name], ".") {
			t.Errorf("zk_avg_%s = %q, want a double", name, m["zk_avg_"+name])
		}
		for _, k := range []string{"min_", "max_", "sum_"} {
			if _, err := strconv.ParseInt(m["zk_"+k+name], 10, 64); err != nil {
				t.Errorf("zk_%s%s = %q", k, name, m["zk_"+k+name])
			}
		}
	}
	for _, k := range []string{"zk_p50_updatelatency", "zk_p95_updatelatency", "zk_p99_updatelatency", "zk_p999_readlatency"} {
		if _, err := strconv.ParseInt(m[k], 10, 64); err != nil {
			t.Errorf("%s = %q", k, m[k])
		}
	}
	if _, ok := m["zk_p50_fsynctime"]; ok {
		t.Error("fsynctime is a basic summary in Apache: no percentiles")
	}

	fourLetter(t, s.Addr().String(), "srst")
	if got := mntrValues(t, s)["zk_cnt_updatelatency"]; got != "0" {
		t.Errorf("zk_cnt_updatelatency after srst = %q", got)
	}
}

func TestElectionTime(t *testing.T) {
	s := startServer(t, nil)
	s.noteElection(zab.Looking, zab.Status{Role: zab.Following, Leader: 2, Epoch: 1})
	s.noteElection(zab.Following, zab.Status{Role: zab.Following, Leader: 2, Epoch: 1, Serving: true})
	s.noteElection(zab.Following, zab.Status{Role: zab.Looking})
	s.noteElection(zab.Looking, zab.Status{Role: zab.Leading, Leader: 1, Epoch: 2})
	m := mntrValues(t, s)
	if got := m["zk_cnt_election_time"]; got != "2" {
		t.Errorf("mntr zk_cnt_election_time = %q, want 2 (two elections)", got)
	}
	if got := m["zk_looking_count"]; got != "2" {
		t.Errorf("mntr zk_looking_count = %q, want 2", got)
	}
}

// TestSlowFsyncWarning checks that a sync of the transaction log slower
// than fsync.warningthresholdms is logged with its duration and counted in
// fsynctime.
func TestSlowFsyncWarning(t *testing.T) {
	core, logs := observer.New(zap.WarnLevel)
	cfg := conf.Default()
	cfg.DataDir = t.TempDir()
	cfg.DataLogDir = cfg.DataDir
	cfg.FsyncWarningThresholdMs = 1
	cfg.FourLetterWords = []string{"mntr"}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := New(cfg, zap.New(core))
	s.SetSyncDelay(func() time.Duration { return 5 * time.Millisecond })
	if err := s.Serve(ln); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	c := newRaw(t, s)
	c.expect(wire.ErrOK, wire.OpCreate, create("/slow", "x", 0), nil)
	warned := logs.FilterMessageSnippet("fsync.warningthresholdms").All()
	if len(warned) == 0 {
		t.Fatal("no slow-fsync warning with a 5ms sync and a 1ms threshold")
	}
	fields := warned[0].ContextMap()
	if took, ok := fields["took"].(time.Duration); !ok || took < 5*time.Millisecond {
		t.Errorf("warning fields %v", fields)
	}
	m := mntrValues(t, s)
	if n, _ := strconv.Atoi(m["zk_cnt_fsynctime"]); n == 0 {
		t.Errorf("zk_cnt_fsynctime %s, want syncs counted", m["zk_cnt_fsynctime"])
	}
	if most, _ := strconv.Atoi(m["zk_max_fsynctime"]); most < 5 {
		t.Errorf("zk_max_fsynctime %s, want a sync of at least 5ms", m["zk_max_fsynctime"])
	}
}

// TestLeaderCountsProposalsAndCommits: a leader feeds proposal_count,
// commit_count and quorum_ack_latency as Apache's Leader does; a follower
// proposes nothing.
func TestLeaderCountsProposalsAndCommits(t *testing.T) {
	servers := startInProcessEnsemble(t, 3, nil)
	leader := leaderOf(t, servers)
	var follower *Server
	for _, s := range servers {
		if s != leader {
			follower = s
		}
	}
	c := newRaw(t, follower)
	for i := range 5 {
		c.expect(wire.ErrOK, wire.OpCreate, create(fmt.Sprintf("/counted%d", i), "x", wire.FlagPersistent), nil)
	}
	m := mntrValues(t, leader)
	for _, key := range []string{"zk_proposal_count", "zk_commit_count", "zk_cnt_quorum_ack_latency"} {
		if n, err := strconv.Atoi(m[key]); err != nil || n < 5 {
			t.Errorf("leader's %s = %q after 5 writes, want at least 5", key, m[key])
		}
	}
	if got := mntrValues(t, follower)["zk_proposal_count"]; got != "0" {
		t.Errorf("follower's zk_proposal_count = %q, want 0", got)
	}
}
