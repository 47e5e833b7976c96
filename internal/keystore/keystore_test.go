package keystore

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zkgo/zkgo/conf"
)

// selfSigned makes a self-signed certificate with an ECDSA key.
func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "server"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

func writeFile(t *testing.T, file string, data []byte) {
	t.Helper()
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestEncryptedKeyStore(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	dir := t.TempDir()
	cert := selfSigned(t)
	pk, _ := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	keyFile := filepath.Join(dir, "key.pem")
	writeFile(t, keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}))
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})
	for _, args := range [][]string{
		{"-v2", "aes256"},
		{"-v2", "aes128", "-v2prf", "hmacWithSHA1"},
		{"-v2", "des3"},
	} {
		out := filepath.Join(dir, "enc.pem")
		cmd := exec.Command(openssl, append([]string{"pkcs8", "-topk8", "-in", keyFile, "-out", out, "-passout", "pass:s3cret"}, args...)...)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("openssl %v: %v\n%s", args, err, b)
		}
		enc, _ := os.ReadFile(out)
		store := filepath.Join(dir, "enc-store.pem")
		writeFile(t, store, append(certPEM, enc...)) // certificate first this time
		got, err := LoadKeyStore(conf.Store{Location: store, Type: conf.StorePEM, Password: "s3cret", Property: conf.PropSSLKeyStoreLocation})
		if err != nil {
			t.Errorf("%v: %v", args, err)
			continue
		}
		if !got.Leaf.Equal(cert.Leaf) {
			t.Errorf("%v: wrong leaf", args)
		}
		_, err = LoadKeyStore(conf.Store{Location: store, Type: conf.StorePEM, Password: "wrong", Property: conf.PropSSLKeyStoreLocation})
		if err == nil || !strings.Contains(err.Error(), "wrong ssl.keyStore.password") {
			t.Errorf("%v: wrong password: %v", args, err)
		}
		_, err = LoadKeyStore(conf.Store{Location: store, Type: conf.StorePEM, Property: conf.PropSSLKeyStoreLocation})
		if err == nil || !strings.Contains(err.Error(), "encrypted") {
			t.Errorf("%v: no password: %v", args, err)
		}
	}
	// The password may come from a file (passwordPath), less its newline.
	pwFile := filepath.Join(dir, "pw")
	writeFile(t, pwFile, []byte("s3cret\n"))
	cfg := conf.Default()
	cfg.Properties = map[string]string{conf.PropSSLKeyStoreLocation: filepath.Join(dir, "enc-store.pem"),
		conf.PropSSLKeyStorePasswordPath: pwFile}
	ct, err := cfg.ClientTLS()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKeyStore(ct.KeyStore); err != nil {
		t.Fatal(err)
	}
}
