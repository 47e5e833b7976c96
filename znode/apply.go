package znode

import (
	"fmt"
	"strings"

	"github.com/zkgo/zkgo/wire"
)

// Apply validates one txn against the tree and applies it, fires the
// watches it triggers and returns the result for the client. Validation
// follows Apache's PrepRequestProcessor (check order included), the change
// follows DataTree.processTxn. A txn that fails changes nothing but still
// counts as applied: LastZxid advances to its zxid.
//
// Apply keeps references to the byte slices of txn.Body (node data); the
// caller must not modify them afterwards.
//
// A multi is all or nothing. Every op sees the effects of the earlier ones
// (they share the txn's zxid and time). Result.Err is ErrOK even when an op
// fails, as in Apache, whose FinalRequestProcessor leaves the reply header
// error at 0 for multi: the outcome is in the body, a *wire.MultiResponse
// whose results are, on success, one per op (OpCreate with a
// *wire.PathRequest, OpCreate2 with a *wire.Create2Response for create2,
// createContainer and createTTL, OpSetData with a *wire.StatResponse,
// OpDelete and OpCheck with no body); on failure every result is an OpError:
// ErrOK for the ops before the failing one, its error for it and
// ErrRuntimeInconsistency for the rest. A multi that mixes in read ops, or
// whose op bodies do not match their types, fails as a whole with
// ErrMarshallingError. Quota checks in a multi read the tree as it was
// before the multi, as Apache's do.
//
// Session checks: create, delete, setData, setACL and check fail with
// ErrSessionExpired when txn.Session is not 0 and not in the session table.
// OpCreateSession adds (or replaces) txn.Session; OpCloseSession deletes the
// session's ephemeral nodes in path order, firing their watches, and drops
// the session (ErrOK even if it was unknown, as Apache). OpDeleteContainer
// deletes a node only if it is still a childless container, or a childless
// TTL node unchanged for longer than its TTL at txn.Time; otherwise it
// fails (ErrNoNode, ErrNotEmpty, ErrBadVersion) and changes nothing.
// Whether a container is due (it had children, or has never had any for
// longer than Options.MaxNeverUsedIntervalMs) is for the server proposing
// the txn to say (ExpiredContainers): that depends on its configuration,
// and the txn must apply alike on every replica and in every replay. OpSync (body *wire.PathRequest) is a no-op that only consumes
// its zxid and answers with the path: a replicated server turns a client's
// sync into such a txn, so that the answer on a follower comes after every
// txn the leader had before it. OpApacheTxn applies a txn of Apache
// ZooKeeper as ApplyApache does (apachetxn.go). OpReconfig and unknown types give
// ErrUnimplemented.
func (t *Tree) Apply(txn *Txn) Result {
	t.mu.Lock()
	t.wmu.Lock()
	res := t.apply(txn)
	if txn.Zxid > t.lastZxid.Load() {
		t.lastZxid.Store(txn.Zxid)
	}
	clear(t.wbuf1[:cap(t.wbuf1)])
	clear(t.wbuf2[:cap(t.wbuf2)])
	t.wmu.Unlock()
	t.mu.Unlock()
	return res
}

func (t *Tree) apply(txn *Txn) Result {
	switch txn.Type {
	case wire.OpCreate, wire.OpCreate2, wire.OpCreateContainer, wire.OpCreateTTL,
		wire.OpDelete, wire.OpSetData, wire.OpSetACL, wire.OpCheck:
		if !bodyMatches(txn.Type, txn.Body) {
			return Result{Err: wire.ErrMarshallingError}
		}
		v := view{t: t}
		p, err := t.prepare(&v, txn, txn.Type, txn.Body)
		if err != wire.ErrOK {
			return Result{Err: err}
		}
		return Result{Body: t.execute(&p, txn)}
	case wire.OpMulti:
		return t.applyMulti(txn)
	case wire.OpCreateSession:
		cs, ok := txn.Body.(*CreateSession)
		if !ok {
			return Result{Err: wire.ErrMarshallingError}
		}
		t.sessions[txn.Session] = &SessionInfo{ID: txn.Session, Timeout: cs.Timeout, Passwd: cs.Passwd}
		return Result{}
	case wire.OpCloseSession:
		t.closeSession(txn.Session, txn.Zxid)
		return Result{}
	case wire.OpSync:
		req, ok := txn.Body.(*wire.PathRequest)
		if !ok {
			return Result{Err: wire.ErrMarshallingError}
		}
		return Result{Body: &wire.PathRequest{Path: req.Path}}
	case OpApacheTxn:
		return t.applyApacheTxn(txn)
	case wire.OpDeleteContainer:
		req, ok := txn.Body.(*wire.PathRequest)
		if !ok {
			return Result{Err: wire.ErrMarshallingError}
		}
		if err := t.checkDeleteContainer(req.Path, txn.Time); err != wire.ErrOK {
			return Result{Err: err}
		}
		t.deleteNode(req.Path, txn.Zxid)
		return Result{}
	}
	return Result{Err: wire.ErrUnimplemented}
}

