package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeServer answers four-letter words on a loopback port with answer(word,
// rest of the line) and records the words it got.
type fakeServer struct {
	ln     net.Listener
	answer func(word, line string) string

	mu    sync.Mutex
	words []string
}

func newFakeServer(t *testing.T, answer func(word, line string) string) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeServer{ln: ln, answer: answer}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go f.serve(c)
		}
	}()
	return f
}

func (f *fakeServer) serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	w := make([]byte, 4)
	if _, err := io.ReadFull(r, w); err != nil {
		return
	}
	line := ""
	if string(w) == "mgtk" {
		line, _ = r.ReadString('\n')
	}
	f.mu.Lock()
	f.words = append(f.words, string(w))
	f.mu.Unlock()
	io.WriteString(c, f.answer(string(w), strings.TrimSpace(line)))
}

func (f *fakeServer) port() int { return f.ln.Addr().(*net.TCPAddr).Port }

func (f *fakeServer) got() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.words...)
}

// ourFake answers as an observer of ours that pauses at zxid and, once
// told to take over, says it leads if leader.
func ourFake(zxid int64, leader bool) func(word, line string) string {
	var mu sync.Mutex
	started := false
	return func(word, line string) string {
		mu.Lock()
		defer mu.Unlock()
		switch word {
		case "mgst":
			return "zkgo apache observer\n"
		case "mgps":
			return fmt.Sprintf("paused zxid=0x%x\n", zxid)
		case "mgrs":
			return "resumed\n"
		case "mgtk":
			started = true
			return "started\n"
		case "srvr":
			switch {
			case !started:
				return "Mode: observer\n"
			case leader:
				return "Mode: leader\n"
			}
			return "Mode: follower\n"
		}
		return ""
	}
}

// apacheFake answers mntr and srvr as an Apache server with clients
// connections (besides the asking one) at zxid; other words get nothing.
func apacheFake(clients int, zxid int64) func(word, line string) string {
	return func(word, _ string) string {
		switch word {
		case "mntr":
			return fmt.Sprintf("zk_version\t3.8.0\nzk_num_alive_connections\t%d\n", clients+1)
		case "srvr":
			return fmt.Sprintf("Zookeeper version: 3.8.0\nZxid: 0x%x\nMode: follower\n", zxid)
		}
		return ""
	}
}

// takeoverConfig writes the zoo.cfg of observer 4 with the lines given
// and returns its path.
func takeoverConfig(t *testing.T, lines ...string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "myid"), []byte("4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf("tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=%s\npeerType=observer\nquorumProtocol=apache\n%s\n", dir, strings.Join(lines, "\n"))
	path := filepath.Join(dir, "zoo.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestTakeoverVerb(t *testing.T) {
	apacheLine := func(id int, f *fakeServer) string {
		port := 0
		if f != nil {
			port = f.port()
		}
		if port == 0 {
			return fmt.Sprintf("server.%d=127.0.0.1:1%d:2%d", id, id, id)
		}
		return fmt.Sprintf("server.%d=127.0.0.1:1%d:2%d;127.0.0.1:%d", id, id, id, port)
	}
	ourLine := func(id int, f *fakeServer) string {
		return fmt.Sprintf("server.%d=127.0.0.1:1%d:2%d:observer;127.0.0.1:%d", id, id, id, f.port())
	}
	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := runTakeover(args, &out, io.Discard)
		return out.String(), err
	}

	t.Run("apache has clients", func(t *testing.T) {
		a := newFakeServer(t, apacheFake(2, 0x105))
		o := newFakeServer(t, ourFake(0x105, true))
		cfg := takeoverConfig(t, apacheLine(1, a), apacheLine(2, a), ourLine(4, o))
		_, err := run(cfg)
		if err == nil || !strings.Contains(err.Error(), "Apache server 1 (127.0.0.1:") || !strings.Contains(err.Error(), "has 2 client connections") {
			t.Errorf("takeover: %v", err)
		}
		if got := o.got(); strings.Join(got, " ") != "mgst" {
			t.Errorf("ours got %v: it was paused though the Apache server had clients", got)
		}
	})
	t.Run("apache client port unknown", func(t *testing.T) {
		o := newFakeServer(t, ourFake(0x105, true))
		cfg := takeoverConfig(t, apacheLine(1, nil), apacheLine(2, nil), ourLine(4, o))
		if _, err := run(cfg); err == nil || !strings.Contains(err.Error(), "client port of Apache server 1 is unknown") {
			t.Errorf("takeover: %v", err)
		}
		a := newFakeServer(t, apacheFake(0, 0x105))
		addr := a.ln.Addr().String()
		out, err := run("--apache-clients", addr+","+addr, cfg)
		if err != nil {
			t.Errorf("takeover with --apache-clients: %v\n%s", err, out)
		}
	})
	t.Run("one of ours lags", func(t *testing.T) {
		a := newFakeServer(t, apacheFake(0, 0x106))
		o4 := newFakeServer(t, ourFake(0x106, true))
		o5 := newFakeServer(t, ourFake(0x105, false))
		cfg := takeoverConfig(t, apacheLine(1, a), apacheLine(2, a), ourLine(4, o4), ourLine(5, o5))
		_, err := run(cfg)
		if err == nil || !strings.Contains(err.Error(), "server 5 lags: it holds up to 0x105, but 0x106 was committed") {
			t.Errorf("takeover: %v", err)
		}
		for _, o := range []*fakeServer{o4, o5} {
			if got := o.got(); len(got) == 0 || got[len(got)-1] != "mgrs" {
				t.Errorf("ours got %v: not resumed", got)
			}
		}
	})
	t.Run("takes over", func(t *testing.T) {
		a := newFakeServer(t, apacheFake(0, 0x106))
		var mu sync.Mutex
		var lines []string
		leader := ourFake(0x106, true)
		o4 := newFakeServer(t, func(w, line string) string {
			if w == "mgtk" {
				mu.Lock()
				lines = append(lines, line)
				mu.Unlock()
			}
			return leader(w, line)
		})
		o5 := newFakeServer(t, ourFake(0x106, false))
		cfg := takeoverConfig(t, apacheLine(1, a), apacheLine(2, a), ourLine(4, o4), ourLine(5, o5))
		out, err := run(cfg)
		if err != nil || !strings.Contains(out, "the ensemble of ours serves") {
			t.Fatalf("takeover: %v\n%s", err, out)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(lines) != 1 || lines[0] != "version=106 servers=4,5" {
			t.Errorf("mgtk lines %q", lines)
		}
	})
}
