package test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkgo/zkgo/test/harness"
)

// failoverWriters is how many go-zookeeper writers the failover test runs,
// each connected to one surviving server only.
const failoverWriters = 4

// failoverWatched is how many nodes the watch workload creates and changes
// (one exists and one data watch each).
const failoverWatched = 60

// TestFailoverClientsSeeNothing kills the leader of a 3-server ensemble
// (SIGKILL) under load from clients that each know one surviving server
// only, as behind a load balancer or a DNS name: go-zookeeper writers, a
// kazoo writer, a watcher and a Curator LeaderLatch holder. The survivors
// hold their clients while they elect and sync the next leader
// (leaderLossHoldMs), so that:
//
//   - no client of a surviving server sees a disconnect (go-zookeeper's
//     StateDisconnected, kazoo's SUSPENDED, Curator's SUSPENDED or LOST);
//   - every write is acknowledged exactly once: each writer creates
//     sequential nodes holding 1, 2, 3, ... and finds exactly the values it
//     had acknowledged, in order, none twice (a write in flight to the dead
//     leader that the new one lacks is resubmitted, one that it holds is
//     answered from it);
//   - the watch events are those of the same run without the kill: one
//     NodeCreated and one NodeDataChanged per watched node, in the order
//     the changes were made;
//   - the LeaderLatch holder keeps its leadership.
//
// It logs each writer's longest gap between two acknowledged writes.
func TestFailoverClientsSeeNothing(t *testing.T) {
	requireClient(t, debianPython, "python3")
	latchClasses := compileCurator(t, "curator/FailoverLatch.java")
	servers := harness.StartEnsemble(t, 3, nil)
	leader := leaderOf(t, servers)
	var survivors []*harness.Server
	for _, s := range servers {
		if s != leader {
			survivors = append(survivors, s)
		}
	}
	t.Logf("leader: server %d; survivors: %d, %d", leader.ID(), survivors[0].ID(), survivors[1].ID())
	setup := dialOne(t, survivors[0].Addr(), nil)
	for _, p := range []string{"/f", "/w"} {
		if _, err := setup.Create(p, nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatal(err)
		}
	}

	// Disconnects seen by the go-zookeeper clients.
	var evMu sync.Mutex
	var disconnects []string
	watch := func(name string) func(zk.Event) {
		return func(ev zk.Event) {
			if ev.Type == zk.EventSession && (ev.State == zk.StateDisconnected || ev.State == zk.StateExpired) {
				evMu.Lock()
				disconnects = append(disconnects, fmt.Sprintf("%s: %v", name, ev.State))
				evMu.Unlock()
			}
		}
	}

	// The watcher: an exists watch on /w/nI and a data watch on /w/dI for
	// every I, set before any change; a driver on the other survivor
	// creates /w/nI then sets /w/dI, for each I in turn, across the kill.
	// The watcher's client reports events in the order they arrive.
	var wMu sync.Mutex
	var got []string
	disconnected := watch("watcher")
	watcher := dialOne(t, survivors[1].Addr(), func(ev zk.Event) {
		disconnected(ev)
		if ev.Type == zk.EventNodeCreated || ev.Type == zk.EventNodeDataChanged {
			wMu.Lock()
			got = append(got, fmt.Sprintf("%v %s", ev.Type, ev.Path))
			wMu.Unlock()
		}
	})
	for i := range failoverWatched {
		if _, err := setup.Create(fmt.Sprintf("/w/d%03d", i), nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := watcher.Sync("/w"); err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range failoverWatched {
		n, d := fmt.Sprintf("/w/n%03d", i), fmt.Sprintf("/w/d%03d", i)
		if _, _, _, err := watcher.ExistsW(n); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := watcher.GetW(d); err != nil {
			t.Fatal(err)
		}
		want = append(want, fmt.Sprintf("%v %s", zk.EventNodeCreated, n), fmt.Sprintf("%v %s", zk.EventNodeDataChanged, d))
	}

	// The writers, each on one survivor.
	type writer struct {
		conn  *zk.Conn
		acked int
		gap   time.Duration
		last  time.Time
		err   error
	}
	ws := make([]*writer, failoverWriters)
	var mu sync.Mutex
	for i := range ws {
		name := fmt.Sprintf("writer %d", i)
		ws[i] = &writer{conn: dialOne(t, survivors[i%2].Addr(), watch(name))}
		if _, err := ws[i].conn.Create(fmt.Sprintf("/f/c%d", i), nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for i, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := 1; ctx.Err() == nil; seq++ {
				_, err := w.conn.Create(fmt.Sprintf("/f/c%d/v-", i), []byte(strconv.Itoa(seq)), zk.FlagSequence, zk.WorldACL(zk.PermAll))
				now := time.Now()
				mu.Lock()
				if err != nil {
					if w.err == nil && ctx.Err() == nil {
						w.err = err
					}
					mu.Unlock()
					return
				}
				w.acked = seq
				if !w.last.IsZero() {
					w.gap = max(w.gap, now.Sub(w.last))
				}
				w.last = now
				mu.Unlock()
			}
		}()
	}
	// The watch driver: one node at a time, about 20 per second.
	driver := dialOne(t, survivors[0].Addr(), watch("watch driver"))
	driverDone := make(chan error, 1)
	go func() {
		for i := range failoverWatched {
			if _, err := driver.Create(fmt.Sprintf("/w/n%03d", i), nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
				driverDone <- err
				return
			}
			if _, err := driver.Set(fmt.Sprintf("/w/d%03d", i), []byte("x"), -1); err != nil {
				driverDone <- err
				return
			}
			time.Sleep(50 * time.Millisecond) // pacing the workload, not synchronisation
		}
		driverDone <- nil
	}()

	kazoo := startClient(t, exec.Command(debianPython, "clients/kazoo_failover.py", survivors[1].Addr(), "/kazoo"), nil)
	latch := startClient(t, exec.Command("java", "-Xmx128m", "-XX:+UseSerialGC",
		"-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", latchClasses, "FailoverLatch", survivors[0].Addr(), "/latch"), nil)
	kazoo.await(t, "ready")
	latch.await(t, "leader")

	waitWrites := func(n int) {
		t.Helper()
		deadline := time.Now().Add(modeTimeout)
		for {
			mu.Lock()
			least := ws[0].acked
			var failed error
			for _, w := range ws {
				least = min(least, w.acked)
				if w.err != nil {
					failed = w.err
				}
			}
			mu.Unlock()
			if failed != nil {
				t.Fatalf("a write failed: %v", failed)
			}
			if least >= n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("a writer has only %d writes acknowledged, want %d", least, n)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitWrites(30)
	killed := time.Now()
	leader.Kill()
	t.Logf("killed the leader, server %d", leader.ID())
	newLeader := leaderOf(t, survivors)
	t.Logf("new leader: server %d, %v after the kill", newLeader.ID(), time.Since(killed).Round(time.Millisecond))
	mu.Lock()
	after := 0
	for _, w := range ws {
		after = max(after, w.acked)
	}
	mu.Unlock()
	waitWrites(after + 30)
	if err := <-driverDone; err != nil {
		t.Fatalf("watch driver: %v", err)
	}
	cancel()
	wg.Wait()
	kazooOut := kazoo.finish(t)
	latchOut := latch.finish(t)

	for i, w := range ws {
		t.Logf("FAILOVER: writer %d (server %d only): %d writes, longest gap between two acknowledged writes %v",
			i, survivors[i%2].ID(), w.acked, w.gap.Round(time.Millisecond))
		kids, _, err := setup.Children(fmt.Sprintf("/f/c%d", i))
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(kids)
		var values []int
		for _, k := range kids {
			b, _, err := setup.Get(fmt.Sprintf("/f/c%d/%s", i, k))
			if err != nil {
				t.Fatal(err)
			}
			v, _ := strconv.Atoi(string(b))
			values = append(values, v)
		}
		// The last create may have been cut off by the end of the run
		// after it was applied: at most one value more than acknowledged.
		n := len(values)
		if n == w.acked+1 && values[n-1] == w.acked+1 {
			values = values[:n-1]
		}
		for j, v := range values {
			if v != j+1 {
				t.Errorf("writer %d: value %d at position %d of %d: writes lost or duplicated", i, v, j+1, len(values))
				break
			}
		}
		if len(values) != w.acked {
			t.Errorf("writer %d: %d values stored, %d writes acknowledged", i, len(values), w.acked)
		}
	}
	evMu.Lock()
	if len(disconnects) > 0 {
		t.Errorf("go-zookeeper clients of surviving servers saw: %v", disconnects)
	}
	evMu.Unlock()
	// The last events may still be on their way: wait for as many.
	deadline := time.Now().Add(modeTimeout)
	for {
		wMu.Lock()
		n := len(got)
		wMu.Unlock()
		if n >= len(want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	wMu.Lock()
	if !slices.Equal(got, want) {
		t.Errorf("watch events:\n got %v\nwant %v", got, want)
	}
	wMu.Unlock()
	for _, l := range kazooOut {
		if strings.HasPrefix(l, "state ") {
			t.Errorf("kazoo client of server %d: %s", survivors[1].ID(), l)
		}
		if l != "errors 0" && strings.HasPrefix(l, "errors ") {
			t.Errorf("kazoo client: %s", l)
		}
	}
	t.Logf("kazoo: %v", kazooOut)
	for _, l := range latchOut {
		if strings.HasPrefix(l, "state ") || l == "notleader" || l == "holds false" {
			t.Errorf("Curator LeaderLatch holder on server %d: %s", survivors[0].ID(), l)
		}
	}
	if !slices.Contains(latchOut, "holds true") {
		t.Errorf("Curator LeaderLatch holder did not report its leadership: %v", latchOut)
	}
	for _, s := range survivors {
		for _, l := range strings.Split(s.Log(), "\n") {
			if strings.Contains(l, "serving the held clients again") {
				t.Logf("server %d: %s", s.ID(), l)
			}
		}
	}
	sameTrees(t, survivors)
}

// dialOne connects a go-zookeeper client to addr alone and waits for its
// session; onEvent, if set, sees every later event.
func dialOne(t *testing.T, addr string, onEvent func(zk.Event)) *zk.Conn {
	t.Helper()
	if onEvent == nil {
		onEvent = func(zk.Event) {}
	}
	c, events, err := zk.Connect([]string{addr}, 10*time.Second, zk.WithLogger(quietLogger{}), zk.WithEventCallback(onEvent))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	if !harness.AwaitSession(events, modeTimeout) {
		t.Fatalf("no session with %s", addr)
	}
	return c
}

// clientProc is a client program that prints lines and stops when its
// stdin closes. startClient hands each line to consume first, if given:
// the lines it takes (returns true for) are not queued in lines.
type clientProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
	done  chan struct{}
}

func startClient(t *testing.T, cmd *exec.Cmd, consume func(line string) bool) *clientProc {
	t.Helper()
	cmd.WaitDelay = 5 * time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &clientProc{cmd: cmd, stdin: stdin, lines: make(chan string, 1024), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if consume == nil || !consume(sc.Text()) {
				p.lines <- sc.Text()
			}
		}
		close(p.lines)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() && stderr.Len() > 0 {
			t.Logf("%s stderr:\n%s", cmd.Args[0], tailString(stderr.String(), 8<<10))
		}
	})
	return p
}

// await waits for the line want.
func (p *clientProc) await(t *testing.T, want string) {
	t.Helper()
	timeout := time.After(modeTimeout)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				t.Fatalf("%s ended before printing %q", p.cmd.Args[0], want)
			}
			if l == want {
				return
			}
		case <-timeout:
			t.Fatalf("%s did not print %q", p.cmd.Args[0], want)
		}
	}
}

