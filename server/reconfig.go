package server

import (
	"encoding/binary"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"go.uber.org/zap"

	"github.com/zkgo/zkgo/conf"
	"github.com/zkgo/zkgo/wire"
	"github.com/zkgo/zkgo/zab"
	"github.com/zkgo/zkgo/zab/transport"
	"github.com/zkgo/zkgo/znode"
)

// Dynamic reconfiguration, as Apache ZooKeeper 3.5+ does it.
//
// A client's reconfig (opcode 16) is a write: a follower forwards it, and
// the leader prepares it as Apache's PrepRequestProcessor does: refused
// with ReconfigInProgress while another change is not yet active, with
// BadVersion when fromConfig is neither -1 nor the active version, with
// BadArguments for a malformed member list or too few voters, with
// NewConfigNoQuorum unless the leader and its synced followers make a
// quorum of the new voters, with NoAuth without WRITE on /zookeeper/config
// (which only super has, unless an admin changed its ACL; skipACL skips the
// check). A prepared reconfig is logged as a reconfig txn whose body holds
// the whole new member list (NewMembers) and fromConfig -1; a refused one as
// a reconfig txn with no members and the error code in CurConfigID, so that
// every server answers its own clients the same way. The zab node
// recognizes the txn (membersOf), counts the quorum of old and new voters
// while it is pending and makes it active once applied; applying it sets
// /zookeeper/config to Apache's text ("server.N=...\nversion=<zxid hex>")
// with version -1 in its Stat, firing its watches, and answers the client
// with the new data and Stat. Each server then writes
// zoo.cfg.dynamic.<version> and points zoo.cfg at it.
//
// As Apache's first leader turns a static configuration into version
// <epoch>00000000, ours proposes the unchanged membership once it leads an
// ensemble whose configuration has version 0 (with reconfigEnabled), so a
// dynamic file with a nonzero version appears (ours is <epoch>00000001:
// the change is an ordinary txn, not the NEWLEADER).

// configPath is the node that holds the membership.
const configPath = "/zookeeper/config"

// reconfigState is the driver's view of the membership.
type reconfigState struct {
	version int64
	servers []conf.Server         // the active membership's server lines
	book    map[int64]conf.Server // every server line seen, for addresses
	// view is version and servers, for the admin and four-letter
	// commands (any goroutine).
	view atomic.Pointer[publishedView]
}

// publishedView is the active membership as commands see it.
type publishedView struct {
	version int64
	servers []conf.Server
}

// initReconfig takes the membership from the configuration files and puts
// it in /zookeeper/config (Apache's initConfigInZKDatabase).
func (q *ensemble) initReconfig() {
	cfg := q.cfg
	q.rc.version, q.rc.servers, q.rc.book = cfg.ConfigVersion, cfg.Servers, map[int64]conf.Server{}
	q.rc.view.Store(&publishedView{cfg.ConfigVersion, cfg.Servers})
	for _, sv := range cfg.Servers {
		q.rc.book[sv.ID] = sv
	}
	q.writeConfigNode()
}

// writeConfigNode sets /zookeeper/config to the active membership outside
// the log, as Apache does on start (its mzxid is the version, unless the
// tree is older), unless it holds that already.
func (q *ensemble) writeConfigNode() {
	tree := q.s.tree
	text := conf.MembershipText(q.rc.servers, q.rc.version)
	res, code := tree.Read(wire.OpGetData, &wire.PathWatchRequest{Path: configPath}, znode.Caller{})
	if gd, ok := res.(*wire.GetDataResponse); code == wire.ErrOK && ok && string(gd.Data) == text {
		return // the snapshot has it, with the Stat the reconfig txn gave it
	}
	tree.ApplyApache(&znode.ApacheTxn{Zxid: min(q.rc.version, tree.LastZxid()),
		ApacheOp: znode.ApacheOp{Type: wire.OpReconfig, Path: configPath, Data: []byte(text), Version: -1}})
}

