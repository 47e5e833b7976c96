package server

import (
	"bufio"
	"io/fs"
	"math"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// This file holds the read-only views of the server, its connections and
// its sessions that the four-letter words print, and the helpers that
// format numbers and addresses the way the Java server does.

// elapsedMs converts t to ms on the elapsed-time clock. Apache ZooKeeper
// reports some times (cons "lresp") in ms of System.nanoTime, a monotonic
// clock with an arbitrary origin; ours is the creation of the Server.
func (s *Server) elapsedMs(t time.Time) int64 { return t.Sub(s.origin).Milliseconds() }

// defaultTraceMask is Apache ZooKeeper's initial text trace mask
// (ZooTrace): client requests (1<<1), server packets (1<<4), sessions
// (1<<5) and warnings (1<<8). We keep no trace log; gtmk and stmk only
// read and set the value (Server.traceMask).
const defaultTraceMask = 1<<1 | 1<<4 | 1<<5 | 1<<8

// connInfo is what cons, stat and dump report about one connection
// (ServerCnxn.dumpConnectionInfo).
type connInfo struct {
	remote      string // "/127.0.0.1:53412", as Java prints a socket address
	interestOps int
	queued      int
	received    int64
	sent        int64
	session     int64
	timeout     int32
	created     time.Time
	lastOp      string
	lastCxid    int64 // -1: none since the last reset
	lastZxid    int64
	lastResp    int64 // elapsed ms; 0: none since the last reset
	lastLatency int64
	minLatency  int64
	avgLatency  int64
	maxLatency  int64
	lastActive  time.Time // last response, or creation
}

// info takes a consistent view of c.
func (c *conn) info() connInfo {
	ci := connInfo{
		remote:      javaSocketAddr(c.nc.RemoteAddr()),
		interestOps: 1,
		created:     c.created,
		lastActive:  c.created,
	}
	if c.fourLetter.Load() {
		ci.interestOps = 0
	}
	c.mu.Lock()
	ci.session, ci.timeout, ci.queued = c.session, c.timeout, len(c.queue)
	c.mu.Unlock()
	ci.received, ci.sent = c.stats.received.Load(), c.stats.sent.Load()

	st := &c.stats
	st.mu.Lock()
	defer st.mu.Unlock()
	ci.lastCxid = int64(st.lastCxid)
	ci.lastZxid = st.lastZxid
	ci.lastOp = "NA"
	if !st.lastResp.IsZero() {
		ci.lastOp = consOpName(st.lastOp, st.lastErr)
		ci.lastResp = c.s.elapsedMs(st.lastResp)
		ci.lastActive = st.lastResp
	}
	ci.lastLatency = st.lastLatency.Milliseconds()
	if st.latency.count > 0 {
		ci.minLatency = st.latency.min
		ci.maxLatency = st.latency.max
		ci.avgLatency = st.latency.total / st.latency.count
	}
	return ci
}

// reset clears the counters of a connection (crst), leaving them as
// Apache's ServerCnxn.resetStats does: no last operation, cxid or zxid.
func (s *connStats) reset() {
	s.received.Store(0)
	s.sent.Store(0)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastOp = 0
	s.lastCxid = -1
	s.lastZxid = -1
	s.lastResp = time.Time{}
	s.lastLatency = 0
	s.latency = latencyStats{}
}

func (c *conn) queued() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.queue)
}

// connByNetConn finds the registered connection of nc.
func (s *Server) connByNetConn(nc net.Conn) *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if c.nc == nc {
			return c
		}
	}
	return nil
}

// connectionsByAge returns the open connections, oldest first.
func (s *Server) connectionsByAge() []*conn {
	conns := s.connections()
	sort.Slice(conns, func(i, j int) bool { return conns[i].created.Before(conns[j].created) })
	return conns
}

// outstanding counts requests received and not yet answered (see
// admission).
func (s *Server) outstanding() int { return int(s.adm.inProcess.Load()) }

// clientPort is the port clients connect to (-1 before Serve), as Apache
// reports its listener's port rather than the configured one.
func (s *Server) clientPort() int {
	if s.ln == nil {
		return -1
	}
	if ta, ok := s.ln.Addr().(*net.TCPAddr); ok {
		return ta.Port
	}
	return s.cfg.ClientPort
}

