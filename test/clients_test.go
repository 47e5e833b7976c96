package test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zkgo/zkgo/test/harness"
)

// The real clients, from Debian's packages; CI installs them.
const (
	// debianPython is Debian's own python3, whose dist-packages hold
	// python3-kazoo (a python3 earlier on PATH, such as pyenv's, may not).
	debianPython = "/usr/bin/python3"
	// kazooScript is run from the package directory, where go test runs.
	kazooScript = "clients/kazoo_script.py"
	// zkCliSh is Apache ZooKeeper's Java shell (package zookeeper).
	zkCliSh = "/usr/share/zookeeper/bin/zkCli.sh"
	// cliMt is the C client's shell (package zookeeper-bin).
	cliMt = "/usr/lib/zookeeper/bin/cli_mt"
)

const (
	// clientRunTimeout bounds one client process (one kazoo script, one
	// zkCli.sh invocation, one cli_mt session).
	clientRunTimeout = 90 * time.Second
	// clientReplyTimeout bounds the wait for one reply of cli_mt.
	clientReplyTimeout = 15 * time.Second
)

// requireClient fails the test, naming the Debian package to install, if
// the client program at path is missing.
func requireClient(t *testing.T, path, pkg string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("real-client test needs %s (%v): install the Debian package %s (`apt-get install %s`)", path, err, pkg, pkg)
	}
}

// clientKnownDifference is a transcript line where zkserver differs from
// Debian's Apache ZooKeeper 3.8.0 on purpose.
// clientDiff runs the same client workload against a fresh Apache ZooKeeper
// and a fresh zkserver (both started with cfg), the two runs at the same
// time, and fails with a unified diff if the normalized transcripts differ.
// run returns the transcript and an error if the client could not finish;
// a partial transcript is still compared, since it shows where it stopped.
// With DIFF_SELF=1 both sides run Apache ZooKeeper, to check that the
// transcript is deterministic.
func clientDiff(t *testing.T, cfg map[string]string, run func(addr string) (string, error)) {
	t.Helper()
	gotName, startGot := "ours", harness.StartOurs
	if os.Getenv(envDiffSelf) == "1" {
		gotName, startGot = "apache (DIFF_SELF=1)", harness.StartApache
	} else {
		harness.BuildOurs(t)
	}
	names := []string{"apache", gotName}
	addrs := []string{harness.StartApache(t, cfg).Addr(), startGot(t, cfg).Addr()}
	outs := make([]string, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range addrs {
		wg.Go(func() { outs[i], errs[i] = run(addrs[i]) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("client against %s (%s): %v", names[i], addrs[i], err)
		}
	}
	want, got := outs[0], outs[1]
	if gotName == "ours" {
		want = applyKnownDifferences(t.Name(), want)
	}
	if d := harness.UnifiedDiff(names[0], want, names[1], got); d != "" {
		t.Errorf("transcripts differ:\n%s", d)
	} else if testing.Verbose() {
		t.Logf("transcript:\n%s", want)
	}
}

// clientNames gives zxids and session ids stable symbolic names (Z1, Z2, ...;
// S1, S2, ...) in order of first appearance, so that transcripts of two
// servers compare equal when the values relate the same way. Zero stays 0.
type clientNames struct {
	zxids    map[int64]string
	sessions map[int64]string
}

func newClientNames() *clientNames {
	return &clientNames{zxids: map[int64]string{}, sessions: map[int64]string{}}
}

func (n *clientNames) name(m map[int64]string, prefix, hex string) string {
	v, err := strconv.ParseUint(strings.TrimPrefix(hex, "0x"), 16, 64)
	if err != nil {
		return "BAD(" + hex + ")"
	}
	if v == 0 {
		return "0"
	}
	s, ok := m[int64(v)]
	if !ok {
		s = fmt.Sprintf("%s%d", prefix, len(m)+1)
		m[int64(v)] = s
	}
	return s
}

func (n *clientNames) zxid(hex string) string    { return n.name(n.zxids, "Z", hex) }
func (n *clientNames) session(hex string) string { return n.name(n.sessions, "S", hex) }

// wallTime normalizes a printed znode time: the epoch (the root's times)
// stays, anything else is a wall-clock time and becomes "t".
func wallTime(s string) string {
	if strings.Contains(s, "1970") {
		return s
	}
	return "t"
}

// ---------------------------------------------------------------- kazoo

// TestKazoo runs test/clients/kazoo_script.py (Debian's python3-kazoo,
// under /usr/bin/python3) against both servers. The script prints one
// normalized line per step.
func TestKazoo(t *testing.T) {
	t.Parallel()
	requireClient(t, debianPython, "python3")
	if out, err := exec.Command(debianPython, "-c", "import kazoo").CombinedOutput(); err != nil {
		t.Fatalf("%s cannot import kazoo (%v: %s): install the Debian package python3-kazoo (`apt-get install python3-kazoo`)", debianPython, err, bytes.TrimSpace(out))
	}
	clientDiff(t, nil, runKazoo)
}

func runKazoo(addr string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), clientRunTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, debianPython, kazooScript, addr)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s %s: %v\nstderr:\n%s", debianPython, kazooScript, err, stderr.String())
	}
	return stdout.String(), nil
}

