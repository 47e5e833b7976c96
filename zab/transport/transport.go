// Package transport carries zab.Messages between the servers of an
// ensemble over TCP.
//
// Every server listens on two ports of its server.N line: the election
// port, which carries VOTE messages, and the quorum port, which carries the
// rest (learner sessions: sync, proposals, commits, pings, forwarded
// writes). Keeping votes apart means an election is never stuck behind a
// large SNAP on its way to a dead leader.
//
// For each peer and port a server keeps one outgoing TCP connection, used
// only for sending; it receives on the connections its peers open to it.
// So no tie-breaking between simultaneous connects is needed, and each
// direction reconnects on its own. A connection opens with a small header
// (a magic string, the sender's id and the port's kind); then every
// message is a wire frame (a 4-byte length, then zab's encoding).
//
// Send never blocks: each outgoing connection has a bounded queue. Send
// writes what it queued itself when the socket takes it at once; otherwise
// the connection's own goroutine writes everything queued in one socket
// write (it also connects, and writes everything on TLS connections).
// When the peer cannot be reached, messages are dropped: ZAB tolerates
// loss (learner sessions are numbered and start over on a gap; votes are
// resent). When the queue is full (the peer does not keep up), everything
// queued is dropped and the connection is closed, so that the loss shows
// at once on both sides as a lost connection rather than as a request that
// silently vanished.
//
// Lost connections are reported on Disconnected, for zab.Node.Disconnected:
// an incoming connection that the peer closed or reset, an outgoing quorum
// connection that the peer closed, a write that failed, a connect that was
// refused, a quorum queue that overflowed. That is how a follower notices at once that its leader's process
// died, as Apache ZooKeeper's do. Idle timeouts are not reported.
package transport

import (
	"bufio"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/zkgo/zkgo/internal/sock"
	"github.com/zkgo/zkgo/wire"
	"github.com/zkgo/zkgo/zab"
)

// Peer is one server of the ensemble and its two addresses
// (host:port).
type Peer struct {
	ID           int64
	QuorumAddr   string
	ElectionAddr string
}

// Config configures a Transport.
type Config struct {
	// ID is this server's id; its Peer entry names the addresses to listen
	// on.
	ID int64
	// Peers lists every server of the ensemble, this one included.
	Peers []Peer
	// Logger receives connection events; nil means zap.NewNop().
	Logger *zap.Logger
	// MaxQueue bounds the messages waiting for one peer and port (default
	// 100000); MaxQueueBytes bounds their approximate size (default 256
	// MiB). Past either, the queue is dropped and the connection closed.
	MaxQueue      int
	MaxQueueBytes int
	// MaxMessage bounds the size of one received message (default 1 GiB:
	// a SNAP carries the whole tree).
	MaxMessage int
	// ListenTLS, if set, makes both ports accept only TLS (sslQuorum): it
	// is the server side's configuration, which should require and verify
	// the peer's certificate.
	ListenTLS *tls.Config
	// DialTLS, if set, makes connections to peers TLS; its ServerName, if
	// empty, is the host of the peer's address.
	DialTLS *tls.Config
	// AcceptPlaintext makes ports with ListenTLS accept plaintext
	// connections too (portUnification, for a rolling upgrade to TLS): a
	// connection whose first byte opens a TLS handshake gets TLS.
	AcceptPlaintext bool
}

// Kinds of connection, sent in the header. After the kind, the header
// carries the sender's own quorum and election addresses (a 2-byte length,
// then "quorumAddr electionAddr"), so that a server can answer a peer its
// configuration does not list yet: one joining the ensemble by dynamic
// reconfiguration.
const (
	kindQuorum   byte = 'Q'
	kindElection byte = 'E'
)

// magic opens every connection.
const magic = "ZKGOZAB1"

const (
	dialTimeout      = 2 * time.Second
	handshakeTimeout = 5 * time.Second
	writeTimeout     = 30 * time.Second
	// idleTimeout closes an incoming connection that carried nothing for
	// that long (a peer that vanished without closing it); the sender
	// reconnects on its next message.
	idleTimeout = 2 * time.Minute
	minBackoff  = 20 * time.Millisecond
	maxBackoff  = time.Second
	recvBuffer  = 8192
	lostBuffer  = 256
)

