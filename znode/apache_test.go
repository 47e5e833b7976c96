package znode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/adler32"
	"strings"
	"testing"

	"github.com/zkgo/zkgo/wire"
)

// TestImportSessionPasswd checks the java.util.Random derivation against
// values of Java's generator: new Random(0) starts with nextInt()
// -1155484576, -723955400, and id 0xB3415C00 seeds it with 0.
func TestImportSessionPasswd(t *testing.T) {
	p := ApacheSessionPasswd(0xB3415C00)
	first := int32(binary.LittleEndian.Uint32(p[0:]))
	second := int32(binary.LittleEndian.Uint32(p[4:]))
	if first != -1155484576 || second != -723955400 {
		t.Errorf("got %d, %d; want -1155484576, -723955400", first, second)
	}
	if bytes.Equal(ApacheSessionPasswd(1), ApacheSessionPasswd(2)) || len(ApacheSessionPasswd(1)) != 16 {
		t.Error("passwords must be 16 bytes and differ between sessions")
	}
}

// apacheTxns is one txn of every kind, as Apache ZooKeeper logs them.
func apacheTxns() []*ApacheTxn {
	acl := []wire.ACL{{Perms: wire.PermAll, ID: wire.Id{Scheme: "digest", ID: "u:h"}}}
	return []*ApacheTxn{
		{Session: 7, Zxid: 1, Time: 100, ApacheOp: ApacheOp{Type: wire.OpCreateSession, Timeout: 30000}},
		{Session: 7, Cxid: 1, Zxid: 2, Time: 101, ApacheOp: ApacheOp{Type: wire.OpCreate, Path: "/a", Data: []byte("x"), ACL: OpenACL, ParentCVersion: 1}},
		{Session: 7, Cxid: 2, Zxid: 3, Time: 102, ApacheOp: ApacheOp{Type: wire.OpCreate2, Path: "/a/e", ACL: acl, Ephemeral: true, ParentCVersion: 1},
			Digest: &ApacheDigest{Version: 2, TreeDigest: 12345}},
		{Session: 7, Cxid: 3, Zxid: 4, Time: 103, ApacheOp: ApacheOp{Type: wire.OpCreateContainer, Path: "/c", Data: []byte{}, ACL: OpenACL, ParentCVersion: 2}},
		{Session: 7, Cxid: 4, Zxid: 5, Time: 104, ApacheOp: ApacheOp{Type: wire.OpCreateTTL, Path: "/t", ACL: OpenACL, ParentCVersion: 3, TTL: 5000}},
		{Session: 7, Cxid: 5, Zxid: 6, Time: 105, ApacheOp: ApacheOp{Type: wire.OpSetData, Path: "/a", Data: []byte("y"), Version: 1}},
		{Session: 7, Cxid: 6, Zxid: 7, Time: 106, ApacheOp: ApacheOp{Type: wire.OpSetACL, Path: "/a", ACL: acl, Version: 1}},
		{Session: 7, Cxid: 7, Zxid: 8, Time: 107, ApacheOp: ApacheOp{Type: wire.OpError, Err: wire.ErrNodeExists}},
		{Session: 7, Cxid: 8, Zxid: 9, Time: 108, ApacheOp: ApacheOp{Type: wire.OpMulti, Ops: []ApacheOp{
			{Type: wire.OpCreate, Path: "/c/k", Data: []byte("k"), ACL: OpenACL, ParentCVersion: 1},
			{Type: wire.OpCreateContainer, Path: "/c/k2", ACL: OpenACL, ParentCVersion: 2},
			{Type: wire.OpSetData, Path: "/c", Data: []byte("c"), Version: 1},
			{Type: wire.OpCheck, Path: "/a", Version: 1},
			{Type: wire.OpDelete, Path: "/c/k2"},
		}}, Digest: &ApacheDigest{Version: 2, TreeDigest: -1}},
		{Session: 7, Cxid: 9, Zxid: 10, Time: 109, ApacheOp: ApacheOp{Type: wire.OpMulti, Ops: []ApacheOp{
			{Type: wire.OpError, Err: wire.ErrOK},
			{Type: wire.OpError, Err: wire.ErrNoNode},
			{Type: wire.OpError, Err: wire.ErrRuntimeInconsistency},
		}}},
		{Session: 0, Zxid: 11, Time: 110, ApacheOp: ApacheOp{Type: wire.OpDelete, Path: "/c/k"}},
		{Session: 0, Zxid: 12, Time: 111, ApacheOp: ApacheOp{Type: wire.OpDeleteContainer, Path: "/c"}},
		{Session: 7, Cxid: 10, Zxid: 13, Time: 112, ApacheOp: ApacheOp{Type: wire.OpCheck, Path: "/a", Version: 1}},
		{Session: 7, Cxid: 11, Zxid: 14, Time: 113, ApacheOp: ApacheOp{Type: wire.OpCloseSession, Paths: []string{"/a/e"}}},
		{Session: 8, Zxid: 15, Time: 114, ApacheOp: ApacheOp{Type: wire.OpCreateSession, Timeout: 4000}},
		{Session: 8, Zxid: 16, Time: 115, ApacheOp: ApacheOp{Type: wire.OpCreate, Path: "/old", ACL: OpenACL, V0: true, ParentCVersion: -1}},
		{Session: 8, Zxid: 17, Time: 116, ApacheOp: ApacheOp{Type: wire.OpCloseSession}},
		{Session: 0, Zxid: 18, Time: 117, ApacheOp: ApacheOp{Type: wire.OpReconfig, Path: configPath, Data: []byte("server.1=x"), Version: 1}},
	}
}

