package zab

import (
	"errors"
	"slices"
	"testing"
)

var testCfg = Config{InitLimit: 10, SyncLimit: 5, ElectionTicks: 4, FinalizeTicks: 1, KeepEntries: 2, MaxEntriesPerMsg: 2}

// syncCluster starts three servers from the given disks, waits for a leader
// and for every server to hold the leader's history.
func syncCluster(t *testing.T, disks map[int64]disk) *cluster {
	t.Helper()
	c := newCluster(11, 3, 0, testCfg)
	c.trace = true
	c.restartWith(disks)
	synced := func() bool {
		l := c.leader()
		if l == nil {
			return false
		}
		want := c.history(l.id)
		for _, id := range c.ids {
			s := c.nodes[id]
			if !s.status.Serving || !slices.EqualFunc(c.history(id), want, sameEntry) {
				return false
			}
		}
		return true
	}
	if !c.until(200, synced) || c.err != nil {
		t.Log("\n" + c.dumpTrace())
		t.Fatalf("not synced (err %v)", c.err)
	}
	return c
}

func sameEntry(a, b Entry) bool { return a.Zxid == b.Zxid && string(a.Data) == string(b.Data) }

func TestSyncDiff(t *testing.T) {
	full := txns(MakeZxid(1, 1), MakeZxid(1, 2), MakeZxid(1, 3), MakeZxid(1, 4), MakeZxid(1, 5))
	hs := HardState{AcceptedEpoch: 1, CurrentEpoch: 1}
	c := syncCluster(t, map[int64]disk{
		1: {hs: hs, log: full},
		2: {hs: hs, log: full},
		3: {hs: hs, log: full[:2]},
	})
	if s := c.nodes[3]; len(s.truncs) != 0 || len(s.snaps) != 0 {
		t.Errorf("n3 truncated %v, installed %v; want a plain DIFF", s.truncs, s.snaps)
	}
	checkSyncReported(t, c, 3, LearnerSync{Learner: 3, Mode: "DIFF", PeerLast: MakeZxid(1, 2), From: MakeZxid(1, 2), Entries: 3})
}

// checkSyncReported checks that the leader reported syncing learner id
// as want.
func checkSyncReported(t *testing.T, c *cluster, id int64, want LearnerSync) {
	t.Helper()
	got := []LearnerSync{}
	for _, sy := range c.leader().syncsSent {
		if sy.Learner == id {
			got = append(got, sy)
		}
	}
	if !slices.Contains(got, want) {
		t.Errorf("the leader reported syncs %+v for n%d, want %+v", got, id, want)
	}
}

func TestSyncTruncUncommittedOldEpoch(t *testing.T) {
	// Server 3 logged 1:3 and 1:4 from the leader of epoch 1, which failed
	// before committing them; epoch 2 went on without them.
	base := txns(MakeZxid(1, 1), MakeZxid(1, 2))
	newer := append(slices.Clone(base), txns(MakeZxid(2, 1), MakeZxid(2, 2))...)
	c := syncCluster(t, map[int64]disk{
		1: {hs: HardState{AcceptedEpoch: 2, CurrentEpoch: 2}, log: newer},
		2: {hs: HardState{AcceptedEpoch: 2, CurrentEpoch: 2}, log: newer},
		3: {hs: HardState{AcceptedEpoch: 1, CurrentEpoch: 1}, log: append(slices.Clone(base), txns(MakeZxid(1, 3), MakeZxid(1, 4))...)},
	})
	if s := c.nodes[3]; !slices.Equal(s.truncs, []int64{MakeZxid(1, 2)}) {
		t.Errorf("n3 truncated after %v, want [0x100000002]", s.truncs)
	}
	checkSyncReported(t, c, 3, LearnerSync{Learner: 3, Mode: "TRUNC", PeerLast: MakeZxid(1, 4), From: MakeZxid(1, 2), Entries: 2})
}

func TestSyncProbeForeignEpoch(t *testing.T) {
	// Server 3 holds 2:1 from a leader of epoch 2 that nobody else heard;
	// the others have nothing of epoch 2, so the leader probes.
	base := txns(MakeZxid(1, 1), MakeZxid(1, 2))
	newer := append(slices.Clone(base), txns(MakeZxid(3, 1))...)
	c := syncCluster(t, map[int64]disk{
		1: {hs: HardState{AcceptedEpoch: 3, CurrentEpoch: 3}, log: newer},
		2: {hs: HardState{AcceptedEpoch: 3, CurrentEpoch: 3}, log: newer},
		3: {hs: HardState{AcceptedEpoch: 2, CurrentEpoch: 2}, log: append(slices.Clone(base), txns(MakeZxid(2, 1))...)},
	})
	if s := c.nodes[3]; !slices.Equal(s.truncs, []int64{MakeZxid(1, 2)}) {
		t.Errorf("n3 truncated after %v, want [0x100000002]", s.truncs)
	}
}

