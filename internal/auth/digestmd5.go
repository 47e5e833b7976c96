package auth

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// SASL client authentication: the DIGEST-MD5 mechanism (RFC 2831) as
// Apache ZooKeeper's server runs it (Java's DigestMD5Server created with
// protocol "zookeeper" and server name "zk-sasl-md5", quality of
// protection "auth" only), against the users of the JAAS file's server
// section (conf.Auth.SASL). A session that logs in gets the identities of
// SASLIdentities.
const (
	saslProtocol   = "zookeeper"
	saslServerName = "zk-sasl-md5"
)

// DigestMD5 is the server side of one DIGEST-MD5 exchange: the client
// sends an empty token, the server a challenge; the client answers it,
// and the server checks the answer and proves it knows the password too
// (rspauth).
type DigestMD5 struct {
	users    map[string]string
	protocol string // the serv-type the digest-uri must name
	host     string // the host the digest-uri must name; also the realm
	nonce    string
	step     int
	utf8     bool   // the challenge offered charset=utf-8
	authzID  string // set once complete
}

// NewDigestMD5 starts an exchange for users (name to password: the JAAS
// server section's), with a fresh random nonce.
func NewDigestMD5(users map[string]string) *DigestMD5 {
	b := make([]byte, 24)
	rand.Read(b)
	return &DigestMD5{users: users, protocol: saslProtocol, host: saslServerName,
		nonce: base64.StdEncoding.EncodeToString(b), utf8: true}
}

// Complete reports whether the client is authenticated.
func (m *DigestMD5) Complete() bool { return m.authzID != "" }

// AuthzID is the authorized user once the exchange is complete: the
// authenticated user name, whatever authzid the client asked for (as
// Apache's SaslServerCallbackHandler).
func (m *DigestMD5) AuthzID() string { return m.authzID }

// Evaluate takes the client's next token and returns the server's. An
// error means the authentication failed.
func (m *DigestMD5) Evaluate(token []byte) ([]byte, error) {
	m.step++
	switch m.step {
	case 1:
		if len(token) != 0 {
			return nil, errors.New("DIGEST-MD5 has no initial client response")
		}
		return []byte(m.challenge()), nil
	case 2:
		return m.verify(token)
	}
	return nil, errors.New("DIGEST-MD5 authentication is already complete")
}

// challenge is the digest-challenge (RFC 2831 2.1.1).
func (m *DigestMD5) challenge() string {
	var b strings.Builder
	fmt.Fprintf(&b, `realm="%s",nonce="%s",qop="auth"`, m.host, m.nonce)
	if m.utf8 {
		b.WriteString(",charset=utf-8")
	}
	b.WriteString(",algorithm=md5-sess")
	return b.String()
}

// verify checks the digest-response (RFC 2831 2.1.2) and returns the
// response-auth (2.1.3).
func (m *DigestMD5) verify(token []byte) ([]byte, error) {
	d, err := parseDirectives(string(token))
	if err != nil {
		return nil, err
	}
	for _, k := range []string{"username", "nonce", "cnonce", "nc", "digest-uri", "response"} {
		if _, ok := d[k]; !ok {
			return nil, fmt.Errorf("digest-response has no %s", k)
		}
	}
	utf8Charset := false
	if cs, ok := d["charset"]; ok {
		if !m.utf8 || !strings.EqualFold(cs, "utf-8") {
			return nil, fmt.Errorf("charset %q was not offered", cs)
		}
		utf8Charset = true
	}
	realm := d["realm"]
	if _, ok := d["realm"]; ok && realm != m.host {
		return nil, fmt.Errorf("realm %q was not offered", realm)
	}
	if d["nonce"] != m.nonce {
		return nil, errors.New("nonce does not match the challenge's")
	}
	if nc, err := strconv.ParseUint(d["nc"], 16, 32); err != nil || nc != 1 {
		return nil, fmt.Errorf("nonce count %q is not 00000001", d["nc"])
	}
	qop := "auth"
	if q, ok := d["qop"]; ok {
		qop = q
	}
	if qop != "auth" {
		return nil, fmt.Errorf("qop %q was not offered", qop)
	}
	uri := d["digest-uri"]
	serv, host, _ := strings.Cut(uri, "/")
	if host, _, _ = strings.Cut(host, "/"); !strings.EqualFold(serv, m.protocol) || !strings.EqualFold(host, m.host) {
		return nil, fmt.Errorf("digest-uri %q is not %s/%s", uri, m.protocol, m.host)
	}
	user := d["username"]
	password, ok := m.users[user]
	if !ok {
		return nil, fmt.Errorf("user %q is not a DIGEST-MD5 user of the JAAS server section", user)
	}
	authzid, hasAuthzid := d["authzid"]
	a1 := digestA1(user, realm, password, d["nonce"], d["cnonce"], authzid, hasAuthzid, utf8Charset)
	want := digestResponse(a1, "AUTHENTICATE:"+uri, d["nonce"], d["nc"], d["cnonce"], qop)
	if subtle.ConstantTimeCompare([]byte(strings.ToLower(d["response"])), []byte(want)) != 1 {
		return nil, fmt.Errorf("wrong password for user %q", user)
	}
	// As Apache's SaslServerCallbackHandler: the authorized id is the
	// authenticated user name, whatever authzid the client asked for.
	m.authzID = user
	rspauth := digestResponse(a1, ":"+uri, d["nonce"], d["nc"], d["cnonce"], qop)
	return []byte("rspauth=" + rspauth), nil
}