func TestImportTxnCodec(t *testing.T) {
	for _, txn := range apacheTxns() {
		b := txn.Marshal()
		got, err := DecodeApacheTxn(b)
		if err != nil {
			t.Errorf("zxid %d (%s): %v", txn.Zxid, txn.Type, err)
			continue
		}
		if !bytes.Equal(got.Marshal(), b) {
			t.Errorf("zxid %d (%s): re-encoding differs", txn.Zxid, txn.Type)
		}
		eq(t, "decoded "+txn.Type.String(), got, txn)
	}

	// A closeSession without a record (before 3.6, or with
	// closeSessionTxn.enabled=false), with and without a digest.
	hdr := (&ApacheTxn{Session: 9, Zxid: 3, ApacheOp: ApacheOp{Type: wire.OpCloseSession}}).Marshal()
	for _, b := range [][]byte{hdr, append(append([]byte(nil), hdr...), 0, 0, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8)} {
		got, err := DecodeApacheTxn(b)
		if err != nil || got.Paths != nil {
			t.Errorf("closeSession without record (%d bytes): %+v, %v", len(b), got, err)
		}
	}
	// An empty CloseSessionTxn is not "no record".
	empty := (&ApacheTxn{Session: 9, Zxid: 3, ApacheOp: ApacheOp{Type: wire.OpCloseSession, Paths: []string{}}}).Marshal()
	if got, err := DecodeApacheTxn(empty); err != nil || got.Paths == nil {
		t.Errorf("empty CloseSessionTxn: %+v, %v", got, err)
	}

	bad := map[string][]byte{
		"short header":   hdr[:20],
		"unknown type":   (&ApacheTxn{ApacheOp: ApacheOp{Type: wire.OpGetData}}).Marshal(),
		"trailing bytes": append((&ApacheTxn{ApacheOp: ApacheOp{Type: wire.OpDelete, Path: "/a"}}).Marshal(), 1, 2, 3),
		"setACL in a multi": (&ApacheTxn{ApacheOp: ApacheOp{Type: wire.OpMulti, Ops: []ApacheOp{
			{Type: wire.OpSetACL, Path: "/a", ACL: OpenACL}}}}).Marshal(),
		"create2 in a multi": (&ApacheTxn{ApacheOp: ApacheOp{Type: wire.OpMulti, Ops: []ApacheOp{
			{Type: wire.OpCreate2, Path: "/a", ACL: OpenACL}}}}).Marshal(),
		"truncated multi": (&ApacheTxn{ApacheOp: ApacheOp{Type: wire.OpMulti, Ops: []ApacheOp{
			{Type: wire.OpDelete, Path: "/a"}}}}).Marshal()[:40],
	}
	for name, b := range bad {
		if _, err := DecodeApacheTxn(b); !errors.Is(err, ErrCorruptApache) {
			t.Errorf("%s: got %v, want ErrCorruptApache", name, err)
		}
	}
}

