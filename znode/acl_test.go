package znode

import (
	"testing"

	"github.com/zkgo/zkgo/wire"
)

func TestValidatePath(t *testing.T) {
	tests := []struct {
		path string
		ok   bool
	}{
		{"/", true},
		{"/a", true},
		{"/a/b.c", true},
		{"/a/...", true},
		{"/a/.b", true},
		{"/a/b.", true},
		{"/zookeeper", true},
		{"/日本", true},
		{"/ a", true},
		{"", false},
		{"a", false},
		{"/a/", false},
		{"//", false},
		{"/a//b", false},
		{"/.", false},
		{"/a/.", false},
		{"/./a", false},
		{"/..", false},
		{"/a/../b", false},
		{"/a\x00", false},
		{"/a\x01", false},
		{"/a\x1f", false},
		{"/a\x7f", false},
		{"/a\u0085", false},
		{"/a\ud7ff", true},
		{"/a\ue000", false},
		{"/a\uf8ff", false},
		{"/a\uf900", true},
		{"/a\ufff0", false},
		{"/a\U0001F600", false}, // a surrogate pair in Java
		{"/a\xff", false},       // invalid UTF-8 decodes to U+FFFD
	}
	for _, tc := range tests {
		if got := ValidatePath(tc.path); got != tc.ok {
			t.Errorf("ValidatePath(%q) = %v, want %v", tc.path, got, tc.ok)
		}
	}
}

func TestCheckACL(t *testing.T) {
	world := func(perms int32) wire.ACL {
		return wire.ACL{Perms: perms, ID: wire.Id{Scheme: "world", ID: "anyone"}}
	}
	ip := func(perms int32, expr string) wire.ACL {
		return wire.ACL{Perms: perms, ID: wire.Id{Scheme: "ip", ID: expr}}
	}
	dig := func(perms int32, id string) wire.ACL {
		return wire.ACL{Perms: perms, ID: wire.Id{Scheme: "digest", ID: id}}
	}
	ipID := func(a string) wire.Id { return wire.Id{Scheme: "ip", ID: a} }
	tests := []struct {
		name string
		acl  []wire.ACL
		perm int32
		ids  []wire.Id
		ok   bool
	}{
		{"empty acl", nil, wire.PermAdmin, nil, true},
		{"world", []wire.ACL{world(wire.PermRead)}, wire.PermRead, nil, true},
		{"world wrong perm", []wire.ACL{world(wire.PermRead)}, wire.PermWrite, nil, false},
		{"super", []wire.ACL{world(0)}, wire.PermWrite, []wire.Id{superID}, true},
		{"any bit", []wire.ACL{world(wire.PermAdmin)}, wire.PermRead | wire.PermAdmin, nil, true},
		{"digest", []wire.ACL{dig(wire.PermAll, "a:h")}, wire.PermRead, []wire.Id{{Scheme: "digest", ID: "a:h"}}, true},
		{"digest other", []wire.ACL{dig(wire.PermAll, "a:h")}, wire.PermRead, []wire.Id{{Scheme: "digest", ID: "a:g"}}, false},
		{"ip exact", []wire.ACL{ip(wire.PermAll, "10.0.0.1")}, wire.PermRead, []wire.Id{ipID("10.0.0.1")}, true},
		{"ip exact miss", []wire.ACL{ip(wire.PermAll, "10.0.0.1")}, wire.PermRead, []wire.Id{ipID("10.0.0.2")}, false},
		{"ip /8", []wire.ACL{ip(wire.PermAll, "10.0.0.0/8")}, wire.PermRead, []wire.Id{ipID("10.200.3.4")}, true},
		{"ip /8 miss", []wire.ACL{ip(wire.PermAll, "10.0.0.0/8")}, wire.PermRead, []wire.Id{ipID("11.0.0.1")}, false},
		{"ip /20", []wire.ACL{ip(wire.PermAll, "192.168.16.0/20")}, wire.PermRead, []wire.Id{ipID("192.168.31.255")}, true},
		{"ip /20 miss", []wire.ACL{ip(wire.PermAll, "192.168.16.0/20")}, wire.PermRead, []wire.Id{ipID("192.168.32.0")}, false},
		{"ip /0", []wire.ACL{ip(wire.PermAll, "0.0.0.0/0")}, wire.PermRead, []wire.Id{ipID("8.8.8.8")}, true},
		{"ipv6", []wire.ACL{ip(wire.PermAll, "fe80::/16")}, wire.PermRead, []wire.Id{ipID("fe80:0:0:0:0:0:0:1")}, true},
		{"ipv6 loopback", []wire.ACL{ip(wire.PermAll, "::1")}, wire.PermRead, []wire.Id{ipID("0:0:0:0:0:0:0:1")}, true},
		{"ipv6 vs v4", []wire.ACL{ip(wire.PermAll, "::/0")}, wire.PermRead, []wire.Id{ipID("1.2.3.4")}, false},
		{"bad ip acl", []wire.ACL{ip(wire.PermAll, "nonsense")}, wire.PermRead, []wire.Id{ipID("1.2.3.4")}, false},
		{"scheme mismatch", []wire.ACL{dig(wire.PermAll, "10.0.0.1")}, wire.PermRead, []wire.Id{ipID("10.0.0.1")}, false},
	}
	for _, tc := range tests {
		if got := CheckACL(tc.acl, tc.perm, tc.ids); got != tc.ok {
			t.Errorf("%s: CheckACL = %v, want %v", tc.name, got, tc.ok)
		}
	}
}

