package server

import (
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/zkgo/zkgo/conf"
	"github.com/zkgo/zkgo/wire"
)

// waitLimit bounds every wait for an event in these tests.
const waitLimit = 10 * time.Second

// startServer runs a server on a loopback port for the test's lifetime.
func startServer(t testing.TB, edit func(*conf.Config)) *Server {
	t.Helper()
	return startServerWith(t, testConfig(t, edit))
}

// testConfig is the configuration of startServer: a standalone server with
// a short tick and every four-letter word, changed by edit if not nil.
func testConfig(t testing.TB, edit func(*conf.Config)) *conf.Config {
	cfg := conf.Default()
	cfg.DataDir = t.TempDir()
	cfg.DataLogDir = cfg.DataDir
	cfg.TickTime = 100
	cfg.MinSessionTimeout = 200
	cfg.MaxSessionTimeout = 20000
	cfg.FourLetterWords = []string{"*"}
	if edit != nil {
		edit(cfg)
	}
	return cfg
}

// startServerWith runs a server for cfg on a loopback port until the test
// ends.
func startServerWith(t testing.TB, cfg *conf.Config) *Server {
	t.Helper()
	return serveTest(t, New(cfg, zap.NewNop()))
}

// serveTest runs s on a loopback port until the test ends.
func serveTest(t testing.TB, s *Server) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(ln); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// rawClient speaks the wire protocol directly, so tests can send every
// opcode and malformed input.
type rawClient struct {
	t       testing.TB
	nc      net.Conn
	resp    wire.ConnectResponse
	mu      sync.Mutex
	xid     int32
	pending map[int32]chan reply
	order   chan int32 // xids of replies in arrival order
	events  chan wire.WatcherEvent
	closed  chan struct{}
}

type reply struct {
	hdr  wire.ReplyHeader
	body []byte
}

func dialRaw(t testing.TB, addr string, req wire.ConnectRequest) (*rawClient, error) {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, waitLimit)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { nc.Close() })
	return handshakeRaw(t, nc, req)
}

// handshakeRaw sends req on an open connection and starts reading replies.
func handshakeRaw(t testing.TB, nc net.Conn, req wire.ConnectRequest) (*rawClient, error) {
	if _, err := nc.Write(connectFrame(req)); err != nil {
		return nil, err
	}
	return connectedRaw(t, nc)
}

// connectFrame is req's frame, with a 10s timeout and a zero password
// unless req sets them.
func connectFrame(req wire.ConnectRequest) []byte {
	if req.TimeOut == 0 {
		req.TimeOut = 10000
	}
	if req.Passwd == nil {
		req.Passwd = make([]byte, 16)
	}
	return wire.AppendFrame(nil, &req)
}

// connectedRaw reads the ConnectResponse to a ConnectRequest sent on nc
// and starts reading replies.
func connectedRaw(t testing.TB, nc net.Conn) (*rawClient, error) {
	nc.SetReadDeadline(time.Now().Add(waitLimit))
	pkt, err := wire.ReadFrame(nc, nil, wire.DefaultMaxBuffer)
	if err != nil {
		return nil, err
	}
	nc.SetReadDeadline(time.Time{})
	c := &rawClient{t: t, nc: nc, pending: make(map[int32]chan reply),
		order: make(chan int32, 1024), events: make(chan wire.WatcherEvent, 1024), closed: make(chan struct{})}
	if err := wire.Decode(pkt, &c.resp); err != nil {
		return nil, err
	}
	go c.readLoop()
	return c, nil
}

