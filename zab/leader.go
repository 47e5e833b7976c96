package zab

import (
	"slices"
)

// leaderPhase is where an elected leader is in establishing its epoch.
type leaderPhase int8

const (
	// leaderDiscovery: collecting FOLLOWERINFO from a quorum to pick the
	// new epoch (one more than every acceptedEpoch heard).
	leaderDiscovery leaderPhase = iota
	// leaderEpochAck: the epoch is picked and durable; collecting ACKEPOCH
	// from a quorum, giving up if a follower is ahead of this server.
	leaderEpochAck
	// leaderSync: syncing learners; waiting for a quorum of
	// ACK(NEWLEADER).
	leaderSync
	// leaderBroadcast: established; proposing and committing.
	leaderBroadcast
)

// learnerPhase is where the leader is with one learner.
type learnerPhase int8

const (
	lpInfo   learnerPhase = iota // FOLLOWERINFO received, epoch not yet picked
	lpEpoch                      // LEADERINFO sent
	lpAcked                      // ACKEPOCH received, waiting for a quorum of them
	lpProbe                      // probe TRUNC sent; waiting for the new last zxid
	lpSnap                       // waiting for the driver's snapshot
	lpSynced                     // history and NEWLEADER sent
	lpActive                     // NEWLEADER acknowledged
)

// learnerInfo is the leader's view of one learner's session.
type learnerInfo struct {
	id        int64
	session   uint64
	observer  bool
	repairing bool // its log is under repair (FOLLOWERINFO's Repairing)
	phase     learnerPhase
	lastZxid  int64 // from ACKEPOCH
	ack       int64 // highest zxid acknowledged (followers)
	sent      int64 // last zxid sent
	seq       uint64
	lastHeard int64
	upToDate  bool
}

// leaderState is the state of a LEADING server.
type leaderState struct {
	phase      leaderPhase
	epoch      int64
	start      int64 // tick the current phase began
	infoFrom   map[int64]bool
	ackFrom    map[int64]bool
	historyEnd int64 // last zxid when the epoch was acknowledged
	selfAcked  bool  // own history durable and currentEpoch stored
	learners   map[int64]*learnerInfo
	ids        []int64 // keys of learners, sorted
	acks       []int64 // scratch for advanceCommit
}

// becomeLeader starts discovery as the elected leader.
func (n *Node) becomeLeader() {
	n.learn = nil
	n.lead = &leaderState{
		phase:    leaderDiscovery,
		epoch:    n.hs.AcceptedEpoch + 1,
		start:    n.now,
		infoFrom: map[int64]bool{n.id: true},
		ackFrom:  map[int64]bool{},
		learners: map[int64]*learnerInfo{},
	}
	n.status = Status{Role: Leading, Leader: n.id}
	n.announceLeader()
	n.checkEpochQuorum()
}

// learnerIDs lists the leader's learners in id order (map order is random
// and the node must be deterministic). The caller must not keep it across
// changes to the set.
func (l *leaderState) learnerIDs() []int64 { return l.ids }

// addLearner records a learner session, replacing an older one.
func (l *leaderState) addLearner(li *learnerInfo) {
	if _, ok := l.learners[li.id]; !ok {
		i, _ := slices.BinarySearch(l.ids, li.id)
		l.ids = slices.Insert(l.ids, i, li.id)
	}
	l.learners[li.id] = li
}

// removeLearner forgets a learner.
func (l *leaderState) removeLearner(id int64) {
	delete(l.learners, id)
	if i, ok := slices.BinarySearch(l.ids, id); ok {
		l.ids = slices.Delete(l.ids, i, i+1)
	}
}

// sendTo queues a message of the learner's session.
func (n *Node) sendTo(li *learnerInfo, m Message) {
	m.To, m.Session, m.Epoch, m.Seq = li.id, li.session, n.lead.epoch, li.seq+1
	if !n.send(m) {
		li.seq++
	}
}

