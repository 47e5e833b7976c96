package server

import (
	"crypto/tls"
	"crypto/x509"
	"errors"

	"go.uber.org/zap"
)

// quorumTLS returns the TLS configurations of the quorum and election
// ports when sslQuorum is set (nil, nil without it): listen is the
// accepting side's, which requires a peer certificate signed by a CA of
// ssl.quorum.trustStore (unless ssl.quorum.clientAuth says otherwise) and,
// with ssl.quorum.hostnameVerification (default true), naming the peer's
// address; dial is the connecting side's, which presents the same
// certificate and verifies the peer's the same way.
func (s *Server) quorumTLS() (listen, dial *tls.Config, err error) {
	if !s.cfg.SSLQuorum {
		return nil, nil, nil
	}
	qt, err := s.cfg.QuorumTLS()
	if err != nil {
		return nil, nil, err
	}
	listen, warnings, err := newClientTLSConfig(qt)
	if err != nil {
		return nil, nil, err
	}
	for _, w := range warnings {
		s.log.Warn("sslQuorum: "+w, zap.String("property", "zookeeper.ssl.quorum.ciphersuites"))
	}
	dial = &tls.Config{
		Certificates: listen.Certificates,
		RootCAs:      listen.ClientCAs,
		MinVersion:   listen.MinVersion,
		MaxVersion:   listen.MaxVersion,
		CipherSuites: listen.CipherSuites,
	}
	if !qt.HostnameVerification {
		// Verify the chain but not the name in it.
		roots := listen.ClientCAs
		dial.InsecureSkipVerify = true
		dial.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
			return verifyChain(raw, roots)
		}
	}
	s.log.Info("sslQuorum: the quorum and election ports use TLS",
		zap.String("keyStore", qt.KeyStore.Location), zap.String("trustStore", qt.TrustStore.Location),
		zap.Bool("hostnameVerification", qt.HostnameVerification))
	return listen, dial, nil
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