func TestFixupACL(t *testing.T) {
	alice := wire.Id{Scheme: "digest", ID: "alice:h"}
	for _, tc := range []struct {
		name string
		in   []wire.ACL
		auth []wire.Id
		want []wire.ACL
		err  wire.ErrCode
	}{
		{"nil", nil, nil, nil, wire.ErrInvalidACL},
		{"dedup", []wire.ACL{OpenACL[0], ReadACL[0], OpenACL[0]}, nil, []wire.ACL{OpenACL[0], ReadACL[0]}, wire.ErrOK},
		{"auth", []wire.ACL{{Perms: 3, ID: wire.Id{Scheme: "auth"}}}, []wire.Id{alice}, []wire.ACL{{Perms: 3, ID: alice}}, wire.ErrOK},
		{"digest ok", []wire.ACL{{Perms: 1, ID: wire.Id{Scheme: "digest", ID: ":x"}}}, nil, []wire.ACL{{Perms: 1, ID: wire.Id{Scheme: "digest", ID: ":x"}}}, wire.ErrOK},
		{"digest trailing colon", []wire.ACL{{Perms: 1, ID: wire.Id{Scheme: "digest", ID: "a:"}}}, nil, nil, wire.ErrInvalidACL},
		{"digest two colons", []wire.ACL{{Perms: 1, ID: wire.Id{Scheme: "digest", ID: "a:b:c"}}}, nil, nil, wire.ErrInvalidACL},
		{"ip v6 ok", []wire.ACL{{Perms: 1, ID: wire.Id{Scheme: "ip", ID: "2001:db8::/32"}}}, nil, []wire.ACL{{Perms: 1, ID: wire.Id{Scheme: "ip", ID: "2001:db8::/32"}}}, wire.ErrOK},
		{"ip v6 bad", []wire.ACL{{Perms: 1, ID: wire.Id{Scheme: "ip", ID: "1:::2"}}}, nil, nil, wire.ErrInvalidACL},
		{"ip bad bits", []wire.ACL{{Perms: 1, ID: wire.Id{Scheme: "ip", ID: "1.2.3.4/x"}}}, nil, nil, wire.ErrInvalidACL},
		{"ip octet", []wire.ACL{{Perms: 1, ID: wire.Id{Scheme: "ip", ID: "1.2.3.256"}}}, nil, nil, wire.ErrInvalidACL},
		{"world other", []wire.ACL{{Perms: 1, ID: wire.Id{Scheme: "world", ID: "x"}}}, nil, nil, wire.ErrInvalidACL},
	} {
		got, err := fixupACL(tc.auth, tc.in)
		eq(t, tc.name+" err", err, tc.err)
		if err == wire.ErrOK {
			eq(t, tc.name, got, tc.want)
		}
	}
}

