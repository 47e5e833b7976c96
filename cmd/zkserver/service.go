package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/zkgo/zkgo/conf"
)

// The zkServer.sh verbs that manage a background server: start, stop,
// restart and status. The pid file is dataDir/zookeeper_server.pid, as
// zkServer.sh's ZOOPIDFILE default.

const serviceTimeout = 30 * time.Second

func loadConfig(args []string) (*conf.Config, []string, error) {
	if len(args) > 1 {
		return nil, nil, usage()
	}
	if len(args) == 0 {
		return conf.Default(), nil, nil
	}
	cfg, err := conf.Load(args[0])
	return cfg, args, err
}

func pidFile(dataDir string) string { return filepath.Join(dataDir, "zookeeper_server.pid") }

// readPid returns the pid in the pid file of dataDir if that process is
// alive.
func readPid(dataDir string) (int, bool) {
	b, err := os.ReadFile(pidFile(dataDir))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, syscall.Kill(pid, 0) == nil
}

// startService runs start-foreground in the background, its output in
// dataDir/zookeeper.out, and waits until it answers on the client port.
func startService(args []string, out io.Writer) error {
	cfg, cfgArgs, err := loadConfig(args)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "Starting zookeeper ... ")
	if pid, alive := readPid(cfg.DataDir); alive {
		return fmt.Errorf("already running as process %d", pid)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return err
	}
	logFile, err := os.OpenFile(filepath.Join(cfg.DataDir, "zookeeper.out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close()
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(self, append([]string{"start-foreground"}, cfgArgs...)...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	if err := os.WriteFile(pidFile(cfg.DataDir), []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(serviceTimeout)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			os.Remove(pidFile(cfg.DataDir))
			return fmt.Errorf("FAILED TO START (%v); see %s", err, logFile.Name())
		case <-time.After(100 * time.Millisecond):
		}
		if _, err := fourLetter(cfg, "srvr"); err == nil {
			fmt.Fprintln(out, "STARTED")
			return nil
		}
	}
	return fmt.Errorf("FAILED TO START: no answer on the client port within %v; see %s", serviceTimeout, logFile.Name())
}

// stopService sends SIGTERM to the server in the pid file and waits for it
// to exit.
func stopService(args []string, out io.Writer) error {
	dataDir, err := stopDataDir(args)
	if err != nil {
		return err
	}
	fmt.Fprint(out, "Stopping zookeeper ... ")
	pid, alive := readPid(dataDir)
	if !alive {
		fmt.Fprintf(out, "no zookeeper to stop (could not find file %s)\n", pidFile(dataDir))
		return nil
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return err
	}
	deadline := time.Now().Add(serviceTimeout)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			return fmt.Errorf("process %d did not exit within %v", pid, serviceTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
	os.Remove(pidFile(dataDir))
	fmt.Fprintln(out, "STOPPED")
	return nil
}

// stopDataDir returns the dataDir of the configuration in args, where stop
// finds the pid file. As zkServer.sh, which greps the dataDir line, stop
// works when the configuration no longer loads as a whole: that of a server
// a reconfig removed has it point at a dynamic file without its myid.
func stopDataDir(args []string) (string, error) {
	cfg, _, err := loadConfig(args)
	if err == nil {
		return cfg.DataDir, nil
	}
	if len(args) != 1 {
		return "", err
	}
	b, readErr := os.ReadFile(args[0])
	if readErr != nil {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && strings.TrimSpace(k) == "dataDir" {
			return strings.TrimSpace(v), nil
		}
	}
	return "", err
}

// statusService prints what zkServer.sh status prints: the client port and
// the server's mode, from srvr.
func statusService(args []string, out io.Writer) error {
	cfg, _, err := loadConfig(args)
	if err != nil {
		return err
	}
	host := cfg.ClientPortAddress
	if host == "" || host == "0.0.0.0" {
		host = "localhost"
	}
	fmt.Fprintf(out, "Client port found: %d. Client address: %s. Client SSL: false.\n", cfg.ClientPort, host)
	srvr, err := fourLetter(cfg, "srvr")
	if err != nil {
		return errors.New("Error contacting service. It is probably not running.")
	}
	for _, line := range strings.Split(srvr, "\n") {
		if strings.HasPrefix(line, "Mode: ") {
			fmt.Fprintln(out, line)
			return nil
		}
	}
	return errors.New("Error contacting service. It is probably not running.")
}

// fourLetter asks the configured client port a four-letter word.
func fourLetter(cfg *conf.Config, cmd string) (string, error) {
	host := cfg.ClientPortAddress
	if host == "" || host == "0.0.0.0" {
		host = "127.0.0.1"
	}
	nc, err := net.DialTimeout("tcp", net.JoinHostPort(host, strconv.Itoa(cfg.ClientPort)), 2*time.Second)
	if err != nil {
		return "", err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(nc, cmd); err != nil {
		return "", err
	}
	b, err := io.ReadAll(nc)
	return string(b), err
}
