package netproxy

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"
)

// echoServer accepts connections on 127.0.0.1 and echoes every line.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

func startProxy(t *testing.T) *Proxy {
	t.Helper()
	p, err := Listen("127.0.0.1:0", echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func dial(t *testing.T, p *Proxy) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, bufio.NewReader(c)
}

// roundTrip writes a line and reads the echo within timeout.
func roundTrip(c net.Conn, r *bufio.Reader, line string, timeout time.Duration) (string, error) {
	c.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		return "", err
	}
	got, err := r.ReadString('\n')
	if len(got) > 0 {
		got = got[:len(got)-1]
	}
	return got, err
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

func TestPass(t *testing.T) {
	p := startProxy(t)
	c, r := dial(t, p)
	for _, line := range []string{"a", "bb", "ccc"} {
		if got, err := roundTrip(c, r, line, 5*time.Second); err != nil || got != line {
			t.Fatalf("echo %q = %q, %v", line, got, err)
		}
	}
}

func TestDropIsSilentAndBreaksTheConnectionOnHeal(t *testing.T) {
	p := startProxy(t)
	c, r := dial(t, p)
	if got, err := roundTrip(c, r, "before", 5*time.Second); err != nil || got != "before" {
		t.Fatalf("echo = %q, %v", got, err)
	}
	p.Set(Drop, 0)
	// Nothing comes back, and the connection is not closed either: the
	// read times out.
	if got, err := roundTrip(c, r, "lost", 300*time.Millisecond); !isTimeout(err) {
		t.Fatalf("during a drop: echo = %q, %v; want a timeout", got, err)
	}
	// A new connection is accepted but goes nowhere.
	c2, r2 := dial(t, p)
	if got, err := roundTrip(c2, r2, "nowhere", 300*time.Millisecond); !isTimeout(err) {
		t.Fatalf("new connection during a drop: echo = %q, %v; want a timeout", got, err)
	}
	p.Set(Pass, 0)
	// Both connections lost bytes: they are closed now.
	for _, cr := range []struct {
		c net.Conn
		r *bufio.Reader
	}{{c, r}, {c2, r2}} {
		cr.c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := cr.r.ReadString('\n'); err != io.EOF {
			t.Errorf("after healing: read = %v, want EOF", err)
		}
	}
	c3, r3 := dial(t, p)
	if got, err := roundTrip(c3, r3, "after", 5*time.Second); err != nil || got != "after" {
		t.Fatalf("after healing: echo = %q, %v", got, err)
	}
}

func TestReject(t *testing.T) {
	p := startProxy(t)
	c, r := dial(t, p)
	if got, err := roundTrip(c, r, "x", 5*time.Second); err != nil || got != "x" {
		t.Fatalf("echo = %q, %v", got, err)
	}
	p.Set(Reject, 0)
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.ReadString('\n'); err != io.EOF {
		t.Errorf("open connection after Reject: read = %v, want EOF", err)
	}
	c2, r2 := dial(t, p)
	if _, err := roundTrip(c2, r2, "y", 5*time.Second); err == nil || isTimeout(err) {
		t.Errorf("new connection during Reject: err = %v, want it closed", err)
	}
	p.Set(Pass, 0)
	c3, r3 := dial(t, p)
	if got, err := roundTrip(c3, r3, "z", 5*time.Second); err != nil || got != "z" {
		t.Fatalf("after Pass: echo = %q, %v", got, err)
	}
}

func TestDelayKeepsOrder(t *testing.T) {
	p := startProxy(t)
	const delay = 100 * time.Millisecond
	p.Set(Pass, delay)
	c, r := dial(t, p)
	start := time.Now()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	for _, line := range []string{"1\n", "2\n", "3\n"} {
		if _, err := io.WriteString(c, line); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{"1\n", "2\n", "3\n"} {
		got, err := r.ReadString('\n')
		if err != nil || got != want {
			t.Fatalf("read %q, %v; want %q", got, err, want)
		}
	}
	// Each direction adds the delay: the echo cannot be back sooner.
	if took := time.Since(start); took < 2*delay {
		t.Errorf("echo came back after %v, before twice the delay %v", took, delay)
	}
}

func TestTargetDownRefuses(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	target := ln.Addr().String()
	ln.Close()
	p, err := Listen("127.0.0.1:0", target)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c, r := dial(t, p)
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.ReadString('\n'); err != io.EOF {
		t.Errorf("read = %v, want EOF", err)
	}
}
