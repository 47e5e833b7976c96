package test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkgo/zkgo/test/harness"
)

// The storage-fault scenario of a damaged transaction log: 3,000 creates
// acknowledged, then 8 bytes flipped in the back half of the newest
// write-ahead file of a stopped server. Pebble's own recovery stops at the
// bad record as if it were a torn tail, which lost 35 acknowledged creates
// before the high-water mark.

const faultCreates = 3000

// createMany creates /d/n0000.. with many requests in flight and returns
// once every create is acknowledged.
func createMany(t *testing.T, c *zk.Conn, n int) {
	t.Helper()
	if _, err := c.Create("/d", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	next := make(chan int)
	for range 16 {
		wg.Go(func() {
			for i := range next {
				if _, err := c.Create(fmt.Sprintf("/d/n%04d", i), []byte("x"), 0, zk.WorldACL(zk.PermAll)); err != nil {
					errs <- err
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// damageNewestWAL flips 8 bytes three quarters into the newest write-ahead
// file of a server's transaction log and returns its path.
func damageNewestWAL(t *testing.T, s *harness.Server) string {
	t.Helper()
	wals, err := filepath.Glob(filepath.Join(s.Dir(), "data", "version-2", "txnlog", "*.log"))
	if err != nil || len(wals) == 0 {
		t.Fatalf("no write-ahead file: %v", err)
	}
	wal := slices.Max(wals) // pebble's names are zero-padded numbers
	f, err := os.OpenFile(wal, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	off := fi.Size() * 3 / 4
	b := make([]byte, 8)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] ^= 0xff
	}
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
	t.Logf("flipped 8 bytes at offset %d of %s (%d bytes)", off, wal, fi.Size())
	return wal
}

// children returns the number of children of /d as seen through addr.
func children(t *testing.T, addr string) int {
	t.Helper()
	c := connect(t, addr)
	defer c.Close()
	kids, _, err := c.Children("/d")
	if err != nil {
		t.Fatal(err)
	}
	return len(kids)
}

// TestStandaloneDamagedLog: the server refuses to start, naming the file,
// the offset and the last good zxid, until the operator accepts the loss
// with zkserver repair; then it serves what is left.
func TestStandaloneDamagedLog(t *testing.T) {
	srv := harness.StartOurs(t, nil)
	c := connect(t, srv.Addr())
	createMany(t, c, faultCreates)
	c.Close()
	srv.Kill()
	wal := damageNewestWAL(t, srv)

	if err := srv.Restart(); err == nil {
		t.Fatal("the server started on a log that lost acknowledged creates")
	}
	m := regexp.MustCompile(`corrupt transaction log (\S+) at offset (\d+), zxid 0x([0-9a-f]+): `).FindStringSubmatch(srv.Log())
	if m == nil || m[1] != wal {
		t.Fatalf("the server's log does not name %s, an offset and a zxid:\n%s", wal, srv.Log())
	}
	t.Logf("refused: file %s, offset %s, last good zxid 0x%s", m[1], m[2], m[3])

	bin := harness.BuildOurs(t)
	cfg := filepath.Join(srv.Dir(), "zoo.cfg")
	out, err := exec.Command(bin, "repair", cfg).CombinedOutput()
	good := regexp.MustCompile(`last good zxid: (0x[0-9a-f]+)`).FindSubmatch(out)
	if err == nil || good == nil {
		t.Fatalf("repair without --truncate-after: %v\n%s", err, out)
	}
	if err := srv.Restart(); err == nil {
		t.Fatal("the server started after a repair that only reported")
	}
	out, err = exec.Command(bin, "repair", "--truncate-after", string(good[1]), cfg).CombinedOutput()
	if err != nil {
		t.Fatalf("repair --truncate-after %s: %v\n%s", good[1], err, out)
	}
	t.Logf("repair: %s", out)
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	last, err := strconv.ParseInt(string(good[1]), 0, 64)
	if err != nil {
		t.Fatal(err)
	}
	// Every create kept is one at or before the last good zxid: the
	// session's creates have consecutive zxids after /d's.
	c = connect(t, srv.Addr())
	defer c.Close()
	_, st, err := c.Get("/d")
	if err != nil {
		t.Fatal(err)
	}
	if n, want := children(t, srv.Addr()), int(last-st.Czxid); n != want || n >= faultCreates {
		t.Fatalf("%d creates kept after truncating at 0x%x (/d created at 0x%x); want %d", n, last, st.Czxid, want)
	}
}

// TestEnsembleDamagedLogRepairs: A leads, B follows, C is down, and 3,000
// creates are acknowledged by A and B. B's log is damaged while it is
// down; then A goes down and B and C start. B must not vote with what is
// left of its log: B and C serve nothing, or everything. When A returns,
// B repairs itself from the leader and serves all the creates.
func TestEnsembleDamagedLogRepairs(t *testing.T) {
	servers := harness.StartEnsemble(t, 3, ensembleCfg)
	a := leaderOf(t, servers)
	var rest []*harness.Server
	for _, s := range servers {
		if s != a {
			rest = append(rest, s)
		}
	}
	b, c := rest[0], rest[1]
	c.Stop()
	conn := connect(t, a.Addr())
	createMany(t, conn, faultCreates)
	conn.Close()
	b.Kill()
	damageNewestWAL(t, b)
	a.Kill()
	for _, s := range []*harness.Server{b, c} {
		if err := s.Relaunch(); err != nil {
			t.Fatal(err)
		}
	}
	awaitLog(t, b, "neither votes nor leads")
	// Several election rounds (tickTime 500 ms): whenever B or C serves,
	// it must hold every acknowledged create.
	for deadline := time.Now().Add(4 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		for _, s := range []*harness.Server{b, c} {
			if m := s.Mode(); m == "leader" || m == "follower" {
				if n := children(t, s.Addr()); n != faultCreates {
					t.Fatalf("server %d serves %d of %d acknowledged creates", s.ID(), n, faultCreates)
				}
			}
		}
	}
	if err := a.Relaunch(); err != nil {
		t.Fatal(err)
	}
	leaderOf(t, servers)
	awaitLog(t, b, "the transaction log is repaired")
	if n := children(t, b.Addr()); n != faultCreates {
		t.Fatalf("the repaired server serves %d of %d acknowledged creates", n, faultCreates)
	}
}

// awaitLog waits until the server's log contains text.
func awaitLog(t *testing.T, s *harness.Server, text string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(s.Log(), text) {
		if time.Now().After(deadline) {
			t.Fatalf("server %d never logged %q:\n%s", s.ID(), text, s.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestEnsembleMissingWAL: a follower whose write-ahead files other than the
// newest are deleted (a middle range of its log gone, which its high-water
// mark does not show) finds the gap, repairs itself from the leader, and
// serves every acknowledged create.
func TestEnsembleMissingWAL(t *testing.T) {
	servers := harness.StartEnsemble(t, 3, ensembleCfg)
	leader := leaderOf(t, servers)
	var follower *harness.Server
	for _, s := range servers {
		if s != leader {
			follower = s
			break
		}
	}
	const creates = 6000
	conn := connect(t, leader.Addr())
	createMany(t, conn, creates)
	conn.Close()
	follower.Kill()
	wals, err := filepath.Glob(filepath.Join(follower.Dir(), "data", "version-2", "txnlog", "*.log"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(wals)
	for _, w := range wals[:len(wals)-1] {
		os.Remove(w)
	}
	t.Logf("deleted %d of %d write-ahead files", len(wals)-1, len(wals))
	if err := follower.Relaunch(); err != nil {
		t.Fatal(err)
	}
	follower.WaitMode(modeTimeout, "follower")
	if strings.Contains(follower.Log(), "neither votes nor leads") {
		awaitLog(t, follower, "the transaction log is repaired")
	}
	c := connect(t, follower.Addr())
	defer c.Close()
	if _, err := c.Sync("/d"); err != nil {
		t.Fatal(err)
	}
	kids, _, err := c.Children("/d")
	if err != nil {
		t.Fatal(err)
	}
	if len(kids) != creates {
		t.Fatalf("the follower serves %d of %d acknowledged creates", len(kids), creates)
	}
}
