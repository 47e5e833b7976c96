package znode

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/zkgo/zkgo/wire"
)

// txnGen makes random but valid-looking txns over a small namespace, so
// that many of them succeed and many fail.
type txnGen struct {
	r    *rand.Rand
	zxid int64
	time int64
}

var (
	genNames = []string{"a", "b", "c"}
	genAuths = [][]wire.Id{nil, {{Scheme: "digest", ID: "alice:h"}}, {superID}, {{Scheme: "ip", ID: "10.0.0.7"}}}
	genACLs  = [][]wire.ACL{
		OpenACL, ReadACL,
		{{Perms: wire.PermAll, ID: wire.Id{Scheme: "auth"}}},
		{{Perms: wire.PermAll &^ wire.PermDelete, ID: wire.Id{Scheme: "world", ID: "anyone"}}},
		{{Perms: wire.PermAll, ID: wire.Id{Scheme: "ip", ID: "10.0.0.0/8"}}},
	}
)

func (g *txnGen) path() string {
	p := ""
	for d := 1 + g.r.IntN(3); d > 0; d-- {
		p += "/" + genNames[g.r.IntN(len(genNames))]
	}
	return p
}

func (g *txnGen) data() []byte {
	switch g.r.IntN(4) {
	case 0:
		return nil
	case 1:
		return []byte{}
	}
	return []byte(fmt.Sprintf("d%d", g.r.IntN(1000)))
}

func (g *txnGen) version() int32 {
	if g.r.IntN(2) == 0 {
		return -1
	}
	return int32(g.r.IntN(3))
}

func (g *txnGen) writeOp() wire.Op {
	switch g.r.IntN(6) {
	case 0, 1:
		flags := int32(g.r.IntN(5))
		if g.r.IntN(10) == 0 {
			flags = int32(g.r.IntN(9)) - 1
		}
		op := []wire.OpCode{wire.OpCreate, wire.OpCreate2, wire.OpCreateContainer, wire.OpCreateTTL}[g.r.IntN(4)]
		req := &wire.CreateRequest{Path: g.path(), Data: g.data(), ACL: genACLs[g.r.IntN(len(genACLs))], Flags: flags}
		if op == wire.OpCreateTTL {
			req.HasTTL, req.TTL = true, int64(g.r.IntN(5000))
			if g.r.IntN(5) != 0 {
				req.Flags = wire.FlagPersistentWithTTL + int32(g.r.IntN(2))
			}
		}
		return wire.Op{Type: op, Body: req}
	case 2:
		return wire.Op{Type: wire.OpDelete, Body: &wire.PathVersionRequest{Path: g.path(), Version: g.version()}}
	case 3, 4:
		return wire.Op{Type: wire.OpSetData, Body: &wire.SetDataRequest{Path: g.path(), Data: g.data(), Version: g.version()}}
	}
	return wire.Op{Type: wire.OpCheck, Body: &wire.PathVersionRequest{Path: g.path(), Version: g.version()}}
}

func (g *txnGen) next(t *Tree) *Txn {
	g.zxid++
	g.time += int64(g.r.IntN(3000))
	txn := &Txn{Zxid: g.zxid, Time: g.time, Session: int64(g.r.IntN(4)), Cxid: int32(g.zxid), Auth: genAuths[g.r.IntN(len(genAuths))]}
	if _, live := t.Session(txn.Session); !live && g.r.IntN(4) != 0 {
		txn.Session = 0
	}
	switch k := g.r.IntN(40); {
	case k >= 20 && k < 37:
		op := g.writeOp()
		txn.Type, txn.Body = op.Type, op.Body
	case k == 37:
		txn.Session = int64(1 + g.r.IntN(3))
		txn.Type, txn.Body = wire.OpCreateSession, &CreateSession{Timeout: int32(g.r.IntN(40000)), Passwd: g.data()}
	case k < 12:
		op := g.writeOp()
		txn.Type, txn.Body = op.Type, op.Body
	case k < 14:
		txn.Type = wire.OpSetACL
		txn.Body = &wire.SetACLRequest{Path: g.path(), ACL: genACLs[g.r.IntN(len(genACLs))], Version: g.version()}
	case k < 16:
		var ops []wire.Op
		for n := g.r.IntN(4); n >= 0; n-- {
			ops = append(ops, g.writeOp())
		}
		txn.Type, txn.Body = wire.OpMulti, &wire.MultiRequest{Ops: ops}
	case k < 17:
		txn.Type, txn.Body = wire.OpCreateSession, &CreateSession{Timeout: int32(g.r.IntN(40000)), Passwd: g.data()}
	case k < 18:
		txn.Type, txn.Body = wire.OpCloseSession, &wire.Empty{}
	default:
		txn.Session = 0
		txn.Type = wire.OpDeleteContainer
		p := g.path()
		if exp := t.ExpiredContainers(g.time); len(exp) > 0 && g.r.IntN(2) == 0 {
			p = exp[g.r.IntN(len(exp))]
		}
		txn.Body = &wire.PathRequest{Path: p}
	}
	return txn
}

