package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/zkgo/zkgo/test/harness"
)

// TestServiceVerbs runs start, status, restart and stop as zkServer.sh
// users do, on the built binary.
func TestServiceVerbs(t *testing.T) {
	bin := harness.BuildOurs(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "zoo.cfg")
	port := harness.FreePort(t)
	os.WriteFile(cfg, []byte(fmt.Sprintf("tickTime=2000\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n", dir, port)), 0o644)
	run := func(verb string, wantOK bool, want ...string) {
		t.Helper()
		out, err := exec.Command(bin, verb, cfg).CombinedOutput()
		if (err == nil) != wantOK {
			t.Fatalf("%s: err %v\n%s", verb, err, out)
		}
		for _, w := range want {
			if !strings.Contains(string(out), w) {
				t.Fatalf("%s: output lacks %q:\n%s", verb, w, out)
			}
		}
	}
	t.Cleanup(func() { exec.Command(bin, "stop", cfg).Run() })
	run("start", true, "STARTED")
	run("start", false, "already running")
	run("status", true, fmt.Sprintf("Client port found: %d.", port), "Mode: standalone")
	run("restart", true, "STOPPED", "STARTED")
	run("stop", true, "STOPPED")
	run("status", false, "It is probably not running")
	run("stop", true, "no zookeeper to stop")
}

// TestStopWhenConfigNoLongerLoads stops a server whose configuration was
// rewritten under it into one that does not load, as a reconfig does to a
// server it removes (its zoo.cfg then names a dynamic file without its
// myid): stop, as zkServer.sh's, needs only the dataDir line.
func TestStopWhenConfigNoLongerLoads(t *testing.T) {
	bin := harness.BuildOurs(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "zoo.cfg")
	port := harness.FreePort(t)
	base := fmt.Sprintf("tickTime=2000\ninitLimit=5\nsyncLimit=2\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n", dir, port)
	if err := os.WriteFile(cfg, []byte(base), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { exec.Command(bin, "stop", cfg).Run() })
	if out, err := exec.Command(bin, "start", cfg).CombinedOutput(); err != nil {
		t.Fatalf("start: %v\n%s", err, out)
	}
	pid, alive := readPid(dir)
	if !alive {
		t.Fatal("no live pid in the pid file after start")
	}
	if err := os.WriteFile(filepath.Join(dir, "myid"), []byte("3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	broken := base + "server.1=127.0.0.1:2888:3888\nserver.2=127.0.0.1:2889:3889\n"
	if err := os.WriteFile(cfg, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "status", cfg).CombinedOutput(); err == nil {
		t.Fatalf("the rewritten configuration still loads (status: %s)", out)
	}
	out, err := exec.Command(bin, "stop", cfg).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "STOPPED") {
		t.Fatalf("stop: %v\n%s", err, out)
	}
	if syscall.Kill(pid, 0) == nil {
		t.Errorf("process %d still runs after stop", pid)
	}
}