// digestA1 is H(A1) of RFC 2831 2.1.2.1 for algorithm md5-sess:
// H( H(user:realm:passwd) ":" nonce ":" cnonce [":" authzid] ).
func digestA1(user, realm, password, nonce, cnonce, authzid string, hasAuthzid, utf8Charset bool) [16]byte {
	var b []byte
	b = append(b, saslString(user, utf8Charset)...)
	b = append(b, ':')
	b = append(b, saslString(realm, utf8Charset)...)
	b = append(b, ':')
	b = append(b, saslString(password, utf8Charset)...)
	inner := md5.Sum(b)
	a1 := append(inner[:], ":"+nonce+":"+cnonce...)
	if hasAuthzid {
		a1 = append(a1, ":"+authzid...)
	}
	return md5.Sum(a1)
}

// digestResponse is the response-value (and, with A2 = ":" digest-uri,
// the response-auth) of RFC 2831 2.1.2.1:
// HEX( KD( HEX(H(A1)), nonce ":" nc ":" cnonce ":" qop ":" HEX(H(A2)) ) ).
func digestResponse(a1 [16]byte, a2, nonce, nc, cnonce, qop string) string {
	h2 := md5.Sum([]byte(a2))
	kd := md5.Sum([]byte(fmt.Sprintf("%x:%s:%s:%s:%s:%x", a1, nonce, nc, cnonce, qop, h2)))
	return fmt.Sprintf("%x", kd)
}

// saslString encodes a user name, realm or password for A1: UTF-8 when
// the client chose charset=utf-8, else ISO 8859-1 where every character
// fits in it (RFC 2831 2.1.2.1).
func saslString(s string, utf8Charset bool) []byte {
	if utf8Charset {
		return []byte(s)
	}
	out := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff || r == utf8.RuneError {
			return []byte(s)
		}
		out = append(out, byte(r))
	}
	return out
}

// parseDirectives parses a comma-separated list of name=value or
// name="quoted value" directives (RFC 2831 7.1); a backslash in a quoted
// value escapes the next character. A directive given twice is an error.
func parseDirectives(s string) (map[string]string, error) {
	out := map[string]string{}
	i := 0
	skip := func() {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n') {
			i++
		}
	}
	for {
		skip()
		for i < len(s) && s[i] == ',' {
			i++
			skip()
		}
		if i >= len(s) {
			return out, nil
		}
		eq := strings.IndexByte(s[i:], '=')
		if eq < 0 {
			return nil, fmt.Errorf("malformed directive %q", s[i:])
		}
		name := strings.ToLower(strings.TrimSpace(s[i : i+eq]))
		i += eq + 1
		skip()
		var val strings.Builder
		if i < len(s) && s[i] == '"' {
			i++
			closed := false
			for i < len(s) {
				c := s[i]
				i++
				if c == '\\' && i < len(s) {
					val.WriteByte(s[i])
					i++
					continue
				}
				if c == '"' {
					closed = true
					break
				}
				val.WriteByte(c)
			}
			if !closed {
				return nil, fmt.Errorf("directive %s: quoted value is not closed", name)
			}
		} else {
			end := strings.IndexByte(s[i:], ',')
			if end < 0 {
				end = len(s) - i
			}
			val.WriteString(strings.TrimSpace(s[i : i+end]))
			i += end
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("directive %s is given twice", name)
		}
		out[name] = val.String()
	}
}

// DigestMD5Response is the client side of the exchange with a ZooKeeper
// server: given the server's challenge, it returns the client's
// digest-response for user and password with the client nonce cnonce, and
// the response-auth the server must answer with ("rspauth=...").
func DigestMD5Response(challenge []byte, user, password, cnonce string) (response []byte, rspauth string, err error) {
	d, err := parseDirectives(string(challenge))
	if err != nil {
		return nil, "", err
	}
	uri := saslProtocol + "/" + saslServerName
	a1 := digestA1(user, d["realm"], password, d["nonce"], cnonce, "", false, true)
	resp := fmt.Sprintf(`charset=utf-8,username="%s",realm="%s",nonce="%s",nc=00000001,cnonce="%s",digest-uri="%s",maxbuf=65536,response=%s,qop=auth`,
		user, d["realm"], d["nonce"], cnonce, uri, digestResponse(a1, "AUTHENTICATE:"+uri, d["nonce"], "00000001", cnonce, "auth"))
	return []byte(resp), "rspauth=" + digestResponse(a1, ":"+uri, d["nonce"], "00000001", cnonce, "auth"), nil
}