// setupTxns gives the random runs sessions and a quota to maintain.
func setupTxns() []*Txn {
	var out []*Txn
	add := func(typ wire.OpCode, session int64, body wire.Record) {
		out = append(out, &Txn{Zxid: int64(len(out) + 1), Time: 1000, Session: session, Type: typ, Body: body})
	}
	for s := int64(1); s < 4; s++ {
		add(wire.OpCreateSession, s, &CreateSession{Timeout: 10000, Passwd: []byte{byte(s)}})
	}
	add(wire.OpCreate, 0, createReq("/zookeeper/quota/a", "", 0))
	add(wire.OpCreate, 0, createReq("/zookeeper/quota/a/zookeeper_limits", "count=5,bytes=-1", 0))
	add(wire.OpCreate, 0, createReq("/zookeeper/quota/a/zookeeper_stats", "", 0))
	return out
}

func snap(t testing.TB, tree *Tree) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := tree.WriteSnapshot(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func sameState(t *testing.T, what string, a, b *Tree) {
	t.Helper()
	if !bytes.Equal(snap(t, a), snap(t, b)) {
		t.Fatalf("%s: snapshots differ", what)
	}
	sa, sb := a.Stats(), b.Stats()
	if sa != sb {
		t.Fatalf("%s: stats differ: %+v vs %+v", what, sa, sb)
	}
	if !reflect.DeepEqual(a.EphemeralsBySession(), b.EphemeralsBySession()) {
		t.Fatalf("%s: ephemerals differ", what)
	}
	if !reflect.DeepEqual(a.ExpiredContainers(1<<60), b.ExpiredContainers(1<<60)) {
		t.Fatalf("%s: containers differ", what)
	}
	if !reflect.DeepEqual(a.quotas, b.quotas) || !reflect.DeepEqual(a.ttls, b.ttls) {
		t.Fatalf("%s: indexes differ", what)
	}
	if a.nodeCount != b.nodeCount || a.dataSize != b.dataSize {
		t.Fatalf("%s: counters differ", what)
	}
}

// checkInvariants recomputes the tree's indexes and counters.
func checkInvariants(t *testing.T, tree *Tree) {
	t.Helper()
	count, size := 0, int64(0)
	eph := map[int64]map[string]struct{}{}
	refs := map[uint32]int{}
	var walk func(p string, n node)
	walk = func(p string, n node) {
		count++
		size += int64(len(canonical(p)) + len(n.data()))
		st := n.stat()
		refs[st.acl]++
		if tree.kind(st.owner) == kindEphemeral {
			if eph[st.owner] == nil {
				eph[st.owner] = map[string]struct{}{}
			}
			eph[st.owner][p] = struct{}{}
			if n.kids().len() > 0 {
				t.Fatalf("ephemeral %s has children", p)
			}
		}
		seen := 0
		for c := range n.kids().all() {
			if n.kids().get(c.name()) != c {
				t.Fatalf("child %q of %s is not found by its name", c.name(), p)
			}
			seen++
			walk(p+"/"+c.name(), c)
		}
		if seen != n.kids().len() {
			t.Fatalf("%s: %d children in the table, %d counted", p, seen, n.kids().len())
		}
	}
	walk("", tree.root)
	if count != tree.nodeCount || size != tree.dataSize {
		t.Fatalf("counters: %d/%d nodes, %d/%d bytes", count, tree.nodeCount, size, tree.dataSize)
	}
	if !reflect.DeepEqual(eph, tree.ephemerals) {
		t.Fatalf("ephemeral index %v, want %v", tree.ephemerals, eph)
	}
	if len(refs) != len(tree.acls.m) {
		t.Fatalf("%d ACL entries in use, %d cached", len(refs), len(tree.acls.m))
	}
	for i, n := range refs {
		e := tree.acls.entries[i]
		if e == nil || e.refs != n || tree.acls.m[e.key] != i {
			t.Fatalf("ACL %d: entry %+v, want %d refs", i, e, n)
		}
	}
	inUse := 0
	for _, e := range tree.acls.entries {
		if e != nil {
			inUse++
		}
	}
	if inUse+len(tree.acls.free) != len(tree.acls.entries) {
		t.Fatalf("%d ACL entries in use and %d free of %d", inUse, len(tree.acls.free), len(tree.acls.entries))
	}
}

func TestDeterminism(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			opts := Options{ExtendedTypes: true, EnforceQuota: seed%2 == 0}
			a, b := NewTree(opts), NewTree(opts)
			txns := setupTxns()
			g := &txnGen{r: rand.New(rand.NewPCG(seed, 7)), zxid: int64(len(txns)), time: 2000}
			for _, txn := range txns {
				a.Apply(txn)
				b.Apply(txn)
			}
			// The same random watches on both replicas.
			wa := []*connRecorder{{recorder: recorder{session: 1}}, {recorder: recorder{session: 2}, ids: []wire.Id{superID}}, {recorder: recorder{session: 3}}}
			wb := []*connRecorder{{recorder: recorder{session: 1}}, {recorder: recorder{session: 2}, ids: []wire.Id{superID}}, {recorder: recorder{session: 3}}}
			for i := 0; i < 400; i++ {
				if g.r.IntN(3) == 0 {
					k, p := g.r.IntN(3), g.path()
					op := []wire.OpCode{wire.OpExists, wire.OpGetData, wire.OpGetChildren, wire.OpAddWatch}[g.r.IntN(4)]
					var body wire.Record = &wire.PathWatchRequest{Path: p, Watch: true}
					if op == wire.OpAddWatch {
						body = &wire.PathTypeRequest{Path: p, Type: int32(g.r.IntN(2))}
					}
					_, ea := a.Read(op, body, Caller{Watcher: wa[k], Auth: wa[k].ids})
					_, eb := b.Read(op, body, Caller{Watcher: wb[k], Auth: wb[k].ids})
					if ea != eb {
						t.Fatalf("read results differ")
					}
				}
				txn := g.next(a)
				ra := a.Apply(txn)
				// b gets the txn through the log codec.
				var dec Txn
				if err := wire.Decode(wire.Encode(txn), &dec); err != nil {
					t.Fatalf("decode %v: %v", txn.Type, err)
				}
				rb := b.Apply(&dec)
				if !reflect.DeepEqual(wire.Encode(resultRecord(ra)), wire.Encode(resultRecord(rb))) || ra.Err != rb.Err {
					t.Fatalf("txn %d (%v): results differ: %+v vs %+v", i, txn.Type, ra, rb)
				}
			}
			checkInvariants(t, a)
			sameState(t, "replicas", a, b)
			for k := range wa {
				eq(t, "events", wa[k].events, wb[k].events)
				eq(t, "event zxids", wa[k].zxids, wb[k].zxids)
				if len(wa[k].events) == 0 {
					t.Errorf("watcher %d saw no events", k)
				}
			}
			eq(t, "watches by session", a.WatchesBySession(), b.WatchesBySession())
			eq(t, "watches by path", a.WatchesByPath(), b.WatchesByPath())
			for k := range wa {
				a.RemoveWatcher(wa[k])
			}
			if st := a.Stats(); st.AllWatches != 0 || a.dataWatches.recursive != 0 || len(a.dataWatches.byWatcher)+len(a.childWatches.byWatcher) != 0 {
				t.Fatalf("watches left after RemoveWatcher: %+v", st)
			}

			// Round trip through a snapshot, then keep going on both.
			c, err := DecodeSnapshot(snap(t, a), opts)
			if err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, c)
			sameState(t, "restored", a, c)
			eq(t, "last zxid", c.LastZxid(), a.LastZxid())
			eq(t, "sessions", c.Sessions(), a.Sessions())
			for i := 0; i < 200; i++ {
				txn := g.next(a)
				ra, rc := a.Apply(txn), c.Apply(txn)
				if ra.Err != rc.Err || !bytes.Equal(wire.Encode(resultRecord(ra)), wire.Encode(resultRecord(rc))) {
					t.Fatalf("after restore, txn %d (%v): results differ", i, txn.Type)
				}
			}
			sameState(t, "restored and continued", a, c)
		})
	}
}