// bodyMatches reports whether body is the request record of a write op.
func bodyMatches(op wire.OpCode, body wire.Record) bool {
	switch op {
	case wire.OpCreate, wire.OpCreate2, wire.OpCreateContainer, wire.OpCreateTTL:
		_, ok := body.(*wire.CreateRequest)
		return ok
	case wire.OpDelete, wire.OpCheck:
		_, ok := body.(*wire.PathVersionRequest)
		return ok
	case wire.OpSetData:
		_, ok := body.(*wire.SetDataRequest)
		return ok
	case wire.OpSetACL:
		_, ok := body.(*wire.SetACLRequest)
		return ok
	}
	return false
}

func (t *Tree) applyMulti(txn *Txn) Result {
	req, ok := txn.Body.(*wire.MultiRequest)
	if !ok {
		return Result{Err: wire.ErrMarshallingError}
	}
	// Small multis, the common ones, keep their ops and plans on the
	// stack.
	const small = 8
	var opsBuf [small]wire.Op
	var plansBuf [small]prepared
	ops := opsBuf[:min(len(req.Ops), small)]
	if len(req.Ops) > small {
		ops = make([]wire.Op, len(req.Ops))
	}
	for i, op := range req.Ops {
		if op.Type == wire.OpSetACL || !bodyMatches(op.Type, op.Body) {
			return Result{Err: wire.ErrMarshallingError}
		}
		var ok bool
		if ops[i], ok = multiOp(op); !ok {
			return Result{Err: wire.ErrMarshallingError}
		}
	}
	resp := &wire.MultiResponse{Results: make([]wire.OpResult, len(ops))}
	plans := plansBuf[:min(len(ops), small)]
	if len(ops) > small {
		plans = make([]prepared, len(ops))
	}
	// One record per op at most: sized once rather than grown.
	v := view{t: t, multi: true, recs: make([]pathRec, 0, len(ops))}
	for i, op := range ops {
		p, err := t.prepare(&v, txn, op.Type, op.Body)
		if err != wire.ErrOK {
			for j := range resp.Results {
				r := wire.OpResult{Type: wire.OpError}
				switch {
				case j == i:
					r.Err = err
				case j > i:
					r.Err = wire.ErrRuntimeInconsistency
				}
				resp.Results[j] = r
			}
			return Result{Body: resp}
		}
		plans[i] = p
	}
	for i := range plans {
		body := t.execute(&plans[i], txn)
		r := wire.OpResult{Type: plans[i].op, Body: body}
		switch plans[i].op {
		case wire.OpCreateContainer, wire.OpCreateTTL:
			r.Type = wire.OpCreate2
		}
		resp.Results[i] = r
	}
	return Result{Body: resp}
}

// multiOp rewrites a create op of a multi the way Apache's
// MultiOperationRecord rebuilds it on the server: the create mode, not the
// opcode, decides between create, createContainer and createTTL (a TTL mode
// without a TTL gets -1; createTTL with another mode becomes a plain
// create). Invalid flags on create, create2 and createContainer fail the
// whole multi.
func multiOp(op wire.Op) (wire.Op, bool) {
	req, ok := op.Body.(*wire.CreateRequest)
	if !ok {
		return op, true
	}
	flags := req.Flags
	valid := flags >= wire.FlagPersistent && flags <= wire.FlagPersistentSequentialWithTTL
	ttlMode := flags == wire.FlagPersistentWithTTL || flags == wire.FlagPersistentSequentialWithTTL
	// withTTL returns op with a copy of the request that has the given
	// TTL fields (the request itself belongs to the txn).
	withTTL := func(op wire.Op, has bool, ttl int64) wire.Op {
		c := *req
		c.HasTTL, c.TTL = has, ttl
		op.Body = &c
		return op
	}
	switch op.Type {
	case wire.OpCreateTTL:
		if !valid {
			flags = wire.FlagPersistent
		}
		if ttlMode {
			return op, true
		}
		op.Type = wire.OpCreate
		if flags == wire.FlagContainer {
			op.Type = wire.OpCreateContainer
		}
		return withTTL(op, false, 0), true
	default:
		if !valid {
			return op, false
		}
		switch {
		case ttlMode:
			op.Type = wire.OpCreateTTL
			return withTTL(op, true, -1), true
		case flags == wire.FlagContainer:
			op.Type = wire.OpCreateContainer
		}
	}
	return op, true
}