// membersOf is the zab node's Config.Members: it recognizes a prepared
// reconfig txn and returns its voters and observers.
func membersOf(data []byte) (zab.Membership, bool) {
	// The txn type follows zxid, time, session (longs) and cxid (int).
	if len(data) < 32 || wire.OpCode(int32(binary.BigEndian.Uint32(data[28:]))) != wire.OpReconfig {
		return zab.Membership{}, false
	}
	var txn znode.Txn
	if wire.Decode(data, &txn) != nil {
		return zab.Membership{}, false
	}
	req, ok := txn.Body.(*wire.ReconfigRequest)
	if !ok || req.NewMembers == "" {
		return zab.Membership{}, false
	}
	servers, err := conf.ParseMembers(req.NewMembers)
	if err != nil {
		return zab.Membership{}, false
	}
	return membership(servers, 0), true
}

// membership converts server lines to a zab membership.
func membership(servers []conf.Server, version int64) zab.Membership {
	m := zab.Membership{Version: version}
	for _, sv := range servers {
		if sv.Observer {
			m.Observers = append(m.Observers, sv.ID)
		} else {
			m.Voters = append(m.Voters, sv.ID)
		}
	}
	return m
}

// prepReconfig turns a client's reconfig txn into the txn to log (see the
// comment at the top of this file). It runs on the leader only.
func (q *ensemble) prepReconfig(txn *znode.Txn) {
	req, _ := txn.Body.(*wire.ReconfigRequest)
	servers, code := q.checkReconfig(txn, req)
	if code != wire.ErrOK {
		q.log.Info("reconfig refused", zap.String("error", code.String()), zap.Int64("session", txn.Session))
		txn.Body = &wire.ReconfigRequest{CurConfigID: int64(code)}
		return
	}
	q.log.Info("reconfig proposed", zap.String("members", conf.MembershipText(servers, 0)))
	txn.Body = &wire.ReconfigRequest{NewMembers: conf.MembershipText(servers, 0), CurConfigID: -1}
}

