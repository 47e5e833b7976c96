package server

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/zkgo/zkgo/wire"
)

// fourLetterWords maps each four-letter word to the function writing its
// answer; in holds the bytes the client sent after the word (stmk reads
// its mask from it). The outputs are Apache ZooKeeper's, byte for byte
// where the values allow, since tools parse them.
var fourLetterWords = map[string]func(s *Server, w io.Writer, in io.Reader) error{
	"ruok": plain(func(_ *Server, w io.Writer) { io.WriteString(w, "imok") }),
	"isro": plain((*Server).writeIsReadOnly),
	"srvr": plain(func(s *Server, w io.Writer) { s.writeStat(w, false) }),
	"stat": plain(func(s *Server, w io.Writer) { s.writeStat(w, true) }),
	"mntr": plain((*Server).writeMonitor),
	"conf": plain((*Server).writeConf),
	"envi": plain((*Server).writeEnv),
	"cons": plain((*Server).writeConnections),
	"crst": plain((*Server).resetConnectionStats),
	"srst": plain((*Server).resetServerStats),
	"wchs": plain((*Server).writeWatchSummary),
	"wchc": plain((*Server).writeWatchesBySession),
	"wchp": plain((*Server).writeWatchesByPath),
	"dirs": plain((*Server).writeDirs),
	"dump": plain((*Server).writeDump),
	"hash": plain((*Server).writeDigests),
	"gtmk": plain(func(s *Server, w io.Writer) { io.WriteString(w, strconv.FormatInt(s.traceMask.Load(), 10)) }),
	"stmk": setTraceMask,
}

func plain(f func(*Server, io.Writer)) func(*Server, io.Writer, io.Reader) error {
	return func(s *Server, w io.Writer, _ io.Reader) error { f(s, w); return nil }
}

func isFourLetterWord(cmd string) bool {
	_, ok := fourLetterWords[cmd]
	return ok
}

// stmkArgWait bounds the wait for stmk's 8-byte mask.
const stmkArgWait = time.Second

// serveFourLetterFrom answers the four-letter word cmd on nc; in yields
// the bytes the client sent after the word.
func (s *Server) serveFourLetterFrom(nc net.Conn, in io.Reader, cmd string) {
	// A word's argument (stmk's mask) must follow it promptly.
	nc.SetReadDeadline(time.Now().Add(2 * time.Second))
	nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	// Apache counts the word as a packet received, and its answer as a
	// packet sent once written; the connection shows in cons and stat
	// meanwhile, with recved=1.
	s.stats.received.Add(1)
	if c := s.connByNetConn(nc); c != nil {
		c.stats.received.Add(1)
		c.fourLetter.Store(true)
		defer c.fourLetter.Store(false)
	}
	var b strings.Builder
	if !s.cfg.FourLetterWordEnabled(cmd) {
		fmt.Fprintf(&b, "%s is not executed because it is not in the whitelist.\n", cmd)
	} else if s.quorum != nil && !s.serving.Load() && !s.readOnlyActive() && needsServing[cmd] {
		b.WriteString(notServingMsg)
	} else if err := fourLetterWords[cmd](s, &b, in); err != nil {
		return // as Apache: no answer, the connection is closed
	}
	io.WriteString(nc, b.String())
	s.stats.sent.Add(1)
}

// setTraceMask (stmk) reads a big-endian 64-bit mask after the word, sets
// it and echoes it in decimal.
func setTraceMask(s *Server, w io.Writer, in io.Reader) error {
	if nc, ok := in.(net.Conn); ok {
		nc.SetReadDeadline(time.Now().Add(stmkArgWait))
	}
	var arg [8]byte
	if _, err := io.ReadFull(in, arg[:]); err != nil {
		return err
	}
	mask := int64(binary.BigEndian.Uint64(arg[:]))
	s.traceMask.Store(mask)
	io.WriteString(w, strconv.FormatInt(mask, 10))
	return nil
}

// mode is the server state as srvr's "Mode:" line names it: standalone,
// or leader, follower, observer or read-only in an ensemble.
func (s *Server) mode() string {
	if s.quorum == nil {
		return "standalone"
	}
	if s.readOnlyActive() {
		return "read-only"
	}
	return modeName(s.quorum.state.Load().role)
}