// rec is a node as validation sees it: the applied node, or its pending
// state within a multi (Apache's ChangeRecord).
type rec struct {
	exists                      bool
	owner                       int64
	version, cversion, aversion int32
	nchild                      int
	acl                         []wire.ACL
	data                        []byte
}

type pathRec struct {
	path string
	rec  rec
}

// view is the tree plus the pending changes of the multi being validated.
type view struct {
	t     *Tree
	multi bool
	recs  []pathRec
}

func (v *view) get(path string) (rec, bool) {
	path = canonical(path)
	for i := len(v.recs) - 1; i >= 0; i-- {
		if v.recs[i].path == path {
			return v.recs[i].rec, v.recs[i].rec.exists
		}
	}
	n := v.t.lookup(path)
	if !n.ok() {
		return rec{}, false
	}
	st := n.stat()
	return rec{
		exists:   true,
		owner:    st.owner,
		version:  st.version,
		cversion: n.cversion(),
		aversion: st.aversion,
		nchild:   n.kids().len(),
		acl:      v.t.acls.list(st.acl),
		data:     n.data(),
	}, true
}

func (v *view) put(path string, r rec) {
	if !v.multi {
		return
	}
	path = canonical(path)
	for i := range v.recs {
		if v.recs[i].path == path {
			v.recs[i].rec = r
			return
		}
	}
	v.recs = append(v.recs, pathRec{path, r})
}

// prepared is a validated write, ready to apply.
type prepared struct {
	op      wire.OpCode
	path    string
	data    []byte
	acl     []wire.ACL
	owner   int64
	version int32 // new version (setData) or aversion (setACL)
}

func (t *Tree) checkSession(txn *Txn) bool {
	if txn.Session == 0 || t.opts.LocalSessions {
		return true
	}
	_, ok := t.sessions[txn.Session]
	return ok
}

// nextVersion is checkAndIncVersion: -1 matches any version, and the next
// version skips -1 when it wraps (ZOOKEEPER-4743).
func nextVersion(cur, expected int32) (int32, bool) {
	if expected != -1 && expected != cur {
		return 0, false
	}
	n := cur + 1
	if n == -1 {
		n = 0
	}
	return n, true
}

func (t *Tree) prepare(v *view, txn *Txn, op wire.OpCode, body wire.Record) (prepared, wire.ErrCode) {
	switch op {
	case wire.OpCreate, wire.OpCreate2, wire.OpCreateContainer, wire.OpCreateTTL:
		return t.prepareCreate(v, txn, op, body.(*wire.CreateRequest))
	case wire.OpDelete:
		return t.prepareDelete(v, txn, body.(*wire.PathVersionRequest))
	case wire.OpSetData:
		return t.prepareSetData(v, txn, body.(*wire.SetDataRequest))
	case wire.OpSetACL:
		return t.prepareSetACL(v, txn, body.(*wire.SetACLRequest))
	case wire.OpCheck:
		return t.prepareCheck(v, txn, body.(*wire.PathVersionRequest))
	}
	return prepared{}, wire.ErrMarshallingError
}

