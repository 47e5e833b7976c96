package server

import (
	"flag"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/zkgo/zkgo/conf"
	"github.com/zkgo/zkgo/wire"
)

// benchValueSize is the data size of writeLoad's znodes.
var benchValueSize = flag.Int("bench.value", 100, "data size in bytes of the znodes BenchmarkDurableCreate creates")

// writeLoad runs clients x outstanding pipelined creates of -bench.value
// byte nodes until total are done, and returns the sorted latencies.
func writeLoad(b *testing.B, s *Server, prefix string, clients, outstanding, total int) []time.Duration {
	b.Helper()
	data := string(make([]byte, *benchValueSize))
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	per := total / clients
	for i := 0; i < clients; i++ {
		c := newRaw(b, s)
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			type inflight struct {
				start time.Time
				ch    chan reply
			}
			window := make(chan inflight, outstanding)
			done := make(chan struct{})
			go func() {
				defer close(done)
				for f := range window {
					r := <-f.ch
					if r.hdr.Err != wire.ErrOK {
						b.Errorf("create: %v", r.hdr.Err)
					}
					d := time.Since(f.start)
					mu.Lock()
					lat = append(lat, d)
					mu.Unlock()
				}
			}()
			for n := 0; n < per; n++ {
				start := time.Now()
				_, ch := c.send(wire.OpCreate, create(fmt.Sprintf("%s-%d-%d", prefix, i, n), data, 0))
				window <- inflight{start, ch}
			}
			close(window)
			<-done
		}(i)
	}
	wg.Wait()
	slices.Sort(lat)
	return lat
}

func percentile(lat []time.Duration, p float64) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	return lat[int(float64(len(lat)-1)*p)]
}

// BenchmarkDurableCreate measures durable (fsynced) create throughput, 12
// connections x 16 outstanding, with group commit and without it (one sync
// per write).
func BenchmarkDurableCreate(b *testing.B) {
	for _, batch := range []int{defaultMaxBatch, 1} {
		b.Run(fmt.Sprintf("maxBatch=%d", batch), func(b *testing.B) {
			s := startServer(b, nil)
			s.maxBatch = batch
			b.ResetTimer()
			start := time.Now()
			lat := writeLoad(b, s, "/n", 12, 16, max(b.N, 12))
			b.ReportMetric(float64(len(lat))/time.Since(start).Seconds(), "creates/s")
			b.ReportMetric(float64(percentile(lat, 0.99).Microseconds()), "p99-µs")
		})
	}
}

// fill applies n creates of 100-byte nodes straight to the tree (and the
// log), spread over 1000 parents.
func fill(b *testing.B, s *Server, n int) {
	b.Helper()
	c := newRaw(b, s)
	for p := 0; p < 1000; p++ {
		c.expect(wire.ErrOK, wire.OpCreate, create(fmt.Sprintf("/p%03d", p), "", 0), nil)
	}
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			c := newRaw(b, s)
			for i := w; i < n; i += 4 * 256 {
				var chans []chan reply
				for j := i; j < n && j < i+4*256; j += 4 {
					_, ch := c.send(wire.OpCreate, create(fmt.Sprintf("/p%03d/n%d", j%1000, j), string(make([]byte, 100)), 0))
					chans = append(chans, ch)
				}
				for _, ch := range chans {
					<-ch
				}
			}
		}(w)
	}
	wg.Wait()
}

// BenchmarkMillionZnodes fills 1M znodes of 100 bytes, then reports the
// snapshot write time, the restart time (snapshot load plus log replay)
// and the write p99 with and without a snapshot being written. Run it
// with -benchtime=1x.
func BenchmarkMillionZnodes(b *testing.B) {
	const nodes = 1_000_000
	cfg := conf.Default()
	cfg.DataDir = b.TempDir()
	cfg.DataLogDir = cfg.DataDir
	cfg.SnapCount = 1 << 30
	cfg.MaxSessionTimeout = 60000
	for i := 0; i < b.N; i++ {
		s := startServerWith(b, cfg)
		fill(b, s, nodes)

		quiet := writeLoad(b, s, "/quiet", 12, 16, 50_000)

		// Writes while a snapshot of the 1M-znode tree is written.
		zxid, write := s.tree.Snapshot()
		snapDone := make(chan time.Duration)
		go func() {
			t0 := time.Now()
			s.writeSnapshot(zxid, write)
			snapDone <- time.Since(t0)
		}()
		during := writeLoad(b, s, "/during", 12, 16, 50_000)
		snapTime := <-snapDone

		s.Close()
		t0 := time.Now()
		s = startServerWith(b, cfg)
		restart := time.Since(t0)
		if got := s.tree.Stats().NodeCount; got < nodes {
			b.Fatalf("%d nodes after restart", got)
		}
		s.Close()

		b.ReportMetric(snapTime.Seconds(), "snapshot-s")
		b.ReportMetric(restart.Seconds(), "restart-s")
		b.ReportMetric(float64(percentile(quiet, 0.99).Microseconds()), "p99-quiet-µs")
		b.ReportMetric(float64(percentile(during, 0.99).Microseconds()), "p99-snapshot-µs")
	}
}
