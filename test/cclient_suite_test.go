package test

import (
	"bytes"
	"context"
	"errors"
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

// Apache's C client 3.8.2 comes with a cppunit suite (zktest-mt: 89 tests,
// some against mocks, most against a live server). It
// starts and stops its standalone server through ./tests/zkServer.sh and
// its ensembles (reconfig tests) through $ZKROOT/bin/zkServer.sh; here the
// first is test/cclient/zkServer.sh, which starts our zkserver or Apache
// ZooKeeper with the original's configuration, and the second runs
// `zkserver start|stop|status` or Debian's real zkServer.sh.
//
// test/cclient/install.sh installs the Debian packages the suite needs and
// builds it from the npm package zookeeper@7.3.0 into the user's cache
// directory; `make test` runs it first.
const (
	// cclientInstallScript and cclientServerScript are relative to the
	// package directory, where go test runs.
	cclientInstallScript = "cclient/install.sh"
	cclientServerScript  = "cclient/zkServer.sh"
	// cclientVersion names the build directory, as install.sh does.
	cclientVersion = "cclient-3.8.2"
	// cclientSuiteTimeout bounds the whole run: here on two cores, 3.5
	// minutes against zkserver, 5 to 8 against Apache ZooKeeper.
	cclientSuiteTimeout = 12 * time.Minute
	// cclientOutputLimit caps how much output a failure prints.
	cclientOutputLimit = 64 << 10
)

// cclientNettyJars go on Apache ZooKeeper's classpath beside the harness's
// jars: the Netty server (the suite's configuration, for its TLS port)
// needs them and Debian's zookeeper.jar leaves them out of its manifest.
const cclientNettyJars = "/usr/share/java/netty-codec.jar:/usr/share/java/netty-resolver.jar"

// debianZkServerSh is Apache ZooKeeper's zkServer.sh (Debian package
// zookeeper).
const debianZkServerSh = "/usr/share/zookeeper/bin/zkServer.sh"

// cclientExpectedFailures are the suite's tests that fail against zkserver,
// each with the reason; every test passed against Apache ZooKeeper 3.8.0
// here.
// A listed test that passes is reported in the log (it should then leave
// the list); any other failure fails the test.
var cclientExpectedFailures = map[string]string{
	"TestReconfigServer::testNonIncremental": "the first config version of a static configuration is <epoch>00000001 " +
		"(Apache's is the NEWLEADER zxid, <epoch>00000000; README.md, Status), and each later one is one zxid further on",
	"TestReconfigServer::testRemoveFollower": "the config versions, as testNonIncremental",
}

// cclientTimingDependent are the suite's tests whose outcome depends on the
// order of the client's own threads, against either server, each with the
// reason. Their outcome is logged and not counted, for both servers.
var cclientTimingDependent = map[string]string{
	// A test of the client alone: its hosts are 127.0.0.1:2001-2010, where
	// no server listens, and whether shrinking the list to 2001-2004 must
	// move the client depends on the host its I/O thread happens to be
	// trying at that moment (failed once in CI in 2 ms; it passes against
	// either server otherwise).
	"Zookeeper_reconfig::testcycleNextServer": "client-only and timing-dependent: no server is contacted",
	// Its child watcher makes a synchronous getChildren from the
	// completion thread and asserts ZOK or ZCLOSING, while the main thread
	// may already be in zookeeper_close; which of the two threads gets
	// there first decides. Under two busy loops it aborted zktest-mt in 3
	// of 25 runs against zkserver and in 4 of 25 against Apache 3.8.
	"Zookeeper_simpleSystem::testHangingClient": "the watcher's synchronous call races zookeeper_close in the client",
}

// TestCClientSuite runs Apache's C client cppunit suite against zkserver
// and fails listing every test that failed and is not an expected failure.
// With DIFF_SELF=1 it runs against Apache ZooKeeper instead, to check the
// suite, the scripts and the exception lists:
//
//	go test ./test -run TestCClientSuite -v
//	DIFF_SELF=1 go test ./test -run TestCClientSuite -v
//
// The suite uses fixed ports (22181, 22281, 22881-22883 and 2000-4003) and
// the fixed directory /tmp/certs, so it runs in namespaces of its own (as
// root, with unshare): a network namespace whose only interface is its
// loopback, a mount namespace where /tmp/certs is a directory of this
// test, and a PID namespace, whose servers all die with the suite.
func TestCClientSuite(t *testing.T) {
	impl, name := "ours", "ours"
	if os.Getenv(envDiffSelf) == "1" {
		impl, name = "apache", "apache (DIFF_SELF=1)"
	}
	if os.Geteuid() != 0 {
		t.Fatal("the C client suite runs in namespaces of its own (unshare --net --mount --pid), which takes root")
	}
	for _, tool := range []string{"unshare", "ip", "stdbuf"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the C client suite needs %s (%v): Debian packages util-linux, iproute2, coreutils", tool, err)
		}
	}
	zktest := cclientSuiteBinary(t)
	run := t.TempDir()
	state := filepath.Join(run, "state")
	for _, d := range []string{"tests", "bin", "state", "certs"} {
		if err := os.Mkdir(filepath.Join(run, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	serverScript, err := filepath.Abs(cclientServerScript)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(serverScript, filepath.Join(run, "tests", "zkServer.sh")); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"ZKCC_IMPL=" + impl,
		"ZKCC_STATE=" + state,
		"ZKCC_GENCERTS=" + filepath.Join(filepath.Dir(zktest), "ssl", "gencerts.sh"),
		"ZKROOT=" + run,
	}
	quorumLog := filepath.Join(state, "quorum.log")
	var quorumCmd string
	if impl == "apache" {
		_, classpath := harness.ApacheJava(t)
		if _, err := os.Stat(debianZkServerSh); err != nil {
			t.Fatalf("%v: install the Debian package zookeeper", err)
		}
		env = append(env, "ZKCC_CLASSPATH="+classpath+":"+cclientNettyJars)
		quorumCmd = debianZkServerSh
	} else {
		bin := harness.BuildOurs(t)
		env = append(env, "ZKCC_ZKSERVER="+bin)
		quorumCmd = bin
	}
	// The ensembles' zkServer.sh: its status output is what the suite
	// reads; the rest goes to a log rather than among the test results.
	writeScript(t, filepath.Join(run, "bin", "zkServer.sh"), fmt.Sprintf(`#!/bin/sh
if [ "$1" = status ]; then exec %[1]q "$@"; fi
echo "=== $(date '+%%F %%T') zkServer.sh $*" >>%[2]q
exec %[1]q "$@" >>%[2]q 2>&1
`, quorumCmd, quorumLog))

	ctx, cancel := context.WithTimeout(context.Background(), cclientSuiteTimeout)
	defer cancel()
	suite := &cclientRun{ctx: ctx, dir: run, env: env, zktest: zktest}
	began := time.Now()
	// The whole suite in one run, then each test that did not run alone:
	// a failed assertion in a completion callback aborts zktest-mt, which
	// then runs none of the tests after it.
	suite.run(t, "")
	for _, test := range cclientSuiteTests() {
		if _, done := suite.results[test]; !done && ctx.Err() == nil {
			suite.run(t, test)
		}
	}
	took := time.Since(began).Round(time.Second)

	expected := cclientExpectedFailures
	if impl == "apache" {
		expected = nil
	}
	var passed, failed int
	var problems, unexpected []string
	for _, test := range cclientSuiteTests() {
		outcome, done := suite.results[test]
		reason, listed := expected[test]
		timing, timingDependent := cclientTimingDependent[test]
		switch {
		case !done:
			problems = append(problems, test+" did not run")
		case timingDependent:
			t.Logf("timing-dependent %s (%s), not counted: %s", test, timing, outcome)
		case outcome == "OK" && listed:
			passed++
			t.Logf("%s passes now, though listed as an expected failure (%s)", test, reason)
		case outcome == "OK":
			passed++
		case listed:
			failed++
			t.Logf("expected failure %s (%s): %s", test, outcome, reason)
		default:
			failed++
			unexpected = append(unexpected, test+" ("+outcome+")")
		}
	}
	t.Logf("C client suite against %s: %d passed, %d failed in %v", name, passed, failed, took)
	if ctx.Err() != nil {
		problems = append(problems, fmt.Sprintf("the run was killed after %v", cclientSuiteTimeout))
	}
	if len(unexpected) > 0 {
		problems = append(problems, fmt.Sprintf("%d tests failed:\n  %s", len(unexpected), strings.Join(unexpected, "\n  ")))
	}
	if len(problems) > 0 {
		t.Errorf("C client suite against %s: %s\nzktest-mt output:\n%s\nserver log:\n%s\nensemble zkServer.sh log:\n%s",
			name, strings.Join(problems, "\n"), tailString(suite.output.String(), cclientOutputLimit),
			tailFile(filepath.Join(state, "zk.log")), tailFile(quorumLog))
		// The ensembles' servers (ours) log into their data directories.
		logs, _ := filepath.Glob(filepath.Join(run, "build", "test", "test-cppunit", "data*", "zookeeper.out"))
		for _, l := range logs {
			t.Logf("%s:\n%s", l, tailFile(l))
		}
	}
}

// cclientRun runs zktest-mt, once or more, and gathers the outcomes.
type cclientRun struct {
	ctx    context.Context
	dir    string   // the working directory, ZKROOT
	env    []string // added to the environment
	zktest string
	// results maps each test that ran to "OK", "assertion", "error" or
	// "aborted zktest-mt".
	results map[string]string
	// output collects zktest-mt's output of every run.
	output bytes.Buffer
}

// run runs zktest-mt in namespaces of its own: all its tests if test is
// "", else that one.
func (r *cclientRun) run(t *testing.T, test string) {
	t.Helper()
	if r.results == nil {
		r.results = map[string]string{}
	}
	// The script's pid file names a process of the namespace of the run
	// before, which has ended; in this one the number is another's.
	if err := os.Remove(filepath.Join(r.dir, "state", "zk.pid")); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	args := []string{"--net", "--mount", "--pid", "--fork", "--kill-child", "--mount-proc",
		// bash is the namespace's init: it reaps the servers that the
		// scripts start and leave behind, so that a killed one does not
		// linger as a zombie that `kill -0` still finds.
		"bash", "-c", `set -e
ip link set lo up
mkdir -p /tmp/certs
mount --bind "$1" /tmp/certs
shift
set +e
stdbuf -oL -eL "$@"
exit $?`, "-", filepath.Join(r.dir, "certs"), r.zktest}
	if test != "" {
		args = append(args, test)
	}
	cmd := exec.CommandContext(r.ctx, "unshare", args...)
	cmd.Dir = r.dir
	cmd.Env = append(os.Environ(), r.env...)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	fmt.Fprintf(&r.output, "=== zktest-mt %s: %v\n%s\n--- stderr:\n%s\n", test, runErr, stdout.String(), stderr.String())
	if testing.Verbose() {
		t.Logf("zktest-mt %s (%v):\n%s\nstderr:\n%s", test, runErr, stdout.String(), stderr.String())
	}
	for test, outcome := range parseCppunit(stdout.String(), cclientSuiteTests()) {
		r.results[test] = outcome
	}
}

// cclientSuiteList names the suite's tests, by class, in the order
// zktest-mt runs them.
const cclientSuiteList = `
TestReconfigServer: testNonIncremental testRemoveConnectedFollower testRemoveFollower
	testReconfigFailureWithoutAuth testReconfigFailureWithoutServerSuperuserPasswordConfigured
Zookeeper_SASLAuth: testServerRequireClientSASL testClientSASL testClientSASLOverIPv6
	testClientSASLReadOnly testClientSASLPacketOrder
Zookeeper_clientretry: testRetry
Zookeeper_close: testIOThreadStoppedOnExpire testCloseUnconnected testCloseUnconnected1
	testCloseConnected1 testCloseFromWatcher1
Zookeeper_init: testBasic testAddressResolution testMultipleAddressResolution
	testNullAddressString testEmptyAddressString testOneSpaceAddressString
	testTwoSpacesAddressString testInvalidAddressString1 testInvalidAddressString2
	testNonexistentHost testOutOfMemory_init testOutOfMemory_getaddrs1
	testOutOfMemory_getaddrs2 testPermuteAddrsList
Zookeeper_logClientEnv: testLogClientEnv
Zookeeper_multi: testCreate testCreateDelete testInvalidVersion testNestedCreate testSetData
	testUpdateConflict testDeleteUpdateConflict testAsyncMulti testMultiFail testCheck
	testWatch testSequentialNodeCreateInAsyncMulti testBigAsyncMulti
Zookeeper_operations: testAsyncWatcher1 testAsyncGetOperation
	testOperationsAndDisconnectConcurrently1 testOperationsAndDisconnectConcurrently2
	testConcurrentOperations1
Zookeeper_readOnly: testReadOnly testReadOnlyWithSSL
Zookeeper_reconfig: testcycleNextServer testMigrateOrNot testMigrationCycle
	testAddrVecContainsIPv4 testAddrVecContainsIPv6
Zookeeper_simpleSystem: testLogCallbackSetLog testLogCallbackInitLog testLogCallbackClearLog
	testAsyncWatcherAutoReset testDeserializeString testFirstServerDown testNonexistentHost
	testNullData testIPV6 testSSL testCreate testCreateContainer testCreateTtl testPath
	testPathValidation testPing testAcl testChroot testAuth testHangingClient
	testWatcherAutoResetWithGlobal testWatcherAutoResetWithLocal testGetChildren2
	testLastZxid testServersResolutionDelay testRemoveWatchers
Zookeeper_watchers: testDefaultSessionWatcher1 testDefaultSessionWatcher2
	testObjectSessionWatcher1 testObjectSessionWatcher2 testNodeWatcher1
	testChildWatcher1 testChildWatcher2
`

// cclientSuiteTests returns the tests of cclientSuiteList as cppunit names
// them ("Class::test"), in order.
func cclientSuiteTests() []string {
	var tests []string
	class := ""
	for _, f := range strings.Fields(cclientSuiteList) {
		if c, ok := strings.CutSuffix(f, ":"); ok {
			class = c
			continue
		}
		tests = append(tests, class+"::"+f)
	}
	return tests
}

// cclientSuiteBinary returns the suite's test program, running
// install.sh first if it is not built yet and we are root.
func cclientSuiteBinary(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("ZKGO_CCLIENT_DIR")
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			t.Fatalf("C client suite: %v", err)
		}
		dir = filepath.Join(cache, "zkgo", cclientVersion)
	}
	bin := filepath.Join(dir, "src", "zktest-mt")
	if _, err := os.Stat(bin); err != nil {
		t.Logf("C client suite: %v; running %s", err, cclientInstallScript)
		if out, err := exec.Command("bash", cclientInstallScript).CombinedOutput(); err != nil {
			t.Fatalf("C client suite: %s: %v\n%s", cclientInstallScript, err, out)
		}
	}
	return bin
}

