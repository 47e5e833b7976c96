package server

import (
	"slices"

	"go.uber.org/zap"

	"github.com/zkgo/zkgo/internal/auth"
	"github.com/zkgo/zkgo/wire"
)

// handleSASL runs one step of a client's SASL authentication (OpSASL),
// as Apache's ZooKeeperServer.processSasl; false means the connection
// ends. Without a JAAS server section Apache answers with an empty token
// and nothing learnt; so do we.
func (c *conn) handleSASL(d *wire.Decoder, xid int32) bool {
	var req wire.SASLToken
	req.Decode(d)
	if d.Err() != nil {
		return false
	}
	cfg := &c.s.cfg.Auth
	if cfg.SASL == nil {
		c.s.log.Warn("SASL token from a client, but SASL is not configured (no JAAS server section); ignoring it",
			zap.String("sessionId", hex(c.sessionID())), zap.String("client", c.nc.RemoteAddr().String()))
		c.send(&wire.ReplyHeader{Xid: xid}, &wire.SASLToken{})
		return true
	}
	if c.saslAuth == nil {
		c.saslAuth = auth.NewDigestMD5(cfg.SASL.Users)
	}
	resp, err := c.saslAuth.Evaluate(req.Token)
	if err != nil {
		c.s.log.Warn("client failed to SASL authenticate", zap.String("sessionId", hex(c.sessionID())),
			zap.String("client", c.nc.RemoteAddr().String()), zap.Error(err))
		if !cfg.AllowSASLFailedClients || cfg.SASLRequired() {
			code := wire.ErrAuthFailed
			if cfg.SASLRequired() {
				code = wire.ErrSessionClosedRequireSASLAuth
			}
			c.sendAndClose(&wire.ReplyHeader{Xid: xid, Err: code}, &wire.SASLToken{})
			return false
		}
		c.s.log.Warn("keeping the connection despite the SASL failure (zookeeper.allowSaslFailedClients)")
	} else if c.saslAuth.Complete() {
		user := c.saslAuth.AuthzID()
		super := slices.Contains(cfg.SuperUsers, user)
		c.addAuth(auth.SASLIdentities(user, cfg.SuperUsers))
		c.s.log.Info("SASL authentication succeeded", zap.String("sessionId", hex(c.sessionID())),
			zap.String("user", user), zap.Bool("superUser", super))
	}
	c.send(&wire.ReplyHeader{Xid: xid}, &wire.SASLToken{Token: resp})
	return true
}

// addAuth adds identities to the connection's, skipping those it has.
func (c *conn) addAuth(ids []wire.Id) {
	c.idMu.Lock()
	defer c.idMu.Unlock()
	all := append([]wire.Id(nil), c.auth...)
	for _, id := range ids {
		if !containsID(all, id) {
			all = append(all, id)
		}
	}
	c.auth = all
}

// authEnforced is Apache's AuthenticationHelper.enforceAuthentication:
// with enforce.auth.enabled, a request from a connection that has none of
// the enforced schemes' identities is answered with
// SessionClosedRequireSASLAuth and the connection is closed (the session
// lives on until it expires). False means the connection ends.
func (c *conn) authEnforced(xid int32) bool {
	cfg := &c.s.cfg.Auth
	if !cfg.EnforceEnabled {
		return true
	}
	ids := c.Auth()
	for _, id := range ids {
		if slices.Contains(cfg.EnforceSchemes, id.Scheme) {
			return true
		}
	}
	schemes := make([]string, len(ids))
	for i, id := range ids {
		schemes[i] = id.Scheme
	}
	c.s.log.Error("client has not authenticated with an enforced scheme; closing its connection",
		zap.String("sessionId", hex(c.sessionID())), zap.String("client", c.nc.RemoteAddr().String()),
		zap.Strings("schemes", schemes), zap.Strings("enforced", cfg.EnforceSchemes))
	c.sendAndClose(&wire.ReplyHeader{Xid: xid, Err: wire.ErrSessionClosedRequireSASLAuth})
	return false
}
