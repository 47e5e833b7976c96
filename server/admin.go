package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
)

// This file is the AdminServer: Apache ZooKeeper's HTTP interface to the
// four-letter words (JettyAdminServer and Commands). GET <commandURL>
// lists the commands as HTML links, GET <commandURL>/<name> runs one and
// answers a JSON object with Apache's keys, in Apache's order and layout
// (Jackson's pretty printer), always including "command" (the primary
// name) and "error" (null unless something went wrong). Query parameters
// are the command's arguments (set_trace_mask?traceMask=306).

// webState holds the server's HTTP endpoints: the AdminServer and the
// Prometheus endpoint that Start binds, and the lazily built handlers.
type webState struct {
	servers []*http.Server // guarded by Server.mu

	metricsOnce    sync.Once
	metricsHandler http.Handler

	initialOnce   sync.Once
	initialConfig any // the text of zoo.cfg, or nil
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
	s.initialConfiguration() // read zoo.cfg as it is at start
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
			eps = append(eps, httpEndpoint{name: "AdminServer", ln: ln, handler: s.AdminHandler(), idle: idle})
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
		s.web.servers = append(s.web.servers, srv)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := srv.Serve(ep.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("HTTP endpoint failed", zap.String("endpoint", ep.name), zap.Error(err))
			}
		}()
		fields := []zap.Field{zap.String("address", ep.ln.Addr().String())}
		if ep.name == "AdminServer" {
			fields = append(fields, zap.String("commandURL", s.commandURL()))
		}
		s.log.Info("started "+ep.name, fields...)
	}
}

// closeHTTP stops the HTTP endpoints.
func (s *Server) closeHTTP() {
	s.mu.Lock()
	servers := s.web.servers
	s.web.servers = nil
	s.mu.Unlock()
	for _, srv := range servers {
		srv.Close()
	}
}

// zapWriter sends net/http's error log lines to the server's log.
type zapWriter struct{ log *zap.Logger }

func (w *zapWriter) Write(p []byte) (int, error) {
	w.log.Warn(strings.TrimSpace(string(p)))
	return len(p), nil
}

// commandURL is admin.commandURL as a path without a trailing slash.
func (s *Server) commandURL() string {
	u := strings.TrimRight(s.cfg.AdminCommandURL, "/")
	if !strings.HasPrefix(u, "/") {
		u = "/" + u
	}
	return strings.TrimRight(u, "/")
}

// AdminHandler is the AdminServer's handler: mounted at the root of an
// HTTP server, it answers admin.commandURL (default /commands) and the
// commands below it, as Apache ZooKeeper's AdminServer. Start serves it on
// admin.serverAddress:admin.serverPort when admin.enableServer is set; an
// embedder that uses Serve may mount it itself once Serve has returned.
func (s *Server) AdminHandler() http.Handler {
	base := s.commandURL()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var name string
		switch p := r.URL.Path; {
		case p == base || p == base+"/" || (base == "" && p == "/"):
		case strings.HasPrefix(p, base+"/"):
			name = p[len(base)+1:]
		default:
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "HTTP method "+r.Method+" is not supported by this URL", http.StatusMethodNotAllowed)
			return
		}
		if name == "" {
			s.writeCommandLinks(w, base)
			return
		}
		args := make(map[string]string)
		for k, v := range r.URL.Query() {
			if len(v) > 0 {
				args[k] = v[0]
			}
		}
		body := s.runAdminCommand(name, args).encode()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	})
}

// writeCommandLinks lists the commands as Apache does: one HTML link per
// primary name, sorted, each followed by a <br/> line. Like Apache's, the
// answer has no Content-Type.
func (s *Server) writeCommandLinks(w http.ResponseWriter, base string) {
	var b strings.Builder
	for _, name := range adminPrimaryNames() {
		fmt.Fprintf(&b, "<a href=\"%s/%s\">%s</a>\n<br/>\n", base, name, name)
	}
	w.Header()["Content-Type"] = nil // no sniffing: none, as Jetty sends
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	io.WriteString(w, b.String())
}

// adminCommand is one command of the AdminServer.
type adminCommand struct {
	names []string // the primary name first, then its aliases
	// serverRequired commands answer an error while the server is not
	// serving (before Serve, after Close), as Apache's.
	serverRequired bool
	run            func(s *Server, resp *jsonObject, args map[string]string)
}

