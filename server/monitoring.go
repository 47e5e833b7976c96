package server

// The server as the monitor (server/monitor) sees it, the four-letter
// words on a client connection, and the HTTP endpoints of the AdminServer
// and Prometheus.

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/zkgo/zkgo/conf"
	"github.com/zkgo/zkgo/server/monitor"
	"github.com/zkgo/zkgo/wire"
	"github.com/zkgo/zkgo/zab"
	"github.com/zkgo/zkgo/znode"
)

// Version is the ZooKeeper version this server reports (srvr, stat, envi).
const Version = monitor.Version

// AdminHandler is the AdminServer's handler: mounted at the root of an
// HTTP server, it answers admin.commandURL (default /commands) and the
// commands below it, as Apache ZooKeeper's AdminServer. Start serves it on
// admin.serverAddress:admin.serverPort when admin.enableServer is set; an
// embedder that uses Serve may mount it itself once Serve has returned.
func (s *Server) AdminHandler() http.Handler { return s.mon.AdminHandler() }

// MetricsHandler serves the server's metrics in the Prometheus formats
// (see monitor.Monitor.MetricsHandler). Start serves it at /metrics when
// metricsProvider.className is monitor.PrometheusMetricsProvider; an
// embedder that uses Serve may mount it itself.
func (s *Server) MetricsHandler() http.Handler { return s.mon.MetricsHandler() }

// serveFourLetterFrom answers the four-letter word cmd on nc; in yields
// the bytes the client sent after the word.
func (s *Server) serveFourLetterFrom(nc net.Conn, in io.Reader, cmd string) {
	// A word's argument (stmk's mask) must follow it promptly.
	nc.SetReadDeadline(time.Now().Add(2 * time.Second))
	nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	// Apache counts the word as a packet received, and its answer as a
	// packet sent once written; the connection shows in cons and stat
	// meanwhile, with recved=1.
	s.stats.Received.Add(1)
	if c := s.connByNetConn(nc); c != nil {
		c.stats.received.Add(1)
		c.fourLetter.Store(true)
		defer c.fourLetter.Store(false)
	}
	answer, ok := s.mon.FourLetterWord(cmd, in)
	if !ok {
		return // as Apache: no answer, the connection is closed
	}
	io.WriteString(nc, answer)
	s.stats.Sent.Add(1)
}

// noteElection is told of every role change of the quorum driver (old is
// the previous role): the monitor counts and times elections, and a
// finished one is logged.
func (s *Server) noteElection(old zab.Role, st zab.Status) {
	took, finished := s.stats.NoteRole(old == zab.Looking, st.Role == zab.Looking, s.started)
	if finished {
		s.log.Info("leader election finished", zap.String("mode", modeName(st.Role)),
			zap.Int64("myid", s.cfg.MyID), zap.Int64("leader", st.Leader), zap.Duration("took", took))
	}
}

// consOpName is the short name cons prints as a connection's last
// operation (lop), as Apache's FinalRequestProcessor records it
// (wire.OpInfo.ConsName). A write that failed as a whole is recorded as
// "NA" there (its txn is an error txn); pass its error code to get the
// same.
func consOpName(op wire.OpCode, err wire.ErrCode) string {
	info, _ := op.Info()
	if info.ConsName == "" || err != wire.ErrOK && info.Write && op != wire.OpMulti {
		return "NA"
	}
	return info.ConsName
}

// monitorView is the server as the monitor reads it (monitor.Server).
type monitorView struct{ s *Server }

// Mode implements monitor.Server.
func (v monitorView) Mode() string {
	s := v.s
	if s.observingApache() {
		return "observer"
	}
	if s.quorum == nil {
		return "standalone"
	}
	if s.readOnlyActive() {
		return "read-only"
	}
	return modeName(s.quorum.state.Load().role)
}

// Running implements monitor.Server.
func (v monitorView) Running() bool { return v.s.running.Load() }

// Serving implements monitor.Server.
func (v monitorView) Serving() bool { return v.s.serving.Load() }

// ReadOnly implements monitor.Server.
func (v monitorView) ReadOnly() bool { return v.s.readOnlyActive() }

// Tree implements monitor.Server.
func (v monitorView) Tree() *znode.Tree { return v.s.tree }

// NumConnections implements monitor.Server.
func (v monitorView) NumConnections() int { return len(v.s.connections()) }