// applyAll replays txns with ApplyApache, failing on corruption.
func applyAll(t *testing.T, tree *Tree, txns []*ApacheTxn) []wire.ErrCode {
	t.Helper()
	var codes []wire.ErrCode
	for _, txn := range txns {
		code, err := tree.ApplyApache(txn)
		if err != nil {
			t.Fatalf("zxid %d: %v", txn.Zxid, err)
		}
		codes = append(codes, code)
	}
	return codes
}

// TestImportApplyMatchesApply replays Apache txns and the requests they
// resolve from, through Apply, and expects the same tree.
func TestImportApplyMatchesApply(t *testing.T) {
	opts := Options{ExtendedTypes: true}
	imported := NewTree(opts)
	txns := apacheTxns()
	for _, txn := range txns {
		txn.Time = 99 + 1000*txn.Zxid // the harness's clock
	}
	codes := applyAll(t, imported, txns)
	eq(t, "codes", codes, []wire.ErrCode{0, 0, 0, 0, 0, 0, 0, wire.ErrNodeExists, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	eq(t, "last zxid", imported.LastZxid(), int64(18))

	h := newHarness(t, opts)
	h.time = 99
	acl := []wire.ACL{{Perms: wire.PermAll, ID: wire.Id{Scheme: "digest", ID: "u:h"}}}
	do := func(session int64, op wire.OpCode, body wire.Record) {
		t.Helper()
		h.txn(session, superAuth, op, body)
	}
	do(7, wire.OpCreateSession, &CreateSession{Timeout: 30000, Passwd: ApacheSessionPasswd(7)})
	do(7, wire.OpCreate, &wire.CreateRequest{Path: "/a", Data: []byte("x"), ACL: OpenACL})
	do(7, wire.OpCreate2, &wire.CreateRequest{Path: "/a/e", ACL: acl, Flags: wire.FlagEphemeral})
	do(7, wire.OpCreateContainer, &wire.CreateRequest{Path: "/c", Data: []byte{}, ACL: OpenACL, Flags: wire.FlagContainer})
	do(7, wire.OpCreateTTL, &wire.CreateRequest{Path: "/t", ACL: OpenACL, Flags: wire.FlagPersistentWithTTL, HasTTL: true, TTL: 5000})
	do(7, wire.OpSetData, &wire.SetDataRequest{Path: "/a", Data: []byte("y"), Version: -1})
	do(7, wire.OpSetACL, &wire.SetACLRequest{Path: "/a", ACL: acl, Version: -1})
	do(7, wire.OpCreate, &wire.CreateRequest{Path: "/a", ACL: OpenACL}) // fails: exists
	do(7, wire.OpMulti, &wire.MultiRequest{Ops: []wire.Op{
		{Type: wire.OpCreate, Body: &wire.CreateRequest{Path: "/c/k", Data: []byte("k"), ACL: OpenACL}},
		{Type: wire.OpCreate, Body: &wire.CreateRequest{Path: "/c/k2", ACL: OpenACL, Flags: wire.FlagContainer}},
		{Type: wire.OpSetData, Body: &wire.SetDataRequest{Path: "/c", Data: []byte("c"), Version: -1}},
		{Type: wire.OpCheck, Body: &wire.PathVersionRequest{Path: "/a", Version: 1}},
		{Type: wire.OpDelete, Body: &wire.PathVersionRequest{Path: "/c/k2", Version: -1}},
	}})
	do(7, wire.OpMulti, &wire.MultiRequest{Ops: []wire.Op{
		{Type: wire.OpCreate, Body: &wire.CreateRequest{Path: "/c/never", ACL: OpenACL}},
		{Type: wire.OpDelete, Body: &wire.PathVersionRequest{Path: "/nope", Version: -1}},
		{Type: wire.OpDelete, Body: &wire.PathVersionRequest{Path: "/a", Version: -1}},
	}})
	do(0, wire.OpDelete, &wire.PathVersionRequest{Path: "/c/k", Version: -1})
	do(0, wire.OpDeleteContainer, &wire.PathRequest{Path: "/c"})
	do(7, wire.OpCheck, &wire.PathVersionRequest{Path: "/a", Version: 1})
	do(7, wire.OpCloseSession, &wire.Empty{})
	do(8, wire.OpCreateSession, &CreateSession{Timeout: 4000, Passwd: ApacheSessionPasswd(8)})
	do(8, wire.OpCreate, &wire.CreateRequest{Path: "/old", ACL: OpenACL})
	do(8, wire.OpCloseSession, &wire.Empty{})
	h.tree.mu.Lock() // reconfig: our Apply does not implement it
	h.zxid++
	h.time += 1000
	h.tree.lastZxid.Store(h.zxid)
	h.tree.wmu.Lock()
	h.tree.setData(configPath, []byte("server.1=x"), 1, h.zxid, h.time)
	h.tree.wmu.Unlock()
	h.tree.mu.Unlock()

	var a, b bytes.Buffer
	if err := imported.WriteSnapshot(&a); err != nil {
		t.Fatal(err)
	}
	if err := h.tree.WriteSnapshot(&b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Errorf("ApplyApache and Apply give different trees")
		for _, p := range []string{"/", "/a", "/t", "/old", configPath} {
			t.Logf("%s: apache %+v ours %+v", p, statOrNil(imported, p), statOrNil(h.tree, p))
		}
	}
}

func statOrNil(t *Tree, path string) any {
	n := t.lookup(path)
	if !n.ok() {
		return nil
	}
	return t.statOf(n)
}

// TestImportApplyFuzzy covers the txns a fuzzy snapshot partly holds
// already, replayed as Apache's DataTree replays them.
func TestImportApplyFuzzy(t *testing.T) {
	tree := NewTree(Options{})
	applyAll(t, tree, []*ApacheTxn{
		{Zxid: 1, ApacheOp: ApacheOp{Type: wire.OpCreate, Path: "/p", ACL: OpenACL, ParentCVersion: 1}},
		{Zxid: 2, ApacheOp: ApacheOp{Type: wire.OpCreate, Path: "/p/a", ACL: OpenACL, ParentCVersion: 1}},
		{Zxid: 3, ApacheOp: ApacheOp{Type: wire.OpCreate, Path: "/p/b", ACL: OpenACL, ParentCVersion: 2}},
	})
	p := tree.lookup("/p")
	eq(t, "cversion", p.cversion(), int32(2))

	// A create the snapshot holds: NodeExists, but the parent's cversion
	// and pzxid move forward (setCversionPzxid), for create only.
	code, _ := tree.ApplyApache(&ApacheTxn{Zxid: 4, ApacheOp: ApacheOp{Type: wire.OpCreate, Path: "/p/a", ACL: OpenACL, ParentCVersion: 5}})
	eq(t, "create existing", code, wire.ErrNodeExists)
	eq(t, "cversion after create existing", [2]int64{int64(p.cversion()), p.pzxid()}, [2]int64{5, 4})
	code, _ = tree.ApplyApache(&ApacheTxn{Zxid: 5, ApacheOp: ApacheOp{Type: wire.OpCreate2, Path: "/p/a", ACL: OpenACL, ParentCVersion: 9}})
	eq(t, "create2 existing", code, wire.ErrNodeExists)
	eq(t, "cversion after create2 existing", [2]int64{int64(p.cversion()), p.pzxid()}, [2]int64{5, 4})

	// A create whose parentCVersion is not above the current one leaves
	// the parent's cversion and pzxid alone.
	code, _ = tree.ApplyApache(&ApacheTxn{Zxid: 6, ApacheOp: ApacheOp{Type: wire.OpCreate, Path: "/p/c", ACL: OpenACL, ParentCVersion: 3}})
	eq(t, "create behind", code, wire.ErrOK)
	eq(t, "cversion after create behind", [2]int64{int64(p.cversion()), p.pzxid()}, [2]int64{5, 4})
	eq(t, "czxid of /p/c", tree.lookup("/p/c").stat().czxid, int64(6))

	// A V0 create (parentCVersion -1) takes cversion+1.
	applyAll(t, tree, []*ApacheTxn{{Zxid: 7, ApacheOp: ApacheOp{Type: wire.OpCreate, Path: "/p/d", ACL: OpenACL, V0: true, ParentCVersion: -1}}})
	eq(t, "cversion after V0 create", [2]int64{int64(p.cversion()), p.pzxid()}, [2]int64{6, 7})

	// A delete of a node already gone still raises the parent's pzxid.
	code, _ = tree.ApplyApache(&ApacheTxn{Zxid: 8, ApacheOp: ApacheOp{Type: wire.OpDelete, Path: "/p/gone"}})
	eq(t, "delete missing", code, wire.ErrNoNode)
	eq(t, "pzxid after delete missing", p.pzxid(), int64(8))
	code, _ = tree.ApplyApache(&ApacheTxn{Zxid: 9, ApacheOp: ApacheOp{Type: wire.OpDelete, Path: "/nowhere/x"}})
	eq(t, "delete under missing parent", code, wire.ErrNoNode)

	// setData and setACL of a missing node change nothing.
	code, _ = tree.ApplyApache(&ApacheTxn{Zxid: 10, ApacheOp: ApacheOp{Type: wire.OpSetData, Path: "/x", Version: 1}})
	eq(t, "setData missing", code, wire.ErrNoNode)
	code, _ = tree.ApplyApache(&ApacheTxn{Zxid: 11, ApacheOp: ApacheOp{Type: wire.OpSetACL, Path: "/x", ACL: ReadACL, Version: 1}})
	eq(t, "setACL missing", code, wire.ErrNoNode)
	eq(t, "last zxid", tree.LastZxid(), int64(11))

	// A closeSession deletes the paths it lists (whoever owns them), then
	// what else the session owns.
	applyAll(t, tree, []*ApacheTxn{
		{Session: 0x10, Zxid: 12, ApacheOp: ApacheOp{Type: wire.OpCreateSession, Timeout: 5000}},
		{Session: 0x20, Zxid: 13, ApacheOp: ApacheOp{Type: wire.OpCreateSession, Timeout: 5000}},
		{Session: 0x10, Zxid: 14, ApacheOp: ApacheOp{Type: wire.OpCreate, Path: "/p/e1", ACL: OpenACL, Ephemeral: true, ParentCVersion: 7}},
		{Session: 0x10, Zxid: 15, ApacheOp: ApacheOp{Type: wire.OpCreate, Path: "/p/e2", ACL: OpenACL, Ephemeral: true, ParentCVersion: 8}},
		{Session: 0x20, Zxid: 16, ApacheOp: ApacheOp{Type: wire.OpCreate, Path: "/p/f", ACL: OpenACL, Ephemeral: true, ParentCVersion: 9}},
	})
	if s, ok := tree.Session(0x10); !ok || s.Timeout != 5000 || !bytes.Equal(s.Passwd, ApacheSessionPasswd(0x10)) {
		t.Errorf("session 0x10: %+v %v", s, ok)
	}
	applyAll(t, tree, []*ApacheTxn{{Session: 0x10, Zxid: 17, ApacheOp: ApacheOp{Type: wire.OpCloseSession, Paths: []string{"/p/f", "/p/none"}}}})
	for path, want := range map[string]bool{"/p/e1": false, "/p/e2": false, "/p/f": false, "/p/a": true} {
		if got := tree.lookup(path).ok(); got != want {
			t.Errorf("after closeSession: %s exists %v, want %v", path, got, want)
		}
	}
	if _, ok := tree.Session(0x10); ok {
		t.Error("session 0x10 survived its closeSession")
	}
	eq(t, "ephemerals", tree.EphemeralsBySession(), map[int64][]string{})

	// Apache's DataTree cannot apply these; the importer must stop.
	for _, txn := range []*ApacheTxn{
		{Zxid: 18, ApacheOp: ApacheOp{Type: wire.OpCreate, Path: "noslash", ACL: OpenACL}},
		{Zxid: 18, ApacheOp: ApacheOp{Type: wire.OpCreate, Path: "/", ACL: OpenACL}},
		{Zxid: 18, ApacheOp: ApacheOp{Type: wire.OpMulti, Ops: []ApacheOp{
			{Type: wire.OpCreate, Path: "/fine", ACL: OpenACL},
			{Type: wire.OpDelete, Path: "bad"}}}},
	} {
		if _, err := tree.ApplyApache(txn); !errors.Is(err, ErrCorruptApache) {
			t.Errorf("%+v: got %v, want ErrCorruptApache", txn.ApacheOp, err)
		}
	}
	if tree.lookup("/fine").ok() || tree.LastZxid() != 17 {
		t.Error("a rejected txn changed the tree")
	}
}

func TestImportDropOrphanEphemerals(t *testing.T) {
	tree := NewTree(Options{})
	applyAll(t, tree, []*ApacheTxn{
		{Session: 1, Zxid: 1, ApacheOp: ApacheOp{Type: wire.OpCreateSession, Timeout: 5000}},
		{Session: 1, Zxid: 2, ApacheOp: ApacheOp{Type: wire.OpCreate, Path: "/live", ACL: OpenACL, Ephemeral: true, ParentCVersion: 1}},
		{Session: 2, Zxid: 3, ApacheOp: ApacheOp{Type: wire.OpCreate, Path: "/dead", ACL: OpenACL, Ephemeral: true, ParentCVersion: 2}},
		{Session: 3, Zxid: 4, ApacheOp: ApacheOp{Type: wire.OpCreateSession, Timeout: 5000}},
	})
	eq(t, "dropped", tree.DropOrphanEphemerals(), []int64{2})
	if tree.lookup("/dead").ok() || !tree.lookup("/live").ok() {
		t.Error("wrong nodes dropped")
	}
	eq(t, "root pzxid", tree.root.pzxid(), int64(4))
}

// apacheTestTree builds a tree with sessions, ACLs, ephemeral, container,
// TTL and quota nodes through ApplyApache.
func apacheTestTree(t *testing.T) *Tree {
	t.Helper()
	tree := NewTree(Options{ExtendedTypes: true})
	digest := []wire.ACL{{Perms: wire.PermRead, ID: wire.Id{Scheme: "world", ID: "anyone"}},
		{Perms: wire.PermAll, ID: wire.Id{Scheme: "digest", ID: "alice:hash"}}}
	applyAll(t, tree, []*ApacheTxn{
		{Session: 0x5, Zxid: 1, Time: 10, ApacheOp: ApacheOp{Type: wire.OpCreateSession, Timeout: 9000}},
		{Session: 0x5, Zxid: 2, Time: 11, ApacheOp: ApacheOp{Type: wire.OpCreate, Path: "/app", Data: []byte("hello"), ACL: OpenACL, ParentCVersion: 1}},
		{Session: 0x5, Zxid: 3, Time: 12, ApacheOp: ApacheOp{Type: wire.OpCreate, Path: "/app/bin", Data: []byte{0, 1, 2, 255}, ACL: digest, ParentCVersion: 1}},
		{Session: 0x5, Zxid: 4, Time: 13, ApacheOp: ApacheOp{Type: wire.OpCreate, Path: "/app/eph", ACL: OpenACL, Ephemeral: true, ParentCVersion: 2}},
		{Session: 0x5, Zxid: 5, Time: 14, ApacheOp: ApacheOp{Type: wire.OpCreateContainer, Path: "/ctr", ACL: OpenACL, ParentCVersion: 2}},
		{Session: 0x5, Zxid: 6, Time: 15, ApacheOp: ApacheOp{Type: wire.OpCreateTTL, Path: "/ttl", ACL: digest, ParentCVersion: 3, TTL: 60000}},
		{Session: 0x5, Zxid: 7, Time: 16, ApacheOp: ApacheOp{Type: wire.OpCreate, Path: "/zookeeper/quota/app", ACL: OpenACL, ParentCVersion: 1}},
		{Session: 0x5, Zxid: 8, Time: 17, ApacheOp: ApacheOp{Type: wire.OpCreate, Path: "/zookeeper/quota/app/zookeeper_limits", Data: []byte("count=10,bytes=-1"), ACL: OpenACL, ParentCVersion: 1}},
		{Session: 0x5, Zxid: 9, Time: 18, ApacheOp: ApacheOp{Type: wire.OpCreate, Path: "/zookeeper/quota/app/zookeeper_stats", Data: []byte("count=0,bytes=0"), ACL: OpenACL, ParentCVersion: 2}},
		{Session: 0x5, Zxid: 10, Time: 19, ApacheOp: ApacheOp{Type: wire.OpSetData, Path: "/app", Data: []byte("hello again"), Version: 1}},
		{Session: 0x6, Zxid: 11, Time: 20, ApacheOp: ApacheOp{Type: wire.OpCreateSession, Timeout: 4000}},
	})
	return tree
}

func ourSnapshot(t *testing.T, tree *Tree) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := tree.WriteSnapshot(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestImportSnapshotRoundTrip(t *testing.T) {
	tree := apacheTestTree(t)
	eq(t, "quota stats", string(tree.lookup("/zookeeper/quota/app/zookeeper_stats").data()), "count=3,bytes=15")
	var b bytes.Buffer
	if err := tree.WriteApacheSnapshot(&b); err != nil {
		t.Fatal(err)
	}
	got, info, err := ReadApacheSnapshot(b.Bytes(), tree.LastZxid(), Options{ExtendedTypes: true})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "info", info, ApacheSnapshotInfo{})
	if !bytes.Equal(ourSnapshot(t, got), ourSnapshot(t, tree)) {
		t.Error("the tree read back differs")
	}
	eq(t, "ephemerals", got.EphemeralsBySession(), map[int64][]string{5: {"/app/eph"}})
	eq(t, "ttl nodes", got.TTLNodes(), []string{"/ttl"})
	eq(t, "quotas", got.maxQuotaPrefix("/app/bin"), "/app")

	// Loading recomputes the quota stats, as Apache's setupQuota.
	const statsPath = "/zookeeper/quota/app/zookeeper_stats"
	tree.setQuotaNodeData(statsPath, []byte("count=99,bytes=99"))
	b.Reset()
	if err := tree.WriteApacheSnapshot(&b); err != nil {
		t.Fatal(err)
	}
	got, _, err = ReadApacheSnapshot(b.Bytes(), tree.LastZxid(), Options{ExtendedTypes: true})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "recomputed stats", string(got.lookup(statsPath).data()), "count=3,bytes=15")
}

// seal appends a seal over everything in b.
func seal(b []byte) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(adler32.Checksum(b)))
	return append(b, 0, 0, 0, 1, '/')
}

