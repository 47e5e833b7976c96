// Package harness starts ZooKeeper servers for tests: the Apache ZooKeeper
// reference server (Java, from the Debian packages) and our own zkserver
// binary, both from the same zoo.cfg shape, so that tests can run the same
// client workload against either and compare.
//
// Every server lives in its own t.TempDir() (zoo.cfg, data/, server.log),
// listens on a free 127.0.0.1 port, is ready when it answers the four-letter
// word ruok with imok and srvr without "not currently serving requests"
// (Apache answers imok before it serves), and is killed in t.Cleanup. Its
// stdout and stderr go to server.log, which is printed when the test fails.
package harness

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/zkgo/zkgo/internal/freeport"
	"io"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	// startTimeout bounds how long a server may take to become ready.
	startTimeout = 60 * time.Second
	// stopTimeout bounds how long Stop waits after SIGTERM before SIGKILL.
	stopTimeout = 15 * time.Second
	// fourLetterTimeout bounds one four-letter-word exchange.
	fourLetterTimeout = 5 * time.Second
	// pollInterval is the pause between two readiness probes.
	pollInterval = 50 * time.Millisecond
	// maxLogDump caps how much of server.log is printed on failure.
	maxLogDump = 64 << 10
	// startAttempts bounds the retries when a free port was taken meanwhile.
	startAttempts = 3
)

// Environment variables understood by the harness.
const (
	// EnvZkserverBin names a prebuilt zkserver binary; StartOurs then skips
	// the go build.
	EnvZkserverBin = "ZKSERVER_BIN"
	// EnvZookeeperClasspath overrides the Java classpath used to run Apache
	// ZooKeeper (for systems whose jars are not in /usr/share/java).
	EnvZookeeperClasspath = "ZOOKEEPER_CLASSPATH"
)

// debianJars are the jars of Debian's zookeeper package plus the log4j 1.2
// binding for slf4j; zookeeper.jar's manifest Class-Path names the rest of
// its dependencies (jute, netty, jetty, jackson, ...).
var debianJars = []string{
	"/usr/share/java/zookeeper.jar",
	"/usr/share/java/zookeeper-jute.jar",
	"/usr/share/java/slf4j-log4j12.jar",
	"/usr/share/java/log4j-1.2.jar",
}

// log4jConfig sends Apache ZooKeeper's log to the console, which the
// harness captures into server.log.
const log4jConfig = `log4j.rootLogger=INFO, CONSOLE
log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender
log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout
log4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} %-5p [%t:%C{1}@%L] - %m%n
`

// Server is one running ZooKeeper server process started by StartApache or
// StartOurs.
type Server struct {
	t       testing.TB
	name    string
	dir     string
	port    int
	cmd     *exec.Cmd
	logPath string

	done    chan struct{} // closed when the process has exited
	waitErr error         // valid once done is closed

	mu      sync.Mutex
	stopped bool // Stop or Kill was called: an exit is expected

	id int // server id in an ensemble (StartEnsemble), else 0

	fsyncDelayFile string // the fault control file (StartFaultyEnsemble)
}

// FreePort returns a TCP port on 127.0.0.1, outside the ephemeral range,
// that was free a moment ago and that no earlier call in this process
// returned (see internal/freeport).
func FreePort(t testing.TB) int {
	t.Helper()
	port, err := freeport.Pick()
	if err != nil {
		t.Fatalf("harness: %v", err)
	}
	return port
}

// StartApache starts the Apache ZooKeeper reference server in standalone
// mode with the harness's zoo.cfg plus extraCfg (whose keys override the
// defaults), waits until it is ready and stops it when the test ends.
// The test fails if Apache ZooKeeper or Java is not installed.
func StartApache(t testing.TB, extraCfg map[string]string) *Server {
	t.Helper()
	return StartApacheJVM(t, extraCfg)
}

// StartApacheJVM is StartApache with jvmFlags (such as
// "-Dznode.container.checkIntervalMs=100") on java's command line, as
// zkServer.sh passes SERVER_JVMFLAGS: they set the system properties that
// Apache reads only from the JVM, not from zoo.cfg.
func StartApacheJVM(t testing.TB, extraCfg map[string]string, jvmFlags ...string) *Server {
	t.Helper()
	return start(t, "apache", extraCfg, func(dir, cfg string) *exec.Cmd {
		return apacheCmd(t, dir, cfg, jvmFlags...)
	})
}