// adminCommands are Apache ZooKeeper 3.8's commands (Commands.java) with
// their names and aliases. zabstate, observers and
// observer_connection_stat_reset answer as a standalone Apache server
// does.
var adminCommands = []adminCommand{
	{[]string{"connection_stat_reset", "crst"}, true, func(s *Server, _ *jsonObject, _ map[string]string) {
		s.resetConnectionStats(io.Discard)
	}},
	{[]string{"configuration", "conf", "config"}, true, (*Server).adminConf},
	{[]string{"connections", "cons"}, true, func(s *Server, resp *jsonObject, _ map[string]string) {
		resp.put("connections", s.connectionInfos(false))
		resp.put("secure_connections", []any{}) // no TLS client port
	}},
	{[]string{"dirs"}, true, func(s *Server, resp *jsonObject, _ map[string]string) {
		resp.put("datadir_size", dirSize(s.snapDir()))
		resp.put("logdir_size", dirSize(s.logDir()))
	}},
	{[]string{"dump"}, true, (*Server).adminDump},
	{[]string{"environment", "env", "envi"}, false, func(s *Server, resp *jsonObject, _ map[string]string) {
		for _, kv := range s.environment() {
			resp.put(kv[0], kv[1])
		}
	}},
	{[]string{"hash"}, true, func(_ *Server, resp *jsonObject, _ map[string]string) {
		resp.put("digests", []any{}) // no digests are kept; see writeDigests
	}},
	{[]string{"get_trace_mask", "gtmk"}, false, func(_ *Server, resp *jsonObject, _ map[string]string) {
		resp.put("tracemask", traceMask.Load())
	}},
	{[]string{"initial_configuration", "icfg"}, true, func(s *Server, resp *jsonObject, _ map[string]string) {
		resp.put("initial_configuration", s.initialConfiguration())
	}},
	{[]string{"is_read_only", "isro"}, true, func(s *Server, resp *jsonObject, _ map[string]string) {
		resp.put("read_only", s.readOnlyActive())
	}},
	{[]string{"last_snapshot", "lsnp"}, true, (*Server).adminLastSnapshot},
	{[]string{"leader", "lead"}, true, func(s *Server, resp *jsonObject, _ map[string]string) {
		s.adminLeader(resp) // reconfig.go
	}},
	// Apache does not require a running server for monitor; its values
	// come from the tree, so this one does.
	{[]string{"monitor", "mntr"}, true, func(s *Server, resp *jsonObject, _ map[string]string) {
		s.monitorValues(func(key string, v any) { resp.put(key, v) })
	}},
	{[]string{"observer_connection_stat_reset", "orst"}, true, func(*Server, *jsonObject, map[string]string) {}},
	{[]string{"ruok"}, true, func(*Server, *jsonObject, map[string]string) {}},
	{[]string{"set_trace_mask", "stmk"}, false, func(_ *Server, resp *jsonObject, args map[string]string) {
		arg, ok := args["traceMask"]
		if !ok {
			resp.put("error", "setTraceMask requires long traceMask argument")
			return
		}
		mask, err := strconv.ParseInt(arg, 10, 64)
		if err != nil {
			resp.put("error", "setTraceMask requires long traceMask argument, got "+arg)
			return
		}
		traceMask.Store(mask)
		resp.put("tracemask", mask)
	}},
	{[]string{"server_stats", "srvr"}, true, func(s *Server, resp *jsonObject, _ map[string]string) {
		s.adminServerStats(resp)
	}},
	{[]string{"stats", "stat"}, true, func(s *Server, resp *jsonObject, _ map[string]string) {
		s.adminServerStats(resp)
		resp.put("connections", s.connectionInfos(true))
		resp.put("secure_connections", []any{})
	}},
	{[]string{"stat_reset", "srst"}, true, func(s *Server, _ *jsonObject, _ map[string]string) {
		s.resetServerStats(io.Discard)
	}},
	{[]string{"observers", "obsr"}, true, func(_ *Server, resp *jsonObject, _ map[string]string) {
		resp.put("synced_observers", 0)
		resp.put("observers", []any{})
	}},
	{[]string{"system_properties", "sysp"}, false, (*Server).adminSystemProperties},
	{[]string{"voting_view"}, true, func(s *Server, resp *jsonObject, _ map[string]string) {
		s.adminVotingView(resp) // reconfig.go
	}},
	{[]string{"watches", "wchc"}, true, func(s *Server, resp *jsonObject, _ map[string]string) {
		bySession := s.tree.WatchesBySession()
		out := newJSONObject()
		for _, id := range sortedKeys(bySession) {
			out.put(strconv.FormatInt(id, 10), anySlice(bySession[id]))
		}
		resp.put("session_id_to_watched_paths", out)
	}},
	{[]string{"watches_by_path", "wchp"}, true, func(s *Server, resp *jsonObject, _ map[string]string) {
		byPath := s.tree.WatchesByPath()
		out := newJSONObject()
		for _, p := range sortedKeys(byPath) {
			out.put(p, anySlice(byPath[p]))
		}
		resp.put("path_to_session_ids", out)
	}},
	{[]string{"watch_summary", "wchs"}, true, func(s *Server, resp *jsonObject, _ map[string]string) {
		st := s.tree.Stats()
		resp.put("num_connections", st.WatchingClients)
		resp.put("num_paths", st.WatchedPaths)
		resp.put("num_total_watches", st.WatchCount)
	}},
	{[]string{"zabstate"}, false, func(_ *Server, resp *jsonObject, _ map[string]string) {
		resp.put("voting", false)
		resp.put("zabstate", "")
	}},
}

