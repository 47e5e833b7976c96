package keystore

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
)

// DialConfig is the tls.Config that dials a peer's quorum port with the
// certificate and settings of listen (ServerConfig's for the quorum): the
// peer's certificate must be signed by a CA of listen's trust store and,
// with verifyHostname, name the address dialled.
func DialConfig(listen *tls.Config, verifyHostname bool) *tls.Config {
	dial := &tls.Config{
		Certificates: listen.Certificates,
		RootCAs:      listen.ClientCAs,
		MinVersion:   listen.MinVersion,
		MaxVersion:   listen.MaxVersion,
		CipherSuites: listen.CipherSuites,
	}
	if !verifyHostname {
		// Verify the chain but not the name in it.
		roots := listen.ClientCAs
		dial.InsecureSkipVerify = true
		dial.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
			return verifyChain(raw, roots)
		}
	}
	return dial
}

// verifyChain verifies a peer's certificate chain (leaf first) against
// roots, for any key usage.
func verifyChain(raw [][]byte, roots *x509.CertPool) error {
	if len(raw) == 0 {
		return errors.New("peer presented no certificate")
	}
	certs := make([]*x509.Certificate, len(raw))
	for i, b := range raw {
		c, err := x509.ParseCertificate(b)
		if err != nil {
			return err
		}
		certs[i] = c
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	return err
}
