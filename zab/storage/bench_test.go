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
