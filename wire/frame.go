package wire

import (
	"encoding/binary"
	"fmt"
	"io"
)

// DefaultMaxBuffer is jute.maxbuffer's default: the largest packet accepted.
const DefaultMaxBuffer = 0xfffff

// FrameTooLargeError reports a length prefix over the limit (or negative).
type FrameTooLargeError struct {
	Length, Max int
}

func (e *FrameTooLargeError) Error() string {
	return fmt.Sprintf("wire: packet length %d is out of the range 0..%d (jute.maxbuffer)", e.Length, e.Max)
}

// ReadFrame reads one 4-byte big-endian length-prefixed packet from r into
// buf (grown as needed) and returns the packet. A length over max is refused
// without reading the body.
func ReadFrame(r io.Reader, buf []byte, max int) ([]byte, error) {
	// The length is read into buf (a local array would escape to the
	// heap through r, an allocation per frame).
	if cap(buf) < 4 {
		buf = make([]byte, 4, 64)
	}
	hdr := buf[:4]
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, err
	}
	n := int(int32(binary.BigEndian.Uint32(hdr)))
	if n < 0 || n > max {
		return nil, &FrameTooLargeError{Length: n, Max: max}
	}
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf, nil
}

// AppendFrame appends one packet to dst: a length prefix followed by the
// encoding of each record in turn.
func AppendFrame(dst []byte, records ...Record) []byte {
	var e Encoder
	return e.AppendFrame(dst, records...)
}

// AppendFrame is the function AppendFrame encoding with e, which it leaves
// empty. The function allocates an Encoder per packet (the records'
// Encode methods take its address); a caller that keeps one does not.
func (e *Encoder) AppendFrame(dst []byte, records ...Record) []byte {
	start := len(dst)
	e.buf = append(dst, 0, 0, 0, 0)
	for _, r := range records {
		r.Encode(e)
	}
	binary.BigEndian.PutUint32(e.buf[start:], uint32(len(e.buf)-start-4))
	b := e.buf
	e.buf = nil
	return b
}
