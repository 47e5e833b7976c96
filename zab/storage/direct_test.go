package storage

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// A directWriter writes exactly the bytes given, whatever their sizes and
// however they are split, with or without O_DIRECT.
func TestDirectWriterWritesEverything(t *testing.T) {
	for _, size := range []int{0, 1, directAlign - 1, directAlign, directAlign + 1,
		directChunk - 1, directChunk, 3*directChunk + 5} {
		want := make([]byte, size)
		for i := range want {
			want[i] = byte(i*31 + i>>8)
		}
		path := filepath.Join(t.TempDir(), "f")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		w := newDirectWriter(f)
		for rest, step := want, 1; len(rest) > 0; step = step*3 + 7 {
			n := min(step, len(rest))
			if m, err := w.Write(rest[:n]); err != nil || m != n {
				t.Fatalf("size %d: Write = %d, %v", size, m, err)
			}
			rest = rest[n:]
		}
		if err := w.Flush(); err != nil {
			t.Fatalf("size %d (direct %v): Flush: %v", size, w.direct, err)
		}
		f.Close()
		if size == 0 {
			t.Logf("O_DIRECT in %s: %v", filepath.Dir(path), w.direct)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("size %d (direct %v): read back %d bytes, not what was written", size, w.direct, len(got))
		}
	}
}
