package server

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/zkgo/zkgo/internal/auth"
	"github.com/zkgo/zkgo/internal/sock"
	"github.com/zkgo/zkgo/server/monitor"
	"github.com/zkgo/zkgo/wire"
	"github.com/zkgo/zkgo/znode"
)

// Bounds on a connection's output buffers (see outputLimit for the bound
// on what is queued): the writer hands the socket at most writeChunk bytes
// per write, so that the bytes left unsent shrink as the client takes
// them, and a buffer larger than keepBuffer is dropped once written
// rather than kept for the next replies, so that an idle connection holds
// little memory. A request frame larger than keepBuffer is not kept for
// the next request either.
const (
	writeChunk = 256 << 10
	keepBuffer = 64 << 10
)

// conn is one client connection. One goroutine reads requests; replies
// leave in request order, notifications in between, written by the
// goroutine that produced them or by the connection's writer goroutine
// (see flush).
type conn struct {
	s       *Server
	nc      net.Conn
	ip      string
	created time.Time
	// fourLetter is set while the connection answers a four-letter word.
	// Apache ZooKeeper stops selecting such a connection, so cons and
	// stat show it with interest ops 0, where a client connection shows 1
	// (OP_READ).
	fourLetter atomic.Bool

	idMu    sync.Mutex // guards session, timeout and auth
	session int64
	timeout int32
	auth    []wire.Id // copy-on-write: replaced, never modified

	saslAuth *auth.DigestMD5 // the SASL exchange in progress; read goroutine only
	dec      wire.Decoder    // handle's; read goroutine only
	// scratch and scratchRead are the request handle makes and, for the
	// reads that name a path and a watch flag (getData, exists,
	// getChildren), its body: reused, as most requests are answered
	// before the next is read. A request kept longer is copied to the heap
	// first (see keep). Read goroutine only.
	scratch     request
	scratchRead wire.PathWatchRequest
	// replies are the response records of the reads the reader answers
	// itself (see enqueue). Read goroutine only.
	replies znode.Replies
	// waited: the reader waited in awaitOutput or awaitOutstanding since
	// serve last read the clock. Read goroutine only.
	waited bool
	// oldClient: the ConnectRequest had no readOnly byte (a client older
	// than ZooKeeper 3.4), so the ConnectResponse has none either, as in
	// Apache ZooKeeper. Read goroutine only.
	oldClient bool

	mu    sync.Mutex // guards queue
	queue []*request // requests not yet answered, in arrival order

	// Output (see flush). outMu guards the fields up to closeAfter.
	outMu   sync.Mutex
	out     []byte       // packets queued, not yet written
	enc     wire.Encoder // put's, to encode into out
	spare   []byte       // the buffer last written, reused for out
	writing int          // bytes of a write in progress not yet written; counted in unsent
	// flushing says one goroutine owns the socket's write side; handoff
	// is the unwritten tail of a flush, which the writer goroutine takes
	// over (flushing stays set).
	flushing   bool
	handoff    []byte
	listed     bool         // on the server's flush list (Server.flushQueued)
	closeAfter bool         // close once out is written
	raw        *sock.Writer // for writes that must not block; nil: the writer goroutine writes everything
	wake       chan struct{}
	// resume is signalled when output has been written or the queue has
	// emptied: what a held reader waits for (awaitOutput,
	// awaitOutstanding).
	resume     chan struct{}
	quit       chan struct{}
	writerDone chan struct{}
	// writerStarted: the writer goroutine runs (see signal).
	writerStarted atomic.Bool
	closeOnce     sync.Once

	stats connStats
}

func newConn(s *Server, nc net.Conn, ip string) *conn {
	return &conn{
		s:          s,
		nc:         nc,
		ip:         ip,
		created:    time.Now(),
		auth:       []wire.Id{auth.IPIdentity(ip)},
		raw:        sock.NewWriter(sock.Raw(nc)),
		wake:       make(chan struct{}, 1),
		resume:     make(chan struct{}, 1),
		quit:       make(chan struct{}),
		writerDone: make(chan struct{}),
	}
}