// Transport sends and receives the messages of one server.
type Transport struct {
	cfg  Config
	log  *zap.Logger
	self Peer
	lns  []net.Listener
	recv chan zab.Message
	lost chan int64

	peersMu sync.RWMutex
	links   map[int64][2]*link // peer -> [quorum, election]

	done    chan struct{}
	closeMu sync.Once
	wg      sync.WaitGroup

	mu       sync.Mutex
	incoming map[net.Conn]struct{}

	dropped atomic.Int64
}

// New listens on this server's quorum and election addresses and starts
// connecting to the peers as messages for them arrive.
func New(cfg Config) (*Transport, error) {
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.MaxQueue <= 0 {
		cfg.MaxQueue = 100000
	}
	if cfg.MaxQueueBytes <= 0 {
		cfg.MaxQueueBytes = 256 << 20
	}
	if cfg.MaxMessage <= 0 {
		cfg.MaxMessage = 1 << 30
	}
	t := &Transport{
		cfg:      cfg,
		log:      cfg.Logger,
		links:    map[int64][2]*link{},
		recv:     make(chan zab.Message, recvBuffer),
		lost:     make(chan int64, lostBuffer),
		done:     make(chan struct{}),
		incoming: map[net.Conn]struct{}{},
	}
	var self *Peer
	for i := range cfg.Peers {
		p := cfg.Peers[i]
		if p.ID == cfg.ID {
			self = &cfg.Peers[i]
			continue
		}
		t.links[p.ID] = [2]*link{
			newLink(t, p.ID, p.QuorumAddr, kindQuorum),
			newLink(t, p.ID, p.ElectionAddr, kindElection),
		}
	}
	if self == nil {
		return nil, fmt.Errorf("transport: server %d is not in the server list", cfg.ID)
	}
	t.self = *self
	for _, addr := range []string{self.QuorumAddr, self.ElectionAddr} {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			for _, l := range t.lns {
				l.Close()
			}
			return nil, fmt.Errorf("transport: listen on %s: %w", addr, err)
		}
		if cfg.ListenTLS != nil && !cfg.AcceptPlaintext {
			ln = tls.NewListener(ln, cfg.ListenTLS)
		}
		t.lns = append(t.lns, ln)
	}
	for _, ln := range t.lns {
		t.wg.Add(1)
		go t.acceptLoop(ln)
	}
	for _, ls := range t.links {
		for _, l := range ls {
			t.wg.Add(1)
			go l.run()
		}
	}
	t.log.Info("quorum transport listening",
		zap.String("quorum", self.QuorumAddr), zap.String("election", self.ElectionAddr))
	return t, nil
}

// AddPeer makes a peer known, or changes its addresses (a peer added or
// moved by dynamic reconfiguration). Peers are never forgotten: a removed
// server may still follow as a non-voter.
func (t *Transport) AddPeer(p Peer) {
	if p.ID == t.cfg.ID {
		return
	}
	t.peersMu.Lock()
	defer t.peersMu.Unlock()
	if ls, ok := t.links[p.ID]; ok {
		ls[0].setAddr(p.QuorumAddr)
		ls[1].setAddr(p.ElectionAddr)
		return
	}
	select {
	case <-t.done:
		return
	default:
	}
	ls := [2]*link{newLink(t, p.ID, p.QuorumAddr, kindQuorum), newLink(t, p.ID, p.ElectionAddr, kindElection)}
	t.links[p.ID] = ls
	for _, l := range ls {
		t.wg.Add(1)
		go l.run()
	}
	t.log.Info("quorum transport: new peer", zap.Int64("peer", p.ID),
		zap.String("quorum", p.QuorumAddr), zap.String("election", p.ElectionAddr))
}

// Recv delivers the messages received from peers. From is the id the
// sending peer's connection presented.
func (t *Transport) Recv() <-chan zab.Message { return t.recv }

// Disconnected delivers the ids of peers whose connection was lost (see
// the package comment). A report may be spurious or late; when the channel
// is full, reports are dropped.
func (t *Transport) Disconnected() <-chan int64 { return t.lost }

