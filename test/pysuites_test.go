package test

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zkgo/zkgo/test/harness"
)

// OpenStack's tooz (coordination: groups, locks, leaders, partitioner) and
// taskflow (job boards and persistence) on ZooKeeper through kazoo: their
// own tests of their ZooKeeper drivers, as Debian's python3-tooz and
// python3-taskflow ship them, run with Debian's pytest against a standalone
// Apache ZooKeeper and a standalone zkserver at the same time, and compared
// (compareSuiteRuns). test/install-deps.sh installs the packages.

const (
	// pySuiteTimeout bounds one pytest run (tooz takes about 40s here
	// with both runs side by side, taskflow about 10s).
	pySuiteTimeout = 5 * time.Minute
	// pyTestTimeout bounds one test (pytest-timeout, which pytest loads by
	// itself once installed): a kazoo call that
	// never gets its reply would otherwise hang the run.
	pyTestTimeout = 120 * time.Second
	// pyOutputLimit caps how much of pytest's output a failure prints.
	pyOutputLimit = 32 << 10
	// taskflowShimDir holds taskflow_shim.py, relative to the package
	// directory, where go test runs.
	taskflowShimDir = "taskflow"
)

// pytestSuite is an application's test suite run with pytest against one
// ZooKeeper server.
type pytestSuite struct {
	name string
	// probe is Python that imports what the suite needs and prints the
	// directory of the suite's tests.
	probe string
	// packages are the Debian packages that provide it.
	packages []string
	// targets are the pytest node ids to run, relative to that directory.
	targets []string
	// env returns the variables that point the suite at the server addr.
	env func(addr string) []string
	// plugins are pytest plugins (-p) to load, from pythonPath.
	plugins    []string
	pythonPath string
	// stripPrefix is taken off the front of every test's class name.
	stripPrefix string
}

// toozSuite is tooz's coordination API tests (test_coordination.py) and
// its partitioner's (TestPartitioner: not the IPC and file drivers' copies
// of it), all on the kazoo driver through TOOZ_TEST_URL.
var toozSuite = pytestSuite{
	name:        "tooz",
	probe:       "import os, pytest, pytest_timeout, testtools, fixtures, kazoo, tooz.tests; print(os.path.dirname(tooz.tests.__file__))",
	packages:    []string{"python3-tooz", "python3-pytest", "python3-pytest-timeout", "python3-testtools", "python3-fixtures"},
	targets:     []string{"test_coordination.py", "test_partitioner.py::TestPartitioner"},
	env:         func(addr string) []string { return []string{"TOOZ_TEST_URL=kazoo://" + addr} },
	stripPrefix: "tooz.tests.",
}

// taskflowSuite is taskflow's ZooKeeper job board and persistence tests.
// They connect to localhost:2181, taken from taskflow.tests.utils at import
// time; the pytest plugin test/taskflow/taskflow_shim.py points that at
// TASKFLOW_SHIM_HOSTS before any test module is imported.
var taskflowSuite = pytestSuite{
	name:  "taskflow",
	probe: "import os, pytest, pytest_timeout, oslotest, zake, redis, kazoo, taskflow.tests; print(os.path.dirname(taskflow.tests.__file__))",
	packages: []string{"python3-taskflow", "python3-pytest", "python3-pytest-timeout", "python3-oslotest",
		"python3-zake", "python3-redis"},
	targets: []string{
		"unit/jobs/test_zk_job.py::ZookeeperJobboardTest",
		"unit/persistence/test_zk_persistence.py::ZkPersistenceTest",
	},
	env:         func(addr string) []string { return []string{"TASKFLOW_SHIM_HOSTS=" + addr} },
	plugins:     []string{"taskflow_shim"},
	pythonPath:  taskflowShimDir,
	stripPrefix: "taskflow.tests.unit.",
}

// TestToozSuite runs tooz's coordination tests against Apache ZooKeeper and
// zkserver and compares them: 73 pass against both here; 8 are skipped
// against both (features tooz's kazoo driver does not implement: shared
// locks, breaking another member's lock, groups that vanish with their
// last member, heartbeat timeouts).
//
//	go test ./test -run TestToozSuite -v
func TestToozSuite(t *testing.T) {
	runPytestComparison(t, toozSuite, suiteExpectations{minApachePassed: 70})
}

// TestTaskflowSuite runs taskflow's ZooKeeper job board and persistence
// tests against Apache ZooKeeper and zkserver and compares them (35 pass
// against both here).
//
//	go test ./test -run TestTaskflowSuite -v
func TestTaskflowSuite(t *testing.T) {
	runPytestComparison(t, taskflowSuite, suiteExpectations{minApachePassed: 30})
}

