package monitor

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
)

// fourLetterWords maps each four-letter word to the function writing its
// answer; in holds the bytes the client sent after the word (stmk reads
// its mask from it). The outputs are Apache ZooKeeper's, byte for byte
// where the values allow, since tools parse them.
var fourLetterWords = map[string]func(m *Monitor, w io.Writer, in io.Reader) error{
	"ruok": plain(func(_ *Monitor, w io.Writer) { io.WriteString(w, "imok") }),
	"isro": plain((*Monitor).writeIsReadOnly),
	"srvr": plain(func(m *Monitor, w io.Writer) { m.writeStat(w, false) }),
	"stat": plain(func(m *Monitor, w io.Writer) { m.writeStat(w, true) }),
	"mntr": plain((*Monitor).writeMonitor),
	"conf": plain((*Monitor).writeConf),
	"envi": plain((*Monitor).writeEnv),
	"cons": plain((*Monitor).writeConnections),
	"crst": plain((*Monitor).resetConnectionStats),
	"srst": plain((*Monitor).resetServerStats),
	"wchs": plain((*Monitor).writeWatchSummary),
	"wchc": plain((*Monitor).writeWatchesBySession),
	"wchp": plain((*Monitor).writeWatchesByPath),
	"dirs": plain((*Monitor).writeDirs),
	"dump": plain((*Monitor).writeDump),
	"hash": plain((*Monitor).writeDigests),
	"gtmk": plain(func(m *Monitor, w io.Writer) { io.WriteString(w, strconv.FormatInt(m.traceMask.Load(), 10)) }),
	"stmk": setTraceMask,
}

func plain(f func(*Monitor, io.Writer)) func(*Monitor, io.Writer, io.Reader) error {
	return func(m *Monitor, w io.Writer, _ io.Reader) error { f(m, w); return nil }
}

// IsFourLetterWord reports whether cmd is one of Apache's four-letter
// words.
func IsFourLetterWord(cmd string) bool {
	_, ok := fourLetterWords[cmd]
	return ok
}

// FourLetterWords lists Apache's four-letter words, sorted.
func FourLetterWords() []string {
	words := make([]string, 0, len(fourLetterWords))
	for w := range fourLetterWords {
		words = append(words, w)
	}
	slices.Sort(words)
	return words
}

// FourLetterWord answers the four-letter word cmd; in yields the bytes the
// client sent after it (stmk's mask; a net.Conn gets a read deadline).
// A word not in 4lw.commands.whitelist is refused, and one that needs a
// running server is answered notServingMsg while an ensemble server
// serves no clients. ok is false when the word fails (stmk without its
// argument): as Apache, the connection is then closed unanswered.
func (m *Monitor) FourLetterWord(cmd string, in io.Reader) (answer string, ok bool) {
	var b strings.Builder
	switch {
	case !m.cfg.FourLetterWordEnabled(cmd):
		fmt.Fprintf(&b, "%s is not executed because it is not in the whitelist.\n", cmd)
	case m.ensemble() && !m.srv.Serving() && !m.srv.ReadOnly() && needsServing[cmd]:
		b.WriteString(notServingMsg)
	default:
		if err := fourLetterWords[cmd](m, &b, in); err != nil {
			return "", false
		}
	}
	return b.String(), true
}

// stmkArgWait bounds the wait for stmk's 8-byte mask.
const stmkArgWait = time.Second

// setTraceMask (stmk) reads a big-endian 64-bit mask after the word, sets
// it and echoes it in decimal.
func setTraceMask(m *Monitor, w io.Writer, in io.Reader) error {
	if nc, ok := in.(net.Conn); ok {
		nc.SetReadDeadline(time.Now().Add(stmkArgWait))
	}
	var arg [8]byte
	if _, err := io.ReadFull(in, arg[:]); err != nil {
		return err
	}
	mask := int64(binary.BigEndian.Uint64(arg[:]))
	m.traceMask.Store(mask)
	io.WriteString(w, strconv.FormatInt(mask, 10))
	return nil
}

