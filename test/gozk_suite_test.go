package test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zkgo/zkgo/test/harness"
)

// go-zookeeper's own test suite (the module's *_test.go, unit and
// integration tests, single-server and cluster) run against our zkserver.
// Its harness (server_java_test.go) runs $ZOOKEEPER_BIN_PATH/zkServer.sh
// start-foreground <zoo.cfg> with SERVER_JVMFLAGS naming the superuser
// digest, extendedTypesEnabled and emulate353TTLNodes; a shim script there
// runs our binary instead (zkserver honours SERVER_JVMFLAGS).
const (
	gozkModule = "github.com/go-zookeeper/zk"
	// gozkSuiteTimeout bounds the whole go test run against zkserver
	// (about 80-100s here on two busy cores; its cluster tests start
	// several servers and wait for them).
	gozkSuiteTimeout = 170 * time.Second
	// gozkApacheSuiteTimeout is the same against Apache ZooKeeper, whose
	// JVMs start slowly (DIFF_SELF=1).
	gozkApacheSuiteTimeout = 10 * time.Minute
	// gozkOutputLimit caps the output printed for one failing test.
	gozkOutputLimit = 16 << 10
)

// gozkKnownFailures are the suite's tests that fail against zkserver today,
// each with the reason. They are reported but not counted as passing; a
// known failure that passes is reported too, so that the list shrinks.
var gozkKnownFailures = map[string]string{
	// None since reconfig (dynamic membership) landed: until then
	// TestIntegration_Reconfig and TestIntegration_IncrementalReconfig
	// were here, "reconfig in progress".
}

// gozkFlaky are the suite's tests that fail against zkserver some of the
// time, each with the reason. Either outcome is logged; neither counts as
// passing.
var gozkFlaky = map[string]string{
	// TestIntegration_ClientClusterFailover was here until followers
	// re-validated a reconnecting session through the leader (as Apache's
	// REVALIDATE): its client got a session from a follower that had not
	// yet noticed the leader's death.
	//
	// The test kills the server its client is on (and waits for the
	// process to exit), starts it again and sends a create at once. When
	// go-zookeeper's receive loop has not yet read the end of the old
	// connection, the create goes out on it and fails with "connection
	// closed" (once in CI, on the 2-core machine running the packages side
	// by side). Likely why Apache's runs pass: a JVM takes longer than our
	// server to tear down, which leaves the client more time (not
	// measured). Its other failure, "still connected ... after restart"
	// (the other servers refused the client because they had not applied
	// the zxid it had seen), was ours: the leader sent its COMMIT before
	// applying; TestLeaderNeverBehindAFollower covers it.
	"TestIntegration_DNSHostProviderReconnect": "create sent on the killed server's connection before the client saw it end, once",

	// TestIntegration_IncrementalReconfig was here (it still is in
	// gozkApacheFlaky) until a follower holding its clients kept the
	// revalidations of re-attaching sessions for the next leader: removing
	// server 3, the leader, ends the client's connection to it, and a
	// follower that lost 3 as its client re-attached closed that
	// connection; when both did, go-zookeeper failed the next request with
	// "could not connect to a server" (once in CI against ours).
}

// gozkApacheKnownFailures are the tests that fail against Apache ZooKeeper
// 3.8 itself (DIFF_SELF=1): the suite's own failures. With debianSrvrPatch
// there are none: all 47 tests passed against Debian's 3.8.0 here.
var gozkApacheKnownFailures = map[string]string{}

// gozkApacheFlaky are the tests that fail against Apache ZooKeeper some of
// the time.
var gozkApacheFlaky = map[string]string{
	// Failed in one of two runs here: after removing server 3, adding
	// server 4 failed with "zk: could not connect to a server".
	"TestIntegration_IncrementalReconfig": "adding a server after removing one: could not connect to a server, once",
}

