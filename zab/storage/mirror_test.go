package storage

import (
	"bytes"
	"encoding/binary"
	"os"
	"testing"

	"github.com/zkgo/zkgo/zab"
)

// TestDamagedMirrorRepaired: a mirror flipped or cut anywhere loses
// nothing (pebble's copy is whole), and the log goes on with a new one.
func TestDamagedMirrorRepaired(t *testing.T) {
	for _, damage := range []string{"flip", "cut"} {
		t.Run(damage, func(t *testing.T) {
			dir := t.TempDir()
			writeGroups(t, dir, 500)
			ms, err := listMirrors(dir)
			if err != nil || len(ms) != 1 {
				t.Fatalf("mirror segments %v (%v); want one", ms, err)
			}
			st := readMirror(t, dir)
			if len(st.entries) != 500 || st.acked != 490 {
				// acked: each record carries what was acknowledged
				// before it was written.
				t.Fatalf("mirror holds %d entries, acknowledged %d; want 500, 490", len(st.entries), st.acked)
			}
			if damage == "flip" {
				flipBytes(t, ms[0].path, st.endOff/2)
			} else if err := os.Truncate(ms[0].path, st.endOff/2); err != nil {
				t.Fatal(err)
			}
			l := openTestLog(t, dir, Options{ForceSync: true})
			checkSmall(t, l, 500)
			if err := l.Append(smallEntries(501, 510)); err != nil {
				t.Fatal(err)
			}
			l.Close()
			l = openTestLog(t, dir, Options{ForceSync: true})
			defer l.Close()
			checkSmall(t, l, 510)
		})
	}
}

// TestDamagedGroupRewrittenFromMirror: a group pebble holds damaged (its
// checksum fails) while the mirror still holds it is rewritten from the
// mirror at open.
func TestDamagedGroupRewrittenFromMirror(t *testing.T) {
	dir := t.TempDir()
	l := openTestLog(t, dir, Options{ForceSync: true})
	for z := int64(1); z <= 20; z++ {
		if err := l.Append(entries(z, z)); err != nil {
			t.Fatal(err)
		}
	}
	var key [groupKeyLen]byte
	putGroupKey(key[:], 12)
	v, closer, err := l.db.Get(key[:])
	if err != nil {
		t.Fatal(err)
	}
	v = bytes.Clone(v)
	closer.Close()
	l.Close()
	v[len(v)/2] ^= 0x10
	rawSet(t, dir, key[:], v)

	l = openTestLog(t, dir, Options{ForceSync: true})
	defer l.Close()
	if last := checkPrefix(t, l); last != 20 {
		t.Fatalf("log ends at %d; want 20", last)
	}
}

// TestTruncationCutShortByCrash: the mirror recorded a truncation that a
// crash kept pebble from making; opening makes it.
func TestTruncationCutShortByCrash(t *testing.T) {
	dir := t.TempDir()
	l := openTestLog(t, dir, Options{ForceSync: true})
	if err := l.Append(entries(1, 20)); err != nil {
		t.Fatal(err)
	}
	// TruncateAfter(10) up to its pebble part.
	l.mu.Lock()
	l.gen++
	l.acked.Store(10)
	if err := l.hw.set(10); err != nil {
		t.Fatal(err)
	}
	if err := l.mir.wait(l.mir.add(mirrorTrunc, 10, binary.BigEndian.AppendUint64(nil, 10))); err != nil {
		t.Fatal(err)
	}
	l.mu.Unlock()
	l.Close()

	l = openTestLog(t, dir, Options{ForceSync: true})
	if last := checkPrefix(t, l); last != 10 {
		t.Fatalf("log ends at %d after a truncation after 10", last)
	}
	if err := l.Append(entries(11, 12)); err != nil {
		t.Fatal(err)
	}
	l.Close()
	l = openTestLog(t, dir, Options{ForceSync: true})
	defer l.Close()
	if last := checkPrefix(t, l); last != 12 {
		t.Fatalf("log ends at %d; want 12", last)
	}
}

// TestMirrorRotates: segments follow one another as the log grows, old
// ones go once pebble has flushed what they hold, and a log reopened
// after many rotations (some segments not yet removed) is whole.
func TestMirrorRotates(t *testing.T) {
	dir := t.TempDir()
	l := openTestLog(t, dir, Options{ForceSync: true})
	big := make([]byte, 1<<20)
	var z int64
	for range 3 * mirrorSegmentSize / len(big) {
		z++
		binary.BigEndian.PutUint64(big, uint64(z))
		if err := l.Append([]zab.Entry{{Zxid: z, Data: big}}); err != nil {
			t.Fatal(err)
		}
	}
	ms, err := listMirrors(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) < 2 || len(ms) > 3 {
		t.Fatalf("%d segments after writing three segments' worth; want 2 or 3 (the older ones removed)", len(ms))
	}
	if err := l.TruncateAfter(z - 5); err != nil {
		t.Fatal(err)
	}
	l.Close()
	l = openTestLog(t, dir, Options{ForceSync: true})
	defer l.Close()
	want := int64(1)
	err = l.Iterate(0, func(zxid int64, data []byte) error {
		if zxid != want || int64(binary.BigEndian.Uint64(data)) != zxid || len(data) != len(big) {
			t.Fatalf("entry %d: got zxid %d, %d bytes", want, zxid, len(data))
		}
		want++
		return nil
	})
	if err != nil || want-1 != z-5 {
		t.Fatalf("iterated up to %d (%v); want %d", want-1, err, z-5)
	}
}

// readMirror reads the mirror of dir.
func readMirror(t *testing.T, dir string) *mirrorState {
	t.Helper()
	st, err := readMirrors(dir)
	if err != nil {
		t.Fatal(err)
	}
	return st
}
