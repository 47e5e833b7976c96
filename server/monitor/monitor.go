// Package monitor is what a ZooKeeper server tells about itself, as Apache
// ZooKeeper does: the four-letter words (fourletter.go), the AdminServer's
// commands as JSON over HTTP (admin.go) and the Prometheus endpoint
// (prometheus.go). mntr, the AdminServer's monitor and Prometheus all read
// one table of metrics (Metrics, metric.go) whose counters and summaries
// the server feeds through Stats. The monitor reads the server through the
// Server interface only.
package monitor

import (
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/zkgo/zkgo/conf"
	"github.com/zkgo/zkgo/znode"
)

// Version is the ZooKeeper version the server reports (srvr, stat, envi,
// mntr). Tools parse it, so it keeps Apache ZooKeeper's shape.
const Version = "3.9.3-zkgo, built on 11/22/2026 00:00 GMT"

// Server is what the monitor reads of the server it reports on.
type Server interface {
	// Mode is the server state as srvr's "Mode:" line names it:
	// standalone, or leader, follower, observer or read-only.
	Mode() string
	// Running is true from Serve to Close.
	Running() bool
	// Serving is true while clients are served: from Serve to Close when
	// standalone, while the ensemble has a leader this server is synced
	// with in an ensemble.
	Serving() bool
	// ReadOnly is true while the server serves read-only clients.
	ReadOnly() bool
	// Tree is the data tree.
	Tree() *znode.Tree
	// NumConnections counts the open client connections.
	NumConnections() int
	// Connections describes the open connections, oldest first.
	Connections() []ConnInfo
	// ResetConnectionStats resets every connection's counters (crst).
	ResetConnectionStats()
	// Outstanding counts the requests received and not yet answered.
	Outstanding() int
	// Sessions counts the global and the local sessions.
	Sessions() (global, local int)
	// SessionExpiries lists the tracked sessions and their deadlines.
	SessionExpiries() []SessionExpiry
	// ClientPort is the port the clients' listener has (-1 before Serve).
	ClientPort() int
	// Started is when Serve started (zero before).
	Started() time.Time
	// PeerState is mntr's zk_peer_state (an ensemble server only).
	PeerState() string
	// EnsembleGauges gives the values of the Ensemble gauges this server
	// has (none when standalone).
	EnsembleGauges(set func(m *Metric, v any))
	// Leader is the leader's id and whether it is this server (an
	// ensemble server only).
	Leader() (id int64, leading bool)
	// View is the active membership and its version; ok is false when
	// there is none (standalone, or not known yet).
	View() (servers []conf.Server, version int64, ok bool)
}

// ConnInfo is what cons, stat and dump report about one connection
// (ServerCnxn.dumpConnectionInfo).
type ConnInfo struct {
	Remote      net.Addr
	InterestOps int // 1 (OP_READ); 0 while it answers a four-letter word
	Queued      int
	Received    int64
	Sent        int64
	Session     int64
	Timeout     int32
	Created     time.Time
	LastOp      string // cons's short name of the last operation
	LastCxid    int64  // -1: none since the last reset
	LastZxid    int64
	LastResp    int64 // elapsed ms (Monitor.ElapsedMs); 0: none since the last reset
	LastLatency int64
	MinLatency  int64
	AvgLatency  int64
	MaxLatency  int64
	LastActive  time.Time // last response, or creation
}

// SessionExpiry is a tracked session and when it expires.
type SessionExpiry struct {
	ID       int64
	Deadline time.Time
}

// defaultTraceMask is Apache ZooKeeper's initial text trace mask
// (ZooTrace): client requests (1<<1), server packets (1<<4), sessions
// (1<<5) and warnings (1<<8). We keep no trace log; gtmk and stmk only
// read and set the value.
const defaultTraceMask = 1<<1 | 1<<4 | 1<<5 | 1<<8

// Monitor answers the four-letter words, the AdminServer and Prometheus
// for one server.
type Monitor struct {
	cfg   *conf.Config
	log   *zap.Logger
	srv   Server
	stats Stats

	origin    time.Time    // of the elapsed-time clock (ElapsedMs)
	traceMask atomic.Int64 // gtmk and stmk

	metricsOnce    sync.Once
	metricsHandler http.Handler

	initialOnce   sync.Once
	initialConfig any // the text of zoo.cfg, or nil
}

// New returns the monitor of srv, configured by cfg.
func New(cfg *conf.Config, log *zap.Logger, srv Server) *Monitor {
	m := &Monitor{cfg: cfg, log: log, srv: srv, origin: time.Now()}
	m.traceMask.Store(defaultTraceMask)
	return m
}

// Stats are the counters and summaries the server feeds.
func (m *Monitor) Stats() *Stats { return &m.stats }

// ElapsedMs converts t to ms on the elapsed-time clock. Apache ZooKeeper
// reports some times (cons "lresp", dump's expiry buckets) in ms of
// System.nanoTime, a monotonic clock with an arbitrary origin; ours is the
// creation of the monitor.
func (m *Monitor) ElapsedMs(t time.Time) int64 { return t.Sub(m.origin).Milliseconds() }

// ensemble reports whether the server is one of an ensemble.
func (m *Monitor) ensemble() bool { return !m.cfg.Standalone() }
