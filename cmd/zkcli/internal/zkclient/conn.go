package zkclient

import (
	"encoding/binary"
	"io"
	"net"
	"sync"

	"github.com/zkgo/zkgo/wire"
)

// xidSetWatches is the xid Apache ZooKeeper's client sends setWatches with.
const xidSetWatches = wire.XidSetWatches

// firstXid starts the xids of the requests this package sends itself, far
// above go-zookeeper's (which count up from 1), so that replies can be told
// apart on the shared connection.
const firstXid int32 = 0x40000000

// ownXid reports whether a reply's xid belongs to a request of this package.
func ownXid(xid int32) bool { return xid >= firstXid || xid == xidSetWatches }

// rawReply is the reply to a request sent by spliceConn.roundTrip.
type rawReply struct {
	hdr  wire.ReplyHeader
	body []byte
	err  error
}

type pendingReq struct {
	ch      chan rawReply // nil: nobody waits
	onReply func(wire.ErrCode)
}

// spliceConn is one TCP connection that go-zookeeper dialed, wrapped so
// that this package can send requests go-zookeeper has no API for (addWatch,
// removeWatches, getEphemerals, whoAmI, ...) on the same connection and so
// in the same session. Writes are whole frames from either side, serialised
// by wmu; reads hand go-zookeeper every frame except the replies to our own
// requests and the watch notifications, which this package dispatches
// itself (it owns the watches).
type spliceConn struct {
	net.Conn
	cl *Client

	wmu sync.Mutex

	// Reader state, touched only by the goroutine calling Read.
	handshake bool
	rbuf      []byte
	roff      int

	mu      sync.Mutex
	closed  bool
	pending map[int32]*pendingReq
}

func newSpliceConn(nc net.Conn, cl *Client) *spliceConn {
	return &spliceConn{Conn: nc, cl: cl, pending: map[int32]*pendingReq{}}
}

// Write sends one of go-zookeeper's frames (it writes each frame with one
// call).
func (c *spliceConn) Write(b []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.Conn.Write(b)
}

// Read gives go-zookeeper the next frame meant for it.
func (c *spliceConn) Read(p []byte) (int, error) {
	for c.roff >= len(c.rbuf) {
		frame, err := readFrame(c.Conn)
		if err != nil {
			if !c.handshake {
				c.cl.handshakeFailed()
			}
			c.shutdown()
			return 0, err
		}
		if !c.handshake {
			c.handshake = true
			c.cl.onHandshake(c, frame[4:])
			c.rbuf, c.roff = frame, 0
			break
		}
		body := frame[4:]
		if len(body) < 16 {
			c.rbuf, c.roff = frame, 0
			break
		}
		var hdr wire.ReplyHeader
		if err := wire.Decode(body[:16], &hdr); err != nil {
			c.rbuf, c.roff = frame, 0
			break
		}
		c.cl.noteZxid(hdr.Zxid)
		switch {
		case hdr.Xid == wire.XidNotification:
			var ev wire.WatcherEvent
			if wire.Decode(body[16:], &ev) == nil {
				c.cl.onNotification(ev)
			}
		case ownXid(hdr.Xid):
			c.deliver(hdr, body[16:])
		default:
			c.rbuf, c.roff = frame, 0
		}
	}
	n := copy(p, c.rbuf[c.roff:])
	c.roff += n
	return n, nil
}

func (c *spliceConn) deliver(hdr wire.ReplyHeader, body []byte) {
	c.mu.Lock()
	p := c.pending[hdr.Xid]
	delete(c.pending, hdr.Xid)
	c.mu.Unlock()
	if p == nil {
		return
	}
	if p.onReply != nil {
		p.onReply(hdr.Err)
	}
	if p.ch != nil {
		p.ch <- rawReply{hdr: hdr, body: body}
	}
}

// Close closes the connection and fails the requests still waiting on it.
func (c *spliceConn) Close() error {
	c.shutdown()
	return c.Conn.Close()
}

func (c *spliceConn) shutdown() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	pending := c.pending
	c.pending = map[int32]*pendingReq{}
	c.mu.Unlock()
	for _, p := range pending {
		if p.ch != nil {
			p.ch <- rawReply{err: &Error{Code: wire.ErrConnectionLoss}}
		}
	}
	c.cl.connLost(c)
}

// send writes one request and registers its pending reply under xid.
func (c *spliceConn) send(xid int32, op wire.OpCode, req wire.Record, p *pendingReq) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return &Error{Code: wire.ErrConnectionLoss}
	}
	c.pending[xid] = p
	c.mu.Unlock()
	frame := wire.AppendFrame(nil, &wire.RequestHeader{Xid: xid, Type: op}, req)
	if _, err := c.Write(frame); err != nil {
		c.Conn.Close()
		c.shutdown()
		return &Error{Code: wire.ErrConnectionLoss}
	}
	return nil
}

// forget drops the pending reply of xid (its caller gave up).
func (c *spliceConn) forget(xid int32) {
	c.mu.Lock()
	delete(c.pending, xid)
	c.mu.Unlock()
}

// readFrame reads one length-prefixed frame and returns it with its prefix.
func readFrame(r io.Reader) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := int(int32(binary.BigEndian.Uint32(hdr[:])))
	if n < 0 || n > maxFrame {
		return nil, &wire.FrameTooLargeError{Length: n, Max: maxFrame}
	}
	frame := make([]byte, 4+n)
	copy(frame, hdr[:])
	if _, err := io.ReadFull(r, frame[4:]); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return frame, nil
}

// maxFrame bounds a reply: a node's data is at most jute.maxbuffer (1 MiB by
// default) but a getChildren of a large node or a multi may be larger, so
// the client is generous, like go-zookeeper's default.
const maxFrame = 64 << 20