// ---------------------------------------------------------------- zkCli.sh

// zkCliRun is one zkCli.sh invocation: a one-shot command (args after
// -server) or, with script set, an interactive session reading commands
// from stdin (zkCli.sh does that without a tty, JLine disabled).
type zkCliRun struct {
	args   []string
	script string
}

// aliceDigest is the digest ACL id of alice:secret,
// base64(sha1("alice:secret")).
const aliceDigest = "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E="

// zkCliRuns run in order against one server; later ones see what earlier
// ones left. Every invocation starts a JVM (about a second), so the list is
// short: two interactive sessions do most of the work.
var zkCliRuns = []zkCliRun{
	{args: []string{"create", "/os", "one"}},
	{args: []string{"create", "/os", "dup"}},
	{args: []string{"get", "-s", "/os"}},
	{args: []string{"set", "/os", "two", "-v", "5"}},
	{args: []string{"get", "/nope"}},
	{args: []string{"ls", "-s", "/"}},
	{args: []string{"delete", "/os"}},
	{args: []string{"stat", "/os"}},
	{script: `create /zc
create /zc/a hello
create /zc/a again
get /zc/nope
get -s /zc/a
set /zc/a world -v 5
set -s /zc/a world -v 0
stat /zc/a
stat /zc/nope
create -e /zc/eph e
create -s /zc/seq- 1
create -s /zc/seq- 2
create -s -e /zc/eseq- x
create -c /zc/cont
create -c /zc/cont/child
create /zc/missing/child
create -t 1000 /zc/ttl
create /zc/eph/child
stat /zc/eph
create /zc/empty
get /zc/empty
ls /zc
ls -s /zc
ls -R /zc
ls /zc/nope
getAllChildrenNumber /zc
getEphemerals /zc
getEphemerals
delete -v 7 /zc/a
delete /zc/a
delete /zc/nope
delete /zc
deleteall /zc/cont
create /zc/acl secret digest:` + aliceDigest + `:cdrwa
getAcl /zc/acl
getAcl -s /zc/acl
get /zc/acl
setAcl /zc/acl world:anyone:r
addauth digest alice:secret
get /zc/acl
setAcl -s /zc/acl world:anyone:r
getAcl /zc/acl
set /zc/acl x
setAcl -v 5 /zc/acl world:anyone:cdrwa
create /zc/a2 x auth::cdrwa
getAcl /zc/a2
create /zc/bad x ip:999.1.1.1:cdrwa
create /zc/bad2 x nosuch:x:cdrwa
create /zc/tree
create /zc/tree/1
create /zc/tree/1/2
setAcl -R /zc/tree world:anyone:cdra
getAcl /zc/tree/1/2
whoami
sync /zc
sync /zc/nope
get -w /zc/seq-0000000002
set /zc/seq-0000000002 changed
ls -w /zc
create /zc/w
stat -w /zc/nope2
create /zc/nope2
addWatch /zc/pw
create /zc/pw
create /zc/pw/x
set /zc/pw/x y
delete /zc/pw/x
removewatches /zc/pw
create /zc/pw/z
removewatches /zc/nope
create /zc/q
setquota -n 5 /zc/q
setquota -b 100 /zc/q
listquota /zc/q
create /zc/q/1
delquota -n /zc/q
listquota /zc/q
delquota /zc/q
listquota /zc/q
listquota /zc/nope
config
config -s
reconfig -remove 2
getAcl /zookeeper/config
get /
getAcl /
ls /zookeeper
quit
`},
	{script: `ls /zc
get /zc/acl
getAcl /zc/a2
get /zc/a2
addauth digest alice:wrong
get /zc/a2
addauth digest alice:secret
get -s /zc/a2
addauth ip anything
whoami
deleteall /zc
ls /
quit
`},
}

