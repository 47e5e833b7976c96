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

func TestAuthenticate(t *testing.T) {
	eq(t, "DigestID", DigestID("super", "admin"), "super:xQJmxLMiHGwaqBvst5y6rkB6HQs=")
	eq(t, "DigestID 2", DigestID("user", "password"), "user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY=")
	ids, err := Authenticate("digest", []byte("bob:secret"), "")
	eq(t, "err", err, wire.ErrOK)
	eq(t, "ids", ids, []wire.Id{{Scheme: "digest", ID: "bob:fyVmFCwVbTJYrznoSu1koqYEYF0="}})
	ids, _ = Authenticate("digest", []byte("super:admin"), "super:xQJmxLMiHGwaqBvst5y6rkB6HQs=")
	eq(t, "super", ids, []wire.Id{superID, {Scheme: "digest", ID: "super:xQJmxLMiHGwaqBvst5y6rkB6HQs="}})
	ids, _ = Authenticate("digest", []byte("super:wrong"), "super:xQJmxLMiHGwaqBvst5y6rkB6HQs=")
	eq(t, "not super", len(ids), 1)
	ids, _ = Authenticate("digest", []byte("nocolon"), "")
	eq(t, "no colon", ids[0].ID[:8], "nocolon:")
	_, err = Authenticate("kerberos", []byte("x"), "")
	eq(t, "unknown scheme", err, wire.ErrAuthFailed)
	_, err = Authenticate("ip", []byte("x"), "")
	eq(t, "ip", err, wire.ErrAuthFailed)
}

func TestIPIdentity(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"127.0.0.1:2181", "127.0.0.1"},
		{"10.1.2.3", "10.1.2.3"},
		{"[::1]:5000", "0:0:0:0:0:0:0:1"},
		{"::1", "0:0:0:0:0:0:0:1"},
		{"[fe80::1:abcd]:1", "fe80:0:0:0:0:0:1:abcd"},
		{"[::ffff:1.2.3.4]:9", "1.2.3.4"},
	} {
		eq(t, tc.in, IPIdentity(tc.in), wire.Id{Scheme: "ip", ID: tc.want})
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

func TestJavaString(t *testing.T) {
	eq(t, "valid", javaString([]byte("a:b")), "a:b")
	eq(t, "invalid", javaString([]byte{'a', 0xff, 0xfe, 'b'}), "a\ufffd\ufffdb")
	ids, _ := Authenticate("digest", []byte{'u', ':', 0xff}, "")
	eq(t, "digest of replaced bytes", ids[0].ID, digestOf("u:\ufffd"))
}