// writeIsReadOnly answers isro as Apache's IsroCommand: "ro" in read-only
// mode, "null" while an ensemble server serves no clients, else "rw".
func (s *Server) writeIsReadOnly(w io.Writer) {
	switch {
	case s.readOnlyActive():
		io.WriteString(w, "ro")
	case s.quorum != nil && !s.serving.Load():
		io.WriteString(w, "null")
	default:
		io.WriteString(w, "rw")
	}
}

// notServingMsg is how Apache ZooKeeper answers the words that need a
// running server while it has none (an ensemble server without a leader).
const notServingMsg = "This ZooKeeper instance is not currently serving requests\n"

// needsServing are the words answered with notServingMsg then.
var needsServing = map[string]bool{
	"srvr": true, "stat": true, "mntr": true, "cons": true, "crst": true, "srst": true,
	"conf": true, "dump": true, "wchs": true, "wchc": true, "wchp": true, "dirs": true, "hash": true,
}

// writeStat writes srvr (and, with clients, stat): ServerStats.toString
// plus the node count.
func (s *Server) writeStat(w io.Writer, withClients bool) {
	fmt.Fprintf(w, "Zookeeper version: %s\n", Version)
	if s.readOnlyActive() {
		io.WriteString(w, "READ-ONLY mode; serving only read-only clients\n")
	}
	if withClients {
		io.WriteString(w, "Clients:\n")
		for _, c := range s.connectionsByAge() {
			writeConnInfo(w, c.info(), true)
			io.WriteString(w, "\n")
		}
		io.WriteString(w, "\n")
	}
	lat := s.stats.snapshot()
	fmt.Fprintf(w, "Latency min/avg/max: %d/%s/%d\n", lat.min, javaDouble(roundHalfUp4(lat.avg())), lat.max)
	fmt.Fprintf(w, "Received: %d\n", s.stats.received.Load())
	fmt.Fprintf(w, "Sent: %d\n", s.stats.sent.Load())
	fmt.Fprintf(w, "Connections: %d\n", len(s.connections()))
	fmt.Fprintf(w, "Outstanding: %d\n", s.outstanding())
	fmt.Fprintf(w, "Zxid: 0x%s\n", hexID(s.tree.LastZxid()))
	fmt.Fprintf(w, "Mode: %s\n", s.mode())
	fmt.Fprintf(w, "Node count: %d\n", s.tree.Stats().NodeCount)
	if s.quorum != nil && s.quorum.leading() {
		q := s.quorum
		fmt.Fprintf(w, "Proposal sizes last/min/max: %d/%d/%d\n", q.propLast.Load(), q.propMin.Load(), q.propMax.Load())
	}
}

// writeConnInfo writes one connection as ServerCnxn.dumpConnectionInfo:
//
//	/127.0.0.1:53412[1](queued=0,recved=5,sent=5,sid=0x...,lop=PING,est=...,to=30000,lcxid=0x3,lzxid=0x...,lresp=...,llat=0,minlat=0,avglat=0,maxlat=0)
//
// The brief form (stat) stops after sent; a connection without a session
// has no more either.
func writeConnInfo(w io.Writer, ci connInfo, brief bool) {
	fmt.Fprintf(w, " %s[%x](queued=%d,recved=%d,sent=%d", ci.remote, ci.interestOps, ci.queued, ci.received, ci.sent)
	if !brief && ci.session != 0 {
		fmt.Fprintf(w, ",sid=0x%s,lop=%s,est=%d,to=%d", hexID(ci.session), ci.lastOp, ci.created.UnixMilli(), ci.timeout)
		if ci.lastCxid >= 0 {
			fmt.Fprintf(w, ",lcxid=0x%s", hexID(ci.lastCxid))
		}
		fmt.Fprintf(w, ",lzxid=0x%s,lresp=%d,llat=%d,minlat=%d,avglat=%d,maxlat=%d",
			hexID(ci.lastZxid), ci.lastResp, ci.lastLatency, ci.minLatency, ci.avgLatency, ci.maxLatency)
	}
	io.WriteString(w, ")")
}

