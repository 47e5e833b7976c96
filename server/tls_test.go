package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"go.uber.org/zap"

	"github.com/zkgo/zkgo/conf"
	"github.com/zkgo/zkgo/internal/freeport"
	"github.com/zkgo/zkgo/wire"
)

// testPKI is a CA that issues certificates into PEM files of a test's
// temporary directory.
type testPKI struct {
	t      testing.TB
	dir    string
	ca     *x509.Certificate
	caKey  *ecdsa.PrivateKey
	caFile string // the CA certificate: a PEM trust store
	serial atomic.Int64
}

func newTestPKI(t testing.TB) *testPKI {
	t.Helper()
	p := &testPKI{t: t, dir: t.TempDir()}
	p.ca, p.caKey, _ = p.issue(pkix.Name{CommonName: "zkgo test CA"}, nil, nil, true)
	p.caFile = filepath.Join(p.dir, "ca.pem")
	p.write(p.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.ca.Raw}))
	return p
}

// issue makes a certificate for subject signed by the CA (self-signed
// when isCA and there is no CA yet).
func (p *testPKI) issue(subject pkix.Name, ips []net.IP, usage []x509.ExtKeyUsage, isCA bool) (*x509.Certificate, *ecdsa.PrivateKey, []byte) {
	p.t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		p.t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(p.serial.Add(1)),
		Subject:      subject,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  usage,
		IPAddresses:  ips,
	}
	parent, signer := tmpl, key
	if isCA {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	} else {
		parent, signer = p.ca, p.caKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		p.t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		p.t.Fatal(err)
	}
	return cert, key, der
}

// keyStore issues a certificate and writes a PEM key store (private key
// then certificate) named name.pem; it returns the file and the
// tls.Certificate.
func (p *testPKI) keyStore(name string, subject pkix.Name, ips []net.IP, usage ...x509.ExtKeyUsage) (string, tls.Certificate) {
	p.t.Helper()
	cert, key, der := p.issue(subject, ips, usage, false)
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		p.t.Fatal(err)
	}
	file := filepath.Join(p.dir, name+".pem")
	p.write(file, append(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...))
	return file, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}
}

func (p *testPKI) write(file string, data []byte) {
	p.t.Helper()
	if err := os.WriteFile(file, data, 0o600); err != nil {
		p.t.Fatal(err)
	}
}

// clientConfig is a client's TLS configuration: it trusts the CA and
// presents cert (none if cert.Certificate is nil).
func (p *testPKI) clientConfig(cert tls.Certificate) *tls.Config {
	roots := x509.NewCertPool()
	roots.AddCert(p.ca)
	c := &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"}
	if cert.Certificate != nil {
		c.Certificates = []tls.Certificate{cert}
	}
	return c
}

// tlsFixture is a server with a plaintext and a TLS client port, and
// the certificates to talk to it.
type tlsFixture struct {
	pki        *testPKI
	s          *Server
	secureAddr string
	client     tls.Certificate // subject clientDN
	other      tls.Certificate // subject otherDN
}

const (
	clientDN = "CN=client,OU=test,O=zkgo"
	otherDN  = "CN=other,OU=test,O=zkgo"
)

var serverIP = []net.IP{net.ParseIP("127.0.0.1")}

// startTLSServer starts a server whose secure port is configured by the
// ssl.* properties props (plus the key and trust store of a fresh CA
// unless props set them), listening as Start would with both ports.
func startTLSServer(t *testing.T, props map[string]string) *tlsFixture {
	t.Helper()
	pki := newTestPKI(t)
	serverPEM, _ := pki.keyStore("server", pkix.Name{CommonName: "server"}, serverIP, x509.ExtKeyUsageServerAuth)
	f := &tlsFixture{pki: pki}
	_, f.client = pki.keyStore("client", pkix.Name{CommonName: "client", OrganizationalUnit: []string{"test"}, Organization: []string{"zkgo"}}, serverIP, x509.ExtKeyUsageClientAuth)
	_, f.other = pki.keyStore("other", pkix.Name{CommonName: "other", OrganizationalUnit: []string{"test"}, Organization: []string{"zkgo"}}, nil, x509.ExtKeyUsageClientAuth)

	cfg := conf.Default()
	cfg.DataDir = t.TempDir()
	cfg.DataLogDir = cfg.DataDir
	cfg.TickTime = 100
	cfg.MinSessionTimeout = 200
	cfg.MaxSessionTimeout = 20000
	cfg.FourLetterWords = []string{"*"}
	cfg.SecureClientPortAddress = "127.0.0.1"
	cfg.SecureClientPort = 0 // listenSecure binds a free port
	cfg.Properties[conf.PropSSLKeyStoreLocation] = serverPEM
	cfg.Properties[conf.PropSSLTrustStoreLocation] = pki.caFile
	for k, v := range props {
		cfg.Properties[k] = v
	}
	s := New(cfg, zap.NewNop())
	sln, err := s.listenSecure()
	if err != nil {
		t.Fatal(err)
	}
	f.secureAddr = sln.Addr().String()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(newMultiListener([]net.Listener{ln, sln})); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	f.s = s
	return f
}