func TestImportSnapshotSections(t *testing.T) {
	tree := apacheTestTree(t)
	var buf bytes.Buffer
	if err := tree.WriteApacheSnapshot(&buf); err != nil {
		t.Fatal(err)
	}
	base := buf.Bytes()
	digest := func(b []byte, version int32) []byte {
		e := wire.NewEncoder(append([]byte(nil), b...))
		e.Long(11)
		e.Int(version)
		if version < 2 {
			e.String("abc")
		} else {
			e.Long(-42)
		}
		return seal(e.Bytes())
	}
	last := func(b []byte) []byte { return seal(binary.BigEndian.AppendUint64(append([]byte(nil), b...), 11)) }
	for name, tc := range map[string]struct {
		b    []byte
		want ApacheSnapshotInfo
	}{
		"digest":               {digest(base, 2), ApacheSnapshotInfo{DigestZxid: 11}},
		"old digest":           {digest(base, 1), ApacheSnapshotInfo{DigestZxid: 11}},
		"digest and last zxid": {last(digest(base, 2)), ApacheSnapshotInfo{DigestZxid: 11, LastProcessedZxid: 11}},
		"last zxid":            {last(base), ApacheSnapshotInfo{LastProcessedZxid: 11}},
	} {
		got, info, err := ReadApacheSnapshot(tc.b, 11, Options{ExtendedTypes: true})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		eq(t, name, info, tc.want)
		if !bytes.Equal(ourSnapshot(t, got), ourSnapshot(t, tree)) {
			t.Errorf("%s: tree differs", name)
		}
	}
}

