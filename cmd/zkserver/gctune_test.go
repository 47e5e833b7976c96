package main

import "testing"

func TestGCPercentFor(t *testing.T) {
	for _, tc := range []struct {
		live uint64
		want int
	}{
		{0, 100},
		{10 << 20, 100}, // small heap: as GOGC=100
		{32 << 20, 100}, // headroom 32 MB
		{64 << 20, 50},  // still 32 MB
		{100 << 20, 35}, // 32%, rounded up to a step of 5
		{256 << 20, 15}, // an eighth from here on, rounded up
		{1 << 30, 15},
		{100 << 30, 15},
	} {
		if got := gcPercentFor(tc.live); got != tc.want {
			t.Errorf("gcPercentFor(%d MB) = %d, want %d", tc.live>>20, got, tc.want)
		}
	}
}