func newRaw(t testing.TB, s *Server) *rawClient {
	t.Helper()
	c, err := dialRaw(t, s.Addr().String(), wire.ConnectRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if c.resp.SessionID == 0 {
		t.Fatal("no session")
	}
	return c
}

func (c *rawClient) readLoop() {
	defer close(c.closed)
	for {
		pkt, err := wire.ReadFrame(c.nc, nil, wire.DefaultMaxBuffer)
		if err != nil {
			return
		}
		d := wire.NewDecoder(pkt)
		var h wire.ReplyHeader
		h.Decode(d)
		if h.Xid == wire.XidNotification {
			var ev wire.WatcherEvent
			ev.Decode(d)
			c.events <- ev
			continue
		}
		select {
		case c.order <- h.Xid:
		default: // only tests that read the order keep it
		}
		c.mu.Lock()
		ch := c.pending[h.Xid]
		delete(c.pending, h.Xid)
		c.mu.Unlock()
		if ch != nil {
			ch <- reply{hdr: h, body: pkt[16:]}
		}
	}
}

// send writes a request and returns the channel its reply arrives on.
func (c *rawClient) send(op wire.OpCode, body wire.Record) (int32, chan reply) {
	c.mu.Lock()
	c.xid++
	xid := c.xid
	switch op {
	case wire.OpPing:
		xid = wire.XidPing
	case wire.OpAuth:
		xid = wire.XidAuth
	case wire.OpSetWatches, wire.OpSetWatches2:
		xid = wire.XidSetWatches
	}
	ch := make(chan reply, 1)
	c.pending[xid] = ch
	c.mu.Unlock()
	if body == nil {
		body = &wire.Empty{}
	}
	if _, err := c.nc.Write(wire.AppendFrame(nil, &wire.RequestHeader{Xid: xid, Type: op}, body)); err != nil {
		c.t.Fatalf("write %v: %v", op, err)
	}
	return xid, ch
}

// call sends a request, waits for its reply and decodes the body into resp
// when the reply is not an error.
func (c *rawClient) call(op wire.OpCode, body, resp wire.Record) wire.ReplyHeader {
	c.t.Helper()
	_, ch := c.send(op, body)
	var r reply
	select {
	case r = <-ch:
	case <-c.closed:
		select {
		case r = <-ch: // the reply came just before the close
		default:
			c.t.Fatalf("%v: connection closed", op)
		}
	case <-time.After(waitLimit):
		c.t.Fatalf("%v: no reply", op)
	}
	if r.hdr.Err == wire.ErrOK && resp != nil {
		if err := wire.Decode(r.body, resp); err != nil {
			c.t.Fatalf("%v: decode reply: %v", op, err)
		}
	}
	return r.hdr
}

// expect calls and checks the error code.
func (c *rawClient) expect(want wire.ErrCode, op wire.OpCode, body, resp wire.Record) wire.ReplyHeader {
	c.t.Helper()
	h := c.call(op, body, resp)
	if h.Err != want {
		c.t.Fatalf("%v %+v: err %v, want %v", op, body, h.Err, want)
	}
	return h
}

// event waits for the next watch notification.
func (c *rawClient) event() wire.WatcherEvent {
	c.t.Helper()
	select {
	case ev := <-c.events:
		return ev
	case <-time.After(waitLimit):
		c.t.Fatal("no watch event")
	}
	return wire.WatcherEvent{}
}

// expectEvents checks the next notifications, then that no other arrives
// before a ping round trip.
func (c *rawClient) expectEvents(want ...string) {
	c.t.Helper()
	for _, w := range want {
		ev := c.event()
		if got := fmt.Sprintf("%v %s", ev.Type, ev.Path); got != w {
			c.t.Fatalf("event %q, want %q", got, w)
		}
	}
	c.call(wire.OpPing, nil, nil)
	select {
	case ev := <-c.events:
		c.t.Fatalf("unexpected event %v %s", ev.Type, ev.Path)
	default:
	}
}

// waitClosed waits for the server to close the connection.
func (c *rawClient) waitClosed() {
	c.t.Helper()
	select {
	case <-c.closed:
	case <-time.After(waitLimit):
		c.t.Fatal("server did not close the connection")
	}
}

func fourLetter(t testing.TB, addr, cmd string) string {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, waitLimit)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(waitLimit))
	io.WriteString(nc, cmd)
	b, err := io.ReadAll(nc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
