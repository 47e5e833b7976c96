package znode

import (
	"errors"
	"fmt"
	"strings"

	"github.com/zkgo/zkgo/wire"
)

// This file and apache_snapshot.go read (and, for tests and a way back,
// write) the data directory of an Apache ZooKeeper server: its snapshots
// (FileSnap) and the txns of its transaction log (FileTxnLog), so that
// `zkserver import` can rebuild exactly the tree Apache ZooKeeper serves
// from that directory. The file framing of the log (header, checksums,
// preallocated padding) is the importer's business; here a txn is the
// bytes one log record checksums: TxnHeader, txn record, optional
// TxnDigest.

// ErrCorruptApache is wrapped by the errors returned for Apache ZooKeeper
// data that cannot have been written by Apache ZooKeeper: bad checksums,
// undecodable records, malformed paths.
var ErrCorruptApache = errors.New("corrupt Apache ZooKeeper data")

func corruptApache(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorruptApache, fmt.Sprintf(format, args...))
}

// ApacheTxn is one txn of an Apache ZooKeeper transaction log: the
// TxnHeader fields, the txn record (its type in ApacheOp.Type) and the
// TxnDigest that Apache ZooKeeper 3.6 and later append.
type ApacheTxn struct {
	Session int64 // TxnHeader.clientId
	Cxid    int32
	Zxid    int64
	Time    int64
	ApacheOp
	Digest *ApacheDigest // nil when the record has none
}

// ApacheDigest is a TxnDigest: the digest of the whole tree after the txn.
// The importer does not check it (it would need Apache's DigestCalculator).
type ApacheDigest struct {
	Version    int32
	TreeDigest int64
}

// ApacheOp is a txn record of Apache ZooKeeper (zookeeper.jute, module
// org.apache.zookeeper.txn). Which fields are used depends on Type:
//
//	create, create2        CreateTxn: Path Data ACL Ephemeral ParentCVersion
//	createContainer        CreateContainerTxn: Path Data ACL ParentCVersion
//	createTTL              CreateTTLTxn: Path Data ACL ParentCVersion TTL
//	delete, deleteContainer DeleteTxn: Path
//	setData, reconfig      SetDataTxn: Path Data Version (the new version)
//	setACL                 SetACLTxn: Path ACL Version (the new aversion)
//	check                  CheckVersionTxn: Path Version
//	createSession          CreateSessionTxn: Timeout
//	closeSession           CloseSessionTxn: Paths (nil: no record, as before 3.6)
//	error                  ErrorTxn: Err
//	multi                  MultiTxn: Ops
//
// These are resolved txns: paths carry their sequence suffix, ACLs are
// expanded, versions are the new ones, and ParentCVersion is the parent's
// cversion (as stored: child creations) after the create.
type ApacheOp struct {
	Type           wire.OpCode
	Path           string
	Data           []byte
	ACL            []wire.ACL
	Ephemeral      bool
	ParentCVersion int32
	TTL            int64
	Version        int32
	Err            wire.ErrCode
	Timeout        int32
	Paths          []string
	Ops            []ApacheOp
	// V0 marks a CreateTxnV0 (ZooKeeper 3.3 and before), which has no
	// ParentCVersion; it decodes with ParentCVersion -1.
	V0 bool
}

// ApacheSessionPasswd returns the password Apache ZooKeeper gives session
// id: it keeps no passwords but derives them (ZooKeeperServer
// generatePasswd) as 16 bytes of java.util.Random seeded with
// id ^ 0xB3415C00. Imported sessions get it, so that a client connected to
// Apache ZooKeeper can resume its session on this server.
func ApacheSessionPasswd(id int64) []byte {
	const (
		multiplier = 0x5DEECE66D
		addend     = 0xB
		mask       = 1<<48 - 1
	)
	seed := (uint64(id^0xB3415C00) ^ multiplier) & mask // new Random(seed)
	p := make([]byte, 16)
	for i := 0; i < len(p); {
		seed = (seed*multiplier + addend) & mask
		r := uint32(seed >> 16) // next(32)
		for n := min(len(p)-i, 4); n > 0; n-- {
			p[i] = byte(r)
			r >>= 8
			i++
		}
	}
	return p
}

