package main

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zkgo/zkgo/test/harness"
)

// TestMain runs the test binary as a null server when zkbench's launcher
// starts it as one (TestShortRunNull), as zkbench's main does.
func TestMain(m *testing.M) {
	if cfg := os.Getenv(nullServerEnv); cfg != "" {
		if err := runNullServer(cfg); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	os.Exit(m.Run())
}

func TestPercentile(t *testing.T) {
	var lat []time.Duration
	for i := 1; i <= 1000; i++ {
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	for _, tc := range []struct {
		q    float64
		want float64
	}{{0.5, 501}, {0.99, 991}, {0.999, 1000}} {
		if got := percentile(lat, tc.q); got != tc.want {
			t.Errorf("percentile(%v) = %v, want %v", tc.q, got, tc.want)
		}
	}
	if got := percentile(nil, 0.5); got != 0 {
		t.Errorf("percentile(nil) = %v, want 0", got)
	}
}

func TestZooCfgShape(t *testing.T) {
	cfg := zooCfg("/d", 2181, []string{"server.1=127.0.0.1:1:2"})
	for _, want := range []string{"dataDir=/d\n", "clientPort=2181\n", "clientPortAddress=127.0.0.1\n", "initLimit=10\n", "server.1=127.0.0.1:1:2\n"} {
		if !strings.Contains(cfg, want) {
			t.Errorf("zoo.cfg lacks %q:\n%s", want, cfg)
		}
	}
}

func TestTableRatios(t *testing.T) {
	r := &Report{Pinning: "servers on CPU 0, load generator on CPU 1", Impls: []*ImplReport{
		{Name: "ours", Results: []Result{{Workload: "getData", Client: clientJute, OpsPerSec: 300, P99ms: 1, ServerCPUPerOp: 10}}},
		{Name: "apache", Results: []Result{{Workload: "getData", Client: clientJute, OpsPerSec: 100, P99ms: 4, ServerCPUPerOp: 40}}},
		{Name: "null", Results: []Result{{Workload: "getData", Client: clientJute, OpsPerSec: 1200}}},
	}}
	var b strings.Builder
	r.WriteTable(&b)
	for _, want := range []string{"3.00", "0.25", "10/40", "getData: ours at 0.25 of the null server's rate", "servers on CPU 0, load generator on CPU 1"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q (ratios 3.00 and 0.25, CPU per op 10/40, ours/null 0.25, the pinning):\n%s", want, b.String())
		}
	}
	var h strings.Builder
	r.writeHTML(&h)
	if strings.Count(h.String(), "<svg") != 2 {
		t.Errorf("HTML report should hold two SVG charts")
	}

	// Scaling and idle memory add three line charts and a bar chart.
	for i, x := range r.Impls {
		for _, c := range []int{1, 10} {
			for _, w := range scaleWorkloads {
				x.Scaling = append(x.Scaling, ScalePoint{Conns: c, Result: Result{Workload: w, OpsPerSec: float64(100 * c * (i + 1))}, RSS: 10 << 20})
			}
		}
		x.Idle = &IdleMemory{Conns: 100, RSSBefore: []int64{1 << 20}, RSSAfter: []int64{2 << 20}, BytesPerConn: float64(1<<20) / 100}
	}
	h.Reset()
	r.writeHTML(&h)
	if n := strings.Count(h.String(), "<svg"); n != 6 {
		t.Errorf("HTML report holds %d SVG charts, want 6 (2 bar, 3 scaling, 1 memory)", n)
	}
	if n := strings.Count(h.String(), "<polyline"); n != 3*(2+2+1) {
		t.Errorf("%d lines in the scaling charts, want 15 (3 implementations: 2 workloads, 2 workloads, 1 RSS)", n)
	}
}

func TestParseCPUTime(t *testing.T) {
	// A command name with spaces and a parenthesis; utime 250, stime 130.
	stat := "4242 (zk server) x) S 1 4242 4242 0 -1 4194304 900 0 0 0 250 130 0 0 20 0 12 0 100 0 0"
	got, err := parseCPUTime(stat)
	if err != nil || got != 3800*time.Millisecond {
		t.Errorf("parseCPUTime = %v, %v; want 3.8s", got, err)
	}
	for _, bad := range []string{"", "4242 (zk) S 1 2", "4242 (zk) S 1 4242 4242 0 -1 4194304 900 0 0 0 2x5 130 0"} {
		if _, err := parseCPUTime(bad); err == nil {
			t.Errorf("parseCPUTime(%q) did not fail", bad)
		}
	}
}

// TestShortRunOurs is the short version of make bench that CI runs: every
// measurement of zkbench, with tiny durations and a small fill, against a
// 3-server ensemble of ours. It checks that each one produces a result, not
// how fast anything is.
func TestShortRunOurs(t *testing.T) {
	cfg := shortConfig(t)
	im := oursImpl(harness.BuildOurs(t), cfg.pin.servers)
	rep := runImpl(cfg, im, t.TempDir(), quietProgress(t, cfg, im))
	if rep.Error != "" {
		t.Fatal(rep.Error)
	}
	checkShortRun(t, cfg, rep, 2*len(workloads)+1) // both clients, plus the watch fan-out
	if got := len(resultsOf(rep, clientGozk)); got != len(workloads)+1 {
		t.Errorf("%d go-zookeeper results, want %d", got, len(workloads)+1)
	}
	if rep.Deleted == 0 {
		t.Error("no created znode was deleted between workloads")
	}
	var cpu float64
	for _, r := range rep.Results {
		cpu += r.ServerCPUPerOp * float64(r.Ops)
	}
	// /proc counts in 10 ms ticks: one workload may show none, all of
	// them together not.
	if cpu <= 0 {
		t.Errorf("no server CPU time measured over %d workloads", len(rep.Results))
	}
	// A 2,000-znode fill is small against the heap's own swings (RSS
	// once fell during it): check that every reading was made, not the
	// sign of the difference.
	if m := rep.Memory; m == nil || m.Error != "" || !allPositive(m.RSSBefore, m.RSSAfter, m.RSSSettled) {
		t.Errorf("memory: %+v", m)
	}
	if r := rep.Restart; r == nil || r.Error != "" || r.Seconds <= 0 {
		t.Errorf("restart: %+v", r)
	}
	if f := rep.Failover; f == nil || f.Error != "" || f.FirstWriteMs <= 0 || f.OneAddrClients != failoverOneAddr {
		t.Errorf("failover: %+v", f)
	} else if f.OneAddrDisconnected != 0 {
		// Our followers hold their clients while they find the next
		// leader (leaderLossHoldMs).
		t.Errorf("failover: %d of %d clients given one follower's address were disconnected", f.OneAddrDisconnected, f.OneAddrClients)
	}
}

// TestShortRunNull runs the null server as zkbench does (this test
// binary in null server mode, see TestMain): the workloads it answers,
// with the jute client, the scaling and the idle sessions.
func TestShortRunNull(t *testing.T) {
	cfg := shortConfig(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	im := nullImpl(exe, cfg.pin.servers)
	rep := runImpl(cfg, im, t.TempDir(), quietProgress(t, cfg, im))
	if rep.Error != "" {
		t.Fatal(rep.Error)
	}
	nullWorkloads := 0
	for _, w := range workloads {
		if w.null {
			nullWorkloads++
		}
	}
	checkShortRun(t, cfg, rep, nullWorkloads)
	if rep.Memory != nil || rep.Restart != nil || rep.Failover != nil {
		t.Errorf("the null server has no tree to fill, restart or fail over: %+v %+v %+v", rep.Memory, rep.Restart, rep.Failover)
	}
}

// shortConfig is the configuration of the short runs: tiny durations, a
// small fill, a few connections, both clients, memory readings settled
// after 2 steady reads, pinned as zkbench pins by default (the test
// process itself is left alone).
func shortConfig(t *testing.T) config {
	pin, err := defaultPinning()
	if err != nil {
		t.Fatal(err)
	}
	return config{conns: 3, outstanding: 4, duration: 300 * time.Millisecond, warmup: 300 * time.Millisecond,
		sizes: []int{100}, znodes: 2000, watchers: 5, clients: []string{clientJute, clientGozk}, pin: pin,
		scale: []int{1, 20}, scaleDur: 200 * time.Millisecond, idle: 200, stableReads: 2,
		rates: []fixedRate{{"getData", 300}, {"setData", 100}}}
}

// quietProgress is a progress bar that draws nothing.
func quietProgress(t *testing.T, cfg config, im impl) *progress {
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { devNull.Close() })
	return newProgress(devNull, stepsPerImpl(cfg, im))
}

// checkShortRun checks what a short run of either implementation must
// have: results workloads with ops and no errors, jute's among them; every
// server on the server CPUs; the scaling points and the idle sessions.
func checkShortRun(t *testing.T, cfg config, rep *ImplReport, results int) {
	t.Helper()
	if len(rep.Results) != results {
		t.Errorf("%d results, want %d", len(rep.Results), results)
	}
	clients := map[string]int{}
	for _, r := range rep.Results {
		clients[r.Client]++
		if r.Ops == 0 || r.Errors != 0 {
			t.Errorf("%s (%s): %d ops, %d errors (first: %s)", r.Workload, r.Client, r.Ops, r.Errors, r.FirstError)
		}
	}
	if clients[clientJute] == 0 {
		t.Errorf("results by client: %v; want jute's", clients)
	}
	if cfg.pin.pinned() {
		set := cfg.pin.servers.String()
		if want := []string{set, set, set}; !slices.Equal(rep.ServerAffinity, want) {
			t.Errorf("servers' threads on CPU %v, want %v", rep.ServerAffinity, want)
		}
	}
	if len(rep.Scaling) != len(cfg.scale)*len(scaleWorkloads) {
		t.Errorf("%d scaling points, want %d", len(rep.Scaling), len(cfg.scale)*len(scaleWorkloads))
	}
	for _, p := range rep.Scaling {
		if p.Ops == 0 || p.Errors != 0 || p.RSS <= 0 {
			t.Errorf("scaling %s on %d connections: %d ops, %d errors (first: %s), RSS %d", p.Workload, p.Conns, p.Ops, p.Errors, p.FirstError, p.RSS)
		}
	}
	if rep.Name != "null" {
		if len(rep.FixedRate) != len(cfg.rates) {
			t.Errorf("%d fixed-rate results, want %d", len(rep.FixedRate), len(cfg.rates))
		}
		for _, r := range rep.FixedRate {
			if r.Ops == 0 || r.Errors != 0 || r.P99ms <= 0 {
				t.Errorf("%s: %d ops, %d errors (first: %s), p99 %.2f ms", r.Workload, r.Ops, r.Errors, r.FirstError, r.P99ms)
			}
		}
	}
	if m := rep.Idle; m == nil || m.Error != "" || m.Conns != cfg.idle || !allPositive(m.RSSBefore, m.RSSAfter) {
		t.Errorf("idle sessions: %+v", m)
	}
}

// resultsOf returns the results of rep with client.
func resultsOf(rep *ImplReport, client string) []Result {
	var rs []Result
	for _, r := range rep.Results {
		if r.Client == client {
			rs = append(rs, r)
		}
	}
	return rs
}

// TestFailoverWaitsOutTheOutage: writes in flight at the kill succeed just
// after it; the outage that follows must neither end the measurement (as
// "writes have succeeded for settle since the kill") nor be left out of it.
func TestFailoverWaitsOutTheOutage(t *testing.T) {
	kill := time.Unix(1000, 0)
	at := func(ms int) time.Time { return kill.Add(time.Duration(ms) * time.Millisecond) }
	var w writeTimes
	for ms := -500; ms <= 0; ms++ {
		w.add(at(ms))
	}
	w.add(at(1)) // in flight at the kill
	settle := 2 * time.Second
	if w.steady(kill, at(2050), settle) {
		t.Fatal("steady at +2.05 s, in the middle of an outage")
	}
	for ms := 2100; ms <= 4000; ms += 5 {
		w.add(at(ms))
		if w.steady(kill, at(ms), settle) {
			t.Fatalf("steady at +%d ms, less than settle after the outage ended", ms)
		}
	}
	for ms := 4005; ms <= 4200; ms += 5 {
		w.add(at(ms))
	}
	if !w.steady(kill, at(4200), settle) {
		t.Error("not steady 2.1 s after writes resumed")
	}
	longest, first, ok := w.outage(kill)
	if !ok || longest != 2099*time.Millisecond || first != time.Millisecond {
		t.Errorf("outage = %v, first write %v, %v; want 2.099s, 1ms", longest, first, ok)
	}

	// A failover with no pause over steadyGap is steady settle after the kill.
	var quick writeTimes
	for ms := -100; ms <= 2200; ms += 10 {
		quick.add(at(ms))
	}
	if quick.steady(kill, at(1900), settle) || !quick.steady(kill, at(2100), settle) {
		t.Error("a failover without an outage should be steady just after settle, not before")
	}
}

// allPositive reports whether every reading holds one positive value per
// server of a 3-server ensemble.
func allPositive(readings ...[]int64) bool {
	for _, r := range readings {
		if len(r) != 3 {
			return false
		}
		for _, v := range r {
			if v <= 0 {
				return false
			}
		}
	}
	return true
}
