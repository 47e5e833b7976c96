package main

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"github.com/zkgo/zkgo/internal/sock"
	"github.com/zkgo/zkgo/wire"
)

// The jute client is zkbench's low-overhead load generator: a minimal
// session speaking the wire protocol itself (wire/ encodes the requests
// and decodes the reply headers). After the handshake, one goroutine per
// connection does everything: it writes a window of requests with
// consecutive xids, then reads replies (which a server sends in request
// order) and, for each operation completed, records its latency and
// appends the next request; what it appended is written with one system
// call once no whole reply is left in its read buffer. There is no
// goroutine or channel per request, replies are read into one reused
// buffer and only their headers are decoded: the cost per request on the
// load generator's CPUs is a fraction of go-zookeeper's (against the null
// server, about twenty times as many ops/s from one CPU), so more of what
// is measured is the servers. go-zookeeper remains the real-client view
// (-client).

// Client modes (-client).
const (
	clientJute = "jute"
	clientGozk = "gozk"
)

// juteSession is one session of the jute client.
type juteSession struct {
	nc  net.Conn
	br  *bufio.Reader
	w   *rawWriter
	buf []byte // the last reply read
	xid int32  // the last xid sent
}

// juteConnectTimeout bounds the handshake and closeSession exchanges.
const juteConnectTimeout = 30 * time.Second

// dialJute opens a session to addr with the given session timeout.
func dialJute(addr string, timeout time.Duration) (*juteSession, error) {
	nc, err := net.DialTimeout("tcp", addr, juteConnectTimeout)
	if err != nil {
		return nil, err
	}
	c := &juteSession{nc: nc, br: bufio.NewReaderSize(sock.NewReader(nc), 64<<10), w: newRawWriter(nc)}
	nc.SetDeadline(time.Now().Add(juteConnectTimeout))
	c.w.out = wire.AppendFrame(c.w.out, &wire.ConnectRequest{
		TimeOut: int32(timeout / time.Millisecond), Passwd: make([]byte, 16), HasReadOnly: true,
	})
	if err := c.w.flush(); err != nil {
		nc.Close()
		return nil, err
	}
	pkt, err := wire.ReadFrame(c.br, nil, wire.DefaultMaxBuffer)
	var resp wire.ConnectResponse
	if err == nil {
		err = wire.Decode(pkt, &resp)
	}
	if err == nil && resp.SessionID == 0 {
		err = errors.New("session refused")
	}
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("handshake with %s: %v", addr, err)
	}
	nc.SetDeadline(time.Time{})
	return c, nil
}

// dialJuteAll opens n sessions, the i-th to addrs[i mod len(addrs)], from
// a few goroutines at once.
func dialJuteAll(addrs []string, n int, timeout time.Duration) ([]*juteSession, error) {
	conns := make([]*juteSession, n)
	err := parallel(n, min(n, 32), func(i int) error {
		c, err := dialJute(addrs[i%len(addrs)], timeout)
		conns[i] = c
		return err
	})
	if err != nil {
		closeJute(conns)
		return nil, err
	}
	return conns, nil
}

// add appends a request to the output and returns its xid.
func (c *juteSession) add(op wire.OpCode, body wire.Record) int32 {
	c.xid++
	h := &wire.RequestHeader{Xid: c.xid, Type: op}
	if body == nil {
		c.w.out = wire.AppendFrame(c.w.out, h)
	} else {
		c.w.out = wire.AppendFrame(c.w.out, h, body)
	}
	return c.xid
}

// reply reads the next reply's header.
func (c *juteSession) reply() (wire.ReplyHeader, error) {
	var h wire.ReplyHeader
	pkt, err := wire.ReadFrame(c.br, c.buf, wire.DefaultMaxBuffer)
	if err != nil {
		return h, err
	}
	c.buf = pkt
	d := wire.NewDecoder(pkt)
	h.Decode(d)
	return h, d.Err()
}

// pingAll pings every session and waits for every reply: idle sessions
// stay alive on these. The pings all go out before the first reply is
// awaited, so a pass costs about one round trip, not one per session.
func pingAll(sessions []*juteSession) error {
	deadline := time.Now().Add(juteConnectTimeout)
	for _, c := range sessions {
		c.nc.SetDeadline(deadline)
		c.w.out = wire.AppendFrame(c.w.out, &wire.RequestHeader{Xid: pingXid, Type: wire.OpPing})
		if err := c.w.flush(); err != nil {
			return err
		}
	}
	for _, c := range sessions {
		for {
			h, err := c.reply()
			if err != nil {
				return err
			}
			if h.Xid == pingXid {
				break
			}
		}
		c.nc.SetDeadline(time.Time{})
	}
	return nil
}

// pingXid is the xid of pings, as every client sends them.
const pingXid = -2

// close ends the session with closeSession (awaiting its reply, so that
// the servers are done with it before what follows) and closes the
// connection.
func (c *juteSession) close() {
	defer c.nc.Close()
	c.nc.SetDeadline(time.Now().Add(juteConnectTimeout))
	xid := c.add(wire.OpCloseSession, nil)
	if c.w.flush() != nil {
		return
	}
	for {
		h, err := c.reply()
		if err != nil || h.Xid == xid {
			return
		}
	}
}

// closeJute closes every session (nil entries are skipped), a few at once.
func closeJute(conns []*juteSession) {
	_ = parallel(len(conns), min(len(conns), 32), func(i int) error {
		if conns[i] != nil {
			conns[i].close()
		}
		return nil
	})
}

