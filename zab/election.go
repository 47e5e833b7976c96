package zab

// Fast leader election, after Apache ZooKeeper's FastLeaderElection. A
// LOOKING server proposes itself, sends its vote to every voter, and adopts
// any better vote it hears in the same round (logical clock), resending it.
// Once a quorum of voters agrees with its vote it waits FinalizeTicks for a
// better one, then follows (or becomes) that leader. A server that comes
// LOOKING into a running ensemble instead joins the leader that a quorum of
// FOLLOWING/LEADING servers report, provided the leader itself says LEADING.

// election is the state of fast leader election.
type election struct {
	round      int64            // logical clock
	vote       Vote             // current proposal; the outcome once decided
	recv       map[int64]ballot // votes heard in this round
	out        map[int64]ballot // votes of servers that are out of election
	lastSent   int64            // tick the notifications were last sent
	finalizeAt int64            // tick to decide at, or -1
}

// ballot is a vote as heard from a peer, with the peer's role and round.
type ballot struct {
	vote  Vote
	state Role
	round int64
}

// noVote is the vote of a server whose vote does not count.
var noVote = Vote{Leader: -1, Zxid: -1, Epoch: -1}

// votes reports whether this server takes part in elections: a voter
// whose log is not being repaired (see HardState.Repairing).
func (n *Node) votes() bool { return n.voter && !n.hs.Repairing }

// selfVote is this server's own candidacy; observers and servers under
// repair vote for nobody.
func (n *Node) selfVote() Vote {
	if !n.votes() {
		return noVote
	}
	return Vote{Leader: n.id, Zxid: n.log.last, Epoch: n.hs.CurrentEpoch}
}

// becomeLooking starts a new round of election.
func (n *Node) becomeLooking() {
	n.lead, n.learn = nil, nil
	n.status = Status{Role: Looking}
	e := &n.elect
	e.round++
	e.vote = n.selfVote()
	e.recv = map[int64]ballot{}
	e.out = map[int64]ballot{}
	e.finalizeAt = -1
	if n.votes() {
		e.recv[n.id] = ballot{vote: e.vote, state: Looking, round: e.round}
	}
	n.sendNotifications()
	n.checkElection()
}

// sendNotifications sends this server's vote to every voter.
func (n *Node) sendNotifications() {
	n.elect.lastSent = n.now
	for _, v := range n.members.Voters {
		if v != n.id {
			n.send(n.notification(v))
		}
	}
}

// notification is this server's vote, addressed to peer, with its active
// membership. A voter under repair tracks the others' votes to learn the
// outcome, but while LOOKING it sends no vote of its own: a peer must not
// count it toward a quorum.
func (n *Node) notification(peer int64) Message {
	m := n.members
	v := n.elect.vote
	if n.status.Role == Looking && n.voter && !n.votes() {
		v = noVote
	}
	return Message{Type: MsgVote, To: peer, Vote: v, Round: n.elect.round, State: n.status.Role, Members: &m}
}

func (n *Node) electionTick() {
	e := &n.elect
	if e.finalizeAt >= 0 && n.now >= e.finalizeAt {
		e.finalizeAt = -1
		if n.agreeing(e.recv, e.vote, false) >= n.quorum() {
			n.decide(e.vote)
			return
		}
	}
	if n.now-e.lastSent >= int64(n.cfg.ElectionTicks) {
		n.sendNotifications()
	}
}