// reportLost queues a lost-connection report unless the transport is
// closing.
func (t *Transport) reportLost(peer int64) {
	select {
	case <-t.done:
		return
	default:
	}
	select {
	case t.lost <- peer:
	default:
	}
}

// Send queues messages for their peers (m.To) and returns at once.
// Messages to one peer over one port leave in order; VOTEs use the
// election port. Messages to unknown peers are dropped. The messages'
// slices must not be modified afterwards.
//
// Send writes the messages itself when the socket takes them at once (the
// common case: a ZAB hop then costs no hand-off to another goroutine); the
// link's goroutine writes what is left, and connects.
func (t *Transport) Send(msgs []zab.Message) {
	t.peersMu.RLock()
	defer t.peersMu.RUnlock()
	var touched [8]*link
	used := touched[:0]
	for i := range msgs {
		m := &msgs[i]
		ls, ok := t.links[m.To]
		if !ok {
			continue
		}
		l := ls[0]
		if m.Type == zab.MsgVote {
			l = ls[1]
		}
		l.enqueue(m)
		if !slices.Contains(used, l) {
			used = append(used, l)
		}
	}
	for _, l := range used {
		l.flush()
	}
}

// Dropped returns how many messages were dropped so far (queue overflow or
// unreachable peer).
func (t *Transport) Dropped() int64 { return t.dropped.Load() }

// Close stops listening, closes every connection and waits for the
// transport's goroutines.
func (t *Transport) Close() error {
	t.closeMu.Do(func() {
		close(t.done)
		for _, ln := range t.lns {
			ln.Close()
		}
		t.mu.Lock()
		for c := range t.incoming {
			c.Close()
		}
		t.mu.Unlock()
		t.peersMu.Lock()
		for _, ls := range t.links {
			for _, l := range ls {
				l.signal()
			}
		}
		t.peersMu.Unlock()
	})
	t.wg.Wait()
	return nil
}

func (t *Transport) acceptLoop(ln net.Listener) {
	defer t.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			select {
			case <-t.done:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			t.log.Error("quorum transport: accept failed", zap.Error(err))
			return
		}
		t.mu.Lock()
		select {
		case <-t.done:
			t.mu.Unlock()
			c.Close()
			return
		default:
		}
		t.incoming[c] = struct{}{}
		t.mu.Unlock()
		t.wg.Add(1)
		go t.readLoop(c)
	}
}

// readLoop reads one peer's incoming connection.
func (t *Transport) readLoop(c net.Conn) {
	defer t.wg.Done()
	defer func() {
		c.Close()
		t.mu.Lock()
		delete(t.incoming, c)
		t.mu.Unlock()
	}()
	br := bufio.NewReaderSize(sock.NewReader(c), 64<<10)
	c.SetReadDeadline(time.Now().Add(handshakeTimeout))
	br, isTLS := t.unified(c, br)
	var hdr [len(magic) + 8 + 1]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		if isTLS && !errors.Is(err, io.EOF) {
			t.log.Warn("quorum transport: TLS handshake with a connecting peer failed",
				zap.String("remote", c.RemoteAddr().String()), zap.Error(err))
		}
		return
	}
	from := int64(binary.BigEndian.Uint64(hdr[len(magic):]))
	kind := hdr[len(hdr)-1]
	var alen [2]byte
	if _, err := io.ReadFull(br, alen[:]); err != nil {
		return
	}
	addrs := make([]byte, binary.BigEndian.Uint16(alen[:]))
	if _, err := io.ReadFull(br, addrs); err != nil {
		return
	}
	qa, ea, _ := strings.Cut(string(addrs), " ")
	if string(hdr[:len(magic)]) != magic || from == t.cfg.ID || (kind != kindQuorum && kind != kindElection) {
		t.log.Warn("quorum transport: refusing a connection that is not from a peer",
			zap.String("remote", c.RemoteAddr().String()), zap.Int64("claimedId", from))
		return
	}
	t.peersMu.RLock()
	_, known := t.links[from]
	t.peersMu.RUnlock()
	if !known && qa != "" && ea != "" {
		t.AddPeer(Peer{ID: from, QuorumAddr: qa, ElectionAddr: ea})
	}
	var buf []byte
	for {
		c.SetReadDeadline(time.Now().Add(idleTimeout))
		pkt, err := wire.ReadFrame(br, buf, t.cfg.MaxMessage)
		if err != nil {
			select {
			case <-t.done:
			default:
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					return // idle: not a sign that the peer is gone
				}
				if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
					t.log.Info("quorum transport: connection from peer ended",
						zap.Int64("peer", from), zap.Error(err))
				}
				t.reportLost(from)
			}
			return
		}
		buf = pkt
		m, err := zab.UnmarshalMessage(pkt)
		if err != nil {
			t.log.Warn("quorum transport: malformed message; closing the connection",
				zap.Int64("peer", from), zap.Error(err))
			return
		}
		if m.From != from || m.To != t.cfg.ID {
			continue
		}
		select {
		case t.recv <- m:
		case <-t.done:
			return
		}
	}
}

