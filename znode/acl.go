package znode

import (
	"crypto/sha1"
	"encoding/base64"
	"net"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/zkgo/zkgo/wire"
)

// Well-known ACL lists (ZooDefs.Ids).
var (
	// OpenACL gives everyone every permission (OPEN_ACL_UNSAFE).
	OpenACL = []wire.ACL{{Perms: wire.PermAll, ID: wire.Id{Scheme: "world", ID: "anyone"}}}
	// ReadACL gives everyone read permission (READ_ACL_UNSAFE).
	ReadACL = []wire.ACL{{Perms: wire.PermRead, ID: wire.Id{Scheme: "world", ID: "anyone"}}}
)

// superID is the identity that passes every ACL check.
var superID = wire.Id{Scheme: "super", ID: ""}

// aclEntry is one interned ACL list, shared by every node that has it
// (Apache's ReferenceCountedACLCache).
type aclEntry struct {
	acls []wire.ACL
	key  string // the list's encoding
	refs int
}

// aclCache interns ACL lists by their encoding. Nodes refer to a list by
// its index, which is reused once the list is no longer referenced.
type aclCache struct {
	m       map[string]uint32 // encoding -> index
	entries []*aclEntry       // by index; nil: free
	free    []uint32
	buf     wire.Encoder
}

func newACLCache() *aclCache { return &aclCache{m: make(map[string]uint32)} }

// intern returns the index of acls with one more reference.
func (c *aclCache) intern(acls []wire.ACL) uint32 {
	c.buf.Reset()
	wire.EncodeACLs(&c.buf, acls)
	b := c.buf.Bytes()
	if i, ok := c.m[string(b)]; ok { // no allocation for the lookup
		c.entries[i].refs++
		return i
	}
	e := &aclEntry{acls: append([]wire.ACL(nil), acls...), key: string(b), refs: 1}
	var i uint32
	if n := len(c.free); n > 0 {
		i, c.free = c.free[n-1], c.free[:n-1]
		c.entries[i] = e
	} else {
		i = uint32(len(c.entries))
		c.entries = append(c.entries, e)
	}
	c.m[e.key] = i
	return i
}

// retain adds a reference to the list at index i.
func (c *aclCache) retain(i uint32) { c.entries[i].refs++ }

// release drops one reference to the list at index i.
func (c *aclCache) release(i uint32) {
	e := c.entries[i]
	e.refs--
	if e.refs <= 0 {
		delete(c.m, e.key)
		c.entries[i] = nil
		c.free = append(c.free, i)
	}
}

// list returns the ACL list at index i.
func (c *aclCache) list(i uint32) []wire.ACL { return c.entries[i].acls }

// live returns the entries in use, sorted by encoding (the order snapshots
// write them in), and for each cache index its position in that order.
func liveACLs(entries []*aclEntry) (sorted []*aclEntry, pos []int32) {
	sorted = make([]*aclEntry, 0, len(entries))
	for _, e := range entries {
		if e != nil {
			sorted = append(sorted, e)
		}
	}
	slices.SortFunc(sorted, func(a, b *aclEntry) int { return strings.Compare(a.key, b.key) })
	at := make(map[*aclEntry]int32, len(sorted))
	for i, e := range sorted {
		at[e] = int32(i)
	}
	pos = make([]int32, len(entries))
	for i, e := range entries {
		if e != nil {
			pos[i] = at[e]
		}
	}
	return sorted, pos
}

// hasSuper reports whether ids hold the super identity.
func hasSuper(ids []wire.Id) bool {
	for _, id := range ids {
		if id.Scheme == "super" {
			return true
		}
	}
	return false
}

// CheckACL reports whether identities ids may use perm on a node with
// the ACL list acl (ZooKeeperServer.checkACL): an empty list or the super
// identity allows everything; otherwise some entry must grant one of the
// bits of perm to world:anyone or to an identity that ids match (digest
// by equality, ip by address and prefix length).
func CheckACL(acl []wire.ACL, perm int32, ids []wire.Id) bool {
	if len(acl) == 0 || hasSuper(ids) {
		return true
	}
	for i := range acl {
		a := &acl[i]
		if a.Perms&perm == 0 {
			continue
		}
		if a.ID.Scheme == "world" && a.ID.ID == "anyone" {
			return true
		}
		for _, id := range ids {
			if id.Scheme != a.ID.Scheme {
				continue
			}
			switch id.Scheme {
			case "digest", "x509":
				if id.ID == a.ID.ID {
					return true
				}
			case "sasl":
				if saslMatches(id.ID, a.ID.ID) {
					return true
				}
			case "ip":
				if ipMatches(id.ID, a.ID.ID) {
					return true
				}
			}
		}
	}
	return false
}

// authenticatedScheme reports whether identities of scheme expand the
// "auth" ACL scheme (the provider's isAuthenticated): ip addresses and the
// super identity do not.
func authenticatedScheme(scheme string) bool {
	switch scheme {
	case "digest", "x509", "sasl":
		return true
	}
	return false
}

