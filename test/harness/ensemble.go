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
	servers, _ := startEnsemble(t, n, extraCfg, false)
	return servers
}

// startEnsemble starts an ensemble, its peer links through a Network of
// proxies and with an fsync delay control file each if faulty, retrying on other ports when one was taken.
func startEnsemble(t testing.TB, n int, extraCfg map[string]string, faulty bool) ([]*Server, *Network) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		servers, nw, err := startEnsembleOnce(t, n, extraCfg, faulty)
		if err == nil {
			return servers, nw
		}
		taken := false
		for _, s := range servers {
			s.Kill()
			taken = taken || s.portTaken()
		}
		if nw != nil {
			nw.Close()
		}
		if !taken || attempt >= startAttempts {
			t.Fatalf("harness: %v", err)
		}
		t.Logf("harness: a port of the ensemble was taken, retrying: %v", err)
	}
}

func startEnsembleOnce(t testing.TB, n int, extraCfg map[string]string, faulty bool) ([]*Server, *Network, error) {
	t.Helper()
	bin := BuildOurs(t)
	addrs := make([]peerAddrs, n)
	for i := range addrs {
		addrs[i] = peerAddrs{quorum: FreePort(t), election: FreePort(t)}
	}
	var nw *Network
	if faulty {
		var err error
		if nw, err = newNetwork(addrs); err != nil {
			t.Fatalf("harness: %v", err)
		}
		t.Cleanup(nw.Close)
	}
	servers := make([]*Server, n)
	for i := range servers {
		// Server i+1 reaches server j+1 at the addresses of its line in
		// i+1's zoo.cfg: the real ones, or those of the proxies of link
		// i+1 -> j+1.
		cfg := map[string]string{"initLimit": "10", "syncLimit": "5"}
		for j := range n {
			q, e := addrs[j].quorum, addrs[j].election
			if nw != nil && j != i {
				q, e = nw.proxyPorts(i+1, j+1)
			}
			cfg["server."+strconv.Itoa(j+1)] = fmt.Sprintf("127.0.0.1:%d:%d", q, e)
		}
		for k, v := range extraCfg {
			cfg[k] = v
		}
		servers[i] = launchMember(t, bin, i+1, FreePort(t), cfg, faulty)
	}
	for _, s := range servers {
		if err := s.waitReady(); err != nil {
			return servers, nw, fmt.Errorf("%s: %w", s.name, err)
		}
	}
	return servers, nw, nil
}

// launchMember starts zkserver binary bin as ensemble server id with a
// zoo.cfg of cfg and client port port, in a new directory, without waiting
// for it. With slowDisk the server reads an fsync delay (0s at first) from
// a file of its own that SetFsyncDelay rewrites.
func launchMember(t testing.TB, bin string, id, port int, cfg map[string]string, slowDisk bool) *Server {
	t.Helper()
	return launchMemberCmd(t, id, port, cfg, slowDisk, func(_, cfgPath string) *exec.Cmd {
		return exec.Command(bin, "start-foreground", cfgPath)
	})
}

// launchMemberCmd is launchMember with the command newCmd(dir, cfgPath)
// builds.
func launchMemberCmd(t testing.TB, id, port int, cfg map[string]string, slowDisk bool, newCmd func(dir, cfgPath string) *exec.Cmd) *Server {
	t.Helper()
	dir := t.TempDir()
	s := &Server{
		t:       t,
		name:    fmt.Sprintf("ensemble server %d", id),
		dir:     dir,
		port:    port,
		logPath: filepath.Join(dir, "server.log"),
		done:    make(chan struct{}),
		id:      id,
	}
	dataDir := filepath.Join(dir, "data")
	if err := os.Mkdir(dataDir, 0o755); err != nil {
		t.Fatalf("harness: %v", err)
	}
	writeFile(t, filepath.Join(dataDir, "myid"), strconv.Itoa(id)+"\n")
	cfgPath := filepath.Join(dir, "zoo.cfg")
	writeFile(t, cfgPath, zooCfg(dataDir, port, cfg))
	logFile, err := os.Create(s.logPath)
	if err != nil {
		t.Fatalf("harness: %v", err)
	}
	s.cmd = newCmd(dir, cfgPath)
	s.cmd.Dir = dir
	if slowDisk {
		s.fsyncDelayFile = filepath.Join(dir, "fsync-delay")
		writeFile(t, s.fsyncDelayFile, "0s\n")
		s.cmd.Env = append(os.Environ(), EnvFaultFsyncDelayFile+"="+s.fsyncDelayFile)
	}
	t.Cleanup(s.cleanup)
	s.startProcess(logFile)
	return s
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