func (q *ensemble) checkReconfig(txn *znode.Txn, req *wire.ReconfigRequest) ([]conf.Server, wire.ErrCode) {
	s := q.s
	if req == nil {
		return nil, wire.ErrBadArguments
	}
	if q.node.ReconfigPending() {
		return nil, wire.ErrReconfigInProgress
	}
	if req.CurConfigID != -1 && req.CurConfigID != q.rc.version {
		return nil, wire.ErrBadVersion
	}
	var servers []conf.Server
	if req.NewMembers != "" {
		var err error
		if servers, err = conf.ParseMembers(req.NewMembers); err != nil {
			return nil, wire.ErrBadArguments
		}
	} else {
		next := map[int64]conf.Server{}
		for _, sv := range q.rc.servers {
			next[sv.ID] = sv
		}
		for _, f := range splitList(req.LeavingServers) {
			id, err := strconv.ParseInt(f, 10, 64)
			if err != nil {
				return nil, wire.ErrBadArguments
			}
			delete(next, id)
		}
		joining, err := conf.ParseMembers(req.JoiningServers)
		if err != nil {
			return nil, wire.ErrBadArguments
		}
		for _, sv := range joining {
			if sv.ClientPort == 0 && sv.SecureClientPort == 0 {
				return nil, wire.ErrBadArguments // Apache wants a client port
			}
			next[sv.ID] = sv
		}
		for _, sv := range next {
			servers = append(servers, sv)
		}
		servers, _ = conf.ParseMembers(conf.MembershipText(servers, 0)) // sorted
	}
	m := membership(servers, 0)
	if len(m.Voters) < 1 || (s.cfg.StandaloneEnabled && len(m.Voters) < 2) {
		return nil, wire.ErrBadArguments
	}
	if !q.node.QuorumSynced(m) {
		return nil, wire.ErrNewConfigNoQuorum
	}
	if !s.cfg.SkipACL {
		res, code := s.tree.Read(wire.OpGetACL, &wire.PathRequest{Path: configPath}, znode.Caller{})
		acl, ok := res.(*wire.GetACLResponse)
		if code != wire.ErrOK || !ok || !znode.CheckACL(acl.ACL, wire.PermWrite, txn.Auth) {
			return nil, wire.ErrNoAuth
		}
	}
	return servers, wire.ErrOK
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// applyReconfig applies a logged reconfig txn: a refused one only consumes
// its zxid; a prepared one sets /zookeeper/config and answers with its
// data and Stat.
func (q *ensemble) applyReconfig(txn *znode.Txn) znode.Result {
	tree := q.s.tree
	req, _ := txn.Body.(*wire.ReconfigRequest)
	if req == nil || req.NewMembers == "" {
		tree.Apply(&znode.Txn{Zxid: txn.Zxid, Time: txn.Time, Session: txn.Session, Cxid: txn.Cxid,
			Type: wire.OpSync, Body: &wire.PathRequest{Path: "/"}})
		code := wire.ErrBadArguments
		if req != nil {
			code = wire.ErrCode(req.CurConfigID)
		}
		return znode.Result{Err: code}
	}
	servers, err := conf.ParseMembers(req.NewMembers)
	if err != nil {
		tree.Apply(&znode.Txn{Zxid: txn.Zxid, Time: txn.Time, Type: wire.OpSync, Body: &wire.PathRequest{Path: "/"}})
		return znode.Result{Err: wire.ErrBadArguments}
	}
	for _, sv := range servers {
		q.rc.book[sv.ID] = sv
	}
	text := conf.MembershipText(servers, txn.Zxid)
	tree.ApplyApache(&znode.ApacheTxn{Session: txn.Session, Cxid: txn.Cxid, Zxid: txn.Zxid, Time: txn.Time,
		ApacheOp: znode.ApacheOp{Type: wire.OpReconfig, Path: configPath, Data: []byte(text), Version: -1}})
	res, code := tree.Read(wire.OpGetData, &wire.PathWatchRequest{Path: configPath}, znode.Caller{})
	if code != wire.ErrOK {
		return znode.Result{Err: code}
	}
	return znode.Result{Body: res}
}

// learnConfigNode adds the server lines of /zookeeper/config (a snapshot
// from the leader brought it) to the address book.
func (q *ensemble) learnConfigNode() {
	res, code := q.s.tree.Read(wire.OpGetData, &wire.PathWatchRequest{Path: configPath}, znode.Caller{})
	gd, ok := res.(*wire.GetDataResponse)
	if code != wire.ErrOK || !ok {
		return
	}
	servers, err := conf.ParseMembers(string(gd.Data))
	if err != nil {
		return
	}
	for _, sv := range servers {
		q.rc.book[sv.ID] = sv
	}
}

// membershipsActivated follows the node's new active memberships: the
// transport learns the new servers' addresses, and the dynamic
// configuration file is written.
func (q *ensemble) membershipsActivated(ms []zab.Membership) {
	m := ms[len(ms)-1]
	var servers []conf.Server
	complete := true
	for _, ids := range [][]int64{m.Voters, m.Observers} {
		for _, id := range ids {
			sv, ok := q.rc.book[id]
			if !ok {
				complete = false
				continue
			}
			sv.Observer = slices.Contains(m.Observers, id)
			servers = append(servers, sv)
			q.tr.AddPeer(transport.Peer{ID: id,
				QuorumAddr:   net.JoinHostPort(sv.Host, strconv.Itoa(sv.QuorumPort)),
				ElectionAddr: net.JoinHostPort(sv.Host, strconv.Itoa(sv.ElectionPort))})
		}
	}
	q.log.Info("membership active", zap.String("version", hex(m.Version)), zap.Int64s("voters", m.Voters),
		zap.Int64s("observers", m.Observers))
	if !complete {
		q.log.Warn("membership names servers whose addresses are unknown here; the dynamic configuration file is not written",
			zap.String("version", hex(m.Version)))
		return
	}
	servers, _ = conf.ParseMembers(conf.MembershipText(servers, 0))
	q.rc.version, q.rc.servers = m.Version, servers
	q.rc.view.Store(&publishedView{m.Version, servers})
	if q.s.cfg.File == "" {
		return
	}
	path, err := conf.WriteDynamic(q.s.cfg.File, q.s.cfg.MyID, servers, m.Version)
	if err != nil {
		q.log.Error("writing the dynamic configuration file failed", zap.Error(err))
		return
	}
	q.log.Info("dynamic configuration file written", zap.String("file", path))
}

// afterLeading gives a static configuration its first version (see the
// comment at the top of this file).
func (q *ensemble) afterLeading() {
	if !q.s.cfg.ReconfigEnabled || q.rc.version != 0 || q.node.ReconfigPending() {
		return
	}
	txn := znode.Txn{Type: wire.OpReconfig,
		Body: &wire.ReconfigRequest{NewMembers: conf.MembershipText(q.rc.servers, 0), CurConfigID: -1}}
	q.propose(&txn, nil)
}