// Notify implements znode.Watcher: it queues a watch notification.
func (c *conn) Notify(ev wire.WatcherEvent) { c.NotifyZxid(ev, -1) }

// NotifyZxid implements znode.ZxidWatcher: like Apache ZooKeeper 3.9 the
// notification carries the zxid of the txn that caused it.
// It is called with the tree locked, so it only queues the packet: the
// goroutine that applies txns writes it once its batch is applied.
func (c *conn) NotifyZxid(ev wire.WatcherEvent, zxid int64) {
	c.put(true, &wire.ReplyHeader{Xid: wire.XidNotification, Zxid: zxid}, &ev)
}

// Auth implements znode.AuthWatcher: events are delivered only where the
// connection may read.
func (c *conn) Auth() []wire.Id {
	c.idMu.Lock()
	defer c.idMu.Unlock()
	return c.auth
}

// SessionID implements znode.Watcher.
func (c *conn) SessionID() int64 { return c.sessionID() }

func (c *conn) sessionID() int64 {
	c.idMu.Lock()
	defer c.idMu.Unlock()
	return c.session
}

func (c *conn) caller() znode.Caller {
	c.idMu.Lock()
	defer c.idMu.Unlock()
	return znode.Caller{Session: c.session, Auth: c.auth, Watcher: c}
}

func (c *conn) whoAmI() *wire.WhoAmIResponse {
	c.idMu.Lock()
	defer c.idMu.Unlock()
	infos := make([]wire.ClientInfo, 0, len(c.auth))
	for _, id := range c.auth {
		user := id.ID
		if id.Scheme == "digest" {
			user, _, _ = strings.Cut(id.ID, ":")
		}
		infos = append(infos, wire.ClientInfo{AuthScheme: id.Scheme, User: user})
	}
	return &wire.WhoAmIResponse{ClientInfo: infos}
}

// Replies and notifications leave in the order they were queued, many per
// socket write, written by whichever goroutine produced them once it has
// nothing more to add, without handing them to another goroutine:
//
//   - the reader answers the reads it has read with put(false, ...) and
//     flushes once no whole request is left in its buffer;
//   - the goroutine applying txns (the driver of an ensemble, the applier
//     when standalone) queues write replies and watch notifications with
//     put(true, ...), which puts the connection on the server's flush
//     list, and calls Server.flushQueued once its batch is applied;
//   - the rare packets of the handshake and authentication are sent with
//     send, which flushes at once.
//
// flush never blocks: what the socket does not take at once is left to the
// connection's writer goroutine, which also writes everything on TLS
// connections. It is started the first time it is needed (signal).

// send queues one packet made of records (nil records are skipped) and
// writes the output (see flush).
func (c *conn) send(records ...wire.Record) {
	if c.put(false, records...) {
		c.flush()
	}
}

// put appends one packet made of records (nil records are skipped) to
// the output, to be written by a later flush; listed puts the connection on
// the server's flush list. False means the connection is closing.
func (c *conn) put(listed bool, records ...wire.Record) bool {
	c.outMu.Lock()
	if c.closeAfter {
		c.outMu.Unlock()
		return false
	}
	rs := records
	if slices.Contains(rs, nil) { // a reply without a body; rare
		rs = slices.DeleteFunc(slices.Clone(rs), func(r wire.Record) bool { return r == nil })
	}
	c.out = c.enc.AppendFrame(c.out, rs...)
	unsent := len(c.out) + c.writing
	over := unsent > 2*c.s.outputLimit()
	list := listed && !c.listed
	if list {
		c.listed = true
	}
	c.outMu.Unlock()
	c.stats.sent.Add(1)
	c.s.stats.Sent.Add(1)
	if over {
		c.s.log.Warn("client does not read its replies and notifications; closing connection",
			zap.String("client", c.nc.RemoteAddr().String()), zap.String("sessionId", hex(c.sessionID())),
			zap.Int("unsentBytes", unsent), zap.Int("maxClientOutputBytes", c.s.outputLimit()))
		c.close()
		return false
	}
	if list {
		c.s.listFlush(c)
	}
	return true
}