// consOpName is the short name cons prints as a connection's last
// operation (lop), as Apache's FinalRequestProcessor records it. A write
// that failed as a whole is recorded as "NA" there (its txn is an error
// txn); pass its error code to get the same.
func consOpName(op wire.OpCode, err wire.ErrCode) string {
	if err != wire.ErrOK && op.IsWrite() && op != wire.OpMulti {
		return "NA"
	}
	switch op {
	case wire.OpPing:
		return "PING"
	case wire.OpCreateSession:
		return "SESS"
	case wire.OpMulti:
		return "MULT"
	case wire.OpMultiRead:
		return "MLTR"
	case wire.OpCreate, wire.OpCreate2, wire.OpCreateTTL, wire.OpCreateContainer:
		return "CREA"
	case wire.OpDelete, wire.OpDeleteContainer:
		return "DELE"
	case wire.OpSetData:
		return "SETD"
	case wire.OpReconfig:
		return "RECO"
	case wire.OpSetACL:
		return "SETA"
	case wire.OpCloseSession:
		return "CLOS"
	case wire.OpSync:
		return "SYNC"
	case wire.OpCheck:
		return "CHEC"
	case wire.OpExists:
		return "EXIS"
	case wire.OpGetData:
		return "GETD"
	case wire.OpSetWatches:
		return "SETW"
	case wire.OpSetWatches2:
		return "STW2"
	case wire.OpAddWatch:
		return "ADDW"
	case wire.OpGetACL:
		return "GETA"
	case wire.OpGetChildren, wire.OpGetChildren2:
		return "GETC"
	case wire.OpGetAllChildrenNumber:
		return "GETACN"
	case wire.OpCheckWatches:
		return "CHKW"
	case wire.OpRemoveWatches:
		return "REMW"
	case wire.OpWhoAmI:
		return "HOMI"
	case wire.OpGetEphemerals:
		return "GETE"
	}
	return "NA"
}

// writeConnections (cons) writes every connection in full, then a blank
// line.
func (s *Server) writeConnections(w io.Writer) {
	for _, c := range s.connectionsByAge() {
		writeConnInfo(w, c.info(), false)
		io.WriteString(w, "\n")
	}
	io.WriteString(w, "\n")
}

// resetConnectionStats (crst) resets every connection's counters.
func (s *Server) resetConnectionStats(w io.Writer) {
	for _, c := range s.connections() {
		c.stats.reset()
	}
	io.WriteString(w, "Connection stats reset.\n")
}

// resetServerStats (srst) resets the latency and packet counters.
func (s *Server) resetServerStats(w io.Writer) {
	s.stats.reset()
	io.WriteString(w, "Server stats reset.\n")
}

// writeConf (conf) writes ZooKeeperServer.dumpConf: the standalone
// server's settings.
func (s *Server) writeConf(w io.Writer) {
	cfg := s.cfg
	fmt.Fprintf(w, "clientPort=%d\n", s.clientPort())
	// Apache prints the port of its TLS listener, -1 without one; this
	// server does not serve TLS.
	fmt.Fprintf(w, "secureClientPort=%d\n", -1)
	fmt.Fprintf(w, "dataDir=%s\n", s.snapDir())
	fmt.Fprintf(w, "dataDirSize=%d\n", dirSize(s.snapDir()))
	fmt.Fprintf(w, "dataLogDir=%s\n", s.logDir())
	fmt.Fprintf(w, "dataLogSize=%d\n", dirSize(s.logDir()))
	fmt.Fprintf(w, "tickTime=%d\n", cfg.TickTime)
	fmt.Fprintf(w, "maxClientCnxns=%d\n", cfg.MaxClientCnxns)
	fmt.Fprintf(w, "minSessionTimeout=%d\n", s.minSessionTimeout())
	fmt.Fprintf(w, "maxSessionTimeout=%d\n", s.maxSessionTimeout())
	fmt.Fprintf(w, "clientPortListenBacklog=%d\n", cfg.ClientPortListenBacklog)
	fmt.Fprintf(w, "serverId=%d\n", cfg.MyID)
	if s.quorum != nil {
		s.quorum.writeQuorumConf(w) // reconfig.go
	}
}

// writeDirs (dirs) writes the sizes of the snapshot and log directories.
func (s *Server) writeDirs(w io.Writer) {
	fmt.Fprintf(w, "datadir_size: %d\n", dirSize(s.snapDir()))
	fmt.Fprintf(w, "logdir_size: %d\n", dirSize(s.logDir()))
}