// TestZkCli runs Apache ZooKeeper's zkCli.sh (Debian package zookeeper),
// one-shot and interactive, against both servers and compares its output
// lines, minus log noise, with watch events moved to the end of each run
// (zkCli's event thread prints them at no fixed point).
func TestZkCli(t *testing.T) {
	t.Parallel()
	requireClient(t, zkCliSh, "zookeeper")
	log4j := filepath.Join(t.TempDir(), "log4j.properties")
	if err := os.WriteFile(log4j, []byte("log4j.rootLogger=ERROR, CONSOLE\n"+
		"log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender\n"+
		"log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout\n"+
		"log4j.appender.CONSOLE.layout.ConversionPattern=log4j %p %m%n\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(),
		"CLIENT_JVMFLAGS=-Dlog4j.configuration=file:"+log4j+" -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto")
	clientDiff(t, nil, func(addr string) (string, error) { return runZkCli(addr, env) })
}

func runZkCli(addr string, env []string) (string, error) {
	n := newClientNames()
	var out strings.Builder
	var errs []error
	for _, r := range zkCliRuns {
		title := strings.Join(r.args, " ")
		if r.script != "" {
			title = fmt.Sprintf("<<EOF (%d commands)", strings.Count(r.script, "\n"))
		}
		fmt.Fprintf(&out, "$ zkCli.sh -server 127.0.0.1:PORT %s\n", title)
		ctx, cancel := context.WithTimeout(context.Background(), clientRunTimeout)
		cmd := exec.CommandContext(ctx, zkCliSh, append([]string{"-server", addr}, r.args...)...)
		cmd.Env = env
		cmd.Stdin = strings.NewReader(r.script)
		var buf bytes.Buffer
		cmd.Stdout, cmd.Stderr = &buf, &buf // one pipe: keeps stdout and stderr lines in order
		err := cmd.Run()
		timedOut := ctx.Err() != nil
		cancel()
		out.WriteString(normalizeZkCli(n, buf.String()))
		var exit *exec.ExitError
		switch {
		case err == nil:
			out.WriteString("exit status 0\n")
		case errors.As(err, &exit) && !timedOut:
			fmt.Fprintf(&out, "exit status %d\n", exit.ExitCode())
		default:
			errs = append(errs, fmt.Errorf("zkCli.sh %s: %v\n%s", title, err, buf.String()))
		}
	}
	return out.String(), errors.Join(errs...)
}

var (
	zkCliZxid  = regexp.MustCompile(`^([cmp]Zxid) = (0x[0-9a-f]+)$`)
	zkCliTime  = regexp.MustCompile(`^([cm]time) = (.*)$`)
	zkCliOwner = regexp.MustCompile(`^ephemeralOwner = (0x[0-9a-f]+)$`)
	zkCliConn  = regexp.MustCompile(`^Connecting to 127\.0\.0\.1:\d+$`)
	// zkCliEvent is one write of zkCli's event thread: "\nWATCHER::" or
	// "\nWatchedEvent ...", each printed with println as one unit.
	zkCliEvent = regexp.MustCompile(`\n(WATCHER::|WatchedEvent [^\n]*)\n`)
)

// normalizeZkCli drops log noise, names zxids and sessions, masks times and
// the port, and moves watch events to the end. zkCli's event thread prints
// them while the main thread may be half-way through a line (ls writes
// "[", each child and ", " separately), so they are cut out of the output
// as the units the event thread writes before it is split into lines.
func normalizeZkCli(n *clientNames, output string) string {
	var lines, events []string
	output = zkCliEvent.ReplaceAllStringFunc(output, func(unit string) string {
		e := strings.Trim(unit, "\n")
		// The client raises Closed itself while it exits, and prints its
		// session's SyncConnected from its event thread: both race with
		// the JVM's exit (a command that fails at once may exit first) and
		// are not the server's doing.
		if e != "WATCHER::" && !strings.Contains(e, "state:Closed type:None") &&
			!strings.Contains(e, "state:SyncConnected type:None path:null") {
			events = append(events, e)
		}
		return ""
	})
	for _, l := range strings.Split(strings.TrimSuffix(output, "\n"), "\n") {
		if strings.HasPrefix(l, "SLF4J:") || strings.HasPrefix(l, "log4j") {
			continue
		}
		if m := zkCliZxid.FindStringSubmatch(l); m != nil {
			l = m[1] + " = " + n.zxid(m[2])
		} else if m := zkCliTime.FindStringSubmatch(l); m != nil {
			l = m[1] + " = " + wallTime(m[2])
		} else if m := zkCliOwner.FindStringSubmatch(l); m != nil {
			l = "ephemeralOwner = " + n.session(m[1])
		} else if zkCliConn.MatchString(l) {
			l = "Connecting to 127.0.0.1:PORT"
		}
		lines = append(lines, l)
	}
	sortWhoAmI(lines)
	var b strings.Builder
	for _, l := range lines {
		b.WriteString("  " + l + "\n")
	}
	for _, e := range events {
		b.WriteString("  event: " + e + "\n")
	}
	return b.String()
}

// sortWhoAmI sorts the identities whoami lists: Apache keeps them in a hash
// set, so their order is not part of the protocol.
func sortWhoAmI(lines []string) {
	for i, l := range lines {
		if l != "Auth scheme: User" {
			continue
		}
		j := i + 1
		for j < len(lines) && zkCliIdentity.MatchString(lines[j]) {
			j++
		}
		slices.Sort(lines[i+1 : j])
	}
}

var zkCliIdentity = regexp.MustCompile(`^[a-z0-9]+: \S*$`)

// ---------------------------------------------------------------- cli_mt

// cClientFence is sent after every command: the C client completes
// requests in order, so once the fence's reply is printed, everything the
// command printed is too. The script must not use it itself.
const cClientFence = "sync /"

// cClientScript is one cli_mt session. Most commands are asynchronous
// (their completion prints "<path>: rc = <code>" and the result); exists
// and wexists are synchronous and print only errors.
var cClientScript = []string{
	"create /cc",
	"create /cc/x",
	"create /cc/x",
	"create +e /cc/e",
	"create +s /cc/s",
	"create +s /cc/s",
	"create +es /cc/es",
	"create +c /cc/cont",
	"create +t=5000 /cc/ttl",
	"create2 /cc/y",
	"create2 /cc/x",
	"create2 +e /cc/e2",
	"create /cc/missing/child",
	"create /cc/e/child",
	"create /",
	"get /cc/x",
	"get /cc/nope",
	"get /cc/bad/",
	"get cc",
	"set /cc/x hello",
	"get /cc/x",
	"set /cc/nope hello",
	"ls /cc",
	"ls2 /cc",
	"ls /cc/nope",
	"ls2 /cc/nope",
	"exists /cc/x",
	"exists /cc/nope",
	"create /cc/nope",
	"wexists /cc/y",
	"delete /cc/y",
	"delete /cc/gone",
	"delete /cc",
	"delete /",
	"delete /zookeeper",
	"sync /cc",
	"sync /cc/gone",
	"myid",
	"config",
	"get /zookeeper",
	"ls /zookeeper",
	"ls2 /",
	"addauth digest u:p",
	"get /cc",
	"aget /cc/x",
	"als /cc/e",
	"quit",
}

// TestCClient runs the C client's shell cli_mt (Debian package
// zookeeper-bin) against both servers, sending one command at a time and
// waiting for its output with a fence, and compares the normalized output.
func TestCClient(t *testing.T) {
	t.Parallel()
	requireClient(t, cliMt, "zookeeper-bin")
	stdbuf, err := exec.LookPath("stdbuf")
	if err != nil {
		t.Fatalf("stdbuf not found (%v): install the Debian package coreutils", err)
	}
	clientDiff(t, nil, func(addr string) (string, error) { return runCClient(stdbuf, addr) })
}

// cClient is one running cli_mt with its stdout and stderr merged into one
// stream of lines.
type cClient struct {
	stdin io.WriteCloser
	lines chan string // closed at EOF
	n     *clientNames
	out   strings.Builder
}

func runCClient(stdbuf, addr string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), clientRunTimeout)
	defer cancel()
	pr, pw, err := os.Pipe()
	if err != nil {
		return "", err
	}
	defer pr.Close()
	// stdbuf -oL: myid prints to stdout with printf, block-buffered on a
	// pipe; everything else goes to unbuffered stderr.
	cmd := exec.CommandContext(ctx, stdbuf, "-oL", cliMt, addr)
	cmd.Stdout, cmd.Stderr = pw, pw
	c := &cClient{lines: make(chan string, 1024), n: newClientNames()}
	if c.stdin, err = cmd.StdinPipe(); err != nil {
		pw.Close()
		return "", err
	}
	if err := cmd.Start(); err != nil {
		pw.Close()
		return "", err
	}
	pw.Close()
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
	}()
	err = c.session()
	if err != nil {
		cmd.Process.Kill()
	}
	if werr := cmd.Wait(); err == nil && werr != nil {
		err = fmt.Errorf("cli_mt: %v", werr)
	}
	for range c.lines { // let the reader reach EOF
	}
	return c.out.String(), err
}