// flush writes the queued output if the socket takes it without blocking;
// otherwise (and on connections without a raw socket) the writer goroutine
// writes it.
func (c *conn) flush() {
	c.outMu.Lock()
	c.listed = false
	if c.flushing || len(c.out) == 0 {
		c.outMu.Unlock()
		return
	}
	if c.raw == nil || c.closeAfter {
		c.outMu.Unlock()
		c.signal()
		return
	}
	buf := c.out
	c.out, c.spare = c.spare[:0], nil
	c.flushing, c.writing = true, len(buf)
	c.outMu.Unlock()
	n, err := c.raw.WriteNonblocking(buf)
	if err != nil {
		c.close()
		return
	}
	c.outMu.Lock()
	if n < len(buf) {
		c.handoff = buf[n:]
		c.writing = len(c.handoff)
		c.outMu.Unlock()
		c.signal()
		return
	}
	c.flushing, c.writing = false, 0
	c.keepSpare(buf)
	more := len(c.out) > 0 || c.closeAfter
	c.outMu.Unlock()
	c.wakeReader()
	if more {
		c.signal()
	}
}

// keepSpare keeps buf, just written, for the next output unless it is
// large; c.outMu is held.
func (c *conn) keepSpare(buf []byte) {
	if cap(buf) <= keepBuffer {
		c.spare = buf[:0]
	}
}

// unsent is the number of bytes of output the client has not taken yet
// (as far as this server knows: queued, or being written).
func (c *conn) unsent() int {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	return len(c.out) + c.writing
}

// wakeReader wakes a reader held by awaitOutput or awaitOutstanding.
func (c *conn) wakeReader() {
	select {
	case c.resume <- struct{}{}:
	default:
	}
}

// outputLimit is maxClientOutputBytes: how many bytes of replies and
// notifications a connection may have unsent before the server stops
// reading its requests (see awaitOutput); at twice as many, which only
// notifications and replies to requests already read can bring, the
// connection is closed (see put). It is at least jute.maxbuffer, the
// largest reply a client accepts, so that one reply never closes a
// connection.
func (s *Server) outputLimit() int {
	return max(s.cfg.MaxClientOutputBytes, s.cfg.JuteMaxBuffer)
}

// awaitOutput holds the reader, before it reads the next request, while
// the connection has outputLimit bytes or more unsent: a client that
// pipelines more reads than it takes replies for is slowed down to the
// pace at which it takes them, and the server holds at most outputLimit
// (plus one reply) for it. While the client takes output its session is
// alive; a client that takes nothing for its session timeout is cut off.
// False means the connection ends.
func (c *conn) awaitOutput() bool {
	limit := c.s.outputLimit()
	before := c.unsent()
	if before < limit {
		return true
	}
	c.flush()
	c.waited = true
	timeout := c.sessionTimeout()
	stall := time.NewTimer(timeout)
	defer stall.Stop()
	for {
		now := c.unsent()
		if now < limit {
			return true
		}
		if now < before {
			// The client takes its output: it is alive.
			c.s.sessions.touch(c.sessionID())
			stall.Reset(timeout)
		}
		before = now
		select {
		case <-c.resume:
		case <-c.quit:
			return false
		case <-stall.C:
			c.s.log.Warn("client has not read its replies for its session timeout; closing connection",
				zap.String("client", c.nc.RemoteAddr().String()), zap.String("sessionId", hex(c.sessionID())),
				zap.Int("unsentBytes", before), zap.Duration("sessionTimeout", timeout))
			return false
		}
	}
}

// sessionTimeout is the session's negotiated timeout.
func (c *conn) sessionTimeout() time.Duration {
	c.idMu.Lock()
	defer c.idMu.Unlock()
	return time.Duration(c.timeout) * time.Millisecond
}

// listFlush puts c on the flush list.
func (s *Server) listFlush(c *conn) {
	s.flushMu.Lock()
	s.flushList = append(s.flushList, c)
	s.flushMu.Unlock()
}

// flushQueued writes the output of every connection on the flush list. The
// goroutine that applies txns calls it after each batch; only it does.
func (s *Server) flushQueued() {
	s.flushMu.Lock()
	list := s.flushList
	s.flushList = s.flushing[:0]
	s.flushMu.Unlock()
	for _, c := range list {
		c.flush()
	}
	clear(list)
	s.flushing = list
}

