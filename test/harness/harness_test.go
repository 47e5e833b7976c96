package harness

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

func TestStartApache(t *testing.T) {
	s := StartApache(t, map[string]string{"maxClientCnxns": "7"})
	for _, tt := range []struct{ cmd, want string }{
		{"ruok", "imok"},
		{"srvr", "Mode: standalone"},
		{"conf", "maxClientCnxns=7"},
	} {
		got, err := s.FourLetter(tt.cmd)
		if err != nil || !strings.Contains(got, tt.want) {
			t.Errorf("FourLetter(%q) = %q, %v; want it to contain %q", tt.cmd, got, err, tt.want)
		}
	}
	s.Stop()
	if _, err := s.FourLetter("ruok"); err == nil {
		t.Errorf("server still answers after Stop")
	}
	if _, err := os.Stat(s.Dir() + "/zoo.cfg"); err != nil {
		t.Errorf("zoo.cfg: %v", err)
	}
}

func TestZooCfg(t *testing.T) {
	got := zooCfg("/d", 1234, map[string]string{"tickTime": "100", "b": "2", "a": "1"})
	want := "tickTime=100\ndataDir=/d\nclientPort=1234\nclientPortAddress=127.0.0.1\n" +
		"admin.enableServer=false\n4lw.commands.whitelist=*\na=1\nb=2\n"
	if got != want {
		t.Errorf("zooCfg =\n%s\nwant\n%s", got, want)
	}
}

func TestStartRetriesTakenPort(t *testing.T) {
	attempts := 0
	s := start(t, "retry", nil, func(dir, cfg string) *exec.Cmd {
		attempts++
		if attempts == 1 {
			return exec.Command("sh", "-c", "echo 'java.net.BindException: Address already in use'; exit 1")
		}
		return apacheCmd(t, dir, cfg)
	})
	if attempts != 2 {
		t.Errorf("attempts = %d, want 2", attempts)
	}
	if got, err := s.FourLetter("ruok"); got != "imok" {
		t.Errorf("ruok = %q, %v", got, err)
	}
}

// TestFaultyEnsembleSlowDisk checks the slow-disk hook end to end: with
// every server's fsync delayed, a write cannot be acknowledged before the
// delay has passed (a proposal is acked only once durable), and removing the
// delay leaves the ensemble serving.
func TestFaultyEnsembleSlowDisk(t *testing.T) {
	servers, nw := StartFaultyEnsemble(t, 3, map[string]string{"tickTime": "500"})
	if got := nw.String(); got != "healthy" {
		t.Errorf("new network: %s", got)
	}
	const delay = 400 * time.Millisecond
	for _, s := range servers {
		if err := s.SetFsyncDelay(delay); err != nil {
			t.Fatal(err)
		}
	}
	c, _, err := zk.Connect([]string{servers[0].Addr()}, 10*time.Second, zk.WithLogger(quiet{}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	began := time.Now()
	if _, err := c.Create("/slow", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatalf("create: %v", err)
	}
	if took := time.Since(began); took < delay {
		t.Errorf("a write was acknowledged after %v, before the injected fsync delay of %v", took, delay)
	}
	for _, s := range servers {
		if err := s.SetFsyncDelay(0); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Create("/fast", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatalf("create after removing the delay: %v", err)
	}
}

type quiet struct{}

func (quiet) Printf(string, ...any) {}