// link is the outgoing connection to one peer's port.
type link struct {
	t    *Transport
	peer int64
	addr string
	kind byte
	wake chan struct{}

	mu    sync.Mutex
	queue []zab.Message
	spare []zab.Message // the queue last taken, reused
	bytes int
	next  string   // a new address to use from the next connection on
	conn  net.Conn // the open connection, if any
	// raw writes conn's socket for flush's non-blocking writes; nil
	// without a connection or with TLS.
	raw *sock.Writer
	// overflow says the queue overflowed: run closes the connection.
	overflow bool
	// writing says flush or run is writing to conn; handoff is the
	// unwritten tail of a flush, which run takes over (writing stays
	// set). flushBuf is flush's encoding buffer, flushEnc its encoder
	// (kept: one per message would be allocated).
	writing  bool
	handoff  []byte
	flushBuf []byte
	flushEnc wire.Encoder
}

// setAddr changes the address the link connects to (from its next
// connection on).
func (l *link) setAddr(addr string) {
	l.mu.Lock()
	if addr != l.addr {
		l.next = addr
	}
	l.mu.Unlock()
}

func newLink(t *Transport, peer int64, addr string, kind byte) *link {
	return &link{t: t, peer: peer, addr: addr, kind: kind, wake: make(chan struct{}, 1)}
}

// size approximates a message's encoding.
func size(m *zab.Message) int {
	n := 96 + len(m.Data)
	for _, e := range m.Entries {
		n += 12 + len(e.Data)
	}
	return n
}

func (l *link) enqueue(m *zab.Message) {
	sz := size(m)
	l.mu.Lock()
	if len(l.queue) >= l.t.cfg.MaxQueue || l.bytes+sz > l.t.cfg.MaxQueueBytes {
		// The peer does not keep up: drop the queue (m included) and the
		// connection. Closing it here also ends a write stuck on a peer
		// that stopped reading.
		n := int64(len(l.queue)) + 1
		first := !l.overflow
		clear(l.queue)
		l.queue, l.bytes, l.overflow = l.queue[:0], 0, true
		c := l.conn
		l.mu.Unlock()
		l.t.dropped.Add(n)
		if first {
			l.t.log.Warn("quorum transport: queue to peer full; dropping it and the connection",
				zap.Int64("peer", l.peer), zap.String("port", portName(l.kind)), zap.Int64("messages", n))
		}
		if c != nil {
			c.Close()
		}
		l.signal()
		return
	}
	l.queue = append(l.queue, *m)
	l.bytes += sz
	l.mu.Unlock()
}

// flush writes the queued messages if the connection is open and its
// socket takes them at once; otherwise, or for what is left, it wakes run.
func (l *link) flush() {
	l.mu.Lock()
	if l.writing || l.raw == nil || l.overflow || l.next != "" || len(l.queue) == 0 {
		l.mu.Unlock()
		l.signal()
		return
	}
	msgs := l.queue
	l.queue, l.spare, l.bytes = l.spare[:0], nil, 0
	l.writing = true
	raw := l.raw
	l.mu.Unlock()
	buf := l.flushBuf[:0]
	for i := range msgs {
		buf = l.flushEnc.AppendFrame(buf, &msgs[i])
	}
	clear(msgs)
	n, err := raw.WriteNonblocking(buf)
	l.mu.Lock()
	l.spare = msgs[:0]
	if err != nil || n < len(buf) {
		// run writes the rest, or finds the connection broken.
		l.handoff, l.flushBuf = buf[n:], nil
		l.mu.Unlock()
		l.signal()
		return
	}
	if cap(buf) <= maxKeptBuffer {
		l.flushBuf = buf
	}
	l.writing = false
	more := len(l.queue) > 0
	l.mu.Unlock()
	if more {
		l.signal()
	}
}