// sendAndClose queues a last packet and closes the connection once it is
// written.
func (c *conn) sendAndClose(records ...wire.Record) {
	if len(records) > 0 {
		c.put(false, records...)
	}
	c.outMu.Lock()
	c.closeAfter = true
	c.outMu.Unlock()
	c.signal()
}

// signal wakes the writer goroutine, which is started the first time
// (most connections never need it: their output is written by flush).
func (c *conn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
	if c.writerStarted.CompareAndSwap(false, true) {
		go c.writeLoop()
	}
}

// writeLoop writes, when woken, whatever flush left to it: the tail of a
// flush, then everything queued, many packets per socket write; and closes
// the connection once a closeAfter packet is out.
func (c *conn) writeLoop() {
	defer close(c.writerDone)
	for {
		select {
		case <-c.wake:
		case <-c.quit:
			return
		}
		for {
			c.outMu.Lock()
			buf := c.handoff
			switch {
			case buf != nil:
				c.handoff = nil // flushing stays set: ours now
			case c.flushing:
				// A flush is writing; it wakes us if it leaves anything.
				c.outMu.Unlock()
				buf = nil
			case len(c.out) == 0:
				closeAfter := c.closeAfter
				c.outMu.Unlock()
				if closeAfter {
					c.close()
					return
				}
			default:
				buf = c.out
				c.out, c.spare = c.spare[:0], nil
				c.flushing, c.writing = true, len(buf)
			}
			if buf == nil {
				break
			}
			c.outMu.Unlock()
			if !c.write(buf) {
				c.close()
				return
			}
		}
	}
}

// write writes buf, which the writer goroutine owns (flushing is set), in
// chunks of at most writeChunk, counting down c.writing as the client
// takes it; false means the connection failed.
func (c *conn) write(buf []byte) bool {
	for rest := buf; len(rest) > 0; {
		n := min(len(rest), writeChunk)
		if _, err := c.nc.Write(rest[:n]); err != nil {
			return false
		}
		rest = rest[n:]
		c.outMu.Lock()
		c.writing = len(rest)
		if len(rest) == 0 {
			c.flushing = false
			c.keepSpare(buf)
		}
		c.outMu.Unlock()
		c.wakeReader()
	}
	return true
}

// close tears the connection down; its session lives on until it expires.
func (c *conn) close() {
	c.closeOnce.Do(func() {
		close(c.quit)
		c.nc.Close()
		c.s.unregister(c)
		c.s.tree.RemoveWatcher(c)
	})
}

// finish ends the reading side: a connection told to close after its last
// packet is closed by the writer once that packet is out.
func (c *conn) finish() {
	c.flush()
	c.outMu.Lock()
	closeAfter := c.closeAfter
	c.outMu.Unlock()
	if closeAfter && c.writerStarted.Load() {
		select {
		case <-c.writerDone:
		case <-time.After(5 * time.Second):
		}
	}
	c.close()
	c.dropQueue()
}