func (n *Node) leaderStep(m Message) {
	ld := n.lead
	if m.Type == MsgFollowerInfo {
		n.leaderFollowerInfo(m)
		return
	}
	li := ld.learners[m.From]
	if li == nil || li.session != m.Session {
		return
	}
	li.lastHeard = n.now
	switch m.Type {
	case MsgAckEpoch:
		n.leaderAckEpoch(li, m)
	case MsgAckNewLeader:
		if li.phase != lpSynced || m.Epoch != ld.epoch {
			return
		}
		li.phase = lpActive
		li.ack = min(m.Zxid, li.sent)
		if ld.phase == leaderBroadcast {
			n.sendUpToDate(li)
			n.advanceCommit()
		} else {
			n.checkEstablished()
		}
	case MsgAck:
		if li.phase != lpActive || li.observer || m.Epoch != ld.epoch {
			return
		}
		if z := min(m.Zxid, li.sent); z > li.ack {
			li.ack = z
			n.advanceCommit()
		}
	case MsgRequest:
		if li.phase >= lpSynced {
			n.requests = append(n.requests, Request{From: li.id, Data: m.Data, session: li.session})
		}
	}
}

// Reply answers a request that learner to forwarded (Ready.Requests): the
// learner hands data out in its Ready.Replies once it has applied every
// txn committed so far, so its answer reflects at least this server's
// view. A reply to a learner that is no longer synced is dropped (the
// learner starts over with a new session, and forgets what it asked).
func (n *Node) Reply(to int64, data []byte) error {
	if n.fatal != nil {
		return ErrFailed
	}
	if n.lead == nil || n.lead.phase != leaderBroadcast {
		return ErrNotLeader
	}
	li := n.lead.learners[to]
	if li == nil || li.phase != lpActive {
		return ErrNotSynced
	}
	n.sendTo(li, Message{Type: MsgReply, Commit: n.committed, Data: data})
	return nil
}

// leaderFollowerInfo opens (or reopens) a learner's session.
func (n *Node) leaderFollowerInfo(m Message) {
	ld := n.lead
	if old := ld.learners[m.From]; old != nil && old.session == m.Session {
		return // duplicate
	}
	// Whether the learner observes is this server's view: with dynamic
	// membership the learner's own may be older (it learns the change
	// during sync and then reconnects).
	observer := n.learner[m.From]
	li := &learnerInfo{id: m.From, session: m.Session, observer: observer, repairing: m.Repairing, lastHeard: n.now}
	ld.addLearner(li)
	if ld.phase == leaderDiscovery {
		if !observer && !m.Observer {
			if m.Epoch >= ld.epoch {
				ld.epoch = m.Epoch + 1
			}
			// A server under repair may have lost its promises (its
			// stored epochs): it does not count toward the quorum that
			// fixes the epoch, so no epoch is promised twice.
			if !m.Repairing {
				ld.infoFrom[m.From] = true
			}
		}
		n.checkEpochQuorum()
		return
	}
	if !observer && !m.Observer && n.voters[m.From] && m.Epoch > ld.epoch {
		// The voter promised a newer epoch to a leader that failed, and
		// will not follow this one: start over with a newer epoch rather
		// than leave it out for as long as this server leads.
		n.becomeLooking()
		return
	}
	li.phase = lpEpoch
	n.sendTo(li, Message{Type: MsgLeaderInfo, Established: ld.phase == leaderBroadcast})
}

// checkEpochQuorum fixes the epoch once a quorum of voters reported theirs.
func (n *Node) checkEpochQuorum() {
	ld := n.lead
	if ld.phase != leaderDiscovery || !n.jointQuorum(func(id int64) bool { return ld.infoFrom[id] }) {
		return
	}
	ld.phase = leaderEpochAck
	ld.start = n.now
	n.setHardState(HardState{AcceptedEpoch: ld.epoch, AcceptedLeader: n.id, CurrentEpoch: n.hs.CurrentEpoch})
	n.status.Epoch = ld.epoch
	n.elect.vote.Epoch = ld.epoch
	ld.ackFrom[n.id] = true
	for _, id := range ld.learnerIDs() {
		li := ld.learners[id]
		li.phase = lpEpoch
		n.sendTo(li, Message{Type: MsgLeaderInfo})
	}
	n.checkEpochAcks()
}

// leaderAckEpoch handles a learner's acceptance of the epoch (or its new
// last zxid after a probe truncation).
func (n *Node) leaderAckEpoch(li *learnerInfo, m Message) {
	ld := n.lead
	if li.phase != lpEpoch && li.phase != lpProbe {
		return
	}
	li.lastZxid = m.Zxid
	if ld.phase == leaderEpochAck && li.phase == lpEpoch && !li.observer && !li.repairing {
		// Only a voter's history can hold committed entries this server
		// lacks: every commit needs a quorum of the active voters, and
		// this server's election quorum of them had nothing newer. Other
		// followers' extra entries (even a pending membership's voters')
		// are dropped, and so are those of a follower whose log is under
		// repair: it took no part in the election, which a quorum of
		// whole logs decided, and its damaged history proves nothing (nor
		// does its acknowledgement count: it may have lost its promises).
		if n.voters[li.id] && (m.Epoch > n.hs.CurrentEpoch || (m.Epoch == n.hs.CurrentEpoch && m.Zxid > n.log.last)) {
			// A follower has a newer history: this server must not lead.
			n.becomeLooking()
			return
		}
		ld.ackFrom[li.id] = true
	}
	if ld.phase < leaderSync {
		li.phase = lpAcked
		n.checkEpochAcks()
		return
	}
	n.syncLearner(li)
}

