package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/zkgo/zkgo/test/harness"
)

// expectTimeout bounds the wait for a screen output.
const expectTimeout = 20 * time.Second

// stream collects what a program prints, for tests to wait on.
type stream struct {
	t    *testing.T
	mu   sync.Mutex
	cond *sync.Cond
	buf  []byte
	eof  bool
}

func newStream(t *testing.T, r io.Reader) *stream {
	st := &stream{t: t}
	st.cond = sync.NewCond(&st.mu)
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := r.Read(b)
			st.mu.Lock()
			st.buf = append(st.buf, b[:n]...)
			if err != nil {
				st.eof = true
			}
			st.cond.Broadcast()
			st.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return st
}

// ansi matches the terminal control sequences readline draws with.
var ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\r`)

// text returns the output from byte offset from, without control
// sequences.
func (st *stream) text(from int) string {
	st.mu.Lock()
	defer st.mu.Unlock()
	return ansi.ReplaceAllString(string(st.buf[from:]), "")
}

// expect waits until the output after from contains s and returns the
// offset just past it.
func (st *stream) expect(from int, s string) int {
	st.t.Helper()
	deadline := time.Now().Add(expectTimeout)
	timer := time.AfterFunc(expectTimeout, func() {
		st.mu.Lock()
		st.cond.Broadcast()
		st.mu.Unlock()
	})
	defer timer.Stop()
	st.mu.Lock()
	defer st.mu.Unlock()
	for {
		raw := st.buf[from:]
		clean := ansi.ReplaceAllString(string(raw), "")
		if strings.Contains(clean, s) {
			// The raw offset: the shortest prefix whose clean text holds s.
			for i := 1; i <= len(raw); i++ {
				if strings.Contains(ansi.ReplaceAllString(string(raw[:i]), ""), s) {
					return from + i
				}
			}
		}
		if st.eof || time.Now().After(deadline) {
			st.t.Fatalf("timed out waiting for %q; output since mark:\n%s", s, clean)
		}
		st.cond.Wait()
	}
}

// term drives a program in a pseudo-terminal.
type term struct {
	*stream
	pty *os.File
}

func startTerm(t *testing.T, cmd *exec.Cmd) *term {
	t.Helper()
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 200})
	if err != nil {
		t.Fatalf("start %v in a pty: %v", cmd.Args, err)
	}
	tm := &term{stream: newStream(t, f), pty: f}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		f.Close()
		if t.Failed() {
			t.Logf("terminal output:\n%s", tm.text(0))
		}
	})
	return tm
}

func (tm *term) send(s string) {
	tm.t.Helper()
	if _, err := tm.pty.Write([]byte(s)); err != nil {
		tm.t.Fatalf("write to pty: %v", err)
	}
}

func TestInteractive(t *testing.T) {
	bin := zkcliBin(t)
	srv := harness.StartApache(t, nil)
	addr := srv.Addr()
	hist := filepath.Join(t.TempDir(), "history")
	cmd := exec.Command(bin, "-server", addr)
	cmd.Env = append(os.Environ(), "ZKCLI_HISTORY="+hist, "TERM=xterm")
	tm := startTerm(t, cmd)

	// The prompt shows the connection state.
	at := tm.expect(0, "(CONNECTED) 0]")

	// Tab completes a command name...
	tm.send("cre\t")
	at = tm.expect(at, "create ")
	tm.send("/inter hello\r")
	at = tm.expect(at, "Created /inter")

	// ... and a znode path, from the server.
	tm.send("get -w /int\t")
	at = tm.expect(at, "get -w /inter")
	tm.send("\r")
	at = tm.expect(at, "\nhello\n")
	at = tm.expect(at, "(CONNECTED) 2]")

	// A watch event arriving while the shell waits at its prompt is shown,
	// and the prompt drawn again.
	if r := runZkcli(t, addr, "", true, "set", "/inter", "changed"); r.code != 0 {
		t.Fatalf("set from another client: %+v", r)
	}
	at = tm.expect(at, "WatchedEvent state:SyncConnected type:NodeDataChanged path:/inter")
	at = tm.expect(at, "(CONNECTED) 2]")

	// Up recalls the previous line.
	tm.send("\x1b[A")
	at = tm.expect(at, "get -w /inter")
	tm.send("\r")
	at = tm.expect(at, "\nchanged\n")

	// history lists this session's commands.
	tm.send("history\r")
	at = tm.expect(at, "0 - create /inter hello")
	at = tm.expect(at, "1 - get -w /inter")
	at = tm.expect(at, "3 - history")

	// Ctrl-C cancels the running command, not the shell.
	tm.send("watch /inter\r")
	at = tm.expect(at, "watching /inter")
	tm.send("\x03")
	at = tm.expect(at, "(CONNECTED) 5]")
	// ... and at the prompt it only clears the line.
	tm.send("ls /zoo\x03")
	at = tm.expect(at, "^C")
	tm.send("ls /\r")
	at = tm.expect(at, "[inter, zookeeper]")

	// The prompt follows the connection.
	srv.Stop()
	at = tm.expect(at, "WatchedEvent state:Disconnected type:None path:null")
	at = tm.expect(at, "(CONNECTING) 6]")

	tm.send("quit\r")
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(expectTimeout):
		t.Fatalf("zkcli did not exit after quit")
	}

	// The history outlives the session.
	b, err := os.ReadFile(hist)
	if err != nil {
		t.Fatalf("history file: %v", err)
	}
	for _, want := range []string{"create /inter hello", "get -w /inter", "watch /inter", "quit"} {
		if !strings.Contains(string(b), want+"\n") {
			t.Errorf("history file lacks %q:\n%s", want, b)
		}
	}
	if testing.Verbose() {
		t.Logf("terminal output:\n%s", tm.text(0))
	}
	_ = at
}
