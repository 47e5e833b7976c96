package storage

import "os"

// directChunk is how much a directWriter buffers between writes.
const directChunk = 1 << 20

// directWriter writes a file sequentially in aligned chunks with O_DIRECT
// (see direct_linux.go), or, where the file system refuses O_DIRECT,
// through the page cache in the same chunks. Flush writes what is left,
// the unaligned tail without O_DIRECT.
type directWriter struct {
	f      *os.File
	buf    []byte
	n      int
	direct bool
	err    error
}

func newDirectWriter(f *os.File) *directWriter {
	w := &directWriter{f: f, direct: setDirect(f, true) == nil}
	if w.direct {
		w.buf = alignedBuffer(directChunk)
	} else {
		w.buf = make([]byte, directChunk)
	}
	return w
}

func (w *directWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 && w.err == nil {
		c := copy(w.buf[w.n:], p)
		w.n += c
		written += c
		p = p[c:]
		if w.n == len(w.buf) {
			w.write(w.buf)
			w.n = 0
		}
	}
	return written, w.err
}

func (w *directWriter) write(b []byte) {
	if w.err == nil {
		_, w.err = w.f.Write(b)
	}
}

// Flush writes the buffered bytes: the aligned part as it is, the rest
// after turning O_DIRECT off (a file's length need not be aligned).
func (w *directWriter) Flush() error {
	aligned := w.n
	if w.direct {
		aligned = w.n &^ (directAlign - 1)
	}
	w.write(w.buf[:aligned])
	if aligned < w.n {
		if w.err == nil {
			w.err = setDirect(w.f, false)
		}
		w.write(w.buf[aligned:w.n])
	}
	w.n = 0
	return w.err
}
