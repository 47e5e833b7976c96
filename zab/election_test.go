package zab

import (
	"math/rand/v2"
	"testing"
)

func TestVoteOrder(t *testing.T) {
	// Ordered from worst to best: epoch first, then zxid, then id.
	votes := []Vote{
		{Leader: 3, Zxid: MakeZxid(1, 9), Epoch: 1},
		{Leader: 1, Zxid: MakeZxid(2, 1), Epoch: 1},
		{Leader: 2, Zxid: MakeZxid(2, 1), Epoch: 1},
		{Leader: 1, Zxid: MakeZxid(1, 1), Epoch: 2},
		{Leader: 1, Zxid: MakeZxid(2, 5), Epoch: 2},
		{Leader: 2, Zxid: MakeZxid(2, 5), Epoch: 2},
	}
	for i := range votes {
		for j := range votes {
			if got, want := votes[i].Less(votes[j]), i < j; got != want {
				t.Errorf("%v.Less(%v) = %v, want %v", votes[i], votes[j], got, want)
			}
		}
	}
}

// newTestNode returns a node for unit tests of the message handling.
func newTestNode(t *testing.T, id int64, d *disk) *Node {
	t.Helper()
	n, err := NewNode(Config{
		ID: id, Voters: []int64{1, 2, 3}, InitLimit: 10, SyncLimit: 5, ElectionTicks: 5,
		Log: d, Rand: rand.New(rand.NewPCG(1, 2)),
		State: DurableState{HardState: d.hs, SnapshotZxid: d.snap.zxid, LastZxid: d.lastZxid()},
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func votesTo(msgs []Message) map[int64]Message {
	out := map[int64]Message{}
	for _, m := range msgs {
		if m.Type == MsgVote {
			out[m.To] = m
		}
	}
	return out
}

func TestElectionRounds(t *testing.T) {
	d := &disk{hs: HardState{CurrentEpoch: 1, AcceptedEpoch: 1}, log: []Entry{{Zxid: MakeZxid(1, 1)}, {Zxid: MakeZxid(1, 2)}}}
	n := newTestNode(t, 2, d)
	rd := n.Ready()
	own := Vote{Leader: 2, Zxid: MakeZxid(1, 2), Epoch: 1}
	if v := votesTo(rd.Messages); len(v) != 2 || v[1].Vote != own || v[3].Vote != own || v[1].Round != 1 {
		t.Fatalf("initial notifications %v", rd.Messages)
	}

	// A newer round with a worse vote: join the round, keep our vote.
	worse := Vote{Leader: 3, Zxid: MakeZxid(1, 1), Epoch: 1}
	n.Step(Message{Type: MsgVote, From: 3, To: 2, Vote: worse, Round: 5, State: Looking})
	v := votesTo(n.Ready().Messages)
	if len(v) != 2 || v[1].Round != 5 || v[1].Vote != own {
		t.Fatalf("after a newer round: %v", v)
	}

	// An older round: answer with our vote, change nothing.
	better := Vote{Leader: 1, Zxid: MakeZxid(1, 7), Epoch: 1}
	n.Step(Message{Type: MsgVote, From: 1, To: 2, Vote: better, Round: 4, State: Looking})
	v = votesTo(n.Ready().Messages)
	if len(v) != 1 || v[1].Vote != own || v[1].Round != 5 {
		t.Fatalf("after an older round: %v", v)
	}

	// The same round with a better vote: adopt it and tell everyone; with
	// the sender agreeing a quorum exists, and FinalizeTicks 0 decides.
	n.Step(Message{Type: MsgVote, From: 1, To: 2, Vote: better, Round: 5, State: Looking})
	rd = n.Ready()
	v = votesTo(rd.Messages)
	if len(v) != 2 || v[3].Vote != better {
		t.Fatalf("after a better vote: %v", v)
	}
	if rd.Status == nil || rd.Status.Role != Following || rd.Status.Leader != 1 {
		t.Fatalf("status %v, want FOLLOWING leader 1", rd.Status)
	}
}

func TestElectionFinalizeWait(t *testing.T) {
	d := &disk{}
	n, err := NewNode(Config{ID: 1, Voters: []int64{1, 2, 3}, InitLimit: 10, SyncLimit: 5,
		ElectionTicks: 50, FinalizeTicks: 2, Log: d, Rand: rand.New(rand.NewPCG(1, 2))})
	if err != nil {
		t.Fatal(err)
	}
	n.Ready()
	mine := Vote{Leader: 1}
	n.Step(Message{Type: MsgVote, From: 2, Vote: mine, Round: 1, State: Looking})
	n.Tick()
	if n.Status().Role != Looking {
		t.Fatal("decided before the finalize wait ended")
	}
	// A better vote arrives during the wait: the wait starts over.
	n.Step(Message{Type: MsgVote, From: 3, Vote: Vote{Leader: 3}, Round: 1, State: Looking})
	n.Tick()
	n.Tick()
	if s := n.Status(); s.Role != Following || s.Leader != 3 {
		t.Fatalf("status %v, want FOLLOWING 3", s)
	}
}

func TestElectionJoinsRunningLeader(t *testing.T) {
	n := newTestNode(t, 3, &disk{})
	n.Ready()
	lead := Vote{Leader: 1, Zxid: MakeZxid(4, 2), Epoch: 5}
	// A follower's word is not enough...
	n.Step(Message{Type: MsgVote, From: 2, Vote: lead, Round: 9, State: Following})
	if n.Status().Role != Looking {
		t.Fatal("joined on a follower's word alone")
	}
	// ...the leader must confirm it leads.
	n.Step(Message{Type: MsgVote, From: 1, Vote: lead, Round: 9, State: Leading})
	if s := n.Status(); s.Role != Following || s.Leader != 1 {
		t.Fatalf("status %v, want FOLLOWING 1", s)
	}
}

func TestElectionPicksMostRecentHistory(t *testing.T) {
	c := newCluster(7, 3, 0, Config{InitLimit: 10, SyncLimit: 5, ElectionTicks: 4, FinalizeTicks: 1})
	// Server 1 has the newer epoch, server 3 the larger zxid of an older one.
	c.restartWith(map[int64]disk{
		1: {hs: HardState{AcceptedEpoch: 2, CurrentEpoch: 2}, log: txns(MakeZxid(1, 1), MakeZxid(2, 1))},
		2: {hs: HardState{AcceptedEpoch: 2, CurrentEpoch: 2}, log: txns(MakeZxid(1, 1))},
		3: {hs: HardState{AcceptedEpoch: 1, CurrentEpoch: 1}, log: txns(MakeZxid(1, 1), MakeZxid(1, 2), MakeZxid(1, 3))},
	})
	if !c.until(100, func() bool { return c.leader() != nil }) {
		t.Fatal("no leader")
	}
	if l := c.leader(); l.id != 1 || l.status.Epoch != 3 {
		t.Fatalf("leader n%d epoch %d, want n1 epoch 3", l.id, l.status.Epoch)
	}
	if c.err != nil {
		t.Fatal(c.err)
	}
}

// txns returns entries with the given zxids and recognizable data.
func txns(zxids ...int64) []Entry {
	es := make([]Entry, len(zxids))
	for i, z := range zxids {
		es[i] = Entry{Zxid: z, Data: []byte("txn-" + ZxidString(z))}
	}
	return es
}

// A lost connection to the leader ends following at once, and the
// survivors, knowing the old leader is down, elect a new one without
// waiting for a timeout, a resend or the finalize wait.
func TestFailoverOnDisconnect(t *testing.T) {
	cfg := Config{InitLimit: 1000, SyncLimit: 1000, ElectionTicks: 1000, FinalizeTicks: 1000}
	c := newCluster(1, 3, 0, cfg)
	if !c.until(3000, func() bool { return c.leader() != nil }) {
		t.Fatal("no leader")
	}
	old := c.leader()
	epoch := old.status.Epoch
	c.crash(old.id)
	for _, id := range c.ids {
		if id != old.id {
			c.disconnected(id, old.id)
			if r := c.nodes[id].status.Role; r != Looking {
				t.Fatalf("n%d is %v after losing its leader", id, r)
			}
		}
	}
	if !c.until(10, func() bool { l := c.leader(); return l != nil && l.status.Epoch > epoch }) {
		t.Fatal("no new leader within 10 ticks")
	}

	// The new leader loses both followers: it steps down at once.
	l := c.leader()
	for _, id := range c.ids {
		if id != l.id && c.nodes[id].up {
			c.crash(id)
			c.disconnected(l.id, id)
		}
	}
	if r := l.status.Role; r != Looking {
		t.Fatalf("leader without a quorum is %v", r)
	}
}
