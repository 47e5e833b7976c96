// Package zkclient is the ZooKeeper client of zkcli. It is built on
// github.com/go-zookeeper/zk, which owns the connection and the session
// (dialing, the handshake, pings, reconnects, replaying credentials) and
// serves the common operations. The operations go-zookeeper lacks (addWatch,
// removeWatches, getEphemerals, getAllChildrenNumber, whoAmI, reconfig with
// its result, and the watch-setting reads) are encoded with our wire package
// and sent on go-zookeeper's own connection, so they share its session: a
// wrapper around the dialed net.Conn splices their frames into the stream
// and takes their replies out of it. This package also owns the watches,
// with Apache ZooKeeper's client rules, and re-registers them after a
// reconnect.
package zkclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/zkgo/zkgo/wire"
)

// ConfigNode is the znode holding the ensemble configuration.
const ConfigNode = "/zookeeper/config"

// State is the client's connection state, named as Apache ZooKeeper's
// ZooKeeper.States are.
type State int32

// Connection states.
const (
	Connecting State = iota
	Connected
	AuthFailed
	Closed
)

// String returns the state's name as zkCli.sh's prompt shows it.
func (s State) String() string {
	switch s {
	case Connecting:
		return "CONNECTING"
	case Connected:
		return "CONNECTED"
	case AuthFailed:
		return "AUTH_FAILED"
	case Closed:
		return "CLOSED"
	}
	return "NOT_CONNECTED"
}

// Options configure a Client.
type Options struct {
	// SessionTimeout is the requested session timeout (zkCli.sh's -timeout).
	SessionTimeout time.Duration
	// DefaultWatcher receives the session events and the events of the
	// watches set with Default.
	DefaultWatcher *Watcher
	// OnState is called after every change of State. It must not block.
	OnState func(State)
	// Logger receives go-zookeeper's log lines; nil discards them.
	Logger func(format string, args ...any)
}

// Default, passed as the watcher of a read, sets the watch for the
// client's default watcher.
var Default = &Watcher{}

// Client is a ZooKeeper session.
type Client struct {
	conn    *zk.Conn
	servers []string
	chroot  string
	opts    Options
	watches *watchManager

	xid      atomic.Int32
	lastZxid atomic.Int64

	mu          sync.Mutex
	cur         *spliceConn   // the connection with a session, if any
	changed     chan struct{} // closed and replaced when cur or failedDials change
	failedDials int
	sessionID   int64
	state       State
	closing     bool
}

// ParseConnectString splits "host:port[,host:port...][/chroot]" into the
// servers and the chroot ("" for none).
func ParseConnectString(s string) (servers []string, chroot string, err error) {
	hosts := s
	if i := strings.IndexByte(s, '/'); i >= 0 {
		hosts, chroot = s[:i], s[i:]
		if chroot == "/" {
			chroot = ""
		} else if err := ValidatePath(chroot, false); err != nil {
			return nil, "", err
		}
	}
	for _, h := range strings.Split(hosts, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(h); err != nil {
			h = net.JoinHostPort(h, "2181")
		}
		servers = append(servers, h)
	}
	if len(servers) == 0 {
		return nil, "", fmt.Errorf("no server in connect string %q", s)
	}
	return servers, chroot, nil
}

// Connect starts a session with the servers of connectString; operations
// wait for the connection.
func Connect(connectString string, opts Options) (*Client, error) {
	servers, chroot, err := ParseConnectString(connectString)
	if err != nil {
		return nil, err
	}
	if opts.SessionTimeout <= 0 {
		opts.SessionTimeout = 30 * time.Second
	}
	cl := &Client{
		servers: servers,
		chroot:  chroot,
		opts:    opts,
		watches: newWatchManager(),
		changed: make(chan struct{}),
	}
	cl.xid.Store(firstXid)
	var logger zk.Logger = nopLogger{}
	if opts.Logger != nil {
		logger = funcLogger(opts.Logger)
	}
	conn, _, err := zk.Connect(servers, opts.SessionTimeout,
		zk.WithDialer(cl.dial),
		zk.WithLogger(logger),
		zk.WithLogInfo(opts.Logger != nil),
		zk.WithEventCallback(cl.onZKEvent),
		zk.WithMaxBufferSize(maxFrame),
	)
	if err != nil {
		return nil, err
	}
	cl.conn = conn
	return cl, nil
}

type nopLogger struct{}

func (nopLogger) Printf(string, ...any) {}

type funcLogger func(string, ...any)

func (f funcLogger) Printf(format string, args ...any) { f(format, args...) }

// Close ends the session.
func (cl *Client) Close() {
	cl.mu.Lock()
	if cl.closing {
		cl.mu.Unlock()
		return
	}
	cl.closing = true
	cl.mu.Unlock()
	cl.conn.Close()
	cl.setState(Closed)
	cl.deliverSession(StateClosed)
	cl.watches.clear()
}

// State returns the connection state.
func (cl *Client) State() State {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.state
}