// writeIsReadOnly answers isro as Apache's IsroCommand: "ro" in read-only
// mode, "null" while an ensemble server serves no clients, else "rw".
func (m *Monitor) writeIsReadOnly(w io.Writer) {
	switch {
	case m.srv.ReadOnly():
		io.WriteString(w, "ro")
	case m.ensemble() && !m.srv.Serving():
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
func (m *Monitor) writeStat(w io.Writer, withClients bool) {
	fmt.Fprintf(w, "Zookeeper version: %s\n", Version)
	if m.srv.ReadOnly() {
		io.WriteString(w, "READ-ONLY mode; serving only read-only clients\n")
	}
	if withClients {
		io.WriteString(w, "Clients:\n")
		for _, ci := range m.srv.Connections() {
			writeConnInfo(w, ci, true)
			io.WriteString(w, "\n")
		}
		io.WriteString(w, "\n")
	}
	lat := m.stats.latencies()
	fmt.Fprintf(w, "Latency min/avg/max: %d/%s/%d\n", lat.Min, javaDouble(roundHalfUp4(lat.avg())), lat.Max)
	fmt.Fprintf(w, "Received: %d\n", m.stats.Received.Load())
	fmt.Fprintf(w, "Sent: %d\n", m.stats.Sent.Load())
	fmt.Fprintf(w, "Connections: %d\n", m.srv.NumConnections())
	fmt.Fprintf(w, "Outstanding: %d\n", m.srv.Outstanding())
	tree := m.srv.Tree()
	fmt.Fprintf(w, "Zxid: 0x%s\n", hexID(tree.LastZxid()))
	fmt.Fprintf(w, "Mode: %s\n", m.srv.Mode())
	fmt.Fprintf(w, "Node count: %d\n", tree.Stats().NodeCount)
	g := make(map[*Metric]any)
	m.srv.EnsembleGauges(func(metric *Metric, v any) { g[metric] = v })
	if last, ok := g[LastProposalSize]; ok { // a serving leader
		fmt.Fprintf(w, "Proposal sizes last/min/max: %d/%d/%d\n", last, g[MinProposalSize], g[MaxProposalSize])
	}
}

// writeConnInfo writes one connection as ServerCnxn.dumpConnectionInfo:
//
//	/127.0.0.1:53412[1](queued=0,recved=5,sent=5,sid=0x...,lop=PING,est=...,to=30000,lcxid=0x3,lzxid=0x...,lresp=...,llat=0,minlat=0,avglat=0,maxlat=0)
//
// The brief form (stat) stops after sent; a connection without a session
// has no more either.
func writeConnInfo(w io.Writer, ci ConnInfo, brief bool) {
	fmt.Fprintf(w, " %s[%x](queued=%d,recved=%d,sent=%d", javaSocketAddr(ci.Remote), ci.InterestOps, ci.Queued, ci.Received, ci.Sent)
	if !brief && ci.Session != 0 {
		fmt.Fprintf(w, ",sid=0x%s,lop=%s,est=%d,to=%d", hexID(ci.Session), ci.LastOp, ci.Created.UnixMilli(), ci.Timeout)
		if ci.LastCxid >= 0 {
			fmt.Fprintf(w, ",lcxid=0x%s", hexID(ci.LastCxid))
		}
		fmt.Fprintf(w, ",lzxid=0x%s,lresp=%d,llat=%d,minlat=%d,avglat=%d,maxlat=%d",
			hexID(ci.LastZxid), ci.LastResp, ci.LastLatency, ci.MinLatency, ci.AvgLatency, ci.MaxLatency)
	}
	io.WriteString(w, ")")
}

// writeConnections (cons) writes every connection in full, then a blank
// line.
func (m *Monitor) writeConnections(w io.Writer) {
	for _, ci := range m.srv.Connections() {
		writeConnInfo(w, ci, false)
		io.WriteString(w, "\n")
	}
	io.WriteString(w, "\n")
}

// resetConnectionStats (crst) resets every connection's counters.
func (m *Monitor) resetConnectionStats(w io.Writer) {
	m.srv.ResetConnectionStats()
	io.WriteString(w, "Connection stats reset.\n")
}

// resetServerStats (srst) resets the latency and packet counters.
func (m *Monitor) resetServerStats(w io.Writer) {
	m.stats.reset()
	io.WriteString(w, "Server stats reset.\n")
}

// writeConf (conf) writes ZooKeeperServer.dumpConf: the standalone
// server's settings.
func (m *Monitor) writeConf(w io.Writer) {
	cfg := m.cfg
	fmt.Fprintf(w, "clientPort=%d\n", m.srv.ClientPort())
	// Apache prints the port of its TLS listener, -1 without one; this
	// server does not serve TLS.
	fmt.Fprintf(w, "secureClientPort=%d\n", -1)
	fmt.Fprintf(w, "dataDir=%s\n", m.snapDir())
	fmt.Fprintf(w, "dataDirSize=%d\n", dirSize(m.snapDir()))
	fmt.Fprintf(w, "dataLogDir=%s\n", m.logDir())
	fmt.Fprintf(w, "dataLogSize=%d\n", dirSize(m.logDir()))
	fmt.Fprintf(w, "tickTime=%d\n", cfg.TickTime)
	fmt.Fprintf(w, "maxClientCnxns=%d\n", cfg.MaxClientCnxns)
	fmt.Fprintf(w, "minSessionTimeout=%d\n", m.minSessionTimeout())
	fmt.Fprintf(w, "maxSessionTimeout=%d\n", m.maxSessionTimeout())
	fmt.Fprintf(w, "clientPortListenBacklog=%d\n", cfg.ClientPortListenBacklog)
	fmt.Fprintf(w, "serverId=%d\n", cfg.MyID)
	if m.ensemble() {
		m.writeQuorumConf(w)
	}
}

// writeDirs (dirs) writes the sizes of the snapshot and log directories.
func (m *Monitor) writeDirs(w io.Writer) {
	fmt.Fprintf(w, "datadir_size: %d\n", dirSize(m.snapDir()))
	fmt.Fprintf(w, "logdir_size: %d\n", dirSize(m.logDir()))
}

// writeEnv (envi) writes Apache's Environment list.
func (m *Monitor) writeEnv(w io.Writer) {
	io.WriteString(w, "Environment:\n")
	for _, kv := range environment() {
		fmt.Fprintf(w, "%s=%s\n", kv[0], kv[1])
	}
}

// environment is Apache's Environment list (envi and the admin command
// environment), in its order. The java.* keys stay, since tools look for
// them, with the Go runtime's equivalents; "<NA>" marks a value that does
// not exist, as in Apache.
func environment() [][2]string {
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
func (m *Monitor) writeWatchSummary(w io.Writer) {
	st := m.srv.Tree().Stats()
	fmt.Fprintf(w, "%d connections watching %d paths\nTotal watches:%d\n",
		st.WatchingClients, st.WatchedPaths, st.WatchCount)
}

// writeWatchesBySession (wchc) writes each watching session and its
// paths, then a blank line.
func (m *Monitor) writeWatchesBySession(w io.Writer) {
	bySession := m.srv.Tree().WatchesBySession()
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
func (m *Monitor) writeWatchesByPath(w io.Writer) {
	byPath := m.srv.Tree().WatchesByPath()
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
func (m *Monitor) writeDump(w io.Writer) {
	io.WriteString(w, "SessionTracker dump:\n")
	var sessions []expiring
	for _, e := range m.srv.SessionExpiries() {
		sessions = append(sessions, expiring{e.Deadline, "0x" + hexID(e.ID), e.ID})
	}
	io.WriteString(w, "Session ")
	writeExpirySets(w, sessions, int64(m.cfg.TickTime))

	io.WriteString(w, "ephemeral nodes dump:\n")
	eph := m.srv.Tree().EphemeralsBySession()
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
	for _, ci := range m.srv.Connections() {
		timeout := int64(ci.Timeout)
		if ci.Session == 0 {
			timeout = connectionExpiryInterval // Apache's sessionless connection timeout
		}
		deadline := ci.LastActive.Add(time.Duration(timeout) * time.Millisecond)
		conns = append(conns, expiring{deadline,
			fmt.Sprintf("ip: %s sessionId: 0x%s", javaSocketAddr(ci.Remote), hexID(ci.Session)), ci.Created.UnixNano()})
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
func (m *Monitor) writeDigests(io.Writer) {}

// gauges are the values of the gauges: those the monitor reads itself,
// and the server's EnsembleGauges. Integers print as integers, float64 as
// Java doubles.
func (m *Monitor) gauges() map[*Metric]any {
	st := m.srv.Tree().Stats()
	lat := m.stats.latencies()
	up := int64(0)
	if started := m.srv.Started(); !started.IsZero() {
		up = time.Since(started).Milliseconds()
	}
	global, local := m.srv.Sessions()
	g := map[*Metric]any{
		ephemeralsCount:           st.EphemeralCount,
		numAliveConnections:       m.srv.NumConnections(),
		avgLatency:                roundHalfUp4(lat.avg()),
		outstandingRequests:       m.srv.Outstanding(),
		znodeCount:                st.NodeCount,
		globalSessions:            global,
		localSessions:             local,
		packetsSent:               m.stats.Sent.Load(),
		packetsReceived:           m.stats.Received.Load(),
		connectionDropProbability: 0.0,
		watchCount:                st.AllWatches,
		minLatency:                lat.Min,
		maxFileDescriptorCount:    maxFileDescriptors(),
		approximateDataSize:       st.ApproxDataSize,
		openFileDescriptorCount:   openFileDescriptors(),
		uptime:                    up,
		maxLatency:                lat.Max,
		// Response sizes are not tracked: Apache's value before any
		// response.
		lastClientResponseSize: -1,
		maxClientResponseSize:  -1,
		minClientResponseSize:  -1,
	}
	m.srv.EnsembleGauges(func(metric *Metric, v any) { g[metric] = v })
	return g
}

// writeMonitor (mntr) writes "zk_<key>\t<value>" lines, as Apache.
func (m *Monitor) writeMonitor(w io.Writer) {
	m.values(func(key string, v any) {
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

// values calls line with each key of mntr (without "zk_") and its value,
// in Apache's order; the admin command monitor shows the same. Values are
// strings, integers, or float64 for Java doubles.
func (m *Monitor) values(line func(key string, v any)) {
	line("version", Version)
	line("server_state", m.srv.Mode())
	if m.ensemble() {
		line("peer_state", m.srv.PeerState())
	}
	gauges := m.gauges()
	for _, metric := range Metrics {
		switch metric.Kind {
		case Gauge:
			v, ok := gauges[metric]
			if !ok {
				if metric.Ensemble {
					continue // only those this server has
				}
				v = 0
			}
			line(metric.Name, v)
		case Counter:
			line(metric.Name, m.stats.counterValue(metric))
		case Summary, PercentileSummary:
			m.summaryValues(line, metric)
		}
	}
}
