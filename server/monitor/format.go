package monitor

import (
	"bufio"
	"io/fs"
	"math"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The formats of the Java server: numbers, addresses and dates as Apache
// ZooKeeper prints them, and the facts of the process and the machine its
// words report.

// minSessionTimeout and maxSessionTimeout are the bounds granted, with
// Apache's defaults for an unset (-1) bound.
func (m *Monitor) minSessionTimeout() int {
	if m.cfg.MinSessionTimeout < 0 {
		return 2 * m.cfg.TickTime
	}
	return m.cfg.MinSessionTimeout
}

func (m *Monitor) maxSessionTimeout() int {
	if m.cfg.MaxSessionTimeout < 0 {
		return 20 * m.cfg.TickTime
	}
	return m.cfg.MaxSessionTimeout
}

// snapDir and logDir are Apache ZooKeeper's snapshot and log directories:
// the version-2 directory under dataDir and dataLogDir, as absolute paths.
func (m *Monitor) snapDir() string { return versionDir(m.cfg.DataDir) }

func (m *Monitor) logDir() string {
	if m.cfg.DataLogDir == "" {
		return m.snapDir()
	}
	return versionDir(m.cfg.DataLogDir)
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