// checkEpochAcks starts syncing once a quorum acknowledged the epoch.
func (n *Node) checkEpochAcks() {
	ld := n.lead
	if ld.phase != leaderEpochAck || !n.jointQuorum(func(id int64) bool { return ld.ackFrom[id] }) {
		return
	}
	ld.phase = leaderSync
	ld.start = n.now
	ld.historyEnd = n.log.last
	n.leaderPersisted()
	for _, id := range ld.learnerIDs() {
		if li := ld.learners[id]; li.phase == lpAcked {
			n.syncLearner(li)
		}
	}
	n.checkEstablished()
}

// leaderPersisted reacts to the leader's own log becoming durable.
func (n *Node) leaderPersisted() {
	ld := n.lead
	switch ld.phase {
	case leaderSync:
		if !ld.selfAcked && n.log.persisted >= ld.historyEnd {
			n.setHardState(HardState{AcceptedEpoch: n.hs.AcceptedEpoch, AcceptedLeader: n.hs.AcceptedLeader, CurrentEpoch: ld.epoch})
			ld.selfAcked = true
			n.checkEstablished()
		}
	case leaderBroadcast:
		n.advanceCommit()
	}
}

// checkEstablished ends the sync phase once a quorum (this server included)
// holds the history and the new epoch durably: all of it is committed.
func (n *Node) checkEstablished() {
	ld := n.lead
	if ld.phase != leaderSync || !ld.selfAcked {
		return
	}
	if !n.jointQuorum(n.syncedFollower) {
		return
	}
	ld.phase = leaderBroadcast
	n.committed = max(n.committed, ld.historyEnd)
	n.status.Serving = true
	for _, id := range ld.learnerIDs() {
		if li := ld.learners[id]; li.phase == lpActive {
			n.sendUpToDate(li)
		}
	}
	n.advanceCommit()
}

func (n *Node) sendUpToDate(li *learnerInfo) {
	li.upToDate = true
	n.sendTo(li, Message{Type: MsgUpToDate, Commit: min(n.committed, li.sent)})
}

// syncedFollower reports whether id is this leader or a follower that
// acknowledged NEWLEADER.
func (n *Node) syncedFollower(id int64) bool {
	if id == n.id {
		return true
	}
	li := n.lead.learners[id]
	return li != nil && li.phase == lpActive && !li.observer
}

// quorumAcked returns the highest zxid a quorum of m's voters has logged
// durably (-1 if no quorum of them is synced).
func (n *Node) quorumAcked(m *Membership) int64 {
	ld := n.lead
	acks := ld.acks[:0]
	for _, v := range m.Voters {
		switch li := ld.learners[v]; {
		case v == n.id:
			acks = append(acks, n.log.persisted)
		case li != nil && li.phase == lpActive && !li.observer:
			acks = append(acks, li.ack)
		}
	}
	ld.acks = acks
	if len(acks) < m.quorum() {
		return -1
	}
	slices.Sort(acks)
	return acks[len(acks)-m.quorum()]
}

// advanceCommit commits the highest zxid a quorum has logged durably:
// entries from a pending membership change on need a quorum of its voters
// too.
func (n *Node) advanceCommit() {
	ld := n.lead
	if ld.phase != leaderBroadcast {
		return
	}
	q := n.quorumAcked(&n.members)
	for i := range n.pending {
		p := &n.pending[i]
		if q < p.Version {
			break
		}
		if qp := n.quorumAcked(p); qp >= p.Version {
			q = min(q, qp)
			continue
		}
		// Only the entries before the change are committed.
		f, err := n.log.floor(p.Version - 1)
		if err != nil {
			n.fail(err)
			return
		}
		q = f
		break
	}
	if q <= n.committed {
		return
	}
	n.committed = q
	n.broadcastCommit()
}

