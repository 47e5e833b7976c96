package server

import (
	"fmt"
	"testing"

	"github.com/zkgo/zkgo/conf"
	"github.com/zkgo/zkgo/internal/auth"
	"github.com/zkgo/zkgo/wire"
)

// saslLogin runs a DIGEST-MD5 exchange as a ZooKeeper client does and
// returns the error code of the last reply. A password equal to the
// test's name is a wrong one whose failure the server keeps quiet about
// (allowSaslFailedClients).
func saslLogin(t *testing.T, c *rawClient, user, password string) wire.ErrCode {
	t.Helper()
	var ch wire.SASLToken
	if h := c.call(wire.OpSASL, &wire.SASLToken{Token: []byte{}}, &ch); h.Err != wire.ErrOK {
		return h.Err
	}
	resp, rspauth, err := auth.DigestMD5Response(ch.Token, user, password, "c1n2o3n4c5e6")
	if err != nil {
		t.Fatal(err)
	}
	var rsp wire.SASLToken
	h := c.call(wire.OpSASL, &wire.SASLToken{Token: resp}, &rsp)
	if h.Err == wire.ErrOK && password == c.t.Name() {
		// the caller expects a failure answered with OK
		if len(rsp.Token) != 0 {
			t.Errorf("failed login answered with %q", rsp.Token)
		}
	} else if h.Err == wire.ErrOK {
		if string(rsp.Token) != rspauth {
			t.Errorf("server proof %q, want %q", rsp.Token, rspauth)
		}
	}
	return h.Err
}

func saslServer(t *testing.T, edit func(*conf.Auth)) *Server {
	return startServer(t, func(c *conf.Config) {
		c.Auth.SASL = &conf.SASLServer{Context: "Server",
			Users: map[string]string{"jaasuser": "jaas_password", "super": "super_secret", "admin": "pw"}}
		c.Auth.Providers = []string{"sasl"}
		if edit != nil {
			edit(&c.Auth)
		}
	})
}

func TestSASLAuthenticationAndACL(t *testing.T) {
	s := saslServer(t, func(a *conf.Auth) { a.SuperUsers = []string{"admin"} })
	c := newRaw(t, s)
	if code := saslLogin(t, c, "jaasuser", "jaas_password"); code != wire.ErrOK {
		t.Fatalf("SASL login: %v", code)
	}
	var who wire.WhoAmIResponse
	c.expect(wire.ErrOK, wire.OpWhoAmI, nil, &who)
	if fmt.Sprint(who.ClientInfo) != "[{ip 127.0.0.1} {sasl jaasuser}]" {
		t.Errorf("whoAmI %v", who.ClientInfo)
	}
	acl := []wire.ACL{{Perms: wire.PermAll, ID: wire.Id{Scheme: "sasl", ID: "jaasuser"}}}
	c.expect(wire.ErrOK, wire.OpCreate, &wire.CreateRequest{Path: "/1", Data: []byte("x"), ACL: acl}, nil)
	c.expect(wire.ErrOK, wire.OpGetData, &wire.PathWatchRequest{Path: "/1"}, nil)
	c.expect(wire.ErrInvalidACL, wire.OpCreate, &wire.CreateRequest{Path: "/2",
		ACL: []wire.ACL{{Perms: wire.PermAll, ID: wire.Id{Scheme: "sasl", ID: "a@b@c"}}}}, nil)
	c.expect(wire.ErrOK, wire.OpCreate, &wire.CreateRequest{Path: "/3",
		ACL: []wire.ACL{{Perms: wire.PermAll, ID: wire.Id{Scheme: "auth"}}}}, nil)
	var got wire.GetACLResponse
	c.expect(wire.ErrOK, wire.OpGetACL, &wire.PathRequest{Path: "/3"}, &got)
	if fmt.Sprint(got.ACL) != fmt.Sprint(acl) {
		t.Errorf("auth ACL expanded to %v, want %v", got.ACL, acl)
	}

	anon := newRaw(t, s)
	anon.expect(wire.ErrNoAuth, wire.OpGetData, &wire.PathWatchRequest{Path: "/1"}, nil)

	// The SASL user "super" matches every sasl ACL; a zookeeper.superUser
	// passes every ACL.
	sup := newRaw(t, s)
	if code := saslLogin(t, sup, "super", "super_secret"); code != wire.ErrOK {
		t.Fatalf("SASL login as super: %v", code)
	}
	sup.expect(wire.ErrOK, wire.OpGetData, &wire.PathWatchRequest{Path: "/1"}, nil)
	c.expect(wire.ErrOK, wire.OpCreate, &wire.CreateRequest{Path: "/digest",
		ACL: []wire.ACL{{Perms: wire.PermAll, ID: wire.Id{Scheme: "digest", ID: "u:x"}}}}, nil)
	sup.expect(wire.ErrNoAuth, wire.OpGetData, &wire.PathWatchRequest{Path: "/digest"}, nil)
	admin := newRaw(t, s)
	if code := saslLogin(t, admin, "admin", "pw"); code != wire.ErrOK {
		t.Fatalf("SASL login as admin: %v", code)
	}
	admin.expect(wire.ErrOK, wire.OpGetData, &wire.PathWatchRequest{Path: "/digest"}, nil)
}

