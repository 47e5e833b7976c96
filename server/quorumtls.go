package server

import (
	"crypto/tls"
	"crypto/x509"
	"errors"

	"go.uber.org/zap"

	"github.com/zkgo/zkgo/zab/transport"
)

// quorumTLS sets the TLS configuration of the quorum and election ports
// in tc, as Apache ZooKeeper's sslQuorum and portUnification. With
// sslQuorum the ports accept only TLS and peers are dialled with TLS: the
// accepting side requires a peer certificate signed by a CA of
// ssl.quorum.trustStore (unless ssl.quorum.clientAuth says otherwise) and,
// with ssl.quorum.hostnameVerification (default true), naming the peer's
// address; the dialling side presents the same certificate and verifies
// the peer's the same way. With portUnification the ports take TLS and
// plaintext alike, for a rolling upgrade to (or from) sslQuorum.
func (s *Server) quorumTLS(tc *transport.Config) error {
	if !s.cfg.SSLQuorum && !s.cfg.PortUnification {
		return nil
	}
	qt, err := s.cfg.QuorumTLS()
	if err != nil {
		if s.cfg.SSLQuorum {
			return err
		}
		s.log.Warn("portUnification: the quorum and election ports accept plaintext only, TLS is not configured",
			zap.Error(err))
		return nil
	}
	listen, warnings, err := newClientTLSConfig(qt)
	if err != nil {
		return err
	}
	for _, w := range warnings {
		s.log.Warn("sslQuorum: "+w, zap.String("property", "zookeeper.ssl.quorum.ciphersuites"))
	}
	if s.cfg.SSLQuorumReloadCertFiles {
		s.log.Warn("sslQuorumReloadCertFiles is not supported: restart the server to load new quorum certificates")
	}
	tc.ListenTLS = listen
	tc.AcceptPlaintext = s.cfg.PortUnification
	if s.cfg.SSLQuorum {
		dial := &tls.Config{
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
		tc.DialTLS = dial
	}
	s.log.Info("quorum TLS", zap.Bool("sslQuorum", s.cfg.SSLQuorum), zap.Bool("portUnification", s.cfg.PortUnification),
		zap.String("keyStore", qt.KeyStore.Location), zap.String("trustStore", qt.TrustStore.Location),
		zap.Bool("hostnameVerification", qt.HostnameVerification))
	return nil
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
