package auth

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

func TestSASLMatches(t *testing.T) {
	acl := wire.Id{Scheme: "sasl", ID: "bob"}
	for _, tc := range []struct {
		id   wire.Id
		want bool
	}{
		{wire.Id{Scheme: "sasl", ID: "bob"}, true},
		{wire.Id{Scheme: "sasl", ID: "super"}, true},
		{wire.Id{Scheme: "sasl", ID: "alice"}, false},
		{wire.Id{Scheme: "digest", ID: "bob"}, false},
	} {
		if got := Matches(tc.id, acl); got != tc.want {
			t.Errorf("Matches(%v, sasl:bob) = %v, want %v", tc.id, got, tc.want)
		}
	}
}

func TestSASLIdentities(t *testing.T) {
	eq(t, "user", SASLIdentities("bob", []string{"admin"}), []wire.Id{{Scheme: "sasl", ID: "bob"}})
	eq(t, "super user", SASLIdentities("admin", []string{"admin"}), []wire.Id{{Scheme: "sasl", ID: "admin"}, Super})
}
