package harness

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// StartEnsemble starts n of our zkserver processes as one ensemble on
// 127.0.0.1: each in its own directory with a myid, a free client port and
// zoo.cfg holding the harness defaults, initLimit=10, syncLimit=5, one
// server.N=127.0.0.1:quorumPort:electionPort line per server (ids 1..n),
// then extraCfg (whose keys override). It returns once every server serves
// clients (srvr answers with a Mode), the i-th server having id i+1.
//
// If a port turned out to be taken before a server could bind it, the whole
// ensemble is started again on other ports (up to startAttempts times).
func StartEnsemble(t testing.TB, n int, extraCfg map[string]string) []*Server {
	t.Helper()
	for attempt := 1; ; attempt++ {
		servers, err := startEnsembleOnce(t, n, extraCfg)
		if err == nil {
			return servers
		}
		taken := false
		for _, s := range servers {
			s.Kill()
			taken = taken || s.portTaken()
		}
		if !taken || attempt >= startAttempts {
			t.Fatalf("harness: %v", err)
		}
		t.Logf("harness: a port of the ensemble was taken, retrying: %v", err)
	}
}

func startEnsembleOnce(t testing.TB, n int, extraCfg map[string]string) ([]*Server, error) {
	t.Helper()
	bin := BuildOurs(t)
	cfg := map[string]string{"initLimit": "10", "syncLimit": "5"}
	for i := 1; i <= n; i++ {
		cfg["server."+strconv.Itoa(i)] = fmt.Sprintf("127.0.0.1:%d:%d", FreePort(t), FreePort(t))
	}
	for k, v := range extraCfg {
		cfg[k] = v
	}
	servers := make([]*Server, n)
	for i := range servers {
		dir := t.TempDir()
		s := &Server{
			t:       t,
			name:    fmt.Sprintf("ensemble server %d", i+1),
			dir:     dir,
			port:    FreePort(t),
			logPath: filepath.Join(dir, "server.log"),
			done:    make(chan struct{}),
			id:      i + 1,
		}
		dataDir := filepath.Join(dir, "data")
		if err := os.Mkdir(dataDir, 0o755); err != nil {
			t.Fatalf("harness: %v", err)
		}
		writeFile(t, filepath.Join(dataDir, "myid"), strconv.Itoa(i+1)+"\n")
		cfgPath := filepath.Join(dir, "zoo.cfg")
		writeFile(t, cfgPath, zooCfg(dataDir, s.port, cfg))
		logFile, err := os.Create(s.logPath)
		if err != nil {
			t.Fatalf("harness: %v", err)
		}
		s.cmd = exec.Command(bin, "start-foreground", cfgPath)
		s.cmd.Dir = dir
		t.Cleanup(s.cleanup)
		s.startProcess(logFile)
		servers[i] = s
	}
	for _, s := range servers {
		if err := s.waitReady(); err != nil {
			return servers, fmt.Errorf("%s: %w", s.name, err)
		}
	}
	return servers, nil
}

// ID is the server's id in an ensemble started by StartEnsemble (0
// otherwise).
func (s *Server) ID() int { return s.id }

// Mode returns the Mode line of srvr (leader, follower, standalone, ...),
// or "" if the server does not answer it (not running, or not serving).
func (s *Server) Mode() string {
	reply, err := s.FourLetter("srvr")
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

// Alive reports whether the server process is running.
func (s *Server) Alive() bool { return !s.exited() }

// WaitMode polls srvr until the server reports one of modes, failing the
// test after timeout.
func (s *Server) WaitMode(timeout time.Duration, modes ...string) string {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		m := s.Mode()
		for _, want := range modes {
			if m == want {
				return m
			}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("harness: %s: mode %q after %v, want one of %v", s.name, m, timeout, modes)
		}
		time.Sleep(pollInterval)
	}
}

// ConnectString is the client connect string of servers ("host:port,...").
func ConnectString(servers ...*Server) string {
	addrs := make([]string, len(servers))
	for i, s := range servers {
		addrs[i] = s.Addr()
	}
	return strings.Join(addrs, ",")
}
