package server

// TLS on the secure client port (secureClientPort), configured by Apache
// ZooKeeper's zookeeper.ssl.* properties with PEM key and trust stores,
// and the x509 identity of a client certificate (Apache's
// X509AuthenticationProvider, which here is always on).

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/zkgo/zkgo/conf"
	"github.com/zkgo/zkgo/internal/auth"
	"github.com/zkgo/zkgo/internal/keystore"
	"github.com/zkgo/zkgo/wire"
)

// tlsHandshakeTimeout bounds a client's TLS handshake (Netty's default
// handshake timeout, which Apache ZooKeeper keeps).
const tlsHandshakeTimeout = 10 * time.Second

// listenClients listens on every client port the configuration names:
// clientPort in plaintext and secureClientPort with TLS. With both, the
// listener it returns accepts from both and its Addr is the plaintext
// one. Nothing is left listening when it fails.
func (s *Server) listenClients() (net.Listener, error) {
	var lns []net.Listener
	if s.cfg.ClientPort > 0 {
		ln, err := net.Listen("tcp", s.ClientAddr())
		if err != nil {
			return nil, fmt.Errorf("listen on client port: %w", err)
		}
		lns = append(lns, ln)
	}
	if s.cfg.SecureClientPort > 0 {
		ln, err := s.listenSecure()
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return nil, err
		}
		lns = append(lns, ln)
	}
	switch len(lns) {
	case 0:
		return nil, errors.New("no clientPort or secureClientPort configured")
	case 1:
		return lns[0], nil
	}
	return newMultiListener(lns), nil
}

// listenSecure listens on secureClientPortAddress:secureClientPort with
// the TLS configuration of the zookeeper.ssl.* properties. Accepted
// connections are *tls.Conn whose handshake is done by conn.tlsHandshake.
func (s *Server) listenSecure() (net.Listener, error) {
	t, err := s.cfg.ClientTLS()
	if err != nil {
		return nil, err
	}
	tc, warnings, err := keystore.ServerConfig(t)
	if err != nil {
		return nil, err
	}
	for _, w := range warnings {
		s.log.Warn(w)
	}
	addr := net.JoinHostPort(s.cfg.SecureClientPortAddress, strconv.Itoa(s.cfg.SecureClientPort))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on secure client port: %w", err)
	}
	s.log.Info("listening for TLS clients", zap.String("address", ln.Addr().String()),
		zap.Stringer("clientAuth", t.ClientAuth), zap.String("keyStore", t.KeyStore.Location),
		zap.String("trustStore", t.TrustStore.Location))
	return tls.NewListener(ln, tc), nil
}

// tlsHandshake completes the TLS handshake of a connection accepted on the
// secure client port and gives the connection the identities of the
// client certificate, as Apache's X509AuthenticationProvider: {"super",
// DN} when DN is zookeeper.X509AuthenticationProvider.superUser, then
// {"x509", DN}, after its "ip" identity. It returns false when the
// handshake fails; the caller then closes the connection. A plaintext
// connection passes untouched.
func (c *conn) tlsHandshake() bool {
	tc, ok := c.nc.(*tls.Conn)
	if !ok {
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), tlsHandshakeTimeout)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		c.s.log.Warn("TLS handshake failed; closing connection",
			zap.String("client", c.nc.RemoteAddr().String()), zap.Error(err))
		return false
	}
	ids, err := x509Identities(tc.ConnectionState(), c.s.cfg.Properties[conf.PropX509SuperUser])
	if err != nil {
		c.s.log.Warn("cannot read the client certificate's subject; closing connection",
			zap.String("client", c.nc.RemoteAddr().String()), zap.Error(err))
		return false
	}
	if len(ids) == 0 {
		return true
	}
	c.idMu.Lock()
	c.auth = append(c.auth[:len(c.auth):len(c.auth)], ids...)
	c.idMu.Unlock()
	for _, id := range ids {
		c.s.log.Info("authenticated client certificate", zap.String("scheme", id.Scheme),
			zap.String("id", id.ID), zap.String("client", c.nc.RemoteAddr().String()))
	}
	return true
}

// x509Identities returns the identities of the verified client
// certificate of a finished handshake (none without one).
func x509Identities(cs tls.ConnectionState, superUser string) ([]wire.Id, error) {
	if len(cs.PeerCertificates) == 0 {
		return nil, nil
	}
	return auth.X509Identities(cs.PeerCertificates[0].RawSubject, superUser)
}

// multiListener accepts connections from several listeners.
type multiListener struct {
	lns       []net.Listener
	accepted  chan acceptResult
	done      chan struct{}
	closeOnce sync.Once
}

type acceptResult struct {
	nc  net.Conn
	err error
}

func newMultiListener(lns []net.Listener) *multiListener {
	l := &multiListener{lns: lns, accepted: make(chan acceptResult), done: make(chan struct{})}
	for _, ln := range lns {
		go l.run(ln)
	}
	return l
}

// run hands ln's connections to Accept until ln fails for good or l is
// closed.
func (l *multiListener) run(ln net.Listener) {
	for {
		nc, err := ln.Accept()
		select {
		case l.accepted <- acceptResult{nc, err}:
		case <-l.done:
			if nc != nil {
				nc.Close()
			}
			return
		}
		var ne net.Error
		if err != nil && !(errors.As(err, &ne) && ne.Timeout()) {
			return
		}
	}
}

// Accept implements net.Listener.
func (l *multiListener) Accept() (net.Conn, error) {
	select {
	case r := <-l.accepted:
		return r.nc, r.err
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close implements net.Listener: it closes every listener.
func (l *multiListener) Close() error {
	var err error
	l.closeOnce.Do(func() {
		close(l.done)
		for _, ln := range l.lns {
			if cerr := ln.Close(); err == nil {
				err = cerr
			}
		}
	})
	return err
}

// Addr implements net.Listener: the address of the first listener (the
// plaintext client port when there is one).
func (l *multiListener) Addr() net.Addr { return l.lns[0].Addr() }
