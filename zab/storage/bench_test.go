package storage

import (
	"fmt"
	"sync"
	"testing"

	"github.com/cockroachdb/pebble/vfs"

	"github.com/zkgo/zkgo/zab"
)

// BenchmarkAppend appends 100-byte entries one per call, from one goroutine
// (every append waits for its own fsync) and from many (their fsyncs are
// shared: see the appends/fsync metric).
func BenchmarkAppend(b *testing.B) {
	data := make([]byte, 100)
	for _, forceSync := range []bool{true, false} {
		for _, mode := range []string{"sequential", "concurrent"} {
			b.Run(fmt.Sprintf("forceSync=%v/%s", forceSync, mode), func(b *testing.B) {
				fs := &faultFS{FS: vfs.Default}
				l := openTestLog(b, b.TempDir(), Options{ForceSync: forceSync, fs: fs})
				defer l.Close()
				syncs := fs.syncs.Load()
				b.SetBytes(int64(len(data)))
				b.ReportAllocs()
				b.ResetTimer()
				if mode == "sequential" {
					for z := int64(1); z <= int64(b.N); z++ {
						if err := l.Append([]zab.Entry{{Zxid: z, Data: data}}); err != nil {
							b.Fatal(err)
						}
					}
				} else {
					// Each goroutine takes the next zxid and queues its entry under
					// mu, as a caller must to keep zxid order, then waits for the
					// sync outside it.
					var mu sync.Mutex
					next := int64(1)
					b.SetParallelism(32)
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							mu.Lock()
							p, err := l.AppendAsync([]zab.Entry{{Zxid: next, Data: data}})
							next++
							mu.Unlock()
							if err == nil {
								err = p.Wait()
							}
							if err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				b.StopTimer()
				if n := fs.syncs.Load() - syncs; n > 0 {
					b.ReportMetric(float64(b.N)/float64(n), "appends/fsync")
				}
			})
		}
	}
}

// BenchmarkAppendPurged appends 1 KiB entries in groups of 16, as a busy
// leader does, and purges all but the newest 300,000 every 100,000 (a
// snapshot every snapCount txns, three kept). It reports what pebble
// wrote per entry appended, its write-ahead log included: about 2 entries'
// worth when flushed tables move down and purged ones are dropped, more
// when compactions rewrite them.
func BenchmarkAppendPurged(b *testing.B) {
	const group, keep, every = 16, 300_000, 100_000
	l := openTestLog(b, b.TempDir(), Options{})
	defer l.Close()
	data := make([]byte, 1024)
	es := make([]zab.Entry, group)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	next := int64(1)
	for i := 0; i < b.N; i += group {
		for j := range es {
			es[j] = zab.Entry{Zxid: next, Data: data}
			next++
		}
		if err := l.Append(es); err != nil {
			b.Fatal(err)
		}
		if next > keep && next%every < group {
			if err := l.PurgeBefore(next - keep); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	m := l.db.Metrics()
	written := m.WAL.BytesWritten
	for _, lv := range m.Levels {
		written += lv.BytesFlushed + lv.BytesCompacted
	}
	b.ReportMetric(float64(written)/float64(next-1)/float64(len(data)), "written/entry")
}