// dialTLS opens a TLS connection to the secure port and completes the
// handshake.
func (f *tlsFixture) dialTLS(t *testing.T, cfg *tls.Config) (*tls.Conn, error) {
	t.Helper()
	nc, err := tls.DialWithDialer(&net.Dialer{Timeout: waitLimit}, "tcp", f.secureAddr, cfg)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { nc.Close() })
	return nc, nil
}

// rawTLS opens a session over TLS with a raw client.
func (f *tlsFixture) rawTLS(t *testing.T, cert tls.Certificate) *rawClient {
	t.Helper()
	nc, err := f.dialTLS(t, f.pki.clientConfig(cert))
	if err != nil {
		t.Fatal(err)
	}
	c, err := rawOver(t, nc)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// rawOver starts a session on an open connection (dialRaw without the
// dial).
func rawOver(t testing.TB, nc net.Conn) (*rawClient, error) {
	c, err := handshakeRaw(t, nc, wire.ConnectRequest{})
	if err != nil {
		return nil, err
	}
	if c.resp.SessionID == 0 {
		return nil, errors.New("no session")
	}
	return c, nil
}

func whoAmI(c *rawClient) []wire.ClientInfo {
	c.t.Helper()
	var resp wire.WhoAmIResponse
	c.expect(wire.ErrOK, wire.OpWhoAmI, nil, &resp)
	return resp.ClientInfo
}

func hasInfo(infos []wire.ClientInfo, scheme, user string) bool {
	for _, i := range infos {
		if i.AuthScheme == scheme && i.User == user {
			return true
		}
	}
	return false
}

// zkTLS connects go-zookeeper to the secure port through a TLS dialer.
func (f *tlsFixture) zkTLS(t *testing.T, cert tls.Certificate) *zk.Conn {
	t.Helper()
	cfg := f.pki.clientConfig(cert)
	dialer := func(network, addr string, timeout time.Duration) (net.Conn, error) {
		return tls.DialWithDialer(&net.Dialer{Timeout: timeout}, network, addr, cfg)
	}
	c, events, err := zk.Connect([]string{f.secureAddr}, 10*time.Second, zk.WithDialer(dialer), zk.WithLogger(nopZKLogger{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	deadline := time.After(waitLimit)
	for {
		select {
		case ev := <-events:
			if ev.State == zk.StateHasSession {
				return c
			}
		case <-deadline:
			t.Fatal("go-zookeeper over TLS: no session")
		}
	}
}

type nopZKLogger struct{}

func (nopZKLogger) Printf(string, ...any) {}

func TestTLSGoZookeeperCreateGet(t *testing.T) {
	f := startTLSServer(t, nil)
	c := f.zkTLS(t, f.client)
	if _, err := c.Create("/tls", []byte("over tls"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	data, _, err := c.Get("/tls")
	if err != nil || string(data) != "over tls" {
		t.Fatalf("get /tls = %q, %v", data, err)
	}
	// The plaintext port serves the same tree.
	p := newRaw(t, f.s)
	var resp wire.GetDataResponse
	p.expect(wire.ErrOK, wire.OpGetData, &wire.PathWatchRequest{Path: "/tls"}, &resp)
	if string(resp.Data) != "over tls" {
		t.Fatalf("plaintext get /tls = %q", resp.Data)
	}
}

func TestTLSWhoAmIReportsX509(t *testing.T) {
	f := startTLSServer(t, nil)
	infos := whoAmI(f.rawTLS(t, f.client))
	if !hasInfo(infos, "x509", clientDN) || !hasInfo(infos, "ip", "127.0.0.1") {
		t.Fatalf("whoAmI over TLS = %+v, want ip 127.0.0.1 and x509 %s", infos, clientDN)
	}
	if hasInfo(infos, "super", clientDN) {
		t.Fatalf("whoAmI = %+v: super without superUser", infos)
	}
	// No x509 identity on the plaintext port.
	infos = whoAmI(newRaw(t, f.s))
	for _, i := range infos {
		if i.AuthScheme == "x509" {
			t.Fatalf("plaintext whoAmI = %+v", infos)
		}
	}
}

func TestTLSX509ACL(t *testing.T) {
	f := startTLSServer(t, nil)
	owner := f.rawTLS(t, f.client)
	acl := []wire.ACL{{Perms: wire.PermAll, ID: wire.Id{Scheme: "x509", ID: clientDN}}}
	owner.expect(wire.ErrOK, wire.OpCreate, &wire.CreateRequest{Path: "/mine", Data: []byte("x"), ACL: acl}, nil)
	var got wire.GetDataResponse
	owner.expect(wire.ErrOK, wire.OpGetData, &wire.PathWatchRequest{Path: "/mine"}, &got)

	other := f.rawTLS(t, f.other)
	other.expect(wire.ErrNoAuth, wire.OpGetData, &wire.PathWatchRequest{Path: "/mine"}, nil)
	other.expect(wire.ErrNoAuth, wire.OpSetData, &wire.SetDataRequest{Path: "/mine", Data: []byte("y"), Version: -1}, nil)
	newRaw(t, f.s).expect(wire.ErrNoAuth, wire.OpGetData, &wire.PathWatchRequest{Path: "/mine"}, nil)

	// "auth" expands to the caller's x509 identity.
	owner.expect(wire.ErrOK, wire.OpCreate, &wire.CreateRequest{Path: "/auth",
		ACL: []wire.ACL{{Perms: wire.PermAll, ID: wire.Id{Scheme: "auth"}}}}, nil)
	var acls wire.GetACLResponse
	owner.expect(wire.ErrOK, wire.OpGetACL, &wire.PathRequest{Path: "/auth"}, &acls)
	if len(acls.ACL) != 1 || acls.ACL[0].ID != (wire.Id{Scheme: "x509", ID: clientDN}) {
		t.Fatalf("auth ACL = %+v", acls.ACL)
	}
	other.expect(wire.ErrNoAuth, wire.OpGetData, &wire.PathWatchRequest{Path: "/auth"}, nil)

	// A malformed x509 id is an invalid ACL, as X500Principal refuses it.
	owner.expect(wire.ErrInvalidACL, wire.OpCreate, &wire.CreateRequest{Path: "/bad",
		ACL: []wire.ACL{{Perms: wire.PermAll, ID: wire.Id{Scheme: "x509", ID: "not a DN"}}}}, nil)
}

func TestTLSX509SuperUser(t *testing.T) {
	f := startTLSServer(t, map[string]string{conf.PropX509SuperUser: otherDN})
	owner := f.rawTLS(t, f.client)
	owner.expect(wire.ErrOK, wire.OpCreate, &wire.CreateRequest{Path: "/locked", Data: []byte("x"),
		ACL: []wire.ACL{{Perms: wire.PermAll, ID: wire.Id{Scheme: "x509", ID: clientDN}}}}, nil)
	super := f.rawTLS(t, f.other)
	if infos := whoAmI(super); !hasInfo(infos, "x509", otherDN) || !containsScheme(infos, "super") {
		t.Fatalf("super user's whoAmI = %+v", infos)
	}
	var got wire.GetDataResponse
	super.expect(wire.ErrOK, wire.OpGetData, &wire.PathWatchRequest{Path: "/locked"}, &got)
	super.expect(wire.ErrOK, wire.OpDelete, &wire.PathVersionRequest{Path: "/locked", Version: -1}, nil)
}

func containsScheme(infos []wire.ClientInfo, scheme string) bool {
	for _, i := range infos {
		if i.AuthScheme == scheme {
			return true
		}
	}
	return false
}

// expectRefused checks that a TLS client gets no session: the handshake
// fails, or the server closes the connection before answering.
func (f *tlsFixture) expectRefused(t *testing.T, cfg *tls.Config) {
	t.Helper()
	nc, err := f.dialTLS(t, cfg)
	if err != nil {
		return // refused in the handshake (TLS 1.2)
	}
	// With TLS 1.3 the client finishes first; the refusal arrives with
	// the server's first read.
	if c, err := rawOver(t, nc); err == nil {
		c.nc.Close()
		t.Fatal("the server gave a session to a refused client")
	}
}

func TestTLSClientAuthNeedRefusesClientWithoutCertificate(t *testing.T) {
	f := startTLSServer(t, nil) // ssl.clientAuth unset: need
	f.expectRefused(t, f.pki.clientConfig(tls.Certificate{}))
	// A certificate from another CA is refused too.
	stranger := newTestPKI(t)
	_, cert := stranger.keyStore("stranger", pkix.Name{CommonName: "stranger"}, nil, x509.ExtKeyUsageClientAuth)
	cfg := f.pki.clientConfig(cert)
	f.expectRefused(t, cfg)
	// A trusted one gets in.
	if c := f.rawTLS(t, f.client); c.resp.SessionID == 0 {
		t.Fatal("no session")
	}
}

func TestTLSClientAuthWantAndNone(t *testing.T) {
	for _, mode := range []string{"want", "NONE"} {
		t.Run(mode, func(t *testing.T) {
			f := startTLSServer(t, map[string]string{conf.PropSSLClientAuth: mode})
			anon := f.rawTLS(t, tls.Certificate{})
			if infos := whoAmI(anon); containsScheme(infos, "x509") {
				t.Fatalf("anonymous whoAmI = %+v", infos)
			}
			anon.expect(wire.ErrOK, wire.OpCreate, &wire.CreateRequest{Path: "/anon", ACL: []wire.ACL{{Perms: wire.PermAll, ID: wire.Id{Scheme: "world", ID: "anyone"}}}}, nil)
			withCert := f.rawTLS(t, f.client)
			if strings.EqualFold(mode, "want") {
				if infos := whoAmI(withCert); !hasInfo(infos, "x509", clientDN) {
					t.Fatalf("want: whoAmI with a certificate = %+v", infos)
				}
			} else if infos := whoAmI(withCert); containsScheme(infos, "x509") {
				t.Fatalf("none: whoAmI = %+v: the certificate was not asked for", infos)
			}
		})
	}
}

func TestTLSFourLetterWord(t *testing.T) {
	f := startTLSServer(t, nil)
	nc, err := f.dialTLS(t, f.pki.clientConfig(f.client))
	if err != nil {
		t.Fatal(err)
	}
	nc.SetDeadline(time.Now().Add(waitLimit))
	io.WriteString(nc, "ruok")
	b, _ := io.ReadAll(nc)
	if string(b) != "imok" {
		t.Fatalf("ruok over TLS = %q", b)
	}
}

func TestTLSProtocols(t *testing.T) {
	only := func(v uint16, cfg *tls.Config) *tls.Config {
		cfg.MinVersion, cfg.MaxVersion = v, v
		return cfg
	}
	// Default: TLSv1.2 only, as Apache ZooKeeper.
	f := startTLSServer(t, nil)
	if _, err := f.dialTLS(t, only(tls.VersionTLS13, f.pki.clientConfig(f.client))); err == nil {
		t.Error("TLS 1.3 accepted by default")
	}
	nc, err := f.dialTLS(t, f.pki.clientConfig(f.client))
	if err != nil {
		t.Fatal(err)
	}
	if v := nc.ConnectionState().Version; v != tls.VersionTLS12 {
		t.Errorf("negotiated %x, want TLS 1.2", v)
	}
	// enabledProtocols wins over protocol.
	f = startTLSServer(t, map[string]string{conf.PropSSLProtocol: "TLSv1.2", conf.PropSSLEnabledProtocols: "TLSv1.3"})
	if _, err := f.dialTLS(t, only(tls.VersionTLS12, f.pki.clientConfig(f.client))); err == nil {
		t.Error("TLS 1.2 accepted with enabledProtocols=TLSv1.3")
	}
	if _, err := f.dialTLS(t, only(tls.VersionTLS13, f.pki.clientConfig(f.client))); err != nil {
		t.Errorf("TLS 1.3 refused with enabledProtocols=TLSv1.3: %v", err)
	}
	// A cipher suite list.
	f = startTLSServer(t, map[string]string{conf.PropSSLCipherSuites: "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, TLS_NOT_A_SUITE"})
	nc, err = f.dialTLS(t, f.pki.clientConfig(f.client))
	if err != nil {
		t.Fatal(err)
	}
	if cs := nc.ConnectionState().CipherSuite; cs != tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 {
		t.Errorf("cipher suite %s", tls.CipherSuiteName(cs))
	}
}

func TestTLSClientHostnameVerification(t *testing.T) {
	f := startTLSServer(t, map[string]string{conf.PropSSLClientHostnameVerification: "true"})
	// client's certificate names 127.0.0.1; other's names no address.
	if c := f.rawTLS(t, f.client); c.resp.SessionID == 0 {
		t.Fatal("no session")
	}
	f.expectRefused(t, f.pki.clientConfig(f.other))
}

func TestTLSConfigErrors(t *testing.T) {
	pki := newTestPKI(t)
	serverPEM, cert := pki.keyStore("server", pkix.Name{CommonName: "server"}, serverIP)
	dir := pki.dir
	jks := filepath.Join(dir, "keystore.jks")
	pki.write(jks, []byte{0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2})
	jksAsPEM := filepath.Join(dir, "really-jks.pem")
	pki.write(jksAsPEM, []byte{0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2})
	certOnly := filepath.Join(dir, "cert-only.pem")
	pki.write(certOnly, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}))
	_, otherKey, _ := pki.issue(pkix.Name{CommonName: "x"}, nil, nil, false)
	pk, _ := x509.MarshalPKCS8PrivateKey(otherKey)
	mismatch := filepath.Join(dir, "mismatch.pem")
	pki.write(mismatch, append(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})...))
	keyOnly := filepath.Join(dir, "key-only.pem")
	pki.write(keyOnly, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}))

	for _, tc := range []struct {
		name  string
		props map[string]string
		want  []string // substrings of the error
	}{
		{"no key store", map[string]string{}, []string{"secureClientPort", "ssl.keyStore.location"}},
		{"jks by name", map[string]string{conf.PropSSLKeyStoreLocation: jks},
			[]string{"ssl.keyStore.location (zookeeper.ssl.keyStore.location)", jks, "JKS key stores are not supported", "keytool -importkeystore", "openssl pkcs12"}},
		{"pkcs12 by type", map[string]string{conf.PropSSLKeyStoreLocation: serverPEM, conf.PropSSLKeyStoreType: "pkcs12"},
			[]string{serverPEM, "PKCS12 key stores are not supported", "openssl pkcs12 -in"}},
		{"jks trust store", map[string]string{conf.PropSSLKeyStoreLocation: serverPEM, conf.PropSSLTrustStoreLocation: filepath.Join(dir, "trust.jks")},
			[]string{"ssl.trustStore.location", "JKS trust stores are not supported", "-nokeys"}},
		{"unknown extension", map[string]string{conf.PropSSLKeyStoreLocation: filepath.Join(dir, "server.crt")},
			[]string{"cannot tell the key store type", "zookeeper.ssl.keyStore.type=PEM"}},
		{"bad type", map[string]string{conf.PropSSLKeyStoreLocation: serverPEM, conf.PropSSLKeyStoreType: "DER"},
			[]string{"ssl.keyStore.type (zookeeper.ssl.keyStore.type)", `"DER"`}},
		{"jks content", map[string]string{conf.PropSSLKeyStoreLocation: jksAsPEM}, []string{jksAsPEM, "JKS store, not a PEM file"}},
		{"missing file", map[string]string{conf.PropSSLKeyStoreLocation: filepath.Join(dir, "missing.pem")}, []string{"missing.pem", "no such file"}},
		{"no key", map[string]string{conf.PropSSLKeyStoreLocation: certOnly}, []string{certOnly, "no private key"}},
		{"no cert", map[string]string{conf.PropSSLKeyStoreLocation: keyOnly}, []string{keyOnly, "no certificate"}},
		{"mismatch", map[string]string{conf.PropSSLKeyStoreLocation: mismatch}, []string{mismatch, "no certificate matches the private key"}},
		{"trust store without certs", map[string]string{conf.PropSSLKeyStoreLocation: serverPEM, conf.PropSSLTrustStoreLocation: keyOnly},
			[]string{"ssl.trustStore.location", keyOnly, "no certificate"}},
		{"client auth", map[string]string{conf.PropSSLKeyStoreLocation: serverPEM, conf.PropSSLClientAuth: "maybe"}, []string{"ssl.clientAuth", `"maybe"`}},
		{"protocol", map[string]string{conf.PropSSLKeyStoreLocation: serverPEM, conf.PropSSLProtocol: "SSLv3"}, []string{"ssl.protocol", `"SSLv3"`}},
		{"no usable suite", map[string]string{conf.PropSSLKeyStoreLocation: serverPEM, conf.PropSSLCipherSuites: "TLS_NOPE"}, []string{"ssl.ciphersuites", "TLS_NOPE"}},
		{"crl", map[string]string{conf.PropSSLKeyStoreLocation: serverPEM, conf.PropSSLCRL: "true"}, []string{"ssl.crl", "revocation"}},
		{"supplier", map[string]string{conf.PropSSLKeyStoreLocation: serverPEM, conf.PropSSLContextSupplierClass: "com.example.Ctx"}, []string{"ssl.context.supplier.class", "com.example.Ctx"}},
		{"auth provider", map[string]string{conf.PropSSLKeyStoreLocation: serverPEM, conf.PropSSLAuthProvider: "custom"}, []string{"ssl.authProvider", "custom"}},
	} {
		cfg := conf.Default()
		cfg.DataDir = t.TempDir()
		cfg.SecureClientPortAddress = "127.0.0.1"
		cfg.Properties = tc.props
		s := New(cfg, zap.NewNop())
		ln, err := s.listenSecure()
		if err == nil {
			ln.Close()
			t.Errorf("%s: no error", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", tc.name, err, w)
			}
		}
	}
}