// adminByName finds a command by any of its names.
var adminByName = sync.OnceValue(func() map[string]*adminCommand {
	m := make(map[string]*adminCommand)
	for i := range adminCommands {
		for _, n := range adminCommands[i].names {
			m[n] = &adminCommands[i]
		}
	}
	return m
})

func adminPrimaryNames() []string {
	names := make([]string, 0, len(adminCommands))
	for _, c := range adminCommands {
		names = append(names, c.names[0])
	}
	slices.Sort(names)
	return names
}

// runAdminCommand runs the command called name and returns Apache's
// CommandResponse map: the command's keys, then "command" and "error"
// unless the command set them.
func (s *Server) runAdminCommand(name string, args map[string]string) *jsonObject {
	resp := newJSONObject()
	cmd, ok := adminByName()[name]
	switch {
	case !ok:
		resp.put("command", name)
		resp.put("error", "Unknown command: "+name)
		return resp
	case cmd.serverRequired && (!s.running.Load() || !s.serving.Load() && !s.readOnlyActive()):
		resp.put("command", name)
		resp.put("error", "This ZooKeeper instance is not currently serving requests")
		return resp
	}
	cmd.run(s, resp, args)
	if !resp.has("command") {
		resp.put("command", cmd.names[0])
	}
	if !resp.has("error") {
		resp.put("error", nil)
	}
	return resp
}

// adminConf is ZooKeeperServerConf.toMap.
func (s *Server) adminConf(resp *jsonObject, _ map[string]string) {
	resp.put("client_port", s.clientPort())
	resp.put("data_dir", s.snapDir())
	resp.put("data_log_dir", s.logDir())
	resp.put("tick_time", s.cfg.TickTime)
	resp.put("max_client_cnxns", s.cfg.MaxClientCnxns)
	resp.put("min_session_timeout", s.minSessionTimeout())
	resp.put("max_session_timeout", s.maxSessionTimeout())
	resp.put("server_id", s.cfg.MyID)
	resp.put("client_port_listen_backlog", s.cfg.ClientPortListenBacklog)
}

// adminServerStats writes srvr's keys: the version, the ServerStats bean
// and the node count. Response sizes are not tracked: -1, Apache's value
// before any response (as mntr's).
func (s *Server) adminServerStats(resp *jsonObject) {
	clientResponse := func() *jsonObject {
		o := newJSONObject()
		o.put("last_buffer_size", -1)
		o.put("min_buffer_size", -1)
		o.put("max_buffer_size", -1)
		return o
	}
	lat := s.stats.snapshot()
	st := newJSONObject()
	st.put("packets_sent", s.stats.sent.Load())
	st.put("packets_received", s.stats.received.Load())
	st.put("fsync_threshold_exceed_count", 0)
	st.put("client_response_stats", clientResponse())
	st.put("data_dir_size", dirSize(s.snapDir()))
	st.put("log_dir_size", dirSize(s.logDir()))
	st.put("provider_null", false)
	st.put("server_state", s.mode())
	st.put("last_processed_zxid", s.tree.LastZxid())
	st.put("outstanding_requests", s.outstanding())
	st.put("avg_latency", roundHalfUp4(lat.avg()))
	st.put("max_latency", lat.max)
	st.put("min_latency", lat.min)
	st.put("num_alive_client_connections", len(s.connections()))
	st.put("uptime", time.Since(s.started).Milliseconds())
	st.put("auth_failed_count", 0)
	st.put("non_mtlsremote_conn_count", 0)
	st.put("non_mtlslocal_conn_count", 0)

	resp.put("version", Version)
	resp.put("read_only", s.readOnlyActive())
	resp.put("server_stats", st)
	resp.put("client_response", clientResponse())
	resp.put("node_count", s.tree.Stats().NodeCount)
}

