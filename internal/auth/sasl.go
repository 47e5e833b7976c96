package auth

import (
	"slices"
	"strings"

	"github.com/zkgo/zkgo/wire"
)

// The sasl ACL scheme (Apache's SASLAuthenticationProvider): a session
// that authenticated with SASL has the identity sasl:<authorization id>,
// the user name for DIGEST-MD5.

// ValidSASLID reports whether id is a valid sasl ACL id: a name Kerberos
// would accept (KerberosName): "user", "service/host@REALM" or
// "user@REALM"; with an '@' it must have that shape.
func ValidSASLID(id string) bool {
	if !strings.Contains(id, "@") {
		return true
	}
	name, realm, _ := strings.Cut(id, "@")
	if strings.ContainsAny(realm, "/@") {
		return false
	}
	_, host, _ := strings.Cut(name, "/")
	return !strings.Contains(host, "/")
}

// saslMatches is SASLAuthenticationProvider.matches: the identity id
// matches the ACL id expr when they are equal, and the SASL user "super"
// matches every sasl ACL.
func saslMatches(id, expr string) bool {
	return id == "super" || id == expr
}

// SASLIdentities returns the identities of a session whose SASL login
// authorized user: {"sasl", user}, then Super when user is one of
// superUsers (zookeeper.superUser).
func SASLIdentities(user string, superUsers []string) []wire.Id {
	ids := []wire.Id{{Scheme: "sasl", ID: user}}
	if slices.Contains(superUsers, user) {
		ids = append(ids, Super)
	}
	return ids
}