// TestGoZookeeperSuite runs go-zookeeper's test suite, at the version in our
// go.mod, against zkserver and fails listing every test that failed and is
// not a known failure. With DIFF_SELF=1 it runs against Apache ZooKeeper
// instead, to tell the suite's own failures from ours:
//
//	go test ./test -run TestGoZookeeperSuite -v
//	DIFF_SELF=1 go test ./test -run TestGoZookeeperSuite -v
func TestGoZookeeperSuite(t *testing.T) {
	name, known, flakyTests := "ours", gozkKnownFailures, gozkFlaky
	if os.Getenv(envDiffSelf) == "1" {
		name, known, flakyTests = "apache (DIFF_SELF=1)", gozkApacheKnownFailures, gozkApacheFlaky
	}
	shimDir := goZKShim(t, os.Getenv(envDiffSelf) == "1")

	timeout := gozkSuiteTimeout
	if os.Getenv(envDiffSelf) == "1" {
		timeout = gozkApacheSuiteTimeout
	}
	results, output := runGoZKSuite(t, goZKUpstream, shimDir, timeout, os.Getenv(envDiffSelf) == "1")
	var passed, failed, knownFailed, skipped, flaky []string
	var fixed []string
	for _, test := range slices.Sorted(maps.Keys(results)) {
		switch res := results[test]; {
		case flakyTests[test] != "":
			flaky = append(flaky, fmt.Sprintf("%s: %s (%s)", test, res, flakyTests[test]))
		case res == "pass" && known[test] != "":
			fixed = append(fixed, test)
			passed = append(passed, test)
		case res == "pass":
			passed = append(passed, test)
		case res == "skip":
			skipped = append(skipped, test)
		case known[test] != "":
			knownFailed = append(knownFailed, fmt.Sprintf("%s (%s)", test, known[test]))
		default:
			failed = append(failed, test)
		}
	}
	t.Logf("go-zookeeper suite against %s: %d tests, %d passed, %d failed, %d known failures, %d flaky, %d skipped",
		name, len(results), len(passed), len(failed), len(knownFailed), len(flaky), len(skipped))
	for _, f := range flaky {
		t.Logf("flaky, not counted: %s", f)
	}
	for _, k := range knownFailed {
		test, _, _ := strings.Cut(k, " ")
		t.Logf("known failure: %s: %s", k, failureLines(output[test]))
	}
	if len(skipped) > 0 {
		// Every test of the suite runs here (ZK_VERSION is set for the
		// reconfig tests): a skip means something is missing.
		t.Errorf("skipped, so not run: %s", strings.Join(skipped, ", "))
	}
	for _, test := range fixed {
		t.Errorf("%s passes now: remove it from the known failures", test)
	}
	for _, test := range failed {
		t.Errorf("%s failed against %s; its output:\n%s", test, name, tailString(output[test], gozkOutputLimit))
	}
	for _, test := range slices.Sorted(maps.Keys(known)) {
		if _, ok := results[test]; !ok {
			t.Errorf("known failure %s did not run", test)
		}
	}
	// The suite must have run: a handful of results means it broke early.
	if len(passed) < 30 {
		t.Errorf("only %d tests passed; the suite did not run as it should", len(passed))
	}
}

// goZKShim writes the zkServer.sh that go-zookeeper's harness (and its
// forks') runs as $ZOOKEEPER_BIN_PATH/zkServer.sh start-foreground
// <zoo.cfg>, running Apache ZooKeeper if apache, else zkserver, and returns
// its directory.
func goZKShim(t *testing.T, apache bool) string {
	t.Helper()
	shimDir := t.TempDir()
	shim := filepath.Join(shimDir, "zkServer.sh")
	// The suite's zoo.cfg leaves out clientPortAddress: the shim runs the
	// server on a copy that adds clientPortAddress=127.0.0.1. exec makes the
	// server the process the suite kills.
	prologue := "#!/bin/sh\n# go-zookeeper's harness runs: zkServer.sh start-foreground <zoo.cfg>\n" +
		"set -e\ncfg=\"$2.local\"\n{ cat \"$2\"; echo clientPortAddress=127.0.0.1; } > \"$cfg\"\n"
	if apache {
		java, classpath := harness.ApacheJava(t)
		log4j := filepath.Join(shimDir, "log4j.properties")
		if err := os.WriteFile(log4j, []byte("log4j.rootLogger=INFO, CONSOLE\n"+
			"log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender\n"+
			"log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout\n"+
			"log4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} %-5p [%t] - %m%n\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		writeScript(t, shim, prologue+fmt.Sprintf(
			"exec %q -Xmx256m -XX:+UseSerialGC -Dlog4j.configuration=file:%s -Dzookeeper.jmx.log4j.disable=true $SERVER_JVMFLAGS -cp %q org.apache.zookeeper.server.quorum.QuorumPeerMain \"$cfg\"\n",
			java, log4j, classpath))
	} else {
		bin := harness.BuildOurs(t)
		writeScript(t, shim, prologue+fmt.Sprintf("exec %q start-foreground \"$cfg\"\n", bin))
	}
	return shimDir
}

// goZKSuite is a go-zookeeper module, or a fork of it, whose own tests
// runGoZKSuite runs.
type goZKSuite struct {
	module string
	// version is the module's version; empty for the one in our go.mod.
	version string
	// pkg is the directory of the package under test in the module.
	pkg string
	// zkVersion is the suite's ZK_VERSION, which some of its tests need
	// to run at all.
	zkVersion string
	// patches are replacements made in the package's files before the
	// run, by file name.
	patches map[string][][2]string
}

// goZKUpstream is go-zookeeper itself, at the version in our go.mod.
var goZKUpstream = goZKSuite{module: gozkModule, pkg: ".", zkVersion: "3.8.0"}