// connectionInfos lists the connections as ServerCnxn.getConnectionInfo,
// oldest first; brief is stat's short form.
func (s *Server) connectionInfos(brief bool) []any {
	out := []any{}
	for _, c := range s.connectionsByAge() {
		ci := c.info()
		o := newJSONObject()
		o.put("remote_socket_address", jacksonSocketAddr(c.nc.RemoteAddr()))
		o.put("interest_ops", ci.interestOps)
		o.put("outstanding_requests", ci.queued)
		o.put("packets_received", ci.received)
		o.put("packets_sent", ci.sent)
		if !brief {
			o.put("session_id", ci.session)
			o.put("last_operation", ci.lastOp)
			o.put("established", ci.created.UnixMilli())
			o.put("session_timeout", ci.timeout)
			o.put("last_cxid", ci.lastCxid)
			o.put("last_zxid", ci.lastZxid)
			o.put("last_response_time", ci.lastResp)
			o.put("last_latency", ci.lastLatency)
			o.put("min_latency", ci.minLatency)
			o.put("avg_latency", ci.avgLatency)
			o.put("max_latency", ci.maxLatency)
		}
		out = append(out, o)
	}
	return out
}

// adminDump is dump's JSON form: the sessions by expiry time, Apache's
// ExpiryQueue buckets (ms on the elapsed-time clock, rounded up to the
// next tick), and the ephemeral nodes by session.
func (s *Server) adminDump(resp *jsonObject, _ map[string]string) {
	tick := int64(s.cfg.TickTime)
	if tick <= 0 {
		tick = 1
	}
	buckets := make(map[int64][]int64)
	for _, e := range s.sessions.expiries() {
		at := (elapsedMs(e.deadline)/tick + 1) * tick
		buckets[at] = append(buckets[at], e.id)
	}
	expiry := newJSONObject()
	for _, at := range sortedKeys(buckets) {
		ids := buckets[at]
		slices.Sort(ids)
		expiry.put(strconv.FormatInt(at, 10), anySlice(ids))
	}
	eph := s.tree.EphemeralsBySession()
	ephemerals := newJSONObject()
	for _, id := range sortedKeys(eph) {
		ephemerals.put(strconv.FormatInt(id, 10), anySlice(eph[id]))
	}
	resp.put("expiry_time_to_session_ids", expiry)
	resp.put("session_id_to_ephemeral_paths", ephemerals)
}

// adminLastSnapshot reports the newest snapshot on disk: its zxid in hex
// and its modification time in seconds, or "ffffffffffffffff" and -1
// without one, as Apache's SnapshotInfo.
func (s *Server) adminLastSnapshot(resp *jsonObject, _ map[string]string) {
	zxid, stamp := int64(-1), int64(-1)
	ents, _ := os.ReadDir(s.snapshotDir())
	for _, e := range ents {
		hexZxid, ok := strings.CutPrefix(e.Name(), "snapshot.")
		if !ok || !e.Type().IsRegular() {
			continue
		}
		z, err := strconv.ParseUint(hexZxid, 16, 63)
		if err != nil || int64(z) <= zxid {
			continue
		}
		if fi, err := e.Info(); err == nil {
			zxid, stamp = int64(z), fi.ModTime().Unix()
		}
	}
	resp.put("zxid", hexID(zxid))
	resp.put("timestamp", stamp)
}

// initialConfiguration is the text of zoo.cfg as the server started with
// it (nil without a file), as Apache's initial_configuration.
func (s *Server) initialConfiguration() any {
	s.web.initialOnce.Do(func() {
		if s.cfg.File == "" {
			return
		}
		if b, err := os.ReadFile(s.cfg.File); err == nil {
			s.web.initialConfig = string(b)
		}
	})
	return s.web.initialConfig
}

