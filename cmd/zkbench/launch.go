package main

import (
	"errors"
	"fmt"
	"github.com/zkgo/zkgo/internal/freeport"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Launcher timing.
const (
	startTimeout      = 90 * time.Second
	fourLetterTimeout = 5 * time.Second
	pollInterval      = 100 * time.Millisecond
)

// debianJars are the jars of Debian's zookeeper package plus the log4j 1.2
// binding for slf4j; zookeeper.jar's manifest names the rest.
var debianJars = []string{
	"/usr/share/java/zookeeper.jar",
	"/usr/share/java/zookeeper-jute.jar",
	"/usr/share/java/slf4j-log4j12.jar",
	"/usr/share/java/log4j-1.2.jar",
}

// log4jConfig sends Apache ZooKeeper's log (WARN and up) to the console,
// which is captured into server.log.
const log4jConfig = `log4j.rootLogger=WARN, CONSOLE
log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender
log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout
log4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} %-5p [%t:%C{1}@%L] - %m%n
`

// impl says how to run one server implementation from a zoo.cfg.
type impl struct {
	// name is "ours", "apache" or "null".
	name string
	// null marks the null server, which answers only some workloads and
	// has no tree to fill, restart or fail over.
	null bool
	// cpus is the CPU set the servers run on; empty: unpinned.
	cpus cpuSet
	// command returns the command running a server on cfg in dir.
	command func(dir, cfg string) *exec.Cmd
}

// oursImpl runs our zkserver binary at bin on cpus.
func oursImpl(bin string, cpus cpuSet) impl {
	return impl{name: "ours", cpus: cpus, command: func(_, cfg string) *exec.Cmd {
		cmd := exec.Command(bin, "start-foreground", cfg)
		cmd.Env = goEnv(cpus)
		return cmd
	}}
}

// goEnv is zkbench's environment for a Go server on cpus: GOMAXPROCS
// follows the set (Go would derive the same from the affinity it starts
// with; this says so in the process's environment too).
func goEnv(cpus cpuSet) []string {
	env := os.Environ()
	if len(cpus) > 0 {
		env = append(env, "GOMAXPROCS="+strconv.Itoa(len(cpus)))
	}
	return env
}

// apacheImpl runs Apache ZooKeeper from the Debian jars with a heap of
// heapMB megabytes on cpus, or explains how to install it.
func apacheImpl(heapMB int, cpus cpuSet) (impl, error) {
	java, err := exec.LookPath("java")
	if err != nil {
		return impl{}, fmt.Errorf("java not found (%v): install Apache ZooKeeper with `apt-get install zookeeper`", err)
	}
	cp := os.Getenv("ZOOKEEPER_CLASSPATH")
	if cp == "" {
		for _, jar := range debianJars {
			if _, err := os.Stat(jar); err != nil {
				return impl{}, fmt.Errorf("Apache ZooKeeper is not installed (%v): run `apt-get install zookeeper` (or set ZOOKEEPER_CLASSPATH)", err)
			}
		}
		cp = strings.Join(debianJars, string(os.PathListSeparator))
	}
	return impl{name: "apache", cpus: cpus, command: func(dir, cfg string) *exec.Cmd {
		log4j := filepath.Join(dir, "log4j.properties")
		_ = os.WriteFile(log4j, []byte(log4jConfig), 0o644)
		args := []string{fmt.Sprintf("-Xmx%dm", heapMB), "-XX:+UseSerialGC"}
		if len(cpus) > 0 {
			// The JVM sizes its thread pools from the CPUs it may use
			// (it reads its affinity too); said explicitly, as GOMAXPROCS.
			args = append(args, "-XX:ActiveProcessorCount="+strconv.Itoa(len(cpus)))
		}
		args = append(args,
			"-Dlog4j.configuration=file:"+log4j,
			"-Dzookeeper.log.dir="+dir,
			"-Dzookeeper.jmx.log4j.disable=true",
			"-cp", cp,
			"org.apache.zookeeper.server.quorum.QuorumPeerMain", cfg)
		return exec.Command(java, args...)
	}}, nil
}

// server is one server process of an ensemble.
type server struct {
	id   int
	dir  string
	port int
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
}

// ensemble is a running 3-server (or n-server) ensemble on 127.0.0.1.
type ensemble struct {
	impl    impl
	root    string
	servers []*server
}

// startEnsemble starts n servers of im under root, all from the same zoo.cfg
// shape (tickTime, initLimit=10, syncLimit=5, one server.N line each, ids
// 1..n), and returns once each answers ruok and srvr with a Mode.
func startEnsemble(im impl, n int, root string) (*ensemble, error) {
	e := &ensemble{impl: im, root: root}
	peers := make([]string, n)
	for i := range peers {
		q, err1 := freeport.Pick()
		el, err2 := freeport.Pick()
		if err := errors.Join(err1, err2); err != nil {
			return nil, err
		}
		peers[i] = fmt.Sprintf("server.%d=127.0.0.1:%d:%d", i+1, q, el)
	}
	for i := 0; i < n; i++ {
		port, err := freeport.Pick()
		if err != nil {
			return nil, err
		}
		s := &server{id: i + 1, dir: filepath.Join(root, fmt.Sprintf("%s-%d", im.name, i+1)), port: port}
		data := filepath.Join(s.dir, "data")
		if err := os.MkdirAll(data, 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(data, "myid"), []byte(strconv.Itoa(s.id)+"\n"), 0o644); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(s.dir, "zoo.cfg"), []byte(zooCfg(data, port, peers)), 0o644); err != nil {
			return nil, err
		}
		if err := s.launch(im); err != nil {
			e.stop()
			return nil, err
		}
		e.servers = append(e.servers, s)
	}
	for _, s := range e.servers {
		if err := s.waitReady(); err != nil {
			e.stop()
			return nil, fmt.Errorf("%s server %d (log %s): %v", im.name, s.id, filepath.Join(s.dir, "server.log"), err)
		}
	}
	return e, nil
}

