package zab

import (
	"fmt"
	"slices"

	"github.com/zkgo/zkgo/wire"
)

// Dynamic reconfiguration, after Apache ZooKeeper 3.5+. A membership change
// is an ordinary log entry that the driver's Config.Members recognizes; its
// zxid is the new membership's Version. From the moment it is logged until
// it is applied (handed out in Ready.Committed) it is pending: the leader
// then counts every ack, the ACK(NEWLEADER)s and its learners' liveness in
// both the active membership and each pending one (a joint quorum), so a
// membership is never decided by the old voters alone. Once applied it is
// active on that server. A server hears of newer memberships also from the
// vote notifications of its peers (they carry the sender's active
// membership) and from a leader's SNAP; an active membership was committed,
// so adopting a newer one is always safe.
//
// Reactions to a new active membership: a leader that is no longer a voter
// steps down (LOOKING), as do learners whose leader stopped being a voter
// or that became or stopped being observers; a leader forgets learners
// that did, so they reconnect as what they now are. As in Apache, a
// follower that is removed goes on following (and serving its clients) as
// a non-voter, and one that is added starts voting without a new session. A
// server in no membership still looks for the leader and syncs from it as
// a non-voting follower: it logs and acknowledges proposals (the acks count
// in any pending membership that names it), which is how a joining server
// catches up before the change that adds it.

// Membership is a quorum configuration: who votes, who observes, and the
// version (the zxid of the entry that made it, or the version the driver
// read from its configuration files).
type Membership struct {
	Version   int64
	Voters    []int64
	Observers []int64
}

// isVoter reports whether id is a voter of m.
func (m *Membership) isVoter(id int64) bool { return slices.Contains(m.Voters, id) }

// isObserver reports whether id is an observer of m.
func (m *Membership) isObserver(id int64) bool { return slices.Contains(m.Observers, id) }

// quorum is the number of voters that make a majority of m.
func (m *Membership) quorum() int { return len(m.Voters)/2 + 1 }

// kind classifies id in m: 'v' voter, 'o' observer, 'n' neither.
func (m *Membership) kind(id int64) byte {
	switch {
	case m.isVoter(id):
		return 'v'
	case m.isObserver(id):
		return 'o'
	}
	return 'n'
}

// hasQuorum reports whether the voters of m for which in is true make a
// majority.
func (m *Membership) hasQuorum(in func(id int64) bool) bool {
	c := 0
	for _, v := range m.Voters {
		if in(v) {
			c++
		}
	}
	return c >= m.quorum()
}

func (m Membership) String() string {
	return fmt.Sprintf("v%s voters %v observers %v", ZxidString(m.Version), m.Voters, m.Observers)
}

func (m *Membership) clone() Membership {
	return Membership{Version: m.Version, Voters: slices.Clone(m.Voters), Observers: slices.Clone(m.Observers)}
}

func (m *Membership) encode(e *wire.Encoder) {
	e.Long(m.Version)
	for _, ids := range [][]int64{m.Voters, m.Observers} {
		e.Int(int32(len(ids)))
		for _, id := range ids {
			e.Long(id)
		}
	}
}

func (m *Membership) decode(d *wire.Decoder) {
	m.Version = d.Long()
	for _, ids := range []*[]int64{&m.Voters, &m.Observers} {
		n := int(d.Int())
		if d.Err() != nil {
			return
		}
		if n < 0 || n > d.Remaining()/8 {
			d.Fail(wire.ErrBadLength)
			return
		}
		if n == 0 {
			continue
		}
		*ids = make([]int64, n)
		for i := range *ids {
			(*ids)[i] = d.Long()
		}
	}
}

// validate checks a membership and sorts its lists.
func (m *Membership) validate() error {
	if len(m.Voters) == 0 {
		return fmt.Errorf("zab: membership %s has no voters", ZxidString(m.Version))
	}
	seen := map[int64]bool{}
	for _, id := range append(slices.Clone(m.Voters), m.Observers...) {
		if seen[id] {
			return fmt.Errorf("zab: server %d listed twice", id)
		}
		seen[id] = true
	}
	m.Voters = slices.Sorted(slices.Values(m.Voters))
	m.Observers = slices.Sorted(slices.Values(m.Observers))
	return nil
}

// keepMemberships bounds the active memberships a node remembers (to hand
// the right one to a learner synced by SNAP).
const keepMemberships = 8