// debianSrvrPatch makes go-zookeeper's srvr parser (FLWSrvr, which its
// cluster harness polls until every server is healthy) also accept the
// version line of Debian's Apache ZooKeeper build, "Zookeeper version:
// 3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC": the suite
// expects "built on 01/02/2006 15:04 MST" and a version without "${}", so
// against Debian's jars none of its cluster tests would start. Applied to
// the copy for runs against Apache only; zkserver answers in the format of
// Apache's release builds and needs no patch.
var debianSrvrPatch = [][2]string{
	{`^Zookeeper version: ([A-Za-z0-9\.\-]+), built on (\d\d/\d\d/\d\d\d\d \d\d:\d\d [A-Za-z0-9:\+\-]+)`,
		`^Zookeeper version: ([A-Za-z0-9\.\-${}]+), built on (\d\d/\d\d/\d\d\d\d \d\d:\d\d [A-Za-z0-9:\+\-]+|\d{4}-\d\d-\d\d \d\d:\d\d [A-Z]+)`},
	{`time.Parse("01/02/2006 15:04 MST", match[1])`,
		`time.Parse(map[bool]string{false: "01/02/2006 15:04 MST", true: "2006-01-02 15:04 MST"}[match[1][4] == '-'], match[1])`},
}

// runGoZKSuite copies the suite's module directory (read-only in the
// module cache) into a temporary directory, applies its patches (and, with
// debian, debianSrvrPatch to flw.go) to the package's files, runs the package's
// tests there with go test -json and ZOOKEEPER_BIN_PATH=binPath, and
// returns each top-level test's result (pass, fail, skip) and output.
func runGoZKSuite(t *testing.T, suite goZKSuite, binPath string, timeout time.Duration, debian bool) (results, output map[string]string) {
	t.Helper()
	var out []byte
	var err error
	if suite.version == "" {
		out, err = exec.Command("go", "list", "-m", "-json", suite.module).Output()
	} else {
		out, err = exec.Command("go", "mod", "download", "-json", suite.module+"@"+suite.version).Output()
	}
	if err != nil {
		t.Fatalf("go list or download %s: %v", suite.module, err)
	}
	var mod struct{ Path, Version, Dir string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		t.Fatalf("module %s: no module directory (%v): run go mod download", suite.module, err)
	}
	src := filepath.Join(t.TempDir(), "zk")
	if err := os.CopyFS(src, os.DirFS(mod.Dir)); err != nil {
		t.Fatalf("copy %s: %v", mod.Dir, err)
	}
	t.Logf("%s %s from %s", suite.module, mod.Version, mod.Dir)
	patches := maps.Clone(suite.patches)
	if debian {
		if patches == nil {
			patches = map[string][][2]string{}
		}
		patches["flw.go"] = append(slices.Clip(patches["flw.go"]), debianSrvrPatch...)
	}
	for _, file := range slices.Sorted(maps.Keys(patches)) {
		path := filepath.Join(src, suite.pkg, file)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range patches[file] {
			if !bytes.Contains(b, []byte(r[0])) {
				t.Fatalf("%s: no %q to patch", path, r[0])
			}
			b = bytes.Replace(b, []byte(r[0]), []byte(r[1]), 1)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "test", "-json", "-count=1",
		fmt.Sprintf("-timeout=%ds", int(timeout/time.Second)-10), "./"+suite.pkg)
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "ZOOKEEPER_BIN_PATH="+binPath, "ZK_VERSION="+suite.zkVersion, "GOWORK=off", "GOFLAGS=-mod=mod")
	cmd.WaitDelay = 5 * time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	began := time.Now()
	stdout, err := cmd.Output()
	t.Logf("go test ran for %v (%v)", time.Since(began).Round(time.Second), err)

	results, output = map[string]string{}, map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(stdout))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var ev struct{ Action, Test, Output string }
		if json.Unmarshal(sc.Bytes(), &ev) != nil || ev.Test == "" {
			continue
		}
		top, _, _ := strings.Cut(ev.Test, "/")
		switch ev.Action {
		case "output":
			output[top] += ev.Output
		case "pass", "fail", "skip":
			if top == ev.Test {
				results[top] = ev.Action
			}
		}
	}
	if len(results) == 0 {
		t.Fatalf("go test in %s gave no results (%v):\n%s\n%s", src, err, tailString(stderr.String(), gozkOutputLimit), tailString(string(stdout), gozkOutputLimit))
	}
	if ctx.Err() != nil {
		t.Errorf("%s's suite did not finish within %v", suite.module, timeout)
	}
	return results, output
}

func writeScript(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
}

// failureLine matches the lines a failing go test prints for t.Error and
// t.Fatal ("    zk_test.go:402: ..."), less the server logs the suite
// prints through the same calls ("[ZKERR]").
var failureLine = regexp.MustCompile(`^\s+\w+_test\.go:\d+: `)

// failureLines returns the t.Error and t.Fatal lines of a test's output,
// joined with " | ".
func failureLines(output string) string {
	var lines []string
	for _, l := range strings.Split(output, "\n") {
		if failureLine.MatchString(l) && !strings.Contains(l, "[ZKERR]") {
			lines = append(lines, strings.TrimSpace(l))
		}
	}
	return strings.Join(lines, " | ")
}
