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
// a tree of hundreds of megabytes gets an eighth of its size as headroom.
// (The runtime returns idle memory above the heap goal to the OS, so the
// resident size follows the goal.) The price is GC work on large trees:
// with a quarter-gigabyte tree a cycle comes after 32 MB of allocation, not
// 256 MB. Setting GOGC or GOMEMLIMIT turns the policy off.
const (
	minHeadroom     = 32 << 20
	headroomDivisor = 8
	minGCPercent    = 10
)

// Metrics read after each GC: the heap marked live, and the free heap
// memory the runtime still holds (not yet returned to the OS).
const (
	liveHeapMetric = "/gc/heap/live:bytes"
	freeHeapMetric = "/memory/classes/heap/free:bytes"
)

// releaseInterval limits how often free heap memory is returned to the OS
// at once (a forced GC plus a scavenge of every free page).
const releaseInterval = 10 * time.Second

// gcPercentFor returns the GOGC value that gives a live heap of live bytes
// its headroom.
func gcPercentFor(live uint64) int {
	if live == 0 {
		return 100
	}
	headroom := max(uint64(minHeadroom), live/headroomDivisor)
	p := min(100, (headroom*100/live+4)/5*5) // steps of 5: fewer changes
	return int(max(minGCPercent, p))
}

// tuneGC applies the headroom policy after every GC cycle, unless GOGC or
// GOMEMLIMIT are set in the environment (the operator's choice wins).
func tuneGC() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	t := &gcTuner{percent: 100, sample: []metrics.Sample{{Name: liveHeapMetric}, {Name: freeHeapMetric}}}
	t.arm()
}

// gcTuner re-reads the live heap after each GC cycle: a finalizer on a
// fresh sentinel object runs once per cycle and re-arms itself.
type gcTuner struct {
	percent  int
	sample   []metrics.Sample
	released time.Time // last forced release
}

// sentinel is a heap object whose only purpose is to be collected.
type sentinel struct{ _ [16]byte }

func (t *gcTuner) arm() {
	runtime.SetFinalizer(&sentinel{}, func(*sentinel) {
		t.adjust()
		t.arm()
	})
}

// adjust sets GOGC for the live heap and, when the runtime holds much more
// free memory than the headroom (the heap shrank, or grew in a burst such
// as a snapshot's copies), returns it to the OS: the background scavenger
// would take minutes.
func (t *gcTuner) adjust() {
	metrics.Read(t.sample)
	if t.sample[0].Value.Kind() != metrics.KindUint64 || t.sample[1].Value.Kind() != metrics.KindUint64 {
		return
	}
	live, free := t.sample[0].Value.Uint64(), t.sample[1].Value.Uint64()
	if p := gcPercentFor(live); p != t.percent {
		t.percent = p
		debug.SetGCPercent(p)
	}
	if free > 2*max(uint64(minHeadroom), live/headroomDivisor) && time.Since(t.released) > releaseInterval {
		t.released = time.Now()
		go debug.FreeOSMemory()
	}
}