// apacheCmd returns the command that runs Apache ZooKeeper on cfg with its
// log4j configuration in dir and jvmFlags, failing the test with
// installation advice if Java or Apache ZooKeeper is missing.
func apacheCmd(t testing.TB, dir, cfg string, jvmFlags ...string) *exec.Cmd {
	t.Helper()
	java, err := exec.LookPath("java")
	if err != nil {
		t.Fatalf("harness: java not found (%v): Apache ZooKeeper is the reference server; install it with `apt-get install zookeeper zookeeper-bin`", err)
	}
	classpath := apacheClasspath(t)
	log4j := filepath.Join(dir, "log4j.properties")
	writeFile(t, log4j, log4jConfig)
	args := []string{
		"-Xmx512m",
		"-XX:+UseSerialGC",
		"-Dlog4j.configuration=file:" + log4j,
		"-Dzookeeper.log.dir=" + dir,
		"-Dzookeeper.jmx.log4j.disable=true",
	}
	args = append(args, jvmFlags...)
	args = append(args, "-cp", classpath, "org.apache.zookeeper.server.quorum.QuorumPeerMain", cfg)
	return exec.Command(java, args...)
}

// StartOurs starts our zkserver (`zkserver start-foreground <zoo.cfg>`) with
// the same zoo.cfg shape as StartApache. The binary comes from ZKSERVER_BIN
// if set, else it is built once per test process from cmd/zkserver.
func StartOurs(t testing.TB, extraCfg map[string]string) *Server {
	t.Helper()
	return StartOursJVM(t, extraCfg)
}

// StartOursJVM is StartOurs with SERVER_JVMFLAGS set to jvmFlags (each one
// word, such as "-Dznode.container.checkIntervalMs=100"), from which
// zkserver reads system properties as Apache's zkServer.sh passes them to
// java; see StartApacheJVM.
func StartOursJVM(t testing.TB, extraCfg map[string]string, jvmFlags ...string) *Server {
	t.Helper()
	bin := BuildOurs(t)
	return start(t, "ours", extraCfg, func(_, cfg string) *exec.Cmd {
		cmd := exec.Command(bin, "start-foreground", cfg)
		if len(jvmFlags) > 0 {
			cmd.Env = append(os.Environ(), "SERVER_JVMFLAGS="+strings.Join(jvmFlags, " "))
		}
		return cmd
	})
}

// Addr returns the client address, "127.0.0.1:port".
func (s *Server) Addr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
}

// Port returns the client port.
func (s *Server) Port() int { return s.port }

// Dir returns the server's directory, holding zoo.cfg, data/ and server.log.
func (s *Server) Dir() string { return s.dir }

// FourLetter sends a four-letter word (ruok, srvr, mntr, ...) and returns
// the whole reply.
func (s *Server) FourLetter(cmd string) (string, error) {
	return FourLetter(s.Addr(), cmd)
}

// FourLetter sends a four-letter word to addr and returns the whole reply,
// read until the server closes the connection.
func FourLetter(addr, cmd string) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, fourLetterTimeout)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(fourLetterTimeout)); err != nil {
		return "", err
	}
	if _, err := io.WriteString(conn, cmd); err != nil {
		return "", err
	}
	reply, err := io.ReadAll(conn)
	return string(reply), err
}

// Stop asks the server to shut down (SIGTERM) and waits for it to exit,
// killing it if it has not exited within a bounded time. It is idempotent.
func (s *Server) Stop() {
	s.t.Helper()
	s.markStopped()
	if s.exited() {
		return
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		s.t.Errorf("harness: %s server: SIGTERM: %v", s.name, err)
	}
	select {
	case <-s.done:
	case <-time.After(stopTimeout):
		s.t.Errorf("harness: %s server did not exit within %v of SIGTERM; killing it", s.name, stopTimeout)
		s.Kill()
	}
}

// Kill kills the server (SIGKILL) and waits for it to exit. It is
// idempotent.
func (s *Server) Kill() {
	s.markStopped()
	if !s.exited() {
		_ = s.cmd.Process.Kill()
	}
	<-s.done
}

func (s *Server) markStopped() {
	s.mu.Lock()
	s.stopped = true
	s.mu.Unlock()
}