// session waits for the session, runs cClientScript and reads the output
// up to EOF after quit.
func (c *cClient) session() error {
	if err := c.readUntil("the session", func(l string) bool {
		return strings.HasPrefix(l, "Got a new session id: ")
	}); err != nil {
		return err
	}
	for _, cmd := range cClientScript {
		c.out.WriteString("> " + cmd + "\n")
		if cmd == "quit" {
			if _, err := io.WriteString(c.stdin, cmd+"\n"); err != nil {
				return err
			}
			c.stdin.Close()
			return c.readUntil("EOF after quit", nil)
		}
		if _, err := io.WriteString(c.stdin, cmd+"\n"+cClientFence+"\n"); err != nil {
			return err
		}
		if err := c.readFence(cmd); err != nil {
			return err
		}
	}
	c.stdin.Close()
	return c.readUntil("EOF", nil)
}

// readFence reads and records cmd's output up to the fence's reply
// ("[/]: rc = 0" then "\tname = /"), which it drops.
func (c *cClient) readFence(cmd string) error {
	var block []string
	timeout := time.After(clientReplyTimeout)
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				c.record(cmd, block)
				return fmt.Errorf("cli_mt exited before the reply to %q", cmd)
			}
			block = append(block, l)
			k := len(block)
			if k >= 2 && block[k-2] == "[/]: rc = 0" && block[k-1] == "\tname = /" {
				c.record(cmd, block[:k-2])
				return nil
			}
		case <-timeout:
			c.record(cmd, block)
			return fmt.Errorf("no reply to %q (then %q) within %v", cmd, cClientFence, clientReplyTimeout)
		}
	}
}

