package zkclient

import (
	"context"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/zkgo/zkgo/wire"
)

// IsSequential reports whether a create flag makes a sequential node.
func IsSequential(flags int32) bool {
	return flags == wire.FlagPersistentSequential || flags == wire.FlagEphemeralSequential || flags == wire.FlagPersistentSequentialWithTTL
}

// OpenACL is ZooDefs.Ids.OPEN_ACL_UNSAFE.
var OpenACL = []wire.ACL{{Perms: wire.PermAll, ID: wire.Id{Scheme: "world", ID: "anyone"}}}

func (cl *Client) addWatch(k watchKind, path string, w *Watcher) {
	if w == nil {
		return
	}
	if w == cl.opts.DefaultWatcher {
		w = Default
	}
	cl.watches.add(k, path, w)
}

// Get returns a node's data (nil for a node created without data) and
// Stat, and sets a data watch for w unless w is nil.
func (cl *Client) Get(ctx context.Context, path string, w *Watcher) ([]byte, *wire.Stat, error) {
	if err := ValidatePath(path, false); err != nil {
		return nil, nil, err
	}
	sp := cl.serverPath(path)
	if w == nil {
		var data []byte
		var st *zk.Stat
		err := await(ctx, func() (err error) { data, st, err = cl.conn.Get(sp); return })
		if err != nil {
			return nil, nil, fromZK(err, path)
		}
		return data, fromZKStat(st), nil
	}
	var resp wire.GetDataResponse
	err := cl.raw(ctx, wire.OpGetData, &wire.PathWatchRequest{Path: sp, Watch: true}, &resp, path, func(c wire.ErrCode) {
		if c == wire.ErrOK {
			cl.addWatch(kindData, path, w)
		}
	})
	if err != nil {
		return nil, nil, err
	}
	return resp.Data, &resp.Stat, nil
}

// GetConfig returns the ensemble configuration (the data of
// /zookeeper/config, which no chroot applies to).
func (cl *Client) GetConfig(ctx context.Context, w *Watcher) ([]byte, *wire.Stat, error) {
	var resp wire.GetDataResponse
	err := cl.raw(ctx, wire.OpGetData, &wire.PathWatchRequest{Path: ConfigNode, Watch: w != nil}, &resp, ConfigNode, func(c wire.ErrCode) {
		if c == wire.ErrOK {
			cl.addWatch(kindData, cl.clientPath(ConfigNode), w)
		}
	})
	if err != nil {
		return nil, nil, err
	}
	return resp.Data, &resp.Stat, nil
}

// Exists returns a node's Stat, or nil if there is no such node, and sets a
// watch for w unless w is nil (a data watch if the node exists, else an
// exist watch).
func (cl *Client) Exists(ctx context.Context, path string, w *Watcher) (*wire.Stat, error) {
	if err := ValidatePath(path, false); err != nil {
		return nil, err
	}
	sp := cl.serverPath(path)
	if w == nil {
		var ok bool
		var st *zk.Stat
		err := await(ctx, func() (err error) { ok, st, err = cl.conn.Exists(sp); return })
		if err != nil {
			return nil, fromZK(err, path)
		}
		if !ok {
			return nil, nil
		}
		return fromZKStat(st), nil
	}
	var resp wire.StatResponse
	err := cl.raw(ctx, wire.OpExists, &wire.PathWatchRequest{Path: sp, Watch: true}, &resp, path, func(c wire.ErrCode) {
		switch c {
		case wire.ErrOK:
			cl.addWatch(kindData, path, w)
		case wire.ErrNoNode:
			cl.addWatch(kindExist, path, w)
		}
	})
	if IsCode(err, wire.ErrNoNode) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &resp.Stat, nil
}

// Children returns a node's children, unsorted, and its Stat, and sets a
// child watch for w unless w is nil.
func (cl *Client) Children(ctx context.Context, path string, w *Watcher) ([]string, *wire.Stat, error) {
	if err := ValidatePath(path, false); err != nil {
		return nil, nil, err
	}
	sp := cl.serverPath(path)
	if w == nil {
		var children []string
		var st *zk.Stat
		err := await(ctx, func() (err error) { children, st, err = cl.conn.Children(sp); return })
		if err != nil {
			return nil, nil, fromZK(err, path)
		}
		return children, fromZKStat(st), nil
	}
	var resp wire.GetChildren2Response
	err := cl.raw(ctx, wire.OpGetChildren2, &wire.PathWatchRequest{Path: sp, Watch: true}, &resp, path, func(c wire.ErrCode) {
		if c == wire.ErrOK {
			cl.addWatch(kindChild, path, w)
		}
	})
	if err != nil {
		return nil, nil, err
	}
	return resp.Children, &resp.Stat, nil
}