// runPytestComparison starts a standalone Apache ZooKeeper and a
// standalone zkserver, runs the suite against both at once and compares.
func runPytestComparison(t *testing.T, suite pytestSuite, want suiteExpectations) {
	dir := pytestSuiteSetup(t, suite)
	harness.BuildOurs(t)
	runs := []suiteRun{{name: "apache"}, {name: "ours"}}
	addrs := []string{harness.StartApache(t, nil).Addr(), harness.StartOurs(t, nil).Addr()}
	var wg sync.WaitGroup
	for i := range runs {
		wg.Go(func() { runs[i].results = runPytest(t, suite, dir, runs[i].name, addrs[i]) })
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	compareSuiteRuns(t, suite.name, runs[0], runs[1], want)
}

// pytestSuiteSetup checks that Debian's python3 can run the suite and
// returns the directory of its tests.
func pytestSuiteSetup(t *testing.T, suite pytestSuite) string {
	t.Helper()
	requireClient(t, debianPython, "python3")
	cmd := exec.Command(debianPython, "-c", suite.probe)
	cmd.Env = pytestEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s cannot run %s's test suite (%v: %s): run test/install-deps.sh as root, or install the Debian packages %s",
			debianPython, suite.name, err, lastLine(string(out)), strings.Join(suite.packages, " "))
	}
	return strings.TrimSpace(string(out))
}

// runPytest runs the suite against the server at addr and returns each
// test's outcome, read from pytest's JUnit XML report. It fails the test
// (Errorf, so that the other run can finish) when pytest gave no report.
func runPytest(t *testing.T, suite pytestSuite, testsDir, name, addr string) map[string]suiteOutcome {
	work := t.TempDir()
	report := filepath.Join(work, "report.xml")
	ctx, cancel := context.WithTimeout(context.Background(), pySuiteTimeout)
	defer cancel()
	args := []string{"-m", "pytest", "-p", "no:cacheprovider",
		fmt.Sprintf("--timeout=%d", int(pyTestTimeout/time.Second)), "-q", "-rfE", "--junitxml=" + report}
	for _, p := range suite.plugins {
		args = append(args, "-p", p)
	}
	for _, target := range suite.targets {
		args = append(args, filepath.Join(testsDir, target))
	}
	cmd := exec.CommandContext(ctx, debianPython, args...)
	cmd.Dir = work
	cmd.Env = append(pytestEnv(), "PYTHONDONTWRITEBYTECODE=1")
	if suite.pythonPath != "" {
		shim, err := filepath.Abs(suite.pythonPath)
		if err != nil {
			t.Error(err)
			return nil
		}
		cmd.Env = append(cmd.Env, "PYTHONPATH="+shim)
	}
	cmd.Env = append(cmd.Env, suite.env(addr)...)
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	began := time.Now()
	runErr := cmd.Run()
	t.Logf("%s against %s: pytest ran for %v (%v)", suite.name, name, time.Since(began).Round(time.Second), runErr)
	if testing.Verbose() {
		t.Logf("%s against %s: pytest output:\n%s", suite.name, name, tailString(out.String(), pyOutputLimit))
	}
	results, err := readJUnitReport(report, suite.stripPrefix)
	if err != nil || ctx.Err() != nil {
		t.Errorf("%s against %s: no complete results (report: %v; pytest: %v, %v); output:\n%s",
			suite.name, name, err, runErr, ctx.Err(), tailString(out.String(), pyOutputLimit))
		return nil
	}
	return results
}

// pytestEnv is the environment for Debian's python3: kazooEnv, less the
// suites' own variables.
func pytestEnv() []string {
	var env []string
	for _, kv := range kazooEnv() {
		if strings.HasPrefix(kv, "TOOZ_") || strings.HasPrefix(kv, "TASKFLOW_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// junitReport is the part of pytest's --junitxml report read here.
type junitReport struct {
	Cases []struct {
		Classname string         `xml:"classname,attr"`
		Name      string         `xml:"name,attr"`
		Failures  []junitMessage `xml:"failure"`
		Errors    []junitMessage `xml:"error"`
		Skipped   []junitMessage `xml:"skipped"`
	} `xml:"testsuite>testcase"`
}

// junitMessage is a failure, error or skipped element.
type junitMessage struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// readJUnitReport reads each test's outcome from a JUnit XML report,
// naming tests "Class::test" with prefix taken off the class name. A test
// with a failure or an error (in its setup, call or teardown) failed.
func readJUnitReport(path, prefix string) (map[string]suiteOutcome, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rep junitReport
	if err := xml.Unmarshal(b, &rep); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if len(rep.Cases) == 0 {
		return nil, fmt.Errorf("%s: no test ran", path)
	}
	results := map[string]suiteOutcome{}
	for _, c := range rep.Cases {
		name := strings.TrimPrefix(c.Classname, prefix) + "::" + c.Name
		o := suiteOutcome{result: outcomePassed}
		switch {
		case len(c.Failures)+len(c.Errors) > 0:
			o.result = outcomeFailed
			for _, m := range append(c.Failures, c.Errors...) {
				msg := m.Message
				if msg == "" {
					msg = m.Text
				}
				o.detail = strings.TrimPrefix(o.detail+"; "+oneLine(msg), "; ")
			}
		case len(c.Skipped) > 0:
			o.result = outcomeSkipped
			o.detail = oneLine(c.Skipped[0].Message)
		}
		results[name] = o
	}
	return results, nil
}