// readUntil reads and records lines until done(line) holds (the line is
// recorded too) or, with done nil, until EOF.
func (c *cClient) readUntil(what string, done func(string) bool) error {
	var block []string
	defer func() { c.record("", block) }()
	timeout := time.After(clientReplyTimeout)
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				if done == nil {
					return nil
				}
				return fmt.Errorf("cli_mt exited while waiting for %s", what)
			}
			block = append(block, l)
			if done != nil && done(l) {
				return nil
			}
		case <-timeout:
			return fmt.Errorf("cli_mt: no %s within %v", what, clientReplyTimeout)
		}
	}
}

var (
	cClientZxid    = regexp.MustCompile(`^\t([cm]zxid)=([0-9a-f]+)$`)
	cClientTime    = regexp.MustCompile(`^\t([cm]time) ?= ?(.*)$`)
	cClientOwner   = regexp.MustCompile(`^\tephemeralOwner = ([0-9a-f]+)$`)
	cClientSession = regexp.MustCompile(`^(Got a new session id: |session Id = )(?:0x)?([0-9a-f]+)$`)
	cClientElapsed = regexp.MustCompile(`^time = -?\d+ msec$`)
	cClientChild   = regexp.MustCompile(`^\t[^=\t]+$`)
)

// record normalizes one command's output and appends it to the transcript.
// Children lists (ls, ls2) are sorted: ZooKeeper promises no order.
func (c *cClient) record(cmd string, block []string) {
	var lines []string
	for _, l := range block {
		switch {
		case cClientElapsed.MatchString(l):
			continue
		case cClientZxid.MatchString(l):
			m := cClientZxid.FindStringSubmatch(l)
			l = "\t" + m[1] + "=" + c.n.zxid(m[2])
		case cClientTime.MatchString(l):
			m := cClientTime.FindStringSubmatch(l)
			l = "\t" + m[1] + " = " + wallTime(m[2])
		case cClientOwner.MatchString(l):
			l = "\tephemeralOwner = " + c.n.session(cClientOwner.FindStringSubmatch(l)[1])
		case cClientSession.MatchString(l):
			m := cClientSession.FindStringSubmatch(l)
			l = m[1] + c.n.session(m[2])
		}
		lines = append(lines, l)
	}
	if f := strings.Fields(strings.TrimPrefix(cmd, "a")); len(f) > 0 && (f[0] == "ls" || f[0] == "ls2") {
		for i := 0; i < len(lines); i++ {
			j := i
			for j < len(lines) && cClientChild.MatchString(lines[j]) {
				j++
			}
			slices.Sort(lines[i:j])
			i = j
		}
	}
	for _, l := range lines {
		c.out.WriteString("  " + strings.ReplaceAll(l, "\t", "\\t") + "\n")
	}
}

