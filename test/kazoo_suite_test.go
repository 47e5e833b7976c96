package test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zkgo/zkgo/test/harness"
)

// kazoo's own test suite (Debian's python3-kazoo ships it as the package
// kazoo.tests) run against one standalone server through the pytest plugin
// test/kazoo/kazoo_shim.py, which stands in for kazoo's harness (a
// three-server Java ensemble) and deselects the tests that need one.
const (
	// kazooShimDir holds kazoo_shim.py; relative to the package directory,
	// where go test runs.
	kazooShimDir = "kazoo"
	// kazooSuiteTimeout bounds the whole pytest run (about 70s here on two
	// cores, for Apache ZooKeeper and for zkserver alike).
	kazooSuiteTimeout = 165 * time.Second
	// kazooTestTimeout bounds one test phase (KAZOO_SHIM_TIMEOUT): kazoo
	// waits forever for a reply the server never sends. The slowest test
	// takes about 10s.
	kazooTestTimeout = 20 * time.Second
	// kazooOutputLimit caps how much of pytest's output a failure prints.
	kazooOutputLimit = 64 << 10
)

// kazooSuitePackages are the Debian packages the suite needs beyond
// python3-kazoo: pytest, and the modules kazoo's tests import.
var kazooSuitePackages = []string{"python3-pytest", "python3-mock", "python3-objgraph"}

// kazooSuiteCfg is what kazoo's harness (kazoo/testing/common.py and
// harness.py) puts in each server's zoo.cfg and JVM flags, less the
// ensemble and SASL: no per-IP connection limit, reconfig enabled, and the
// superuser super:test.
var kazooSuiteCfg = map[string]string{
	"maxClientCnxns":  "0",
	"reconfigEnabled": "true",
	"DigestAuthenticationProvider.superDigest": "super:D/InIHSb7yEEbrWz8b9l71RjZJU=",
}

// TestKazooSuite runs kazoo's test suite against zkserver and fails listing
// every kazoo test that failed. With DIFF_SELF=1 it runs against Apache
// ZooKeeper instead, to check the suite and the shim themselves:
//
//	go test ./test -run TestKazooSuite -v
//	DIFF_SELF=1 go test ./test -run TestKazooSuite -v
//
// Tests that stop and restart the server do so through a control endpoint
// served here (KAZOO_SHIM_CONTROL), with harness.Server.Stop and Restart.
func TestKazooSuite(t *testing.T) {
	name, startServer := "ours", harness.StartOurs
	if os.Getenv(envDiffSelf) == "1" {
		name, startServer = "apache (DIFF_SELF=1)", harness.StartApache
	}
	runKazooSuite(t, name, []*harness.Server{startServer(t, kazooSuiteCfg)}, nil)
}

// TestKazooSuiteEnsemble runs the same suite against a 3-server ensemble of
// ours: clients are given all three servers, and the tests that stop and
// restart servers do so one server at a time. TestReconfig runs too.
func TestKazooSuiteEnsemble(t *testing.T) {
	runKazooSuite(t, "our 3-server ensemble", harness.StartEnsemble(t, 3, kazooSuiteCfg), []string{"KAZOO_SHIM_RECONFIG=1"})
}

