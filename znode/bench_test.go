package znode

import (
	"bytes"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/zkgo/zkgo/wire"
)

func BenchmarkApplyCreate(b *testing.B) {
	tree := NewTree(Options{})
	tree.Apply(&Txn{Zxid: 1, Type: wire.OpCreate, Body: createReq("/bench", "", 0)})
	paths := make([]string, b.N)
	for i := range paths {
		paths[i] = fmt.Sprintf("/bench/n%d", i)
	}
	data := make([]byte, 100)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tree.Apply(&Txn{Zxid: int64(i + 2), Time: int64(i), Type: wire.OpCreate,
			Body: &wire.CreateRequest{Path: paths[i], Data: data, ACL: OpenACL}})
	}
}

func BenchmarkApplySetData(b *testing.B) {
	tree := NewTree(Options{})
	tree.Apply(&Txn{Zxid: 1, Type: wire.OpCreate, Body: createReq("/bench", "", 0)})
	const n = 1000
	paths := make([]string, n)
	for i := range paths {
		paths[i] = fmt.Sprintf("/bench/n%d", i)
		tree.Apply(&Txn{Zxid: int64(i + 2), Type: wire.OpCreate, Body: createReq(paths[i], "", 0)})
	}
	w := &recorder{}
	// One-shot watches on some nodes, re-armed as they fire, like clients do.
	data := make([]byte, 100)
	zxid := tree.LastZxid()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := paths[i%n]
		if i%10 == 0 {
			tree.Read(wire.OpGetData, &wire.PathWatchRequest{Path: p, Watch: true}, Caller{Watcher: w})
		}
		zxid++
		tree.Apply(&Txn{Zxid: zxid, Time: int64(i), Type: wire.OpSetData,
			Body: &wire.SetDataRequest{Path: p, Data: data, Version: -1}})
		if len(w.events) > 1024 {
			w.events = w.events[:0]
		}
	}
}

func BenchmarkReadGetData(b *testing.B) {
	tree := NewTree(Options{})
	tree.Apply(&Txn{Zxid: 1, Type: wire.OpCreate, Body: createReq("/bench", "", 0)})
	tree.Apply(&Txn{Zxid: 2, Type: wire.OpCreate, Body: createReq("/bench/app", "", 0)})
	const n = 1000
	reqs := make([]*wire.PathWatchRequest, n)
	for i := range reqs {
		p := fmt.Sprintf("/bench/app/n%d", i)
		tree.Apply(&Txn{Zxid: int64(i + 3), Type: wire.OpCreate, Body: createReq(p, "some data", 0)})
		reqs[i] = &wire.PathWatchRequest{Path: p}
	}
	c := Caller{Auth: []wire.Id{{Scheme: "ip", ID: "127.0.0.1"}}}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := tree.Read(wire.OpGetData, reqs[i%n], c); err != wire.ErrOK {
				b.Fatal(err)
			}
			i++
		}
	})
}

// TestConcurrentReadsAndApply is for the race detector.
func TestConcurrentReadsAndApply(t *testing.T) {
	tree := NewTree(Options{})
	tree.Apply(&Txn{Zxid: 1, Type: wire.OpCreate, Body: createReq("/c", "", 0)})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func(r int) {
			defer wg.Done()
			w := &lockedRecorder{}
			for i := 0; ; i++ {
				select {
				case <-stop:
					tree.RemoveWatcher(w)
					return
				default:
				}
				p := fmt.Sprintf("/c/n%d", i%50)
				tree.Read(wire.OpGetData, &wire.PathWatchRequest{Path: p, Watch: true}, Caller{Watcher: w})
				tree.Read(wire.OpExists, &wire.PathWatchRequest{Path: p, Watch: true}, Caller{Watcher: w})
				tree.Read(wire.OpGetChildren2, &wire.PathWatchRequest{Path: "/c", Watch: true}, Caller{Watcher: w})
				if i%100 == 0 {
					tree.Read(wire.OpAddWatch, &wire.PathTypeRequest{Path: "/c", Type: 1}, Caller{Watcher: w})
					tree.Stats()
					tree.WatchesBySession()
					tree.WatchesByPath()
					tree.WriteSnapshot(discard{})
				}
				if i%500 == 0 {
					tree.RemoveWatcher(w)
				}
			}
		}(r)
	}
	for i := 0; i < 3000; i++ {
		p := fmt.Sprintf("/c/n%d", i%50)
		z := int64(i + 2)
		switch i % 3 {
		case 0:
			tree.Apply(&Txn{Zxid: z, Type: wire.OpCreate, Body: createReq(p, "x", 0)})
		case 1:
			tree.Apply(&Txn{Zxid: z, Type: wire.OpSetData, Body: &wire.SetDataRequest{Path: p, Version: -1}})
		case 2:
			tree.Apply(&Txn{Zxid: z, Type: wire.OpDelete, Body: &wire.PathVersionRequest{Path: p, Version: -1}})
		}
	}
	close(stop)
	wg.Wait()
	if st := tree.Stats(); st.AllWatches != 0 {
		t.Fatalf("watches left: %+v", st)
	}
}