func TestSASLWrongPasswordClosesConnection(t *testing.T) {
	s := saslServer(t, nil)
	for _, tc := range []struct{ user, password string }{{"jaasuser", "bad"}, {"nobody", "x"}} {
		c := newRaw(t, s)
		if code := saslLogin(t, c, tc.user, tc.password); code != wire.ErrAuthFailed {
			t.Errorf("%s: %v, want %v", tc.user, code, wire.ErrAuthFailed)
		}
		c.waitClosed()
	}
}

func TestSASLFailedClientsAllowed(t *testing.T) {
	s := saslServer(t, func(a *conf.Auth) { a.AllowSASLFailedClients = true })
	c := newRaw(t, s)
	if code := saslLogin(t, c, "jaasuser", t.Name()); code != wire.ErrOK {
		t.Fatalf("failed login with allowSaslFailedClients: %v", code)
	}
	var who wire.WhoAmIResponse
	c.expect(wire.ErrOK, wire.OpWhoAmI, nil, &who)
	if len(who.ClientInfo) != 1 {
		t.Errorf("whoAmI %v, want the ip identity alone", who.ClientInfo)
	}
}

func TestEnforceAuth(t *testing.T) {
	s := saslServer(t, func(a *conf.Auth) {
		a.EnforceEnabled = true
		a.EnforceSchemes = []string{"sasl", "digest"}
	})
	anon := newRaw(t, s)
	anon.expect(wire.ErrSessionClosedRequireSASLAuth, wire.OpExists, &wire.PathWatchRequest{Path: "/"}, nil)
	anon.waitClosed()

	c := newRaw(t, s)
	if code := saslLogin(t, c, "jaasuser", "jaas_password"); code != wire.ErrOK {
		t.Fatalf("SASL login: %v", code)
	}
	c.expect(wire.ErrOK, wire.OpExists, &wire.PathWatchRequest{Path: "/"}, nil)

	d := newRaw(t, s)
	d.expect(wire.ErrOK, wire.OpAuth, &wire.AuthPacket{Scheme: "digest", Auth: []byte("u:p")}, nil)
	d.expect(wire.ErrOK, wire.OpExists, &wire.PathWatchRequest{Path: "/"}, nil)

	// A failed SASL login when sasl is enforced says so.
	f := newRaw(t, s)
	if code := saslLogin(t, f, "jaasuser", "bad"); code != wire.ErrSessionClosedRequireSASLAuth {
		t.Errorf("failed login: %v, want %v", code, wire.ErrSessionClosedRequireSASLAuth)
	}
	f.waitClosed()
}

func TestSASLWithoutJAAS(t *testing.T) {
	s := startServer(t, nil)
	c := newRaw(t, s)
	var tok wire.SASLToken
	c.expect(wire.ErrOK, wire.OpSASL, &wire.SASLToken{Token: []byte{}}, &tok)
	if len(tok.Token) != 0 {
		t.Errorf("token %q, want none", tok.Token)
	}
	c.expect(wire.ErrOK, wire.OpExists, &wire.PathWatchRequest{Path: "/"}, nil)
}
