// Package keystore turns Apache ZooKeeper's TLS settings (conf.ClientTLS:
// PEM key and trust stores, with PKCS#8 keys that may be encrypted with
// PBES2, protocols and cipher suites by their Java names) into the
// tls.Config of the secure client port and of the quorum ports.
package keystore

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/pbkdf2"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"net"
	"os"
	"strings"

	"github.com/zkgo/zkgo/conf"
)

// apacheCipherSuites is Apache ZooKeeper's default zookeeper.ssl.ciphersuites
// on Java 9 and later. Go does not implement the two AES_256_CBC_SHA384
// suites; cipherSuites skips them.
var apacheCipherSuites = []string{
	"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
	"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
	"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
	"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
	"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
	"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
	"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
	"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
	"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
	"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
	"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
	"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
}

// ServerConfig turns the settings of the secure client port (or of the
// quorum ports) into the tls.Config of the accepting side. Warnings name
// cipher suites that were left out because Go does not implement them.
func ServerConfig(t *conf.ClientTLS) (*tls.Config, []string, error) {
	if t.KeyStore.Location == "" {
		return nil, nil, &conf.Error{Key: "secureClientPort",
			Msg: "is set but ssl.keyStore.location (zookeeper.ssl.keyStore.location) is not: the secure client port needs a PEM file with the server's private key and certificate chain"}
	}
	cert, err := LoadKeyStore(t.KeyStore)
	if err != nil {
		return nil, nil, err
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}}
	if t.TrustStore.Location != "" {
		if tc.ClientCAs, err = LoadTrustStore(t.TrustStore); err != nil {
			return nil, nil, err
		}
	}
	switch t.ClientAuth {
	case conf.ClientAuthNeed:
		tc.ClientAuth = tls.RequireAndVerifyClientCert
	case conf.ClientAuthWant:
		tc.ClientAuth = tls.VerifyClientCertIfGiven
	default:
		tc.ClientAuth = tls.NoClientCert
	}
	if tc.MinVersion, tc.MaxVersion, err = tlsVersions(t.EnabledProtocols); err != nil {
		return nil, nil, err
	}
	var warnings []string
	if tc.CipherSuites, warnings, err = cipherSuites(t.CipherSuites, tc.MinVersion); err != nil {
		return nil, nil, err
	}
	if t.ClientHostnameVerification && tc.ClientAuth != tls.NoClientCert {
		base := tc.Clone()
		tc.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			c := base.Clone()
			ip := hostOf(hello.Conn.RemoteAddr())
			c.VerifyConnection = func(cs tls.ConnectionState) error {
				if len(cs.PeerCertificates) == 0 {
					return nil
				}
				return cs.PeerCertificates[0].VerifyHostname(ip)
			}
			return c, nil
		}
	}
	return tc, warnings, nil
}

// tlsVersions maps Java protocol names (ssl.enabledProtocols) to the
// range of TLS versions Go enables; a gap in the list is filled.
func tlsVersions(protocols []string) (minV, maxV uint16, err error) {
	for _, p := range protocols {
		var lo, hi uint16
		switch p {
		case "TLSv1":
			lo, hi = tls.VersionTLS10, tls.VersionTLS10
		case "TLSv1.1":
			lo, hi = tls.VersionTLS11, tls.VersionTLS11
		case "TLSv1.2":
			lo, hi = tls.VersionTLS12, tls.VersionTLS12
		case "TLSv1.3":
			lo, hi = tls.VersionTLS13, tls.VersionTLS13
		case "TLS":
			lo, hi = tls.VersionTLS12, tls.VersionTLS13
		case "SSLv2Hello":
			continue // a Java pseudo-protocol: nothing to enable
		default:
			return 0, 0, &conf.Error{Key: "ssl.enabledProtocols (zookeeper.ssl.enabledProtocols) or ssl.protocol (zookeeper.ssl.protocol)",
				Msg: fmt.Sprintf("%q is not a supported protocol; choose among TLSv1, TLSv1.1, TLSv1.2 and TLSv1.3", p)}
		}
		if minV == 0 || lo < minV {
			minV = lo
		}
		if hi > maxV {
			maxV = hi
		}
	}
	if minV == 0 {
		return 0, 0, &conf.Error{Key: "ssl.enabledProtocols (zookeeper.ssl.enabledProtocols)", Msg: "names no TLS protocol"}
	}
	return minV, maxV, nil
}