// DecodeApacheTxn decodes the payload of one Apache ZooKeeper log record
// (SerializeUtils.deserializeTxn): a TxnHeader, the txn record for its type
// and, if present, a TxnDigest. A CreateTxn without parentCVersion is read
// as a CreateTxnV0, a closeSession without a record as one from before
// CloseSessionTxn, as Apache ZooKeeper does. Errors wrap ErrCorruptApache.
func DecodeApacheTxn(b []byte) (*ApacheTxn, error) {
	d := wire.NewDecoder(b)
	txn := &ApacheTxn{
		Session: d.Long(),
		Cxid:    d.Int(),
		Zxid:    d.Long(),
		Time:    d.Long(),
	}
	txn.Type = wire.OpCode(d.Int())
	if d.Err() != nil {
		return nil, corruptApache("txn header: %v", d.Err())
	}
	start := len(b) - d.Remaining()
	body := b[start:]
	op, rest, err := decodeApacheOp(txn.Type, body, true)
	if err != nil {
		return nil, corruptApache("zxid 0x%x: %s txn: %v", txn.Zxid, txn.Type, err)
	}
	txn.ApacheOp = op
	switch len(rest) {
	case 0:
	case 12:
		dd := wire.NewDecoder(rest)
		txn.Digest = &ApacheDigest{Version: dd.Int(), TreeDigest: dd.Long()}
	default:
		return nil, corruptApache("zxid 0x%x: %s txn: %d unexpected trailing bytes", txn.Zxid, txn.Type, len(rest))
	}
	return txn, nil
}

// decodeApacheOp decodes the record of a txn of type typ from b and returns
// the bytes after it. top allows what only a top-level txn may hold.
func decodeApacheOp(typ wire.OpCode, b []byte, top bool) (ApacheOp, []byte, error) {
	op := ApacheOp{Type: typ}
	d := wire.NewDecoder(b)
	rest := func() []byte { return b[len(b)-d.Remaining():] }
	switch typ {
	case wire.OpCreate, wire.OpCreate2:
		if typ == wire.OpCreate2 && !top {
			break
		}
		op.Path, op.Data, op.ACL, op.Ephemeral = d.String(), d.Buffer(), wire.DecodeACLs(d), d.Bool()
		if d.Err() != nil {
			return op, nil, d.Err()
		}
		if d.Remaining() < 4 && typ == wire.OpCreate {
			// CreateTxnV0: no parentCVersion (Apache falls back on EOF).
			op.V0, op.ParentCVersion = true, -1
			return op, rest(), nil
		}
		op.ParentCVersion = d.Int()
		return op, rest(), d.Err()
	case wire.OpCreateContainer, wire.OpCreateTTL:
		op.Path, op.Data, op.ACL, op.ParentCVersion = d.String(), d.Buffer(), wire.DecodeACLs(d), d.Int()
		if typ == wire.OpCreateTTL {
			op.TTL = d.Long()
		}
		return op, rest(), d.Err()
	case wire.OpDelete, wire.OpDeleteContainer:
		op.Path = d.String()
		return op, rest(), d.Err()
	case wire.OpSetData, wire.OpReconfig:
		if typ == wire.OpReconfig && !top {
			break
		}
		op.Path, op.Data, op.Version = d.String(), d.Buffer(), d.Int()
		return op, rest(), d.Err()
	case wire.OpSetACL:
		if !top {
			break
		}
		op.Path, op.ACL, op.Version = d.String(), wire.DecodeACLs(d), d.Int()
		return op, rest(), d.Err()
	case wire.OpCheck:
		op.Path, op.Version = d.String(), d.Int()
		return op, rest(), d.Err()
	case wire.OpError:
		op.Err = wire.ErrCode(d.Int())
		return op, rest(), d.Err()
	case wire.OpCreateSession:
		if !top {
			break
		}
		op.Timeout = d.Int()
		return op, rest(), d.Err()
	case wire.OpCloseSession:
		if !top {
			break
		}
		// A CloseSessionTxn (3.6+), then maybe a digest; or, from older
		// servers or with zookeeper.closeSessionTxn.enabled=false, nothing
		// but maybe a digest.
		if len(b) != 0 {
			paths := d.Strings()
			if r := d.Remaining(); d.Err() == nil && (r == 0 || r == 12) {
				op.Paths = paths
				if op.Paths == nil {
					op.Paths = []string{}
				}
				return op, rest(), nil
			}
		}
		if len(b) == 0 || len(b) == 12 {
			return op, b, nil
		}
		return op, nil, fmt.Errorf("undecodable CloseSessionTxn")
	case wire.OpMulti:
		if !top {
			break
		}
		n := int(d.Int())
		if d.Err() != nil {
			return op, nil, d.Err()
		}
		if n < 0 || n > d.Remaining()/8 {
			return op, nil, fmt.Errorf("bad op count %d", n)
		}
		op.Ops = make([]ApacheOp, n)
		for i := range op.Ops {
			subType := wire.OpCode(d.Int())
			data := d.Buffer()
			if d.Err() != nil {
				return op, nil, d.Err()
			}
			sub, subRest, err := decodeApacheOp(subType, data, false)
			if err != nil {
				return op, nil, fmt.Errorf("op %d (%s): %v", i, subType, err)
			}
			if len(subRest) != 0 {
				return op, nil, fmt.Errorf("op %d (%s): %d trailing bytes", i, subType, len(subRest))
			}
			op.Ops[i] = sub
		}
		return op, rest(), nil
	}
	if top {
		return op, nil, fmt.Errorf("unsupported txn type %d", int32(typ))
	}
	return op, nil, fmt.Errorf("type %d not allowed in a multi", int32(typ))
}

