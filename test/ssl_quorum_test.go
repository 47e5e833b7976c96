package test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"maps"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkgo/zkgo/test/harness"
)

// quorumCerts are PEM files for sslQuorum: a CA, a peer key store (ECDSA
// key and a certificate for IP 127.0.0.1, good for TLS servers and
// clients, as every server is both) and a key store signed by another CA.
type quorumCerts struct {
	ca, peer, rogue string
}

func writeQuorumCerts(t *testing.T) quorumCerts {
	t.Helper()
	dir := t.TempDir()
	write := func(name string, blocks ...*pem.Block) string { return writePEM(t, dir, name, blocks...) }
	newCA := func(cn string) (*x509.Certificate, *ecdsa.PrivateKey, []byte) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			t.Fatal(err)
		}
		ca, _ := x509.ParseCertificate(der)
		return ca, key, der
	}
	issue := func(name string, ca *x509.Certificate, caKey *ecdsa.PrivateKey) string {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "zkgo peer"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			KeyUsage:    x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		pk, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		return write(name, &pem.Block{Type: "PRIVATE KEY", Bytes: pk}, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	}
	ca, caKey, caDER := newCA("zkgo quorum CA")
	rogueCA, rogueKey, _ := newCA("another CA")
	return quorumCerts{
		ca:    write("ca.pem", &pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		peer:  issue("peer.pem", ca, caKey),
		rogue: issue("rogue.pem", rogueCA, rogueKey),
	}
}

// quorumPort returns the quorum port of server id from a server's zoo.cfg.
func quorumPort(t *testing.T, s *harness.Server, id int) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.Dir(), "zoo.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	prefix := "server." + strconv.Itoa(id) + "="
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, prefix); ok {
			parts := strings.Split(v, ":")
			return parts[1]
		}
	}
	t.Fatalf("no %s line in %s's zoo.cfg", prefix, s.Dir())
	return ""
}

// TestSSLQuorum runs a 3-server ensemble with sslQuorum=true and PEM key
// and trust stores (Apache's ssl.quorum.* keys, hostname verification on):
// the servers elect a leader and replicate a write over TLS; the quorum
// port speaks only TLS and admits only a certificate of the trusted CA.
func TestSSLQuorum(t *testing.T) {
	certs := writeQuorumCerts(t)
	cfg := maps.Clone(ensembleCfg)
	maps.Copy(cfg, map[string]string{
		"sslQuorum":                      "true",
		"ssl.quorum.keyStore.location":   certs.peer,
		"ssl.quorum.keyStore.type":       "PEM",
		"ssl.quorum.trustStore.location": certs.ca,
		"ssl.quorum.trustStore.type":     "PEM",
	})
	servers := harness.StartEnsemble(t, 3, cfg)
	leader := leaderOf(t, servers)

	c, _, err := zk.Connect([]string{leader.Addr()}, 10*time.Second, zk.WithLogger(quietLogger{}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Create("/over-tls", []byte("replicated"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatalf("create on the leader: %v", err)
	}
	for _, s := range servers {
		if s == leader {
			continue
		}
		f, _, err := zk.Connect([]string{s.Addr()}, 10*time.Second, zk.WithLogger(quietLogger{}))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Sync("/over-tls"); err != nil {
			t.Fatalf("sync on server %d: %v", s.ID(), err)
		}
		data, _, err := f.Get("/over-tls")
		f.Close()
		if err != nil || string(data) != "replicated" {
			t.Errorf("server %d: get /over-tls = %q, %v", s.ID(), data, err)
		}
	}

	// Each server timed its election (mntr's election_time summary).
	mntr, err := leader.FourLetter("mntr")
	if err != nil || !strings.Contains(mntr, "zk_cnt_election_time\t1\n") || !strings.Contains(mntr, "zk_looking_count\t1\n") {
		t.Errorf("leader's mntr: no zk_cnt_election_time 1 and zk_looking_count 1 (%v)", err)
	}

	// The quorum port is TLS only: a handshake with the trusted
	// certificate succeeds, one with another CA's does not.
	addr := net.JoinHostPort("127.0.0.1", quorumPort(t, leader, leader.ID()))
	roots := x509.NewCertPool()
	caPEM, _ := os.ReadFile(certs.ca)
	roots.AppendCertsFromPEM(caPEM)
	handshake := func(keyStore string) error {
		cert, err := tls.LoadX509KeyPair(keyStore, keyStore)
		if err != nil {
			t.Fatal(err)
		}
		d := &net.Dialer{Timeout: 5 * time.Second}
		conn, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: roots})
		if err != nil {
			return err
		}
		defer conn.Close()
		// TLS 1.3 reports a refused client certificate on the first
		// read; an accepted peer is sent nothing, so the read times out.
		conn.SetDeadline(time.Now().Add(time.Second))
		_, err = conn.Read(make([]byte, 1))
		var ne net.Error
		if err != nil && errors.As(err, &ne) && ne.Timeout() {
			return nil
		}
		return err
	}
	if err := handshake(certs.peer); err != nil {
		t.Errorf("TLS handshake with the quorum port using the ensemble's certificate: %v", err)
	}
	if err := handshake(certs.rogue); err == nil {
		t.Error("the quorum port accepted a certificate of an untrusted CA")
	}
}

// TestPortUnificationQuorum is the middle step of Apache's rolling upgrade
// to quorum TLS: every server has portUnification=true and the quorum key
// stores, only server 1 has sslQuorum=true (it dials TLS, the others
// plaintext), and the ensemble still elects a leader and replicates.
func TestPortUnificationQuorum(t *testing.T) {
	certs := writeQuorumCerts(t)
	cfg := maps.Clone(ensembleCfg)
	maps.Copy(cfg, map[string]string{
		"portUnification":                "true",
		"ssl.quorum.keyStore.location":   certs.peer,
		"ssl.quorum.trustStore.location": certs.ca,
	})
	servers := harness.StartEnsemble(t, 3, cfg)
	// Restart server 1 with sslQuorum=true.
	s1 := servers[0]
	s1.Stop()
	path := filepath.Join(s1.Dir(), "zoo.cfg")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(b, "sslQuorum=true\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s1.Restart(); err != nil {
		t.Fatal(err)
	}
	leaderOf(t, servers)
	if log, _ := os.ReadFile(filepath.Join(s1.Dir(), "server.log")); !strings.Contains(string(log), `"sslQuorum": true, "portUnification": true`) {
		t.Errorf("server 1 does not say it dials its peers with TLS; its log:\n%s", log)
	}
	c, _, err := zk.Connect([]string{s1.Addr()}, 10*time.Second, zk.WithLogger(quietLogger{}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Create("/mixed", []byte("ok"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatalf("create through the TLS-dialling server: %v", err)
	}
	for _, s := range servers[1:] {
		f, _, err := zk.Connect([]string{s.Addr()}, 10*time.Second, zk.WithLogger(quietLogger{}))
		if err != nil {
			t.Fatal(err)
		}
		f.Sync("/mixed")
		data, _, err := f.Get("/mixed")
		f.Close()
		if err != nil || string(data) != "ok" {
			t.Errorf("server %d: get /mixed = %q, %v", s.ID(), data, err)
		}
	}
}