// serve runs the connection: four-letter word or handshake, then requests.
func (c *conn) serve() {
	defer c.finish()
	if !c.tlsHandshake() {
		return
	}
	br := newFrameReader(sock.NewReader(c.nc), &c.s.readBufs)
	c.nc.SetReadDeadline(time.Now().Add(time.Duration(c.s.cfg.MaxSessionTimeout) * time.Millisecond))
	if head, err := br.Peek(4); err == nil && monitor.IsFourLetterWord(string(head)) {
		cmd := string(head)
		br.Discard(4)
		c.s.serveFourLetterFrom(c.nc, br, cmd)
		return
	}
	if head, err := br.Peek(4); err == nil && c.s.apache != nil && isMigrationWord(string(head)) {
		br.Discard(4)
		c.fourLetter.Store(true) // not a client: the takeover keeps it open
		c.s.apache.serveControl(c.nc, br, string(head))
		return
	}
	if !c.s.readOnlyActive() && !c.s.awaitServing() {
		// In an ensemble without a leader: the client moves on to another
		// server (it sees the connection close, as with Apache's).
		return
	}
	maxBuf := c.s.cfg.JuteMaxBuffer
	pkt, err := wire.ReadFrame(br, nil, maxBuf)
	if err != nil {
		c.readFailed(br, err)
		return
	}
	if !c.handshake(pkt) {
		return
	}
	var (
		buf      []byte
		deadline time.Time
		// now is read once per request, as it is read (the clock cost
		// about a tenth of a getData's CPU when read at each use); it is
		// read again after the loop waited for the client to take its
		// output or for admission (awaitOutput, awaitOutstanding).
		now = time.Now()
	)
	for {
		if c.waited {
			now, c.waited = time.Now(), false
		}
		c.idMu.Lock()
		timeout := time.Duration(c.timeout) * time.Millisecond
		c.idMu.Unlock()
		// A connection idle for its session timeout is closed, up to a
		// sixteenth of it later: the deadline moves only when it has
		// come that close, not on every request.
		if deadline.Before(now.Add(timeout)) {
			deadline = now.Add(timeout + timeout/16)
			c.nc.SetReadDeadline(deadline)
		}
		pkt, err := wire.ReadFrame(br, buf, maxBuf)
		if err != nil {
			c.readFailed(br, err)
			return
		}
		if cap(pkt) <= keepBuffer {
			buf = pkt
		}
		now = time.Now()
		if !c.handle(pkt, now) {
			return
		}
		if !frameBuffered(br) {
			c.flush() // before waiting for the next request
		}
		if !c.awaitOutput() || !c.awaitOutstanding() {
			return
		}
	}
}

// frameBuffered reports whether br holds a whole frame: the next request
// can be read without waiting for the client.
func frameBuffered(br *frameReader) bool {
	n := br.Buffered()
	if n < 4 {
		return false
	}
	h, _ := br.Peek(4)
	return uint64(n-4) >= uint64(binary.BigEndian.Uint32(h))
}

// maxDiscard bounds how much of a packet refused as too large is read
// and dropped before the connection closes (see readFailed).
const maxDiscard = 16 << 20

// readFailed logs why a request could not be read. A packet refused as too
// large is read to its end and dropped first (up to maxDiscard bytes, within
// the read deadline): closed with unread input, the socket would be reset,
// and a client still writing the packet would see its write fail ("broken
// pipe"), where Apache ZooKeeper's clients see the connection close.
func (c *conn) readFailed(br *frameReader, err error) {
	var tooLarge *wire.FrameTooLargeError
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
	case errors.As(err, &tooLarge):
		c.s.log.Warn("closing connection: packet too large",
			zap.String("client", c.nc.RemoteAddr().String()), zap.Error(err))
		if tooLarge.Length <= maxDiscard {
			io.CopyN(io.Discard, br, int64(tooLarge.Length))
		}
	default:
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			c.s.log.Info("closing idle connection", zap.String("client", c.nc.RemoteAddr().String()))
			return
		}
		c.s.log.Info("closing connection", zap.String("client", c.nc.RemoteAddr().String()), zap.Error(err))
	}
}