// jop appends the requests of one benchmark operation, issued by worker
// w for the seq-th time, to c and returns how many it appended: the
// operation is done when that many replies have come.
type jop func(c *juteSession, w, seq int, rng *rand.Rand) int

// inflight is an operation awaiting replies.
type inflight struct {
	start time.Time
	left  int // replies still to come
	err   wire.ErrCode
}

// runJute runs f on every session for d with outstanding operations in
// flight on each, and returns every latency. Operations are issued until
// d has passed; the run ends when the last one is answered.
func runJute(conns []*juteSession, outstanding int, d time.Duration, f jop) sample {
	var (
		mu  sync.Mutex
		all sample
		wg  sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(d)
	for ci, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := c.drive(ci, outstanding, deadline, f)
			mu.Lock()
			all.add(s)
			mu.Unlock()
		}()
	}
	wg.Wait()
	all.elapsed = time.Since(start)
	return all
}

// juteReplyTimeout is how long past the deadline a session waits for the
// replies still due before it counts them as errors.
const juteReplyTimeout = 30 * time.Second

// drive runs session c as worker w: see runJute.
func (c *juteSession) drive(w, outstanding int, deadline time.Time, f jop) sample {
	var s sample
	rng := rand.New(rand.NewPCG(uint64(w), 42))
	ring := make([]inflight, outstanding) // operations in flight, oldest at head
	head, n, seq := 0, 0, 0
	next := c.xid + 1 // the xid of the next reply due
	issue := func() {
		t0 := time.Now()
		ring[(head+n)%outstanding] = inflight{start: t0, left: f(c, w, seq, rng)}
		n++
		seq++
	}
	fail := func(err error) {
		s.errors += n
		if s.firstErr == nil {
			s.firstErr = err
		}
	}
	for n < outstanding && time.Now().Before(deadline) {
		issue()
	}
	c.nc.SetReadDeadline(deadline.Add(juteReplyTimeout))
	defer c.nc.SetReadDeadline(time.Time{})
	if err := c.w.flush(); err != nil {
		fail(err)
		return s
	}
	for n > 0 {
		h, err := c.reply()
		if err != nil {
			fail(err)
			return s
		}
		if h.Xid < 0 { // a notification or a ping's reply
			continue
		}
		if h.Xid != next {
			fail(fmt.Errorf("reply xid %d, expected %d", h.Xid, next))
			return s
		}
		next++
		op := &ring[head]
		if h.Err != wire.ErrOK && op.err == wire.ErrOK {
			op.err = h.Err
		}
		if op.left--; op.left == 0 {
			now := time.Now()
			if op.err != wire.ErrOK {
				s.errors++
				if s.firstErr == nil {
					s.firstErr = op.err
				}
			} else {
				s.ops++
				s.latencies = append(s.latencies, now.Sub(op.start))
			}
			head = (head + 1) % outstanding
			n--
			if now.Before(deadline) {
				issue()
			}
		}
		if !frameBuffered(c.br) {
			if err := c.w.flush(); err != nil {
				fail(err)
				return s
			}
		}
	}
	return s
}

// clearMaxReply bounds the getChildren reply of clearCreated: the create
// workloads leave up to a few hundred thousand children.
const clearMaxReply = 256 << 20

// clearWindow is how many deletes clearCreated keeps in flight.
const clearWindow = 1024

// clearCreated deletes every child of newPath through the server at addr
// and returns how many it deleted. A run's create workloads leave their
// znodes there, as many as the server could create; they are removed
// between runs so that every workload starts from the same tree on every
// implementation (a faster server would otherwise carry a larger tree,
// and larger snapshots, into the runs that follow).
func clearCreated(addr string) (int, error) {
	c, err := dialJute(addr, sessionTimeout)
	if err != nil {
		return 0, err
	}
	defer c.close()
	c.nc.SetDeadline(time.Now().Add(5 * time.Minute))
	defer c.nc.SetDeadline(time.Time{})
	c.add(wire.OpGetChildren, &wire.PathWatchRequest{Path: newPath})
	if err := c.w.flush(); err != nil {
		return 0, err
	}
	pkt, err := wire.ReadFrame(c.br, nil, clearMaxReply)
	if err != nil {
		return 0, err
	}
	var h wire.ReplyHeader
	var kids wire.StringsResponse
	d := wire.NewDecoder(pkt)
	h.Decode(d)
	if h.Err != wire.ErrOK {
		return 0, fmt.Errorf("getChildren %s: %v", newPath, h.Err)
	}
	kids.Decode(d)
	if err := d.Err(); err != nil {
		return 0, err
	}
	for i := 0; i < len(kids.Strings); i += clearWindow {
		window := kids.Strings[i:min(i+clearWindow, len(kids.Strings))]
		for _, name := range window {
			c.add(wire.OpDelete, &wire.PathVersionRequest{Path: newPath + "/" + name, Version: -1})
		}
		if err := c.w.flush(); err != nil {
			return 0, err
		}
		for range window {
			h, err := c.reply()
			if err != nil {
				return 0, err
			}
			if h.Err != wire.ErrOK && h.Err != wire.ErrNoNode {
				return 0, fmt.Errorf("delete under %s: %v", newPath, h.Err)
			}
		}
	}
	return len(kids.Strings), nil
}