// broadcastCommit tells the learners about the new commit point: COMMIT to
// followers, INFORM (with the entries) to observers.
func (n *Node) broadcastCommit() {
	ld := n.lead
	for _, id := range ld.learnerIDs() {
		li := ld.learners[id]
		if li.phase < lpSynced {
			continue
		}
		if !li.observer {
			n.sendTo(li, Message{Type: MsgCommit, Commit: n.committed})
			continue
		}
		for li.sent < n.committed {
			es, err := n.log.entries(li.sent, n.committed, n.cfg.MaxEntriesPerMsg)
			if err != nil {
				n.fail(err)
				return
			}
			li.sent = es[len(es)-1].Zxid
			n.sendTo(li, Message{Type: MsgInform, Entries: es, Commit: li.sent})
		}
	}
}

// Propose appends data as the next transaction of the leader's epoch and
// sends it to the followers. It returns the transaction's zxid.
func (n *Node) Propose(data []byte) (int64, error) {
	if n.fatal != nil {
		return 0, ErrFailed
	}
	ld := n.lead
	if ld == nil || ld.phase != leaderBroadcast {
		return 0, ErrNotLeader
	}
	z, err := n.nextZxid(ld.epoch)
	if err != nil {
		n.becomeLooking()
		return 0, err
	}
	e := Entry{Zxid: z, Data: data}
	n.appendEntries([]Entry{e})
	for _, id := range ld.learnerIDs() {
		li := ld.learners[id]
		if li.phase >= lpSynced && !li.observer {
			li.sent = z
			n.sendTo(li, Message{Type: MsgProposal, Entries: []Entry{e}})
		}
	}
	return z, nil
}

// NextZxid returns the zxid the next Propose will assign, so that the
// driver can stamp it into the transaction first.
func (n *Node) NextZxid() (int64, error) {
	if n.fatal != nil {
		return 0, ErrFailed
	}
	if n.lead == nil || n.lead.phase != leaderBroadcast {
		return 0, ErrNotLeader
	}
	return n.nextZxid(n.lead.epoch)
}

func (n *Node) leaderTick() {
	ld := n.lead
	if ld.phase != leaderBroadcast {
		if n.now-ld.start > int64(n.cfg.InitLimit) {
			n.becomeLooking()
		}
		return
	}
	for _, id := range slices.Clone(ld.learnerIDs()) {
		li := ld.learners[id]
		limit := int64(n.cfg.SyncLimit)
		if li.phase < lpActive {
			limit = int64(n.cfg.InitLimit)
		}
		if n.now-li.lastHeard > limit {
			ld.removeLearner(id)
			continue
		}
		if li.phase >= lpSynced {
			n.sendTo(li, Message{Type: MsgPing, Commit: min(n.committed, li.sent)})
		}
	}
	if !n.hasLiveQuorum() {
		n.becomeLooking()
	}
}

// hasLiveQuorum reports whether the leader's synced followers (and itself)
// still make a quorum of the active and every pending membership.
func (n *Node) hasLiveQuorum() bool { return n.jointQuorum(n.syncedFollower) }

// leaderDisconnected forgets a learner whose connection was lost; an
// established leader left without a quorum of synced followers steps down.
// Before it is established the leader goes on: the learner may come back
// with a new session, and initLimit bounds the wait.
func (n *Node) leaderDisconnected(id int64) {
	ld := n.lead
	if ld.learners[id] == nil {
		return
	}
	ld.removeLearner(id)
	if ld.phase != leaderBroadcast {
		return
	}
	if !n.hasLiveQuorum() {
		n.becomeLooking()
	}
}

// LearnerStats counts a leader's learners, for monitoring.
type LearnerStats struct {
	// Learners is every learner with an open session.
	Learners int
	// SyncedFollowers are the voters that acknowledged NEWLEADER.
	SyncedFollowers int
	// SyncedNonVoting are the followers that acknowledged NEWLEADER but
	// are not voters of the active membership (servers being added, or
	// removed ones still connected).
	SyncedNonVoting int
	// SyncedObservers are the observers that did.
	SyncedObservers int
}

// LearnerStats returns the leader's learner counts (zero unless leading).
func (n *Node) LearnerStats() LearnerStats {
	var st LearnerStats
	if n.lead == nil {
		return st
	}
	st.Learners = len(n.lead.learners)
	for _, li := range n.lead.learners {
		switch {
		case li.phase != lpActive:
		case li.observer:
			st.SyncedObservers++
		case !n.voters[li.id]:
			st.SyncedNonVoting++
		default:
			st.SyncedFollowers++
		}
	}
	return st
}
