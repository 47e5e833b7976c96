package znode

import (
	"bytes"
	"testing"

	"github.com/zkgo/zkgo/wire"
)

// An Apache txn logged as an OpApacheTxn txn, encoded and decoded as our
// log does, applies as ApplyApache applies it.
func TestApplyApacheTxnAsOurs(t *testing.T) {
	txns := []*ApacheTxn{
		{Session: 0x400, Zxid: 0x100000001, Time: 1000, ApacheOp: ApacheOp{Type: wire.OpCreateSession, Timeout: 30000}},
		{Session: 0x400, Cxid: 1, Zxid: 0x100000002, Time: 1001, ApacheOp: ApacheOp{Type: wire.OpCreate, Path: "/a", Data: []byte("x"), ACL: OpenACL, ParentCVersion: 1}},
		{Session: 0x400, Cxid: 2, Zxid: 0x100000003, Time: 1002, ApacheOp: ApacheOp{Type: wire.OpCreate, Path: "/a/e", ACL: OpenACL, Ephemeral: true, ParentCVersion: 1}},
		{Session: 0x400, Cxid: 3, Zxid: 0x200000001, Time: 1003, ApacheOp: ApacheOp{Type: wire.OpError, Err: wire.ErrNodeExists}},
		{Session: 0x400, Cxid: 4, Zxid: 0x200000002, Time: 1004, ApacheOp: ApacheOp{Type: wire.OpSetData, Path: "/a", Data: []byte("y"), Version: 1}},
	}
	want, got := NewTree(Options{}), NewTree(Options{})
	for _, at := range txns {
		if _, err := want.ApplyApache(at); err != nil {
			t.Fatal(err)
		}
		txn := Txn{Zxid: at.Zxid, Time: at.Time, Session: at.Session, Cxid: at.Cxid, Type: OpApacheTxn, Body: &ApacheTxnBody{Raw: at.Marshal()}}
		var back Txn
		if err := wire.Decode(wire.Encode(&txn), &back); err != nil {
			t.Fatal(err)
		}
		wantErr := wire.ErrOK
		if at.Type == wire.OpError {
			wantErr = at.Err // an error txn reports its error, as ApplyApache
		}
		if res := got.Apply(&back); res.Err != wantErr {
			t.Errorf("zxid 0x%x: %v, want %v", at.Zxid, res.Err, wantErr)
		}
	}
	if got.LastZxid() != 0x200000002 {
		t.Errorf("last zxid 0x%x", got.LastZxid())
	}
	if !bytes.Equal(snap(t, want), snap(t, got)) {
		t.Error("the trees of ApplyApache and of Apply differ")
	}
	// An Apache txn that does not decode changes nothing.
	bad := Txn{Zxid: 0x200000003, Type: OpApacheTxn, Body: &ApacheTxnBody{Raw: []byte{1, 2}}}
	if res := got.Apply(&bad); res.Err != wire.ErrMarshallingError {
		t.Errorf("undecodable Apache txn: %v", res.Err)
	}
}
