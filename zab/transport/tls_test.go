package transport

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/zkgo/zkgo/zab"
)

// testTLS returns listen and dial configurations with a certificate for
// 127.0.0.1 signed by a fresh CA, each side verifying the other's.
func testTLS(t *testing.T) (listen, dial *tls.Config) {
	t.Helper()
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	caKey := newKey()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key := newKey()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "peer"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	listen = &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
	dial = &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool}
	return listen, dial
}

// With TLS on both sides messages flow; a peer without TLS reaches
// nobody, and nothing it sends is received.
func TestTLS(t *testing.T) {
	listen, dial := testTLS(t)
	peers := []Peer{
		{ID: 1, QuorumAddr: freeAddr(t), ElectionAddr: freeAddr(t)},
		{ID: 2, QuorumAddr: freeAddr(t), ElectionAddr: freeAddr(t)},
		{ID: 3, QuorumAddr: freeAddr(t), ElectionAddr: freeAddr(t)},
	}
	var trs []*Transport
	for _, id := range []int64{1, 2} {
		tr, err := New(Config{ID: id, Peers: peers, ListenTLS: listen, DialTLS: dial})
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Close()
		trs = append(trs, tr)
	}
	plain, err := New(Config{ID: 3, Peers: peers})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()

	plain.Send([]zab.Message{{Type: zab.MsgPing, From: 3, To: 2, Seq: 99}})
	trs[0].Send([]zab.Message{
		{Type: zab.MsgProposal, From: 1, To: 2, Seq: 1, Entries: []zab.Entry{{Zxid: 1, Data: []byte("x")}}},
		{Type: zab.MsgVote, From: 1, To: 2, Round: 3},
	})
	got := receive(t, trs[1], 2)
	for _, m := range got {
		if m.From != 1 {
			t.Errorf("received %v from a peer without TLS", m)
		}
	}
	// The plaintext peer's connection attempt fails: it sees the link as
	// lost, and a TLS peer cannot reach it either.
	select {
	case id := <-plain.Disconnected():
		if id != 2 {
			t.Errorf("plaintext peer lost %d, want 2", id)
		}
	case <-time.After(10 * time.Second):
		t.Error("the plaintext peer's link to a TLS peer was not reported lost")
	}
	select {
	case m := <-trs[1].Recv():
		t.Errorf("received %v after the TLS messages", m)
	default:
	}
}

// A port with AcceptPlaintext (portUnification) takes TLS and plaintext
// peers alike.
func TestPortUnification(t *testing.T) {
	listen, dial := testTLS(t)
	peers := []Peer{
		{ID: 1, QuorumAddr: freeAddr(t), ElectionAddr: freeAddr(t)},
		{ID: 2, QuorumAddr: freeAddr(t), ElectionAddr: freeAddr(t)},
		{ID: 3, QuorumAddr: freeAddr(t), ElectionAddr: freeAddr(t)},
	}
	cfgs := []Config{
		{ID: 1, Peers: peers, ListenTLS: listen, DialTLS: dial},                        // TLS only
		{ID: 2, Peers: peers, ListenTLS: listen, DialTLS: dial, AcceptPlaintext: true}, // unified, dials TLS
		{ID: 3, Peers: peers, ListenTLS: listen, AcceptPlaintext: true},                // unified, dials plaintext
	}
	var trs []*Transport
	for _, cfg := range cfgs {
		tr, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Close()
		trs = append(trs, tr)
	}
	trs[0].Send([]zab.Message{{Type: zab.MsgVote, From: 1, To: 2, Round: 1}})
	trs[2].Send([]zab.Message{{Type: zab.MsgVote, From: 3, To: 2, Round: 3}, {Type: zab.MsgPing, From: 3, To: 2, Seq: 1}})
	from := map[int64]int{}
	for _, m := range receive(t, trs[1], 3) {
		from[m.From]++
	}
	if from[1] != 1 || from[3] != 2 {
		t.Errorf("server 2 received %v by sender, want 1 from the TLS peer and 2 from the plaintext one", from)
	}
	trs[1].Send([]zab.Message{{Type: zab.MsgVote, From: 2, To: 3, Round: 2}})
	if m := receive(t, trs[2], 1)[0]; m.From != 2 {
		t.Errorf("server 3 received %v", m)
	}
}