// finish closes the program's stdin and returns the lines it printed
// from then on (and before, not yet read).
func (p *clientProc) finish(t *testing.T) []string {
	t.Helper()
	p.stdin.Close()
	var out []string
	timeout := time.After(modeTimeout)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				return out
			}
			out = append(out, l)
		case <-timeout:
			t.Fatalf("%s did not end", p.cmd.Args[0])
		}
	}
}

// TestFailoverHoldIsBounded: a follower left without a quorum (the leader
// and the other follower killed) holds its clients for leaderLossHoldMs
// only, then closes their connections as Apache's followers do at once, so
// that they can move to servers that still serve. A write sent during
// the hold is not acknowledged.
func TestFailoverHoldIsBounded(t *testing.T) {
	servers := harness.StartEnsemble(t, 3, map[string]string{"leaderLossHoldMs": "1500"})
	leader := leaderOf(t, servers)
	var follower *harness.Server
	for _, s := range servers {
		if s != leader && follower == nil {
			follower = s
		}
	}
	disconnected := make(chan struct{})
	var once sync.Once
	c := dialOne(t, follower.Addr(), func(ev zk.Event) {
		if ev.Type == zk.EventSession && ev.State == zk.StateDisconnected {
			once.Do(func() { close(disconnected) })
		}
	})
	if _, err := c.Create("/held", []byte("1"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	for _, s := range servers {
		if s != follower {
			s.Kill()
		}
	}
	// The write waits in the hold; the connection then closes under it.
	_, err := c.Set("/held", []byte("2"), -1)
	if err == nil {
		t.Fatal("a write was acknowledged by a server without a quorum")
	}
	select {
	case <-disconnected:
	case <-time.After(modeTimeout):
		t.Fatal("the follower without a quorum never closed its client's connection")
	}
	if !strings.Contains(follower.Log(), "not serving again within leaderLossHoldMs") {
		t.Errorf("the follower's log does not say it ended the hold:\n%s", tailString(follower.Log(), 4<<10))
	}
}

// TestFailoverObserverHoldsClients: an observer holds its clients across
// the leader's SIGKILL as a follower does: a go-zookeeper writer given the
// observer's address only sees no disconnect, and each of its sequential
// creates is stored exactly once.
func TestFailoverObserverHoldsClients(t *testing.T) {
	members := append(harness.NewMembers(t, 3), harness.NewMember(t, 4, true))
	servers := harness.StartMembers(t, members, members, nil)
	leader := leaderOf(t, servers[:3])
	observer := servers[3]
	var disconnects []zk.State
	var mu sync.Mutex
	c := dialOne(t, observer.Addr(), func(ev zk.Event) {
		if ev.Type == zk.EventSession && (ev.State == zk.StateDisconnected || ev.State == zk.StateExpired) {
			mu.Lock()
			disconnects = append(disconnects, ev.State)
			mu.Unlock()
		}
	})
	if _, err := c.Create("/o", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	write := func(seq int) {
		t.Helper()
		if _, err := c.Create("/o/v-", []byte(strconv.Itoa(seq)), zk.FlagSequence, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatalf("write %d: %v", seq, err)
		}
	}
	const n = 400
	killAt := n / 4
	var survivors []*harness.Server
	for _, s := range servers {
		if s != leader {
			survivors = append(survivors, s)
		}
	}
	began := time.Now()
	var killed time.Time
	last, gap := began, time.Duration(0)
	for seq := 1; seq <= n; seq++ {
		if seq == killAt {
			leader.Kill()
			killed = time.Now()
		}
		write(seq)
		now := time.Now()
		gap, last = max(gap, now.Sub(last)), now
	}
	t.Logf("FAILOVER: observer's writer: %d writes, longest gap %v; the kill was %v into the run",
		n, gap.Round(time.Millisecond), killed.Sub(began).Round(time.Millisecond))
	leaderOf(t, survivors[:2])
	kids, _, err := c.Children("/o")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(kids)
	if len(kids) != n {
		t.Errorf("%d nodes stored, %d writes acknowledged", len(kids), n)
	}
	for i, k := range kids {
		b, _, err := c.Get("/o/" + k)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != strconv.Itoa(i+1) {
			t.Errorf("node %s holds %s, want %d: writes lost or duplicated", k, b, i+1)
			break
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(disconnects) > 0 {
		t.Errorf("the observer's client saw %v", disconnects)
	}
	if !strings.Contains(observer.Log(), "serving the held clients again") {
		t.Errorf("the observer did not hold its clients across the failover:\n%s", tailString(observer.Log(), 4<<10))
	}
}