// handshake answers the ConnectRequest; false means the connection ends.
func (c *conn) handshake(pkt []byte) bool {
	var req wire.ConnectRequest
	if err := wire.Decode(pkt, &req); err != nil {
		c.s.log.Warn("closing connection: malformed connect request",
			zap.String("client", c.nc.RemoteAddr().String()), zap.Error(err))
		return false
	}
	s := c.s
	c.oldClient = !req.HasReadOnly
	readOnly := s.readOnlyActive()
	if readOnly && !req.ReadOnly {
		s.log.Info("refusing session request for not-read-only client",
			zap.String("client", c.nc.RemoteAddr().String()))
		return false
	}
	if last := s.tree.LastZxid(); req.LastZxidSeen > last {
		s.log.Info("refusing session: client has seen a newer zxid; it must try another server",
			zap.String("client", c.nc.RemoteAddr().String()),
			zap.String("sessionId", hex(req.SessionID)),
			zap.String("clientZxid", hex(req.LastZxidSeen)), zap.String("ourZxid", hex(last)))
		return false
	}
	timeout := req.TimeOut
	if min := int32(s.cfg.MinSessionTimeout); timeout < min {
		timeout = min
	}
	if max := int32(s.cfg.MaxSessionTimeout); timeout > max {
		timeout = max
	}
	c.s.stats.Received.Add(1)
	c.stats.received.Add(1)
	if req.SessionID == 0 {
		return c.createSession(timeout)
	}
	if passwd, ok := s.sessions.localPasswd(req.SessionID); ok && bytes.Equal(passwd, req.Passwd) &&
		s.sessions.ensure(req.SessionID, timeout) {
		c.establish(req.SessionID, timeout, passwd)
		return true
	}
	info, ok := s.tree.Session(req.SessionID)
	if ok && readOnly {
		// As Apache: a read-only server cannot keep a global session.
		s.log.Info("refusing global session reconnection in read-only mode",
			zap.String("sessionId", hex(req.SessionID)), zap.String("client", c.nc.RemoteAddr().String()))
		return false
	}
	var valid bool
	if (s.apache != nil || s.quorum != nil) && !readOnly {
		// As Apache: the leader decides whether the session lives.
		res := s.revalidate(req.SessionID, timeout, req.Passwd, c.quit)
		if res == revalLost {
			s.log.Info("closing a reconnection: the leader did not re-validate its session",
				zap.String("sessionId", hex(req.SessionID)), zap.String("client", c.nc.RemoteAddr().String()))
			return false
		}
		valid = res == revalValid
	} else {
		valid = ok && bytes.Equal(info.Passwd, req.Passwd) && s.sessions.ensure(req.SessionID, timeout)
	}
	if !valid {
		s.log.Info("invalid session on reconnect: expired or wrong password",
			zap.String("sessionId", hex(req.SessionID)), zap.String("client", c.nc.RemoteAddr().String()))
		c.sendAndClose(&wire.ConnectResponse{Passwd: make([]byte, 16), ReadOnly: readOnly, HasReadOnly: !c.oldClient})
		return false
	}
	c.establish(req.SessionID, timeout, req.Passwd)
	return true
}

func (c *conn) createSession(timeout int32) bool {
	s := c.s
	passwd := make([]byte, 16)
	rand.Read(passwd)
	if s.localSessionsOn() {
		c.createLocalSession(timeout, passwd)
		return true
	}
	if s.readOnlyActive() {
		// As Apache: a read-only server refuses the createSession of a
		// global session with NotReadOnly, sent where the client waits
		// for its ConnectResponse.
		s.log.Info("refusing a global session in read-only mode (localSessionsEnabled is false)",
			zap.String("client", c.nc.RemoteAddr().String()))
		c.sendAndClose(&wire.ReplyHeader{Zxid: s.tree.LastZxid(), Err: wire.ErrNotReadOnly})
		return false
	}
	id := s.sessions.newID()
	if s.apache != nil {
		passwd = znode.ApacheSessionPasswd(id) // Apache's servers derive it from the id
	}
	s.sessions.add(id, timeout)
	applied := make(chan wire.ErrCode, 1)
	s.submitWrite(&request{
		op:        wire.OpCreateSession,
		body:      &znode.CreateSession{Timeout: timeout, Passwd: passwd},
		session:   id,
		start:     time.Now(),
		onApplied: func(_ *request, res znode.Result) { applied <- res.Err },
	})
	select {
	case err := <-applied:
		if err != wire.ErrOK {
			s.log.Error("creating session failed", zap.String("sessionId", hex(id)), zap.Stringer("err", err))
			return false
		}
	case <-c.quit:
		return false
	case <-s.done:
		return false
	}
	c.establish(id, timeout, passwd)
	return true
}

func (c *conn) establish(id int64, timeout int32, passwd []byte) {
	c.idMu.Lock()
	c.session = id
	c.timeout = timeout
	c.idMu.Unlock()
	c.s.attach(id, c)
	c.s.log.Info("session established", zap.String("sessionId", hex(id)),
		zap.Int32("timeout", timeout), zap.String("client", c.nc.RemoteAddr().String()))
	c.send(&wire.ConnectResponse{TimeOut: timeout, SessionID: id, Passwd: passwd,
		ReadOnly: c.s.readOnlyActive(), HasReadOnly: !c.oldClient})
}