// runKazooSuite runs kazoo's suite, or only the given tests (node ids
// relative to kazoo/tests), against servers, with env added to pytest's
// environment.
func runKazooSuite(t *testing.T, name string, servers []*harness.Server, env []string, tests ...string) {
	requireClient(t, debianPython, "python3")
	testsDir := kazooSuiteSetup(t)
	shim, err := filepath.Abs(kazooShimDir)
	if err != nil {
		t.Fatal(err)
	}
	control := serveKazooControl(t, servers)
	addrs := make([]string, len(servers))
	for i, s := range servers {
		addrs[i] = s.Addr()
	}

	dir := t.TempDir()
	report := filepath.Join(dir, "report.tsv")
	targets := []string{testsDir}
	if len(tests) > 0 {
		targets = targets[:0]
		for _, id := range tests {
			targets = append(targets, filepath.Join(testsDir, id))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), kazooSuiteTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, debianPython, "-m", "pytest",
		"-p", "kazoo_shim", "-p", "no:cacheprovider", "-p", "no:warnings",
		"-q", "-rfE")
	cmd.Args = append(cmd.Args, targets...)
	cmd.Dir = dir
	cmd.Env = append(kazooEnv(),
		"PYTHONPATH="+shim,
		"PYTHONDONTWRITEBYTECODE=1",
		"KAZOO_SHIM_HOSTS="+strings.Join(addrs, ","),
		"KAZOO_SHIM_CONTROL="+control,
		"KAZOO_SHIM_REPORT="+report,
		fmt.Sprintf("KAZOO_SHIM_TIMEOUT=%d", int(kazooTestTimeout/time.Second)),
	)
	cmd.Env = append(cmd.Env, env...)
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	began := time.Now()
	runErr := cmd.Run()
	took := time.Since(began).Round(time.Second)
	if testing.Verbose() {
		t.Logf("pytest output:\n%s", tailString(out.String(), kazooOutputLimit))
	}
	res, err := readKazooReport(report)
	if err != nil {
		t.Fatalf("kazoo suite against %s: no results (%v; pytest: %v); output:\n%s",
			name, err, runErr, tailString(out.String(), kazooOutputLimit))
	}
	t.Logf("kazoo suite against %s: %d passed, %d failed, %d skipped, %d deselected in %v",
		name, res.passed, len(res.failed), len(res.skipped), res.deselected, took)
	for _, s := range res.skipped {
		t.Logf("skipped %s", s)
	}
	var problems []string
	if ctx.Err() != nil {
		problems = append(problems, fmt.Sprintf("the run was killed after %v, during %s", kazooSuiteTimeout, res.running))
	} else if runErr != nil && len(res.failed) == 0 {
		problems = append(problems, fmt.Sprintf("pytest: %v", runErr))
	}
	if len(res.failed) > 0 {
		problems = append(problems, fmt.Sprintf("%d tests failed:\n  %s", len(res.failed), strings.Join(res.failed, "\n  ")))
	}
	if len(problems) > 0 {
		t.Errorf("kazoo suite against %s: %s\npytest output:\n%s",
			name, strings.Join(problems, "\n"), tailString(out.String(), kazooOutputLimit))
	}
}

// kazooSuiteSetup makes sure /usr/bin/python3 can run kazoo's test suite,
// installing kazooSuitePackages with apt-get when they are missing and we
// may (root), and returns the directory of the suite (kazoo/tests).
func kazooSuiteSetup(t *testing.T) string {
	t.Helper()
	const probe = "import os, pytest, mock, objgraph, kazoo.tests, kazoo.testing; print(os.path.dirname(kazoo.tests.__file__))"
	run := func() (string, error) {
		cmd := exec.Command(debianPython, "-c", probe)
		cmd.Env = kazooEnv()
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	dir, err := run()
	if err != nil && os.Geteuid() == 0 {
		if _, lookErr := exec.LookPath("apt-get"); lookErr == nil {
			t.Logf("kazoo suite: %v (%s); installing %s", err, lastLine(dir), strings.Join(kazooSuitePackages, " "))
			if aptErr := aptInstall(kazooSuitePackages); aptErr != nil {
				t.Logf("kazoo suite: %v", aptErr)
			}
			dir, err = run()
		}
	}
	if err != nil {
		t.Fatalf("%s cannot run kazoo's test suite (%v: %s): install the Debian packages python3-kazoo %s",
			debianPython, err, lastLine(dir), strings.Join(kazooSuitePackages, " "))
	}
	return dir
}

// aptInstall installs Debian packages, updating the package lists first
// only if the plain install fails.
func aptInstall(pkgs []string) error {
	install := func() error {
		cmd := exec.Command("apt-get", append([]string{"install", "-y", "-qq"}, pkgs...)...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("apt-get install: %v: %s", err, lastLine(string(out)))
		}
		return nil
	}
	if install() == nil {
		return nil
	}
	if out, err := exec.Command("apt-get", "update", "-qq").CombinedOutput(); err != nil {
		return fmt.Errorf("apt-get update: %v: %s", err, lastLine(string(out)))
	}
	return install()
}

// kazooEnv is the environment for Debian's python3: ours, less what could
// point it at another Python's modules or change pytest's options.
func kazooEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "PYTHON"), strings.HasPrefix(k, "PYTEST_"), strings.HasPrefix(k, "KAZOO_"),
			strings.HasPrefix(k, "ZOOKEEPER_"), k == "TRAVIS":
			continue
		}
		env = append(env, kv)
	}
	return env
}

