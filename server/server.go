// Package server accepts ZooKeeper clients: connections, sessions, the
// request pipeline that keeps each session's requests in order, and the
// four-letter words.
package server

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/zkgo/zkgo/conf"
	"github.com/zkgo/zkgo/server/monitor"
	"github.com/zkgo/zkgo/wire"
	"github.com/zkgo/zkgo/zab"
	"github.com/zkgo/zkgo/zab/storage"
	"github.com/zkgo/zkgo/znode"
)

// Server is a ZooKeeper server: standalone, or one server of an ensemble
// when the configuration lists other servers (see ensemble.go).
type Server struct {
	cfg  *conf.Config
	log  *zap.Logger
	tree *znode.Tree

	ln      net.Listener
	started time.Time

	writes   chan *request // to the applier
	readBufs readBuffers   // large read buffers of busy connections
	maxBatch int           // writes per log append; 1 turns group commit off
	sessions *sessionTracker
	mon      *monitor.Monitor // the four-letter words, AdminServer, Prometheus
	stats    *monitor.Stats   // mon's
	adm      *admission       // requests in process: the throttle, globalOutstandingLimit

	txnLog        *storage.Log
	snapCountdown int // txns until the next snapshot; applier only
	snapshotting  atomic.Bool
	fatal         chan error
	syncDelay     func() time.Duration // SetSyncDelay

	// Reused by the applier for each batch.
	txns    []znode.Txn
	entries []zab.Entry
	encBuf  []byte
	offsets []int

	running atomic.Bool // from Serve to Close: the admin commands may run
	// serving is set while clients are served: from Serve to Close when
	// standalone; while the ensemble has an established leader this server
	// is synced with, in an ensemble.
	serving atomic.Bool
	quorum  *ensemble // nil when standalone
	// apache is set instead of quorum for an observer of an Apache
	// ZooKeeper ensemble (quorumProtocol=apache, apacheobserver.go).
	apache *apacheObserver

	// flushMu guards flushList: connections with output queued by the
	// goroutine applying txns, written by its flushQueued.
	flushMu   sync.Mutex
	flushList []*conn
	flushing  []*conn // flushQueued's buffer

	mu      sync.Mutex
	conns   map[*conn]struct{}
	perIP   map[string]int
	byID    map[int64]*conn // session -> its current connection
	closing bool
	// httpServers serve the AdminServer and the metrics endpoint.
	httpServers []*http.Server
	done        chan struct{}
	wg          sync.WaitGroup
}

// New returns a server for cfg. It does not listen yet.
func New(cfg *conf.Config, log *zap.Logger) *Server {
	s := &Server{
		cfg:    cfg,
		log:    log,
		writes: make(chan *request, 4096),
		conns:  make(map[*conn]struct{}),
		perIP:  make(map[string]int),
		byID:   make(map[int64]*conn),
		done:   make(chan struct{}),
		fatal:  make(chan error, 1),

		maxBatch: defaultMaxBatch,
		adm:      newAdmission(cfg.RequestThrottleMaxRequests),
	}
	s.mon = monitor.New(cfg, log, monitorView{s})
	s.stats = s.mon.Stats()
	s.sessions = newSessionTracker(cfg.MyID)
	switch {
	case cfg.QuorumProtocol == conf.QuorumProtocolApache && !cfg.Standalone():
		s.apache = newApacheObserver(s)
	case !cfg.Standalone():
		s.quorum = newEnsemble(s)
	}
	return s
}

// SetSyncDelay installs a fault-injection hook that simulates a slow disk:
// every sync of the transaction log first waits for the duration f returns
// (see storage.Options.SyncDelay). Call it before Start or Serve; never in
// production.
func (s *Server) SetSyncDelay(f func() time.Duration) { s.syncDelay = f }

func (s *Server) treeOptions() znode.Options {
	return znode.Options{
		ExtendedTypes:          s.cfg.ExtendedTypesEnabled,
		MaxNeverUsedIntervalMs: s.cfg.ContainerMaxNeverUsedIntervalMs,
		LocalSessions:          s.cfg.LocalSessionsEnabled && !s.cfg.Standalone(),
		Warn:                   func(msg string, kv ...any) { s.log.Sugar().Warnw(msg, kv...) },
	}
}

// ClientAddr is the address the client port listens on.
func (s *Server) ClientAddr() string {
	return net.JoinHostPort(s.cfg.ClientPortAddress, strconv.Itoa(s.cfg.ClientPort))
}