// Marshal encodes the txn as the payload of an Apache ZooKeeper log record
// (Util.marshallTxnEntry): TxnHeader, record, digest if any.
func (txn *ApacheTxn) Marshal() []byte {
	e := wire.NewEncoder(nil)
	e.Long(txn.Session)
	e.Int(txn.Cxid)
	e.Long(txn.Zxid)
	e.Long(txn.Time)
	e.Int(int32(txn.Type))
	txn.ApacheOp.encode(e)
	if txn.Digest != nil {
		e.Int(txn.Digest.Version)
		e.Long(txn.Digest.TreeDigest)
	}
	return e.Bytes()
}

func (op *ApacheOp) encode(e *wire.Encoder) {
	switch op.Type {
	case wire.OpCreate, wire.OpCreate2:
		e.String(op.Path)
		e.Buffer(op.Data)
		wire.EncodeACLs(e, op.ACL)
		e.Bool(op.Ephemeral)
		if !op.V0 {
			e.Int(op.ParentCVersion)
		}
	case wire.OpCreateContainer, wire.OpCreateTTL:
		e.String(op.Path)
		e.Buffer(op.Data)
		wire.EncodeACLs(e, op.ACL)
		e.Int(op.ParentCVersion)
		if op.Type == wire.OpCreateTTL {
			e.Long(op.TTL)
		}
	case wire.OpDelete, wire.OpDeleteContainer:
		e.String(op.Path)
	case wire.OpSetData, wire.OpReconfig:
		e.String(op.Path)
		e.Buffer(op.Data)
		e.Int(op.Version)
	case wire.OpSetACL:
		e.String(op.Path)
		wire.EncodeACLs(e, op.ACL)
		e.Int(op.Version)
	case wire.OpCheck:
		e.String(op.Path)
		e.Int(op.Version)
	case wire.OpError:
		e.Int(int32(op.Err))
	case wire.OpCreateSession:
		e.Int(op.Timeout)
	case wire.OpCloseSession:
		if op.Paths != nil {
			e.Strings(op.Paths)
		}
	case wire.OpMulti:
		e.Int(int32(len(op.Ops)))
		for i := range op.Ops {
			sub := wire.NewEncoder(nil)
			op.Ops[i].encode(sub)
			e.Int(int32(op.Ops[i].Type))
			e.Buffer(sub.Bytes())
		}
	}
}

