package conf

import (
	"strings"
	"testing"
)

// kazooJAAS is the server section kazoo's test harness writes for its
// DIGEST-MD5 tests.
const kazooJAAS = `
Server {
    org.apache.zookeeper.server.auth.DigestLoginModule required
    user_super="super_secret"
    user_jaasuser="jaas_password";
};`

func TestParseJAAS(t *testing.T) {
	got, err := ParseJAAS("jaas.conf", []byte(`// the client side
Client { org.apache.zookeeper.server.auth.DigestLoginModule required
   username="bob" password="p\"w;{}" ; };
# the server side
/* two modules,
   one section */
Server {
  org.apache.zookeeper.server.auth.DigestLoginModule Required user_a=plain
      user_b = "x y";
  com.example.Other optional;
};
`))
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "Client", got["Client"], []JAASEntry{{Module: DigestLoginModule, Flag: "required",
		Options: map[string]string{"username": "bob", "password": `p"w;{}`}, Line: 2}})
	eq(t, "Server", got["Server"], []JAASEntry{
		{Module: DigestLoginModule, Flag: "Required", Options: map[string]string{"user_a": "plain", "user_b": "x y"}, Line: 8},
		{Module: "com.example.Other", Flag: "optional", Options: map[string]string{}, Line: 10},
	})
	if got, err := ParseJAAS("empty", nil); err != nil || len(got) != 0 {
		t.Errorf("empty file: %v, %v", got, err)
	}
}

func TestParseJAASErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"Server {\n m required a=1;\n}", `jaas.conf:3: expected ";" after the closing } of section Server, found end of file`},
		{"Server {\n m always;\n};", `jaas.conf:2: m: "always" is not a control flag`},
		{"Server {\n m required a;\n};", `jaas.conf:2: expected "=" after option a, found ";"`},
		{"Server {\n m required a=;\n};", `jaas.conf:2: option a has no value`},
		{"Server {\n m required a=\"x;\n};", `jaas.conf:2: quoted value is not closed`},
		{"/* open", `jaas.conf:1: comment is not closed`},
		{"A { };\nA { };", `jaas.conf:2: section A is defined twice`},
		{"{ };", `jaas.conf:1: expected a section name, found "{"`},
	} {
		_, err := ParseJAAS("jaas.conf", []byte(tc.src))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %s", tc.src, err, tc.want)
		}
	}
}

func TestAuthFromJAASFileAndProperties(t *testing.T) {
	dir, path := setup(t, `dataDir={dir}
clientPort=2181
authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider
enforce.auth.enabled=true
enforce.auth.schemes=sasl, digest
superUser=admin
allowSaslFailedClients=false
sasl.serverconfig=Server
`, map[string]string{"jaas.conf": kazooJAAS})
	c, err := LoadEnv(path, env{"SERVER_JVMFLAGS": "-Djava.security.auth.login.config=" + dir + "/jaas.conf" +
		" -Dzookeeper.SASLAuthenticationProvider.superPassword=changed"}.get)
	if err != nil {
		t.Fatal(err)
	}
	a := c.Auth
	eq(t, "JAASFile", a.JAASFile, dir+"/jaas.conf")
	eq(t, "SASL", a.SASL, &SASLServer{Context: "Server", Users: map[string]string{"super": "changed", "jaasuser": "jaas_password"}})
	eq(t, "AuthSchemes", c.AuthSchemes(), []string{"ip", "digest", "sasl"})
	eq(t, "EnforceEnabled", a.EnforceEnabled, true)
	eq(t, "EnforceSchemes", a.EnforceSchemes, []string{"sasl", "digest"})
	eq(t, "SASLRequired", a.SASLRequired(), true)
	eq(t, "SuperUsers", a.SuperUsers, []string{"admin"})
	for _, k := range c.UnknownKeys {
		t.Errorf("%s reported as unknown", k)
	}
}

func TestAuthWithoutServerSection(t *testing.T) {
	// kazoo's harness writes an empty JAAS file when it tests no SASL.
	dir, path := setup(t, "dataDir={dir}\nclientPort=2181\n", map[string]string{"jaas.conf": ""})
	c, err := LoadEnv(path, env{"SERVER_JVMFLAGS": "-Djava.security.auth.login.config=" + dir + "/jaas.conf"}.get)
	if err != nil {
		t.Fatal(err)
	}
	if c.Auth.SASL != nil || c.Auth.EnforceEnabled {
		t.Errorf("Auth = %+v, want SASL off", c.Auth)
	}
	eq(t, "AuthSchemes", c.AuthSchemes(), []string{"ip", "digest"})
}

func TestAuthErrors(t *testing.T) {
	for _, tc := range []struct{ cfg, flags, jaas, want string }{
		{"enforce.auth.enabled=true\n", "", "", "zoo.cfg:3: enforce.auth.enabled: is true but zookeeper.enforce.auth.schemes names no scheme"},
		{"enforce.auth.enabled=true\nenforce.auth.schemes=sasl\n", "", "",
			`zoo.cfg:4: enforce.auth.schemes: authentication scheme "sasl" is not available (schemes: ip, digest); add authProvider.1=`},
		{"sessionRequireClientSASLAuth=true\n", "", "", `zoo.cfg:3: sessionRequireClientSASLAuth: authentication scheme "sasl" is not available`},
		{"", "-Djava.security.auth.login.config={dir}/missing", "", "SERVER_JVMFLAGS: -Djava.security.auth.login.config: open {dir}/missing: no such file"},
		{"", "-Djava.security.auth.login.config={dir}/jaas.conf", "Server {\n x.Krb5LoginModule required;\n};",
			"{dir}/jaas.conf:2: Server: login module x.Krb5LoginModule is not supported"},
		{"sasl.serverconfig=Other\n", "-Djava.security.auth.login.config={dir}/jaas.conf", kazooJAAS,
			`zoo.cfg:3: sasl.serverconfig: no JAAS configuration section named "Other"`},
	} {
		dir, path := setup(t, "dataDir={dir}\nclientPort=2181\n"+tc.cfg, map[string]string{"jaas.conf": tc.jaas})
		flags := strings.ReplaceAll(tc.flags, "{dir}", dir)
		_, err := LoadEnv(path, env{"SERVER_JVMFLAGS": flags}.get)
		want := strings.ReplaceAll(strings.ReplaceAll(tc.want, "{dir}", dir), "zoo.cfg:", path+":")
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%q %q: error %v, want %s", tc.cfg, tc.flags, err, want)
		}
	}
}