// failoverTimeout bounds how long a real client may take to reconnect to
// another server of the ensemble after the one it was connected to died.
const failoverTimeout = 60 * time.Second

// lineClient is an interactive client process (zkCli.sh, cli_mt) fed
// commands on stdin, its stdout and stderr merged into one stream of lines.
type lineClient struct {
	t     *testing.T
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string // closed at EOF
	seen  []string    // every line read, for failure messages
}

func startLineClient(t *testing.T, name string, args, env []string) *lineClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*clientRunTimeout)
	t.Cleanup(cancel)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pr.Close() })
	c := &lineClient{t: t, cmd: exec.CommandContext(ctx, name, args...), lines: make(chan string, 4096)}
	c.cmd.Env = env
	c.cmd.Stdout, c.cmd.Stderr = pw, pw
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
	}()
	t.Cleanup(func() {
		c.cmd.Process.Kill()
		c.cmd.Wait()
	})
	return c
}

// send writes one command line.
func (c *lineClient) send(line string) {
	c.t.Helper()
	if _, err := io.WriteString(c.stdin, line+"\n"); err != nil {
		c.t.Fatalf("send %q: %v", line, err)
	}
}

// expect reads lines until one matches re and returns its submatches; it
// fails the test after timeout or at EOF.
func (c *lineClient) expect(re *regexp.Regexp, timeout time.Duration) []string {
	c.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				c.t.Fatalf("client exited while waiting for %q; its output:\n%s", re, strings.Join(c.seen, "\n"))
			}
			c.seen = append(c.seen, l)
			if m := re.FindStringSubmatch(l); m != nil {
				return m
			}
		case <-deadline:
			c.t.Fatalf("no line matching %q within %v; output:\n%s", re, timeout, strings.Join(c.seen, "\n"))
		}
	}
}