// stepVote handles a notification.
func (n *Node) stepVote(m Message) {
	e := &n.elect
	if n.status.Role != Looking {
		// Out of election: tell a LOOKING peer who leads.
		if m.State == Looking {
			n.send(n.notification(m.From))
		}
		// The leader announces itself once it has decided: a learner
		// whose FOLLOWERINFO arrived before that (and was dropped) sends
		// it again now rather than after ElectionTicks.
		if ls := n.learn; ls != nil && m.From == ls.leader && m.State == Leading && ls.stage == lsInfo {
			n.sendFollowerInfo()
		}
		return
	}
	if !n.voters[m.From] {
		// Observers' votes do not count; answer them.
		n.send(n.notification(m.From))
		return
	}
	b := ballot{vote: m.Vote, state: m.State, round: m.Round}
	if m.State == Looking {
		switch {
		case m.Round > e.round:
			e.round = m.Round
			clear(e.recv)
			e.vote = n.selfVote()
			if e.vote.Less(m.Vote) {
				e.vote = m.Vote
			}
			e.finalizeAt = -1
			if n.votes() {
				e.recv[n.id] = ballot{vote: e.vote, state: Looking, round: e.round}
			}
			n.sendNotifications()
		case m.Round < e.round:
			n.send(n.notification(m.From))
			return
		case e.vote.Less(m.Vote):
			e.vote = m.Vote
			e.finalizeAt = -1
			if n.votes() {
				e.recv[n.id] = ballot{vote: e.vote, state: Looking, round: e.round}
			}
			n.sendNotifications()
		case m.Vote != e.vote:
			// Ours is better: make sure the sender hears it (it may
			// have missed our notification while it was not LOOKING
			// yet) instead of waiting for the next resend.
			n.send(n.notification(m.From))
		}
		e.recv[m.From] = b
		n.checkElection()
		return
	}
	// The sender follows or leads.
	if m.Round == e.round {
		e.recv[m.From] = b
		if n.agreeing(e.recv, m.Vote, true) >= n.quorum() && n.leaderConfirmed(e.recv, m.Vote.Leader, m.Round) {
			n.decide(m.Vote)
			return
		}
	}
	e.out[m.From] = b
	if n.agreeing(e.out, m.Vote, true) >= n.quorum() && n.leaderConfirmed(e.out, m.Vote.Leader, m.Round) {
		e.round = m.Round
		n.decide(m.Vote)
	}
}

// checkElection starts the finalize wait (or decides) once a quorum of
// voters agrees with this server's vote. It decides at once when every
// voter not known to be down agrees: no better vote can come then (and if
// a peer thought down does have one, that costs one more election).
func (n *Node) checkElection() {
	e := &n.elect
	if n.status.Role != Looking || n.agreeing(e.recv, e.vote, false) < n.quorum() {
		return
	}
	if n.cfg.FinalizeTicks == 0 || n.allUpAgree() {
		n.decide(e.vote)
		return
	}
	if e.finalizeAt < 0 {
		e.finalizeAt = n.now + int64(n.cfg.FinalizeTicks)
	}
}

// allUpAgree reports whether every voter not known to be down has a ballot
// in this round that matches this server's vote.
func (n *Node) allUpAgree() bool {
	e := &n.elect
	for _, v := range n.members.Voters {
		if v == n.id || n.down[v] {
			continue
		}
		b, ok := e.recv[v]
		if !ok || (b.vote != e.vote && (b.state == Looking || b.vote.Leader != e.vote.Leader || b.vote.Epoch != e.vote.Epoch)) {
			return false
		}
	}
	return true
}

// announceLeader tells every other server that this one now leads.
func (n *Node) announceLeader() {
	for _, ids := range [][]int64{n.members.Voters, n.members.Observers} {
		for _, id := range ids {
			if id != n.id {
				n.send(n.notification(id))
			}
		}
	}
}

// agreeing counts the voters whose ballot matches v. Ballots of servers out
// of election match on leader and epoch only: their zxids can differ.
func (n *Node) agreeing(ballots map[int64]ballot, v Vote, outOfElection bool) int {
	c := 0
	for id, b := range ballots {
		if !n.voters[id] {
			continue
		}
		if b.vote == v || ((outOfElection || b.state != Looking) && b.vote.Leader == v.Leader && b.vote.Epoch == v.Epoch) {
			c++
		}
	}
	return c
}

// leaderConfirmed: a leader other than this server must itself have said
// it leads; this server may lead only a quorum formed in its own round.
func (n *Node) leaderConfirmed(ballots map[int64]ballot, leader, round int64) bool {
	if leader != n.id {
		b, ok := ballots[leader]
		return ok && b.state == Leading
	}
	return n.elect.round == round
}

// decide ends the election with v.
func (n *Node) decide(v Vote) {
	n.elect.vote = v
	n.elect.finalizeAt = -1
	switch {
	case v.Leader == n.id && n.votes():
		n.becomeLeader()
	case v.Leader == n.id || v.Leader < 0:
		// An observer cannot lead; keep looking.
		n.elect.vote = n.selfVote()
	default:
		n.becomeLearner(v.Leader)
	}
}
