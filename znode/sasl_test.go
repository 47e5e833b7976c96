package znode

import (
	"testing"

	"github.com/zkgo/zkgo/wire"
)

func TestValidSASLID(t *testing.T) {
	for id, want := range map[string]bool{
		"jaasuser": true, "zookeeper/host@EXAMPLE.COM": true, "client@REALM": true, "a/b": true, "a/b/c": true,
		"a@b@c": false, "a/b/c@R": false, "a@R/x": false,
	} {
		if got := ValidSASLID(id); got != want {
			t.Errorf("ValidSASLID(%q) = %v, want %v", id, got, want)
		}
	}
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
