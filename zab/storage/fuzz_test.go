package storage

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// FuzzLogDamage damages a stored log at random (flipped bytes, a cut, or a
// file emptied, in any of its files) and checks what opening it does: fail
// with a *CorruptionError, or give back every entry up to the high-water
// mark, each exactly as written. It never hides a lost entry or returns a
// wrong one.
func FuzzLogDamage(f *testing.F) {
	f.Add(uint8(0), uint32(1000), []byte{0xff})
	f.Add(uint8(1), uint32(5000), []byte{})
	f.Add(uint8(2), uint32(0), []byte{})
	f.Add(uint8(3), uint32(300), []byte{1, 2, 3, 4, 5, 6, 7, 8})
	f.Fuzz(func(t *testing.T, pick uint8, at uint32, flip []byte) {
		dir := t.TempDir()
		writeGroups(t, dir, 200)
		names, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var files []string
		for _, e := range names {
			if e.Type().IsRegular() && e.Name() != "LOCK" {
				files = append(files, e.Name())
			}
		}
		slices.Sort(files)
		path := filepath.Join(dir, files[int(pick)%len(files)])
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case len(data) == 0:
		case len(flip) == 0 && pick%2 == 0:
			data = data[:int(at)%(len(data)+1)] // a cut
		case len(flip) == 0:
			data = nil // emptied
		default:
			for i, b := range flip {
				data[(int(at)+i)%len(data)] ^= b
			}
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}

		l, err := OpenLog(dir, Options{ForceSync: true})
		if err != nil {
			var ce *CorruptionError
			if !errors.As(err, &ce) {
				t.Logf("damaging %s: %v", filepath.Base(path), err) // pebble's own refusal (its MANIFEST, OPTIONS)
			}
			return
		}
		defer l.Close()
		var got int64
		err = l.Iterate(0, func(z int64, d []byte) error {
			if z != got+1 || string(d) != string(smallEntries(z, z)[0].Data) {
				t.Fatalf("damaging %s: entry %d comes back as zxid %d %q", filepath.Base(path), got+1, z, d)
			}
			got = z
			return nil
		})
		var ce *CorruptionError
		if err != nil && !errors.As(err, &ce) {
			t.Fatal(err)
		}
		if err == nil && got < l.HighWater() {
			t.Fatalf("damaging %s: the log opened with entries up to %d of the %d it made durable", filepath.Base(path), got, l.HighWater())
		}
	})
}