type lockedRecorder struct {
	mu sync.Mutex
	n  int
}

func (r *lockedRecorder) Notify(wire.WatcherEvent) { r.mu.Lock(); r.n++; r.mu.Unlock() }
func (r *lockedRecorder) SessionID() int64         { return 1 }

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkTreeMemory reports the live heap per znode after creating 1M
// znodes of 100 bytes named as zkbench's fill names them (what zkbench's
// resident memory per znode measures, less the GC headroom). Run it with
// -benchtime 1x.
func BenchmarkTreeMemory(b *testing.B) {
	for range b.N {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		tree := millionUnderOne()
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/1e6, "B/znode")
		runtime.KeepAlive(tree)
	}
}

// millionTree builds 1M znodes of 100 bytes under 1000 parents.
func millionTree() *Tree {
	const nodes = 1_000_000
	tree := NewTree(Options{})
	data := make([]byte, 100)
	zxid := int64(0)
	for p := range 1000 {
		zxid++
		tree.Apply(&Txn{Zxid: zxid, Type: wire.OpCreate, Body: createReq(fmt.Sprintf("/p%03d", p), "", 0)})
	}
	for i := range nodes {
		zxid++
		tree.Apply(&Txn{Zxid: zxid, Time: 1_700_000_000_000 + int64(i), Type: wire.OpCreate,
			Body: &wire.CreateRequest{Path: fmt.Sprintf("/p%03d/n%d", i%1000, i), Data: data, ACL: OpenACL}})
	}
	return tree
}

// BenchmarkReadSnapshot reads back a snapshot of 1M znodes of 100 bytes
// under 1000 parents (the tree part of a restart).
func BenchmarkReadSnapshot(b *testing.B) {
	var snap bytes.Buffer
	if err := millionTree().WriteSnapshot(&snap); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := DecodeSnapshot(snap.Bytes(), Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteSnapshot writes a snapshot of 1M znodes of 100 bytes as a
// server does every snapCount txns (Snapshot, not the sorted
// WriteSnapshot), under 1000 parents and under one (as zkbench's fill and
// create workload make them).
func BenchmarkWriteSnapshot(b *testing.B) {
	for _, bc := range []struct {
		name string
		tree func() *Tree
	}{{"1000parents", millionTree}, {"1parent", millionUnderOne}} {
		b.Run(bc.name, func(b *testing.B) {
			tree := bc.tree()
			b.ResetTimer()
			for range b.N {
				_, write := tree.Snapshot()
				if err := write(discard{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// millionUnderOne builds 1M znodes of 100 bytes under one parent.
func millionUnderOne() *Tree {
	tree := NewTree(Options{})
	data := make([]byte, 100)
	tree.Apply(&Txn{Zxid: 1, Type: wire.OpCreate, Body: createReq("/fill", "", 0)})
	for i := range 1_000_000 {
		tree.Apply(&Txn{Zxid: int64(i + 2), Time: 1_700_000_000_000 + int64(i), Type: wire.OpCreate,
			Body: &wire.CreateRequest{Path: fmt.Sprintf("/fill/f%d", i), Data: data, ACL: OpenACL}})
	}
	return tree
}