// launch starts the server's process on the zoo.cfg in its directory; its
// output goes to server.log there (appended to on a restart).
func (s *server) launch(im impl) error {
	log, err := os.OpenFile(filepath.Join(s.dir, "server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	s.cmd = im.command(s.dir, filepath.Join(s.dir, "zoo.cfg"))
	s.cmd.Dir = s.dir
	s.cmd.Stdout, s.cmd.Stderr = log, log
	// Take the server down with zkbench should it die without cleaning up.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := startPinned(s.cmd, im.cpus); err != nil {
		log.Close()
		return fmt.Errorf("start %s server %d: %v", im.name, s.id, err)
	}
	done := make(chan struct{})
	s.done = done
	cmd := s.cmd
	go func() { _ = cmd.Wait(); log.Close(); close(done) }()
	return nil
}

// zooCfg renders the zoo.cfg shared by both implementations.
func zooCfg(dataDir string, port int, peers []string) string {
	lines := []string{
		"tickTime=2000",
		"initLimit=10",
		"syncLimit=5",
		"dataDir=" + dataDir,
		"clientPort=" + strconv.Itoa(port),
		"clientPortAddress=127.0.0.1",
		"maxClientCnxns=0",
		"admin.enableServer=false",
		"4lw.commands.whitelist=*",
	}
	return strings.Join(append(lines, peers...), "\n") + "\n"
}

// addr is the server's client address.
func (s *server) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// alive reports whether the process is still running.
func (s *server) alive() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// kill sends SIGKILL and waits for the exit.
func (s *server) kill() {
	if s.alive() {
		_ = s.cmd.Process.Kill()
	}
	<-s.done
}

// stop sends SIGTERM, then SIGKILL after 10 s.
func (s *server) stop() {
	if !s.alive() {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.kill()
	}
}

// mode returns the Mode reported by srvr ("leader", "follower", ...), or "".
func (s *server) mode() string {
	reply, err := fourLetter(s.addr(), "srvr")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(reply, "\n") {
		if m, ok := strings.CutPrefix(line, "Mode: "); ok {
			return strings.TrimSpace(m)
		}
	}
	return ""
}

// waitReady polls until the server answers ruok with imok and srvr with a
// Mode (Apache answers imok before it serves requests).
func (s *server) waitReady() error {
	deadline := time.Now().Add(startTimeout)
	for {
		reply, err := fourLetter(s.addr(), "ruok")
		if err == nil && reply == "imok" && s.mode() != "" {
			return nil
		}
		if !s.alive() {
			return errors.New("exited before it was ready")
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %v", startTimeout)
		}
		time.Sleep(pollInterval)
	}
}

// rssBytes reads VmRSS of the server process from /proc/<pid>/status.
func (s *server) rssBytes() (int64, error) {
	b, err := s.procFile("status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v) // "12345 kB"
			if len(f) == 2 && f[1] == "kB" {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				return kb << 10, err
			}
		}
	}
	return 0, errors.New("no VmRSS line")
}