func TestACLInterning(t *testing.T) {
	h := newHarness(t, Options{})
	for i := 0; i < 100; i++ {
		h.mustCreate("/n"+string(rune('a'+i%26))+string(rune('a'+i/26)), "")
	}
	eq(t, "shared", len(h.tree.acls.m), 2) // OpenACL and ReadACL
	custom := []wire.ACL{{Perms: wire.PermRead, ID: wire.Id{Scheme: "ip", ID: "1.2.3.4"}}}
	h.mustApply(0, nil, wire.OpSetACL, &wire.SetACLRequest{Path: "/naa", ACL: custom, Version: -1})
	h.mustApply(0, nil, wire.OpSetACL, &wire.SetACLRequest{Path: "/nba", ACL: custom, Version: -1})
	eq(t, "custom", len(h.tree.acls.m), 3)
	eq(t, "same entry", h.tree.lookup("/naa").stat().acl == h.tree.lookup("/nba").stat().acl, true)
	h.mustApply(0, superAuth, wire.OpDelete, &wire.PathVersionRequest{Path: "/naa", Version: -1})
	h.mustApply(0, superAuth, wire.OpSetACL, &wire.SetACLRequest{Path: "/nba", ACL: OpenACL, Version: -1})
	eq(t, "released", len(h.tree.acls.m), 2)
}

func TestSASLACL(t *testing.T) {
	acl := []wire.ACL{{Perms: wire.PermRead, ID: wire.Id{Scheme: "sasl", ID: "bob"}}}
	for _, tc := range []struct {
		id   string
		want bool
	}{{"bob", true}, {"super", true}, {"alice", false}} {
		if got := CheckACL(acl, wire.PermRead, []wire.Id{{Scheme: "sasl", ID: tc.id}}); got != tc.want {
			t.Errorf("sasl:%s reading a sasl:bob node: %v, want %v", tc.id, got, tc.want)
		}
	}
	if _, code := fixupACL(nil, []wire.ACL{{Perms: wire.PermAll, ID: wire.Id{Scheme: "sasl", ID: "a@b@c"}}}); code != wire.ErrInvalidACL {
		t.Errorf("sasl:a@b@c: %v, want InvalidACL", code)
	}
	got, code := fixupACL([]wire.Id{{Scheme: "ip", ID: "127.0.0.1"}, {Scheme: "sasl", ID: "bob"}},
		[]wire.ACL{{Perms: wire.PermAll, ID: wire.Id{Scheme: "auth"}}})
	if code != wire.ErrOK || len(got) != 1 || got[0].ID != (wire.Id{Scheme: "sasl", ID: "bob"}) {
		t.Errorf("auth ACL for a sasl session: %v %v", got, code)
	}
}

func TestX509ACL(t *testing.T) {
	acl := []wire.ACL{{Perms: wire.PermRead, ID: wire.Id{Scheme: "x509", ID: "CN=client,OU=test"}}}
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{"CN=client,OU=test", true},
		{"CN=client,OU=test2", false},
		{"CN=client, OU=test", false}, // exact match only, as Apache
		{"cn=client,ou=test", false},
	} {
		if got := CheckACL(acl, wire.PermRead, []wire.Id{{Scheme: "x509", ID: tc.id}}); got != tc.ok {
			t.Errorf("%q: CheckACL = %v, want %v", tc.id, got, tc.ok)
		}
	}
	got, code := fixupACL(nil, acl)
	eq(t, "fixup err", code, wire.ErrOK)
	eq(t, "fixup", got, acl)
	_, code = fixupACL(nil, []wire.ACL{{Perms: 1, ID: wire.Id{Scheme: "x509", ID: "nonsense"}}})
	eq(t, "fixup bad", code, wire.ErrInvalidACL)
	// "auth" expands to the x509 identity of the caller.
	me := wire.Id{Scheme: "x509", ID: "CN=me"}
	got, code = fixupACL([]wire.Id{{Scheme: "ip", ID: "127.0.0.1"}, me}, []wire.ACL{{Perms: 31, ID: wire.Id{Scheme: "auth"}}})
	eq(t, "auth err", code, wire.ErrOK)
	eq(t, "auth", got, []wire.ACL{{Perms: 31, ID: me}})
}
