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

func TestShouldRelease(t *testing.T) {
	for _, tc := range []struct {
		live, free uint64
		quiet      bool
		want       bool
	}{
		{10 << 20, 40 << 20, false, false}, // busy, headroom 32 MB: up to 48 MB kept
		{10 << 20, 49 << 20, false, true},
		{800 << 20, 140 << 20, false, false}, // busy, headroom 100 MB: up to 150 MB kept
		{800 << 20, 151 << 20, false, true},
		{800 << 20, 3 << 20, true, false}, // quiet: all but crumbs returned
		{800 << 20, 5 << 20, true, true},
	} {
		if got := shouldRelease(tc.live, tc.free, tc.quiet); got != tc.want {
			t.Errorf("shouldRelease(%d MB live, %d MB free, quiet %v) = %v, want %v", tc.live>>20, tc.free>>20, tc.quiet, got, tc.want)
		}
	}
}