func TestImportSnapshotCorruption(t *testing.T) {
	tree := apacheTestTree(t)
	var buf bytes.Buffer
	if err := tree.WriteApacheSnapshot(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	flip := func(i int) []byte {
		b := append([]byte(nil), good...)
		b[i] ^= 0x10
		return b
	}
	// Hand-made snapshots: the root and nodes at paths, with ACL aclID.
	nodes := func(aclID int64, paths ...string) []byte {
		e := wire.NewEncoder(nil)
		e.Int(apacheSnapMagic)
		e.Int(2)
		e.Long(0)
		e.Int(0) // sessions
		e.Int(0) // ACLs
		for _, p := range append([]string{""}, paths...) {
			e.String(p)
			e.Buffer(nil)
			e.Long(aclID)
			for range 4 {
				e.Long(0)
			}
			for range 3 {
				e.Int(0)
			}
			e.Long(0)
			e.Long(0)
		}
		e.String("/")
		return seal(e.Bytes())
	}
	if _, _, err := ReadApacheSnapshot(nodes(-1, "/a", "/a/b"), 0, Options{}); err != nil {
		t.Fatalf("hand-made snapshot: %v", err)
	}
	data := bytes.Index(good, []byte("hello again"))
	for name, tc := range map[string]struct {
		b    []byte
		want string
	}{
		"bit flip in data":  {flip(data + 3), "checksum mismatch"},
		"bit flip anywhere": {flip(len(good) / 3), ""},
		"bit flip in seal":  {flip(len(good) - 8), "checksum mismatch"},
		"bad magic":         {flip(0), "not a snapshot"},
		"truncated":         {good[:len(good)/2], ""},
		"empty":             {nil, "file header"},
		"trailing garbage":  {append(append([]byte(nil), good...), 1, 2, 3), "after the tree"},
		"parent after node": {nodes(-1, "/a/b"), "comes before its parent"},
		"unknown ACL":       {nodes(7, "/a"), "unknown ACL"},
		"no root":           {nodes(-1, "/a")[:0], "file header"},
	} {
		_, _, err := ReadApacheSnapshot(tc.b, 11, Options{})
		if !errors.Is(err, ErrCorruptApache) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want ErrCorruptApache with %q", name, err, tc.want)
		}
	}
}
