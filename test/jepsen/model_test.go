package jepsen

import (
	"path/filepath"
	"testing"

	"github.com/anishathalye/porcupine"
)

// TestModelsCatchAnomalies checks the checker itself on small hand-made
// histories, without servers: it must accept what a linearizable ZooKeeper
// may do (including unknown outcomes taking effect or not) and reject lost
// writes, stale linearizable reads and duplicate or reordered sequence
// numbers.
func TestModelsCatchAnomalies(t *testing.T) {
	op := func(c int, in regInput, call int64, out regOutput, ret int64) porcupine.Operation {
		return porcupine.Operation{ClientId: c, Input: in, Call: call, Output: out, Return: ret}
	}
	w := func(v int) regInput { return regInput{Key: "k", Kind: opWrite, Value: v, Version: -1} }
	cas := func(ver int32, v int) regInput { return regInput{Key: "k", Kind: opCAS, Value: v, Version: ver} }
	rd := regInput{Key: "k", Kind: opRead}
	seen := func(v int, ver int32) regOutput { return regOutput{Value: v, Version: ver} }
	cases := []struct {
		name string
		ops  []porcupine.Operation
		want porcupine.CheckResult
	}{
		{"write then read", []porcupine.Operation{
			op(0, w(1), 0, regOutput{Version: 1}, 10), op(1, rd, 20, seen(1, 1), 30)}, porcupine.Ok},
		{"stale read after acked write", []porcupine.Operation{
			op(0, w(1), 0, regOutput{Version: 1}, 10), op(1, rd, 20, seen(0, 0), 30)}, porcupine.Illegal},
		{"unknown write taken", []porcupine.Operation{
			op(0, w(1), 0, regOutput{Unknown: true}, infinity), op(1, rd, 20, seen(1, 1), 30)}, porcupine.Ok},
		{"unknown write not taken", []porcupine.Operation{
			op(0, w(1), 0, regOutput{Unknown: true}, infinity), op(1, rd, 20, seen(0, 0), 30)}, porcupine.Ok},
		{"unknown write taken then undone", []porcupine.Operation{
			op(0, w(1), 0, regOutput{Unknown: true}, infinity), op(1, rd, 20, seen(1, 1), 30), op(1, rd, 40, seen(0, 0), 50)}, porcupine.Illegal},
		{"cas ok and failed", []porcupine.Operation{
			op(0, cas(0, 1), 0, regOutput{Version: 1}, 10), op(1, cas(0, 2), 20, regOutput{Failed: true}, 30), op(1, rd, 40, seen(1, 1), 50)}, porcupine.Ok},
		{"two cas on one version both succeed", []porcupine.Operation{
			op(0, cas(0, 1), 0, regOutput{Version: 1}, 10), op(1, cas(0, 2), 0, regOutput{Version: 1}, 10)}, porcupine.Illegal},
		{"cas failed although version matched", []porcupine.Operation{
			op(0, cas(0, 1), 0, regOutput{Failed: true}, 10)}, porcupine.Illegal},
	}
	ghosted := func(in regInput, n int) regInput { in.MaxGhosts = n; return in }
	cases = append(cases,
		struct {
			name string
			ops  []porcupine.Operation
			want porcupine.CheckResult
		}{"version skipped by a ghost", []porcupine.Operation{
			op(0, w(1), 0, regOutput{Version: 1}, 10), op(1, ghosted(w(3), 1), 20, regOutput{Version: 3}, 30)}, porcupine.Ok},
		struct {
			name string
			ops  []porcupine.Operation
			want porcupine.CheckResult
		}{"version skipped without a ghost", []porcupine.Operation{
			op(0, w(1), 0, regOutput{Version: 1}, 10), op(1, w(3), 20, regOutput{Version: 3}, 30)}, porcupine.Illegal},
		struct {
			name string
			ops  []porcupine.Operation
			want porcupine.CheckResult
		}{"cas failed on a matching version after a ghost", []porcupine.Operation{
			op(0, ghosted(cas(0, 1), 1), 0, regOutput{Failed: true}, 10), op(1, ghosted(rd, 1), 20, seen(0, 0), 30)}, porcupine.Illegal},
	)
	for _, c := range cases {
		if got := porcupine.CheckOperations(registerModel, c.ops); got != (c.want == porcupine.Ok) {
			t.Errorf("register %s: linearizable=%v, want %s", c.name, got, c.want)
		}
	}

	s := func(c int, call int64, seq int64, ret int64) porcupine.Operation {
		return porcupine.Operation{ClientId: c, Input: seqInput{Parent: "/p"}, Call: call, Output: seqOutput{Seq: seq}, Return: ret}
	}
	if !porcupine.CheckOperations(seqModel, []porcupine.Operation{s(0, 0, 0, 10), s(1, 5, 2, 15), s(0, 20, 3, 30)}) {
		t.Error("sequential create: increasing numbers with gaps rejected")
	}
	if porcupine.CheckOperations(seqModel, []porcupine.Operation{s(0, 0, 1, 10), s(1, 0, 1, 10)}) {
		t.Error("sequential create: a duplicate number accepted")
	}
	if porcupine.CheckOperations(seqModel, []porcupine.Operation{s(0, 0, 5, 10), s(1, 20, 3, 30)}) {
		t.Error("sequential create: a number lower than an earlier completed create's accepted")
	}

	// A failing history is visualized.
	res, info := porcupine.CheckOperationsVerbose(registerModel, cases[1].ops, 0)
	if res != porcupine.Illegal {
		t.Fatalf("stale read: %s", res)
	}
	path := filepath.Join(t.TempDir(), "stale.html")
	if err := porcupine.VisualizePath(registerModel, info, path); err != nil {
		t.Errorf("visualize: %v", err)
	}
}