func (s *Server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// start launches a server, retrying with another port if the one FreePort
// found was taken before the server could bind it.
func start(t testing.TB, name string, extraCfg map[string]string, newCmd func(dir, cfg string) *exec.Cmd) *Server {
	t.Helper()
	for attempt := 1; ; attempt++ {
		s, err := launch(t, name, extraCfg, newCmd)
		if err == nil {
			return s
		}
		if attempt < startAttempts && s.exited() && s.portTaken() {
			t.Logf("harness: %s server: port %d was taken, retrying", name, s.port)
			continue
		}
		t.Fatalf("harness: %s server (%s): %v", name, strings.Join(s.cmd.Args, " "), err)
	}
}

// launch writes zoo.cfg into a fresh directory, runs the command built by
// newCmd(dir, cfgPath) with its output in server.log, and waits until it is
// ready. The returned Server is killed in t.Cleanup even if launch fails.
func launch(t testing.TB, name string, extraCfg map[string]string, newCmd func(dir, cfg string) *exec.Cmd) (*Server, error) {
	t.Helper()
	dir := t.TempDir()
	s := &Server{
		t:       t,
		name:    name,
		dir:     dir,
		port:    FreePort(t),
		logPath: filepath.Join(dir, "server.log"),
		done:    make(chan struct{}),
	}
	dataDir := filepath.Join(dir, "data")
	if err := os.Mkdir(dataDir, 0o755); err != nil {
		t.Fatalf("harness: %v", err)
	}
	cfg := filepath.Join(dir, "zoo.cfg")
	writeFile(t, cfg, zooCfg(dataDir, s.port, extraCfg))

	logFile, err := os.Create(s.logPath)
	if err != nil {
		t.Fatalf("harness: %v", err)
	}
	s.cmd = newCmd(dir, cfg)
	s.cmd.Dir = dir
	t.Cleanup(s.cleanup)
	return s, s.run(logFile)
}

// run starts s.cmd with its output in logFile and waits until the server
// is ready.
func (s *Server) run(logFile *os.File) error {
	s.startProcess(logFile)
	if err := s.waitReady(); err != nil {
		s.Kill()
		return err
	}
	return nil
}

// startProcess starts s.cmd with its output in logFile.
func (s *Server) startProcess(logFile *os.File) {
	s.cmd.Stdout = logFile
	s.cmd.Stderr = logFile
	if err := s.cmd.Start(); err != nil {
		logFile.Close()
		s.t.Fatalf("harness: start %s server %v: %v", s.name, s.cmd.Args, err)
	}
	done := s.done
	cmd := s.cmd
	go func() {
		s.waitErr = cmd.Wait()
		logFile.Close()
		close(done)
	}()
}

// Restart starts a stopped or killed server again with the same command,
// directory, data and port, appending to its log, and waits until it is
// ready.
func (s *Server) Restart() error {
	logFile, err := s.relaunch()
	if err != nil {
		return err
	}
	return s.run(logFile)
}

// Relaunch starts a stopped or killed server again as Restart does, without
// waiting for it to serve (a member that cannot join a quorum yet).
func (s *Server) Relaunch() error {
	logFile, err := s.relaunch()
	if err != nil {
		return err
	}
	s.startProcess(logFile)
	return nil
}

func (s *Server) relaunch() (*os.File, error) {
	s.Kill() // no-op when already stopped; waits for the exit
	logFile, err := os.OpenFile(s.logPath, os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	old := s.cmd
	s.cmd = exec.Command(old.Path, old.Args[1:]...)
	s.cmd.Dir, s.cmd.Env = old.Dir, old.Env
	s.mu.Lock()
	s.stopped = false
	s.mu.Unlock()
	s.done = make(chan struct{})
	return logFile, nil
}

// Log returns the server's log so far.
func (s *Server) Log() string {
	b, _ := os.ReadFile(s.logPath)
	return string(b)
}

// Exited returns a channel closed when the server process exits.
func (s *Server) Exited() <-chan struct{} { return s.done }

// portTaken reports whether the server's log says its port was in use.
func (s *Server) portTaken() bool {
	b, err := os.ReadFile(s.logPath)
	return err == nil && bytes.Contains(bytes.ToLower(b), []byte("address already in use"))
}

// waitReady polls until the server is ready, the process exits or
// startTimeout passes.
func (s *Server) waitReady() error {
	deadline := time.Now().Add(startTimeout)
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for {
		lastErr := s.probe()
		if lastErr == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready on %s after %v: %v", s.Addr(), startTimeout, lastErr)
		}
		select {
		case <-s.done:
			return fmt.Errorf("exited before it was ready: %v", s.waitErr)
		case <-ticker.C:
		}
	}
}

// notServing is how Apache ZooKeeper answers most four-letter words while it
// listens but is not yet (or no longer) serving requests.
const notServing = "not currently serving requests"

// probe reports whether the server is ready: it must answer ruok with imok
// and srvr without notServing. Apache ZooKeeper answers imok as soon as it
// listens, before its request pipeline runs, so ruok alone is not enough.
func (s *Server) probe() error {
	if reply, err := s.FourLetter("ruok"); err != nil {
		return err
	} else if reply != "imok" {
		return fmt.Errorf("ruok answered %q", reply)
	}
	if reply, err := s.FourLetter("srvr"); err != nil {
		return err
	} else if strings.Contains(reply, notServing) {
		return fmt.Errorf("srvr answered %q", reply)
	}
	return nil
}

// cleanup kills the server, reports an exit nobody asked for, and prints
// server.log if the test failed.
func (s *Server) cleanup() {
	s.mu.Lock()
	expected := s.stopped
	s.mu.Unlock()
	if !expected && s.exited() {
		s.t.Errorf("harness: %s server exited unexpectedly: %v", s.name, s.waitErr)
	}
	s.Kill()
	if s.t.Failed() {
		s.t.Logf("harness: %s server on %s, log %s:\n%s", s.name, s.Addr(), s.logPath, tail(s.logPath, maxLogDump))
	}
}

// zooCfg renders the harness's zoo.cfg: fixed defaults, then extra, with
// extra's keys replacing defaults; extra's other keys follow, sorted.
func zooCfg(dataDir string, port int, extra map[string]string) string {
	defaults := [][2]string{
		{"tickTime", "2000"},
		{"dataDir", dataDir},
		{"clientPort", strconv.Itoa(port)},
		{"clientPortAddress", "127.0.0.1"},
		{"admin.enableServer", "false"},
		{"4lw.commands.whitelist", "*"},
	}
	var b strings.Builder
	seen := map[string]bool{}
	for _, kv := range defaults {
		v, ok := extra[kv[0]]
		if !ok {
			v = kv[1]
		}
		seen[kv[0]] = true
		fmt.Fprintf(&b, "%s=%s\n", kv[0], v)
	}
	for _, k := range slices.Sorted(maps.Keys(extra)) {
		if !seen[k] {
			fmt.Fprintf(&b, "%s=%s\n", k, extra[k])
		}
	}
	return b.String()
}

// apacheClasspath returns the classpath that runs Apache ZooKeeper, failing
// the test with installation advice if its jars are missing.
func apacheClasspath(t testing.TB) string {
	t.Helper()
	if cp := os.Getenv(EnvZookeeperClasspath); cp != "" {
		return cp
	}
	for _, jar := range debianJars {
		if _, err := os.Stat(jar); err != nil {
			t.Fatalf("harness: Apache ZooKeeper is not installed (%v); it is the reference server: "+
				"run `apt-get install zookeeper zookeeper-bin` (or set %s)", err, EnvZookeeperClasspath)
		}
	}
	return strings.Join(debianJars, string(os.PathListSeparator))
}

// build caches the zkserver binary built for this test process.
var build struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

// BuildOurs returns the zkserver binary StartOurs runs: $ZKSERVER_BIN if
// set, else cmd/zkserver built once per test process. Calling it before
// starting any server makes a build failure fail fast.
func BuildOurs(t testing.TB) string {
	t.Helper()
	if bin := os.Getenv(EnvZkserverBin); bin != "" {
		return bin
	}
	build.once.Do(func() {
		build.bin, build.err = buildZkserver()
	})
	if build.err != nil {
		t.Fatalf("harness: build zkserver: %v", build.err)
	}
	return build.bin
}

// buildZkserver runs go build for cmd/zkserver in the module root and
// returns the path of the binary.
func buildZkserver() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside the zkgo module (go env GOMOD is %q)", gomod)
	}
	root := filepath.Dir(gomod)
	build.dir, err = os.MkdirTemp("", "zkgo-harness-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(build.dir, "zkserver")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/zkgo/zkgo/cmd/zkserver")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%v\n%s", err, out)
	}
	return bin, nil
}

// Main runs the tests of a package that uses the harness and then removes
// the zkserver binary built for them. Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
	os.Exit(code)
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatalf("harness: %v", err)
	}
}

// tail returns at most the last limit bytes of the file at path.
func tail(path string, limit int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	if len(b) <= limit {
		return string(b)
	}
	b = b[len(b)-limit:]
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[i+1:]
	}
	return fmt.Sprintf("... (log truncated to its last %d bytes)\n%s", limit, b)
}

// ApacheJava returns the java binary and the classpath that run Apache
// ZooKeeper's QuorumPeerMain, failing the test with installation advice if
// either is missing; for tests that start Apache ZooKeeper their own way.
func ApacheJava(t testing.TB) (java, classpath string) {
	t.Helper()
	java, err := exec.LookPath("java")
	if err != nil {
		t.Fatalf("harness: java not found (%v): Apache ZooKeeper is the reference server; install it with `apt-get install zookeeper zookeeper-bin`", err)
	}
	return java, apacheClasspath(t)
}