// fixupACL validates an ACL list from a create or setACL request and
// expands the "auth" scheme into the caller's authenticated identities
// (PrepRequestProcessor.fixupACL). Duplicates in the request are dropped
// first. It returns ErrInvalidACL for an empty list, an unknown scheme, a
// malformed id, world with an id other than "anyone", or "auth" when the
// caller has no authenticated identity.
func fixupACL(auth []wire.Id, acls []wire.ACL) ([]wire.ACL, wire.ErrCode) {
	if len(acls) == 0 {
		return nil, wire.ErrInvalidACL
	}
	// Fast path: the common single world:anyone entry.
	if len(acls) == 1 && acls[0].ID.Scheme == "world" && acls[0].ID.ID == "anyone" {
		return acls, wire.ErrOK
	}
	uniq := make([]wire.ACL, 0, len(acls))
	for _, a := range acls {
		dup := false
		for _, u := range uniq {
			if u == a {
				dup = true
				break
			}
		}
		if !dup {
			uniq = append(uniq, a)
		}
	}
	out := make([]wire.ACL, 0, len(uniq))
	for _, a := range uniq {
		switch {
		case a.ID.Scheme == "world" && a.ID.ID == "anyone":
			out = append(out, a)
		case a.ID.Scheme == "auth":
			valid := false
			for _, id := range auth {
				if authenticatedScheme(id.Scheme) {
					valid = true
					out = append(out, wire.ACL{Perms: a.Perms, ID: id})
				}
			}
			if !valid {
				return nil, wire.ErrInvalidACL
			}
		case a.ID.Scheme == "digest":
			if !validDigestID(a.ID.ID) {
				return nil, wire.ErrInvalidACL
			}
			out = append(out, a)
		case a.ID.Scheme == "ip":
			if !validIPACL(a.ID.ID) {
				return nil, wire.ErrInvalidACL
			}
			out = append(out, a)
		case a.ID.Scheme == "sasl":
			if !ValidSASLID(a.ID.ID) {
				return nil, wire.ErrInvalidACL
			}
			out = append(out, a)
		case a.ID.Scheme == "x509":
			if !ValidX509ID(a.ID.ID) {
				return nil, wire.ErrInvalidACL
			}
			out = append(out, a)
		default:
			return nil, wire.ErrInvalidACL
		}
	}
	return out, wire.ErrOK
}

// javaSplitCount is len(s.split(sep)) in Java: trailing empty strings are
// dropped (and an empty s gives one element).
func javaSplitCount(s string, sep string) int {
	parts := strings.Split(s, sep)
	n := len(parts)
	for n > 1 && parts[n-1] == "" {
		n--
	}
	if n == 1 && parts[0] == "" && s != "" {
		// s consisted of separators only: Java returns an empty array.
		return 0
	}
	return n
}

// validDigestID is DigestAuthenticationProvider.isValid: "user:hash".
func validDigestID(id string) bool { return javaSplitCount(id, ":") == 2 }

// Authenticate checks an auth packet's credentials for a scheme the server
// supports ("digest": "user:password") and returns the identities to add to
// the session; a digest matching superDigest also adds {"super", ""}
// (first, as Apache does). Unknown schemes give ErrAuthFailed; the "ip"
// scheme is the server's to handle with IPIdentity.
func Authenticate(scheme string, cred []byte, superDigest string) ([]wire.Id, wire.ErrCode) {
	if scheme != "digest" {
		return nil, wire.ErrAuthFailed
	}
	d := digestOf(javaString(cred))
	ids := make([]wire.Id, 0, 2)
	if superDigest != "" && d == superDigest {
		ids = append(ids, superID)
	}
	ids = append(ids, wire.Id{Scheme: "digest", ID: d})
	return ids, wire.ErrOK
}

// DigestID returns the digest identity of user and password:
// "user:" + base64(sha1("user:password")), as DigestAuthenticationProvider
// generateDigest computes it.
func DigestID(user, password string) string { return digestOf(user + ":" + password) }

// digestOf is generateDigest("id:password").
func digestOf(idPassword string) string {
	user, _, _ := strings.Cut(idPassword, ":")
	sum := sha1.Sum([]byte(idPassword))
	return user + ":" + base64.StdEncoding.EncodeToString(sum[:])
}

// javaString converts bytes as Java's new String(bytes, UTF_8) does: each
// invalid byte becomes U+FFFD.
func javaString(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		sb.WriteRune(r)
		b = b[size:]
	}
	return sb.String()
}

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

// redactDigests replaces the hash of every digest id with "x", as getACL
// does for callers without ADMIN permission.
func redactDigests(acls []wire.ACL) []wire.ACL {
	out := make([]wire.ACL, len(acls))
	for i, a := range acls {
		if a.ID.Scheme == "digest" {
			if j := strings.IndexByte(a.ID.ID, ':'); j >= 0 {
				a.ID.ID = a.ID.ID[:j] + ":x"
			}
		}
		out[i] = a
	}
	return out
}

// userName is AuthUtil.getUser: the user part of an identity for whoAmI.
func userName(id wire.Id) string {
	switch id.Scheme {
	case "digest":
		u, _, _ := strings.Cut(id.ID, ":")
		return u
	case "ip", "x509", "sasl":
		return id.ID
	}
	return ""
}
