package znode

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/zkgo/zkgo/wire"
)

// FuzzReadSnapshot feeds arbitrary bytes to the snapshot decoder: it must
// return an error or a tree that writes the same bytes back, never panic.
func FuzzReadSnapshot(f *testing.F) {
	tree := NewTree(Options{ExtendedTypes: true})
	for _, txn := range setupTxns() {
		tree.Apply(txn)
	}
	var b bytes.Buffer
	if err := tree.WriteSnapshot(&b); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		back, err := DecodeSnapshot(data, Options{ExtendedTypes: true})
		if err != nil {
			return
		}
		var again bytes.Buffer
		if err := back.WriteSnapshot(&again); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again.Bytes(), data) {
			t.Fatal("a snapshot that decodes does not encode to the same bytes")
		}
	})
}

// FuzzTxn decodes arbitrary bytes as a logged txn and applies what decodes:
// neither may panic.
func FuzzTxn(f *testing.F) {
	for _, txn := range setupTxns() {
		f.Add(wire.Encode(txn))
		txn.Auth = []wire.Id{{Scheme: "ip", ID: "127.0.0.1"}, {Scheme: "digest", ID: "u:h"}}
		f.Add(wire.Encode(txn))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var txn Txn
		d := wire.NewDecoder(data)
		txn.Decode(d)
		// A TxnDecoder decodes the same, the first time and from its
		// cache.
		var x TxnDecoder
		for i := 0; i < 2; i++ {
			var got Txn
			err := x.Decode(data, &got)
			if (err == nil) != (d.Err() == nil) {
				t.Fatalf("TxnDecoder: error %v, Txn.Decode: %v", err, d.Err())
			}
			if err == nil && !reflect.DeepEqual(got, txn) {
				t.Fatalf("TxnDecoder decoded %+v, Txn.Decode %+v", got, txn)
			}
		}
		if d.Err() != nil || txn.Body == nil {
			return
		}
		tree := NewTree(Options{ExtendedTypes: true})
		txn.Zxid = 1
		tree.Apply(&txn)
	})
}

// FuzzApacheTxn decodes arbitrary bytes as an Apache ZooKeeper log record
// (the import path): errors are fine, panics are not.
func FuzzApacheTxn(f *testing.F) {
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		txn, err := DecodeApacheTxn(data)
		if err != nil {
			return
		}
		tree := NewTree(Options{ExtendedTypes: true})
		tree.ApplyApache(txn)
	})
}

// FuzzApacheSnapshot feeds arbitrary bytes to the Apache snapshot reader.
func FuzzApacheSnapshot(f *testing.F) {
	f.Add([]byte("ZKSN"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ReadApacheSnapshot(data, 0, Options{ExtendedTypes: true})
	})
}
