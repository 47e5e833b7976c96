package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/adler32"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/golang/snappy"

	"github.com/zkgo/zkgo/wire"
	"github.com/zkgo/zkgo/zab/storage"
	"github.com/zkgo/zkgo/znode"
)

// txnGen makes resolved Apache ZooKeeper txns, keeping track of the
// parents' cversions as Apache's PrepRequestProcessor does.
type txnGen struct {
	zxid int64
	cv   map[string]int32
	txns []*znode.ApacheTxn
}

func newTxnGen() *txnGen { return &txnGen{cv: map[string]int32{}} }

func (g *txnGen) add(session int64, op znode.ApacheOp) {
	g.zxid++
	txn := &znode.ApacheTxn{Session: session, Cxid: int32(g.zxid), Zxid: g.zxid, Time: 1_700_000_000_000 + g.zxid, ApacheOp: op}
	if g.zxid%3 == 0 {
		txn.Digest = &znode.ApacheDigest{Version: 2, TreeDigest: g.zxid * 7919}
	}
	g.txns = append(g.txns, txn)
}

func (g *txnGen) create(session int64, path, data string, ephemeral bool) {
	parent := path[:strings.LastIndexByte(path, '/')]
	g.cv[parent]++
	g.add(session, znode.ApacheOp{Type: wire.OpCreate, Path: path, Data: []byte(data), ACL: znode.OpenACL,
		Ephemeral: ephemeral, ParentCVersion: g.cv[parent]})
}

// workload is a few sessions' worth of txns of every kind.
func workload() []*znode.ApacheTxn {
	g := newTxnGen()
	g.add(0x101, znode.ApacheOp{Type: wire.OpCreateSession, Timeout: 30000})
	g.add(0x102, znode.ApacheOp{Type: wire.OpCreateSession, Timeout: 10000})
	g.create(0x101, "/app", "hello", false)
	g.create(0x101, "/app/a", "", false)
	g.create(0x101, "/app/a/b", "\x00\x01\xff", false)
	for i := 0; i < 5; i++ {
		g.create(0x101, fmt.Sprintf("/app/q-%010d", g.cv["/app"]), fmt.Sprint(i), false)
	}
	g.create(0x102, "/app/eph", "", true)
	g.create(0x101, "/app/live", "", true)
	g.add(0x101, znode.ApacheOp{Type: wire.OpSetData, Path: "/app", Data: []byte("v1"), Version: 1})
	g.add(0x101, znode.ApacheOp{Type: wire.OpError, Err: wire.ErrBadVersion})
	g.add(0x101, znode.ApacheOp{Type: wire.OpSetACL, Path: "/app/a", Version: 1,
		ACL: []wire.ACL{{Perms: wire.PermAll, ID: wire.Id{Scheme: "digest", ID: "alice:x0Ng"}}}})
	g.add(0x101, znode.ApacheOp{Type: wire.OpDelete, Path: "/app/q-0000000004"})
	g.cv["/app"]++
	g.cv["/app/m"] = 1
	g.add(0x101, znode.ApacheOp{Type: wire.OpMulti, Ops: []znode.ApacheOp{
		{Type: wire.OpCreate, Path: "/app/m", ACL: znode.OpenACL, ParentCVersion: g.cv["/app"]},
		{Type: wire.OpCreateContainer, Path: "/app/m/c", ACL: znode.OpenACL, ParentCVersion: 1},
		{Type: wire.OpSetData, Path: "/app/a/b", Data: nil, Version: 1},
		{Type: wire.OpCheck, Path: "/app", Version: 1},
	}})
	g.add(0x102, znode.ApacheOp{Type: wire.OpCloseSession, Paths: []string{"/app/eph"}})
	for i := 0; i < 6; i++ {
		g.add(0x101, znode.ApacheOp{Type: wire.OpSetData, Path: "/app", Data: []byte(fmt.Sprint("v", i+2)), Version: int32(i + 2)})
	}
	g.create(0x101, "/last", "end", false)
	return g.txns
}

// expectedTree replays txns on a new tree, as the import must.
func expectedTree(t *testing.T, txns []*znode.ApacheTxn) *znode.Tree {
	t.Helper()
	tree := znode.NewTree(znode.Options{ExtendedTypes: true})
	for _, txn := range txns {
		if _, err := tree.ApplyApache(txn); err != nil {
			t.Fatal(err)
		}
	}
	tree.DropOrphanEphemerals()
	return tree
}