// Create creates a node and returns its path (with the sequence number of
// a sequential node). ttl is used by the TTL flags only, in milliseconds.
func (cl *Client) Create(ctx context.Context, path string, data []byte, acl []wire.ACL, flags int32, ttl int64) (string, error) {
	if err := ValidatePath(path, IsSequential(flags)); err != nil {
		return "", err
	}
	if len(acl) == 0 {
		return "", &Error{Code: wire.ErrInvalidACL}
	}
	sp := cl.serverPath(path)
	zacl := toZKACL(acl)
	var created string
	err := await(ctx, func() (err error) {
		switch flags {
		case wire.FlagContainer:
			created, err = cl.conn.CreateContainer(sp, data, flags, zacl)
		case wire.FlagPersistentWithTTL, wire.FlagPersistentSequentialWithTTL:
			created, err = cl.conn.CreateTTL(sp, data, flags, zacl, time.Duration(ttl)*time.Millisecond)
		default:
			created, err = cl.conn.Create(sp, data, flags, zacl)
		}
		return err
	})
	if err != nil {
		return "", fromZK(err, path)
	}
	return cl.clientPath(created), nil
}

// Set replaces a node's data if its version matches (-1: any).
func (cl *Client) Set(ctx context.Context, path string, data []byte, version int32) (*wire.Stat, error) {
	if err := ValidatePath(path, false); err != nil {
		return nil, err
	}
	sp := cl.serverPath(path)
	var st *zk.Stat
	if data == nil {
		data = []byte{}
	}
	err := await(ctx, func() (err error) { st, err = cl.conn.Set(sp, data, version); return })
	if err != nil {
		return nil, fromZK(err, path)
	}
	return fromZKStat(st), nil
}

// Delete deletes a node if its version matches (-1: any).
func (cl *Client) Delete(ctx context.Context, path string, version int32) error {
	if err := ValidatePath(path, false); err != nil {
		return err
	}
	sp := cl.serverPath(path)
	return fromZK(await(ctx, func() error { return cl.conn.Delete(sp, version) }), path)
}

// DeleteMulti deletes the nodes in one multi transaction, in order, any
// version.
func (cl *Client) DeleteMulti(ctx context.Context, paths []string) error {
	ops := make([]any, len(paths))
	for i, p := range paths {
		if err := ValidatePath(p, false); err != nil {
			return err
		}
		ops[i] = &zk.DeleteRequest{Path: cl.serverPath(p), Version: -1}
	}
	err := await(ctx, func() (err error) { _, err = cl.conn.Multi(ops...); return })
	return fromZK(err, "")
}

// GetACL returns a node's ACL and Stat.
func (cl *Client) GetACL(ctx context.Context, path string) ([]wire.ACL, *wire.Stat, error) {
	if err := ValidatePath(path, false); err != nil {
		return nil, nil, err
	}
	sp := cl.serverPath(path)
	var acl []zk.ACL
	var st *zk.Stat
	err := await(ctx, func() (err error) { acl, st, err = cl.conn.GetACL(sp); return })
	if err != nil {
		return nil, nil, fromZK(err, path)
	}
	return fromZKACL(acl), fromZKStat(st), nil
}

// SetACL replaces a node's ACL if its ACL version matches (-1: any).
func (cl *Client) SetACL(ctx context.Context, path string, acl []wire.ACL, version int32) (*wire.Stat, error) {
	if err := ValidatePath(path, false); err != nil {
		return nil, err
	}
	if len(acl) == 0 {
		return nil, &Error{Code: wire.ErrInvalidACL}
	}
	sp := cl.serverPath(path)
	var st *zk.Stat
	err := await(ctx, func() (err error) { st, err = cl.conn.SetACL(sp, toZKACL(acl), version); return })
	if err != nil {
		return nil, fromZK(err, path)
	}
	return fromZKStat(st), nil
}

// Sync waits until the server the client is connected to has caught up
// with the leader.
func (cl *Client) Sync(ctx context.Context, path string) error {
	if err := ValidatePath(path, false); err != nil {
		return err
	}
	sp := cl.serverPath(path)
	return fromZK(await(ctx, func() (err error) { _, err = cl.conn.Sync(sp); return }), path)
}

// AddAuth adds credentials to the session. Credentials the server refuses
// end the session, as with Apache ZooKeeper's client: the state becomes
// AuthFailed and the default watcher is told.
func (cl *Client) AddAuth(ctx context.Context, scheme string, auth []byte) error {
	err := fromZK(await(ctx, func() error { return cl.conn.AddAuth(scheme, auth) }), "")
	if IsCode(err, wire.ErrAuthFailed) {
		cl.mu.Lock()
		cl.closing = true
		cl.mu.Unlock()
		cl.setState(AuthFailed)
		cl.deliverSession(StateAuthFailed)
		cl.conn.Close()
	}
	return err
}