// Alive reports whether the client is neither closed nor failed (zkCli.sh
// refuses commands otherwise).
func (cl *Client) Alive() bool {
	s := cl.State()
	return s == Connecting || s == Connected
}

// SessionID returns the current session id (0 before the first session).
func (cl *Client) SessionID() int64 { return cl.conn.SessionID() }

// Servers returns the servers of the connect string.
func (cl *Client) Servers() []string { return append([]string(nil), cl.servers...) }

func (cl *Client) setState(s State) {
	cl.mu.Lock()
	if cl.state == s || (cl.state == Closed && s != Closed) {
		cl.mu.Unlock()
		return
	}
	cl.state = s
	cl.mu.Unlock()
	if cl.opts.OnState != nil {
		cl.opts.OnState(s)
	}
}

// dial is go-zookeeper's dialer: it wraps each connection in a spliceConn.
func (cl *Client) dial(network, address string, timeout time.Duration) (net.Conn, error) {
	nc, err := net.DialTimeout(network, address, timeout)
	if err != nil {
		cl.mu.Lock()
		cl.failedDials++
		cl.signalLocked()
		cl.mu.Unlock()
		return nil, err
	}
	return newSpliceConn(nc, cl), nil
}

// handshakeFailed counts a connection that closed before its handshake as
// a failed attempt, like a refused dial.
func (cl *Client) handshakeFailed() {
	cl.mu.Lock()
	cl.failedDials++
	cl.signalLocked()
	cl.mu.Unlock()
}

func (cl *Client) signalLocked() {
	close(cl.changed)
	cl.changed = make(chan struct{})
}

// onHandshake runs when the connect response arrives on c, before
// go-zookeeper sees it: a connection with a session becomes the one our
// requests use, after the watches of a resumed session are set again.
func (cl *Client) onHandshake(c *spliceConn, body []byte) {
	var resp wire.ConnectResponse
	if wire.Decode(body, &resp) != nil || resp.SessionID == 0 {
		return
	}
	cl.mu.Lock()
	resumed := cl.sessionID == resp.SessionID
	cl.sessionID = resp.SessionID
	cl.mu.Unlock()
	if !resumed {
		cl.watches.clear()
	} else {
		cl.resetWatches(c)
	}
	cl.mu.Lock()
	cl.cur = c
	cl.failedDials = 0
	cl.signalLocked()
	cl.mu.Unlock()
}

// resetWatches sends the client's watches on a new connection of the same
// session, as Apache ZooKeeper's client does (setWatches, or setWatches2
// when there are persistent watches).
func (cl *Client) resetWatches(c *spliceConn) {
	paths := cl.watches.paths()
	n := 0
	for _, ps := range paths {
		n += len(ps)
	}
	if n == 0 {
		return
	}
	server := func(ps []string) []string {
		out := make([]string, 0, len(ps))
		for _, p := range ps {
			out = append(out, cl.serverPath(p))
		}
		return out
	}
	req := &wire.SetWatches{
		RelativeZxid: cl.lastZxid.Load(),
		DataWatches:  server(paths[kindData]),
		ExistWatches: server(paths[kindExist]),
		ChildWatches: server(paths[kindChild]),
	}
	op := wire.OpSetWatches
	if len(paths[kindPersistent])+len(paths[kindRecursive]) > 0 {
		op = wire.OpSetWatches2
		req.V2 = true
		req.PersistentWatches = server(paths[kindPersistent])
		req.PersistentRecursiveWatches = server(paths[kindRecursive])
	}
	_ = c.send(xidSetWatches, op, req, &pendingReq{})
}

// connLost runs when c is closed.
func (cl *Client) connLost(c *spliceConn) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if cl.cur == c {
		cl.cur = nil
		cl.signalLocked()
	}
}

func (cl *Client) noteZxid(z int64) {
	for {
		old := cl.lastZxid.Load()
		if z <= old || cl.lastZxid.CompareAndSwap(old, z) {
			return
		}
	}
}

// onZKEvent receives go-zookeeper's session events.
func (cl *Client) onZKEvent(ev zk.Event) {
	if ev.Type != zk.EventSession {
		return
	}
	cl.mu.Lock()
	closing := cl.closing
	prev := cl.state
	cl.mu.Unlock()
	if closing {
		return
	}
	switch ev.State {
	case zk.StateHasSession:
		cl.setState(Connected)
		cl.deliverSession(StateSyncConnected)
	case zk.StateDisconnected:
		cl.setState(Connecting)
		if prev == Connected {
			cl.deliverSession(StateDisconnected)
		}
	case zk.StateExpired:
		cl.setState(Connecting)
		cl.deliverSession(StateExpired)
		cl.watches.clear()
	case zk.StateAuthFailed:
		cl.setState(AuthFailed)
		cl.deliverSession(StateAuthFailed)
	case zk.StateConnecting:
		if prev != AuthFailed {
			cl.setState(Connecting)
		}
	}
}