func (t *Tree) prepareCreate(v *view, txn *Txn, op wire.OpCode, req *wire.CreateRequest) (prepared, wire.ErrCode) {
	flags := req.Flags
	if flags < wire.FlagPersistent || flags > wire.FlagPersistentSequentialWithTTL {
		return prepared{}, wire.ErrBadArguments
	}
	ttlMode := flags == wire.FlagPersistentWithTTL || flags == wire.FlagPersistentSequentialWithTTL
	sequential := flags == wire.FlagPersistentSequential || flags == wire.FlagEphemeralSequential ||
		flags == wire.FlagPersistentSequentialWithTTL
	ephemeral := flags == wire.FlagEphemeral || flags == wire.FlagEphemeralSequential
	ttl := int64(-1)
	if op == wire.OpCreateTTL {
		ttl = req.TTL
	}
	if ttlMode && !t.opts.ExtendedTypes {
		return prepared{}, wire.ErrUnimplemented
	}
	if ttlMode {
		if ttl <= 0 || ttl > MaxTTL {
			return prepared{}, wire.ErrBadArguments
		}
	} else if ttl >= 0 || op == wire.OpCreateTTL {
		// Apache accepts createTTL with a non-TTL mode and a negative TTL
		// here and then fails to apply it; refuse it up front.
		return prepared{}, wire.ErrBadArguments
	}
	if !t.checkSession(txn) || (ephemeral && t.opts.LocalSessions && t.sessions[txn.Session] == nil && txn.Session != 0) {
		return prepared{}, wire.ErrSessionExpired
	}
	path := req.Path
	parentPath, _, ok := splitPath(path)
	if !ok || strings.IndexByte(path, 0) >= 0 {
		return prepared{}, wire.ErrBadArguments
	}
	acl, code := fixupACL(txn.Auth, req.ACL)
	if code != wire.ErrOK {
		return prepared{}, code
	}
	parent, ok := v.get(parentPath)
	if !ok {
		return prepared{}, wire.ErrNoNode
	}
	if !CheckACL(parent.acl, op.Perm(), txn.Auth) {
		return prepared{}, wire.ErrNoAuth
	}
	if sequential {
		path = sequentialName(path, parent.cversion)
	}
	if !ValidatePath(path) {
		return prepared{}, wire.ErrBadArguments
	}
	if _, exists := v.get(path); exists {
		return prepared{}, wire.ErrNodeExists
	}
	if t.kind(parent.owner) == kindEphemeral {
		return prepared{}, wire.ErrNoChildrenForEphemerals
	}
	if !t.checkQuota(path, nil, req.Data, true) {
		return prepared{}, wire.ErrQuotaExceeded
	}
	var owner int64
	switch {
	case op == wire.OpCreateContainer:
		owner = ContainerOwner
	case op == wire.OpCreateTTL:
		owner = TTLOwner(ttl)
	case ephemeral:
		owner = txn.Session
	}
	if v.multi {
		parent.cversion++
		parent.nchild++
		v.put(parentPath, parent)
		v.put(path, rec{exists: true, owner: owner, acl: acl, data: req.Data})
	}
	return prepared{op: op, path: path, data: req.Data, acl: acl, owner: owner}, wire.ErrOK
}

// sequentialName appends the parent's cversion as Apache does
// (String.format("%010d")).
func sequentialName(path string, cversion int32) string {
	return fmt.Sprintf("%s%010d", path, cversion)
}

func (t *Tree) prepareDelete(v *view, txn *Txn, req *wire.PathVersionRequest) (prepared, wire.ErrCode) {
	if !t.checkSession(txn) {
		return prepared{}, wire.ErrSessionExpired
	}
	path := req.Path
	parentPath, _, ok := splitPath(path)
	if !ok || strings.IndexByte(path, 0) >= 0 || isSpecialPath(path) {
		return prepared{}, wire.ErrBadArguments
	}
	parent, ok := v.get(parentPath)
	if !ok {
		return prepared{}, wire.ErrNoNode
	}
	if !CheckACL(parent.acl, wire.OpDelete.Perm(), txn.Auth) {
		return prepared{}, wire.ErrNoAuth
	}
	n, ok := v.get(path)
	if !ok {
		return prepared{}, wire.ErrNoNode
	}
	if _, ok := nextVersion(n.version, req.Version); !ok {
		return prepared{}, wire.ErrBadVersion
	}
	if n.nchild > 0 {
		return prepared{}, wire.ErrNotEmpty
	}
	if v.multi {
		parent.nchild--
		v.put(parentPath, parent)
		v.put(path, rec{})
	}
	return prepared{op: wire.OpDelete, path: path}, wire.ErrOK
}

// existing checks what setData and check share, in Apache's order: a live
// session, a valid path, an existing node, perm on it.
func (t *Tree) existing(v *view, txn *Txn, path string, perm int32) (rec, wire.ErrCode) {
	if !t.checkSession(txn) {
		return rec{}, wire.ErrSessionExpired
	}
	if !ValidatePath(path) {
		return rec{}, wire.ErrBadArguments
	}
	n, ok := v.get(path)
	if !ok {
		return rec{}, wire.ErrNoNode
	}
	if !CheckACL(n.acl, perm, txn.Auth) {
		return rec{}, wire.ErrNoAuth
	}
	return n, wire.ErrOK
}

