package server

import (
	"io"
	"sync"
)

// Buffer sizes of a connection's reader (frameReader). Idle connections
// hold only their small buffer: with a 64 KiB buffer each, 10,000 idle
// sessions cost 18-19 KB of resident memory apiece. A busy connection reads
// into a large buffer taken from the server's pool, so that a pipelining
// client's requests come in with few system calls.
const (
	smallReadBuffer = 512
	largeReadBuffer = 64 << 10
)

// readBuffers is the server's pool of large read buffers.
type readBuffers struct{ pool sync.Pool }

func (p *readBuffers) get() *[largeReadBuffer]byte {
	if b, ok := p.pool.Get().(*[largeReadBuffer]byte); ok {
		return b
	}
	return new([largeReadBuffer]byte)
}

func (p *readBuffers) put(b *[largeReadBuffer]byte) { p.pool.Put(b) }

// frameReader buffers what a connection's reader goroutine reads, as a
// bufio.Reader would, in its small buffer or in a large one from the pool.
// A read uses the large one once a read filled the small one (the client
// sends more than the small buffer holds); the large buffer goes back to
// the pool once it is empty and its last read brought less than the small
// buffer holds. So a connection blocked in a read waiting for its client
// holds a large buffer only while its client is sending in bulk.
type frameReader struct {
	src   io.Reader
	pool  *readBuffers
	small [smallReadBuffer]byte
	large *[largeReadBuffer]byte // nil unless buf is it
	buf   []byte                 // small[:] or large[:]
	r, w  int                    // buf[r:w] is buffered
	bulk  bool                   // the last read brought at least smallReadBuffer bytes
}

func newFrameReader(src io.Reader, pool *readBuffers) *frameReader {
	f := &frameReader{src: src, pool: pool}
	f.buf = f.small[:]
	return f
}

// Buffered returns the number of bytes buffered.
func (f *frameReader) Buffered() int { return f.w - f.r }

// fill reads once more from src, after what is buffered.
func (f *frameReader) fill() error {
	switch {
	case f.bulk && f.large == nil:
		f.large = f.pool.get()
		f.w = copy(f.large[:], f.buf[f.r:f.w])
		f.buf, f.r = f.large[:], 0
	case f.r == f.w:
		f.r, f.w = 0, 0
	case f.r > 0:
		f.w = copy(f.buf, f.buf[f.r:f.w])
		f.r = 0
	}
	n, err := f.src.Read(f.buf[f.w:])
	f.w += n
	f.bulk = n >= smallReadBuffer || f.w == len(f.buf)
	return err
}

// release returns an empty large buffer to the pool unless the client
// still sends in bulk.
func (f *frameReader) release() {
	if f.r == f.w && f.large != nil && !f.bulk {
		f.pool.put(f.large)
		f.large, f.buf = nil, f.small[:]
		f.r, f.w = 0, 0
	}
}

// Peek returns the next n bytes (n at most the small buffer's size)
// without consuming them; it reads until they are there.
func (f *frameReader) Peek(n int) ([]byte, error) {
	for f.w-f.r < n {
		if err := f.fill(); err != nil {
			if f.w-f.r >= n {
				break
			}
			return f.buf[f.r:f.w], err
		}
	}
	return f.buf[f.r : f.r+n], nil
}

// Discard skips the next n buffered bytes.
func (f *frameReader) Discard(n int) {
	f.r += min(n, f.w-f.r)
	f.release()
}

// Read reads into p what is buffered, or else reads once from src: into p
// directly when p is at least as large as the buffer (the body of a large
// frame), else into the buffer.
func (f *frameReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if f.r == f.w {
		if len(p) >= len(f.buf) {
			n, err := f.src.Read(p)
			f.bulk = n >= smallReadBuffer
			return n, err
		}
		if err := f.fill(); f.r == f.w {
			return 0, err
		}
	}
	n := copy(p, f.buf[f.r:f.w])
	f.r += n
	f.release()
	return n, nil
}
