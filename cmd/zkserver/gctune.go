package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// GC headroom policy. Go's default (GOGC=100) lets the heap grow to twice
// the live heap before collecting. For a server whose live heap is the data
// tree that doubles the resident memory per znode once the tree is large.
// Instead the headroom is max(minHeadroom, live/headroomDivisor): small
// heaps collect as with GOGC=100 (no throughput cost under request load),
// a tree of hundreds of megabytes gets a quarter of its size as headroom.
// (The runtime returns idle memory above the heap goal to the OS, so the
// resident size follows the goal, and a quiet server returns all its free
// memory: see releaseInterval.) The price is GC work on large trees: with a
// half-gigabyte tree a cycle comes after 128 MB of allocation, not 512 MB.
// (A 32 MB floor and an eighth cost 6% more server CPU per write under
// zkbench's setData load with a 300,000-znode tree.) Setting GOGC or
// GOMEMLIMIT turns the policy off.
const (
	minHeadroom     = 64 << 20
	headroomDivisor = 4
	minGCPercent    = 10
)

// Runtime metrics the tuner reads: the heap marked live by the last GC, the
// free heap memory the runtime still holds (not yet returned to the OS),
// and the bytes allocated so far.
const (
	liveHeapMetric = "/gc/heap/live:bytes"
	freeHeapMetric = "/memory/classes/heap/free:bytes"
	allocsMetric   = "/gc/heap/allocs:bytes"
)

// releaseInterval is how often the free heap memory is checked and, when
// worth it, returned to the OS at once (a forced GC plus a scavenge of
// every free page). The check runs on a timer rather than after a GC
// because the typical case is a burst of writes (a fill, a snapshot's
// copies) followed by quiet: no GC comes, and the background scavenger
// would take minutes to return the memory.
const releaseInterval = 2 * time.Second

// A server is quiet when it allocated less than quietAllocs bytes since the
// last check; a quiet server returns its free heap memory once there is at
// least minRelease of it, a busy one only what is well above its headroom.
const (
	quietAllocs = 1 << 20
	minRelease  = 4 << 20
)

// headroomFor is the heap growth allowed above a live heap of live bytes.
func headroomFor(live uint64) uint64 {
	return max(uint64(minHeadroom), live/headroomDivisor)
}

// gcPercentFor returns the GOGC value that gives a live heap of live bytes
// its headroom.
func gcPercentFor(live uint64) int {
	if live == 0 {
		return 100
	}
	p := min(100, (headroomFor(live)*100/live+4)/5*5) // steps of 5: fewer changes
	return int(max(minGCPercent, p))
}

// shouldRelease reports whether free heap memory is worth returning to the
// OS: on a quiet server any sizeable amount, on a busy one what is more
// than half the headroom beyond it (the headroom is about to be reused by
// the next allocations).
func shouldRelease(live, free uint64, quiet bool) bool {
	if quiet {
		return free >= minRelease
	}
	h := headroomFor(live)
	return free > h+h/2
}

// tuneGC applies the headroom policy after every GC cycle and returns
// surplus free memory to the OS, unless GOGC or GOMEMLIMIT are set in the
// environment (the operator's choice wins).
func tuneGC() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	t := &gcTuner{percent: 100}
	t.arm()
	go func() {
		var lastAllocs uint64
		for range time.Tick(releaseInterval) {
			live, free, allocs := heapSizes()
			quiet := allocs-lastAllocs < quietAllocs
			lastAllocs = allocs
			if shouldRelease(live, free, quiet) {
				debug.FreeOSMemory()
				_, _, lastAllocs = heapSizes()
			}
		}
	}()
}

// heapSizes returns the live heap as of the last GC, the free heap memory
// not yet returned to the OS, and the bytes allocated since the start.
func heapSizes() (live, free, allocs uint64) {
	s := []metrics.Sample{{Name: liveHeapMetric}, {Name: freeHeapMetric}, {Name: allocsMetric}}
	metrics.Read(s)
	for _, x := range s {
		if x.Value.Kind() != metrics.KindUint64 {
			return 0, 0, 0
		}
	}
	return s[0].Value.Uint64(), s[1].Value.Uint64(), s[2].Value.Uint64()
}

// gcTuner re-reads the live heap after each GC cycle: a finalizer on a
// fresh sentinel object runs once per cycle and re-arms itself.
type gcTuner struct {
	percent int
}

// sentinel is a heap object whose only purpose is to be collected.
type sentinel struct{ _ [16]byte }

func (t *gcTuner) arm() {
	runtime.SetFinalizer(&sentinel{}, func(*sentinel) {
		t.adjust()
		t.arm()
	})
}

// adjust sets GOGC for the live heap.
func (t *gcTuner) adjust() {
	live, _, _ := heapSizes()
	if p := gcPercentFor(live); live > 0 && p != t.percent {
		t.percent = p
		debug.SetGCPercent(p)
	}
}
