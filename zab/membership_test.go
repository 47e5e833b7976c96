package zab

import (
	"slices"
	"testing"
)

// reconfigCluster is three voters and two spares with a serving leader.
func reconfigCluster(t *testing.T) (*cluster, *simNode) {
	t.Helper()
	c := newClusterSpares(21, 3, 0, 2, testCfg)
	c.trace = true
	if !c.until(200, func() bool { return c.leader() != nil }) {
		t.Fatal("no leader")
	}
	return c, c.leader()
}

func activeEverywhere(c *cluster, version int64) bool {
	for _, id := range c.ids {
		if s := c.nodes[id]; s.up && s.node.Membership().Version != version {
			return false
		}
	}
	return true
}

// A change commits only once a quorum of the new voters, too, has it: the
// old voters alone do not decide who the new ones are.
func TestReconfigNeedsJointQuorum(t *testing.T) {
	c, l := reconfigCluster(t)
	// The new voters are the leader and the two spares, cut off.
	var others []int64
	for _, id := range c.voters {
		if id != l.id {
			others = append(others, id)
		}
	}
	c.partition([]int64{201, 202})
	c.runTicks(8) // the spares are not synced: the driver would refuse
	m := Membership{Voters: []int64{l.id, 201, 202}}
	if l.node.QuorumSynced(m) {
		t.Fatal("QuorumSynced with the new voters cut off")
	}
	z, err := c.propose(l, encodeMembers(m))
	if err != nil {
		t.Fatal(err)
	}
	if !l.node.ReconfigPending() {
		t.Fatal("no change pending after proposing one")
	}
	c.runTicks(3)
	if l.node.CommittedZxid() >= z {
		t.Log("\n" + c.dumpTrace())
		t.Fatalf("committed %s with only the old voters' acks", ZxidString(z))
	}
	c.heal()
	if !c.until(200, func() bool { return activeEverywhere(c, z) }) || c.err != nil {
		t.Log("\n" + c.dumpTrace())
		t.Fatalf("change %s not active everywhere (err %v)", ZxidString(z), c.err)
	}
	// The old followers go on as non-voters; the new voters carry on.
	if !c.until(200, func() bool {
		l := c.leader()
		if l == nil {
			return false
		}
		_, err := c.propose(l, []byte("after"))
		return err == nil
	}) {
		t.Fatal("no progress after the change")
	}
	for _, id := range others {
		if c.nodes[id].node.voter {
			t.Errorf("n%d still votes", id)
		}
	}
}

// A leader that the change removes steps down once it is active, and the
// remaining voters elect one of themselves.
func TestReconfigRemovesLeader(t *testing.T) {
	c, l := reconfigCluster(t)
	var rest []int64
	for _, id := range c.voters {
		if id != l.id {
			rest = append(rest, id)
		}
	}
	z, err := c.propose(l, encodeMembers(Membership{Voters: rest}))
	if err != nil {
		t.Fatal(err)
	}
	ok := c.until(300, func() bool {
		nl := c.leader()
		return nl != nil && nl.id != l.id && slices.Contains(rest, nl.id) && activeEverywhere(c, z)
	})
	if !ok || c.err != nil {
		t.Log("\n" + c.dumpTrace())
		t.Fatalf("no new leader among %v after removing n%d (err %v)", rest, l.id, c.err)
	}
	// The removed server still follows, without a vote.
	if !c.until(100, func() bool { s := c.nodes[l.id]; return s.status.Role == Following && s.status.Serving }) {
		t.Fatalf("removed n%d: %v", l.id, c.nodes[l.id].status)
	}
}
