package znode

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestSnapshotWhileApplying freezes a snapshot, keeps applying random txns
// (concurrently with the writing, under -race too), and checks the
// snapshot is exactly the state at its zxid: read back, byte-identical to
// the snapshot of a replica that stopped there.
func TestSnapshotWhileApplying(t *testing.T) {
	for seed := uint64(1); seed <= 10; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			opts := Options{ExtendedTypes: true, EnforceQuota: seed%2 == 0}
			live, ref := NewTree(opts), NewTree(opts)
			txns := setupTxns()
			for _, txn := range txns {
				ref.Apply(txn)
			}
			g := &txnGen{r: rand.New(rand.NewPCG(seed, 11)), zxid: int64(len(txns)), time: 2000}
			for i := 0; i < 300; i++ {
				txns = append(txns, g.next(ref))
				ref.Apply(txns[len(txns)-1])
			}
			for _, txn := range txns {
				live.Apply(txn)
			}
			want := snap(t, ref)

			zxid, write := live.Snapshot()
			if zxid != ref.LastZxid() {
				t.Fatalf("snapshot zxid %d, want %d", zxid, ref.LastZxid())
			}
			// Change the live tree before and during the write.
			for i := 0; i < 200; i++ {
				live.Apply(g.next(live))
			}
			var got bytes.Buffer
			done := make(chan error, 1)
			go func() { done <- write(&got) }()
			for i := 0; i < 300; i++ {
				live.Apply(g.next(live))
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			// Snapshot writes children in memory order: compare what it
			// wrote in WriteSnapshot's sorted order.
			frozen, err := DecodeSnapshot(got.Bytes(), opts)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(snap(t, frozen), want) {
				t.Fatal("snapshot taken while applying differs from the state at its zxid")
			}
			// After the snapshot the live tree is still consistent: its own
			// snapshot round-trips.
			after := snap(t, live)
			back, err := DecodeSnapshot(after, opts)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(snap(t, back), after) {
				t.Fatal("tree after a concurrent snapshot does not round-trip")
			}
			checkInvariants(t, live)
		})
	}
}
