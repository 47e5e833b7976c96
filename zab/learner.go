package zab

// learnerStage is where a follower or observer is with its leader.
type learnerStage int8

const (
	lsInfo      learnerStage = iota // FOLLOWERINFO sent
	lsEpoch                         // epoch accepted, ACKEPOCH sent
	lsSync                          // receiving the history
	lsNewLeader                     // NEWLEADER received; making the history durable
	lsBroadcast                     // NEWLEADER acknowledged
)

// learnerState is the state of a FOLLOWING or OBSERVING server.
type learnerState struct {
	leader    int64
	session   uint64
	stage     learnerStage
	epoch     int64
	newLeader int64   // NEWLEADER's zxid
	lastHeard int64   // tick of the last message from the leader
	acked     int64   // highest zxid acknowledged
	held      []Entry // entries received before currentEpoch is stored
	seq       uint64  // Seq of the last message from the leader
	upToDate  bool
	infoSent  int64 // tick FOLLOWERINFO was last sent
	// replies are the leader's answers (MsgReply) not yet handed out, in
	// arrival order: each waits until the commit point it carries is
	// applied.
	replies []pendingReply
}

// pendingReply is an answer from the leader and its commit point then.
type pendingReply struct {
	commit int64
	data   []byte
}

// becomeLearner connects to the elected leader.
func (n *Node) becomeLearner(leader int64) {
	n.lead = nil
	n.learn = &learnerState{leader: leader, session: n.cfg.Rand.Uint64(), lastHeard: n.now}
	role := Following
	if n.learner[n.id] {
		role = Observing // a server in no membership follows without a vote
	}
	n.status = Status{Role: role, Leader: leader}
	n.sendFollowerInfo()
}

// sendFollowerInfo (re)opens the session with the leader. It is resent
// until the leader answers: the leader drops it while it is still deciding
// the election (it may decide later than its followers) or if it was lost.
func (n *Node) sendFollowerInfo() {
	n.learn.infoSent = n.now
	n.learnerSend(Message{Type: MsgFollowerInfo, Epoch: n.hs.AcceptedEpoch, Zxid: n.log.last, Observer: n.learner[n.id],
		Repairing: n.hs.Repairing})
}

func (n *Node) learnerSend(m Message) {
	ls := n.learn
	m.To, m.Session = ls.leader, ls.session
	if m.Type != MsgFollowerInfo && m.Type != MsgAckEpoch {
		m.Epoch = ls.epoch
	}
	n.send(m)
}

func (n *Node) learnerTick() {
	ls := n.learn
	limit := int64(n.cfg.InitLimit)
	if ls.upToDate {
		limit = int64(n.cfg.SyncLimit)
	}
	if n.now-ls.lastHeard > limit {
		n.becomeLooking()
		return
	}
	if ls.stage == lsInfo && n.now-ls.infoSent >= int64(n.cfg.ElectionTicks) {
		n.sendFollowerInfo()
	}
}

// abandon gives up on the leader after a message that does not fit.
func (n *Node) abandon() { n.becomeLooking() }

func (n *Node) learnerStep(m Message) {
	ls := n.learn
	if m.From != ls.leader || m.Session != ls.session {
		return
	}
	if m.Type != MsgLeaderInfo && m.Epoch != ls.epoch {
		return
	}
	switch {
	case m.Seq <= ls.seq:
		return // duplicate
	case m.Seq > ls.seq+1:
		n.abandon() // lost messages
		return
	}
	ls.seq = m.Seq
	ls.lastHeard = n.now
	switch m.Type {
	case MsgLeaderInfo:
		n.learnerLeaderInfo(m)
	case MsgDiff, MsgTrunc, MsgSnap:
		if ls.stage != lsEpoch {
			n.abandon()
			return
		}
		switch m.Type {
		case MsgDiff:
			if m.Zxid != n.log.last {
				n.abandon()
				return
			}
		case MsgTrunc:
			if !n.truncate(m.Zxid) {
				return
			}
			if m.Probe {
				n.learnerSend(Message{Type: MsgAckEpoch, Epoch: n.hs.CurrentEpoch, Zxid: n.log.last})
				return
			}
			if n.log.last != m.Zxid {
				n.abandon()
				return
			}
		case MsgSnap:
			if !n.installSnapshot(m.Zxid, m.Data, m.Members) {
				return
			}
		}
		ls.stage = lsSync
	case MsgProposal, MsgInform:
		n.learnerEntries(m.Entries)
		if m.Type == MsgInform {
			n.learnerCommit(m.Commit)
		}
	case MsgNewLeader:
		if ls.stage != lsSync || m.Zxid != n.log.last {
			n.abandon()
			return
		}
		ls.stage = lsNewLeader
		ls.newLeader = m.Zxid
		n.learnerPersisted()
	case MsgUpToDate:
		if ls.stage != lsBroadcast {
			n.abandon()
			return
		}
		ls.upToDate = true
		n.status.Serving = true
		n.learnerCommit(m.Commit)
	case MsgCommit:
		n.learnerCommit(m.Commit)
	case MsgPing:
		n.learnerCommit(m.Commit)
		n.learnerSend(Message{Type: MsgPingReply})
	case MsgReply:
		n.learnerCommit(m.Commit)
		ls.replies = append(ls.replies, pendingReply{commit: m.Commit, data: m.Data})
	}
}

