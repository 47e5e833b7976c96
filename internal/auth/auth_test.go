package auth

import (
	"reflect"
	"testing"

	"github.com/zkgo/zkgo/wire"
)

func eq(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: got %+v, want %+v", what, got, want)
	}
}

func TestAuthenticate(t *testing.T) {
	eq(t, "DigestID", DigestID("super", "admin"), "super:xQJmxLMiHGwaqBvst5y6rkB6HQs=")
	eq(t, "DigestID 2", DigestID("user", "password"), "user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY=")
	ids, err := Authenticate("digest", []byte("bob:secret"), "")
	eq(t, "err", err, wire.ErrOK)
	eq(t, "ids", ids, []wire.Id{{Scheme: "digest", ID: "bob:fyVmFCwVbTJYrznoSu1koqYEYF0="}})
	ids, _ = Authenticate("digest", []byte("super:admin"), "super:xQJmxLMiHGwaqBvst5y6rkB6HQs=")
	eq(t, "super", ids, []wire.Id{Super, {Scheme: "digest", ID: "super:xQJmxLMiHGwaqBvst5y6rkB6HQs="}})
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

func TestJavaString(t *testing.T) {
	eq(t, "valid", javaString([]byte("a:b")), "a:b")
	eq(t, "invalid", javaString([]byte{'a', 0xff, 0xfe, 'b'}), "a\ufffd\ufffdb")
	ids, _ := Authenticate("digest", []byte{'u', ':', 0xff}, "")
	eq(t, "digest of replaced bytes", ids[0].ID, digestOf("u:\ufffd"))
}
