package auth

import (
	"crypto/sha1"
	"encoding/base64"
	"strings"
	"unicode/utf8"

	"github.com/zkgo/zkgo/wire"
)

// The digest scheme (Apache's DigestAuthenticationProvider): an auth
// packet "user:password" gives the identity digest:user:base64(sha1(...)).

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
		ids = append(ids, Super)
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
