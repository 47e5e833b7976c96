package zab

import (
	"encoding/binary"
	"errors"
	"testing"
)

// TestReplyAfterCommitted: a learner's question answered by the leader
// comes out of the learner's Ready only once the learner has applied every
// txn the leader had committed when it answered (the leader's driver
// revalidates sessions this way: the follower must see the session it is
// told about). Applying one committed entry per Ready makes the learner
// apply a COMMIT in several steps, so an early reply would show.
func TestReplyAfterCommitted(t *testing.T) {
	cfg := testCfg
	cfg.MaxCommittedPerReady = 1
	c := newCluster(5, 3, 1, cfg)
	serving := func() bool {
		for _, id := range c.ids {
			if !c.nodes[id].status.Serving {
				return false
			}
		}
		return c.leader() != nil
	}
	if !c.until(100, serving) {
		t.Fatal("ensemble not serving")
	}
	l := c.leader()
	asked := 0
	for round := range 20 {
		for i := range 4 {
			if _, err := c.propose(l, []byte{byte(round), byte(i)}); err != nil {
				t.Fatalf("propose: %v", err)
			}
		}
		for _, id := range c.ids {
			if id == l.id {
				continue
			}
			if err := c.nodes[id].node.Forward([]byte{byte(id)}); err != nil {
				t.Fatalf("n%d: forward: %v", id, err)
			}
			c.process(c.nodes[id])
			asked++
		}
		// The leader answers each question with its commit point.
		for range 20 * unitsPerTick {
			c.step()
			for _, req := range l.requests {
				var b [8]byte
				binary.BigEndian.PutUint64(b[:], uint64(l.node.CommittedZxid()))
				if err := l.node.Reply(req.From, b[:]); err != nil {
					t.Fatalf("reply to n%d: %v", req.From, err)
				}
				c.process(l)
			}
			l.requests = nil
		}
	}
	got := 0
	for _, id := range c.ids {
		for _, r := range c.nodes[id].replies {
			got++
			if commit := int64(binary.BigEndian.Uint64(r.data)); r.treeZxid < commit {
				t.Errorf("n%d got a reply sent at commit %s with its tree at %s", id, ZxidString(commit), ZxidString(r.treeZxid))
			}
		}
	}
	if got != asked {
		t.Errorf("%d replies handed out, want %d", got, asked)
	}
	if err := l.node.Reply(99, nil); !errors.Is(err, ErrNotSynced) {
		t.Errorf("Reply to an unknown learner: %v, want ErrNotSynced", err)
	}
	f := c.nodes[c.ids[0]]
	if f == l {
		f = c.nodes[c.ids[1]]
	}
	if err := f.node.Reply(l.id, nil); !errors.Is(err, ErrNotLeader) {
		t.Errorf("Reply on a follower: %v, want ErrNotLeader", err)
	}
}

// TestRequestsOfAnOldLearnerSessionDropped: a request a learner forwarded
// in a session the leader has since replaced (the learner lost its leader
// and opened a new session, FOLLOWERINFO) is never handed out, even if it
// arrived before the new session and no Ready was taken in between: the
// learner resubmits what the history it syncs lacks, so a late proposal
// of it would apply the write twice.
func TestRequestsOfAnOldLearnerSessionDropped(t *testing.T) {
	c := newCluster(3, 3, 0, testCfg)
	if !c.until(100, func() bool { return c.leader() != nil }) {
		t.Fatal("no leader")
	}
	l := c.leader()
	var f int64
	for _, id := range c.ids {
		if id != l.id {
			f = id
			break
		}
	}
	ld := l.node.lead
	li := ld.learners[f]
	if li == nil || li.phase < lpSynced {
		t.Fatalf("n%d is not a synced learner of the leader", f)
	}
	req := Message{Type: MsgRequest, From: f, To: l.id, Session: li.session, Epoch: ld.epoch, Data: []byte("w")}
	l.node.Step(req)
	if rd := l.node.Ready(); len(rd.Requests) != 1 {
		t.Fatalf("a request of the current session: %d handed out, want 1", len(rd.Requests))
	}
	l.node.Step(req)
	l.node.Step(Message{Type: MsgFollowerInfo, From: f, To: l.id, Session: li.session + 1, Epoch: l.node.hs.AcceptedEpoch,
		Zxid: l.node.LastZxid()})
	if rd := l.node.Ready(); len(rd.Requests) != 0 {
		t.Errorf("a request of a replaced session was handed out: %v", rd.Requests)
	}
}