// adminSystemProperties lists the system properties, sorted: the Java
// properties that have a Go equivalent (as envi reports them), then every
// -D flag and zookeeper.* property of the configuration, which win.
func (s *Server) adminSystemProperties(resp *jsonObject, _ map[string]string) {
	props := make(map[string]string)
	for _, kv := range s.environment() {
		key, value := kv[0], kv[1]
		isProperty := strings.HasPrefix(key, "java.") || strings.HasPrefix(key, "user.") ||
			strings.HasPrefix(key, "os.") && !strings.HasPrefix(key, "os.memory.")
		if isProperty && value != "<NA>" {
			props[key] = value
		}
	}
	props["file.encoding"] = "UTF-8"
	props["file.separator"] = string(filepath.Separator)
	props["line.separator"] = "\n"
	props["path.separator"] = string(filepath.ListSeparator)
	for k, v := range s.cfg.Properties {
		props[k] = v
	}
	for _, k := range sortedKeys(props) {
		resp.put(k, props[k])
	}
}

// jacksonSocketAddr formats a socket address as Jackson serializes Java's
// InetSocketAddress: "127.0.0.1:53412", "[0:0:0:0:0:0:0:1]:53412".
func jacksonSocketAddr(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	host := javaIP(ta.IP, ta.Zone)
	if ta.IP.To4() == nil {
		host = "[" + host + "]"
	}
	return host + ":" + strconv.Itoa(ta.Port)
}

func sortedKeys[K int64 | string, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func anySlice[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

// jsonObject is a JSON object that keeps its keys in insertion order, as
// the LinkedHashMaps of Apache's responses; put on an existing key keeps
// its place.
type jsonObject struct {
	keys []string
	vals map[string]any
}

func newJSONObject() *jsonObject { return &jsonObject{vals: make(map[string]any)} }

func (o *jsonObject) put(key string, v any) {
	if _, ok := o.vals[key]; !ok {
		o.keys = append(o.keys, key)
	}
	o.vals[key] = v
}

func (o *jsonObject) has(key string) bool {
	_, ok := o.vals[key]
	return ok
}

// encode writes o as Apache's admin server does (Jackson's default pretty
// printer): two-space indented objects with " : " after keys, arrays on
// one line as "[ a, b ]", "{ }" and "[ ]" when empty, doubles as Java
// prints them, no final newline.
func (o *jsonObject) encode() []byte {
	var b bytes.Buffer
	writeJackson(&b, o, 0)
	return b.Bytes()
}

// writeJackson writes v at the given object nesting depth. Values are
// nil, bool, integers, float64, string, []any and *jsonObject.
func writeJackson(b *bytes.Buffer, v any, depth int) {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case int:
		b.WriteString(strconv.Itoa(v))
	case int32:
		b.WriteString(strconv.FormatInt(int64(v), 10))
	case int64:
		b.WriteString(strconv.FormatInt(v, 10))
	case uint64:
		b.WriteString(strconv.FormatUint(v, 10))
	case float64:
		s := javaDouble(v)
		if strings.ContainsAny(s, "NI") { // NaN, Infinity: Jackson quotes them
			writeJacksonString(b, s)
		} else {
			b.WriteString(s)
		}
	case string:
		writeJacksonString(b, v)
	case []any:
		if len(v) == 0 {
			b.WriteString("[ ]")
			return
		}
		b.WriteString("[ ")
		for i, x := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			writeJackson(b, x, depth)
		}
		b.WriteString(" ]")
	case *jsonObject:
		if len(v.keys) == 0 {
			b.WriteString("{ }")
			return
		}
		b.WriteByte('{')
		for i, k := range v.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
			writeIndent(b, depth+1)
			writeJacksonString(b, k)
			b.WriteString(" : ")
			writeJackson(b, v.vals[k], depth+1)
		}
		b.WriteByte('\n')
		writeIndent(b, depth)
		b.WriteByte('}')
	default:
		panic(fmt.Sprintf("server: admin response value of type %T", v))
	}
}

func writeIndent(b *bytes.Buffer, depth int) {
	for range depth {
		b.WriteString("  ")
	}
}

// writeJacksonString quotes s as Jackson does: '"' and '\\' escaped,
// control characters as \b \t \n \f \r or \u00XX, everything else as is.
func writeJacksonString(b *bytes.Buffer, s string) {
	const hexDigits = "0123456789ABCDEF"
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\b':
			b.WriteString(`\b`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\f':
			b.WriteString(`\f`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if c < 0x20 {
				b.WriteString(`\u00`)
				b.WriteByte(hexDigits[c>>4])
				b.WriteByte(hexDigits[c&0xf])
			} else {
				b.WriteByte(c)
			}
		}
	}
	b.WriteByte('"')
}