// ApplyApache replays one txn of an Apache ZooKeeper log on the tree the
// way Apache ZooKeeper does when it loads its data directory
// (FileTxnSnapLog.processTransaction and DataTree.processTxn), node by
// node, with no validation but Apache's: the txn is already resolved.
//
// Snapshots of Apache ZooKeeper are fuzzy (taken while txns apply), so the
// txns just after a snapshot's zxid may already be partly in it; Apache
// ignores the NoNode and NodeExists errors this gives, and so does
// ApplyApache, with Apache's side effects: a create whose node exists still
// raises the parent's cversion (setCversionPzxid), a create only raises the
// parent's cversion and pzxid when its ParentCVersion is higher, a delete of
// a missing node still raises the parent's pzxid. The result is the error
// code Apache's replay ignores (ErrOK if none; a multi reports the first
// failing op's). createSession and closeSession maintain the session table
// (with ApacheSessionPasswd passwords). LastZxid advances to the txn's zxid.
//
// A txn Apache ZooKeeper cannot have written (a path without '/', a create
// of the root) gives an error wrapping ErrCorruptApache and changes
// nothing. No watch can be set on a tree being imported, but watches would
// fire as for Apply.
func (t *Tree) ApplyApache(txn *ApacheTxn) (wire.ErrCode, error) {
	if err := checkApacheOp(&txn.ApacheOp); err != nil {
		return wire.ErrOK, corruptApache("zxid 0x%x: %s txn: %v", txn.Zxid, txn.Type, err)
	}
	t.mu.Lock()
	t.wmu.Lock()
	code := t.applyApache(txn, &txn.ApacheOp)
	if txn.Zxid > t.lastZxid.Load() {
		t.lastZxid.Store(txn.Zxid)
	}
	clear(t.wbuf1[:cap(t.wbuf1)])
	clear(t.wbuf2[:cap(t.wbuf2)])
	t.wmu.Unlock()
	t.mu.Unlock()
	return code, nil
}