// maxKeptBuffer bounds an encoding buffer kept for reuse (not a SNAP's).
const maxKeptBuffer = 16 << 20

func (l *link) signal() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// takeOverflow reports whether the queue overflowed since the last call.
func (l *link) takeOverflow() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	o := l.overflow
	l.overflow = false
	return o
}

// take returns what run is to write: the tail of a flush, or everything
// queued; it marks the link as writing. Both are empty while a flush is
// writing (it wakes run if it leaves anything).
func (l *link) take() (tail []byte, msgs []zab.Message) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.handoff != nil:
		tail, l.handoff = l.handoff, nil
		return tail, nil
	case l.writing || len(l.queue) == 0:
		return nil, nil
	}
	msgs = l.queue
	l.queue, l.spare, l.bytes = l.spare[:0], nil, 0
	l.writing = true
	return nil, msgs
}

// written ends a write of run's; msgs (cleared) becomes the spare queue.
func (l *link) written(msgs []zab.Message) {
	l.mu.Lock()
	l.writing = false
	if msgs != nil {
		l.spare = msgs[:0]
	}
	more := len(l.queue) > 0
	l.mu.Unlock()
	if more {
		l.signal()
	}
}

// run sends the queued messages, connecting (and reconnecting) as needed.
func (l *link) run() {
	defer l.t.wg.Done()
	var (
		c       net.Conn
		dead    chan struct{} // closed when the peer closes c
		buf     []byte
		enc     wire.Encoder // kept: one per message would be allocated
		backoff = minBackoff
	)
	closeConn := func() {
		if c != nil {
			c.Close()
			c, dead = nil, nil
			l.mu.Lock()
			l.conn, l.raw = nil, nil
			l.mu.Unlock()
		}
	}
	defer closeConn()
	for {
		select {
		case <-l.t.done:
			return
		case <-l.wake:
		case <-dead:
			closeConn()
			if l.kind == kindQuorum {
				// The peer closed it: it died (or dropped an idle
				// connection, which quorum connections to a leader or
				// learner never are).
				l.t.reportLost(l.peer)
			}
			continue
		}
		if l.takeOverflow() && c != nil {
			closeConn()
			if l.kind == kindQuorum {
				l.t.reportLost(l.peer)
			}
		}
		tail, msgs := l.take()
		if tail != nil {
			// The rest of a frame begun on c: only c may carry it.
			if c != nil && !l.write(c, tail) {
				closeConn()
			}
			l.written(nil)
			continue
		}
		if len(msgs) == 0 {
			continue
		}
		l.mu.Lock()
		if l.next != "" {
			l.addr, l.next = l.next, ""
			l.mu.Unlock()
			closeConn()
		} else {
			l.mu.Unlock()
		}
		if c == nil {
			var err error
			c, err = l.dial()
			if err != nil {
				// Unreachable: what was queued is stale by the time it
				// would arrive. Wait a little before trying again.
				l.t.dropped.Add(int64(len(msgs)))
				l.t.reportLost(l.peer)
				clear(msgs)
				l.written(msgs)
				select {
				case <-l.t.done:
					return
				case <-time.After(backoff):
				}
				backoff = min(2*backoff, maxBackoff)
				l.signal()
				continue
			}
			backoff = minBackoff
			dead = make(chan struct{})
			go drain(c, dead)
			l.mu.Lock()
			l.conn, l.raw = c, sock.NewWriter(sock.Raw(c))
			l.mu.Unlock()
		}
		buf = buf[:0]
		for i := range msgs {
			buf = enc.AppendFrame(buf, &msgs[i])
		}
		clear(msgs)
		if !l.write(c, buf) {
			closeConn()
		}
		l.written(msgs)
		if cap(buf) > maxKeptBuffer {
			buf = nil // do not keep a SNAP's buffer
		}
	}
}

