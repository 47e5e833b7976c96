package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