// handle processes one request packet, read at now; false means the
// connection ends.
func (c *conn) handle(pkt []byte, now time.Time) bool {
	s := c.s
	s.stats.Received.Add(1)
	c.stats.received.Add(1)
	d := &c.dec
	d.Reset(pkt)
	var h wire.RequestHeader
	h.Decode(d)
	id := c.sessionID()
	s.sessions.touchAt(id, now)
	r := &c.scratch
	*r = request{conn: c, xid: h.Xid, op: h.Type, session: id, start: now}
	if h.Type == wire.OpAuth {
		return c.handleAuth(d, h.Xid)
	}
	if h.Type == wire.OpSASL {
		return c.handleSASL(d, h.Xid)
	}
	if !c.authEnforced(h.Xid) {
		return false
	}
	if isPathWatchRead(h.Type) {
		r.body = c.decodeRead(d)
	} else if r.body = wire.RequestBody(h.Type); r.body != nil {
		r.body.Decode(d)
	} else {
		r.body = &wire.Empty{}
		r.done = true
		r.hdr = wire.ReplyHeader{Xid: h.Xid, Zxid: s.tree.LastZxid(), Err: wire.ErrUnimplemented}
		if !c.admit(r) {
			return false
		}
		c.enqueue(r)
		return true
	}
	if err := d.Err(); err != nil {
		s.log.Warn("closing connection: malformed request",
			zap.String("client", c.nc.RemoteAddr().String()), zap.Stringer("op", h.Type), zap.Error(err))
		return false
	}
	if h.Type == wire.OpReconfig && !(s.cfg.ReconfigEnabled && s.ourEnsemble() != nil) && !s.readOnlyActive() {
		r.done = true
		// As Apache: disabled unless reconfigEnabled; enabled, a
		// standalone server answers Unimplemented. An ensemble carries
		// it out as a write (reconfig.go). A read-only server refuses it
		// as any write, with NotReadOnly, before this check.
		code := wire.ErrReconfigDisabled
		if s.cfg.ReconfigEnabled {
			code = wire.ErrUnimplemented
		}
		r.hdr = wire.ReplyHeader{Xid: h.Xid, Zxid: s.tree.LastZxid(), Err: code}
	}
	if s.isWrite(h.Type) {
		c.idMu.Lock()
		r.auth = c.auth
		c.idMu.Unlock()
	}
	if !c.admit(r) {
		return false
	}
	c.enqueue(r)
	return true
}

// isPathWatchRead reports whether op's request body is a path and a watch
// flag (a wire.PathWatchRequest).
func isPathWatchRead(op wire.OpCode) bool {
	switch op {
	case wire.OpGetData, wire.OpExists, wire.OpGetChildren, wire.OpGetChildren2:
		return true
	}
	return false
}

// decodeRead decodes the body of a path-and-watch read into c.scratchRead.
// Its path shares the packet buffer, which the next request overwrites,
// unless the read sets a watch, which keeps the path: then it is copied.
func (c *conn) decodeRead(d *wire.Decoder) *wire.PathWatchRequest {
	b := &c.scratchRead
	b.Path, b.Watch = d.StringView(), d.Bool()
	if b.Watch {
		b.Path = strings.Clone(b.Path)
	}
	return b
}

// keep returns r itself, or, if r is the reused c.scratch, a copy on the
// heap (its reused body and the path it shares with the packet buffer
// copied too): for a request that outlives the reading of the next one.
func (c *conn) keep(r *request) *request {
	if r != &c.scratch {
		return r
	}
	k := new(request)
	*k = *r
	if r.body == &c.scratchRead {
		b := c.scratchRead
		b.Path = strings.Clone(b.Path)
		k.body = &b
	}
	return k
}