// write writes b to c, reporting the peer lost if that fails.
func (l *link) write(c net.Conn, b []byte) bool {
	c.SetWriteDeadline(time.Now().Add(writeTimeout))
	if _, err := c.Write(b); err != nil {
		l.t.log.Info("quorum transport: sending to peer failed; reconnecting",
			zap.Int64("peer", l.peer), zap.String("address", l.addr), zap.Error(err))
		l.t.reportLost(l.peer)
		return false
	}
	return true
}

// dial connects to the peer and sends the header.
func (l *link) dial() (net.Conn, error) {
	c, err := net.DialTimeout("tcp", l.addr, dialTimeout)
	if err != nil {
		return nil, err
	}
	if l.t.cfg.DialTLS != nil {
		if c, err = l.tlsHandshake(c); err != nil {
			return nil, err
		}
	}
	addrs := l.t.self.QuorumAddr + " " + l.t.self.ElectionAddr
	hdr := make([]byte, 0, len(magic)+11+len(addrs))
	hdr = append(hdr, magic...)
	hdr = binary.BigEndian.AppendUint64(hdr, uint64(l.t.cfg.ID))
	hdr = append(hdr, l.kind)
	hdr = binary.BigEndian.AppendUint16(hdr, uint16(len(addrs)))
	hdr = append(hdr, addrs...)
	c.SetWriteDeadline(time.Now().Add(handshakeTimeout))
	if _, err := c.Write(hdr); err != nil {
		c.Close()
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	l.t.log.Info("quorum transport: connected to peer",
		zap.Int64("peer", l.peer), zap.String("address", l.addr), zap.String("port", portName(l.kind)))
	return c, nil
}

// tlsRecordHandshake is the first byte of a TLS connection: the record
// type of its ClientHello.
const tlsRecordHandshake = 0x16

// unified returns the reader of an accepted connection and whether it is
// TLS. On a port that takes TLS and plaintext alike (AcceptPlaintext), a
// connection that opens with a TLS handshake record gets the server side
// of TLS; any other is read as it is.
func (t *Transport) unified(c net.Conn, br *bufio.Reader) (*bufio.Reader, bool) {
	if t.cfg.ListenTLS == nil || !t.cfg.AcceptPlaintext {
		_, isTLS := c.(*tls.Conn)
		return br, isTLS
	}
	first, err := br.Peek(1)
	if err != nil || first[0] != tlsRecordHandshake {
		return br, false
	}
	tc := tls.Server(peekedConn{Conn: c, r: br}, t.cfg.ListenTLS)
	return bufio.NewReaderSize(tc, 64<<10), true
}

// peekedConn is a connection whose first bytes were read into r.
type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (p peekedConn) Read(b []byte) (int, error) { return p.r.Read(b) }

// tlsHandshake runs the client side of a TLS handshake on a new
// connection to the peer (closing it on failure).
func (l *link) tlsHandshake(c net.Conn) (net.Conn, error) {
	tc := l.t.cfg.DialTLS.Clone()
	if tc.ServerName == "" {
		tc.ServerName, _, _ = net.SplitHostPort(l.addr)
	}
	tlc := tls.Client(c, tc)
	tlc.SetDeadline(time.Now().Add(handshakeTimeout))
	if err := tlc.Handshake(); err != nil {
		c.Close()
		l.t.log.Warn("quorum transport: TLS handshake with peer failed",
			zap.Int64("peer", l.peer), zap.String("address", l.addr), zap.Error(err))
		return nil, err
	}
	tlc.SetDeadline(time.Time{})
	return tlc, nil
}

// drain reads (and discards) from an outgoing connection, which peers never
// write to, to notice at once when the peer closes it.
func drain(c net.Conn, dead chan struct{}) {
	io.Copy(io.Discard, c)
	close(dead)
}

func portName(kind byte) string {
	if kind == kindElection {
		return "election"
	}
	return "quorum"
}
