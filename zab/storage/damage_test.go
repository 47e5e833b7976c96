package storage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zkgo/zkgo/zab"
)

// smallEntries are entries of 100 bytes, so that thousands of them stay in
// pebble's write-ahead file (no memtable flush).
func smallEntries(from, to int64) []zab.Entry {
	var es []zab.Entry
	for z := from; z <= to; z++ {
		es = append(es, zab.Entry{Zxid: z, Data: []byte(fmt.Sprintf("%099d", z))})
	}
	return es
}

// writeGroups appends n entries in groups of 10, each acknowledged.
func writeGroups(t *testing.T, dir string, n int64) {
	t.Helper()
	l := openTestLog(t, dir, Options{ForceSync: true})
	for z := int64(1); z <= n; z += 10 {
		if err := l.Append(smallEntries(z, min(z+9, n))); err != nil {
			t.Fatal(err)
		}
	}
	if got := l.HighWater(); got != n {
		t.Fatalf("HighWater = %d after acknowledged appends up to %d", got, n)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

// flipBytes flips 8 bytes at offset of path.
func flipBytes(t *testing.T, path string, offset int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 8)
	if _, err := f.ReadAt(b, offset); err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] ^= 0xff
	}
	if _, err := f.WriteAt(b, offset); err != nil {
		t.Fatal(err)
	}
}

func corruption(t *testing.T, err error) *CorruptionError {
	t.Helper()
	var ce *CorruptionError
	if !errors.As(err, &ce) {
		t.Fatalf("got %v; want a *CorruptionError", err)
	}
	return ce
}

// TestDamagedWALRefused is the data-loss bug pebble's recovery hides: a
// damaged record in the back half of the newest write-ahead file, after
// which pebble stops reading. Opening must refuse, naming the file, the
// offset and the last good zxid, and change nothing on disk; AcceptLoss
// opens the good part and reports the loss until Repaired.
func TestDamagedWALRefused(t *testing.T) {
	dir := t.TempDir()
	writeGroups(t, dir, 3000)
	wal, size := newestWAL(t, dir)
	flipBytes(t, wal, size*3/4)

	for range 2 { // refusing leaves the files as they were
		_, err := OpenLog(dir, Options{ForceSync: true})
		ce := corruption(t, err)
		if ce.Path != wal || ce.Offset <= 0 || ce.Offset > size*3/4 || ce.Zxid <= 0 || ce.Zxid >= 3000 {
			t.Fatalf("got %+v; want file %s, an offset at or before %d and a last good zxid below 3000", ce, wal, size*3/4)
		}
		if !strings.Contains(err.Error(), fmt.Sprintf("at offset %d, zxid 0x%x", ce.Offset, ce.Zxid)) {
			t.Fatalf("Error() = %q does not name the offset and zxid", err)
		}
	}

	l := openTestLog(t, dir, Options{ForceSync: true, AcceptLoss: true})
	if l.Lost() == nil || l.HighWater() != 3000 || l.LastZxid() >= 3000 {
		t.Fatalf("AcceptLoss: Lost %v, HighWater %d, LastZxid %d; want a loss below the mark 3000", l.Lost(), l.HighWater(), l.LastZxid())
	}
	good := l.LastZxid()
	l.Close()
	// Still lost at the next open: the mark stays until Repaired.
	l = openTestLog(t, dir, Options{ForceSync: true, AcceptLoss: true})
	if l.Lost() == nil {
		t.Fatal("the loss was forgotten by a second open")
	}
	if _, err := OpenLog(dir, Options{ForceSync: true}); err == nil {
		t.Fatal("opened while another open holds the log") // pebble's lock
	}
	// Repair: the entries come back (from a leader) and the log is whole.
	if err := l.Append(smallEntries(good+1, 3010)); err != nil {
		t.Fatal(err)
	}
	if err := l.Repaired(); err != nil {
		t.Fatal(err)
	}
	if l.Lost() != nil || l.HighWater() != 3010 {
		t.Fatalf("after Repaired: Lost %v, HighWater %d", l.Lost(), l.HighWater())
	}
	l.Close()
	l = openTestLog(t, dir, Options{ForceSync: true})
	defer l.Close()
	checkSmall(t, l, 3010)
}

