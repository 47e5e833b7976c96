package znode

import (
	"testing"

	"github.com/zkgo/zkgo/wire"
)

// Txns of one session carry the same identities: a TxnDecoder gives them
// one list, and a txn with other identities a list of its own.
func TestTxnDecoderSharesIdentities(t *testing.T) {
	alice := []wire.Id{{Scheme: "ip", ID: "127.0.0.1"}, {Scheme: "digest", ID: "alice:x"}}
	bob := []wire.Id{{Scheme: "ip", ID: "127.0.0.1"}, {Scheme: "digest", ID: "bob:y"}}
	var x TxnDecoder
	decode := func(auth []wire.Id, path string) *Txn {
		t.Helper()
		in := &Txn{Zxid: 7, Time: 1, Session: 3, Cxid: 4, Type: wire.OpSetData, Auth: auth,
			Body: &wire.SetDataRequest{Path: path, Data: []byte("v"), Version: -1}}
		var got Txn
		if err := x.Decode(wire.Encode(in), &got); err != nil {
			t.Fatal(err)
		}
		if got.Body.(*wire.SetDataRequest).Path != path || len(got.Auth) != len(auth) {
			t.Fatalf("decoded %+v, want %+v", got, in)
		}
		for i := range auth {
			if got.Auth[i] != auth[i] {
				t.Fatalf("identity %d: %v, want %v", i, got.Auth[i], auth[i])
			}
		}
		return &got
	}
	a1, a2, b := decode(alice, "/a"), decode(alice, "/b"), decode(bob, "/c")
	if &a1.Auth[0] != &a2.Auth[0] {
		t.Error("two txns with the same identities got a list each")
	}
	if &a1.Auth[0] == &b.Auth[0] {
		t.Error("txns with different identities share a list")
	}
	if n := decode(nil, "/d"); n.Auth != nil {
		t.Errorf("null identities decoded as %v", n.Auth)
	}
}
