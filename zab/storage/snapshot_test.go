package storage

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func writeSnap(t *testing.T, dir string, zxid int64, data []byte) string {
	t.Helper()
	path, err := WriteSnapshot(dir, zxid, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func readSnap(t *testing.T, path string) ([]byte, error) {
	t.Helper()
	return ReadSnapshotFile(path)
}

// observedLog is a logger whose warnings the test can read.
func observedLog() (*zap.Logger, *observer.ObservedLogs) {
	core, logs := observer.New(zapcore.WarnLevel)
	return zap.New(core), logs
}

func TestSnapshotRoundTrip(t *testing.T) {
	dir := t.TempDir()
	if _, path, _, err := LatestSnapshot(dir, nil); path != "" || err != nil {
		t.Fatalf("LatestSnapshot of an empty dir = %q, %v", path, err)
	}
	if _, path, _, err := LatestSnapshot(filepath.Join(dir, "missing"), nil); path != "" || err != nil {
		t.Fatalf("LatestSnapshot of a missing dir = %q, %v", path, err)
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 200_000) // larger than the buffers
	for _, data := range [][]byte{nil, []byte("tree"), big} {
		path := writeSnap(t, dir, 0x1_0000_0002, data)
		if filepath.Base(path) != "snapshot.100000002" {
			t.Fatalf("path %s", path)
		}
		got, err := readSnap(t, path)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read back %d bytes, %v; want %d bytes", len(got), err, len(data))
		}
	}
	writeSnap(t, dir, 0x20, []byte("older"))
	z, path, payload, err := LatestSnapshot(dir, nil)
	if err != nil || z != 0x1_0000_0002 || filepath.Base(path) != "snapshot.100000002" || len(payload) == 0 {
		t.Fatalf("LatestSnapshot = %x, %s, %d bytes, %v", z, path, len(payload), err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		t.Fatalf("dir holds %d files; want the 2 snapshots only", len(ents))
	}
}

func TestWriteSnapshotError(t *testing.T) {
	dir := t.TempDir()
	boom := errors.New("boom")
	_, err := WriteSnapshot(dir, 5, func(w io.Writer) error {
		w.Write([]byte("partial"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("WriteSnapshot = %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("failed write left %v", ents)
	}
}

func TestSnapshotCorruptionDetected(t *testing.T) {
	data := bytes.Repeat([]byte("znode data "), 1000)
	for _, tc := range []struct {
		name   string
		damage func(path string) error
		reason string
	}{
		{"truncated", func(p string) error { return os.Truncate(p, 5000) }, "no trailer"},
		{"truncated to nothing", func(p string) error { return os.Truncate(p, 3) }, "too short"},
		{"bitflip", func(p string) error { return flipByte(p, 1234) }, "checksum mismatch"},
		{"length", func(p string) error { return flipByte(p, int64(len(data))+6) }, "payload bytes"},
		{"appended", func(p string) error {
			f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
			if err == nil {
				_, err = f.Write([]byte("junk"))
				f.Close()
			}
			return err
		}, "no trailer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log, logs := observedLog()
			dir := t.TempDir()
			writeSnap(t, dir, 0x100, []byte("old"))
			bad := writeSnap(t, dir, 0x2a0, data)
			if err := tc.damage(bad); err != nil {
				t.Fatal(err)
			}

			_, err := readSnap(t, bad)
			var ce *CorruptionError
			if !errors.As(err, &ce) || ce.Path != bad || ce.Zxid != 0x2a0 || !strings.Contains(ce.Reason, tc.reason) {
				t.Fatalf("ReadSnapshotFile = %v; want a CorruptionError for %s at 0x2a0 (%s)", err, bad, tc.reason)
			}
			if !strings.HasPrefix(err.Error(), "corrupt snapshot "+bad+" at zxid 0x2a0: ") {
				t.Fatalf("Error() = %q", err)
			}

			// LatestSnapshot falls back to the older valid one, with a warning.
			z, path, payload, err := LatestSnapshot(dir, log)
			if err != nil || z != 0x100 || filepath.Base(path) != "snapshot.100" || string(payload) != "old" {
				t.Fatalf("LatestSnapshot = %x, %s, %q, %v; want the fallback", z, path, payload, err)
			}
			if w := logs.FilterField(zap.String("file", bad)).Len(); w != 1 {
				t.Fatalf("%d warnings naming %s; want 1", w, bad)
			}

			// With no valid snapshot left it is an error naming the file.
			os.Remove(path)
			if _, _, _, err := LatestSnapshot(dir, nil); !errors.As(err, &ce) || ce.Path != bad {
				t.Fatalf("LatestSnapshot with only a bad snapshot = %v", err)
			}
		})
	}
}

func flipByte(path string, off int64) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		return err
	}
	b[0] ^= 0x04
	_, err = f.WriteAt(b, off)
	return err
}

func TestPurgeSnapshots(t *testing.T) {
	dir := t.TempDir()
	if oldest, err := PurgeSnapshots(dir, 3); oldest != 0 || err != nil {
		t.Fatalf("PurgeSnapshots of an empty dir = %x, %v", oldest, err)
	}
	for _, z := range []int64{0x10, 0x9, 0x300, 0x2ff, 0x1000, 0x20} {
		writeSnap(t, dir, z, []byte("x"))
	}
	os.WriteFile(filepath.Join(dir, "snapshot.zz"), nil, 0o644) // not a snapshot name
	os.WriteFile(filepath.Join(dir, "000001.log"), nil, 0o644)  // someone else's file

	oldest, err := PurgeSnapshots(dir, 1) // raised to 3
	if err != nil || oldest != 0x2ff {
		t.Fatalf("PurgeSnapshots = %x, %v; want 0x2ff", oldest, err)
	}
	var names []string
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		names = append(names, e.Name())
	}
	want := "000001.log snapshot.1000 snapshot.2ff snapshot.300 snapshot.zz"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("left %s; want %s", got, want)
	}
	if oldest, err := PurgeSnapshots(dir, 5); err != nil || oldest != 0x2ff {
		t.Fatalf("PurgeSnapshots(5) = %x, %v", oldest, err)
	}
}