// Start loads the database, listens on every port the configuration names
// and starts serving in the background: the client port, the AdminServer
// (admin.enableServer) and the Prometheus endpoint (metricsProvider.*).
// As in Apache ZooKeeper's standalone server, failing to bind any of them
// is an error and nothing is left listening; a server of an ensemble, as
// Apache's QuorumPeer, runs on without an AdminServer it cannot bind.
func (s *Server) Start() error {
	if s.cfg.ClientPort <= 0 && s.cfg.SecureClientPort <= 0 {
		return errors.New("server: no clientPort or secureClientPort configured")
	}
	endpoints, err := s.listenHTTP()
	if err != nil {
		return err
	}
	ln, err := s.listenClients()
	if err != nil {
		closeEndpoints(endpoints)
		return fmt.Errorf("server: %w", err)
	}
	if err := s.Serve(ln); err != nil {
		closeEndpoints(endpoints)
		return err
	}
	s.serveHTTP(endpoints)
	return nil
}

// Serve loads the database and serves clients accepted from ln in the
// background. It serves nothing else: Start also binds the AdminServer and
// the metrics endpoint, whose handlers are AdminHandler and MetricsHandler.
//
// In an ensemble it also starts the quorum transport and the ZAB driver;
// clients are then served only while this server is synced with an
// established leader.
func (s *Server) Serve(ln net.Listener) error {
	load := s.recover
	switch {
	case s.quorum != nil:
		load = s.quorum.recover
	case s.apache != nil:
		load = s.apache.recover
	}
	err := load()
	if err == nil && s.quorum != nil {
		err = s.quorum.start()
	}
	if err != nil {
		ln.Close()
		if s.txnLog != nil {
			s.txnLog.Close()
		}
		return err
	}
	s.ln = ln
	s.started = time.Now()
	s.wg.Add(3)
	switch {
	case s.quorum != nil:
		s.quorum.run()
	case s.apache != nil:
		s.apache.run()
	default:
		s.wg.Add(1)
		go func() { defer s.wg.Done(); s.runApplier() }()
		s.serving.Store(true)
	}
	go func() { defer s.wg.Done(); s.runExpiry() }()
	go func() { defer s.wg.Done(); s.runContainerManager() }()
	go func() { defer s.wg.Done(); s.acceptLoop() }()
	s.running.Store(true)
	s.log.Info("listening for clients", zap.String("address", ln.Addr().String()))
	return nil
}

// isWrite reports whether requests of type op go through the applier (and,
// in an ensemble, through the leader). In an ensemble sync is one too: see
// ensemble.submit.
func (s *Server) isWrite(op wire.OpCode) bool {
	return op.IsWrite() || (op == wire.OpSync && (s.apache != nil || s.quorum != nil))
}

// Addr is the address the server listens on, once started.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Close stops accepting, closes every connection and stops the background
// work. Sessions are left to expire, as when a server stops.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return nil
	}
	s.closing = true
	s.running.Store(false)
	s.serving.Store(false)
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	close(s.done)
	var err error
	if s.ln != nil {
		err = s.ln.Close()
	}
	for _, c := range conns {
		c.close()
	}
	s.closeHTTP()
	if s.quorum != nil {
		s.quorum.closeTransport()
	}
	s.wg.Wait()
	if s.txnLog != nil {
		if cerr := s.txnLog.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

func (s *Server) acceptLoop() {
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			select {
			case <-s.done:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			s.log.Error("accept failed", zap.Error(err))
			return
		}
		c, ok := s.register(nc)
		if !ok {
			continue
		}
		s.wg.Add(1)
		go func() { defer s.wg.Done(); c.serve() }()
	}
}

// register admits a new connection, enforcing maxClientCnxns per address.
func (s *Server) register(nc net.Conn) (*conn, bool) {
	ip := remoteIP(nc.RemoteAddr())
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		nc.Close()
		return nil, false
	}
	if max := s.cfg.MaxClientCnxns; max > 0 && s.perIP[ip] >= max {
		s.log.Warn("too many connections from address; closing",
			zap.String("address", ip), zap.Int("max", max))
		nc.Close()
		return nil, false
	}
	s.perIP[ip]++
	c := newConn(s, nc, ip)
	s.conns[c] = struct{}{}
	return c, true
}

func (s *Server) unregister(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.conns[c]; !ok {
		return
	}
	delete(s.conns, c)
	if s.perIP[c.ip]--; s.perIP[c.ip] <= 0 {
		delete(s.perIP, c.ip)
	}
	if id := c.sessionID(); id != 0 && s.byID[id] == c {
		delete(s.byID, id)
	}
}

// attach makes c the connection of session id, closing the session's
// previous connection (the client reconnected).
func (s *Server) attach(id int64, c *conn) {
	s.mu.Lock()
	old := s.byID[id]
	s.byID[id] = c
	s.mu.Unlock()
	if old != nil && old != c {
		old.close()
	}
}

// connOf returns the connection that holds session id, if any.
func (s *Server) connOf(id int64) *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byID[id]
}

// connections returns a snapshot of the open connections.
func (s *Server) connections() []*conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		out = append(out, c)
	}
	return out
}

func remoteIP(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}
