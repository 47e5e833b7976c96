package server

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"

	"github.com/zkgo/zkgo/wire"
)

// chunkReader hands out its data in the chunk sizes given, one per Read
// (what the caller's buffer cannot take of a chunk comes with the next
// Read), then whatever the caller takes.
type chunkReader struct {
	data   []byte
	chunks []int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := len(r.data)
	if len(r.chunks) > 0 {
		n = min(n, r.chunks[0])
	}
	n = copy(p, r.data[:n])
	r.data = r.data[n:]
	if len(r.chunks) > 0 {
		if r.chunks[0] -= n; r.chunks[0] == 0 {
			r.chunks = r.chunks[1:]
		}
	}
	return n, nil
}

// frames returns a stream of frames with bodies of the given sizes, and
// the bodies.
func frames(sizes ...int) (stream []byte, bodies [][]byte) {
	for i, n := range sizes {
		body := bytes.Repeat([]byte{byte(i + 1)}, n)
		stream = binary.BigEndian.AppendUint32(stream, uint32(n))
		stream = append(stream, body...)
		bodies = append(bodies, body)
	}
	return stream, bodies
}

// TestFrameReaderFrames: frames of every size, delivered in pieces of every
// size, come out whole and in order.
func TestFrameReaderFrames(t *testing.T) {
	stream, want := frames(0, 1, 8, 300, 508, 509, 510, 2000, 70_000, 12, 4)
	for _, chunk := range []int{1, 3, 4, 100, 511, 512, 513, 4096, 1 << 20} {
		chunks := make([]int, len(stream))
		for i := range chunks {
			chunks[i] = chunk
		}
		var pool readBuffers
		f := newFrameReader(&chunkReader{data: stream, chunks: chunks}, &pool)
		var buf []byte
		for i, w := range want {
			got, err := wire.ReadFrame(f, buf, 1<<20)
			if err != nil || !bytes.Equal(got, w) {
				t.Fatalf("chunks of %d, frame %d: %d bytes, %v; want %d bytes", chunk, i, len(got), err, len(w))
			}
			buf = got
		}
		if _, err := wire.ReadFrame(f, buf, 1<<20); err != io.EOF {
			t.Fatalf("chunks of %d: after the last frame: %v, want EOF", chunk, err)
		}
	}
}

// TestFrameReaderReleasesLargeBuffer: a connection takes a large buffer
// while its client sends more than the small one holds, and gives it back
// once the client sends no more than the small one holds at a time.
func TestFrameReaderReleasesLargeBuffer(t *testing.T) {
	// 40 frames of 100 bytes arrive at once, then 5 one at a time.
	sizes := make([]int, 45)
	for i := range sizes {
		sizes[i] = 100
	}
	stream, _ := frames(sizes...)
	chunks := []int{40 * 104}
	for range 5 {
		chunks = append(chunks, 104)
	}
	var pool readBuffers
	f := newFrameReader(&chunkReader{data: stream, chunks: chunks}, &pool)
	sawLarge := false
	for i := range sizes {
		if _, err := wire.ReadFrame(f, nil, 1<<20); err != nil {
			t.Fatal(err)
		}
		sawLarge = sawLarge || f.large != nil
		if i >= 42 && f.large != nil {
			t.Fatalf("frame %d: the reader holds a large buffer while its client sends one frame at a time", i)
		}
	}
	if !sawLarge {
		t.Fatal("a burst of 4 KB never made the reader take a large buffer")
	}
}
