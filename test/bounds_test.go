package test

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/zkgo/zkgo/test/harness"
	"github.com/zkgo/zkgo/wire"
)

// TestTenThousandConnections opens 10,000 sessions to one server
// (maxClientCnxns=0), has every one of them answer an exists, checks that
// all stay connected, and reports the server's resident memory per idle
// connection.
func TestTenThousandConnections(t *testing.T) {
	const n = 10000
	raiseFileLimit(t, n+1000)
	// The server raises its soft open-files limit to the hard limit at
	// start-up (Go's runtime does, to one below it, for its sake: see
	// package syscall): started with a soft limit of 1024, it must have
	// the hard limit.
	setSoftFileLimit(t, 1024)
	// Sessions outlive the test however slow the machine: nothing pings.
	srv := harness.StartOurs(t, map[string]string{"maxClientCnxns": "0", "maxSessionTimeout": "300000"})
	setSoftFileLimit(t, n+1000)
	if soft, hard := openFilesLimits(t, srv.Pid()); soft < hard-1 || soft < n+100 {
		t.Fatalf("the server's open-files limit is %d (hard %d): it must raise it to the hard limit, at least %d for %d connections", soft, hard, n+100, n)
	}
	before, err := srv.RSS()
	if err != nil {
		t.Fatal(err)
	}
	conns := make([]net.Conn, n)
	t.Cleanup(func() {
		for _, nc := range conns {
			if nc != nil {
				nc.Close()
			}
		}
	})
	start := time.Now()
	inParallel(t, n, func(i int) error {
		nc, resp, err := handshake(srv.Addr(), 300000)
		if err != nil {
			return err
		}
		conns[i] = nc
		if resp.SessionID == 0 {
			return fmt.Errorf("no session")
		}
		return nil
	})
	opened := time.Since(start)
	// Every connection answers one request.
	inParallel(t, n, func(i int) error { return existsRoot(conns[i], int32(i+1)) })
	after, err := srv.RSS()
	if err != nil {
		t.Fatal(err)
	}
	// mntr counts its own connection too, as Apache's does.
	if alive, _ := strconv.Atoi(mntrValue(t, srv, "zk_num_alive_connections")); alive <= n {
		t.Fatalf("zk_num_alive_connections %d with %d sessions open", alive, n)
	}
	// All still connected: a second request on each is answered too.
	inParallel(t, n, func(i int) error { return existsRoot(conns[i], int32(n+i+1)) })
	t.Logf("%d sessions opened in %v; server RSS %d MB before, %d MB after: %d bytes per idle connection",
		n, opened.Round(time.Millisecond), before>>20, after>>20, (after-before)/n)
}

// existsRoot sends exists("/") with xid on a raw session and checks the
// answer.
func existsRoot(nc net.Conn, xid int32) error {
	nc.SetDeadline(time.Now().Add(60 * time.Second))
	defer nc.SetDeadline(time.Time{})
	req := wire.AppendFrame(nil, &wire.RequestHeader{Xid: xid, Type: wire.OpExists}, &wire.PathWatchRequest{Path: "/"})
	if _, err := nc.Write(req); err != nil {
		return err
	}
	pkt, err := wire.ReadFrame(nc, nil, wire.DefaultMaxBuffer)
	if err != nil {
		return err
	}
	var h wire.ReplyHeader
	d := wire.NewDecoder(pkt)
	h.Decode(d)
	if err := d.Err(); err != nil {
		return err
	}
	if h.Xid != xid || h.Err != wire.ErrOK {
		return fmt.Errorf("exists /: reply xid %d err %v, want xid %d OK", h.Xid, h.Err, xid)
	}
	return nil
}

// inParallel runs f(0..n-1) on a bounded number of goroutines and fails
// the test with the first error.
func inParallel(t *testing.T, n int, f func(i int) error) {
	t.Helper()
	const workers = 64
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  = make(chan int)
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = fmt.Errorf("#%d: %w", i, err)
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if first != nil {
		t.Fatal(first)
	}
}

// raiseFileLimit makes sure this process may open need files, raising the
// hard limit too if it must (which needs root); servers started later
// inherit the limit.
func raiseFileLimit(t *testing.T, need uint64) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Cur >= need {
		return
	}
	lim.Cur = need
	lim.Max = max(lim.Max, need)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatalf("raising the open-files limit to %d: %v (run as root or raise ulimit -n)", need, err)
	}
}

// setSoftFileLimit sets this process's soft open-files limit; servers
// started meanwhile inherit it.
func setSoftFileLimit(t *testing.T, soft uint64) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	lim.Cur = soft
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
}

// openFilesLimits returns the soft and hard open-files limits of process
// pid.
func openFilesLimits(t *testing.T, pid int) (soft, hard int) {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "Max open files"); ok {
			fields := strings.Fields(rest)
			if len(fields) >= 2 {
				soft, err1 := strconv.Atoi(fields[0])
				hard, err2 := strconv.Atoi(fields[1])
				if err1 == nil && err2 == nil {
					return soft, hard
				}
			}
		}
	}
	t.Fatalf("no open-files limits in /proc/%d/limits", pid)
	return 0, 0
}
