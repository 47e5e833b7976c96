package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zkgo/zkgo/test/harness"
)

// zkCliSh is Apache ZooKeeper's shell from the Debian packages.
const zkCliSh = "/usr/share/zookeeper/bin/zkCli.sh"

// commandTimeout bounds one run of either shell.
const commandTimeout = 60 * time.Second

// builds holds the binaries built for this test process.
var builds struct {
	mu   sync.Mutex
	dir  string
	bins map[string]string
}

func TestMain(m *testing.M) {
	code := m.Run()
	if builds.dir != "" {
		os.RemoveAll(builds.dir)
	}
	os.Exit(code)
}

// build builds a command of the module once per test process.
func build(t testing.TB, pkg string) string {
	t.Helper()
	builds.mu.Lock()
	defer builds.mu.Unlock()
	if bin, ok := builds.bins[pkg]; ok {
		return bin
	}
	if builds.dir == "" {
		dir, err := os.MkdirTemp("", "zkcli-test-")
		if err != nil {
			t.Fatal(err)
		}
		builds.dir, builds.bins = dir, map[string]string{}
	}
	bin := filepath.Join(builds.dir, filepath.Base(pkg))
	if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	builds.bins[pkg] = bin
	return bin
}

func zkcliBin(t testing.TB) string { return build(t, "github.com/zkgo/zkgo/cmd/zkcli") }

// startOurs starts our zkserver, built into this process's build directory
// unless ZKSERVER_BIN names one.
func startOurs(t testing.TB, extra map[string]string) *harness.Server {
	t.Helper()
	if os.Getenv(harness.EnvZkserverBin) == "" {
		os.Setenv(harness.EnvZkserverBin, build(t, "github.com/zkgo/zkgo/cmd/zkserver"))
	}
	return harness.StartOurs(t, extra)
}

// result is what a shell printed and its exit code. combined holds stdout
// and stderr as they were interleaved (one pipe for both).
type result struct {
	stdout, stderr, combined string
	code                     int
}

func runCmd(t testing.TB, cmd *exec.Cmd, stdin string, separate bool) result {
	t.Helper()
	var out, errb, both bytes.Buffer
	cmd.Stdin = strings.NewReader(stdin)
	if separate {
		cmd.Stdout, cmd.Stderr = &out, &errb
	} else {
		cmd.Stdout, cmd.Stderr = &both, &both
	}
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%v: %v", cmd.Args, err)
	}
	return result{stdout: out.String(), stderr: errb.String(), combined: both.String(), code: code}
}

// runZkCliSh runs Apache ZooKeeper's zkCli.sh against addr: one-shot with
// args, or reading script from standard input when args is empty.
func runZkCliSh(t testing.TB, addr string, script string, separate bool, args ...string) result {
	t.Helper()
	if _, err := os.Stat(zkCliSh); err != nil {
		t.Fatalf("%s is missing (%v): install Apache ZooKeeper with `apt-get install zookeeper zookeeper-bin`", zkCliSh, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, zkCliSh, append([]string{"-server", addr}, args...)...)
	// A quick JVM start; the client logs through slf4j's no-op logger.
	cmd.Env = append(os.Environ(), "CLIENT_JVMFLAGS=-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto")
	return runCmd(t, cmd, script, separate)
}

// runZkcli runs zkcli against addr the same way.
func runZkcli(t testing.TB, addr string, script string, separate bool, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, zkcliBin(t), append([]string{"-server", addr}, args...)...)
	return runCmd(t, cmd, script, separate)
}

var (
	// zkCli.sh's banners and the JVM's logging noise.
	noiseLine = regexp.MustCompile(`^(SLF4J: .*|Connecting to .*|Welcome to ZooKeeper!|JLine support is (enabled|disabled))$`)
	// A session event: the shells differ in when they show these.
	sessionEvent = regexp.MustCompile(`^WatchedEvent state:\w+ type:None path:null$`)
	nodeEvent    = regexp.MustCompile(`^WatchedEvent state:\w+ type:\w+ path:.*$`)
	zxidLine     = regexp.MustCompile(`^(cZxid|mZxid|pZxid) = 0x[0-9a-f]+$`)
	timeLine     = regexp.MustCompile(`^(ctime|mtime) = .*$`)
	ownerLine    = regexp.MustCompile(`^ephemeralOwner = 0x[0-9a-f]+$`)
	versionLine  = regexp.MustCompile(`^ZooKeeper CLI version: .*$`)
)

// normalized is a shell's output with what legitimately differs masked:
// lines in order, and the watch events apart (Apache's client prints them
// from another thread, so where they land between lines is a race).
type normalized struct {
	lines  []string
	events []string
}

func normalize(out string, replacements ...string) normalized {
	for i := 0; i+1 < len(replacements); i += 2 {
		out = strings.ReplaceAll(out, replacements[i], replacements[i+1])
	}
	raw := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	var n normalized
	for i := 0; i < len(raw); i++ {
		l := raw[i]
		next := ""
		if i+1 < len(raw) {
			next = raw[i+1]
		}
		switch {
		case noiseLine.MatchString(l), l == "WATCHER::", sessionEvent.MatchString(l):
			continue
		case l == "" && (next == "WATCHER::" || nodeEvent.MatchString(next)):
			continue // the blank line zkCli.sh prints before those
		case nodeEvent.MatchString(l):
			n.events = append(n.events, l)
			continue
		case zxidLine.MatchString(l):
			l = l[:strings.Index(l, "=")] + "= 0x<zxid>"
		case timeLine.MatchString(l):
			l = l[:strings.Index(l, "=")] + "= <time>"
		case ownerLine.MatchString(l) && l != "ephemeralOwner = 0x0":
			l = "ephemeralOwner = 0x<session>"
		case versionLine.MatchString(l):
			l = "ZooKeeper CLI version: <version>"
		}
		n.lines = append(n.lines, l)
	}
	sort.Strings(n.events)
	return n
}

// diffLines returns a readable comparison of two line lists, or "" if they
// are equal.
func diffLines(want, got []string) string {
	if strings.Join(want, "\n") == strings.Join(got, "\n") {
		return ""
	}
	var b strings.Builder
	n := max(len(want), len(got))
	for i := 0; i < n; i++ {
		w, g := "<none>", "<none>"
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		mark := "  "
		if w != g {
			mark = "!="
		}
		fmt.Fprintf(&b, "%s %-60q %q\n", mark, w, g)
	}
	return b.String()
}