// retry sends the command made by cmd(i), i = 0, 1, ..., and reads its
// outcome with outcome (true: done) until it succeeds or failoverTimeout
// passes.
func (c *lineClient) retry(cmd func(i int) string, outcome func(i int) bool) {
	c.t.Helper()
	deadline := time.Now().Add(failoverTimeout)
	for i := 0; ; i++ {
		c.send(cmd(i))
		if outcome(i) {
			c.t.Logf("%q succeeded (attempt %d)", cmd(i), i+1)
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%q never succeeded within %v; output:\n%s", cmd(i), failoverTimeout, strings.Join(c.seen, "\n"))
		}
		time.Sleep(200 * time.Millisecond) // the client is reconnecting: try again
	}
}

// sessionServer returns the server of the ensemble holding a connection
// of session id (per cons), or nil.
func sessionServer(servers []*harness.Server, id int64) *harness.Server {
	sid := fmt.Sprintf("sid=0x%x,", id)
	for _, s := range servers {
		if cons, err := s.FourLetter("cons"); err == nil && strings.Contains(cons, sid) {
			return s
		}
	}
	return nil
}

// ephemeralOwner reads path's ephemeralOwner, after a sync, through a
// session of its own on a live server; 0 if the node does not exist.
func ephemeralOwner(t *testing.T, servers []*harness.Server, path string) int64 {
	t.Helper()
	c := connect(t, alive(servers)[0].Addr())
	defer c.Close()
	if _, err := c.Sync(path); err != nil {
		t.Fatalf("sync %s: %v", path, err)
	}
	ok, st, err := c.Exists(path)
	if err != nil {
		t.Fatalf("exists %s: %v", path, err)
	}
	if !ok {
		return 0
	}
	return st.EphemeralOwner
}

// clientFailover is the common part of the failover tests: the client made
// the ephemeral node path; kill the server its session is connected to and
// return the session id.
func clientFailover(t *testing.T, servers []*harness.Server, path string) int64 {
	t.Helper()
	owner := ephemeralOwner(t, servers, path)
	if owner == 0 {
		t.Fatalf("%s does not exist", path)
	}
	victim := sessionServer(servers, owner)
	if victim == nil {
		t.Fatalf("no server lists session 0x%x in cons", owner)
	}
	victim.Kill()
	t.Logf("killed server %d, which held session 0x%x", victim.ID(), owner)
	return owner
}

