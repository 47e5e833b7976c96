package test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zkgo/zkgo/test/harness"
)

// tlsFiles are PEM files made for one test: a CA (the trust store of
// both sides), the server's key store and the key stores of two clients.
type tlsFiles struct {
	ca, server, client, intruder string
}

// writeTLSFiles makes a CA and three ECDSA certificates signed by it:
// the server's (IP address 127.0.0.1, for the client's hostname
// verification), "CN=zkcli" and "CN=intruder". Each key store holds the
// PKCS#8 private key and the certificate, as Apache's PEM loader reads it.
func writeTLSFiles(t *testing.T) tlsFiles {
	t.Helper()
	dir := t.TempDir()
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	serial := int64(0)
	template := func(cn string) *x509.Certificate {
		serial++
		return &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: cn},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(24 * time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
		}
	}
	write := func(name string, blocks ...*pem.Block) string { return writePEM(t, dir, name, blocks...) }
	caKey := newKey()
	caTmpl := template("zkgo test CA")
	caTmpl.IsCA, caTmpl.BasicConstraintsValid = true, true
	caTmpl.KeyUsage |= x509.KeyUsageCertSign
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	issue := func(name, cn string, ips []net.IP, usage x509.ExtKeyUsage) string {
		key := newKey()
		tmpl := template(cn)
		tmpl.IPAddresses = ips
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{usage}
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
	return tlsFiles{
		ca:       write("ca.pem", &pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		server:   issue("server.pem", "server", []net.IP{net.ParseIP("127.0.0.1")}, x509.ExtKeyUsageServerAuth),
		client:   issue("zkcli.pem", "zkcli", nil, x509.ExtKeyUsageClientAuth),
		intruder: issue("intruder.pem", "intruder", nil, x509.ExtKeyUsageClientAuth),
	}
}

// tlsServerCfg is the zoo.cfg of a server with a secure client port on
// 127.0.0.1:port whose key and trust stores are PEM files. The same lines
// configure Apache ZooKeeper (which also needs the Netty connection
// factory and the x509 authentication provider named).
func tlsServerCfg(f tlsFiles, port int) map[string]string {
	return map[string]string{
		"secureClientPort":        strconv.Itoa(port),
		"secureClientPortAddress": "127.0.0.1",
		"serverCnxnFactory":       "org.apache.zookeeper.server.NettyServerCnxnFactory",
		"authProvider.x509":       "org.apache.zookeeper.server.auth.X509AuthenticationProvider",
		"ssl.keyStore.location":   f.server,
		"ssl.keyStore.type":       "PEM",
		"ssl.trustStore.location": f.ca,
		"ssl.trustStore.type":     "PEM",
	}
}

// zkCliTLSClasspath is zkCli.sh's classpath (Debian's zkEnv.sh) plus
// netty-codec and netty-resolver.
const zkCliTLSClasspath = "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar:" +
	"/usr/share/java/netty-codec.jar:/usr/share/java/netty-resolver.jar"

// zkCliTLS runs zkCli.sh against addr over TLS (Netty client socket)
// with keyStore as its PEM key store, feeding it script on stdin.
func zkCliTLS(t *testing.T, addr, keyStore, trustStore, script string) string {
	t.Helper()
	log4j := filepath.Join(t.TempDir(), "log4j.properties")
	if err := os.WriteFile(log4j, []byte("log4j.rootLogger=ERROR, CONSOLE\n"+
		"log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender\n"+
		"log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout\n"+
		"log4j.appender.CONSOLE.layout.ConversionPattern=log4j %p %m%n\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	flags := []string{
		// Debian's zookeeper.jar leaves netty-codec (SslHandler's base
		// class) and netty-resolver out of its manifest's Class-Path, so
		// the Netty client socket cannot load without them; zkCli.sh puts
		// CLIENT_JVMFLAGS after its own -cp, and the last -cp wins.
		"-cp", zkCliTLSClasspath,
		"-Dlog4j.configuration=file:" + log4j,
		"-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
		"-Dzookeeper.client.secure=true",
		"-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty",
		"-Dzookeeper.ssl.keyStore.location=" + keyStore,
		"-Dzookeeper.ssl.keyStore.type=PEM",
		"-Dzookeeper.ssl.trustStore.location=" + trustStore,
		"-Dzookeeper.ssl.trustStore.type=PEM",
	}
	ctx, cancel := context.WithTimeout(context.Background(), clientRunTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, zkCliSh, "-server", addr)
	cmd.Env = append(os.Environ(), "CLIENT_JVMFLAGS="+strings.Join(flags, " "))
	cmd.Stdin = strings.NewReader(script)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// zkCli.sh exits with the status of its last command: not checked.
	var exit *exec.ExitError
	if err := cmd.Run(); err != nil && (ctx.Err() != nil || !errors.As(err, &exit)) {
		t.Fatalf("zkCli.sh -server %s: %v\n%s", addr, err, out.String())
	}
	return out.String()
}

// zkCliTLSScripts are what the two clients type, and lines their output
// must hold (whole lines, in any order). Apache ZooKeeper 3.8.0 itself,
// run with the same zoo.cfg lines and netty-codec on its classpath,
// prints every one of them.
var zkCliTLSScripts = []struct {
	name   string
	client func(tlsFiles) string
	script string
	want   []string
}{
	{
		name:   "zkcli",
		client: func(f tlsFiles) string { return f.client },
		script: "create /tls over-tls\nget /tls\nwhoami\n" +
			"create /secured secret x509:CN=zkcli:cdrwa\nget /secured\ngetAcl /secured\nls /\nquit\n",
		want: []string{
			"Created /tls", "over-tls",
			"Auth scheme: User", "ip: 127.0.0.1", "x509: CN=zkcli",
			"Created /secured", "secret",
			"'x509,'CN=zkcli", ": cdrwa",
			"[secured, tls, zookeeper]",
		},
	},
	{
		name:   "intruder",
		client: func(f tlsFiles) string { return f.intruder },
		script: "whoami\nget /tls\nget /secured\nquit\n",
		want: []string{
			"x509: CN=intruder", "over-tls",
			"Insufficient permission : /secured",
		},
	},
}

// TestZkCliTLS runs Apache ZooKeeper's zkCli.sh (Debian's 3.8.0, Netty
// client socket, PEM key and trust stores) against zkserver's secure
// client port: the server authenticates the client certificate, whoami
// reports its x509 identity, and an x509 ACL admits that client and
// refuses another.
func TestZkCliTLS(t *testing.T) {
	t.Parallel()
	requireClient(t, zkCliSh, "zookeeper")
	files := writeTLSFiles(t)
	port := harness.FreePort(t)
	srv := harness.StartOurs(t, tlsServerCfg(files, port))
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for _, s := range zkCliTLSScripts {
		out := zkCliTLS(t, addr, s.client(files), files.ca, s.script)
		lines := map[string]bool{}
		for _, l := range strings.Split(out, "\n") {
			lines[strings.TrimSpace(l)] = true
		}
		for _, w := range s.want {
			if !lines[w] {
				t.Errorf("zkCli.sh as %s over TLS: no line %q in its output:\n%s", s.name, w, out)
			}
		}
	}
	if reply, err := srv.FourLetter("ruok"); err != nil || reply != "imok" {
		t.Errorf("plaintext port next to the secure one: ruok = %q, %v", reply, err)
	}
	if t.Failed() {
		fmt.Fprintln(os.Stderr, "zkserver zoo.cfg:", filepath.Join(srv.Dir(), "zoo.cfg"))
	}
}

// writePEM writes blocks to the file name in dir and returns its path.
func writePEM(t *testing.T, dir, name string, blocks ...*pem.Block) string {
	t.Helper()
	var b bytes.Buffer
	for _, blk := range blocks {
		if err := pem.Encode(&b, blk); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
