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

// Apache's C client 3.8.2 comes with a cppunit suite (zktest-mt: about a
// ninety tests, some against mocks, most against a live server). It
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
	// cclientSuiteTimeout bounds the whole run (about 5 minutes against
	// Apache ZooKeeper here on two cores, less against zkserver).
	cclientSuiteTimeout = 12 * time.Minute
	// cclientTests is how many tests zktest-mt runs (cppunit's "OK (89)"
	// against Apache ZooKeeper); a run that reports fewer stopped early.
	cclientTests = 89
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
// each with the reason. A listed test that passes is reported in the log
// (it should then leave the list); any other failure fails the test.
var cclientExpectedFailures = map[string]string{}

// cclientApacheFailures are the suite's tests that fail against Apache
// ZooKeeper 3.8.0 too, each with the reason; the suite expects them to
// fail against zkserver as well unless they are in neither list.
var cclientApacheFailures = map[string]string{}

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
	// bash is the namespace's init: it reaps the servers that the scripts
	// start and leave behind, so that a killed one does not linger as a
	// zombie that `kill -0` still finds.
	cmd := exec.CommandContext(ctx, "unshare", "--net", "--mount", "--pid", "--fork", "--kill-child", "--mount-proc",
		"bash", "-c", `set -e
ip link set lo up
mkdir -p /tmp/certs
mount --bind "$1" /tmp/certs
set +e
stdbuf -oL -eL "$2"
exit $?`, "-", filepath.Join(run, "certs"), zktest)
	cmd.Dir = run
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	began := time.Now()
	runErr := cmd.Run()
	took := time.Since(began).Round(time.Second)
	out := stdout.String()
	if testing.Verbose() {
		t.Logf("zktest-mt output:\n%s", tailString(out, cclientOutputLimit))
	}
	res := parseCppunit(out)
	t.Logf("C client suite against %s: %d passed, %d failed in %v", name, len(res.passed), len(res.failed), took)

	expected := maps.Clone(cclientApacheFailures)
	if impl == "ours" {
		maps.Copy(expected, cclientExpectedFailures)
	}
	var problems, unexpected []string
	for _, test := range res.failed {
		if reason, ok := expected[test]; ok {
			t.Logf("expected failure %s: %s", test, reason)
		} else {
			unexpected = append(unexpected, test)
		}
	}
	for _, test := range res.passed {
		if reason, ok := expected[test]; ok {
			t.Logf("%s passes now, though listed as an expected failure (%s)", test, reason)
		}
	}
	switch {
	case ctx.Err() != nil:
		problems = append(problems, fmt.Sprintf("the run was killed after %v, during %s", cclientSuiteTimeout, res.running))
	case res.running != "":
		problems = append(problems, fmt.Sprintf("zktest-mt stopped (%v) during %s", runErr, res.running))
	case len(res.passed)+len(res.failed) != cclientTests:
		problems = append(problems, fmt.Sprintf("%d tests ran, not %d (%v)", len(res.passed)+len(res.failed), cclientTests, runErr))
	case runErr != nil && len(res.failed) == 0:
		problems = append(problems, fmt.Sprintf("zktest-mt: %v", runErr))
	}
	if len(unexpected) > 0 {
		problems = append(problems, fmt.Sprintf("%d tests failed:\n  %s", len(unexpected), strings.Join(unexpected, "\n  ")))
	}
	if len(problems) > 0 {
		t.Errorf("C client suite against %s: %s\nzktest-mt output:\n%s\nstderr:\n%s\nserver log:\n%s\nensemble zkServer.sh log:\n%s",
			name, strings.Join(problems, "\n"), tailString(out, cclientOutputLimit),
			tailString(stderr.String(), cclientOutputLimit),
			tailFile(filepath.Join(state, "zk.log")), tailFile(quorumLog))
		// The ensembles' servers (ours) log into their data directories.
		logs, _ := filepath.Glob(filepath.Join(run, "build", "test", "test-cppunit", "data*", "zookeeper.out"))
		for _, l := range logs {
			t.Logf("%s:\n%s", l, tailFile(l))
		}
	}
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

// cppunitResults is what zktest-mt's progress lines say.
type cppunitResults struct {
	passed, failed []string
	// running is the test that started last and has not finished.
	running string
}

// cppunitStart is where zktest-mt's listener starts a test's progress: the
// test's name at the start of a line. It then prints " : assertion" or
// " : error" if the test failed, " : elapsed <ms>", and " : OK" if it
// passed; whatever the test or a server script prints may come between.
var cppunitStart = regexp.MustCompile(`(?m)^\w+::\w+`)

// parseCppunit reads zktest-mt's progress output.
func parseCppunit(out string) cppunitResults {
	var res cppunitResults
	starts := cppunitStart.FindAllStringIndex(out, -1)
	for i, at := range starts {
		test := out[at[0]:at[1]]
		end := len(out)
		if i+1 < len(starts) {
			end = starts[i+1][0]
		}
		progress := out[at[1]:end]
		switch {
		case strings.Contains(progress, " : assertion"), strings.Contains(progress, " : error"):
			res.failed = append(res.failed, test)
		case strings.Contains(progress, " : OK"):
			res.passed = append(res.passed, test)
		default:
			res.running = test
		}
	}
	slices.Sort(res.failed)
	return res
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