func TestSyncSnapWhenLogDoesNotReachBack(t *testing.T) {
	all := txns(MakeZxid(1, 1), MakeZxid(1, 2), MakeZxid(1, 3), MakeZxid(1, 4), MakeZxid(1, 5), MakeZxid(1, 6))
	hs := HardState{AcceptedEpoch: 1, CurrentEpoch: 1}
	// Servers 1 and 2 snapshotted at 1:4 and purged their logs before it.
	compacted := disk{hs: hs, log: all[4:], snap: snapshotFile{zxid: MakeZxid(1, 4), tree: all[:4]}}
	c := syncCluster(t, map[int64]disk{
		1: compacted,
		2: compacted,
		3: {hs: hs, log: all[:1]},
	})
	if s := c.nodes[3]; len(s.snaps) != 1 {
		t.Errorf("n3 installed snapshots %v, want one", s.snaps)
	}
	if got := c.nodes[3].tree; len(got) < 4 {
		t.Errorf("n3 tree has %d txns, want at least the snapshot's 4", len(got))
	}
	var modes []string
	for _, sy := range c.leader().syncsSent {
		if sy.Learner == 3 {
			modes = append(modes, sy.Mode)
		}
	}
	if !slices.Contains(modes, "SNAP") {
		t.Errorf("the leader reported %v for n3, want a SNAP", modes)
	}
}

func TestZxidRollover(t *testing.T) {
	cfg := testCfg
	cfg.counterLimit = 3
	c := newCluster(5, 3, 0, cfg)
	if !c.until(100, func() bool { return c.leader() != nil }) {
		t.Fatal("no leader")
	}
	l := c.leader()
	epoch := l.status.Epoch
	for i := range 3 {
		if z, err := c.propose(l, []byte{byte(i)}); err != nil || z != MakeZxid(epoch, uint32(i+1)) {
			t.Fatalf("proposal %d: %s, %v", i, ZxidString(z), err)
		}
	}
	if _, err := l.node.NextZxid(); !errors.Is(err, ErrZxidExhausted) {
		t.Fatalf("NextZxid: %v, want ErrZxidExhausted", err)
	}
	if _, err := c.propose(l, []byte("x")); !errors.Is(err, ErrZxidExhausted) {
		t.Fatalf("fourth proposal: %v, want ErrZxidExhausted", err)
	}
	if l.node.Status().Role != Looking {
		t.Fatal("leader did not step down")
	}
	if !c.until(100, func() bool { l := c.leader(); return l != nil && l.status.Epoch > epoch }) {
		t.Fatal("no new leader")
	}
	l = c.leader()
	if z, err := c.propose(l, []byte("y")); err != nil || z != MakeZxid(l.status.Epoch, 1) {
		t.Fatalf("first proposal of the new epoch: %s, %v", ZxidString(z), err)
	}
	if !c.until(50, func() bool { return len(c.committed) == 4 }) || c.err != nil {
		t.Fatalf("committed %d txns, err %v", len(c.committed), c.err)
	}
}

func TestEqualEpochFromAnotherLeader(t *testing.T) {
	d := &disk{hs: HardState{AcceptedEpoch: 5, AcceptedLeader: 2, CurrentEpoch: 4}}
	for _, established := range []bool{false, true} {
		n := newTestNode(t, 1, d)
		n.Ready()
		// Server 3 leads and n1 follows it.
		n.Step(Message{Type: MsgVote, From: 2, Vote: Vote{Leader: 3, Epoch: 5}, Round: 1, State: Following})
		n.Step(Message{Type: MsgVote, From: 3, Vote: Vote{Leader: 3, Epoch: 5}, Round: 1, State: Leading})
		var info Message
		for _, m := range n.Ready().Messages {
			if m.Type == MsgFollowerInfo {
				info = m
			}
		}
		if info.To != 3 || info.Epoch != 5 {
			t.Fatalf("FOLLOWERINFO %v", info)
		}
		n.Step(Message{Type: MsgLeaderInfo, From: 3, Session: info.Session, Seq: 1, Epoch: 5, Established: established})
		rd := n.Ready()
		acked := slices.ContainsFunc(rd.Messages, func(m Message) bool { return m.Type == MsgAckEpoch })
		if acked != established {
			t.Errorf("established=%v: acknowledged epoch 5 already accepted from server 2: %v", established, acked)
		}
		if !established && n.Status().Role != Looking {
			t.Errorf("refused leader: status %v, want LOOKING", n.Status())
		}
	}
}

func TestForwardReachesLeader(t *testing.T) {
	c := newCluster(3, 3, 1, testCfg)
	ok := c.until(100, func() bool {
		for _, id := range c.ids {
			if !c.nodes[id].status.Serving {
				return false
			}
		}
		return c.leader() != nil
	})
	if !ok {
		t.Fatal("ensemble not serving")
	}
	l := c.leader()
	for _, id := range c.ids {
		if id != l.id {
			if err := c.nodes[id].node.Forward([]byte{byte(id)}); err != nil {
				t.Fatalf("n%d: %v", id, err)
			}
			c.process(c.nodes[id])
		}
	}
	if !c.until(10, func() bool { return len(l.requests) == 3 }) {
		t.Fatalf("leader got %d forwarded requests, want 3: %v", len(l.requests), l.requests)
	}
	if err := l.node.Forward(nil); !errors.Is(err, ErrNotSynced) {
		t.Errorf("Forward on the leader: %v", err)
	}
}