// cipherSuites maps Java cipher suite names to Go's; nil names mean
// Apache's default list. Names Go does not implement are left out with a
// warning (silently for the defaults); TLS 1.3 suites are accepted and
// always on, as Go does not let them be chosen. It is an error when TLS
// 1.2 or earlier is enabled and no suite for it remains.
func cipherSuites(names []string, minV uint16) ([]uint16, []string, error) {
	known := map[string]*tls.CipherSuite{}
	for _, cs := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		known[cs.Name] = cs
	}
	defaults := names == nil
	if defaults {
		names = apacheCipherSuites
	}
	var ids []uint16
	var skipped []string
	for _, n := range names {
		cs, ok := known[n]
		if !ok {
			if !defaults {
				skipped = append(skipped, n)
			}
			continue
		}
		if len(cs.SupportedVersions) == 1 && cs.SupportedVersions[0] == tls.VersionTLS13 {
			continue
		}
		ids = append(ids, cs.ID)
	}
	var warnings []string
	if len(skipped) > 0 {
		warnings = append(warnings, fmt.Sprintf("ssl.ciphersuites: leaving out cipher suites this server does not implement: %s",
			strings.Join(skipped, ",")))
	}
	if len(ids) == 0 && minV < tls.VersionTLS13 {
		return nil, nil, &conf.Error{Key: "ssl.ciphersuites (zookeeper.ssl.ciphersuites)",
			Msg: fmt.Sprintf("none of %s is a cipher suite this server implements for TLS 1.2 or earlier", strings.Join(names, ","))}
	}
	return ids, warnings, nil
}

// readPEMFile reads a store and splits it into its PEM blocks. A file
// without any is reported as what it looks like (a JKS or PKCS12 store).
func readPEMFile(st conf.Store) ([]*pem.Block, error) {
	data, err := os.ReadFile(st.Location)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, st.Errorf("%v", err)
	}
	var blocks []*pem.Block
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		blocks = append(blocks, b)
	}
	if len(blocks) > 0 {
		return blocks, nil
	}
	switch {
	case bytes.HasPrefix(data, []byte{0xfe, 0xed, 0xfe, 0xed}):
		return nil, st.Errorf("this is a JKS store, not a PEM file; convert it with keytool -importkeystore -deststoretype PKCS12 and openssl pkcs12 -nodes")
	case len(data) > 0 && data[0] == 0x30:
		return nil, st.Errorf("this is a binary (DER or PKCS12) file, not a PEM file; convert it with openssl (openssl pkcs12 -nodes, or openssl x509 -inform DER)")
	}
	return nil, st.Errorf("no PEM data found")
}

// isCertBlock reports whether a PEM block holds one certificate.
func isCertBlock(b *pem.Block) bool { return b.Type == "CERTIFICATE" || b.Type == "X509 CERTIFICATE" }

