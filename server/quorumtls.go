package server

import (
	"go.uber.org/zap"

	"github.com/zkgo/zkgo/internal/keystore"
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
	listen, warnings, err := keystore.ServerConfig(qt)
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
		tc.DialTLS = keystore.DialConfig(listen, qt.HostnameVerification)
	}
	s.log.Info("quorum TLS", zap.Bool("sslQuorum", s.cfg.SSLQuorum), zap.Bool("portUnification", s.cfg.PortUnification),
		zap.String("keyStore", qt.KeyStore.Location), zap.String("trustStore", qt.TrustStore.Location),
		zap.Bool("hostnameVerification", qt.HostnameVerification))
	return nil
}