// Connections implements monitor.Server.
func (v monitorView) Connections() []monitor.ConnInfo {
	conns := v.s.connectionsByAge()
	out := make([]monitor.ConnInfo, len(conns))
	for i, c := range conns {
		out[i] = c.info()
	}
	return out
}

// ResetConnectionStats implements monitor.Server.
func (v monitorView) ResetConnectionStats() {
	for _, c := range v.s.connections() {
		c.stats.reset()
	}
}

// Outstanding implements monitor.Server.
func (v monitorView) Outstanding() int { return v.s.outstanding() }

// Sessions implements monitor.Server.
func (v monitorView) Sessions() (global, local int) {
	return v.s.sessions.count(), v.s.sessions.countLocal()
}

// SessionExpiries implements monitor.Server.
func (v monitorView) SessionExpiries() []monitor.SessionExpiry { return v.s.sessions.expiries() }

// ClientPort implements monitor.Server: the port of the listener, as
// Apache reports it rather than the configured one.
func (v monitorView) ClientPort() int {
	s := v.s
	if s.ln == nil {
		return -1
	}
	if ta, ok := s.ln.Addr().(*net.TCPAddr); ok {
		return ta.Port
	}
	return s.cfg.ClientPort
}

// Started implements monitor.Server.
func (v monitorView) Started() time.Time { return v.s.started }

// PeerState implements monitor.Server.
func (v monitorView) PeerState() string {
	if q := v.s.ourEnsemble(); q != nil {
		return q.peerState()
	}
	return ""
}

// EnsembleGauges implements monitor.Server.
func (v monitorView) EnsembleGauges(set func(*monitor.Metric, any)) {
	if q := v.s.ourEnsemble(); q != nil {
		q.monitorGauges(set)
	}
}

// Leader implements monitor.Server.
func (v monitorView) Leader() (id int64, leading bool) {
	if q := v.s.ourEnsemble(); q != nil {
		st := q.state.Load()
		return st.leader, st.role == zab.Leading
	}
	return 0, false
}

// View implements monitor.Server.
func (v monitorView) View() (servers []conf.Server, version int64, ok bool) {
	q := v.s.ourEnsemble()
	if q == nil {
		return nil, 0, false
	}
	pv := q.rc.view.Load()
	if pv == nil {
		return nil, 0, false
	}
	return pv.servers, pv.version, true
}

// listenMetrics binds the Prometheus endpoint when metricsProvider.className
// asks for it; ok is false when no endpoint is configured.
func (s *Server) listenMetrics() (ep httpEndpoint, ok bool, err error) {
	if !monitor.PrometheusEnabled(s.cfg, s.log) {
		return httpEndpoint{}, false, nil
	}
	addr := net.JoinHostPort(s.cfg.MetricsHTTPHost, strconv.Itoa(s.cfg.MetricsHTTPPort))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return httpEndpoint{}, false, fmt.Errorf("server: cannot start the Prometheus metrics endpoint on %s (metricsProvider.httpHost, metricsProvider.httpPort): %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", s.mon.MetricsHandler())
	return httpEndpoint{name: "Prometheus metrics endpoint", ln: ln, handler: mux}, true, nil
}

// httpEndpoint is an HTTP listener bound by Start, served once the
// database is loaded.
type httpEndpoint struct {
	name    string
	ln      net.Listener
	handler http.Handler
	idle    time.Duration
}

func closeEndpoints(eps []httpEndpoint) {
	for _, ep := range eps {
		ep.ln.Close()
	}
}

// listenHTTP binds the endpoints the configuration asks for: the metrics
// endpoint first, then the AdminServer, in Apache ZooKeeper's order.
func (s *Server) listenHTTP() ([]httpEndpoint, error) {
	s.mon.InitialConfiguration() // read zoo.cfg as it is at start
	var eps []httpEndpoint
	if ep, ok, err := s.listenMetrics(); err != nil {
		return nil, err
	} else if ok {
		eps = append(eps, ep)
	}
	if s.cfg.AdminEnableServer {
		addr := net.JoinHostPort(s.cfg.AdminServerAddress, strconv.Itoa(s.cfg.AdminServerPort))
		ln, err := net.Listen("tcp", addr)
		switch {
		case err != nil && s.quorum != nil:
			// As Apache's QuorumPeer ("Problem starting AdminServer"): a
			// server of an ensemble runs on without it.
			s.log.Warn("problem starting AdminServer: running without it", zap.String("address", addr), zap.Error(err))
		case err != nil:
			closeEndpoints(eps)
			return nil, fmt.Errorf("server: unable to start AdminServer on %s (admin.serverAddress, admin.serverPort; admin.enableServer=false turns it off): %w", addr, err)
		default:
			idle := time.Duration(s.cfg.AdminIdleTimeout) * time.Millisecond
			eps = append(eps, httpEndpoint{name: "AdminServer", ln: ln, handler: s.mon.AdminHandler(), idle: idle})
		}
	}
	return eps, nil
}