func snapshotBytes(t *testing.T, tree *znode.Tree) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := tree.WriteSnapshot(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// apacheRecord frames a txn as FileTxnLog writes it.
func apacheRecord(txn *znode.ApacheTxn) []byte {
	payload := txn.Marshal()
	b := binary.BigEndian.AppendUint64(nil, uint64(adler32.Checksum(payload)))
	b = binary.BigEndian.AppendUint32(b, uint32(len(payload)))
	b = append(b, payload...)
	return append(b, 'B')
}

// writeApacheLog writes log.<first zxid> holding txns, with 4 KiB of
// preallocated zeros after them.
func writeApacheLog(t *testing.T, dir string, txns []*znode.ApacheTxn) string {
	t.Helper()
	b := []byte("ZKLG\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00")
	for _, txn := range txns {
		b = append(b, apacheRecord(txn)...)
	}
	b = append(b, make([]byte, 4096)...)
	path := filepath.Join(dir, fmt.Sprintf("log.%x", txns[0].Zxid))
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeApacheSnapshot writes snapshot.<zxid>[suffix] of the tree after
// txns, compressed as the suffix says.
func writeApacheSnapshot(t *testing.T, dir string, txns []*znode.ApacheTxn, suffix string) string {
	t.Helper()
	tree := znode.NewTree(znode.Options{ExtendedTypes: true})
	var zxid int64
	for _, txn := range txns {
		if _, err := tree.ApplyApache(txn); err != nil {
			t.Fatal(err)
		}
		zxid = txn.Zxid
	}
	var b bytes.Buffer
	if err := tree.WriteApacheSnapshot(&b); err != nil {
		t.Fatal(err)
	}
	out := b.Bytes()
	switch suffix {
	case ".gz":
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(out)
		zw.Close()
		out = z.Bytes()
	case ".snappy":
		z := append([]byte(nil), snappyMagic...)
		z = binary.BigEndian.AppendUint32(z, 1)
		z = binary.BigEndian.AppendUint32(z, 1)
		for len(out) > 0 { // chunks, as SnappyOutputStream writes them
			n := min(len(out), 1000)
			block := snappy.Encode(nil, out[:n])
			z = binary.BigEndian.AppendUint32(z, uint32(len(block)))
			z = append(z, block...)
			out = out[n:]
		}
		out = z
	}
	path := filepath.Join(dir, fmt.Sprintf("snapshot.%x%s", zxid, suffix))
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// apacheFixture is an Apache ZooKeeper version-2 directory: snapshot.0,
// a snapshot at zxid snapAt, and the txns in two log files, the first
// holding the txns up to split.
type apacheFixture struct {
	dir           string
	txns          []*znode.ApacheTxn
	snap0, snap   string
	log1, log2    string
	snapAt, split int
}

func newFixture(t *testing.T, suffix string) *apacheFixture {
	t.Helper()
	f := &apacheFixture{dir: filepath.Join(t.TempDir(), "version-2"), txns: workload(), snapAt: 12, split: 18}
	if err := os.MkdirAll(f.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f.snap0 = writeApacheSnapshot(t, f.dir, nil, "")
	f.snap = writeApacheSnapshot(t, f.dir, f.txns[:f.snapAt], suffix)
	f.log1 = writeApacheLog(t, f.dir, f.txns[:f.split])
	f.log2 = writeApacheLog(t, f.dir, f.txns[f.split:])
	return f
}

// recordOffset returns the offset of the record of the i-th txn of a log
// file holding txns.
func recordOffset(txns []*znode.ApacheTxn, i int) int {
	off := apacheLogHeader
	for _, txn := range txns[:i] {
		off += len(apacheRecord(txn))
	}
	return off
}

func mutate(t *testing.T, path string, fn func([]byte) []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, fn(b), 0o644); err != nil {
		t.Fatal(err)
	}
}

func runFixture(f *apacheFixture) (*importResult, []string, error) {
	var warnings []string
	res, err := importApache(f.dir, f.dir, znode.Options{}, func(format string, args ...any) {
		warnings = append(warnings, fmt.Sprintf(format, args...))
	})
	return res, warnings, err
}

func TestImportApacheFiles(t *testing.T) {
	for _, suffix := range []string{"", ".gz", ".snappy"} {
		t.Run("snapshot"+suffix, func(t *testing.T) {
			f := newFixture(t, suffix)
			res, warnings, err := runFixture(f)
			if err != nil {
				t.Fatal(err)
			}
			if len(warnings) > 0 {
				t.Errorf("warnings: %q", warnings)
			}
			want := expectedTree(t, f.txns)
			if !bytes.Equal(snapshotBytes(t, res.tree), snapshotBytes(t, want)) {
				t.Error("imported tree differs from the txns replayed")
			}
			eq(t, "snapshot", res.snapshot.path, f.snap)
			eq(t, "applied", res.applied, len(f.txns)-f.snapAt)
			eq(t, "logs", res.logs, []string{f.log1, f.log2})
			eq(t, "ignored", res.ignored, 1) // the ErrorTxn
			eq(t, "last zxid", res.tree.LastZxid(), int64(len(f.txns)))
			if _, ok := res.tree.Session(0x101); !ok {
				t.Error("live session lost")
			}
			if _, ok := res.tree.Session(0x102); ok {
				t.Error("closed session kept")
			}
		})
	}
}

func eq(t *testing.T, what string, got, want any) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

// wantCorruption checks that err is a *storage.CorruptionError naming
// path and zxid, with reason in its text.
func wantCorruption(t *testing.T, err error, path string, zxid int64, reason string) {
	t.Helper()
	var ce *storage.CorruptionError
	if !errors.As(err, &ce) {
		t.Fatalf("got %v, want a corruption error", err)
	}
	msg := err.Error()
	t.Log(msg)
	if ce.Path != path || ce.Zxid != zxid || !strings.Contains(msg, filepath.Base(path)) ||
		!strings.Contains(msg, fmt.Sprintf("zxid 0x%x", zxid)) || !strings.Contains(msg, reason) {
		t.Errorf("got %q, want one naming %s, zxid 0x%x and %q", msg, path, zxid, reason)
	}
}

func TestImportCorruptApacheFiles(t *testing.T) {
	t.Run("snapshot bit flip", func(t *testing.T) {
		f := newFixture(t, "")
		mutate(t, f.snap, func(b []byte) []byte {
			i := bytes.Index(b, []byte("hello")) // a node's data
			b[i] ^= 0x01
			return b
		})
		_, _, err := runFixture(f)
		wantCorruption(t, err, f.snap, int64(f.snapAt), "checksum mismatch")
	})
	t.Run("compressed snapshot bit flip", func(t *testing.T) {
		f := newFixture(t, ".gz")
		mutate(t, f.snap, func(b []byte) []byte { b[len(b)/2] ^= 0x40; return b })
		_, _, err := runFixture(f)
		wantCorruption(t, err, f.snap, int64(f.snapAt), "")
	})
	t.Run("truncated snapshot, older one complete", func(t *testing.T) {
		f := newFixture(t, "")
		mutate(t, f.snap, func(b []byte) []byte { return b[:len(b)/2] })
		res, warnings, err := runFixture(f)
		if err != nil {
			t.Fatal(err)
		}
		eq(t, "snapshot used", res.snapshot.path, f.snap0)
		if len(warnings) != 1 || !strings.Contains(warnings[0], filepath.Base(f.snap)) || !strings.Contains(warnings[0], "0xc") {
			t.Errorf("warnings %q, want one naming %s and its zxid", warnings, f.snap)
		}
		if !bytes.Equal(snapshotBytes(t, res.tree), snapshotBytes(t, expectedTree(t, f.txns))) {
			t.Error("tree differs")
		}
	})
	for _, suffix := range []string{".gz", ".snappy"} {
		// Seen when Apache was stopped while writing its snapshot: the
		// compressed stream ends early.
		t.Run("truncated compressed snapshot "+suffix+", older one complete", func(t *testing.T) {
			f := newFixture(t, suffix)
			mutate(t, f.snap, func(b []byte) []byte { return b[:len(b)*2/3] })
			res, warnings, err := runFixture(f)
			if err != nil {
				t.Fatal(err)
			}
			eq(t, "snapshot used", res.snapshot.path, f.snap0)
			if len(warnings) != 1 || !strings.Contains(warnings[0], filepath.Base(f.snap)) {
				t.Errorf("warnings %q, want one naming %s", warnings, f.snap)
			}
		})
	}
	t.Run("truncated only snapshot", func(t *testing.T) {
		f := newFixture(t, "")
		os.Remove(f.snap0)
		mutate(t, f.snap, func(b []byte) []byte { return b[:len(b)-3] })
		_, _, err := runFixture(f)
		wantCorruption(t, err, f.snap, int64(f.snapAt), "incomplete")
	})
	t.Run("log bit flip", func(t *testing.T) {
		f := newFixture(t, "")
		second := f.txns[f.split:]
		mutate(t, f.log2, func(b []byte) []byte {
			b[recordOffset(second, 2)+30] ^= 0x08 // inside the payload of the 3rd txn
			return b
		})
		_, _, err := runFixture(f)
		wantCorruption(t, err, f.log2, second[2].Zxid, "checksum mismatch")
	})
	t.Run("log checksum bit flip", func(t *testing.T) {
		f := newFixture(t, "")
		first := f.txns[:f.split]
		mutate(t, f.log1, func(b []byte) []byte {
			b[recordOffset(first, 15)+7] ^= 0x80
			return b
		})
		_, _, err := runFixture(f)
		wantCorruption(t, err, f.log1, first[15].Zxid, "checksum mismatch")
	})
	t.Run("log end-of-record byte flipped", func(t *testing.T) {
		f := newFixture(t, "")
		first := f.txns[:f.split]
		mutate(t, f.log1, func(b []byte) []byte {
			b[recordOffset(first, 14)-1] = 'C' // the 'B' ending the 14th record
			return b
		})
		_, _, err := runFixture(f)
		wantCorruption(t, err, f.log1, first[13].Zxid, "end-of-record")
	})
	t.Run("log length bit flip", func(t *testing.T) {
		f := newFixture(t, "")
		first := f.txns[:f.split]
		mutate(t, f.log1, func(b []byte) []byte {
			b[recordOffset(first, 13)+9] ^= 0x40 // length += 4 MiB
			return b
		})
		_, _, err := runFixture(f)
		wantCorruption(t, err, f.log1, first[13].Zxid, "unreasonable record length")
	})
	t.Run("bad log header", func(t *testing.T) {
		f := newFixture(t, "")
		mutate(t, f.log2, func(b []byte) []byte { b[1] = 'X'; return b })
		_, _, err := runFixture(f)
		wantCorruption(t, err, f.log2, f.txns[f.split].Zxid, "not a transaction log")
	})
	t.Run("data after the padding", func(t *testing.T) {
		f := newFixture(t, "")
		mutate(t, f.log2, func(b []byte) []byte { b[len(b)-100] = 1; return b })
		_, _, err := runFixture(f)
		wantCorruption(t, err, f.log2, int64(len(f.txns)+1), "empty record")
	})
	t.Run("newest log torn", func(t *testing.T) {
		f := newFixture(t, "")
		second := f.txns[f.split:]
		cut := recordOffset(second, len(second)) - 5
		mutate(t, f.log2, func(b []byte) []byte { return b[:cut] }) // inside the last record, no padding
		res, warnings, err := runFixture(f)
		if err != nil {
			t.Fatal(err)
		}
		last := f.txns[len(f.txns)-2].Zxid
		if len(warnings) != 1 || !strings.Contains(warnings[0], filepath.Base(f.log2)) ||
			!strings.Contains(warnings[0], fmt.Sprintf("after zxid 0x%x", last)) {
			t.Errorf("warnings %q, want one naming %s and zxid 0x%x", warnings, f.log2, last)
		}
		if !bytes.Equal(snapshotBytes(t, res.tree), snapshotBytes(t, expectedTree(t, f.txns[:len(f.txns)-1]))) {
			t.Error("tree differs from the txns before the torn one")
		}
	})
	t.Run("newest log torn, zeros after", func(t *testing.T) {
		f := newFixture(t, "")
		second := f.txns[f.split:]
		mutate(t, f.log2, func(b []byte) []byte {
			end := recordOffset(second, len(second))
			clear(b[end-10 : end]) // the tail of the last record never made it
			return b
		})
		res, warnings, err := runFixture(f)
		if err != nil || len(warnings) != 1 || res.tree.LastZxid() != int64(len(f.txns)-1) {
			t.Errorf("got %v, warnings %q", err, warnings)
		}
	})
	t.Run("older log truncated", func(t *testing.T) {
		f := newFixture(t, "")
		first := f.txns[:f.split]
		mutate(t, f.log1, func(b []byte) []byte { return b[:recordOffset(first, len(first))-3] })
		_, _, err := runFixture(f)
		wantCorruption(t, err, f.log1, first[len(first)-1].Zxid, "missing")
	})
	t.Run("log file missing", func(t *testing.T) {
		f := newFixture(t, "")
		os.Remove(f.log1)
		_, _, err := runFixture(f)
		wantCorruption(t, err, f.log2, int64(f.snapAt+1), "missing")
	})
}

// TestImportCommand runs the import verb end to end, then export.
func TestImportCommand(t *testing.T) {
	f := newFixture(t, "")
	to := filepath.Join(t.TempDir(), "data")
	var stdout, stderr bytes.Buffer
	if err := runImport([]string{"--from", filepath.Dir(f.dir), "--to", to}, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "last zxid 0x19") {
		t.Errorf("output:\n%s", stdout.String())
	}
	tree, err := loadTree(to, to, znode.Options{ExtendedTypes: true})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(snapshotBytes(t, tree), snapshotBytes(t, expectedTree(t, f.txns))) {
		t.Error("the imported data directory holds another tree")
	}
	// Importing again into the same place is refused.
	if err := runImport([]string{"--from", f.dir, "--to", to}, &stdout, &stderr); err == nil ||
		!strings.Contains(err.Error(), "already holds snapshots") {
		t.Errorf("second import: %v", err)
	}
	if err := runImport([]string{"--to", to}, &stdout, &stderr); err == nil {
		t.Error("import without --from succeeded")
	}

	// export, flags after the positional argument style included.
	out := filepath.Join(t.TempDir(), "dump.json")
	stdout.Reset()
	if err := runExport([]string{"--out", out, "--data", to}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	type node struct {
		Path     string  `json:"path"`
		Data     *string `json:"data"`
		Encoding string  `json:"encoding"`
		Stat     struct {
			Mzxid          string
			Version        int32
			EphemeralOwner string
			NumChildren    int32
		} `json:"stat"`
		ACL []struct {
			Perms  int32
			Scheme string
			ID     string
		} `json:"acl"`
		Children []node `json:"children"`
	}
	var dump struct {
		LastZxid string
		Sessions []struct {
			ID      string
			Timeout int32
		}
		Tree node
	}
	if err := json.Unmarshal(b, &dump); err != nil {
		t.Fatalf("export is not JSON: %v\n%s", err, b)
	}
	eq(t, "lastZxid", dump.LastZxid, "0x19")
	eq(t, "sessions", fmt.Sprint(dump.Sessions), "[{0x101 30000}]")
	nodes := map[string]node{}
	var walk func(n node)
	walk = func(n node) {
		nodes[n.Path] = n
		for _, c := range n.Children {
			walk(c)
		}
	}
	walk(dump.Tree)
	app := nodes["/app"]
	eq(t, "/app", fmt.Sprintf("%s %s %d %s", *app.Data, app.Encoding, app.Stat.Version, app.Stat.Mzxid), "v7 utf-8 7 0x18")
	bin := nodes["/app/a/b"]
	eq(t, "/app/a/b data", bin.Data == nil, true) // set to null by the multi
	live := nodes["/app/live"]
	eq(t, "/app/live owner", live.Stat.EphemeralOwner, "0x101")
	eq(t, "/app/a acl", fmt.Sprint(nodes["/app/a"].ACL), "[{31 digest alice:x0Ng}]")
	if _, ok := nodes["/app/eph"]; ok {
		t.Error("/app/eph survived its session")
	}
	if len(nodes) != 15 {
		t.Errorf("%d nodes in the export, want 15: %v", len(nodes), nodes)
	}
}
