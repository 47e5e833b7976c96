package znode

import (
	"slices"
	"strings"

	"github.com/zkgo/zkgo/internal/auth"
	"github.com/zkgo/zkgo/wire"
)

// Well-known ACL lists (ZooDefs.Ids).
var (
	// OpenACL gives everyone every permission (OPEN_ACL_UNSAFE).
	OpenACL = []wire.ACL{{Perms: wire.PermAll, ID: wire.Id{Scheme: "world", ID: "anyone"}}}
	// ReadACL gives everyone read permission (READ_ACL_UNSAFE).
	ReadACL = []wire.ACL{{Perms: wire.PermRead, ID: wire.Id{Scheme: "world", ID: "anyone"}}}
)

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
// bits of perm to world:anyone or to an identity that ids match (see
// auth.Matches).
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
			if auth.Matches(id, a.ID) {
				return true
			}
		}
	}
	return false
}

// fixupACL validates an ACL list from a create or setACL request and
// expands the "auth" scheme into the caller's authenticated identities
// (PrepRequestProcessor.fixupACL). Duplicates in the request are dropped
// first. It returns ErrInvalidACL for an empty list, an unknown scheme, a
// malformed id, world with an id other than "anyone", or "auth" when the
// caller has no authenticated identity.
func fixupACL(ids []wire.Id, acls []wire.ACL) ([]wire.ACL, wire.ErrCode) {
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
			for _, id := range ids {
				if auth.Authenticated(id.Scheme) {
					valid = true
					out = append(out, wire.ACL{Perms: a.Perms, ID: id})
				}
			}
			if !valid {
				return nil, wire.ErrInvalidACL
			}
		case auth.ValidID(a.ID.Scheme, a.ID.ID):
			out = append(out, a)
		default:
			return nil, wire.ErrInvalidACL
		}
	}
	return out, wire.ErrOK
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