func (t *Tree) prepareSetData(v *view, txn *Txn, req *wire.SetDataRequest) (prepared, wire.ErrCode) {
	path := req.Path
	n, code := t.existing(v, txn, path, wire.OpSetData.Perm())
	if code != wire.ErrOK {
		return prepared{}, code
	}
	if !t.checkQuota(path, n.data, req.Data, false) {
		return prepared{}, wire.ErrQuotaExceeded
	}
	version, ok := nextVersion(n.version, req.Version)
	if !ok {
		return prepared{}, wire.ErrBadVersion
	}
	if v.multi {
		n.version = version
		n.data = req.Data
		v.put(path, n)
	}
	return prepared{op: wire.OpSetData, path: path, data: req.Data, version: version}, wire.ErrOK
}

func (t *Tree) prepareSetACL(v *view, txn *Txn, req *wire.SetACLRequest) (prepared, wire.ErrCode) {
	if !t.checkSession(txn) {
		return prepared{}, wire.ErrSessionExpired
	}
	path := req.Path
	if !ValidatePath(path) {
		return prepared{}, wire.ErrBadArguments
	}
	acl, code := fixupACL(txn.Auth, req.ACL)
	if code != wire.ErrOK {
		return prepared{}, code
	}
	n, ok := v.get(path)
	if !ok {
		return prepared{}, wire.ErrNoNode
	}
	if !CheckACL(n.acl, wire.OpSetACL.Perm(), txn.Auth) {
		return prepared{}, wire.ErrNoAuth
	}
	version, ok := nextVersion(n.aversion, req.Version)
	if !ok {
		return prepared{}, wire.ErrBadVersion
	}
	if v.multi {
		n.aversion = version
		n.acl = acl
		v.put(path, n)
	}
	return prepared{op: wire.OpSetACL, path: path, acl: acl, version: version}, wire.ErrOK
}

func (t *Tree) prepareCheck(v *view, txn *Txn, req *wire.PathVersionRequest) (prepared, wire.ErrCode) {
	path := req.Path
	n, code := t.existing(v, txn, path, wire.OpCheck.Perm())
	if code != wire.ErrOK {
		return prepared{}, code
	}
	if _, ok := nextVersion(n.version, req.Version); !ok {
		return prepared{}, wire.ErrBadVersion
	}
	return prepared{op: wire.OpCheck, path: path}, wire.ErrOK
}

// checkDeleteContainer validates an OpDeleteContainer txn at time now.
func (t *Tree) checkDeleteContainer(path string, now int64) wire.ErrCode {
	parentPath, _, ok := splitPath(path)
	if !ok || strings.IndexByte(path, 0) >= 0 || isSpecialPath(path) {
		return wire.ErrBadArguments
	}
	n := t.lookup(path)
	if !n.ok() {
		return wire.ErrNoNode
	}
	if n.kids().len() > 0 {
		return wire.ErrNotEmpty
	}
	switch t.kind(n.owner()) {
	case kindContainer:
		// Any childless container, as Apache's PrepRequestProcessor (see
		// Apply).
	case kindTTL:
		if !t.ttlExpired(n, now) {
			return wire.ErrBadVersion
		}
	default:
		return wire.ErrBadVersion
	}
	if !t.lookup(parentPath).ok() {
		return wire.ErrNoNode
	}
	return wire.ErrOK
}

// execute applies a validated write and returns its response body.
func (t *Tree) execute(p *prepared, txn *Txn) wire.Record {
	switch p.op {
	case wire.OpCreate:
		t.createNode(p.path, p.data, p.acl, p.owner, txn.Zxid, txn.Time)
		return &wire.PathRequest{Path: p.path}
	case wire.OpCreate2, wire.OpCreateContainer, wire.OpCreateTTL:
		st := t.createNode(p.path, p.data, p.acl, p.owner, txn.Zxid, txn.Time)
		return &wire.Create2Response{Path: p.path, Stat: st}
	case wire.OpDelete:
		t.deleteNode(p.path, txn.Zxid)
	case wire.OpSetData:
		return &wire.StatResponse{Stat: t.setData(p.path, p.data, p.version, txn.Zxid, txn.Time)}
	case wire.OpSetACL:
		return &wire.StatResponse{Stat: t.setACL(p.path, p.acl, p.version)}
	}
	return nil
}

