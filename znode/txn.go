package znode

import (
	"github.com/zkgo/zkgo/wire"
)

// Encode implements wire.Record: the txn header fields, the identities and
// the body, in jute encoding. A nil Body encodes as the empty body of its
// type.
func (t *Txn) Encode(e *wire.Encoder) {
	e.Long(t.Zxid)
	e.Long(t.Time)
	e.Long(t.Session)
	e.Int(t.Cxid)
	e.Int(int32(t.Type))
	if t.Auth == nil {
		e.Int(-1)
	} else {
		e.Int(int32(len(t.Auth)))
		for i := range t.Auth {
			t.Auth[i].Encode(e)
		}
	}
	body := t.Body
	if body == nil {
		body = TxnBody(t.Type)
	}
	if body != nil {
		body.Encode(e)
	}
}

// Decode implements wire.Record. The body record is chosen by the type
// (TxnBody); an unknown type fails with wire.ErrBadOp.
func (t *Txn) Decode(d *wire.Decoder) { t.decode(d, nil) }

// decode is Decode; with x, the identities come from x's cache of them.
func (t *Txn) decode(d *wire.Decoder, x *TxnDecoder) {
	t.Zxid = d.Long()
	t.Time = d.Long()
	t.Session = d.Long()
	t.Cxid = d.Int()
	t.Type = wire.OpCode(d.Int())
	if x != nil {
		t.Auth = x.auth(d)
	} else {
		t.Auth = decodeAuth(d)
	}
	if d.Err() != nil {
		return
	}
	t.Body = TxnBody(t.Type)
	if t.Body == nil {
		d.Fail(wire.ErrBadOp)
		return
	}
	t.Body.Decode(d)
}

// decodeAuth decodes a txn's identities.
func decodeAuth(d *wire.Decoder) []wire.Id {
	n := int(d.Int())
	switch {
	case d.Err() != nil, n == -1:
		return nil
	case n < -1 || n > d.Remaining()/8: // an Id takes at least 8 bytes
		d.Fail(wire.ErrBadLength)
		return nil
	}
	ids := make([]wire.Id, n)
	for i := range ids {
		ids[i].Decode(d)
	}
	return ids
}

// TxnDecoder decodes txns as Txn.Decode does, for one goroutine that
// decodes many: it reuses its wire decoder, and the identity lists of the
// txns it decoded before. Every txn of a session carries the session's
// identities, and a txn's list is never modified, so txns with equal
// lists share one.
type TxnDecoder struct {
	d     wire.Decoder
	in    []byte
	auths map[string][]wire.Id // by their encoding
}

// maxAuthLists bounds a TxnDecoder's cache of identity lists; it starts
// over when full.
const maxAuthLists = 1024

// Decode decodes the txn encoded in b into t.
func (x *TxnDecoder) Decode(b []byte, t *Txn) error {
	x.d.Reset(b)
	x.in = b
	t.decode(&x.d, x)
	x.in = nil
	return x.d.Err()
}

// auth decodes a txn's identities, from the cache if the same encoding
// was decoded before.
func (x *TxnDecoder) auth(d *wire.Decoder) []wire.Id {
	start := len(x.in) - d.Remaining()
	n := int(d.Int())
	if d.Err() != nil || n <= 0 {
		// Null, empty or a bad length: read again as decodeAuth has it
		// (the decoder goes on in the rest of the input).
		d.Reset(x.in[start:])
		return decodeAuth(d)
	}
	for i := 0; i < 2*n && d.Err() == nil; i++ {
		d.View() // an Id's scheme, then its id
	}
	if d.Err() != nil {
		return nil
	}
	raw := x.in[start : len(x.in)-d.Remaining()]
	if ids, ok := x.auths[string(raw)]; ok {
		return ids
	}
	sub := wire.NewDecoder(raw)
	ids := decodeAuth(sub)
	if len(x.auths) >= maxAuthLists {
		clear(x.auths)
	}
	if x.auths == nil {
		x.auths = map[string][]wire.Id{}
	}
	x.auths[string(raw)] = ids
	return ids
}

// TxnBody returns an empty body record for a txn of type op (the record
// Apply expects), or nil if op is not a write.
func TxnBody(op wire.OpCode) wire.Record {
	switch op {
	case wire.OpCreateSession:
		return &CreateSession{}
	case wire.OpDeleteContainer, wire.OpSync:
		return &wire.PathRequest{}
	case OpApacheTxn:
		return &ApacheTxnBody{}
	}
	if op.IsWrite() {
		return wire.RequestBody(op)
	}
	return nil
}

// Encode implements wire.Record.
func (c *CreateSession) Encode(e *wire.Encoder) {
	e.Int(c.Timeout)
	e.Buffer(c.Passwd)
}

// Decode implements wire.Record.
func (c *CreateSession) Decode(d *wire.Decoder) {
	c.Timeout = d.Int()
	c.Passwd = d.Buffer()
}
