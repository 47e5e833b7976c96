package znode

import (
	"bytes"
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
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var txn Txn
		d := wire.NewDecoder(data)
		txn.Decode(d)
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