// handleAuth adds credentials to the session, or refuses and closes.
func (c *conn) handleAuth(d *wire.Decoder, xid int32) bool {
	var ap wire.AuthPacket
	ap.Decode(d)
	if d.Err() != nil {
		return false
	}
	var ids []wire.Id
	code := wire.ErrOK
	if ap.Scheme == "ip" {
		// As Apache's IPAuthenticationProvider: whatever the credentials,
		// the identity is the client's address (which every connection
		// has from the start).
		ids = []wire.Id{auth.IPIdentity(c.ip)}
	} else {
		ids, code = auth.Authenticate(ap.Scheme, ap.Auth, c.s.cfg.SuperDigest)
	}
	if code != wire.ErrOK {
		c.s.log.Warn("authentication failed", zap.String("scheme", ap.Scheme),
			zap.String("client", c.nc.RemoteAddr().String()))
		c.sendAndClose(&wire.ReplyHeader{Xid: xid, Err: wire.ErrAuthFailed})
		return false
	}
	c.addAuth(ids)
	c.send(&wire.ReplyHeader{Xid: xid})
	return true
}

func containsID(ids []wire.Id, id wire.Id) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// enqueue keeps the session's FIFO order: a read runs at once only when
// nothing of the session is pending; otherwise it waits in the queue behind
// the writes before it. It runs on the reader, which flushes the replies.
// r is in process (admit) until it is answered, here or by complete.
//
// While an ensemble server holds its clients for the next leader
// (failover.go), a ping is answered at once, ahead of anything pending, and
// every other read waits in the queue until releaseHeld.
func (c *conn) enqueue(r *request) {
	write := !r.done && c.s.isWrite(r.op)
	if r.op == wire.OpPing && !r.done && c.s.holding() {
		c.s.execRead(c, r, nil)
		c.reply(r, false)
		c.s.release(1)
		return
	}
	c.mu.Lock()
	if !write && len(c.queue) == 0 && (r.done || !c.s.holding()) {
		c.mu.Unlock()
		if !r.done {
			// Answered at once, by the reader alone (the queue is
			// empty): its reused replies serve.
			c.s.execRead(c, r, &c.replies)
		}
		c.reply(r, false)
		c.s.release(1)
		return
	}
	r = c.keep(r)
	c.queue = append(c.queue, r)
	c.mu.Unlock()
	if write {
		c.s.submitWrite(r)
	}
}

// complete is called by the applier when a write of this connection is
// applied: it answers every request at the head of the queue that can now
// be answered (written at the applier's Server.flushQueued).
func (c *conn) complete(r *request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r.done = true
	c.answerHead()
	if r.op == wire.OpCloseSession {
		c.outMu.Lock()
		c.closeAfter = true
		c.outMu.Unlock()
		c.signal()
	}
}

// answerHead answers every request at the head of the queue that can be
// answered: those done and the reads, up to the first pending write. c.mu
// is held.
func (c *conn) answerHead() {
	n := 0
	for _, h := range c.queue {
		if !h.done {
			if c.s.isWrite(h.op) {
				break
			}
			c.s.execRead(c, h, nil)
		}
		c.reply(h, true)
		n++
	}
	c.queue = append(c.queue[:0], c.queue[n:]...)
	c.s.release(n)
	if len(c.queue) == 0 {
		c.wakeReader()
	}
}

// reply queues a finished request's answer (see put for listed) and
// records its latency.
func (c *conn) reply(r *request, listed bool) {
	c.put(listed, &r.hdr, r.resp)
	end := time.Now()
	lat := end.Sub(r.start)
	c.s.stats.RecordLatency(lat, r.op.IsWrite())
	c.stats.record(r, end, lat)
}

// connStats are the per-connection counters that cons reports.
type connStats struct {
	received, sent atomic.Int64
	mu             sync.Mutex
	lastOp         wire.OpCode
	lastErr        wire.ErrCode
	lastCxid       int32
	lastZxid       int64
	lastResp       time.Time
	lastLatency    time.Duration
	latency        monitor.Latency
}

// record notes r, answered at end after lat.
func (s *connStats) record(r *request, end time.Time, lat time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastOp = r.op
	s.lastErr = r.hdr.Err
	if r.xid >= 0 {
		s.lastCxid = r.xid
	}
	s.lastZxid = r.hdr.Zxid
	s.lastResp = end
	s.lastLatency = lat
	s.latency.Add(lat)
}
