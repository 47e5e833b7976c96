package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkgo/zkgo/wire"
)

// sessionTimeout is the session timeout of every benchmark client.
const sessionTimeout = 10 * time.Second

// Benchmark znode layout.
const (
	rootPath  = "/bench"
	kvPath    = rootPath + "/kv"    // keys read and written by the workloads
	kidsPath  = rootPath + "/kids"  // parent listed by getChildren
	newPath   = rootPath + "/new"   // parent of created znodes
	fillPath  = rootPath + "/fill"  // parent of the memory fill
	watchPath = rootPath + "/watch" // the znode watched by the fan-out
	numKeys   = 1000                // znodes under kvPath
	numKids   = 100                 // znodes under kidsPath
)

var openACL = zk.WorldACL(zk.PermAll)

// quietLogger drops go-zookeeper's log lines.
type quietLogger struct{}

func (quietLogger) Printf(string, ...any) {}

// dial opens a session to servers and waits until it is established.
func dial(servers []string) (*zk.Conn, error) {
	return dialWatched(servers, func(zk.Event) {})
}

// dialWatched is dial with onEvent called for every event of the
// connection (go-zookeeper's WithEventCallback).
func dialWatched(servers []string, onEvent func(zk.Event)) (*zk.Conn, error) {
	c, events, err := zk.Connect(servers, sessionTimeout, zk.WithLogger(quietLogger{}), zk.WithDialer(dialFast),
		zk.WithEventCallback(onEvent))
	if err != nil {
		return nil, err
	}
	timeout := time.After(30 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.State == zk.StateHasSession {
				// events is left undrained from here: go-zookeeper drops
				// what a full channel does not take, and it also sends
				// every watch notification there, so a goroutine draining
				// it would be woken once per notification in the fan-out.
				return c, nil
			}
		case <-timeout:
			c.Close()
			return nil, fmt.Errorf("no session with %v after 30s", servers)
		}
	}
}

// dialAll opens n sessions, the i-th to server i mod len(addrs) only, so
// that the load is spread evenly over the ensemble.
func dialAll(addrs []string, n int) ([]*zk.Conn, error) {
	conns := make([]*zk.Conn, 0, n)
	for i := 0; i < n; i++ {
		c, err := dial([]string{addrs[i%len(addrs)]})
		if err != nil {
			closeAll(conns)
			return nil, err
		}
		conns = append(conns, c)
	}
	return conns, nil
}

// closeAll closes every session.
func closeAll(conns []*zk.Conn) {
	for _, c := range conns {
		c.Close()
	}
}

// op is one benchmark operation issued by worker w (0..workers-1) for the
// seq-th time on its connection.
type op func(c *zk.Conn, w, seq int, rng *rand.Rand) error

// sample is the outcome of one timed run: operation count, errors and
// every latency.
type sample struct {
	ops       int
	errors    int
	firstErr  error
	elapsed   time.Duration
	latencies []time.Duration
	serverCPU time.Duration // CPU time the servers used meanwhile, if measured
}

// add adds the counts and latencies of one connection's sample to s.
func (s *sample) add(c sample) {
	s.ops += c.ops
	s.errors += c.errors
	if s.firstErr == nil {
		s.firstErr = c.firstErr
	}
	s.latencies = append(s.latencies, c.latencies...)
}

