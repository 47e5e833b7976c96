// Package wire implements the ZooKeeper client wire protocol: jute binary
// primitives, every client record, opcodes, error codes and length-prefixed
// framing. The codec is hand-written: no reflection.
package wire

import (
	"encoding/binary"
	"errors"
	"math"
	"unsafe"
)

// ErrShortBuffer is returned when a record runs past the end of its packet.
var ErrShortBuffer = errors.New("wire: record truncated")

// ErrBadLength is returned when a string, buffer or vector length is
// negative (other than -1 for null) or larger than the remaining packet.
var ErrBadLength = errors.New("wire: bad length")

// Record is a jute record that can encode and decode itself.
type Record interface {
	Encode(e *Encoder)
	Decode(d *Decoder)
}

// Encoder appends jute-encoded values to a byte slice.
type Encoder struct {
	buf []byte
}

// NewEncoder returns an encoder that appends to buf (which may be nil).
func NewEncoder(buf []byte) *Encoder { return &Encoder{buf: buf} }

// Bytes returns the encoded bytes.
func (e *Encoder) Bytes() []byte { return e.buf }

// Len returns the number of bytes encoded so far.
func (e *Encoder) Len() int { return len(e.buf) }

// Reset empties the encoder, keeping its buffer for reuse.
func (e *Encoder) Reset() { e.buf = e.buf[:0] }

// Int appends a 32-bit big-endian integer.
func (e *Encoder) Int(v int32) { e.buf = binary.BigEndian.AppendUint32(e.buf, uint32(v)) }

// Long appends a 64-bit big-endian integer.
func (e *Encoder) Long(v int64) { e.buf = binary.BigEndian.AppendUint64(e.buf, uint64(v)) }

// Bool appends a one-byte boolean.
func (e *Encoder) Bool(v bool) {
	if v {
		e.buf = append(e.buf, 1)
	} else {
		e.buf = append(e.buf, 0)
	}
}

// String appends a length-prefixed UTF-8 string.
func (e *Encoder) String(s string) {
	e.Int(int32(len(s)))
	e.buf = append(e.buf, s...)
}

// Buffer appends a length-prefixed byte buffer; nil encodes as length -1.
func (e *Encoder) Buffer(b []byte) {
	if b == nil {
		e.Int(-1)
		return
	}
	e.Int(int32(len(b)))
	e.buf = append(e.buf, b...)
}

// Strings appends a vector of strings; nil encodes as length -1.
func (e *Encoder) Strings(v []string) {
	if v == nil {
		e.Int(-1)
		return
	}
	e.Int(int32(len(v)))
	for _, s := range v {
		e.String(s)
	}
}

// Record appends a nested record.
func (e *Encoder) Record(r Record) { r.Encode(e) }

// Decoder reads jute-encoded values from a byte slice. The first error
// sticks: later reads return zero values, and Err reports it.
type Decoder struct {
	buf []byte
	off int
	err error
}

// NewDecoder returns a decoder over buf.
func NewDecoder(buf []byte) *Decoder { return &Decoder{buf: buf} }

// Reset makes d decode buf from its start, with no error: a decoder kept
// for many packets is not allocated for each.
func (d *Decoder) Reset(buf []byte) { *d = Decoder{buf: buf} }

// Err returns the first decoding error, if any.
func (d *Decoder) Err() error { return d.err }

// Remaining returns the number of undecoded bytes.
func (d *Decoder) Remaining() int { return len(d.buf) - d.off }

// Fail records err unless an earlier error is already recorded.
func (d *Decoder) Fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

func (d *Decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n > len(d.buf)-d.off {
		d.Fail(ErrShortBuffer)
		return nil
	}
	b := d.buf[d.off : d.off+n]
	d.off += n
	return b
}

// Int reads a 32-bit big-endian integer.
func (d *Decoder) Int() int32 {
	b := d.take(4)
	if b == nil {
		return 0
	}
	return int32(binary.BigEndian.Uint32(b))
}

// Long reads a 64-bit big-endian integer.
func (d *Decoder) Long() int64 {
	b := d.take(8)
	if b == nil {
		return 0
	}
	return int64(binary.BigEndian.Uint64(b))
}

// Bool reads a one-byte boolean.
func (d *Decoder) Bool() bool {
	b := d.take(1)
	return b != nil && b[0] != 0
}

// length reads a length prefix; -1 means null. Each element takes at least
// minSize bytes, which bounds the allocation a hostile length can cause.
func (d *Decoder) length(minSize int) int {
	n := int(d.Int())
	if d.err != nil {
		return -1
	}
	if n < -1 || (n > 0 && n > d.Remaining()/minSize) || n > math.MaxInt32 {
		d.Fail(ErrBadLength)
		return -1
	}
	return n
}

// String reads a length-prefixed string; null decodes as "".
func (d *Decoder) String() string {
	n := d.length(1)
	if n <= 0 {
		return ""
	}
	return string(d.take(n))
}

// StringView reads a length-prefixed string as String does, without
// copying it: the result shares the decoder's input and is valid only
// while that input is. Null decodes as "".
func (d *Decoder) StringView() string {
	n := d.length(1)
	if n <= 0 {
		return ""
	}
	b := d.take(n)
	if b == nil {
		return ""
	}
	return unsafe.String(&b[0], n)
}

// Buffer reads a length-prefixed buffer; null decodes as nil. The result is
// a copy, safe to keep after the packet buffer is reused.
func (d *Decoder) Buffer() []byte {
	n := d.length(1)
	if n < 0 {
		return nil
	}
	b := d.take(n)
	if b == nil {
		return nil
	}
	return append(make([]byte, 0, n), b...)
}

// View reads a length-prefixed buffer as Buffer does, without copying it:
// the result is part of the decoder's input. Null decodes as nil.
func (d *Decoder) View() []byte {
	n := d.length(1)
	if n < 0 {
		return nil
	}
	return d.take(n)
}

// Strings reads a vector of strings; null decodes as nil.
func (d *Decoder) Strings() []string {
	n := d.length(4)
	if n < 0 {
		return nil
	}
	v := make([]string, n)
	for i := range v {
		v[i] = d.String()
	}
	return v
}

// Record decodes a nested record.
func (d *Decoder) Record(r Record) { r.Decode(d) }

// Encode encodes r into a new byte slice.
func Encode(r Record) []byte {
	// Most records fit: growing from nothing took five copies for a txn.
	e := NewEncoder(make([]byte, 0, 256))
	r.Encode(e)
	return e.Bytes()
}

// Decode decodes r from b and reports a decoding error.
func Decode(b []byte, r Record) error {
	d := NewDecoder(b)
	r.Decode(d)
	return d.Err()
}