func checkSmall(t *testing.T, l *Log, last int64) {
	t.Helper()
	want := int64(1)
	err := l.Iterate(0, func(z int64, data []byte) error {
		if z != want || string(data) != fmt.Sprintf("%099d", z) {
			return fmt.Errorf("entry %d: got zxid %d %q", want, z, data)
		}
		want++
		return nil
	})
	if err != nil || want-1 != last {
		t.Fatalf("iterated 1..%d (%v); want 1..%d", want-1, err, last)
	}
}

// TestMissingFilesDetected: a deleted or emptied write-ahead file, a
// deleted high-water file, and damaged high-water slots.
func TestMissingFilesDetected(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, dir string)
		reason string // in the error; "" means the log opens whole
	}{
		{"deleted WAL", func(t *testing.T, dir string) {
			wal, _ := newestWAL(t, dir)
			os.Remove(wal)
		}, "damaged or missing"},
		{"zero-length WAL", func(t *testing.T, dir string) {
			wal, _ := newestWAL(t, dir)
			os.Truncate(wal, 0)
		}, "damaged or missing"},
		{"deleted high-water file", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, HighWaterFile))
		}, "high-water file is missing"},
		{"both high-water slots damaged", func(t *testing.T, dir string) {
			flipBytes(t, filepath.Join(dir, HighWaterFile), 4)
			flipBytes(t, filepath.Join(dir, HighWaterFile), hwSlotSize+4)
		}, "no valid high-water mark"},
		{"one high-water slot damaged", func(t *testing.T, dir string) {
			flipBytes(t, filepath.Join(dir, HighWaterFile), 12)
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeGroups(t, dir, 500)
			tc.damage(t, dir)
			l, err := OpenLog(dir, Options{ForceSync: true})
			if tc.reason == "" {
				if err != nil {
					t.Fatal(err)
				}
				checkSmall(t, l, 500)
				l.Close()
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("OpenLog = %v; want an error saying %q", err, tc.reason)
			}
			corruption(t, err)
			l = openTestLog(t, dir, Options{ForceSync: true, AcceptLoss: true})
			defer l.Close()
			if l.Lost() == nil {
				t.Fatal("AcceptLoss opened without reporting the loss")
			}
		})
	}
}

// TestHighWaterFollowsTruncateAndPurge: a truncation lowers the mark (a
// leader's TRUNC is no loss), and entries purged behind a snapshot count as
// held.
func TestHighWaterFollowsTruncateAndPurge(t *testing.T) {
	dir := t.TempDir()
	writeGroups(t, dir, 100)
	l := openTestLog(t, dir, Options{ForceSync: true})
	if err := l.TruncateAfter(55); err != nil {
		t.Fatal(err)
	}
	if l.HighWater() != 55 {
		t.Fatalf("HighWater = %d after TruncateAfter(55)", l.HighWater())
	}
	if err := l.PurgeBefore(56); err != nil { // everything, behind a snapshot at 55
		t.Fatal(err)
	}
	if l.FirstZxid() != 0 || l.LastZxid() != 0 {
		t.Fatalf("log holds %d..%d after purging everything", l.FirstZxid(), l.LastZxid())
	}
	l.Close()
	l = openTestLog(t, dir, Options{ForceSync: true})
	defer l.Close()
	if err := l.Append(smallEntries(56, 60)); err != nil {
		t.Fatal(err)
	}
	if l.HighWater() != 60 {
		t.Fatalf("HighWater = %d after appending up to 60", l.HighWater())
	}
}

// TestLogWithoutHighWater: a log written before high-water marks (no
// file, no meta key) opens and gets a mark at its end.
func TestLogWithoutHighWater(t *testing.T) {
	dir := t.TempDir()
	writeGroups(t, dir, 30)
	l := openTestLog(t, dir, Options{ForceSync: true})
	b := l.db.NewBatch()
	b.Delete(metaKey(metaHighWater), nil)
	if err := l.commit(b); err != nil {
		t.Fatal(err)
	}
	l.Close()
	os.Remove(filepath.Join(dir, HighWaterFile))
	l = openTestLog(t, dir, Options{ForceSync: true})
	defer l.Close()
	if l.Lost() != nil || l.HighWater() != 30 {
		t.Fatalf("Lost %v, HighWater %d; want none and 30", l.Lost(), l.HighWater())
	}
}

