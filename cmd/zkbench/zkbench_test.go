package main

import (
	"strings"
	"testing"
	"time"
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
		{Name: "ours", Results: []Result{{Workload: "getData", OpsPerSec: 300, P99ms: 1}}},
		{Name: "apache", Results: []Result{{Workload: "getData", OpsPerSec: 100, P99ms: 4}}},
	}}
	var b strings.Builder
	r.WriteTable(&b)
	if !strings.Contains(b.String(), "3.00") || !strings.Contains(b.String(), "0.25") {
		t.Errorf("table lacks the ratios 3.00 and 0.25:\n%s", b.String())
	}
	var h strings.Builder
	r.writeHTML(&h)
	if strings.Count(h.String(), "<svg") != 2 {
		t.Errorf("HTML report should hold two SVG charts")
	}
}
