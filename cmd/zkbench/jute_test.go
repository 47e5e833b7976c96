package main

import (
	"bytes"
	"math/rand/v2"
	"net"
	"testing"
	"time"
)

// startNull serves a null server in this process on a loopback port until
// the test ends.
func startNull(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go serveNull(ln)
	return ln.Addr().String()
}

// TestJuteAgainstNull drives the null server with the jute client: every
// operation it answers, pipelined, each reply matched to its request.
func TestJuteAgainstNull(t *testing.T) {
	addr := startNull(t)
	conns, err := dialJuteAll([]string{addr}, 3, sessionTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer closeJute(conns)
	value := bytes.Repeat([]byte{'v'}, 100)
	for _, w := range workloads {
		if !w.null {
			continue
		}
		s := runJute(conns, 8, 100*time.Millisecond, w.jute(value, "t"))
		if s.ops == 0 || s.errors != 0 || len(s.latencies) != s.ops {
			t.Errorf("%s: %d ops, %d latencies, %d errors (first: %v)", w.name, s.ops, len(s.latencies), s.errors, s.firstErr)
		}
	}
	// An operation of two requests is done at its second reply.
	s := runJute(conns[:1], 4, 50*time.Millisecond, func(c *juteSession, _, _ int, _ *rand.Rand) int {
		juteGet(c, "/a")
		return juteGet(c, "/b") + 1
	})
	if s.ops == 0 || s.errors != 0 {
		t.Errorf("two-request operations: %d ops, %d errors (first: %v)", s.ops, s.errors, s.firstErr)
	}
	// Requests the null server does not answer count as errors.
	s = runJute(conns[:1], 1, 10*time.Millisecond, workloadNamed("getChildren").jute(nil, ""))
	if s.ops != 0 || s.errors == 0 {
		t.Errorf("getChildren on the null server: %d ops, %d errors; want errors only", s.ops, s.errors)
	}
	if err := pingAll(conns); err != nil {
		t.Errorf("ping: %v", err)
	}
}

// TestGozkAgainstNull: go-zookeeper gets from the null server the value
// last written to it.
func TestGozkAgainstNull(t *testing.T) {
	c, err := dial([]string{startNull(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Create("/x", []byte("first"), 0, openACL); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Set("/x", []byte("second"), -1); err != nil {
		t.Fatal(err)
	}
	data, stat, err := c.Get("/y")
	if err != nil || string(data) != "second" || stat.DataLength != 6 {
		t.Errorf("Get = %q, %+v, %v; want the value last set", data, stat, err)
	}
	if ok, _, err := c.Exists("/z"); err != nil || !ok {
		t.Errorf("Exists = %v, %v", ok, err)
	}
	if _, _, err := c.Children("/"); err == nil {
		t.Error("Children on the null server did not fail")
	}
}

// TestJuteAtRateAgainstNull: at a fixed rate every request due before the
// deadline is sent and answered, each latency counted from its due time.
func TestJuteAtRateAgainstNull(t *testing.T) {
	addr := startNull(t)
	conns, err := dialJuteAll([]string{addr}, 2, sessionTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer closeJute(conns)
	// 2 sessions at 400/s in all: one request every 5 ms each, for 100 ms.
	s := runJuteAtRate(conns, 400, 100*time.Millisecond, workloadNamed("getData").jute(nil, ""))
	if s.errors != 0 || s.ops != 40 || len(s.latencies) != 40 {
		t.Fatalf("%d ops, %d latencies, %d errors (first: %v); want 40 answered", s.ops, len(s.latencies), s.errors, s.firstErr)
	}
	for _, l := range s.latencies {
		if l <= 0 {
			t.Fatalf("latency %v: not counted from the due time", l)
		}
	}
	if f, err := parseRates("getData=10000, setData=3000"); err != nil || len(f) != 2 || f[1] != (fixedRate{"setData", 3000}) {
		t.Fatalf("parseRates = %v, %v", f, err)
	}
	for _, bad := range []string{"getData", "getData=0", "nosuch=5", "getData=x"} {
		if _, err := parseRates(bad); err == nil {
			t.Errorf("parseRates(%q) accepted", bad)
		}
	}
}
