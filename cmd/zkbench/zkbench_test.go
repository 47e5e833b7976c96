package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/zkgo/zkgo/test/harness"
)

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
	r := &Report{Impls: []*ImplReport{
		{Name: "ours", Results: []Result{{Workload: "getData", OpsPerSec: 300, P99ms: 1, ServerCPUPerOp: 10}}},
		{Name: "apache", Results: []Result{{Workload: "getData", OpsPerSec: 100, P99ms: 4, ServerCPUPerOp: 40}}},
	}}
	var b strings.Builder
	r.WriteTable(&b)
	for _, want := range []string{"3.00", "0.25", "10/40"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q (ratios 3.00 and 0.25, CPU per op 10/40):\n%s", want, b.String())
		}
	}
	var h strings.Builder
	r.writeHTML(&h)
	if strings.Count(h.String(), "<svg") != 2 {
		t.Errorf("HTML report should hold two SVG charts")
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
	cfg := config{conns: 3, outstanding: 4, duration: 300 * time.Millisecond, warmup: 300 * time.Millisecond,
		sizes: []int{100}, znodes: 2000, watchers: 5}
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	rep := runImpl(cfg, oursImpl(harness.BuildOurs(t)), t.TempDir(), newProgress(devNull, stepsPerImpl(cfg)))
	if rep.Error != "" {
		t.Fatal(rep.Error)
	}
	if len(rep.Results) != len(workloads)+1 { // plus the watch fan-out
		t.Errorf("%d results, want %d", len(rep.Results), len(workloads)+1)
	}
	var cpu float64
	for _, r := range rep.Results {
		if r.Ops == 0 || r.Errors != 0 {
			t.Errorf("%s: %d ops, %d errors (first: %s)", r.Workload, r.Ops, r.Errors, r.FirstError)
		}
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
	if f := rep.Failover; f == nil || f.Error != "" || f.FirstWriteMs <= 0 {
		t.Errorf("failover: %+v", f)
	}
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