// GetEphemerals returns the paths of the session's ephemeral nodes under
// prefix ("/" for all).
func (cl *Client) GetEphemerals(ctx context.Context, prefix string) ([]string, error) {
	if err := ValidatePath(prefix, false); err != nil {
		return nil, err
	}
	var resp wire.StringsResponse
	if err := cl.raw(ctx, wire.OpGetEphemerals, &wire.PathRequest{Path: cl.serverPath(prefix)}, &resp, "", nil); err != nil {
		return nil, err
	}
	out := make([]string, 0, len(resp.Strings))
	for _, p := range resp.Strings {
		out = append(out, cl.clientPath(p))
	}
	return out, nil
}

// GetAllChildrenNumber returns the number of descendants of a node.
func (cl *Client) GetAllChildrenNumber(ctx context.Context, path string) (int32, error) {
	if err := ValidatePath(path, false); err != nil {
		return 0, err
	}
	var resp wire.IntResponse
	if err := cl.raw(ctx, wire.OpGetAllChildrenNumber, &wire.PathRequest{Path: cl.serverPath(path)}, &resp, path, nil); err != nil {
		return 0, err
	}
	return resp.Value, nil
}

// WhoAmI returns the identities the server knows the session by.
func (cl *Client) WhoAmI(ctx context.Context) ([]wire.ClientInfo, error) {
	var resp wire.WhoAmIResponse
	if err := cl.raw(ctx, wire.OpWhoAmI, &wire.Empty{}, &resp, "", nil); err != nil {
		return nil, err
	}
	return resp.ClientInfo, nil
}

// AddWatch sets a persistent (optionally recursive) watch for w.
func (cl *Client) AddWatch(ctx context.Context, path string, mode AddWatchMode, w *Watcher) error {
	if err := ValidatePath(path, false); err != nil {
		return err
	}
	k := kindPersistent
	if mode == PersistentRecursive {
		k = kindRecursive
	}
	req := &wire.PathTypeRequest{Path: cl.serverPath(path), Type: int32(mode)}
	return cl.raw(ctx, wire.OpAddWatch, req, nil, path, func(c wire.ErrCode) {
		if c == wire.ErrOK {
			cl.addWatch(k, path, w)
		}
	})
}

// RemoveWatches removes the watches of type t that w (nil: every watcher)
// has on path, on the server and then locally, and tells the watchers with
// DataWatchRemoved, ChildWatchRemoved or PersistentWatchRemoved events. With
// local, the watches are removed locally even if the server cannot be told.
func (cl *Client) RemoveWatches(ctx context.Context, path string, t WatcherType, w *Watcher, local bool) error {
	if err := ValidatePath(path, false); err != nil {
		return err
	}
	if w == cl.opts.DefaultWatcher && w != nil {
		w = Default
	}
	if !cl.watches.contains(path, t, w) {
		return &Error{Code: wire.ErrNoWatcher, Path: path}
	}
	req := &wire.PathTypeRequest{Path: cl.serverPath(path), Type: int32(t)}
	err := cl.raw(ctx, wire.OpRemoveWatches, req, nil, path, nil)
	if err != nil && !local {
		return err
	}
	r, ok := cl.watches.remove(path, t, w)
	if !ok {
		return &Error{Code: wire.ErrNoWatcher, Path: path}
	}
	for i, typ := range r.types {
		for x := range r.watchers[i] {
			cl.call(x, Event{Type: typ, State: StateSyncConnected, Path: path})
		}
	}
	return nil
}

// reconfigRequest is ReconfigRequest with nullable strings: a server tells
// an incremental reconfig from a full one by which fields are null.
type reconfigRequest struct {
	joining, leaving, members *string
	version                   int64
}

func encodeNullable(e *wire.Encoder, s *string) {
	if s == nil {
		e.Int(-1)
		return
	}
	e.String(*s)
}

func (r *reconfigRequest) Encode(e *wire.Encoder) {
	encodeNullable(e, r.joining)
	encodeNullable(e, r.leaving)
	encodeNullable(e, r.members)
	e.Long(r.version)
}

func (r *reconfigRequest) Decode(d *wire.Decoder) { d.Fail(wire.ErrBadOp) }

// Reconfig changes the ensemble: incrementally (joining and/or leaving) or
// to a new membership (members). version is the expected configuration
// version (-1: any). It returns the new configuration and its Stat.
func (cl *Client) Reconfig(ctx context.Context, joining, leaving, members *string, version int64) ([]byte, *wire.Stat, error) {
	var resp wire.GetDataResponse
	req := &reconfigRequest{joining: joining, leaving: leaving, members: members, version: version}
	if err := cl.raw(ctx, wire.OpReconfig, req, &resp, "", nil); err != nil {
		return nil, nil, err
	}
	return resp.Data, &resp.Stat, nil
}
