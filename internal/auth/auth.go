// Package auth holds the identity schemes of ZooKeeper clients, as
// Apache ZooKeeper's authentication providers define them: digest
// (user:password), ip (the client's address), x509 (the subject of a client
// certificate) and sasl (the user of a SASL login, here the DIGEST-MD5
// mechanism). For each scheme it knows how a session gets its identities,
// which ACL ids are valid, and which ACL ids an identity matches. Checking
// a node's ACL against a session's identities is znode's job.
package auth

import (
	"strings"

	"github.com/zkgo/zkgo/wire"
)

// Super is the identity that passes every ACL check, as a digest matching
// the superDigest or a SASL super user gets it.
var Super = wire.Id{Scheme: "super", ID: ""}

// Matches reports whether the identity id matches the ACL id acl of the
// same scheme: digest and x509 by equality, sasl by equality or the SASL
// super user, ip by address and prefix length. Other schemes match
// nothing.
func Matches(id, acl wire.Id) bool {
	if id.Scheme != acl.Scheme {
		return false
	}
	switch id.Scheme {
	case "digest", "x509":
		return id.ID == acl.ID
	case "sasl":
		return saslMatches(id.ID, acl.ID)
	case "ip":
		return ipMatches(id.ID, acl.ID)
	}
	return false
}

// ValidID reports whether id is a valid ACL id of scheme, as the scheme's
// provider's isValid. Only digest, ip, sasl and x509 are schemes here.
func ValidID(scheme, id string) bool {
	switch scheme {
	case "digest":
		return validDigestID(id)
	case "ip":
		return validIPACL(id)
	case "sasl":
		return ValidSASLID(id)
	case "x509":
		return ValidX509ID(id)
	}
	return false
}

// Authenticated reports whether identities of scheme expand the "auth" ACL
// scheme (the provider's isAuthenticated): ip addresses and the super
// identity do not.
func Authenticated(scheme string) bool {
	switch scheme {
	case "digest", "x509", "sasl":
		return true
	}
	return false
}

// UserName is AuthUtil.getUser: the user part of an identity for whoAmI.
func UserName(id wire.Id) string {
	switch id.Scheme {
	case "digest":
		u, _, _ := strings.Cut(id.ID, ":")
		return u
	case "ip", "x509", "sasl":
		return id.ID
	}
	return ""
}