// LoadKeyStore reads a PEM key store: the private key (PKCS#8, encrypted
// PKCS#8 with the store's password, PKCS#1 or SEC 1) and the certificate
// chain, leaf first. The leaf is the certificate that matches the key.
func LoadKeyStore(st conf.Store) (tls.Certificate, error) {
	blocks, err := readPEMFile(st)
	if err != nil {
		return tls.Certificate{}, err
	}
	var keyBlock *pem.Block
	var certs []*x509.Certificate
	for _, b := range blocks {
		switch {
		case isCertBlock(b):
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return tls.Certificate{}, st.Errorf("certificate %d: %v", len(certs)+1, err)
			}
			certs = append(certs, c)
		case strings.HasSuffix(b.Type, "PRIVATE KEY") && keyBlock == nil:
			keyBlock = b
		}
	}
	if keyBlock == nil {
		return tls.Certificate{}, st.Errorf("no private key found: a PEM key store holds the private key and the certificate chain in one file")
	}
	if len(certs) == 0 {
		return tls.Certificate{}, st.Errorf("no certificate found: a PEM key store holds the private key and the certificate chain in one file")
	}
	key, err := parsePrivateKey(keyBlock, st.Password)
	if err != nil {
		return tls.Certificate{}, st.Errorf("%v", err)
	}
	pub, ok := key.(interface{ Public() crypto.PublicKey })
	if !ok {
		return tls.Certificate{}, st.Errorf("unsupported private key type %T", key)
	}
	leaf := -1
	for i, c := range certs {
		if k, ok := c.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); ok && k.Equal(pub.Public()) {
			leaf = i
			break
		}
	}
	if leaf < 0 {
		return tls.Certificate{}, st.Errorf("no certificate matches the private key")
	}
	chain := [][]byte{certs[leaf].Raw}
	for i, c := range certs {
		if i != leaf {
			chain = append(chain, c.Raw)
		}
	}
	return tls.Certificate{Certificate: chain, PrivateKey: key, Leaf: certs[leaf]}, nil
}

// LoadTrustStore reads the CA certificates of a PEM trust store.
func LoadTrustStore(st conf.Store) (*x509.CertPool, error) {
	blocks, err := readPEMFile(st)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	n := 0
	for _, b := range blocks {
		if !isCertBlock(b) {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, st.Errorf("certificate %d: %v", n+1, err)
		}
		pool.AddCert(c)
		n++
	}
	if n == 0 {
		return nil, st.Errorf("no certificate found: a PEM trust store holds the CA certificates client certificates are verified against")
	}
	return pool, nil
}

// parsePrivateKey decodes a PEM private key block.
func parsePrivateKey(b *pem.Block, password string) (crypto.Signer, error) {
	if _, ok := b.Headers["DEK-Info"]; ok {
		return nil, errors.New("legacy OpenSSL-encrypted keys (Proc-Type/DEK-Info) are not supported; convert the key with openssl pkcs8 -topk8 -v2 aes256")
	}
	der := b.Bytes
	var key any
	var err error
	switch b.Type {
	case "ENCRYPTED PRIVATE KEY":
		if password == "" {
			return nil, errors.New("the private key is encrypted; set ssl.keyStore.password (zookeeper.ssl.keyStore.password) or ssl.keyStore.passwordPath")
		}
		if der, err = decryptPKCS8(der, password); err != nil {
			return nil, err
		}
		key, err = x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return nil, errors.New("cannot decrypt the private key: wrong ssl.keyStore.password?")
		}
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(der)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(der)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(der)
	default:
		return nil, fmt.Errorf("unsupported private key block %q", b.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("private key: %v", err)
	}
	switch k := key.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
		return k.(crypto.Signer), nil
	}
	return nil, fmt.Errorf("unsupported private key type %T", key)
}

// Object identifiers of PKCS#5 v2 (RFC 8018) encryption.
var (
	oidPBES2        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACWithSHA1 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidDESEDE3CBC   = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
	pbkdf2PRFs      = map[string]func() hash.Hash{
		"1.2.840.113549.2.7":  sha1.New,
		"1.2.840.113549.2.8":  sha256.New224,
		"1.2.840.113549.2.9":  sha256.New,
		"1.2.840.113549.2.10": sha512.New384,
		"1.2.840.113549.2.11": sha512.New,
	}
	aesCBCKeySizes = map[string]int{
		"2.16.840.1.101.3.4.1.2":  16,
		"2.16.840.1.101.3.4.1.22": 24,
		"2.16.840.1.101.3.4.1.42": 32,
	}
)

type encryptedPrivateKeyInfo struct {
	Algorithm pkix.AlgorithmIdentifier
	Data      []byte
}

