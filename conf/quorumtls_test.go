package conf

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestQuorumTLS(t *testing.T) {
	dir, path := setup(t, `dataDir={dir}
clientPort=2181
sslQuorum=true
ssl.quorum.keyStore.location={dir}/peer.pem
ssl.quorum.trustStore.location={dir}/ca.pem
ssl.quorum.hostnameVerification=false
ssl.quorum.enabledProtocols=TLSv1.3
ssl.keyStore.location={dir}/client-port.pem
`, nil)
	c, err := LoadEnv(path, env{}.get)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "SSLQuorum", c.SSLQuorum, true)
	q, err := c.QuorumTLS()
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "KeyStore", q.KeyStore, Store{Location: filepath.Join(dir, "peer.pem"), Type: StorePEM, Property: "zookeeper.ssl.quorum.keyStore.location"})
	eq(t, "TrustStore", q.TrustStore, Store{Location: filepath.Join(dir, "ca.pem"), Type: StorePEM, Property: "zookeeper.ssl.quorum.trustStore.location"})
	eq(t, "ClientAuth", q.ClientAuth, ClientAuthNeed)
	eq(t, "HostnameVerification", q.HostnameVerification, false)
	eq(t, "ClientHostnameVerification", q.ClientHostnameVerification, false)
	eq(t, "EnabledProtocols", q.EnabledProtocols, []string{"TLSv1.3"})
	// The client port's keys are not the quorum's.
	ct, err := c.ClientTLS()
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "client port key store", ct.KeyStore.Location, filepath.Join(dir, "client-port.pem"))
	eq(t, "client port HostnameVerification", ct.HostnameVerification, true)
	for _, k := range c.UnknownKeys {
		t.Errorf("%s reported as unknown", k)
	}

	for _, tc := range []struct{ cfg, want string }{
		{"ssl.quorum.trustStore.location={dir}/ca.pem\n", "sslQuorum: is true but ssl.quorum.keyStore.location"},
		{"ssl.quorum.keyStore.location={dir}/peer.pem\n", "sslQuorum: is true but ssl.quorum.trustStore.location"},
		{"ssl.quorum.keyStore.location={dir}/peer.jks\nssl.quorum.trustStore.location={dir}/ca.pem\n",
			"ssl.quorum.keyStore.location (zookeeper.ssl.quorum.keyStore.location): {dir}/peer.jks: JKS key stores are not supported"},
		{"ssl.quorum.keyStore.location={dir}/peer.pem\nssl.quorum.trustStore.location={dir}/ca.pem\nssl.quorum.ocsp=true\n",
			"ssl.quorum.ocsp (zookeeper.ssl.quorum.ocsp): certificate revocation checking is not supported"},
	} {
		dir, path := setup(t, "dataDir={dir}\nclientPort=2181\nsslQuorum=true\n"+tc.cfg, nil)
		c, err := LoadEnv(path, env{}.get)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.QuorumTLS()
		want := strings.ReplaceAll(tc.want, "{dir}", dir)
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%q: error %v, want %s", tc.cfg, err, want)
		}
	}
}
