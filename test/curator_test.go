package test

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zkgo/zkgo/test/harness"
)

// Apache Curator's recipes (Debian's libcurator-*-java, Curator 5.4 on
// Apache ZooKeeper's 3.8 client) driven by test/curator/CuratorChecks.java,
// compiled here with javac against Debian's jars: locks, read-write lock,
// semaphore, leader latch and selector with hand-over, CuratorCache and
// TreeCache, barriers, queues, counters and transactions. Each check
// prints one line; the program ends with "N passed, N failed".

const (
	// curatorSource is the checks' source, relative to the package
	// directory, where go test runs.
	curatorSource = "curator/CuratorChecks.java"
	// curatorRunTimeout bounds one run of every check (about 20s each
	// here, with three runs side by side; one check gives up after 90s).
	curatorRunTimeout = 8 * time.Minute
	// curatorOutputLimit caps how much of the program's output a failure
	// prints.
	curatorOutputLimit = 32 << 10
)

// curatorJars are the jars the checks compile and run against: Curator's
// and Apache ZooKeeper's client (their manifests name guava, slf4j-api and
// the rest), and slf4j's simple binding for Curator's warnings.
var curatorJars = []string{
	"/usr/share/java/curator-recipes.jar",
	"/usr/share/java/curator-framework.jar",
	"/usr/share/java/curator-client.jar",
	"/usr/share/java/zookeeper.jar",
	"/usr/share/java/zookeeper-jute.jar",
	"/usr/share/java/slf4j-simple.jar",
}

// curatorOursExceptions are the checks that may fail against ours though
// they pass against Apache ZooKeeper, each with its reason. None.
var curatorOursExceptions = map[string]string{}

// curatorLine is one check's line: "ok   name" or "FAIL name: reason".
var curatorLine = regexp.MustCompile(`^(ok  |FAIL) ([a-z-]+)(?:: (.*))?$`)

// curatorSummary is the program's last line.
var curatorSummary = regexp.MustCompile(`^(\d+) passed, (\d+) failed$`)

// TestCuratorRecipes runs the Curator checks against a standalone Apache
// ZooKeeper, a standalone zkserver and a 3-server ensemble of ours (its
// clients spread over the three servers), all at once, and compares each
// run of ours with Apache's: 16 checks pass against each here.
//
//	go test ./test -run TestCuratorRecipes -v
func TestCuratorRecipes(t *testing.T) {
	classes := compileCuratorChecks(t)
	harness.BuildOurs(t)
	ensemble := harness.StartEnsemble(t, 3, nil)
	addrs := make([]string, len(ensemble))
	for i, s := range ensemble {
		addrs[i] = s.Addr()
	}
	runs := []suiteRun{{name: "apache"}, {name: "ours"}, {name: "our 3-server ensemble"}}
	servers := []string{
		harness.StartApache(t, nil).Addr(),
		harness.StartOurs(t, nil).Addr(),
		strings.Join(addrs, ","),
	}
	var wg sync.WaitGroup
	for i := range runs {
		wg.Go(func() { runs[i].results = runCuratorChecks(t, classes, runs[i].name, servers[i]) })
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	want := suiteExpectations{oursExceptions: curatorOursExceptions, minApachePassed: 16}
	compareSuiteRuns(t, "curator", runs[0], runs[1], want)
	compareSuiteRuns(t, "curator", runs[0], runs[2], want)
}

// compileCuratorChecks compiles CuratorChecks.java into a temporary
// directory and returns the classpath that runs it.
func compileCuratorChecks(t *testing.T) string {
	t.Helper()
	return compileCurator(t, curatorSource)
}

// compileCurator compiles the Java program source (relative to the
// package directory) against Curator's jars into a temporary directory and
// returns the classpath that runs it.
func compileCurator(t *testing.T, source string) string {
	t.Helper()
	javac, err := exec.LookPath("javac")
	if err != nil {
		t.Fatalf("the Curator checks need javac (%v): install a JDK (Debian: default-jdk-headless)", err)
	}
	for _, jar := range curatorJars {
		if _, err := os.Stat(jar); err != nil {
			t.Fatalf("the Curator checks need %s (%v): run test/install-deps.sh as root, or install the Debian packages "+
				"libcurator-recipes-java libcurator-framework-java libcurator-client-java libslf4j-java zookeeper", jar, err)
		}
	}
	src, err := filepath.Abs(source)
	if err != nil {
		t.Fatal(err)
	}
	classes := t.TempDir()
	jars := strings.Join(curatorJars, string(os.PathListSeparator))
	cmd := exec.Command(javac, "-nowarn", "-Xlint:none", "-d", classes, "-cp", jars, src)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("javac %s: %v\n%s", src, err, out)
	}
	return jars + string(os.PathListSeparator) + classes
}

// runCuratorChecks runs every check against servers ("host:port,...") and
// returns each check's outcome. It fails the test (Errorf, so that the
// other runs can finish) if the program did not run to its summary line or
// the summary disagrees with the lines.
func runCuratorChecks(t *testing.T, classpath, name, servers string) map[string]suiteOutcome {
	java, err := exec.LookPath("java")
	if err != nil {
		t.Errorf("curator against %s: java not found: %v", name, err)
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), curatorRunTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, java, "-Xmx256m", "-XX:+UseSerialGC",
		"-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", classpath, "CuratorChecks", servers)
	cmd.Dir = t.TempDir()
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	began := time.Now()
	runErr := cmd.Run()
	t.Logf("curator against %s: ran for %v (%v)", name, time.Since(began).Round(time.Second), runErr)
	if testing.Verbose() {
		t.Logf("curator against %s:\n%s", name, stdout.String())
	}
	results := map[string]suiteOutcome{}
	var passed, failed int
	summary := false
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		line := sc.Text()
		if m := curatorSummary.FindStringSubmatch(line); m != nil {
			passed, _ = strconv.Atoi(m[1])
			failed, _ = strconv.Atoi(m[2])
			summary = true
			continue
		}
		m := curatorLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		o := suiteOutcome{result: outcomePassed}
		if m[1] == "FAIL" {
			o = suiteOutcome{result: outcomeFailed, detail: m[3]}
		}
		results[m[2]] = o
	}
	runOK := runErr == nil || failed > 0
	if !summary || ctx.Err() != nil || !runOK {
		t.Errorf("curator against %s: did not finish (%v, %v); output:\n%s\nstderr:\n%s", name, runErr, ctx.Err(),
			stdout.String(), tailString(stderr.String(), curatorOutputLimit))
		return nil
	}
	var p, f int
	for _, o := range results {
		if o.result == outcomePassed {
			p++
		} else {
			f++
		}
	}
	if p != passed || f != failed {
		t.Errorf("curator against %s: summary says %d passed, %d failed; the lines say %d and %d", name, passed, failed, p, f)
	}
	if failed > 0 {
		t.Logf("curator against %s: Curator's warnings:\n%s", name, tailString(stderr.String(), curatorOutputLimit))
	}
	return results
}
