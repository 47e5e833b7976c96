package auth

import (
	"net"
	"strconv"
	"strings"

	"github.com/zkgo/zkgo/wire"
)

// The ip scheme (Apache's IPAuthenticationProvider): every connection has
// the identity ip:<its address>, which an ACL id "addr" or "addr/bits"
// matches.

// IPIdentity returns the "ip" identity of a client address, as
// IPAuthenticationProvider adds it to every connection. addr may be
// "host:port", "[v6]:port" or a bare address; the id is formatted like
// Java's InetAddress.getHostAddress (dotted IPv4, IPv4-mapped IPv6 as IPv4,
// other IPv6 as eight uncompressed hex groups).
func IPIdentity(addr string) wire.Id {
	host := addr
	if h, _, err := net.SplitHostPort(addr); err == nil {
		host = h
	}
	zone := ""
	if i := strings.IndexByte(host, '%'); i >= 0 {
		host, zone = host[:i], host[i:]
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return wire.Id{Scheme: "ip", ID: host + zone}
	}
	if v4 := ip.To4(); v4 != nil {
		return wire.Id{Scheme: "ip", ID: v4.String()}
	}
	var sb strings.Builder
	for i := 0; i < 16; i += 2 {
		if i > 0 {
			sb.WriteByte(':')
		}
		sb.WriteString(strconv.FormatUint(uint64(ip[i])<<8|uint64(ip[i+1]), 16))
	}
	sb.WriteString(zone)
	return wire.Id{Scheme: "ip", ID: sb.String()}
}

// ipAddrBytes parses an address the way IPAuthenticationProvider.addr2Bytes
// does: anything with ':' is IPv6 (8 groups, at most one "::"), anything
// with '.' is IPv4 (4 decimal parts 0..255); nil if neither parses.
func ipAddrBytes(addr string) []byte {
	switch {
	case strings.Contains(addr, ":"):
		return parseV6(addr)
	case strings.Contains(addr, "."):
		parts := strings.Split(addr, ".")
		if len(parts) != 4 {
			return nil
		}
		b := make([]byte, 4)
		for i, p := range parts {
			v, err := strconv.ParseInt(p, 10, 32)
			if err != nil || v < 0 || v > 255 {
				return nil
			}
			b[i] = byte(v)
		}
		return b
	}
	return nil
}

func parseV6(addr string) []byte {
	parts := strings.Split(addr, "::")
	var seg1, seg2 []string
	switch len(parts) {
	case 1:
		seg1 = strings.Split(parts[0], ":")
		if len(seg1) != 8 {
			return nil
		}
	case 2:
		if parts[0] != "" {
			seg1 = strings.Split(parts[0], ":")
		}
		if parts[1] != "" {
			seg2 = strings.Split(parts[1], ":")
		}
		if len(seg1)+len(seg2) >= 8 {
			return nil
		}
	default:
		return nil
	}
	b := make([]byte, 16)
	if !parseV6Groups(b[:], 0, seg1) || !parseV6Groups(b[:], 16-2*len(seg2), seg2) {
		return nil
	}
	return b
}

func parseV6Groups(b []byte, i int, groups []string) bool {
	for _, g := range groups {
		if g == "" || len(g) > 4 {
			return false
		}
		v, err := strconv.ParseInt(g, 16, 32)
		if err != nil {
			return false
		}
		b[i] = byte(v >> 8)
		b[i+1] = byte(v)
		i += 2
	}
	return true
}

// ipPrefix parses an ip ACL id "addr" or "addr/bits".
func ipPrefix(expr string) (addr []byte, bits int, ok bool) {
	a, b, hasBits := strings.Cut(expr, "/")
	addr = ipAddrBytes(a)
	if addr == nil {
		return nil, 0, false
	}
	bits = len(addr) * 8
	if hasBits {
		n, err := strconv.ParseInt(b, 10, 32)
		if err != nil || n < 0 || int(n) > len(addr)*8 {
			return nil, 0, false
		}
		bits = int(n)
	}
	return addr, bits, true
}

// validIPACL is IPAuthenticationProvider.isValid.
func validIPACL(expr string) bool {
	_, _, ok := ipPrefix(expr)
	return ok
}

func maskBits(b []byte, bits int) {
	start := bits / 8
	m := ^byte((1 << (8 - bits%8)) - 1)
	for ; start < len(b); start++ {
		b[start] &= m
		m = 0
	}
}

// ipMatches is IPAuthenticationProvider.matches.
func ipMatches(id, expr string) bool {
	acl, bits, ok := ipPrefix(expr)
	if !ok {
		return false
	}
	remote := ipAddrBytes(id)
	if remote == nil || len(remote) != len(acl) {
		return false
	}
	maskBits(acl, bits)
	maskBits(remote, bits)
	for i := range acl {
		if acl[i] != remote[i] {
			return false
		}
	}
	return true
}