// createNode adds a validated node (DataTree.createNode) and returns its
// Stat as it is right after creation.
func (t *Tree) createNode(path string, data []byte, acl []wire.ACL, owner, zxid, time int64) wire.Stat {
	parentPath, name, _ := splitPath(path)
	parent := t.owned(parentPath)
	pd := parent.dir()
	if cv := pd.cversion + 1; cv > pd.cversion {
		pd.cversion = cv
		pd.pzxid = zxid
	}
	aclIndex := t.acls.intern(acl)
	child := newNode(name, data, nodeStat{czxid: zxid, mzxid: zxid, ctime: time, mtime: time, owner: owner, acl: aclIndex})
	pd.children.put(child)
	t.nodeCount++
	t.dataSize += int64(len(path) + len(data))
	t.index(path, parentPath, name, owner)
	st := t.statOf(child)
	if name == quotaStatNode && strings.HasPrefix(parentPath, quotaPath) {
		t.updateQuotaForPath(parentPath[len(quotaPath):])
	}
	if q := t.maxQuotaPrefix(path); q != "" {
		t.updateQuotaStat(q, int64(len(data)), 1)
	}
	t.fire(&t.dataWatches, path, wire.EventNodeCreated, t.acls.list(aclIndex), zxid, nil, &t.wbuf1)
	t.fire(&t.childWatches, parentWatchPath(parentPath), wire.EventNodeChildrenChanged, t.aclOf(parent), zxid, nil, &t.wbuf2)
	return st
}

// deleteNode removes a validated childless node (DataTree.deleteNode).
func (t *Tree) deleteNode(path string, zxid int64) {
	parentPath, name, _ := splitPath(path)
	parent := t.owned(parentPath)
	if !parent.ok() {
		return
	}
	n := parent.dir().children.del(name)
	if zxid > parent.dir().pzxid {
		parent.dir().pzxid = zxid
	}
	if !n.ok() {
		return
	}
	st := n.stat()
	t.nodeCount--
	t.dataSize -= int64(len(path) + len(n.data()))
	acl := t.acls.list(st.acl)
	t.acls.release(st.acl)
	switch t.kind(st.owner) {
	case kindContainer:
		delete(t.containers, path)
	case kindTTL:
		delete(t.ttls, path)
	case kindEphemeral:
		if set := t.ephemerals[st.owner]; set != nil {
			delete(set, path)
			if len(set) == 0 {
				delete(t.ephemerals, st.owner)
			}
		}
	}
	if name == quotaLimitNode && strings.HasPrefix(parentPath, quotaPath) {
		t.removeQuota(parentPath[len(quotaPath):])
	}
	if q := t.maxQuotaPrefix(path); q != "" {
		t.updateQuotaStat(q, -int64(len(n.data())), -1)
	}
	reached := t.fire(&t.dataWatches, path, wire.EventNodeDeleted, acl, zxid, nil, &t.wbuf1)
	t.fire(&t.childWatches, path, wire.EventNodeDeleted, acl, zxid, reached, &t.wbuf2)
	t.fire(&t.childWatches, parentWatchPath(parentPath), wire.EventNodeChildrenChanged, t.aclOf(parent), zxid, nil, &t.wbuf2)
}

// setData replaces a node's data (DataTree.setData).
func (t *Tree) setData(path string, data []byte, version int32, zxid, time int64) wire.Stat {
	old, d := t.slot(path)
	last := old.data()
	st := old.stat()
	st.mtime, st.mzxid, st.version = time, zxid, version
	n := old.with(data, st)
	t.put(d, n)
	stat := t.statOf(n)
	if q := t.maxQuotaPrefix(path); q != "" {
		t.updateQuotaStat(q, int64(len(data)-len(last)), 0)
	}
	t.dataSize += int64(len(data) - len(last))
	t.fire(&t.dataWatches, path, wire.EventNodeDataChanged, t.acls.list(st.acl), zxid, nil, &t.wbuf1)
	return stat
}

// setACL replaces a node's ACL (DataTree.setACL); it triggers no watch.
func (t *Tree) setACL(path string, acl []wire.ACL, aversion int32) wire.Stat {
	old, d := t.slot(path)
	st := old.stat()
	oldACL := st.acl
	st.acl, st.aversion = t.acls.intern(acl), aversion
	t.acls.release(oldACL)
	n := old.with(old.data(), st)
	t.put(d, n)
	return t.statOf(n)
}

// closeSession deletes the ephemerals of a session, in path order, and
// drops the session.
func (t *Tree) closeSession(session, zxid int64) {
	if set := t.ephemerals[session]; set != nil {
		for _, p := range sortedSet(set) {
			if t.lookup(p).ok() {
				t.deleteNode(p, zxid)
			}
		}
		delete(t.ephemerals, session)
	}
	delete(t.sessions, session)
}
