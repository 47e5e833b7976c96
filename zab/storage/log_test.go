package storage

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/vfs"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/zkgo/zkgo/zab"
)

// payload is the deterministic data stored for zxid in tests: its size varies
// so that records straddle the WAL's 32 KiB blocks.
func payload(zxid int64) []byte {
	n := int(zxid*7919) % 5000
	return bytes.Repeat([]byte(fmt.Sprintf("%x;", zxid)), n/8+1)
}

func entries(from, to int64) []zab.Entry {
	var es []zab.Entry
	for z := from; z <= to; z++ {
		es = append(es, zab.Entry{Zxid: z, Data: payload(z)})
	}
	return es
}

func openTestLog(t testing.TB, dir string, opts Options) *Log {
	t.Helper()
	l, err := OpenLog(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// collect returns all zxids from `from` on, checking each entry's data.
func collect(t *testing.T, l *Log, from int64) []int64 {
	t.Helper()
	var got []int64
	err := l.Iterate(from, func(z int64, data []byte) error {
		if !bytes.Equal(data, payload(z)) {
			return fmt.Errorf("zxid %x: wrong data", z)
		}
		got = append(got, z)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func checkRange(t *testing.T, l *Log, first, last int64) {
	t.Helper()
	if f, la := l.FirstZxid(), l.LastZxid(); f != first || la != last {
		t.Fatalf("FirstZxid, LastZxid = %x, %x; want %x, %x", f, la, first, last)
	}
	got := collect(t, l, 0)
	if first == 0 {
		if len(got) != 0 {
			t.Fatalf("empty log iterates %v", got)
		}
		return
	}
	if int64(len(got)) != last-first+1 || got[0] != first || got[len(got)-1] != last {
		t.Fatalf("iterated %d entries %x..; want %x..%x", len(got), got, first, last)
	}
}

func TestAppendIterateReopen(t *testing.T) {
	dir := t.TempDir()
	l := openTestLog(t, dir, Options{ForceSync: true})
	checkRange(t, l, 0, 0)
	for z := int64(1); z <= 100; z += 10 {
		if err := l.Append(entries(z, z+9)); err != nil {
			t.Fatal(err)
		}
	}
	checkRange(t, l, 1, 100)
	if got := collect(t, l, 95); len(got) != 6 || got[0] != 95 {
		t.Fatalf("Iterate(95) = %v", got)
	}
	stop := errors.New("stop")
	n := 0
	if err := l.Iterate(0, func(int64, []byte) error { n++; return stop }); err != stop || n != 1 {
		t.Fatalf("Iterate returned %v after %d calls; want the callback's error after 1", err, n)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Append(entries(101, 101)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close = %v", err)
	}

	l = openTestLog(t, dir, Options{ForceSync: false})
	defer l.Close()
	checkRange(t, l, 1, 100)
	if err := l.Append(entries(101, 120)); err != nil {
		t.Fatal(err)
	}
	checkRange(t, l, 1, 120)
}

func TestAppendOrder(t *testing.T) {
	l := openTestLog(t, t.TempDir(), Options{ForceSync: true})
	defer l.Close()
	if err := l.Append(entries(5, 9)); err != nil {
		t.Fatal(err)
	}
	bad := [][]zab.Entry{
		entries(9, 9),
		entries(3, 3),
		{{Zxid: 11}, {Zxid: 10}},
		{{Zxid: 12}, {Zxid: 12}},
	}
	for _, es := range bad {
		if err := l.Append(es); !errors.Is(err, ErrOutOfOrder) {
			t.Fatalf("Append(%v) = %v; want ErrOutOfOrder", es, err)
		}
	}
	if err := l.Append(nil); err != nil {
		t.Fatal(err)
	}
	// An ordering mistake does not fail the log.
	if err := l.Append(entries(10, 10)); err != nil {
		t.Fatal(err)
	}
	checkRange(t, l, 5, 10)
	if err := l.Append([]zab.Entry{{Zxid: 1 << 40}}); err != nil {
		t.Fatal(err)
	}
}

func TestTruncatePurge(t *testing.T) {
	dir := t.TempDir()
	l := openTestLog(t, dir, Options{ForceSync: true})
	if err := l.Append(entries(1, 50)); err != nil {
		t.Fatal(err)
	}
	if err := l.TruncateAfter(40); err != nil {
		t.Fatal(err)
	}
	checkRange(t, l, 1, 40)
	if err := l.TruncateAfter(45); err != nil { // nothing to drop
		t.Fatal(err)
	}
	if err := l.PurgeBefore(11); err != nil {
		t.Fatal(err)
	}
	checkRange(t, l, 11, 40)
	if err := l.Append(entries(41, 45)); err != nil { // zxids once truncated are written anew
		t.Fatal(err)
	}
	l.Close()

	l = openTestLog(t, dir, Options{ForceSync: true})
	checkRange(t, l, 11, 45)
	if err := l.TruncateAfter(3); err != nil {
		t.Fatal(err)
	}
	checkRange(t, l, 0, 0)
	if err := l.Append(entries(2, 5)); err != nil {
		t.Fatal(err)
	}
	if err := l.PurgeBefore(100); err != nil {
		t.Fatal(err)
	}
	checkRange(t, l, 0, 0)
	l.Close()
	l = openTestLog(t, dir, Options{ForceSync: true})
	defer l.Close()
	checkRange(t, l, 0, 0)
}

func TestMeta(t *testing.T) {
	dir := t.TempDir()
	l := openTestLog(t, dir, Options{ForceSync: false})
	if _, ok, err := l.Meta("acceptedEpoch"); ok || err != nil {
		t.Fatalf("Meta on a new log = %v, %v", ok, err)
	}
	if err := l.SetMeta("acceptedEpoch", 7); err != nil {
		t.Fatal(err)
	}
	if err := l.SetMeta("currentEpoch", -1); err != nil {
		t.Fatal(err)
	}
	if err := l.Append(entries(1, 3)); err != nil {
		t.Fatal(err)
	}
	l.Close()
	l = openTestLog(t, dir, Options{})
	defer l.Close()
	for key, want := range map[string]int64{"acceptedEpoch": 7, "currentEpoch": -1} {
		if v, ok, err := l.Meta(key); v != want || !ok || err != nil {
			t.Fatalf("Meta(%q) = %d, %v, %v; want %d", key, v, ok, err, want)
		}
	}
	checkRange(t, l, 1, 3) // meta keys are not entries
}

// rawSet writes a key and value straight into the pebble database at dir.
func rawSet(t *testing.T, dir string, key, value []byte) {
	t.Helper()
	db, err := pebble.Open(dir, &pebble.Options{Logger: pebbleLogger{zap.NewNop()}})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Set(key, value, pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestCorruptEntryDetected(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mangle func(v []byte) []byte
		reason string
	}{
		{"bitflip", func(v []byte) []byte { v[len(v)/2] ^= 0x10; return v }, "checksum mismatch"},
		{"checksum", func(v []byte) []byte { v[0] ^= 1; return v }, "checksum mismatch"},
		{"short", func(v []byte) []byte { return v[:2] }, "shorter than its checksum"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			l := openTestLog(t, dir, Options{ForceSync: true})
			for z := int64(1); z <= 20; z++ { // a group per txn
				if err := l.Append(entries(z, z)); err != nil {
					t.Fatal(err)
				}
			}
			// Read the stored group of zxid 12 and write it back damaged.
			var key [groupKeyLen]byte
			putGroupKey(key[:], 12)
			v, closer, err := l.db.Get(key[:])
			if err != nil {
				t.Fatal(err)
			}
			v = bytes.Clone(v)
			closer.Close()
			l.Close()
			rawSet(t, dir, key[:], tc.mangle(v))

			l = openTestLog(t, dir, Options{ForceSync: true})
			defer l.Close()
			var seen []int64
			err = l.Iterate(0, func(z int64, _ []byte) error { seen = append(seen, z); return nil })
			var ce *CorruptionError
			if !errors.As(err, &ce) {
				t.Fatalf("Iterate = %v; want a CorruptionError", err)
			}
			if ce.Zxid != 12 || ce.Path != dir || !strings.Contains(ce.Reason, tc.reason) {
				t.Fatalf("got %+v", ce)
			}
			if want := fmt.Sprintf("corrupt transaction log %s at zxid 0xc: ", dir); !strings.HasPrefix(err.Error(), want) {
				t.Fatalf("Error() = %q; want prefix %q", err, want)
			}
			if len(seen) != 11 {
				t.Fatalf("saw %d entries before the bad one; want 11", len(seen))
			}
			if err := l.Iterate(13, func(int64, []byte) error { return nil }); err != nil {
				t.Fatalf("Iterate past the bad entry = %v", err)
			}
		})
	}
}

func TestCorruptMetaDetected(t *testing.T) {
	dir := t.TempDir()
	l := openTestLog(t, dir, Options{ForceSync: true})
	if err := l.SetMeta("currentEpoch", 3); err != nil {
		t.Fatal(err)
	}
	l.Close()
	rawSet(t, dir, metaKey("currentEpoch"), metaValue("currentEpoch", 4)[:11])
	l = openTestLog(t, dir, Options{ForceSync: true})
	defer l.Close()
	var ce *CorruptionError
	if _, _, err := l.Meta("currentEpoch"); !errors.As(err, &ce) || !strings.Contains(ce.Reason, "currentEpoch") {
		t.Fatalf("Meta = %v; want a CorruptionError naming the key", err)
	}
}

// faultFS wraps the OS file system to count and fail syncs of pebble's WAL
// files (*.log).
type faultFS struct {
	vfs.FS
	failSync  atomic.Bool
	failWrite atomic.Bool
	syncs     atomic.Int64
}

var errInjected = errors.New("injected sync failure")

func (fs *faultFS) wrap(name string, f vfs.File, err error) (vfs.File, error) {
	if err != nil || !strings.HasSuffix(name, ".log") {
		return f, err
	}
	return &faultFile{File: f, fs: fs}, nil
}

func (fs *faultFS) Create(name string) (vfs.File, error) {
	f, err := fs.FS.Create(name)
	return fs.wrap(name, f, err)
}

func (fs *faultFS) ReuseForWrite(oldname, newname string) (vfs.File, error) {
	f, err := fs.FS.ReuseForWrite(oldname, newname)
	return fs.wrap(newname, f, err)
}

type faultFile struct {
	vfs.File
	fs *faultFS
}

func (f *faultFile) sync() error {
	f.fs.syncs.Add(1)
	if f.fs.failSync.Load() {
		return errInjected
	}
	return nil
}

func (f *faultFile) Write(p []byte) (int, error) {
	if f.fs.failWrite.Load() {
		return 0, errInjected
	}
	return f.File.Write(p)
}

func (f *faultFile) Sync() error {
	if err := f.sync(); err != nil {
		return err
	}
	return f.File.Sync()
}

func (f *faultFile) SyncData() error {
	if err := f.sync(); err != nil {
		return err
	}
	return f.File.SyncData()
}

func (f *faultFile) SyncTo(length int64) (bool, error) {
	if err := f.sync(); err != nil {
		return false, err
	}
	return f.File.SyncTo(length)
}

func TestSyncFailureFailsLog(t *testing.T) {
	fs := &faultFS{FS: vfs.Default}
	l := openTestLog(t, t.TempDir(), Options{ForceSync: true, fs: fs})
	if err := l.Append(entries(1, 10)); err != nil {
		t.Fatal(err)
	}
	fs.failSync.Store(true)

	// Several concurrent appends in flight when the sync fails: none may
	// report success.
	var mu sync.Mutex
	var wg sync.WaitGroup
	next := int64(11)
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			mu.Lock()
			p, err := l.AppendAsync(entries(next, next))
			next++
			mu.Unlock()
			if err == nil {
				err = p.Wait()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if !errors.Is(err, errInjected) {
			t.Fatalf("append %d = %v; want the injected error", i, err)
		}
	}

	fs.failSync.Store(false) // even if the disk recovers, the log stays failed
	first := l.Append(entries(30, 30))
	if first == nil || !errors.Is(first, errInjected) {
		t.Fatalf("Append after failure = %v", first)
	}
	for _, err := range []error{l.Append(entries(31, 31)), l.TruncateAfter(2), l.PurgeBefore(5), l.SetMeta("x", 1)} {
		if err != first {
			t.Fatalf("got %v; want the sticky %v", err, first)
		}
	}
	if !strings.Contains(first.Error(), "failed") {
		t.Fatalf("error %q does not say the log failed", first)
	}
	// Entries before the failure can still be read.
	if got := collect(t, l, 1); len(got) < 10 {
		t.Fatalf("read %d entries after failure", len(got))
	}
	l.Close()
}

// Without forceSync a failed WAL write surfaces in a later Append, through
// pebble's Logger.Fatalf; the log must fail there, not report success.
func TestWriteFailureWithoutForceSync(t *testing.T) {
	fs := &faultFS{FS: vfs.Default}
	l := openTestLog(t, t.TempDir(), Options{ForceSync: false, fs: fs})
	if err := l.Append(entries(1, 10)); err != nil {
		t.Fatal(err)
	}
	fs.failWrite.Store(true)
	var failed error
	for z := int64(11); z < 1000 && failed == nil; z++ {
		failed = l.Append(entries(z, z))
	}
	if !errors.Is(failed, errInjected) {
		t.Fatalf("Append kept succeeding or failed with %v", failed)
	}
	if err := l.Append(entries(2000, 2000)); err != failed {
		t.Fatalf("Append after failure = %v; want %v", err, failed)
	}
	l.Close()
}

func TestNoSyncWithoutForceSync(t *testing.T) {
	fs := &faultFS{FS: vfs.Default}
	l := openTestLog(t, t.TempDir(), Options{ForceSync: false, fs: fs})
	defer l.Close()
	before := fs.syncs.Load()
	for z := int64(1); z <= 100; z++ {
		if err := l.Append(entries(z, z)); err != nil {
			t.Fatal(err)
		}
	}
	if n := fs.syncs.Load() - before; n > 5 {
		t.Fatalf("%d WAL syncs for 100 appends without forceSync", n)
	}
	fs2 := &faultFS{FS: vfs.Default}
	l2 := openTestLog(t, t.TempDir(), Options{ForceSync: true, fs: fs2})
	defer l2.Close()
	before = fs2.syncs.Load()
	for z := int64(1); z <= 20; z++ {
		if err := l2.Append(entries(z, z)); err != nil {
			t.Fatal(err)
		}
	}
	if n := fs2.syncs.Load() - before; n < 20 {
		t.Fatalf("%d WAL syncs for 20 sequential appends with forceSync", n)
	}
}

func TestFsyncWarning(t *testing.T) {
	core, logs := observer.New(zapcore.WarnLevel)
	dir := t.TempDir()
	l := openTestLog(t, dir, Options{ForceSync: true, Logger: zap.New(core), FsyncWarning: time.Nanosecond})
	defer l.Close()
	if err := l.Append(entries(1, 1)); err != nil {
		t.Fatal(err)
	}
	warned := logs.FilterMessageSnippet("fsync").All()
	if len(warned) == 0 {
		t.Fatal("no warning for a sync over the threshold")
	}
	if file := warned[0].ContextMap()["file"].(string); !strings.HasPrefix(file, dir) || !strings.HasSuffix(file, ".log") {
		t.Fatalf("warning names %q", file)
	}

	core, logs = observer.New(zapcore.WarnLevel)
	l2 := openTestLog(t, t.TempDir(), Options{ForceSync: true, Logger: zap.New(core)})
	defer l2.Close()
	if err := l2.Append(entries(1, 1)); err != nil {
		t.Fatal(err)
	}
	if n := logs.Len(); n != 0 {
		t.Fatalf("%d warnings with the default threshold: %v", n, logs.All())
	}
}

// A log written with one key per txn (before groups) is refused at open,
// not read as empty.
func TestOldLayoutRefused(t *testing.T) {
	dir := t.TempDir()
	l := openTestLog(t, dir, Options{ForceSync: true})
	l.Close()
	rawSet(t, dir, []byte{prefixOldTxn, 0, 0, 0, 0, 0, 0, 0, 1}, []byte("txn"))
	if l, err := OpenLog(dir, Options{}); err == nil || !strings.Contains(err.Error(), "older layout") {
		if l != nil {
			l.Close()
		}
		t.Fatalf("OpenLog of an old-layout log = %v; want it refused", err)
	}
}

// TestOldMetaKeysMoved opens a log whose meta keys are where versions
// before the current layout kept them (prefixOldMeta): they are read
// there and moved, and the log opens as it was.
func TestOldMetaKeysMoved(t *testing.T) {
	dir := t.TempDir()
	l := openTestLog(t, dir, Options{ForceSync: true})
	if err := l.Append([]zab.Entry{{Zxid: 1, Data: []byte("a")}, {Zxid: 2, Data: []byte("b")}}); err != nil {
		t.Fatal(err)
	}
	if err := l.SetMeta("currentEpoch", 3); err != nil {
		t.Fatal(err)
	}
	l.Close()

	db, err := pebble.Open(dir, &pebble.Options{Logger: pebbleLogger{zap.NewNop()}})
	if err != nil {
		t.Fatal(err)
	}
	moved := rawMoveRange(t, db, prefixMeta, prefixOldMeta)
	if moved < 2 { // currentEpoch and the log's own
		t.Fatalf("moved %d meta keys to the old prefix; want at least 2", moved)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	l = openTestLog(t, dir, Options{ForceSync: true})
	if v, ok, err := l.Meta("currentEpoch"); err != nil || !ok || v != 3 {
		t.Fatalf("Meta(currentEpoch) = %d, %v, %v; want 3", v, ok, err)
	}
	if first, last := l.FirstZxid(), l.LastZxid(); first != 1 || last != 2 {
		t.Fatalf("log holds %d..%d; want 1..2", first, last)
	}
	l.Close()

	db, err = pebble.Open(dir, &pebble.Options{Logger: pebbleLogger{zap.NewNop()}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n := rawMoveRange(t, db, prefixOldMeta, prefixOldMeta); n != 0 {
		t.Fatalf("%d keys left under the old meta prefix", n)
	}
}

// rawMoveRange moves every key of db under prefix from to prefix to
// (nothing moves when they are equal) and returns how many there were.
func rawMoveRange(t *testing.T, db *pebble.DB, from, to byte) int {
	t.Helper()
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte{from}, UpperBound: []byte{from + 1}})
	if err != nil {
		t.Fatal(err)
	}
	b := db.NewBatch()
	n := 0
	for it.First(); it.Valid(); it.Next() {
		n++
		if from != to {
			b.Set(append([]byte{to}, it.Key()[1:]...), it.Value(), nil)
			b.Delete(it.Key(), nil)
		}
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		t.Fatal(err)
	}
	return n
}
