package server

import (
	"fmt"
	"testing"
	"time"

	"github.com/zkgo/zkgo/wire"
)

// BenchmarkWatchFanOut measures one write reaching 96 watches on 12
// connections (like zkbench's fan-out, over raw connections): each op is
// one round of re-arming every watch, the write, and every notification
// received. It reports notifications per second.
func BenchmarkWatchFanOut(b *testing.B) {
	const conns, watchersPerConn = 12, 8 // 96 watches, one per (conn, path) pair
	s := startServer(b, nil)
	w := newRaw(b, s)
	paths := make([]string, watchersPerConn)
	for i := range paths {
		paths[i] = fmt.Sprintf("/w%d", i)
		w.expect(wire.ErrOK, wire.OpCreate, create(paths[i], "x", 0), nil)
	}
	cs := make([]*rawClient, conns)
	for i := range cs {
		cs[i] = newRaw(b, s)
	}
	// A multi of setData on every path fires all the watches in one txn.
	ops := make([]wire.Op, len(paths))
	for i, p := range paths {
		ops[i] = wire.Op{Type: wire.OpSetData, Body: &wire.SetDataRequest{Path: p, Data: make([]byte, 100), Version: -1}}
	}
	multi := &wire.MultiRequest{Ops: ops}
	b.ResetTimer()
	start := time.Now()
	for n := 0; n < b.N; n++ {
		var pending []chan reply
		for _, c := range cs {
			for _, p := range paths {
				_, ch := c.send(wire.OpGetData, &wire.PathWatchRequest{Path: p, Watch: true})
				pending = append(pending, ch)
			}
		}
		for _, ch := range pending {
			<-ch
		}
		w.expect(wire.ErrOK, wire.OpMulti, multi, nil)
		for _, c := range cs {
			for range paths {
				if ev := c.event(); ev.Type != wire.EventNodeDataChanged {
					b.Fatalf("event %v", ev.Type)
				}
			}
		}
	}
	b.ReportMetric(float64(b.N*conns*watchersPerConn)/time.Since(start).Seconds(), "notif/s")
}
