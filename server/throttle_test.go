package server

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/zkgo/zkgo/conf"
	"github.com/zkgo/zkgo/wire"
)

// startSlowServer is startServer with every sync of the transaction log
// taking d, so that writes pile up in process.
func startSlowServer(t *testing.T, d time.Duration, edit func(*conf.Config)) *Server {
	t.Helper()
	s := New(testConfig(t, edit), zap.NewNop())
	s.SetSyncDelay(func() time.Duration { return d })
	return serveTest(t, s)
}

// burst has clients sessions pipeline n creates each, every create
// followed by an exists of its node (a read that waits behind the write),
// while the server's count of requests in process is sampled. It checks
// that every request is answered, OK and in order, and returns the largest
// count seen.
func burst(t *testing.T, s *Server, clients, n int) int64 {
	t.Helper()
	var (
		most atomic.Int64
		stop = make(chan struct{})
		done = make(chan struct{})
	)
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if v := s.adm.inProcess.Load(); v > most.Load() {
				most.Store(v)
			}
			time.Sleep(20 * time.Microsecond)
		}
	}()
	type pending struct {
		c     *rawClient
		xid   int32
		reply chan reply
	}
	var all [][]pending
	for i := range clients {
		c := newRaw(t, s)
		var ps []pending
		for j := range n {
			path := fmt.Sprintf("/burst-%d-%d", i, j)
			xid, ch := c.send(wire.OpCreate, create(path, "x", 0))
			ps = append(ps, pending{c, xid, ch})
			xid, ch = c.send(wire.OpExists, &wire.PathWatchRequest{Path: path})
			ps = append(ps, pending{c, xid, ch})
		}
		all = append(all, ps)
	}
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for _, ps := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			deadline := time.After(3 * waitLimit)
			for _, p := range ps {
				select {
				case r := <-p.reply:
					if r.hdr.Err != wire.ErrOK {
						errs <- fmt.Errorf("xid %d: %v", p.xid, r.hdr.Err)
						return
					}
				case <-p.c.closed:
					errs <- fmt.Errorf("xid %d: connection closed", p.xid)
					return
				case <-deadline:
					errs <- fmt.Errorf("xid %d: no reply", p.xid)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-done
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := s.outstanding(); got != 0 {
		t.Fatalf("%d requests still in process after every reply", got)
	}
	return most.Load()
}

// TestGlobalOutstandingLimit: with more requests in process than
// globalOutstandingLimit the server stops reading from connections with
// requests of their own in process, so the count stays within the limit
// plus one request per connection (the one each was reading), and every
// request is answered.
func TestGlobalOutstandingLimit(t *testing.T) {
	const limit, clients, n = 20, 8, 100
	s := startSlowServer(t, 2*time.Millisecond, func(c *conf.Config) { c.GlobalOutstandingLimit = limit })
	most := burst(t, s, clients, n)
	t.Logf("at most %d requests in process (globalOutstandingLimit %d, %d connections, %d requests)",
		most, limit, clients, 2*clients*n)
	if most > limit+clients {
		t.Fatalf("%d requests in process, over globalOutstandingLimit %d plus one per connection (%d)", most, limit, clients)
	}
}

// TestRequestThrottle: with request_throttle_max_requests set, no more
// requests than that are ever in process; the others wait (counted in
// request_throttle_wait_count and request_throttle_queue_time_ms) and are
// all answered.
func TestRequestThrottle(t *testing.T) {
	const maxRequests, clients, n = 10, 8, 100
	s := startSlowServer(t, 2*time.Millisecond, func(c *conf.Config) { c.RequestThrottleMaxRequests = maxRequests })
	most := burst(t, s, clients, n)
	t.Logf("at most %d requests in process (request_throttle_max_requests %d, %d requests)", most, maxRequests, 2*clients*n)
	if most > maxRequests {
		t.Fatalf("%d requests in process, over request_throttle_max_requests %d", most, maxRequests)
	}
	m := mntrValues(t, s)
	if waits, _ := strconv.Atoi(m["zk_request_throttle_wait_count"]); waits == 0 {
		t.Error("zk_request_throttle_wait_count is 0 after a burst over the throttle")
	}
	if cnt, _ := strconv.Atoi(m["zk_cnt_request_throttle_queue_time_ms"]); cnt != 2*clients*n {
		t.Errorf("zk_cnt_request_throttle_queue_time_ms %d, want one per request (%d)", cnt, 2*clients*n)
	}
	if m["zk_outstanding_requests"] != "0" || m["zk_stale_requests_dropped"] != "0" {
		t.Errorf("zk_outstanding_requests %s, zk_stale_requests_dropped %s after the burst, want 0",
			m["zk_outstanding_requests"], m["zk_stale_requests_dropped"])
	}
}

// TestRequestThrottleDropsStale: a request held by the throttle for longer
// than its session timeout (request_stale_latency_check) is dropped
// unanswered and its connection closed (request_throttle_drop_stale);
// the request in process is answered.
func TestRequestThrottleDropsStale(t *testing.T) {
	s := startSlowServer(t, 500*time.Millisecond, func(c *conf.Config) {
		c.RequestThrottleMaxRequests = 1
		c.RequestStaleLatencyCheck = true
	})
	a := newRaw(t, s)
	b, err := dialRaw(t, s.Addr().String(), wire.ConnectRequest{TimeOut: 200})
	if err != nil {
		t.Fatal(err)
	}
	_, first := a.send(wire.OpCreate, create("/first", "", 0))
	waitFor(t, "the first create in process", func() bool { return s.outstanding() == 1 })
	_, held := b.send(wire.OpCreate, create("/held", "", 0))
	b.waitClosed()
	select {
	case r := <-held:
		t.Fatalf("the stale request was answered: %+v", r.hdr)
	default:
	}
	select {
	case r := <-first:
		if r.hdr.Err != wire.ErrOK {
			t.Fatalf("first create: %v", r.hdr.Err)
		}
	case <-time.After(waitLimit):
		t.Fatal("the request in process was not answered")
	}
	a.expect(wire.ErrNoNode, wire.OpExists, &wire.PathWatchRequest{Path: "/held"}, nil)
	if got := mntrValues(t, s)["zk_stale_requests_dropped"]; got != "1" {
		t.Errorf("zk_stale_requests_dropped %s, want 1", got)
	}
}