// noteEntries records the membership changes among entries just logged.
func (n *Node) noteEntries(es []Entry) {
	if n.cfg.Members == nil {
		return
	}
	for _, e := range es {
		if e.Zxid <= n.members.Version {
			continue
		}
		if m, ok := n.cfg.Members(e.Data); ok {
			m.Version = e.Zxid
			if err := m.validate(); err != nil {
				n.fail(fmt.Errorf("membership change at %s: %w", ZxidString(e.Zxid), err))
				return
			}
			n.pending = append(n.pending, m)
		}
	}
}

// dropPendingAfter forgets the pending changes above z (truncated away).
func (n *Node) dropPendingAfter(z int64) {
	i := len(n.pending)
	for i > 0 && n.pending[i-1].Version > z {
		i--
	}
	n.pending = n.pending[:i]
}

// activateApplied makes the pending changes up to the applied zxid active.
func (n *Node) activateApplied() {
	for len(n.pending) > 0 && n.pending[0].Version <= n.applied && n.fatal == nil {
		m := n.pending[0]
		n.pending = n.pending[1:]
		n.activate(m)
	}
}

// adopt makes a newer membership heard from a peer active.
func (n *Node) adopt(m *Membership) {
	if m == nil || m.Version <= n.members.Version {
		return
	}
	c := m.clone()
	if c.validate() != nil {
		return
	}
	i := 0
	for i < len(n.pending) && n.pending[i].Version <= c.Version {
		i++
	}
	n.pending = n.pending[i:]
	n.activate(c)
}

// membershipAt returns the newest remembered active membership with a
// version of at most z (the oldest remembered one if none is).
func (n *Node) membershipAt(z int64) Membership {
	for i := len(n.cfgHist) - 1; i > 0; i-- {
		if n.cfgHist[i].Version <= z {
			return n.cfgHist[i]
		}
	}
	return n.cfgHist[0]
}

// setMembers installs m as the active membership without reacting.
func (n *Node) setMembers(m Membership) {
	n.members = m
	n.voters = map[int64]bool{}
	n.learner = map[int64]bool{}
	for _, v := range m.Voters {
		n.voters[v] = true
	}
	for _, o := range m.Observers {
		n.learner[o] = true
	}
	n.voter = n.voters[n.id]
	n.cfgHist = append(n.cfgHist, m)
	if len(n.cfgHist) > keepMemberships {
		n.cfgHist = slices.Delete(n.cfgHist, 0, len(n.cfgHist)-keepMemberships)
	}
}

// activate makes m the active membership and reacts to the change.
func (n *Node) activate(m Membership) {
	old := n.members
	n.setMembers(m)
	n.activated = append(n.activated, m)
	switch {
	case n.lead != nil:
		if !n.voter {
			n.becomeLooking()
			return
		}
		ld := n.lead
		for _, id := range slices.Clone(ld.learnerIDs()) {
			if old.isObserver(id) != m.isObserver(id) {
				ld.removeLearner(id)
			}
		}
		if ld.phase == leaderBroadcast && !n.hasLiveQuorum() {
			n.becomeLooking()
		}
	case n.learn != nil:
		if n.learn.stage == lsBroadcast && (old.isObserver(n.id) != m.isObserver(n.id) || !m.isVoter(n.learn.leader)) {
			n.becomeLooking()
		}
	default:
		if old.kind(n.id) != m.kind(n.id) {
			n.becomeLooking()
		} else {
			n.checkElection()
		}
	}
}

// jointQuorum reports whether the servers for which in is true make a
// quorum of the active membership and of every pending one.
func (n *Node) jointQuorum(in func(id int64) bool) bool {
	if !n.members.hasQuorum(in) {
		return false
	}
	for i := range n.pending {
		if !n.pending[i].hasQuorum(in) {
			return false
		}
	}
	return true
}

// Membership returns the active membership.
func (n *Node) Membership() Membership { return n.members.clone() }

// ReconfigPending reports whether a membership change is logged but not yet
// active (Apache ZooKeeper refuses another reconfig then).
func (n *Node) ReconfigPending() bool { return len(n.pending) > 0 }

// QuorumSynced reports whether the leader and the followers synced with it
// (acknowledged NEWLEADER) make a quorum of the voters of m: Apache
// ZooKeeper's check before it proposes a reconfiguration to m.
func (n *Node) QuorumSynced(m Membership) bool {
	ld := n.lead
	if ld == nil || ld.phase != leaderBroadcast {
		return false
	}
	return m.hasQuorum(func(id int64) bool {
		if id == n.id {
			return true
		}
		li := ld.learners[id]
		return li != nil && li.phase == lpActive && !li.observer
	})
}