// runLoad runs f from outstanding goroutines on each of conns for d and
// returns every latency. go-zookeeper pipelines the concurrent calls of one
// Conn, so each connection has up to `outstanding` requests in flight.
func runLoad(conns []*zk.Conn, outstanding int, d time.Duration, f op) sample {
	var (
		mu  sync.Mutex
		all sample
		wg  sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(d)
	for ci, c := range conns {
		for g := 0; g < outstanding; g++ {
			w := ci*outstanding + g
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(w), 42))
				var s sample
				for seq := 0; ; seq++ {
					t0 := time.Now()
					if !t0.Before(deadline) {
						break
					}
					err := f(c, w, seq, rng)
					if err != nil {
						s.errors++
						if s.firstErr == nil {
							s.firstErr = err
						}
						if errors.Is(err, zk.ErrClosing) {
							break
						}
						continue
					}
					s.ops++
					s.latencies = append(s.latencies, time.Since(t0))
				}
				mu.Lock()
				all.add(s)
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	all.elapsed = time.Since(start)
	return all
}

// result summarises a sample.
func (s sample) result(name string) Result {
	slices.Sort(s.latencies)
	r := Result{Workload: name, Ops: s.ops, Errors: s.errors, Seconds: s.elapsed.Seconds()}
	if s.elapsed > 0 {
		r.OpsPerSec = float64(s.ops) / s.elapsed.Seconds()
	}
	r.P50ms = percentile(s.latencies, 0.50)
	r.P99ms = percentile(s.latencies, 0.99)
	r.P999ms = percentile(s.latencies, 0.999)
	if s.ops > 0 {
		r.ServerCPUPerOp = float64(s.serverCPU.Microseconds()) / float64(s.ops)
	}
	if s.firstErr != nil {
		r.FirstError = s.firstErr.Error()
	}
	return r
}

// percentile returns the q-quantile of sorted latencies in milliseconds.
func percentile(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q * float64(len(sorted)))
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return float64(sorted[i]) / float64(time.Millisecond)
}

// ensurePath creates path (persistent, empty) unless it exists.
func ensurePath(c *zk.Conn, path string, data []byte) error {
	_, err := c.Create(path, data, 0, openACL)
	if err != nil && !errors.Is(err, zk.ErrNodeExists) {
		return fmt.Errorf("create %s: %w", path, err)
	}
	return nil
}