// replyDue reports whether the oldest pending reply can be handed out once
// the committed entries are applied.
func (n *Node) replyDue() bool {
	return n.learn != nil && len(n.learn.replies) > 0 && n.learn.replies[0].commit <= min(n.committed, n.log.last)
}

// takeReplies returns the pending replies whose commit point is applied.
func (n *Node) takeReplies() [][]byte {
	if n.learn == nil {
		return nil
	}
	var out [][]byte
	ls := n.learn
	for len(ls.replies) > 0 && ls.replies[0].commit <= n.applied {
		out = append(out, ls.replies[0].data)
		ls.replies = ls.replies[1:]
	}
	return out
}

// learnerLeaderInfo accepts the leader's new epoch if it may. Two leaders
// can pick the same epoch; a server acknowledges an epoch only to the first
// leader that proposed it, so at most one of them gathers a quorum. The
// exception is a leader already established in that epoch: its quorum
// never acknowledged the other leader, which therefore never will have
// one, so joining it is safe (and a server that restarts, or acknowledged
// a leader that failed, can still join the running ensemble).
func (n *Node) learnerLeaderInfo(m Message) {
	ls := n.learn
	if ls.stage != lsInfo {
		return
	}
	e := m.Epoch
	switch {
	case !n.voter:
		// An observer's promises count for nothing: it follows any leader.
		if e > n.hs.AcceptedEpoch {
			n.setHardState(HardState{AcceptedEpoch: e, AcceptedLeader: ls.leader, CurrentEpoch: n.hs.CurrentEpoch})
		}
	case e < n.hs.AcceptedEpoch || (e == n.hs.AcceptedEpoch && n.hs.AcceptedLeader != ls.leader && !m.Established):
		n.abandon()
		return
	default:
		n.setHardState(HardState{AcceptedEpoch: e, AcceptedLeader: ls.leader, CurrentEpoch: n.hs.CurrentEpoch})
	}
	ls.epoch = e
	ls.stage = lsEpoch
	n.status.Epoch = e
	n.elect.vote.Epoch = e
	n.learnerSend(Message{Type: MsgAckEpoch, Epoch: n.hs.CurrentEpoch, Zxid: n.log.last})
}

// learnerEntries logs entries from the leader: history during sync, then
// the epoch's proposals in counter order. A gap means messages were lost:
// the learner starts over.
func (n *Node) learnerEntries(es []Entry) {
	ls := n.learn
	switch ls.stage {
	case lsSync:
		prev := n.log.last
		for _, e := range es {
			if e.Zxid <= prev || EpochOf(e.Zxid) > ls.epoch {
				n.abandon()
				return
			}
			prev = e.Zxid
		}
		n.appendEntries(es)
	case lsNewLeader, lsBroadcast:
		last := n.log.last
		if len(ls.held) > 0 {
			last = ls.held[len(ls.held)-1].Zxid
		}
		start := len(es)
		for i, e := range es {
			if e.Zxid <= last {
				continue // duplicate
			}
			want := MakeZxid(ls.epoch, 1)
			if EpochOf(last) == ls.epoch {
				want = last + 1
			}
			if e.Zxid != want {
				n.abandon()
				return
			}
			if start == len(es) {
				start = i
			}
			last = e.Zxid
		}
		es = es[start:]
		if ls.stage == lsNewLeader {
			ls.held = append(ls.held, es...)
		} else {
			n.appendEntries(es)
		}
	default:
		n.abandon()
	}
}

// learnerCommit records the leader's commit point.
func (n *Node) learnerCommit(c int64) {
	if n.learn.stage >= lsNewLeader && c > n.committed {
		n.committed = c
	}
}

// learnerPersisted acknowledges what became durable: NEWLEADER once the
// synced history is, then proposals.
func (n *Node) learnerPersisted() {
	ls := n.learn
	switch ls.stage {
	case lsNewLeader:
		if n.log.persisted < ls.newLeader {
			return
		}
		// The leader's history is durable here now: a log under repair
		// is whole again.
		n.storeHardState(HardState{AcceptedEpoch: n.hs.AcceptedEpoch, AcceptedLeader: n.hs.AcceptedLeader,
			CurrentEpoch: max(n.hs.CurrentEpoch, ls.epoch)}) // an observer may follow an older epoch
		ls.stage = lsBroadcast
		ls.acked = n.log.persisted
		n.learnerSend(Message{Type: MsgAckNewLeader, Zxid: n.log.persisted})
		held := ls.held
		ls.held = nil
		n.appendEntries(held)
	case lsBroadcast:
		if !n.learner[n.id] && n.log.persisted > ls.acked {
			ls.acked = n.log.persisted
			n.learnerSend(Message{Type: MsgAck, Zxid: ls.acked})
		}
	}
}

// Forward sends a request to the leader (learners only, once synced): a
// write, or a question its driver answers with Reply (see Ready.Replies).
func (n *Node) Forward(data []byte) error {
	if n.fatal != nil {
		return ErrFailed
	}
	if n.learn == nil || !n.learn.upToDate {
		return ErrNotSynced
	}
	n.learnerSend(Message{Type: MsgRequest, Data: data})
	return nil
}