// parseCppunit reads the progress output of zktest-mt's listener: a test's
// name at the start of a line, then " : assertion" or " : error" if it
// failed, " : elapsed <ms>", and " : OK" if it passed. Whatever the test or
// a server script prints may come in between; a test whose progress stops
// short aborted zktest-mt. It returns the outcome of each test of tests
// that started: "OK", "assertion", "error" or "aborted zktest-mt".
func parseCppunit(out string, tests []string) map[string]string {
	// Longest first, so that no name stands for a longer one it begins.
	names := slices.Clone(tests)
	slices.SortFunc(names, func(a, b string) int { return len(b) - len(a) })
	for i, n := range names {
		names[i] = regexp.QuoteMeta(n)
	}
	start := regexp.MustCompile(`(?m)^(?:` + strings.Join(names, "|") + `)`)
	outcomes := map[string]string{}
	starts := start.FindAllStringIndex(out, -1)
	for i, at := range starts {
		end := len(out)
		if i+1 < len(starts) {
			end = starts[i+1][0]
		}
		outcomes[out[at[0]:at[1]]] = cppunitOutcome(out[at[1]:end])
	}
	return outcomes
}

// cppunitOutcome reads a test's progress (see parseCppunit).
func cppunitOutcome(progress string) string {
	failure, rest, ok := strings.Cut(progress, " : elapsed ")
	if !ok {
		return "aborted zktest-mt"
	}
	rest = strings.TrimLeft(rest, "0123456789")
	switch {
	case strings.HasPrefix(rest, " : OK"):
		return "OK"
	case strings.Contains(failure, " : error"):
		return "error"
	default:
		return "assertion"
	}
}

// tailFile returns at most the last cclientOutputLimit bytes of a file.
func tailFile(path string) string {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "(none)"
	} else if err != nil {
		return err.Error()
	}
	return tailString(string(b), cclientOutputLimit)
}

func TestParseCppunit(t *testing.T) {
	tests := []string{"A::test", "A::test1", "A::test2", "B::test"}
	out := "\nRunning \nA::test : elapsed 3 : OK\n" +
		"A::test1Starting zookeeper ... STARTED\n : assertion : elapsed 1012\n" +
		"A::test2 : elapsed 5 : OK\nB::test\nterminate called\n"
	got := parseCppunit(out, tests)
	want := map[string]string{"A::test": "OK", "A::test1": "assertion", "A::test2": "OK", "B::test": "aborted zktest-mt"}
	if !maps.Equal(got, want) {
		t.Errorf("parseCppunit = %v, want %v", got, want)
	}
}