// serveHTTP serves the endpoints bound by listenHTTP until Close.
func (s *Server) serveHTTP(eps []httpEndpoint) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		closeEndpoints(eps)
		return
	}
	for _, ep := range eps {
		idle := ep.idle
		if idle <= 0 {
			idle = 30 * time.Second
		}
		srv := &http.Server{
			Handler:           ep.handler,
			ReadHeaderTimeout: idle,
			IdleTimeout:       idle,
			ErrorLog:          log.New(&zapWriter{s.log.With(zap.String("endpoint", ep.name))}, "", 0),
		}
		s.httpServers = append(s.httpServers, srv)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := srv.Serve(ep.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("HTTP endpoint failed", zap.String("endpoint", ep.name), zap.Error(err))
			}
		}()
		fields := []zap.Field{zap.String("address", ep.ln.Addr().String())}
		if ep.name == "AdminServer" {
			fields = append(fields, zap.String("commandURL", s.mon.CommandURL()))
		}
		s.log.Info("started "+ep.name, fields...)
	}
}

// closeHTTP stops the HTTP endpoints.
func (s *Server) closeHTTP() {
	s.mu.Lock()
	servers := s.httpServers
	s.httpServers = nil
	s.mu.Unlock()
	for _, srv := range servers {
		srv.Close()
	}
}

// zapWriter sends net/http's error log lines to the server's log.
type zapWriter struct{ log *zap.Logger }

// Write implements io.Writer: each line is a warning.
func (w *zapWriter) Write(p []byte) (int, error) {
	w.log.Warn(strings.TrimSpace(string(p)))
	return len(p), nil
}

// modeName is srvr's Mode for a role.
func modeName(r zab.Role) string {
	switch r {
	case zab.Leading:
		return "leader"
	case zab.Following:
		return "follower"
	case zab.Observing:
		return "observer"
	}
	return "looking"
}

// peerState is mntr's zk_peer_state, as Apache's QuorumPeer names it.
func (q *ensemble) peerState() string {
	st := q.state.Load()
	switch {
	case st.role == zab.Looking:
		return "looking - election"
	case st.serving:
		return fmt.Sprintf("%s - broadcast", roleWord(st.role))
	}
	return fmt.Sprintf("%s - synchronization", roleWord(st.role))
}

func roleWord(r zab.Role) string {
	switch r {
	case zab.Leading:
		return "leading"
	case zab.Following:
		return "following"
	case zab.Observing:
		return "observing"
	}
	return "looking"
}

// monitorGauges gives set the ensemble's gauges: the quorum size
// everywhere, the learner counts and proposal sizes on the serving leader,
// as Apache's QuorumZooKeeperServer and LeaderZooKeeperServer register
// them.
func (q *ensemble) monitorGauges(set func(*monitor.Metric, any)) {
	voters := 0
	for _, sv := range q.cfg.Servers {
		if !sv.Observer {
			voters++
		}
	}
	set(monitor.QuorumSize, voters)
	st := q.state.Load()
	if st.role != zab.Leading || !st.serving {
		return
	}
	set(monitor.Learners, st.learners.Learners)
	set(monitor.SyncedFollowers, st.learners.SyncedFollowers)
	set(monitor.SyncedNonVotingFollowers, st.learners.SyncedNonVoting)
	set(monitor.SyncedObservers, st.learners.SyncedObservers)
	set(monitor.PendingSyncs, 0)
	set(monitor.LeaderUptime, time.Since(st.since).Milliseconds())
	set(monitor.LastProposalSize, q.propLast.Load())
	set(monitor.MaxProposalSize, q.propMax.Load())
	set(monitor.MinProposalSize, q.propMin.Load())
}