// minSessionTimeout and maxSessionTimeout are the bounds granted, with
// Apache's defaults for an unset (-1) bound.
func (s *Server) minSessionTimeout() int {
	if s.cfg.MinSessionTimeout < 0 {
		return 2 * s.cfg.TickTime
	}
	return s.cfg.MinSessionTimeout
}

func (s *Server) maxSessionTimeout() int {
	if s.cfg.MaxSessionTimeout < 0 {
		return 20 * s.cfg.TickTime
	}
	return s.cfg.MaxSessionTimeout
}

// snapDir and logDir are Apache ZooKeeper's snapshot and log directories:
// the version-2 directory under dataDir and dataLogDir, as absolute paths.
func (s *Server) snapDir() string { return versionDir(s.cfg.DataDir) }

func (s *Server) logDir() string {
	if s.cfg.DataLogDir == "" {
		return s.snapDir()
	}
	return versionDir(s.cfg.DataLogDir)
}

func versionDir(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return filepath.Join(dir, "version-2")
}

// dirSize sums the sizes of the files under path (0 if it does not exist).
func dirSize(path string) int64 {
	var n int64
	filepath.WalkDir(path, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// sessionExpiry is a tracked session and when it expires.
type sessionExpiry struct {
	id       int64
	deadline time.Time
}

// expiries lists the tracked sessions, including those being closed.
func (t *sessionTracker) expiries() []sessionExpiry {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]sessionExpiry, 0, len(t.sessions))
	for id, s := range t.sessions {
		out = append(out, sessionExpiry{id, s.deadline})
	}
	return out
}

// openFileDescriptors counts the process's open files (-1 if unknown), as
// Java's UnixOperatingSystemMXBean.
func openFileDescriptors() int64 {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return int64(len(ents))
}

// maxFileDescriptors is the limit on open files (-1 if unknown).
func maxFileDescriptors() int64 {
	f, err := os.Open("/proc/self/limits")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "Max open files")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			return -1
		}
		if fields[0] == "unlimited" {
			return math.MaxInt64
		}
		n, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return -1
		}
		return n
	}
	return -1
}

// physicalMemory is the machine's memory in bytes (0 if unknown).
func physicalMemory() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) != 2 || fields[1] != "kB" {
			return 0
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return 0
		}
		return kb << 10
	}
	return 0
}

// javaSocketAddr formats a socket address as Java's InetSocketAddress
// does for an accepted connection: "/127.0.0.1:53412",
// "/0:0:0:0:0:0:0:1:53412".
func javaSocketAddr(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return "/" + a.String()
	}
	return "/" + javaIP(ta.IP, ta.Zone) + ":" + strconv.Itoa(ta.Port)
}

// javaIP formats an address as Java's InetAddress.getHostAddress: IPv4
// dotted, IPv6 as eight uncompressed hex groups.
func javaIP(ip net.IP, zone string) string {
	if v4 := ip.To4(); v4 != nil {
		return v4.String()
	}
	if len(ip) != net.IPv6len {
		return ip.String()
	}
	var b strings.Builder
	for i := 0; i < 16; i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(strconv.FormatUint(uint64(ip[i])<<8|uint64(ip[i+1]), 16))
	}
	if zone != "" {
		b.WriteString("%" + zone)
	}
	return b.String()
}

// hexID formats a session id or zxid as Java's Long.toHexString.
func hexID(v int64) string { return strconv.FormatUint(uint64(v), 16) }

// javaDouble formats f as Java's Double.toString: "0.0", "2.5833",
// "1.0E7", "1.0E-4".
func javaDouble(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	if a := math.Abs(f); a >= 1e-3 && a < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(f, 'e', -1, 64)
	mant, exp, _ := strings.Cut(s, "e")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	e, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(e)
}

// roundHalfUp4 rounds v to 4 decimals, half up, on its exact binary
// value, as Apache's AvgMinMaxCounter does with BigDecimal.
func roundHalfUp4(v float64) float64 {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return v
	}
	r := new(big.Rat).SetFloat64(math.Abs(v))
	r.Mul(r, big.NewRat(10000, 1))
	r.Add(r, big.NewRat(1, 2))
	n := new(big.Int).Quo(r.Num(), r.Denom())
	out, _ := new(big.Rat).SetFrac(n, big.NewInt(10000)).Float64()
	if v < 0 {
		out = -out
	}
	return out
}