// TestZkCliEnsembleFailover runs zkCli.sh against a 3-server ensemble of
// ours with all three in its connect string: it makes an ephemeral node,
// the server it is connected to is killed, it reconnects to another one
// with the same session, its ephemeral node survives, and it serves the
// next commands.
func TestZkCliEnsembleFailover(t *testing.T) {
	requireClient(t, zkCliSh, "zookeeper")
	servers := harness.StartEnsemble(t, 3, nil)
	log4j := filepath.Join(t.TempDir(), "log4j.properties")
	if err := os.WriteFile(log4j, []byte("log4j.rootLogger=ERROR, CONSOLE\n"+
		"log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender\n"+
		"log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout\n"+
		"log4j.appender.CONSOLE.layout.ConversionPattern=log4j %p %m%n\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "CLIENT_JVMFLAGS=-Dlog4j.configuration=file:"+log4j+" -XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
	c := startLineClient(t, zkCliSh, []string{"-server", harness.ConnectString(servers...)}, env)
	c.send("create -e /eph survives")
	c.expect(regexp.MustCompile(`^Created /eph$`), clientRunTimeout)
	owner := clientFailover(t, servers, "/eph")

	created := regexp.MustCompile(`^(Created /after-(\d+)|.*KeeperErrorCode = (\w+).*)$`)
	c.retry(func(i int) string { return fmt.Sprintf("create /after-%d x", i) }, func(i int) bool {
		m := c.expect(created, failoverTimeout)
		return m[2] == strconv.Itoa(i)
	})
	c.send("stat /eph")
	m := c.expect(regexp.MustCompile(`^ephemeralOwner = 0x([0-9a-f]+)$`), clientRunTimeout)
	if got := fmt.Sprintf("%x", owner); m[1] != got {
		t.Errorf("after failover, zkCli's stat /eph says ephemeralOwner 0x%s, want 0x%s (its session)", m[1], got)
	}
	if got := ephemeralOwner(t, servers, "/eph"); got != owner {
		t.Errorf("after failover, /eph is owned by 0x%x, want 0x%x", got, owner)
	}
	c.send("quit")
	if err := c.cmd.Wait(); err != nil {
		t.Errorf("zkCli.sh quit: %v", err)
	}
	// Closing the session deletes its ephemeral node.
	if got := ephemeralOwner(t, servers, "/eph"); got != 0 {
		t.Errorf("/eph still exists (owner 0x%x) after zkCli.sh closed its session", got)
	}
}

// TestCClientEnsembleFailover is TestZkCliEnsembleFailover for the C
// client's shell cli_mt.
func TestCClientEnsembleFailover(t *testing.T) {
	requireClient(t, cliMt, "zookeeper-bin")
	stdbuf, err := exec.LookPath("stdbuf")
	if err != nil {
		t.Fatalf("stdbuf not found (%v): install the Debian package coreutils", err)
	}
	servers := harness.StartEnsemble(t, 3, nil)
	c := startLineClient(t, stdbuf, []string{"-oL", cliMt, harness.ConnectString(servers...)}, os.Environ())
	m := c.expect(regexp.MustCompile(`^Got a new session id: (?:0x)?([0-9a-f]+)$`), clientRunTimeout)
	c.send("create +e /ceph")
	c.expect(regexp.MustCompile(`^\[/ceph\]: rc = 0$`), clientReplyTimeout)
	owner := clientFailover(t, servers, "/ceph")
	if got := fmt.Sprintf("%x", owner); m[1] != got {
		t.Errorf("cli_mt's session is 0x%s, /ceph's owner 0x%s", m[1], got)
	}

	rc := regexp.MustCompile(`^\[/cafter-(\d+)\]: rc = (-?\d+)$`)
	c.retry(func(i int) string { return fmt.Sprintf("create /cafter-%d", i) }, func(i int) bool {
		for {
			m := c.expect(rc, failoverTimeout)
			if m[1] == strconv.Itoa(i) {
				return m[2] == "0"
			}
		}
	})
	if got := ephemeralOwner(t, servers, "/ceph"); got != owner {
		t.Errorf("after failover, /ceph is owned by 0x%x, want 0x%x", got, owner)
	}
	c.send("quit")
	c.stdin.Close()
	if err := c.cmd.Wait(); err != nil {
		t.Errorf("cli_mt quit: %v", err)
	}
	if got := ephemeralOwner(t, servers, "/ceph"); got != 0 {
		t.Errorf("/ceph still exists (owner 0x%x) after cli_mt closed its session", got)
	}
}

// TestNormalizeZkCliEvents checks that a watch event zkCli's event thread
// printed in the middle of an ls line (as a clean clone's run under load
// once did) is moved out whole and leaves the line as it was meant.
func TestNormalizeZkCliEvents(t *testing.T) {
	raw := "Sync is OK\n" +
		"[a2, acl, " +
		"\nWATCHER::\n" +
		"\nWatchedEvent state:SyncConnected type:NodeDataChanged path:/zc/seq-0000000002\n" +
		"empty, eph]\n" +
		"\nWATCHER::\n" +
		"\nWatchedEvent state:Closed type:None path:null\n" +
		"Created /zc/w\n"
	want := "  Sync is OK\n" +
		"  [a2, acl, empty, eph]\n" +
		"  Created /zc/w\n" +
		"  event: WatchedEvent state:SyncConnected type:NodeDataChanged path:/zc/seq-0000000002\n"
	if got := normalizeZkCli(newClientNames(), raw); got != want {
		t.Errorf("normalizeZkCli:\n%s\nwant:\n%s", got, want)
	}
}