// serveKazooControl serves the shim's control endpoint for srv on
// 127.0.0.1 (GET /stop, GET /start) until the test ends, and returns its
// base URL.
func serveKazooControl(t *testing.T, servers []*harness.Server) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("kazoo suite: control endpoint: %v", err)
	}
	var mu sync.Mutex
	mux := http.NewServeMux()
	server := func(r *http.Request) *harness.Server {
		i, err := strconv.Atoi(r.URL.Query().Get("server"))
		if err != nil || i < 0 || i >= len(servers) {
			return nil
		}
		return servers[i]
	}
	mux.HandleFunc("GET /stop", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		srv := server(r)
		if srv == nil {
			http.Error(w, "no such server", http.StatusBadRequest)
			return
		}
		srv.Stop()
		fmt.Fprintln(w, "stopped")
	})
	mux.HandleFunc("GET /start", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		srv := server(r)
		if srv == nil {
			http.Error(w, "no such server", http.StatusBadRequest)
			return
		}
		if err := srv.Restart(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "started")
	})
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := hs.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("kazoo suite: control endpoint: %v", err)
		}
	}()
	t.Cleanup(func() {
		hs.Close()
		<-done
	})
	return "http://" + l.Addr().String()
}

// kazooResults is what the shim's report (KAZOO_SHIM_REPORT) says.
type kazooResults struct {
	passed, deselected int
	// failed and skipped name each such test with its reason.
	failed, skipped []string
	// running is the test that started last and has not finished.
	running string
}

// readKazooReport reads the shim's report, written as the tests ran.
func readKazooReport(path string) (kazooResults, error) {
	var res kazooResults
	b, err := os.ReadFile(path)
	if err != nil {
		return res, err
	}
	type state struct {
		failed, skipped, passed bool
		reasons                 []string
	}
	var order []string
	tests := map[string]*state{}
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 2 {
			continue
		}
		if f[0] == "start" {
			res.running = kazooTestName(f[1])
			continue
		}
		if f[0] == "end" {
			res.running = ""
			continue
		}
		if f[0] == "deselected" {
			res.deselected++
			continue
		}
		if len(f) < 4 {
			continue
		}
		id := kazooTestName(f[2])
		st := tests[id]
		if st == nil {
			st = &state{}
			tests[id] = st
			order = append(order, id)
		}
		reason := f[1] + ": " + f[3]
		switch f[0] {
		case "failed":
			st.failed = true
			st.reasons = append(st.reasons, reason)
		case "skipped":
			st.skipped = true
			st.reasons = append(st.reasons, reason)
		case "passed":
			st.passed = true
		}
	}
	for _, id := range order {
		st := tests[id]
		switch {
		case st.failed:
			res.failed = append(res.failed, id+" ("+strings.Join(st.reasons, "; ")+")")
		case st.skipped:
			res.skipped = append(res.skipped, id+" ("+strings.Join(st.reasons, "; ")+")")
		case st.passed:
			res.passed++
		}
	}
	if len(order) == 0 {
		return res, fmt.Errorf("%s: no test ran", path)
	}
	return res, nil
}

// kazooTestName is a pytest node id without the directory of its file:
// "test_client.py::TestClient::test_create".
func kazooTestName(nodeid string) string {
	file, rest, _ := strings.Cut(nodeid, "::")
	return filepath.Base(file) + "::" + rest
}

// lastLine returns the last non-empty line of s, shortened.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	l := strings.TrimSpace(lines[len(lines)-1])
	if len(l) > 300 {
		l = l[:300] + "..."
	}
	return l
}

// tailString returns at most the last limit bytes of s.
func tailString(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	return "...\n" + s[len(s)-limit:]
}
