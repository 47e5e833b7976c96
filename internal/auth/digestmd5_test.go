package auth

import (
	"fmt"
	"strings"
	"testing"
)

// TestDigestMD5RFC2831Example replays the IMAP exchange of RFC 2831
// section 4 against the server side.
func TestDigestMD5RFC2831Example(t *testing.T) {
	m := &DigestMD5{users: map[string]string{"chris": "secret"}, protocol: "imap",
		host: "elwood.innosoft.com", nonce: "OA6MG9tEQGm2hh", utf8: true}
	ch, err := m.Evaluate(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := `realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",qop="auth",charset=utf-8,algorithm=md5-sess`
	if string(ch) != want {
		t.Errorf("challenge %s, want %s", ch, want)
	}
	resp := `charset=utf-8,username="chris",realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",nc=00000001,` +
		`cnonce="OA6MHXh6VqTrRk",digest-uri="imap/elwood.innosoft.com",response=d388dad90d4bbd760a152321f2143af7,qop=auth`
	rsp, err := m.Evaluate([]byte(resp))
	if err != nil {
		t.Fatal(err)
	}
	if string(rsp) != "rspauth=ea40f60335c427b5527b84dbabcdfffd" {
		t.Errorf("got %s, want rspauth=ea40f60335c427b5527b84dbabcdfffd", rsp)
	}
	if !m.Complete() || m.authzID != "chris" {
		t.Errorf("complete %v, authzID %q", m.Complete(), m.authzID)
	}
	if _, err := m.Evaluate(nil); err == nil {
		t.Error("a third step succeeded")
	}
}

func TestDigestMD5Refuses(t *testing.T) {
	good := map[string]string{
		"username": `"chris"`, "realm": `"elwood.innosoft.com"`, "nonce": `"OA6MG9tEQGm2hh"`, "nc": "00000001",
		"cnonce": `"OA6MHXh6VqTrRk"`, "digest-uri": `"imap/elwood.innosoft.com"`,
		"response": "d388dad90d4bbd760a152321f2143af7", "qop": "auth", "charset": "utf-8",
	}
	for _, tc := range []struct{ key, value, want string }{
		{"response", "d388dad90d4bbd760a152321f2143af8", "wrong password"},
		{"username", `"bob"`, "not a DIGEST-MD5 user"},
		{"nonce", `"other"`, "nonce does not match"},
		{"nc", "00000002", "nonce count"},
		{"qop", "auth-conf", "qop"},
		{"realm", `"elsewhere"`, "realm"},
		{"digest-uri", `"ldap/elwood.innosoft.com"`, "digest-uri"},
		{"cnonce", "", "no cnonce"},
	} {
		m := &DigestMD5{users: map[string]string{"chris": "secret"}, protocol: "imap",
			host: "elwood.innosoft.com", nonce: "OA6MG9tEQGm2hh", utf8: true}
		m.Evaluate(nil)
		var parts []string
		for k, v := range good {
			if k == tc.key {
				if tc.value == "" {
					continue
				}
				v = tc.value
			}
			parts = append(parts, k+"="+v)
		}
		_, err := m.Evaluate([]byte(strings.Join(parts, ",")))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%s: error %v, want %q", tc.key, tc.value, err, tc.want)
		}
		if m.Complete() {
			t.Errorf("%s=%s: complete", tc.key, tc.value)
		}
	}
	m := NewDigestMD5(nil)
	if _, err := m.Evaluate([]byte("x")); err == nil {
		t.Error("an initial client response was accepted")
	}
}

func TestParseDirectives(t *testing.T) {
	got, err := parseDirectives(` a=1 , b="x,\"y\"",,c = z `)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != `map[a:1 b:x,"y" c:z]` {
		t.Errorf("got %v", got)
	}
	for _, bad := range []string{"a=1,a=2", `a="open`, "novalue"} {
		if _, err := parseDirectives(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