// writeEnv (envi) writes Apache's Environment list.
func (s *Server) writeEnv(w io.Writer) {
	io.WriteString(w, "Environment:\n")
	for _, kv := range s.environment() {
		fmt.Fprintf(w, "%s=%s\n", kv[0], kv[1])
	}
}

// environment is Apache's Environment list (envi and the admin command
// environment), in its order. The java.* keys stay, since tools look for
// them, with the Go runtime's equivalents; "<NA>" marks a value that does
// not exist, as in Apache.
func (s *Server) environment() [][2]string {
	const na = "<NA>"
	or := func(v string) string {
		if v == "" {
			return na
		}
		return v
	}
	exe, _ := os.Executable()
	home, _ := os.UserHomeDir()
	wd, _ := os.Getwd()
	javaHome := ""
	if exe != "" {
		javaHome = filepath.Dir(exe)
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	const mb = 1 << 20
	committed := m.HeapSys - m.HeapReleased
	free := uint64(0)
	if committed > m.HeapAlloc {
		free = committed - m.HeapAlloc
	}
	return [][2]string{
		{"zookeeper.version", Version},
		{"host.name", canonicalHostName()},
		{"java.version", runtime.Version()},
		{"java.vendor", "The Go Authors"},
		{"java.home", or(javaHome)},
		{"java.class.path", or(exe)},
		{"java.library.path", or(os.Getenv("LD_LIBRARY_PATH"))},
		{"java.io.tmpdir", os.TempDir()},
		{"java.compiler", na},
		{"os.name", javaOSName()},
		{"os.arch", javaOSArch()},
		{"os.version", or(osVersion())},
		{"user.name", or(userName())},
		{"user.home", or(home)},
		{"user.dir", or(wd)},
		{"os.memory.free", strconv.FormatUint(free/mb, 10) + "MB"},
		{"os.memory.max", strconv.FormatInt(memoryLimit()/mb, 10) + "MB"},
		{"os.memory.total", strconv.FormatUint(committed/mb, 10) + "MB"},
	}
}

// memoryLimit is the most memory the runtime will use: GOMEMLIMIT if set,
// else the machine's memory (Java's maxMemory is likewise bounded by it).
func memoryLimit() int64 {
	limit := debug.SetMemoryLimit(-1)
	if limit != math.MaxInt64 {
		return limit
	}
	if total := physicalMemory(); total > 0 {
		return total
	}
	return limit
}

// canonicalHostName is Java's InetAddress.getLocalHost().getCanonicalHostName():
// the host name, resolved to an address and back to its full name.
var canonicalHostName = sync.OnceValue(func() string {
	host, err := os.Hostname()
	if err != nil {
		return "<NA>"
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupHost(ctx, host)
	if err != nil || len(addrs) == 0 {
		return host
	}
	names, err := net.DefaultResolver.LookupAddr(ctx, addrs[0])
	if err != nil || len(names) == 0 {
		return host
	}
	return strings.TrimSuffix(names[0], ".")
})

// javaOSName and javaOSArch name the system as Java's os.name and os.arch.
func javaOSName() string {
	switch runtime.GOOS {
	case "linux":
		return "Linux"
	case "darwin":
		return "Mac OS X"
	case "windows":
		return "Windows"
	case "freebsd":
		return "FreeBSD"
	case "openbsd":
		return "OpenBSD"
	case "netbsd":
		return "NetBSD"
	case "solaris", "illumos":
		return "SunOS"
	case "aix":
		return "AIX"
	}
	return runtime.GOOS
}

func javaOSArch() string {
	switch runtime.GOARCH {
	case "arm64":
		return "aarch64"
	case "386":
		return "x86"
	}
	return runtime.GOARCH
}

// osVersion is the kernel release (Java's os.version), "" if unknown.
func osVersion() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func userName() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return os.Getenv("USER")
}

// writeWatchSummary (wchs) writes WatchManager.toString for the data
// watches, then a newline.
func (s *Server) writeWatchSummary(w io.Writer) {
	st := s.tree.Stats()
	fmt.Fprintf(w, "%d connections watching %d paths\nTotal watches:%d\n",
		st.WatchingClients, st.WatchedPaths, st.WatchCount)
}

// writeWatchesBySession (wchc) writes each watching session and its
// paths, then a blank line.
func (s *Server) writeWatchesBySession(w io.Writer) {
	bySession := s.tree.WatchesBySession()
	ids := make([]int64, 0, len(bySession))
	for id := range bySession {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		fmt.Fprintf(w, "0x%s\n", hexID(id))
		for _, p := range bySession[id] {
			fmt.Fprintf(w, "\t%s\n", p)
		}
	}
	io.WriteString(w, "\n")
}

// writeWatchesByPath (wchp) writes each watched path and its sessions,
// then a blank line.
func (s *Server) writeWatchesByPath(w io.Writer) {
	byPath := s.tree.WatchesByPath()
	paths := make([]string, 0, len(byPath))
	for p := range byPath {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		fmt.Fprintf(w, "%s\n", p)
		for _, id := range byPath[p] {
			fmt.Fprintf(w, "\t0x%s\n", hexID(id))
		}
	}
	io.WriteString(w, "\n")
}

// connectionExpiryInterval is the bucket width of Apache's connection
// expiry queue (zookeeper.nio.sessionlessCnxnTimeout, default 10 s).
const connectionExpiryInterval = 10000

// writeDump (dump) writes the session expiry queue, the ephemeral nodes
// per session and the connection expiry queue.
func (s *Server) writeDump(w io.Writer) {
	io.WriteString(w, "SessionTracker dump:\n")
	var sessions []expiring
	for _, e := range s.sessions.expiries() {
		sessions = append(sessions, expiring{e.deadline, "0x" + hexID(e.id), e.id})
	}
	io.WriteString(w, "Session ")
	writeExpirySets(w, sessions, int64(s.cfg.TickTime))

	io.WriteString(w, "ephemeral nodes dump:\n")
	eph := s.tree.EphemeralsBySession()
	ids := make([]int64, 0, len(eph))
	for id := range eph {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	fmt.Fprintf(w, "Sessions with Ephemerals (%d):\n", len(ids))
	for _, id := range ids {
		fmt.Fprintf(w, "0x%s:\n", hexID(id))
		for _, p := range eph[id] {
			fmt.Fprintf(w, "\t%s\n", p)
		}
	}

	io.WriteString(w, "Connections dump:\n")
	var conns []expiring
	for _, c := range s.connectionsByAge() {
		ci := c.info()
		timeout := int64(ci.timeout)
		if ci.session == 0 {
			timeout = connectionExpiryInterval // Apache's sessionless connection timeout
		}
		deadline := ci.lastActive.Add(time.Duration(timeout) * time.Millisecond)
		conns = append(conns, expiring{deadline,
			fmt.Sprintf("ip: %s sessionId: 0x%s", ci.remote, hexID(ci.session)), ci.created.UnixNano()})
	}
	io.WriteString(w, "Connections ")
	writeExpirySets(w, conns, connectionExpiryInterval)
}

// expiring is an element of an expiry queue.
type expiring struct {
	deadline time.Time
	label    string
	order    int64 // sorts the elements of one set
}

// writeExpirySets writes elements grouped as Apache's ExpiryQueue.dump:
// each deadline rounded up to the next multiple of interval (ms), the
// groups in time order.
func writeExpirySets(w io.Writer, elems []expiring, interval int64) {
	if interval <= 0 {
		interval = 1
	}
	sets := make(map[int64][]expiring)
	for _, e := range elems {
		at := (e.deadline.UnixMilli()/interval + 1) * interval
		sets[at] = append(sets[at], e)
	}
	times := make([]int64, 0, len(sets))
	for at := range sets {
		times = append(times, at)
	}
	slices.Sort(times)
	fmt.Fprintf(w, "Sets (%d)/(%d):\n", len(sets), len(elems))
	for _, at := range times {
		set := sets[at]
		slices.SortFunc(set, func(a, b expiring) int { return cmp.Compare(a.order, b.order) })
		fmt.Fprintf(w, "%d expire at %s:\n", len(set), javaDate(time.UnixMilli(at)))
		for _, e := range set {
			fmt.Fprintf(w, "\t%s\n", e.label)
		}
	}
}

// javaDate formats t as Java's Date.toString: "Sun Nov 22 04:06:29 UTC 2026".
func javaDate(t time.Time) string { return t.Format("Mon Jan 02 15:04:05 MST 2006") }

// writeDigests (hash) writes the recent tree digests. Apache keeps one
// every 128 zxids when zookeeper.digest.enabled is set; this server does
// not compute digests, so the answer is empty, as Apache's without any.
func (s *Server) writeDigests(io.Writer) {}

// Kinds of mntr metric, after Apache's metrics types.
const (
	mntrGauge       = iota // one value
	mntrCounter            // one value
	mntrSummary            // avg_, min_, max_, cnt_, sum_
	mntrPercentiles        // a summary plus p50_, p95_, p99_, p999_
)

// mntrMetrics are the keys (without "zk_") of Apache ZooKeeper 3.8's
// standalone mntr after zk_version and zk_server_state, by kind, in the
// order it prints them. Values this server does not track are 0 (gauges:
// see monitorGauges).
var mntrMetrics = []struct {
	kind  int
	names []string
}{
	{mntrGauge, []string{
		"ephemerals_count", "num_alive_connections", "avg_latency", "outstanding_requests",
		"znode_count", "global_sessions", "non_mtls_remote_conn_count", "last_client_response_size",
		"packets_sent", "packets_received", "max_client_response_size", "connection_drop_probability",
		"watch_count", "auth_failed_count", "min_latency", "max_file_descriptor_count",
		"approximate_data_size", "open_file_descriptor_count", "local_sessions", "uptime",
		"max_latency", "outstanding_tls_handshake", "min_client_response_size", "non_mtls_local_conn_count",
	}},
	{mntrCounter, []string{
		"proposal_count", "watch_bytes", "outstanding_changes_removed", "throttled_ops",
		"stale_requests_dropped", "large_requests_rejected", "insecure_admin_count", "connection_rejected",
		"cnxn_closed_without_zk_server_running", "sessionless_connections_expired", "looking_count",
		"dead_watchers_queued", "stale_requests", "connection_drop_count", "learner_proposal_received_count",
		"digest_mismatches_count", "dead_watchers_cleared", "response_packet_cache_hits",
		"bytes_received_count", "add_dead_watcher_stall_time", "request_throttle_wait_count",
		"requests_not_forwarded_to_commit_processor", "response_packet_cache_misses",
		"ensemble_auth_success", "prep_processor_request_queued", "learner_commit_received_count",
		"stale_replies", "connection_request_count", "response_bytes", "ensemble_auth_fail", "diff_count",
		"response_packet_get_children_cache_misses", "connection_revalidate_count",
		"quit_leading_due_to_disloyal_voter", "snap_count", "unrecoverable_error_count",
		"unsuccessful_handshake", "commit_count", "stale_sessions_expired",
		"response_packet_get_children_cache_hits", "sync_processor_request_queued",
		"outstanding_changes_queued", "request_commit_queued", "ensemble_auth_skip",
		"skip_learner_request_to_next_processor_count", "tls_handshake_exceeded", "revalidate_count",
	}},
	{mntrSummary, []string{
		"socket_closing_time", "proposal_process_time", "leader_unavailable_time",
		"node_created_watch_count", "session_queues_drained", "write_commit_proc_req_queued",
		"connection_token_deficit", "read_commit_proc_req_queued", "node_deleted_watch_count",
		"startup_txns_load_time", "sync_processor_queue_size", "follower_sync_time",
		"prep_processor_queue_size", "fsynctime", "inflight_snap_count", "reads_issued_from_session_queue",
		"learner_request_processor_queue_size", "snapshottime", "unavailable_time", "startup_txns_loaded",
		"reads_after_write_in_session_queue", "requests_in_session_queue", "write_commit_proc_issued",
		"prep_process_time", "pending_session_queue_size",
		"time_waiting_empty_pool_in_commit_processor_read_ms", "commit_process_time", "dbinittime",
		"inflight_diff_count", "netty_queued_buffer_capacity", "election_time",
		"commit_commit_proc_req_queued", "sync_processor_batch_size", "node_children_watch_count",
		"write_batch_time_in_commit_processor", "read_commit_proc_issued",
		"concurrent_request_processing_in_commit_processor", "observer_sync_time",
		"node_changed_watch_count", "sync_process_time", "startup_snap_load_time",
	}},
	{mntrPercentiles, []string{
		"prep_processor_queue_time_ms", "jvm_pause_time_ms", "close_session_prep_time",
		"read_commitproc_time_ms", "updatelatency", "local_write_committed_time_ms",
		"request_throttle_queue_time_ms", "readlatency", "quorum_ack_latency", "om_commit_process_time_ms",
		"read_final_proc_time_ms", "commit_propagation_latency", "dead_watchers_cleaner_latency",
		"write_final_proc_time_ms", "proposal_ack_creation_latency", "proposal_latency",
		"om_proposal_process_time_ms", "sync_processor_queue_and_flush_time_ms", "propagation_latency",
		"server_write_committed_time_ms", "sync_processor_queue_time_ms",
		"sync_processor_queue_flush_time_ms", "write_commitproc_time_ms",
	}},
}

// mntrGaugesEnd is the last standalone gauge mntr prints.
var mntrGaugesEnd = mntrMetrics[0].names[len(mntrMetrics[0].names)-1]

// monitorGauges are the gauge values this server knows. Integers print as
// integers, float64 as Java doubles.
func (s *Server) monitorGauges() map[string]any {
	st := s.tree.Stats()
	lat := s.stats.snapshot()
	uptime := int64(0)
	if !s.started.IsZero() {
		uptime = time.Since(s.started).Milliseconds()
	}
	g := map[string]any{
		"ephemerals_count":            st.EphemeralCount,
		"num_alive_connections":       len(s.connections()),
		"avg_latency":                 roundHalfUp4(lat.avg()),
		"outstanding_requests":        s.outstanding(),
		"znode_count":                 st.NodeCount,
		"global_sessions":             s.sessions.count(),
		"local_sessions":              s.sessions.countLocal(),
		"packets_sent":                s.stats.sent.Load(),
		"packets_received":            s.stats.received.Load(),
		"connection_drop_probability": 0.0,
		"watch_count":                 st.AllWatches,
		"min_latency":                 lat.min,
		"max_file_descriptor_count":   maxFileDescriptors(),
		"approximate_data_size":       st.ApproxDataSize,
		"open_file_descriptor_count":  openFileDescriptors(),
		"uptime":                      uptime,
		"max_latency":                 lat.max,
		// Response sizes are not tracked: Apache's value before any
		// response.
		"last_client_response_size": -1,
		"max_client_response_size":  -1,
		"min_client_response_size":  -1,
	}
	if s.quorum != nil {
		s.quorum.monitorGauges(g)
	}
	return g
}

// writeMonitor (mntr) writes "zk_<key>\t<value>" lines, as Apache.
func (s *Server) writeMonitor(w io.Writer) {
	s.monitorValues(func(key string, v any) {
		var val string
		switch v := v.(type) {
		case float64:
			val = javaDouble(v)
		case string:
			val = v
		default:
			val = fmt.Sprint(v)
		}
		fmt.Fprintf(w, "zk_%s\t%s\n", key, val)
	})
}

// monitorValues calls line with each key of mntr (without "zk_") and its
// value, in Apache's order; the admin command monitor shows the same.
// Values are strings, integers, or float64 for Java doubles.
func (s *Server) monitorValues(line func(key string, v any)) {
	line("version", Version)
	line("server_state", s.mode())
	if s.quorum != nil {
		line("peer_state", s.quorum.peerState())
	}
	gauges := s.monitorGauges()
	for _, group := range mntrMetrics {
		for _, name := range group.names {
			switch group.kind {
			case mntrGauge:
				v, ok := gauges[name]
				if !ok {
					v = 0
				}
				line(name, v)
				if name == mntrGaugesEnd {
					// The ensemble's gauges (only those this server has).
					for _, name := range quorumGauges {
						if v, ok := gauges[name]; ok {
							line(name, v)
						}
					}
				}
			case mntrCounter:
				line(name, s.stats.counterValue(name))
			case mntrSummary, mntrPercentiles:
				s.monitorSummary(line, name, group.kind == mntrPercentiles)
			}
		}
	}
}
