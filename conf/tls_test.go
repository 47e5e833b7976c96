package conf

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestClientTLSFromZooCfgAndFlags(t *testing.T) {
	dir, path := setup(t, `dataDir={dir}
clientPort=2181
secureClientPort=2281
ssl.keyStore.location={dir}/server.pem
ssl.keyStore.passwordPath={dir}/pw
ssl.trustStore.location={dir}/ca.crt
ssl.trustStore.type=pem
ssl.clientAuth=Want
ssl.enabledProtocols=TLSv1.2, TLSv1.3
ssl.ciphersuites=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
X509AuthenticationProvider.superUser=CN=admin,O=zkgo
`, map[string]string{"pw": "s3cret\n"})
	c, err := LoadEnv(path, env{"SERVER_JVMFLAGS": "-Dzookeeper.ssl.clientHostnameVerification=TRUE -Dzookeeper.ssl.protocol=TLSv1.3"}.get)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "SecureClientPort", c.SecureClientPort, 2281)
	ct, err := c.ClientTLS()
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "KeyStore", ct.KeyStore, Store{Location: filepath.Join(dir, "server.pem"), Type: StorePEM, Password: "s3cret", Property: PropSSLKeyStoreLocation})
	eq(t, "TrustStore", ct.TrustStore, Store{Location: filepath.Join(dir, "ca.crt"), Type: StorePEM, Property: PropSSLTrustStoreLocation})
	eq(t, "ClientAuth", ct.ClientAuth, ClientAuthWant)
	eq(t, "Protocol", ct.Protocol, "TLSv1.3")
	eq(t, "EnabledProtocols", ct.EnabledProtocols, []string{"TLSv1.2", "TLSv1.3"})
	eq(t, "CipherSuites", ct.CipherSuites, []string{"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"})
	eq(t, "ClientHostnameVerification", ct.ClientHostnameVerification, true)
	eq(t, "SuperUser", ct.SuperUser, "CN=admin,O=zkgo")
	for _, k := range c.UnknownKeys {
		if strings.HasPrefix(k, "ssl.") || strings.HasPrefix(k, "X509") {
			t.Errorf("%s reported as unknown", k)
		}
	}
}

func TestClientTLSDefaults(t *testing.T) {
	c := Default()
	ct, err := c.ClientTLS()
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "KeyStore", ct.KeyStore, Store{Property: PropSSLKeyStoreLocation})
	eq(t, "ClientAuth", ct.ClientAuth, ClientAuthNeed)
	eq(t, "ClientAuth string", ct.ClientAuth.String(), "need")
	eq(t, "Protocol", ct.Protocol, "TLSv1.2")
	eq(t, "EnabledProtocols", ct.EnabledProtocols, []string{"TLSv1.2"})
	eq(t, "CipherSuites", ct.CipherSuites, []string(nil))
	eq(t, "ClientHostnameVerification", ct.ClientHostnameVerification, false)

	// The protocol alone sets the enabled protocols; hostnameVerification
	// false turns the client check off; a store type is read in any case.
	c.Properties = map[string]string{
		PropSSLProtocol:                   "TLSv1.3",
		PropSSLHostnameVerification:       "false",
		PropSSLClientHostnameVerification: "true",
		PropSSLKeyStoreLocation:           "/etc/zk/keys",
		PropSSLKeyStoreType:               " pem ",
		PropSSLClientAuth:                 "none",
		PropSSLCRL:                        "false",
	}
	ct, err = c.ClientTLS()
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "EnabledProtocols", ct.EnabledProtocols, []string{"TLSv1.3"})
	eq(t, "ClientHostnameVerification", ct.ClientHostnameVerification, false)
	eq(t, "KeyStore", ct.KeyStore, Store{Location: "/etc/zk/keys", Type: StorePEM, Property: PropSSLKeyStoreLocation})
	eq(t, "ClientAuth", ct.ClientAuth, ClientAuthNone)
}

func TestClientTLSErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		props map[string]string
		want  string
	}{
		{"jks key store", map[string]string{PropSSLKeyStoreLocation: "/etc/zk/keystore.jks"},
			"ssl.keyStore.location (zookeeper.ssl.keyStore.location): /etc/zk/keystore.jks: JKS key stores are not supported, only PEM; " +
				"convert it with keytool -importkeystore -srckeystore /etc/zk/keystore.jks -srcstoretype JKS -destkeystore /etc/zk/keystore.p12 -deststoretype PKCS12, " +
				"then openssl pkcs12 -in /etc/zk/keystore.p12 -nodes -out /etc/zk/keystore.pem and set ssl.keyStore.location=/etc/zk/keystore.pem and ssl.keyStore.type=PEM"},
		{"jks trust store by type", map[string]string{PropSSLTrustStoreLocation: "/etc/zk/trust.pem", PropSSLTrustStoreType: "JKS"},
			"ssl.trustStore.location (zookeeper.ssl.trustStore.location): /etc/zk/trust.pem: JKS trust stores are not supported, only PEM; " +
				"convert it with keytool -importkeystore -srckeystore /etc/zk/trust.pem -srcstoretype JKS -destkeystore /etc/zk/trust.p12 -deststoretype PKCS12, " +
				"then openssl pkcs12 -in /etc/zk/trust.p12 -nokeys -out /etc/zk/trust.pem and set ssl.trustStore.location=/etc/zk/trust.pem and ssl.trustStore.type=PEM"},
		{"pkcs12 key store", map[string]string{PropSSLKeyStoreLocation: "/k.p12"},
			"ssl.keyStore.location (zookeeper.ssl.keyStore.location): /k.p12: PKCS12 key stores are not supported, only PEM; " +
				"convert it with openssl pkcs12 -in /k.p12 -nodes -out /k.pem and set ssl.keyStore.location=/k.pem and ssl.keyStore.type=PEM"},
		{"bcfks", map[string]string{PropSSLKeyStoreLocation: "/k.bcfks"}, "BCFKS key stores are not supported"},
		{"no extension", map[string]string{PropSSLKeyStoreLocation: "/etc/zk/server"},
			"ssl.keyStore.location (zookeeper.ssl.keyStore.location): /etc/zk/server: cannot tell the key store type from the file name; set zookeeper.ssl.keyStore.type=PEM"},
		{"bad type", map[string]string{PropSSLKeyStoreLocation: "/k.pem", PropSSLKeyStoreType: "p12"},
			`ssl.keyStore.type (zookeeper.ssl.keyStore.type): "p12" is not a store type; only PEM is supported`},
		{"client auth", map[string]string{PropSSLClientAuth: "required"},
			`ssl.clientAuth (zookeeper.ssl.clientAuth): "required" is not a client auth mode; choose need, want or none`},
		{"empty protocols", map[string]string{PropSSLEnabledProtocols: " , "}, "ssl.enabledProtocols (zookeeper.ssl.enabledProtocols): names no protocol"},
		{"empty suites", map[string]string{PropSSLCipherSuites: ""}, "ssl.ciphersuites (zookeeper.ssl.ciphersuites): names no cipher suite"},
		{"ocsp", map[string]string{PropSSLOCSP: "true"}, "ssl.ocsp (zookeeper.ssl.ocsp): certificate revocation checking is not supported"},
		{"supplier", map[string]string{PropSSLContextSupplierClass: "a.B"}, "ssl.context.supplier.class (zookeeper.ssl.context.supplier.class): a.B: Java SSLContext supplier classes are not supported"},
		{"auth provider", map[string]string{PropSSLAuthProvider: "myx509"}, `ssl.authProvider (zookeeper.ssl.authProvider): "myx509": only the built-in x509`},
		{"password file", map[string]string{PropSSLKeyStoreLocation: "/k.pem", PropSSLKeyStorePasswordPath: "/nonexistent/pw"}, "ssl.keyStore.passwordPath (zookeeper.ssl.keyStore.passwordPath): open /nonexistent/pw"},
	} {
		c := Default()
		c.Properties = tc.props
		_, err := c.ClientTLS()
		var ce *Error
		if !errors.As(err, &ce) {
			t.Errorf("%s: error %v is not a *conf.Error", tc.name, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s:\n got %s\nwant %s...", tc.name, err, tc.want)
		}
	}
	// The authProvider that names the built-in provider is fine.
	c := Default()
	c.Properties = map[string]string{PropSSLAuthProvider: "x509"}
	if _, err := c.ClientTLS(); err != nil {
		t.Error(err)
	}
}

func TestStoreErrorf(t *testing.T) {
	s := Store{Location: "/k.pem", Property: PropSSLKeyStoreLocation}
	eq(t, "Errorf", s.Errorf("no private key found").Error(),
		"ssl.keyStore.location (zookeeper.ssl.keyStore.location): /k.pem: no private key found")
}