func resultRecord(r Result) wire.Record {
	if r.Body == nil {
		return &wire.Empty{}
	}
	return r.Body
}

func TestSnapshotCorruption(t *testing.T) {
	h := newHarness(t, Options{})
	h.openSession(9)
	h.mustCreate("/a", "x")
	h.create(9, "/a/e", "y", wire.FlagEphemeral)
	good := h.snapshot()
	if _, err := DecodeSnapshot(good, Options{}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(good); i += 7 {
		bad := append([]byte(nil), good...)
		bad[i] ^= 0x20
		if _, err := DecodeSnapshot(bad, Options{}); !errors.Is(err, ErrCorruptSnapshot) {
			t.Fatalf("flipped byte %d: err %v", i, err)
		}
	}
	for _, n := range []int{0, 5, 12, len(good) - 1} {
		if _, err := DecodeSnapshot(good[:n], Options{}); !errors.Is(err, ErrCorruptSnapshot) {
			t.Fatalf("truncated to %d: err %v", n, err)
		}
	}
}

func TestSnapshotPreservesEverything(t *testing.T) {
	h := newHarness(t, Options{ExtendedTypes: true})
	h.openSession(9)
	h.mustApply(0, nil, wire.OpCreate, &wire.CreateRequest{Path: "/null", ACL: OpenACL})
	h.mustApply(0, nil, wire.OpCreate, &wire.CreateRequest{Path: "/empty", Data: []byte{}, ACL: ReadACL})
	h.mustApply(0, nil, wire.OpCreateContainer, createReq("/c", "", wire.FlagContainer))
	h.mustApply(0, nil, wire.OpCreateTTL, &wire.CreateRequest{Path: "/t", ACL: OpenACL, Flags: wire.FlagPersistentWithTTL, TTL: 10, HasTTL: true})
	h.create(9, "/c/e", "", wire.FlagEphemeral)
	h.setQuota("/c", "count=10")
	t2, err := DecodeSnapshot(h.snapshot(), Options{ExtendedTypes: true})
	if err != nil {
		t.Fatal(err)
	}
	h2 := &harness{t: t, tree: t2}
	for _, p := range []string{"/", "/zookeeper/config", "/null", "/empty", "/c", "/t", "/c/e"} {
		eq(t, p, h2.stat(p), h.stat(p))
		eq(t, p+" data", h2.data(p), h.data(p))
	}
	eq(t, "ttls", t2.ttls, map[string]struct{}{"/t": {}})
	eq(t, "containers", t2.containers, map[string]struct{}{"/c": {}})
	eq(t, "quotas", t2.quotas, map[string]struct{}{"/c": {}})
	eq(t, "session", t2.Sessions(), h.tree.Sessions())
	eq(t, "ephemerals", t2.EphemeralsBySession(), map[int64][]string{9: {"/c/e"}})
}

func TestTxnCodec(t *testing.T) {
	txns := []*Txn{
		{Zxid: 1, Time: 2, Session: 3, Cxid: 4, Type: wire.OpCreate, Auth: []wire.Id{superID}, Body: createReq("/a", "x", 1)},
		{Zxid: 1, Type: wire.OpCreateTTL, Body: &wire.CreateRequest{Path: "/t", ACL: OpenACL, Flags: 5, TTL: 99, HasTTL: true}},
		{Zxid: 1, Type: wire.OpCreateSession, Body: &CreateSession{Timeout: 5, Passwd: []byte("pw")}},
		{Zxid: 1, Type: wire.OpCloseSession, Auth: []wire.Id{}, Body: &wire.Empty{}},
		{Zxid: 1, Type: wire.OpDeleteContainer, Body: &wire.PathRequest{Path: "/c"}},
		{Zxid: 1, Type: wire.OpSetACL, Body: &wire.SetACLRequest{Path: "/c", ACL: ReadACL, Version: 3}},
		{Zxid: 1, Type: wire.OpMulti, Body: &wire.MultiRequest{Ops: []wire.Op{
			{Type: wire.OpCheck, Body: &wire.PathVersionRequest{Path: "/x", Version: 1}},
			{Type: wire.OpSetData, Body: &wire.SetDataRequest{Path: "/x", Data: []byte("d"), Version: -1}},
		}}},
	}
	for _, txn := range txns {
		var got Txn
		if err := wire.Decode(wire.Encode(txn), &got); err != nil {
			t.Fatalf("%v: %v", txn.Type, err)
		}
		eq(t, txn.Type.String(), &got, txn)
	}
	// A nil body encodes as the empty body of its type.
	var got Txn
	if err := wire.Decode(wire.Encode(&Txn{Type: wire.OpCloseSession}), &got); err != nil {
		t.Fatal(err)
	}
	eq(t, "nil body", got.Body, wire.Record(&wire.Empty{}))
	if err := wire.Decode(wire.Encode(&Txn{Type: wire.OpGetData, Body: &wire.Empty{}}), &got); !errors.Is(err, wire.ErrBadOp) {
		t.Fatalf("read op decoded: %v", err)
	}
	b := wire.Encode(txns[0])
	if err := wire.Decode(b[:len(b)-1], &got); err == nil {
		t.Fatal("truncated txn decoded")
	}
}

// sortByAddress orders nodes as a comparison sort of their addresses does.
func TestSortByAddress(t *testing.T) {
	pool := make([]byte, 1<<20)
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 5, 63, 64, 65, 1000, 50_000} {
		kids := make([]node, n)
		for i := range kids {
			kids[i] = node{unsafe.Pointer(&pool[r.IntN(len(pool))])}
		}
		want := slices.Clone(kids)
		slices.SortFunc(want, func(a, b node) int { return cmp.Compare(uintptr(a.p), uintptr(b.p)) })
		sortByAddress(kids)
		if !slices.Equal(kids, want) {
			t.Fatalf("%d nodes: not in address order", n)
		}
	}
}

// TestSnapshotDuplicateChild: a snapshot whose checksum is right but which
// names two children of a node alike is refused.
func TestSnapshotDuplicateChild(t *testing.T) {
	h := newHarness(t, Options{})
	h.mustCreate("/p", "")
	h.mustCreate("/p/dupx", "1")
	h.mustCreate("/p/dupy", "2")
	b := h.snapshot()
	b = bytes.Replace(b, []byte("\x00\x00\x00\x04dupy"), []byte("\x00\x00\x00\x04dupx"), 1)
	body := b[:len(b)-4]
	binary.BigEndian.PutUint32(b[len(b)-4:], crc32.Checksum(body, castagnoli))
	_, err := DecodeSnapshot(b, Options{})
	if !errors.Is(err, ErrCorruptSnapshot) || !strings.Contains(err.Error(), `duplicate node "/p/dupx"`) {
		t.Fatalf("err %v, want a duplicate /p/dupx", err)
	}
}
