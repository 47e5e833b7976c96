package main

import (
	"os"
	"os/exec"
	"slices"
	"testing"
)

func TestCPUList(t *testing.T) {
	for _, tc := range []struct {
		in, out string
		set     cpuSet
	}{
		{"0", "0", cpuSet{0}},
		{"1", "1", cpuSet{1}},
		{"0-3,6", "0-3,6", cpuSet{0, 1, 2, 3, 6}},
		{"5,1,2,2", "1-2,5", cpuSet{1, 2, 5}},
	} {
		s, err := parseCPUList(tc.in)
		if err != nil || !slices.Equal(s, tc.set) || s.String() != tc.out {
			t.Errorf("parseCPUList(%q) = %v (%q), %v; want %v (%q)", tc.in, s, s.String(), err, tc.set, tc.out)
		}
	}
	for _, bad := range []string{"", "a", "3-1", "-1", "1,", "2000"} {
		if s, err := parseCPUList(bad); err == nil {
			t.Errorf("parseCPUList(%q) = %v, want an error", bad, s)
		}
	}
	if err := checkPinning(pinning{servers: cpuSet{0, 1}, load: cpuSet{1}}); err == nil {
		t.Error("overlapping sets accepted")
	}
}

// TestStartPinned: a child started pinned has every thread on the set
// from its start, and the starting goroutine's thread gets its own set
// back.
func TestStartPinned(t *testing.T) {
	own, err := threadAffinity(0)
	if err != nil {
		t.Fatal(err)
	}
	set := own[len(own)-1:] // one CPU this test may use
	cmd := exec.Command("sleep", "60")
	if err := startPinned(cmd, set); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	got, err := processAffinity(cmd.Process.Pid)
	if err != nil || !slices.Equal(got, set) {
		t.Errorf("child on CPU %v, %v; want %v", got, err, set)
	}
	// Every thread of this process is still on all of its CPUs.
	tids, err := threads(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for _, tid := range tids {
		if s, err := threadAffinity(tid); err == nil && !slices.Equal(s, own) {
			t.Errorf("thread %d of the test process on CPU %v after the start; want %v", tid, s, own)
		}
	}
}