func TestTLSListenClients(t *testing.T) {
	pki := newTestPKI(t)
	serverPEM, _ := pki.keyStore("server", pkix.Name{CommonName: "server"}, serverIP)
	_, client := pki.keyStore("client", pkix.Name{CommonName: "client"}, nil)
	free := func() int {
		port, err := freeport.Pick()
		if err != nil {
			t.Fatal(err)
		}
		return port
	}
	cfg := conf.Default()
	cfg.DataDir = t.TempDir()
	cfg.DataLogDir = cfg.DataDir
	cfg.FourLetterWords = []string{"*"}
	cfg.ClientPortAddress = "127.0.0.1"
	cfg.ClientPort = free()
	cfg.SecureClientPortAddress = "127.0.0.1"
	cfg.SecureClientPort = free()
	cfg.Properties[conf.PropSSLKeyStoreLocation] = serverPEM
	cfg.Properties[conf.PropSSLTrustStoreLocation] = pki.caFile
	s := New(cfg, zap.NewNop())
	ln, err := s.listenClients()
	if err != nil {
		t.Fatal(err)
	}
	if got := ln.Addr().(*net.TCPAddr).Port; got != cfg.ClientPort {
		t.Errorf("Addr port %d, want the plaintext port %d", got, cfg.ClientPort)
	}
	if err := s.Serve(ln); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if r := fourLetter(t, s.ClientAddr(), "ruok"); r != "imok" {
		t.Fatalf("plaintext ruok = %q", r)
	}
	secure := net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.SecureClientPort))
	nc, err := tls.Dial("tcp", secure, pki.clientConfig(client))
	if err != nil {
		t.Fatal(err)
	}
	nc.SetDeadline(time.Now().Add(waitLimit))
	io.WriteString(nc, "ruok")
	if b, _ := io.ReadAll(nc); string(b) != "imok" {
		t.Fatalf("TLS ruok = %q", b)
	}
	nc.Close()
	s.Close()
	for _, addr := range []string{s.ClientAddr(), secure} {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			t.Errorf("%s still listening after Close", addr)
		}
	}

	// A secure port alone is enough.
	cfg.ClientPort = 0
	cfg.SecureClientPort = free()
	ln, err = New(cfg, zap.NewNop()).listenClients()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ln.(*multiListener); ok {
		t.Error("one port, yet a multiListener")
	}
	ln.Close()
	cfg.SecureClientPort = 0
	if _, err := New(cfg, zap.NewNop()).listenClients(); err == nil {
		t.Error("no port: no error")
	}
}
