package znode

import (
	"testing"

	"github.com/zkgo/zkgo/wire"
)

// countingWatcher counts its events without keeping them.
type countingWatcher struct {
	id int64
	n  int
}

func (w *countingWatcher) Notify(wire.WatcherEvent) { w.n++ }
func (w *countingWatcher) SessionID() int64         { return w.id }

// BenchmarkWatchFanOut measures the tree's side of a watch fan-out: 100
// watchers re-arm a getData watch on one node, one setData fires them all.
// Each op is one round (100 registrations, one Apply, 100 deliveries).
func BenchmarkWatchFanOut(b *testing.B) {
	const watchers = 100
	tree := NewTree(Options{})
	tree.Apply(&Txn{Zxid: 1, Type: wire.OpCreate, Body: createReq("/w", "x", 0)})
	ws := make([]*countingWatcher, watchers)
	for i := range ws {
		ws[i] = &countingWatcher{id: int64(i + 1)}
	}
	req := &wire.PathWatchRequest{Path: "/w", Watch: true}
	set := &wire.SetDataRequest{Path: "/w", Data: make([]byte, 100), Version: -1}
	zxid := tree.LastZxid()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, w := range ws {
			tree.Read(wire.OpGetData, req, Caller{Watcher: w})
		}
		zxid++
		tree.Apply(&Txn{Zxid: zxid, Type: wire.OpSetData, Body: set})
	}
	b.StopTimer()
	for _, w := range ws {
		if w.n != b.N {
			b.Fatalf("watcher %d got %d events, want %d", w.id, w.n, b.N)
		}
	}
}

// BenchmarkTriggerRecursive measures an event under 10 persistent
// recursive watchers of an ancestor (each event walks the parents).
func BenchmarkTriggerRecursive(b *testing.B) {
	tree := NewTree(Options{})
	tree.Apply(&Txn{Zxid: 1, Type: wire.OpCreate, Body: createReq("/a", "", 0)})
	tree.Apply(&Txn{Zxid: 2, Type: wire.OpCreate, Body: createReq("/a/b", "", 0)})
	tree.Apply(&Txn{Zxid: 3, Type: wire.OpCreate, Body: createReq("/a/b/c", "", 0)})
	ws := make([]*countingWatcher, 10)
	for i := range ws {
		ws[i] = &countingWatcher{id: int64(i + 1)}
		tree.Read(wire.OpAddWatch, &wire.PathTypeRequest{Path: "/a", Type: 1}, Caller{Watcher: ws[i]})
	}
	set := &wire.SetDataRequest{Path: "/a/b/c", Data: make([]byte, 100), Version: -1}
	zxid := tree.LastZxid()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		zxid++
		tree.Apply(&Txn{Zxid: zxid, Type: wire.OpSetData, Body: set})
	}
	b.StopTimer()
	if ws[0].n != b.N {
		b.Fatalf("recursive watcher got %d events, want %d", ws[0].n, b.N)
	}
}