// parallel runs f(i) for i in [0, n) from workers goroutines and returns
// the first error.
func parallel(n, workers int, f func(i int) error) error {
	var (
		next     atomic.Int64
		firstErr error
		once     sync.Once
		wg       sync.WaitGroup
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// setup creates the benchmark tree: numKeys keys holding value, numKids
// empty children and the empty parents.
func setup(conns []*zk.Conn, value []byte) error {
	c := conns[0]
	for _, p := range []string{rootPath, kvPath, kidsPath, newPath, fillPath} {
		if err := ensurePath(c, p, nil); err != nil {
			return err
		}
	}
	if err := ensurePath(c, watchPath, value); err != nil {
		return err
	}
	err := parallel(numKeys, 4*len(conns), func(i int) error {
		conn := conns[i%len(conns)]
		p := fmt.Sprintf("%s/k%d", kvPath, i)
		if err := ensurePath(conn, p, value); err != nil {
			return err
		}
		_, err := conn.Set(p, value, -1)
		return err
	})
	if err != nil {
		return err
	}
	return parallel(numKids, 4*len(conns), func(i int) error {
		return ensurePath(conns[i%len(conns)], fmt.Sprintf("%s/c%d", kidsPath, i), nil)
	})
}

// key returns a random key path.
func key(rng *rand.Rand) string { return fmt.Sprintf("%s/k%d", kvPath, rng.IntN(numKeys)) }

// workload is one named benchmark operation.
type workload struct {
	name string
	// sized workloads run once per value size, the others once.
	sized bool
	// null workloads are the ones the null server answers.
	null bool
	// op builds the operation for a value size and a run tag that keeps
	// created paths unique across runs.
	op func(value []byte, tag string) op
	// jute builds the same operation for the jute client.
	jute func(value []byte, tag string) jop
}

// keyPaths lists the paths of the keys under kvPath.
func keyPaths() []string {
	keys := make([]string, numKeys)
	for i := range keys {
		keys[i] = fmt.Sprintf("%s/k%d", kvPath, i)
	}
	return keys
}

// juteGet, juteSet and juteCreate are the jute client's getData, setData
// and create of path.
func juteGet(c *juteSession, path string) int {
	c.add(wire.OpGetData, &wire.PathWatchRequest{Path: path})
	return 1
}

func juteSet(c *juteSession, path string, v []byte) int {
	c.add(wire.OpSetData, &wire.SetDataRequest{Path: path, Data: v, Version: -1})
	return 1
}

func juteCreate(c *juteSession, path string, v []byte, flags int32) int {
	c.add(wire.OpCreate, &wire.CreateRequest{Path: path, Data: v, ACL: juteACL, Flags: flags})
	return 1
}

// juteACL is openACL in wire's terms.
var juteACL = []wire.ACL{{Perms: zk.PermAll, ID: wire.Id{Scheme: "world", ID: "anyone"}}}

// workloads lists the request workloads in the order they run.
var workloads = []workload{
	{"create", true, true, func(v []byte, tag string) op {
		return func(c *zk.Conn, w, seq int, _ *rand.Rand) error {
			_, err := c.Create(fmt.Sprintf("%s/%s-%d-%d", newPath, tag, w, seq), v, 0, openACL)
			return err
		}
	}, func(v []byte, tag string) jop {
		return func(c *juteSession, w, seq int, _ *rand.Rand) int {
			return juteCreate(c, fmt.Sprintf("%s/%s-%d-%d", newPath, tag, w, seq), v, 0)
		}
	}},
	{"setData", true, true, func(v []byte, _ string) op {
		return func(c *zk.Conn, _, _ int, rng *rand.Rand) error {
			_, err := c.Set(key(rng), v, -1)
			return err
		}
	}, func(v []byte, _ string) jop {
		keys := keyPaths()
		return func(c *juteSession, _, _ int, rng *rand.Rand) int {
			return juteSet(c, keys[rng.IntN(numKeys)], v)
		}
	}},
	{"getData", true, true, func([]byte, string) op {
		return func(c *zk.Conn, _, _ int, rng *rand.Rand) error {
			_, _, err := c.Get(key(rng))
			return err
		}
	}, func([]byte, string) jop {
		keys := keyPaths()
		return func(c *juteSession, _, _ int, rng *rand.Rand) int {
			return juteGet(c, keys[rng.IntN(numKeys)])
		}
	}},
	{"exists", false, true, func([]byte, string) op {
		return func(c *zk.Conn, _, _ int, rng *rand.Rand) error {
			_, _, err := c.Exists(key(rng))
			return err
		}
	}, func([]byte, string) jop {
		keys := keyPaths()
		return func(c *juteSession, _, _ int, rng *rand.Rand) int {
			c.add(wire.OpExists, &wire.PathWatchRequest{Path: keys[rng.IntN(numKeys)]})
			return 1
		}
	}},
	{"getChildren", false, false, func([]byte, string) op {
		return func(c *zk.Conn, _, _ int, _ *rand.Rand) error {
			_, _, err := c.Children(kidsPath)
			return err
		}
	}, func([]byte, string) jop {
		return func(c *juteSession, _, _ int, _ *rand.Rand) int {
			c.add(wire.OpGetChildren2, &wire.PathWatchRequest{Path: kidsPath}) // as go-zookeeper's Children
			return 1
		}
	}},
	{"mixed90/10", true, true, func(v []byte, _ string) op {
		return func(c *zk.Conn, _, _ int, rng *rand.Rand) error {
			if rng.IntN(10) == 0 {
				_, err := c.Set(key(rng), v, -1)
				return err
			}
			_, _, err := c.Get(key(rng))
			return err
		}
	}, func(v []byte, _ string) jop {
		keys := keyPaths()
		return func(c *juteSession, _, _ int, rng *rand.Rand) int {
			if rng.IntN(10) == 0 {
				return juteSet(c, keys[rng.IntN(numKeys)], v)
			}
			return juteGet(c, keys[rng.IntN(numKeys)])
		}
	}},
	{"multi(create+set+delete)", false, false, func(v []byte, tag string) op {
		return func(c *zk.Conn, w, seq int, rng *rand.Rand) error {
			p := fmt.Sprintf("%s/m%s-%d-%d", newPath, tag, w, seq)
			_, err := c.Multi(
				&zk.CreateRequest{Path: p, Data: v, Acl: openACL},
				&zk.SetDataRequest{Path: key(rng), Data: v, Version: -1},
				&zk.DeleteRequest{Path: p, Version: -1},
			)
			return err
		}
	}, func(v []byte, tag string) jop {
		keys := keyPaths()
		return func(c *juteSession, w, seq int, rng *rand.Rand) int {
			p := fmt.Sprintf("%s/m%s-%d-%d", newPath, tag, w, seq)
			c.add(wire.OpMulti, &wire.MultiRequest{Ops: []wire.Op{
				{Type: wire.OpCreate, Body: &wire.CreateRequest{Path: p, Data: v, ACL: juteACL}},
				{Type: wire.OpSetData, Body: &wire.SetDataRequest{Path: keys[rng.IntN(numKeys)], Data: v, Version: -1}},
				{Type: wire.OpDelete, Body: &wire.PathVersionRequest{Path: p, Version: -1}},
			}})
			return 1
		}
	}},
	{"ephemeral churn(create+delete)", false, false, func(v []byte, tag string) op {
		return func(c *zk.Conn, w, seq int, _ *rand.Rand) error {
			p := fmt.Sprintf("%s/e%s-%d-%d", newPath, tag, w, seq)
			if _, err := c.Create(p, v, zk.FlagEphemeral, openACL); err != nil {
				return err
			}
			return c.Delete(p, -1)
		}
	}, func(v []byte, tag string) jop {
		// The delete is sent right behind the create: a session's
		// requests are applied in order, as the reply order shows.
		return func(c *juteSession, w, seq int, _ *rand.Rand) int {
			p := fmt.Sprintf("%s/e%s-%d-%d", newPath, tag, w, seq)
			juteCreate(c, p, v, zk.FlagEphemeral)
			c.add(wire.OpDelete, &wire.PathVersionRequest{Path: p, Version: -1})
			return 2
		}
	}},
}

// notifyTimeout is how long a fan-out round waits for its notifications.
const notifyTimeout = 10 * time.Second

// watchFanOut opens watchers sessions spread over addrs, each watching
// watchPath; then, for d, rounds run: a writer changes the node, and the
// round ends when every watcher has its notification and has set a new
// watch. Ops are notifications delivered; latencies run from the setData
// call to each delivery. serverCPU, if not nil, is read at the start and
// end of the measured rounds.
//
// Each watcher is one goroutine for the whole run doing what a client's
// data watch does (go-zookeeper's GetW in a loop, kazoo's DataWatch,
// Curator's NodeCache): read the node with a watch and, once notified,
// read it again with a new watch at once.
func watchFanOut(addrs []string, watchers int, d time.Duration, value []byte, serverCPU func() time.Duration) (s sample, err error) {
	conns, err := dialAll(addrs, watchers)
	if err != nil {
		return sample{}, err
	}
	defer closeAll(conns)
	writer, err := dial(addrs[:1])
	if err != nil {
		return sample{}, err
	}
	defer writer.Close()

	// A watcher reports each watch it sets (armed) and each notification.
	type report struct {
		armed bool
		at    time.Time
		err   error
	}
	reports := make(chan report, 2*len(conns))
	stop := make(chan struct{})
	defer close(stop)
	// send hands r to the rounds; false means its watcher stops (r is a
	// failure, or the run is over).
	send := func(r report) bool {
		select {
		case reports <- r:
			return r.err == nil
		case <-stop:
			return false
		}
	}
	for _, c := range conns {
		go func() {
			for {
				_, _, ch, err := c.GetW(watchPath)
				if !send(report{armed: true, err: err}) {
					return
				}
				var ev zk.Event
				select {
				case ev = <-ch:
				case <-stop:
					return
				}
				r := report{at: time.Now()}
				if ev.Type != zk.EventNodeDataChanged {
					r.err = fmt.Errorf("watch event %v", ev.Type)
				}
				if !send(r) {
					return
				}
			}
		}()
	}

	timeout := time.NewTimer(notifyTimeout)
	defer timeout.Stop()
	// await receives reports until every watcher has set its watch and,
	// after a change made at t0 (non-zero), has been notified of it.
	await := func(t0 time.Time) error {
		armed, notified := 0, 0
		if t0.IsZero() {
			notified = len(conns)
		}
		timeout.Reset(notifyTimeout)
		for armed < len(conns) || notified < len(conns) {
			select {
			case r := <-reports:
				switch {
				case r.err != nil:
					return r.err
				case r.armed:
					armed++
				default:
					notified++
					s.ops++
					s.latencies = append(s.latencies, r.at.Sub(t0))
				}
			case <-timeout.C:
				s.errors += len(conns) - notified
				return fmt.Errorf("%d notifications and %d watches missing after %v",
					len(conns)-notified, len(conns)-armed, notifyTimeout)
			}
		}
		return nil
	}
	if err := await(time.Time{}); err != nil {
		return s, err
	}
	start := time.Now()
	meter := startMeter(serverCPU)
	defer func() {
		s.elapsed = time.Since(start)
		s.serverCPU = meter()
	}()
	for time.Since(start) < d {
		t0 := time.Now()
		if _, err := writer.Set(watchPath, value, -1); err != nil {
			return s, err
		}
		if err := await(t0); err != nil {
			return s, err
		}
	}
	return s, nil
}

// startMeter returns a function that tells how much total has grown since
// startMeter was called; a nil total gives zero.
func startMeter(total func() time.Duration) func() time.Duration {
	if total == nil {
		return func() time.Duration { return 0 }
	}
	t0 := total()
	return func() time.Duration { return total() - t0 }
}

// fill creates k znodes holding value under fillPath, pipelined over conns.
func fill(conns []*zk.Conn, outstanding, k int, value []byte, progress func(done int)) error {
	var done atomic.Int64
	return parallel(k, len(conns)*outstanding, func(i int) error {
		_, err := conns[i%len(conns)].Create(fmt.Sprintf("%s/f%d", fillPath, i), value, 0, openACL)
		if err != nil {
			return fmt.Errorf("fill %d: %w", i, err)
		}
		if n := done.Add(1); n%1000 == 0 {
			progress(int(n))
		}
		return nil
	})
}

// steadyGap is the longest pause between successful writes that the
// failover measurement still counts as writes succeeding steadily.
const steadyGap = 100 * time.Millisecond

// failoverOneAddr is how many sessions of the failover are each given the
// address of one follower only (as behind a load balancer or a DNS name),
// spread over the followers.
const failoverOneAddr = 4

// failoverResult is what the failover measured.
type failoverResult struct {
	// longest is the longest window, from the kill on, without a
	// successful write of the sessions given every server; first the
	// time from the kill to their first successful write.
	longest, first time.Duration
	// oneAddrDisconnected counts the one-address sessions that saw a
	// disconnect; oneAddrLongest is the longest window, from the kill on,
	// without a successful write of one such session.
	oneAddrDisconnected int
	oneAddrLongest      time.Duration
}

// failover runs setData from workers sessions (each given every server)
// and from failoverOneAddr sessions given one follower each, kills -9 the
// leader after warmup and keeps writing until writes have succeeded
// steadily for settle after the outage, and every one-address session
// wrote again (or maxWait passes).
func failover(e *ensemble, workers int, warmup, settle, maxWait time.Duration, value []byte) (failoverResult, error) {
	var res failoverResult
	conns := make([]*zk.Conn, 0, workers+failoverOneAddr)
	defer func() { closeAll(conns) }()
	for i := 0; i < workers; i++ {
		c, err := dial(e.addrs())
		if err != nil {
			return res, err
		}
		conns = append(conns, c)
	}
	leader, err := e.leader(30 * time.Second)
	if err != nil {
		return res, err
	}
	var followers []string
	for _, s := range e.servers {
		if s != leader && s.alive() {
			followers = append(followers, s.addr())
		}
	}
	oneAddr := make([]*writeTimes, failoverOneAddr)
	disconnected := make([]atomic.Bool, failoverOneAddr)
	for i := range oneAddr {
		oneAddr[i] = &writeTimes{}
		c, err := dialWatched([]string{followers[i%len(followers)]}, func(ev zk.Event) {
			if ev.Type == zk.EventSession && ev.State == zk.StateDisconnected {
				disconnected[i].Store(true)
			}
		})
		if err != nil {
			return res, err
		}
		conns = append(conns, c)
	}
	var (
		writes writeTimes
		stop   atomic.Bool
		wg     sync.WaitGroup
	)
	for i, c := range conns {
		wt := &writes
		if i >= workers {
			wt = oneAddr[i-workers]
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := fmt.Sprintf("%s/k%d", kvPath, i%numKeys)
			for !stop.Load() {
				if _, err := c.Set(p, value, -1); err != nil {
					time.Sleep(time.Millisecond)
					continue
				}
				wt.add(time.Now())
			}
		}()
	}
	time.Sleep(warmup)
	killed := time.Now()
	leader.kill()
	deadline := killed.Add(maxWait)
	for time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		if writes.steady(killed, time.Now(), settle) && allWroteSince(oneAddr, killed) {
			break
		}
	}
	stop.Store(true)
	wg.Wait()
	stopped := time.Now()
	for i, w := range oneAddr {
		if disconnected[i].Load() {
			res.oneAddrDisconnected++
		}
		longest, _, ok := w.outage(killed)
		if !ok {
			longest = stopped.Sub(killed)
		}
		res.oneAddrLongest = max(res.oneAddrLongest, longest)
	}
	longest, first, ok := writes.outage(killed)
	if !ok {
		res.longest, res.first = maxWait, maxWait
		return res, fmt.Errorf("no successful write within %v of the kill", maxWait)
	}
	res.longest, res.first = longest, first
	return res, nil
}

// allWroteSince reports whether every one of ws has a success after t.
func allWroteSince(ws []*writeTimes, t time.Time) bool {
	for _, w := range ws {
		w.mu.Lock()
		last := w.last
		w.mu.Unlock()
		if !last.After(t) {
			return false
		}
	}
	return true
}

// writeTimes records when writes succeeded, from several goroutines.
type writeTimes struct {
	mu     sync.Mutex
	times  []time.Time
	last   time.Time // the latest success
	resume time.Time // when writes resumed after their last pause over steadyGap
}

// add records a success at t.
func (w *writeTimes) add(t time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.times = append(w.times, t)
	if t.Sub(w.last) > steadyGap {
		w.resume = t
	}
	if t.After(w.last) {
		w.last = t
	}
}

// steady reports whether, at now, writes have succeeded with no pause over
// steadyGap for longer than settle, counted from the later of since and
// the end of the last longer pause. Writes in flight at a kill can
// succeed just after it, before the outage: they do not count as resumed.
func (w *writeTimes) steady(since, now time.Time, settle time.Duration) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	from := w.resume
	if from.Before(since) {
		from = since
	}
	return now.Sub(w.last) <= steadyGap && now.Sub(from) > settle
}

// outage returns the longest window from t on without a success and the
// time from t to the first success after it; false if there is none.
func (w *writeTimes) outage(t time.Time) (longest, first time.Duration, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	slices.SortFunc(w.times, func(a, b time.Time) int { return a.Compare(b) })
	prev := t
	for _, x := range w.times {
		if !x.After(t) {
			continue
		}
		if !ok {
			first, ok = x.Sub(t), true
		}
		longest = max(longest, x.Sub(prev))
		prev = x
	}
	return longest, first, ok
}
