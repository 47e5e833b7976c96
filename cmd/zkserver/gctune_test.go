package main

import "testing"

func TestGCPercentFor(t *testing.T) {
	for _, tc := range []struct {
		live uint64
		want int
	}{
		{0, 100},
		{10 << 20, 100}, // small heap: as GOGC=100
		{64 << 20, 100}, // headroom 64 MB
		{128 << 20, 50}, // still 64 MB
		{200 << 20, 35}, // 32%, rounded up to a step of 5
		{256 << 20, 25}, // a quarter from here on
		{1 << 30, 25},
		{100 << 30, 25},
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
		{10 << 20, 90 << 20, false, false}, // busy, headroom 64 MB: up to 96 MB kept
		{10 << 20, 97 << 20, false, true},
		{800 << 20, 290 << 20, false, false}, // busy, headroom 200 MB: up to 300 MB kept
		{800 << 20, 301 << 20, false, true},
		{800 << 20, 3 << 20, true, false}, // quiet: all but crumbs returned
		{800 << 20, 5 << 20, true, true},
	} {
		if got := shouldRelease(tc.live, tc.free, tc.quiet); got != tc.want {
			t.Errorf("shouldRelease(%d MB live, %d MB free, quiet %v) = %v, want %v", tc.live>>20, tc.free>>20, tc.quiet, got, tc.want)
		}
	}
}