// TestResolveUnknown checks how unknown writes are turned into known
// writes (value seen) or ghosts (never seen).
func TestResolveUnknown(t *testing.T) {
	ops := []porcupine.Operation{
		{Input: regInput{Key: "k", Kind: opWrite, Value: 1}, Call: 0, Output: regOutput{Unknown: true}, Return: infinity},
		{Input: regInput{Key: "k", Kind: opWrite, Value: 2}, Call: 5, Output: regOutput{Unknown: true}, Return: infinity},
		{Input: regInput{Key: "k", Kind: opRead}, Call: 1, Output: regOutput{Value: 1, Version: 1}, Return: 3},
		{Input: regInput{Key: "k", Kind: opRead}, Call: 10, Output: regOutput{Value: 1, Version: 1}, Return: 20},
	}
	out, resolved, ghosts := resolveUnknown(ops, map[string]map[int]int32{"k": {1: 1}})
	if resolved != 1 || ghosts != 1 || len(out) != 3 {
		t.Fatalf("resolved %d, ghosts %d, %d ops; want 1, 1, 3", resolved, ghosts, len(out))
	}
	if got := out[0].Output.(regOutput); got.Unknown || got.Version != 1 || out[0].Return != infinity {
		t.Errorf("seen unknown write became %+v returning %d", got, out[0].Return)
	}
	for i, want := range []int{1, 0, 1} { // the ghost was called at 5
		if got := out[i].Input.(regInput).MaxGhosts; got != want {
			t.Errorf("op %d: MaxGhosts %d, want %d", i, got, want)
		}
	}
	if !porcupine.CheckOperations(registerModel, out) {
		t.Error("resolved history rejected")
	}
}

// monotonicReadViolations flags a session that reads a key in a state
// older than a state of the history it had seen, and nothing else.
func TestMonotonicReadsAcrossKeys(t *testing.T) {
	o := func(client int, key string, mzxid int64) observation {
		return observation{Client: client, Session: 1, Key: key, Mzxid: mzxid, What: "plain read"}
	}
	cases := []struct {
		name string
		obs  []observation
		want int
	}{
		{"fresh reads", []observation{o(0, "a", 5), o(0, "b", 3), o(1, "b", 7), o(0, "b", 7)}, 0},
		// b was rewritten at 7; client 0 saw a at 9, then b from before 7.
		{"stale across keys", []observation{o(1, "b", 3), o(1, "b", 7), o(0, "a", 9), o(0, "b", 3)}, 1},
		// A write of b after what the session had seen does not count.
		{"newer write unseen", []observation{o(1, "b", 3), o(1, "b", 12), o(0, "a", 9), o(0, "b", 3)}, 0},
		// Another session of the same client starts afresh.
		{"new session", []observation{o(1, "b", 3), o(1, "b", 7), o(0, "a", 9),
			{Client: 0, Session: 2, Key: "b", Mzxid: 3}}, 0},
	}
	for _, c := range cases {
		if got := monotonicReadViolations(c.obs); len(got) != c.want {
			t.Errorf("%s: %d violations %q, want %d", c.name, len(got), got, c.want)
		}
	}
}