type pbes2Params struct {
	KeyDerivation pkix.AlgorithmIdentifier
	Encryption    pkix.AlgorithmIdentifier
}

type pbkdf2Params struct {
	Salt       []byte
	Iterations int
	KeyLength  int                      `asn1:"optional"`
	PRF        pkix.AlgorithmIdentifier `asn1:"optional"`
}

// decryptPKCS8 decrypts an EncryptedPrivateKeyInfo protected with PBES2
// (PBKDF2 with HMAC-SHA1/224/256/384/512 and AES-CBC or 3DES-CBC: what
// openssl pkcs8 -topk8 -v2 and Java write) and returns the PKCS#8 key.
func decryptPKCS8(der []byte, password string) ([]byte, error) {
	unsupported := func(what string) error {
		return fmt.Errorf("the private key's encryption (%s) is not supported; re-encrypt it with openssl pkcs8 -topk8 -v2 aes256", what)
	}
	var info encryptedPrivateKeyInfo
	if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) > 0 {
		return nil, errors.New("malformed encrypted private key")
	}
	if !info.Algorithm.Algorithm.Equal(oidPBES2) {
		return nil, unsupported(info.Algorithm.Algorithm.String())
	}
	var params pbes2Params
	if _, err := asn1.Unmarshal(info.Algorithm.Parameters.FullBytes, &params); err != nil {
		return nil, errors.New("malformed PBES2 parameters")
	}
	if !params.KeyDerivation.Algorithm.Equal(oidPBKDF2) {
		return nil, unsupported("key derivation " + params.KeyDerivation.Algorithm.String())
	}
	var kdf pbkdf2Params
	if _, err := asn1.Unmarshal(params.KeyDerivation.Parameters.FullBytes, &kdf); err != nil {
		return nil, errors.New("malformed PBKDF2 parameters")
	}
	prfOID := kdf.PRF.Algorithm
	if len(prfOID) == 0 {
		prfOID = oidHMACWithSHA1
	}
	prf, ok := pbkdf2PRFs[prfOID.String()]
	if !ok {
		return nil, unsupported("PRF " + prfOID.String())
	}
	encOID := params.Encryption.Algorithm
	var keyLen int
	var newCipher func([]byte) (cipher.Block, error)
	if n, ok := aesCBCKeySizes[encOID.String()]; ok {
		keyLen, newCipher = n, aes.NewCipher
	} else if encOID.Equal(oidDESEDE3CBC) {
		keyLen, newCipher = 24, des.NewTripleDESCipher
	} else {
		return nil, unsupported("cipher " + encOID.String())
	}
	if kdf.KeyLength != 0 && kdf.KeyLength != keyLen {
		return nil, errors.New("malformed PBKDF2 parameters: key length does not fit the cipher")
	}
	var iv []byte
	if _, err := asn1.Unmarshal(params.Encryption.Parameters.FullBytes, &iv); err != nil {
		return nil, errors.New("malformed cipher parameters")
	}
	key, err := pbkdf2.Key(prf, password, kdf.Salt, kdf.Iterations, keyLen)
	if err != nil {
		return nil, fmt.Errorf("PBKDF2: %v", err)
	}
	block, err := newCipher(key)
	if err != nil {
		return nil, err
	}
	bs := block.BlockSize()
	if len(iv) != bs || len(info.Data) == 0 || len(info.Data)%bs != 0 {
		return nil, errors.New("malformed encrypted private key")
	}
	plain := make([]byte, len(info.Data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, info.Data)
	pad := int(plain[len(plain)-1])
	if pad == 0 || pad > bs {
		return nil, errors.New("cannot decrypt the private key: wrong ssl.keyStore.password?")
	}
	for _, c := range plain[len(plain)-pad:] {
		if int(c) != pad {
			return nil, errors.New("cannot decrypt the private key: wrong ssl.keyStore.password?")
		}
	}
	return plain[:len(plain)-pad], nil
}

// hostOf is the IP address of a connection's remote end, as a client
// certificate must name it.
func hostOf(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}