// checkApacheOp rejects paths Apache's DataTree would choke on.
func checkApacheOp(op *ApacheOp) error {
	switch op.Type {
	case wire.OpCreate, wire.OpCreate2, wire.OpCreateContainer, wire.OpCreateTTL:
		if _, name, ok := splitPath(op.Path); !ok || name == "" {
			return fmt.Errorf("bad path %q", op.Path)
		}
	case wire.OpDelete, wire.OpDeleteContainer:
		if _, _, ok := splitPath(op.Path); !ok {
			return fmt.Errorf("bad path %q", op.Path)
		}
	case wire.OpMulti:
		for i := range op.Ops {
			if err := checkApacheOp(&op.Ops[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

func (t *Tree) applyApache(txn *ApacheTxn, op *ApacheOp) wire.ErrCode {
	zxid := txn.Zxid
	switch op.Type {
	case wire.OpCreate, wire.OpCreate2, wire.OpCreateContainer, wire.OpCreateTTL:
		var owner int64
		switch {
		case op.Type == wire.OpCreateContainer:
			owner = ContainerOwner
		case op.Type == wire.OpCreateTTL:
			owner = TTLOwner(op.TTL)
		case op.Ephemeral:
			owner = txn.Session
		}
		code := t.apacheCreate(op.Path, op.Data, op.ACL, owner, op.ParentCVersion, zxid, txn.Time)
		if code == wire.ErrNodeExists && op.Type == wire.OpCreate {
			// DataTree.processTxn: the node was deleted and created again
			// (by another session) after the fuzzy snapshot copied the
			// parent; bring the parent's cversion and pzxid forward.
			parentPath, _, _ := splitPath(op.Path)
			if !t.apacheSetCversionPzxid(parentPath, op.ParentCVersion, zxid) {
				code = wire.ErrNoNode
			}
		}
		return code
	case wire.OpDelete, wire.OpDeleteContainer:
		parentPath, name, _ := splitPath(op.Path)
		parent := t.lookup(parentPath)
		if !parent.ok() {
			return wire.ErrNoNode
		}
		exists := parent.kids().get(name).ok()
		t.deleteNode(op.Path, zxid) // raises the parent's pzxid even if the node is gone
		if !exists {
			return wire.ErrNoNode
		}
		return wire.ErrOK
	case wire.OpSetData, wire.OpReconfig:
		if !t.lookup(op.Path).ok() {
			return wire.ErrNoNode
		}
		t.setData(op.Path, op.Data, op.Version, zxid, txn.Time)
		return wire.ErrOK
	case wire.OpSetACL:
		if !t.lookup(op.Path).ok() {
			return wire.ErrNoNode
		}
		t.setACL(op.Path, apacheACL(op.ACL), op.Version)
		return wire.ErrOK
	case wire.OpCreateSession:
		t.sessions[txn.Session] = &SessionInfo{ID: txn.Session, Timeout: op.Timeout, Passwd: ApacheSessionPasswd(txn.Session)}
		return wire.ErrOK
	case wire.OpCloseSession:
		// DataTree.killSession: the paths the txn lists first (whoever
		// owns them), then whatever else the session still owns.
		for _, p := range op.Paths {
			if parentPath, name, ok := splitPath(p); ok && name != "" && t.lookup(parentPath).ok() {
				t.deleteNode(p, zxid)
			}
		}
		t.closeSession(txn.Session, zxid)
		return wire.ErrOK
	case wire.OpError:
		return op.Err
	case wire.OpCheck:
		return wire.ErrOK
	case wire.OpMulti:
		for i := range op.Ops {
			if op.Ops[i].Type == wire.OpError {
				// A failed multi: Apache turns every op into an error.
				return wire.ErrOK
			}
		}
		code := wire.ErrOK
		for i := range op.Ops {
			if c := t.applyApache(txn, &op.Ops[i]); c != wire.ErrOK && code == wire.ErrOK {
				code = c
			}
		}
		return code
	}
	return wire.ErrOK
}

// apacheACL is ReferenceCountedACLCache.convertAcls: a null list means
// OPEN_ACL_UNSAFE.
func apacheACL(acl []wire.ACL) []wire.ACL {
	if acl == nil {
		return OpenACL
	}
	return acl
}

// apacheCreate is DataTree.createNode: the parent's cversion becomes
// parentCVersion (-1: the current one plus one) and its pzxid zxid, but
// only if that raises the cversion.
func (t *Tree) apacheCreate(path string, data []byte, acl []wire.ACL, owner int64, parentCVersion int32, zxid, time int64) wire.ErrCode {
	parentPath, name, _ := splitPath(path)
	parent := t.lookup(parentPath)
	if !parent.ok() {
		return wire.ErrNoNode
	}
	if parent.kids().get(name).ok() {
		return wire.ErrNodeExists
	}
	oldCversion, oldPzxid := parent.cversion(), parent.pzxid()
	if parentCVersion == -1 {
		parentCVersion = oldCversion + 1
	}
	t.createNode(path, data, apacheACL(acl), owner, zxid, time)
	d := t.owned(parentPath).dir()
	if parentCVersion > oldCversion {
		d.cversion, d.pzxid = parentCVersion, zxid
	} else {
		d.cversion, d.pzxid = oldCversion, oldPzxid
	}
	return wire.ErrOK
}

// apacheSetCversionPzxid is DataTree.setCversionPzxid. It reports whether
// the node exists.
func (t *Tree) apacheSetCversionPzxid(path string, cversion int32, zxid int64) bool {
	path = strings.TrimSuffix(path, "/")
	n := t.lookup(path)
	if !n.ok() {
		return false
	}
	if cversion == -1 {
		cversion = n.cversion() + 1
	}
	if cversion > n.cversion() {
		d := t.owned(path).dir()
		d.cversion, d.pzxid = cversion, zxid
	}
	return true
}

// DropOrphanEphemerals deletes, at zxid LastZxid, the ephemeral nodes of
// sessions missing from the session table, as Apache ZooKeeper does each
// time it loads its database (ZooKeeperServer.loadData, "clean up dead
// sessions"). It returns the sessions whose nodes it deleted.
func (t *Tree) DropOrphanEphemerals() []int64 {
	t.mu.Lock()
	t.wmu.Lock()
	defer func() {
		clear(t.wbuf1[:cap(t.wbuf1)])
		clear(t.wbuf2[:cap(t.wbuf2)])
		t.wmu.Unlock()
		t.mu.Unlock()
	}()
	var dead []int64
	for id := range t.ephemerals {
		if _, ok := t.sessions[id]; !ok {
			dead = append(dead, id)
		}
	}
	zxid := t.lastZxid.Load()
	for _, id := range dead {
		t.closeSession(id, zxid)
	}
	return dead
}

// TTLNodes lists the TTL nodes, sorted. The importer reports them: they
// need extendedTypesEnabled, as in Apache ZooKeeper.
func (t *Tree) TTLNodes() []string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return sortedSet(t.ttls)
}