// deliverSession tells the default watcher and every watcher with a watch
// about a session state change.
func (cl *Client) deliverSession(state int32) {
	ev := Event{Type: wire.EventNone, State: state}
	ws := cl.watches.all()
	ws[Default] = struct{}{}
	for w := range ws {
		cl.call(w, ev)
	}
}

func (cl *Client) call(w *Watcher, ev Event) {
	if w == Default {
		w = cl.opts.DefaultWatcher
	}
	if w != nil && w.fn != nil {
		w.fn(ev)
	}
}

// onNotification dispatches a watch notification from the server.
func (cl *Client) onNotification(we wire.WatcherEvent) {
	ev := Event{Type: we.Type, State: we.State, Path: cl.clientPath(we.Path)}
	for w := range cl.watches.materialize(ev.Type, ev.Path) {
		cl.call(w, ev)
	}
}

func (cl *Client) serverPath(p string) string {
	if cl.chroot == "" {
		return p
	}
	if p == "/" {
		return cl.chroot
	}
	return cl.chroot + p
}

func (cl *Client) clientPath(p string) string {
	if cl.chroot == "" {
		return p
	}
	if p == cl.chroot {
		return "/"
	}
	if rest, ok := strings.CutPrefix(p, cl.chroot); ok && strings.HasPrefix(rest, "/") {
		return rest
	}
	return p
}

// ready returns the connection with a session, waiting for one.
func (cl *Client) ready(ctx context.Context, path string) (*spliceConn, error) {
	timer := time.NewTimer(cl.opts.SessionTimeout)
	defer timer.Stop()
	for {
		cl.mu.Lock()
		if cl.closing || cl.state == AuthFailed {
			cl.mu.Unlock()
			return nil, &Error{Code: wire.ErrConnectionLoss, Path: path}
		}
		if cl.cur != nil {
			c := cl.cur
			cl.mu.Unlock()
			return c, nil
		}
		if cl.failedDials >= len(cl.servers) {
			cl.mu.Unlock()
			return nil, &Error{Code: wire.ErrConnectionLoss, Path: path}
		}
		ch := cl.changed
		cl.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-timer.C:
			return nil, &Error{Code: wire.ErrConnectionLoss, Path: path}
		}
	}
}

func (cl *Client) nextXid() int32 {
	for {
		x := cl.xid.Add(1)
		if x > 0 {
			return x
		}
		cl.xid.CompareAndSwap(x, firstXid)
	}
}

// raw sends a request on the session's connection and decodes the reply
// into resp. onReply, if not nil, runs in the reading goroutine as soon as
// the reply arrives, before any later notification is dispatched: that is
// where watches are registered.
func (cl *Client) raw(ctx context.Context, op wire.OpCode, req, resp wire.Record, path string, onReply func(wire.ErrCode)) error {
	c, err := cl.ready(ctx, path)
	if err != nil {
		return err
	}
	xid := cl.nextXid()
	p := &pendingReq{ch: make(chan rawReply, 1), onReply: onReply}
	if err := c.send(xid, op, req, p); err != nil {
		return &Error{Code: wire.ErrConnectionLoss, Path: path}
	}
	select {
	case r := <-p.ch:
		if r.err != nil {
			var ze *Error
			if errors.As(r.err, &ze) {
				return &Error{Code: ze.Code, Path: path}
			}
			return r.err
		}
		if r.hdr.Err != wire.ErrOK {
			return fromCode(r.hdr.Err, path)
		}
		if resp != nil {
			if err := wire.Decode(r.body, resp); err != nil {
				return &Error{Code: wire.ErrMarshallingError, Path: path}
			}
		}
		return nil
	case <-ctx.Done():
		c.forget(xid)
		return ctx.Err()
	}
}

// await runs f, a blocking go-zookeeper call, until it returns or ctx ends
// (then f's results are dropped when it returns).
func await(ctx context.Context, f func() error) error {
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func fromZKStat(s *zk.Stat) *wire.Stat {
	if s == nil {
		return nil
	}
	return &wire.Stat{
		Czxid: s.Czxid, Mzxid: s.Mzxid, Ctime: s.Ctime, Mtime: s.Mtime,
		Version: s.Version, Cversion: s.Cversion, Aversion: s.Aversion,
		EphemeralOwner: s.EphemeralOwner, DataLength: s.DataLength,
		NumChildren: s.NumChildren, Pzxid: s.Pzxid,
	}
}

func toZKACL(acl []wire.ACL) []zk.ACL {
	out := make([]zk.ACL, len(acl))
	for i, a := range acl {
		out[i] = zk.ACL{Perms: a.Perms, Scheme: a.ID.Scheme, ID: a.ID.ID}
	}
	return out
}

func fromZKACL(acl []zk.ACL) []wire.ACL {
	out := make([]wire.ACL, len(acl))
	for i, a := range acl {
		out[i] = wire.ACL{Perms: a.Perms, ID: wire.Id{Scheme: a.Scheme, ID: a.ID}}
	}
	return out
}