// userHZ is the unit of the CPU times in /proc/<pid>/stat: USER_HZ, 100
// on every Linux architecture Go supports.
const userHZ = 100

// cpuTime reads the CPU time (user plus system, all threads) the server
// process has used, from /proc/<pid>/stat.
func (s *server) cpuTime() (time.Duration, error) {
	b, err := s.procFile("stat")
	if err != nil {
		return 0, err
	}
	return parseCPUTime(string(b))
}

// procFile reads /proc/<pid>/name of the server process.
func (s *server) procFile(name string) ([]byte, error) {
	return os.ReadFile(fmt.Sprintf("/proc/%d/%s", s.cmd.Process.Pid, name))
}

// parseCPUTime returns utime+stime of a /proc/<pid>/stat line. Its fields
// follow the command name, which is in parentheses and may hold spaces:
// state is the third field, utime the 14th and stime the 15th.
func parseCPUTime(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("stat line without a command name")
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("stat line of %d fields after the command name", len(f))
	}
	var ticks int64
	for _, v := range f[11:13] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("stat line: %v", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

// fourLetter sends a four-letter word to addr and returns the whole reply.
func fourLetter(addr, cmd string) (string, error) {
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

// addrs lists the client addresses of the ensemble's live servers.
func (e *ensemble) addrs() []string {
	var a []string
	for _, s := range e.servers {
		if s.alive() {
			a = append(a, s.addr())
		}
	}
	return a
}

// leader returns the server reporting Mode: leader once exactly one live
// server does, waiting up to timeout. A leader that has lost its quorum
// can still say so for a moment after another has been elected; killing
// that one would measure no failover.
func (e *ensemble) leader(timeout time.Duration) (*server, error) {
	deadline := time.Now().Add(timeout)
	for {
		var leaders []*server
		for _, s := range e.servers {
			if s.alive() && s.mode() == "leader" {
				leaders = append(leaders, s)
			}
		}
		if len(leaders) == 1 {
			return leaders[0], nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%d servers report being the leader after %v, not one", len(leaders), timeout)
		}
		time.Sleep(pollInterval)
	}
}

// rss returns VmRSS of every live server process, by server id order.
func (e *ensemble) rss() ([]int64, error) {
	var out []int64
	for _, s := range e.servers {
		v, err := s.rssBytes()
		if err != nil {
			return nil, fmt.Errorf("server %d: %v", s.id, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// cpu returns the CPU time the live servers have used in all. A server
// whose time cannot be read (it just exited, or this is not Linux) counts
// nothing.
func (e *ensemble) cpu() time.Duration {
	var total time.Duration
	for _, s := range e.servers {
		if t, err := s.cpuTime(); err == nil && s.alive() {
			total += t
		}
	}
	return total
}

// stop stops every server.
func (e *ensemble) stop() {
	for _, s := range e.servers {
		s.stop()
	}
}

// affinity lists, per server, the CPUs its threads may run on ("?" where
// they cannot be read).
func (e *ensemble) affinity() []string {
	var out []string
	for _, s := range e.servers {
		cpus, err := processAffinity(s.cmd.Process.Pid)
		if err != nil {
			out = append(out, "?")
			continue
		}
		out = append(out, cpus.String())
	}
	return out
}
