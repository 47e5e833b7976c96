package znode

import "github.com/zkgo/zkgo/wire"

// OpApacheTxn is the type of a txn that carries a txn of Apache ZooKeeper
// verbatim (body *ApacheTxnBody): what an observer of an Apache ensemble
// (quorumProtocol=apache) logs for each txn the Apache leader commits.
// Apply applies it as ApplyApache does, so that our log replays exactly
// what Apache decided: Apache's txns are resolved (sequence suffixes,
// expanded ACLs, new versions) and need no validation of ours. It is no
// opcode of ZooKeeper's (theirs are below 200).
const OpApacheTxn wire.OpCode = 0x41504348 // "APCH"

// ApacheTxnBody is the body of an OpApacheTxn txn: the bytes of the Apache
// txn (TxnHeader, record, optional TxnDigest), as DecodeApacheTxn reads
// them.
type ApacheTxnBody struct {
	Raw []byte
}

// Encode implements wire.Record.
func (b *ApacheTxnBody) Encode(e *wire.Encoder) { e.Buffer(b.Raw) }

// Decode implements wire.Record.
func (b *ApacheTxnBody) Decode(d *wire.Decoder) { b.Raw = d.Buffer() }

// applyApacheTxn applies an OpApacheTxn txn; the tree is locked. The
// result's error is the one Apache's replay ignores (see ApplyApache); an
// Apache txn that does not decode, or that Apache cannot have written,
// changes nothing and gives ErrMarshallingError.
func (t *Tree) applyApacheTxn(txn *Txn) Result {
	body, ok := txn.Body.(*ApacheTxnBody)
	if !ok {
		return Result{Err: wire.ErrMarshallingError}
	}
	at, err := DecodeApacheTxn(body.Raw)
	if err != nil || at.Zxid != txn.Zxid || checkApacheOp(&at.ApacheOp) != nil {
		return Result{Err: wire.ErrMarshallingError}
	}
	return Result{Err: t.applyApache(at, &at.ApacheOp)}
}
