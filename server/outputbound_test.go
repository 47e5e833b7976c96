package server

import (
	"bytes"
	"net"
	"testing"
	"time"

	"github.com/zkgo/zkgo/conf"
	"github.com/zkgo/zkgo/wire"
)

// rawSession opens a session on s with the given timeout, without the
// rawClient's reader: the test decides when to read.
func rawSession(t *testing.T, s *Server, timeoutMs int32) net.Conn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", s.Addr().String(), waitLimit)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(waitLimit))
	if _, err := nc.Write(wire.AppendFrame(nil, &wire.ConnectRequest{TimeOut: timeoutMs, Passwd: make([]byte, 16)})); err != nil {
		t.Fatal(err)
	}
	if _, err := wire.ReadFrame(nc, nil, wire.DefaultMaxBuffer); err != nil {
		t.Fatal(err)
	}
	nc.SetDeadline(time.Time{})
	return nc
}

// heldConn waits until the server holds a connection's reader because
// outputLimit bytes are unsent, and returns it.
func heldConn(t *testing.T, s *Server) *conn {
	t.Helper()
	var held *conn
	waitFor(t, "a connection with outputLimit bytes unsent", func() bool {
		for _, c := range s.connections() {
			if c.unsent() >= s.outputLimit() {
				held = c
				return true
			}
		}
		return false
	})
	return held
}

// TestPipelinedReadsBeyondOutputBound: a client that pipelines many times
// maxClientOutputBytes of reads is slowed down, not cut off: once it reads,
// it gets every reply, in order, while the server never holds more than
// the bound plus one reply for it.
func TestPipelinedReadsBeyondOutputBound(t *testing.T) {
	s := startServer(t, func(c *conf.Config) { c.MaxClientOutputBytes = 1 }) // outputLimit: jute.maxbuffer
	w := newRaw(t, s)
	big := bytes.Repeat([]byte{'b'}, 512<<10)
	w.expect(wire.ErrOK, wire.OpCreate, &wire.CreateRequest{Path: "/big", Data: big, ACL: openACL}, nil)
	nc := rawSession(t, s, 10000)
	const reads = 50 // 25 MiB of replies
	var reqs []byte
	for xid := int32(1); xid <= reads; xid++ {
		reqs = wire.AppendFrame(reqs, &wire.RequestHeader{Xid: xid, Type: wire.OpGetData}, &wire.PathWatchRequest{Path: "/big"})
	}
	if _, err := nc.Write(reqs); err != nil {
		t.Fatal(err)
	}
	c := heldConn(t, s)
	if unsent := c.unsent(); unsent > s.outputLimit()+len(big)+64 {
		t.Fatalf("%d bytes unsent, over outputLimit %d plus one reply", unsent, s.outputLimit())
	}
	nc.SetReadDeadline(time.Now().Add(waitLimit))
	for want := int32(1); want <= reads; want++ {
		pkt, err := wire.ReadFrame(nc, nil, wire.DefaultMaxBuffer)
		if err != nil {
			t.Fatalf("reply %d: %v", want, err)
		}
		d := wire.NewDecoder(pkt)
		var h wire.ReplyHeader
		h.Decode(d)
		var r wire.GetDataResponse
		r.Decode(d)
		if h.Xid != want || h.Err != wire.ErrOK || !bytes.Equal(r.Data, big) {
			t.Fatalf("reply %d: xid %d err %v, %d bytes of data", want, h.Xid, h.Err, len(r.Data))
		}
	}
}

// TestClientTakingNoOutputIsCutOff: a client held because it takes none of
// its output is disconnected after its session timeout.
func TestClientTakingNoOutputIsCutOff(t *testing.T) {
	s := startServer(t, func(c *conf.Config) { c.MaxClientOutputBytes = 1 })
	w := newRaw(t, s)
	w.expect(wire.ErrOK, wire.OpCreate, &wire.CreateRequest{Path: "/big", Data: bytes.Repeat([]byte{'b'}, 512<<10), ACL: openACL}, nil)
	nc := rawSession(t, s, 500)
	var reqs []byte
	for xid := int32(1); xid <= 100; xid++ { // 50 MiB of replies, more than the socket buffers take
		reqs = wire.AppendFrame(reqs, &wire.RequestHeader{Xid: xid, Type: wire.OpGetData}, &wire.PathWatchRequest{Path: "/big"})
	}
	if _, err := nc.Write(reqs); err != nil {
		t.Fatal(err)
	}
	c := heldConn(t, s)
	select {
	case <-c.quit:
	case <-time.After(waitLimit):
		t.Fatalf("a client that takes none of its output is still connected after %v (session timeout 500ms)", waitLimit)
	}
	w.expect(wire.ErrOK, wire.OpExists, &wire.PathWatchRequest{Path: "/big"}, nil)
}
