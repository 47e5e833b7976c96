package monitor

import (
	"math"
	"testing"
)

func TestSummaryQuantiles(t *testing.T) {
	var m summaryValues
	if !math.IsNaN(m.quantile(0.5)) || m.avg() != 0 {
		t.Error("empty summary has values")
	}
	for v := int64(1); v <= 100; v++ {
		m.observe(v)
	}
	if m.count != 100 || m.sum != 5050 || m.min != 1 || m.max != 100 || m.avg() != 50.5 {
		t.Errorf("summary %+v", m)
	}
	// Dropwizard's UniformSnapshot: position q*(n+1), interpolated.
	for q, want := range map[float64]float64{0.5: 50.5, 0.99: 99.99, 0.001: 1, 0.9999: 100} {
		if got := m.quantile(q); math.Abs(got-want) > 1e-9 {
			t.Errorf("quantile(%v) = %v, want %v", q, got, want)
		}
	}
	for range 10 * summaryReservoir {
		m.observe(7)
	}
	if len(m.samples) != summaryReservoir || m.quantile(0.5) != 7 {
		t.Errorf("reservoir %d samples, median %v", len(m.samples), m.quantile(0.5))
	}
}