// TestCleanLogNotDamaged: a log closed cleanly, and one reopened and
// appended to, read to a clean end (no torn-tail warning, no read-only look).
func TestCleanLogNotDamaged(t *testing.T) {
	dir := t.TempDir()
	writeGroups(t, dir, 300)
	if f, off, bad := walDamage(dir); bad {
		t.Fatalf("a clean log reported damaged at %s:%d", f, off)
	}
	l := openTestLog(t, dir, Options{ForceSync: true})
	if err := l.Append(smallEntries(301, 310)); err != nil {
		t.Fatal(err)
	}
	l.Close()
	if f, off, bad := walDamage(dir); bad {
		t.Fatalf("a clean reopened log reported damaged at %s:%d", f, off)
	}
}

// TestCrashedLogNotDamaged: the files of a log that was never closed (as a
// crash leaves them, with no end-of-log record) read to a clean end too.
func TestCrashedLogNotDamaged(t *testing.T) {
	dir, crashed := t.TempDir(), t.TempDir()
	l := openTestLog(t, dir, Options{ForceSync: true})
	for z := int64(1); z <= 300; z += 10 {
		if err := l.Append(smallEntries(z, z+9)); err != nil {
			t.Fatal(err)
		}
	}
	copyDir(t, dir, crashed)
	l.Close()
	if f, off, bad := walDamage(crashed); bad {
		t.Fatalf("a log copied while open reported damaged at %s:%d", f, off)
	}
	l = openTestLog(t, crashed, Options{ForceSync: true})
	defer l.Close()
	checkSmall(t, l, 300)
}

// TestUnopenableLogMovedAside: a log pebble cannot open at all (here a
// table file deleted) is refused; with AcceptLoss it is moved aside and an
// empty log, reporting the loss, takes its place.
func TestUnopenableLogMovedAside(t *testing.T) {
	dir := t.TempDir()
	writeGroups(t, dir, 300)
	l := openTestLog(t, dir, Options{ForceSync: true})
	if err := l.db.Flush(); err != nil { // the entries go to a table file
		t.Fatal(err)
	}
	l.Close()
	tables, err := filepath.Glob(filepath.Join(dir, "*.sst"))
	if err != nil || len(tables) == 0 {
		t.Fatalf("no table file after a flush: %v", err)
	}
	os.Remove(tables[0])
	if _, err := OpenLog(dir, Options{ForceSync: true}); err == nil {
		t.Fatal("a log missing a table file opened")
	}
	l = openTestLog(t, dir, Options{ForceSync: true, AcceptLoss: true})
	defer l.Close()
	if l.Lost() == nil || l.LastZxid() != 0 {
		t.Fatalf("Lost %v, LastZxid %d; want a loss and an empty log", l.Lost(), l.LastZxid())
	}
	aside, _ := filepath.Glob(dir + ".damaged-*")
	if len(aside) != 1 {
		t.Fatalf("moved-aside directories: %v", aside)
	}
	if err := l.Append(smallEntries(1, 5)); err != nil {
		t.Fatal(err)
	}
}

// TestTruncateMakesPendingWaitsStale: an append's wait that finishes after
// a truncation dropped its entries must not raise the high-water mark over
// them (the log would then look short of its mark at the next open).
func TestTruncateMakesPendingWaitsStale(t *testing.T) {
	dir := t.TempDir()
	l := openTestLog(t, dir, Options{ForceSync: true})
	if err := l.Append(smallEntries(1, 5)); err != nil {
		t.Fatal(err)
	}
	p, err := l.AppendAsync(smallEntries(6, 10))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.TruncateAfter(7); err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(); err != nil {
		t.Fatal(err)
	}
	if got := l.HighWater(); got > 7 {
		t.Fatalf("HighWater = %d after truncating after 7", got)
	}
	l.Close()
	l = openTestLog(t, dir, Options{ForceSync: true})
	defer l.Close()
	checkSmall(t, l, 7)
}
