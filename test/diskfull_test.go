package test

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkgo/zkgo/test/harness"
)

// smallDisk mounts a tmpfs of size bytes on a new directory and returns it;
// grow makes it larger (space returns). It needs root.
func smallDisk(t *testing.T, size string) (dir string, grow func(size string)) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small file system needs root (CI runs as root)")
	}
	dir = t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir, func(size string) {
		if out, err := exec.Command("mount", "-o", "remount,size="+size, dir).CombinedOutput(); err != nil {
			t.Fatalf("remount tmpfs: %v: %s", err, out)
		}
	}
}

// fillUntilRefused creates 4 KB znodes under /full from 8 goroutines until
// the server refuses or stops answering, and returns the acknowledged ones.
func fillUntilRefused(t *testing.T, c *zk.Conn, limit int) map[string]bool {
	t.Helper()
	if _, err := c.Create("/full", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 4096)
	var mu sync.Mutex
	acked := map[string]bool{}
	var wg sync.WaitGroup
	next := make(chan int)
	stop := make(chan struct{})
	var once sync.Once
	for range 8 {
		wg.Go(func() {
			for i := range next {
				p := fmt.Sprintf("/full/n%05d", i)
				if _, err := c.Create(p, data, 0, zk.WorldACL(zk.PermAll)); err != nil {
					once.Do(func() { close(stop) })
					return
				}
				mu.Lock()
				acked[p] = true
				mu.Unlock()
			}
		})
	}
feed:
	for i := range limit {
		select {
		case next <- i:
		case <-stop:
			break feed
		}
	}
	close(next)
	wg.Wait()
	return acked
}

// TestDiskFull: a standalone server whose disk fills up stops accepting
// writes (fail-stop: a write it cannot make durable is never
// acknowledged); once space returns it starts again with every
// acknowledged write.
func TestDiskFull(t *testing.T) {
	dir, grow := smallDisk(t, "24m")
	srv := harness.StartOurs(t, map[string]string{"dataDir": dir})
	c, _, err := zk.Connect([]string{srv.Addr()}, 5*time.Second, zk.WithLogger(quietLogger{}))
	if err != nil {
		t.Fatal(err)
	}
	acked := fillUntilRefused(t, c, 20000)
	c.Close()
	if len(acked) == 0 || len(acked) >= 20000 {
		t.Fatalf("%d creates acknowledged: the disk never filled, or nothing was written", len(acked))
	}
	select {
	case <-srv.Exited():
	case <-time.After(30 * time.Second):
		t.Fatal("the server goes on without a writable disk")
	}
	if log := srv.Log(); !strings.Contains(strings.ToLower(log), "no space left on device") {
		t.Fatalf("the server's log does not say the disk is full:\n%s", log)
	}
	t.Logf("disk full after %d acknowledged creates", len(acked))

	grow("256m")
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	c = connect(t, srv.Addr())
	defer c.Close()
	kids, _, err := c.Children("/full")
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, k := range kids {
		have["/full/"+k] = true
	}
	for p := range acked {
		if !have[p] {
			t.Fatalf("acknowledged %s is gone after the disk filled (%d of %d kept)", p, len(kids), len(acked))
		}
	}
	if _, err := c.Create("/after", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatalf("no write once space returned: %v", err)
	}
}
