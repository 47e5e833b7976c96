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
func (t *Txn) Decode(d *wire.Decoder) {
	t.Zxid = d.Long()
	t.Time = d.Long()
	t.Session = d.Long()
	t.Cxid = d.Int()
	t.Type = wire.OpCode(d.Int())
	n := int(d.Int())
	switch {
	case d.Err() != nil:
		return
	case n == -1:
		t.Auth = nil
	case n < -1 || n > d.Remaining()/8: // an Id takes at least 8 bytes
		d.Fail(wire.ErrBadLength)
		return
	default:
		t.Auth = make([]wire.Id, n)
		for i := range t.Auth {
			t.Auth[i].Decode(d)
		}
	}
	t.Body = TxnBody(t.Type)
	if t.Body == nil {
		d.Fail(wire.ErrBadOp)
		return
	}
	t.Body.Decode(d)
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
