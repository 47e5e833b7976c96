package zab

// How the leader brings a learner's log in line with its own history.
//
// Every epoch's transactions come from that epoch's one leader in counter
// order, and a server logs an epoch's transactions only after syncing with
// its leader. So two logs that both hold a zxid agree on everything up to
// it, and two logs that both hold transactions of epoch e agree up to the
// smaller of their last transactions of e. The leader uses this to find
// where a learner's log leaves its history from the learner's last zxid
// alone:
//
//   - the leader holds it: DIFF, then the entries after it;
//   - the leader's last entry below it is of the same epoch: TRUNC to that
//     entry, then the entries after it;
//   - the leader holds nothing of that epoch below it: TRUNC with Probe to
//     the leader's last entry below it (everything the learner has above is
//     foreign); the learner reports its new last zxid and the leader plans
//     again;
//   - it is below the oldest entry the leader's log still has: SNAP, a
//     snapshot of the leader's tree, then the entries after it. The
//     learner's whole log is older than the snapshot, so nothing it held
//     is dropped without being replaced.

type syncKind int8

const (
	syncDiff syncKind = iota
	syncTrunc
	syncProbe
	syncSnap
)

// syncPlan decides how to sync a learner whose last zxid is peerLast.
func (n *Node) syncPlan(peerLast int64) (syncKind, int64, error) {
	h := &n.log
	switch {
	case peerLast == h.last || peerLast == h.base:
		return syncDiff, peerLast, nil
	case peerLast < h.base:
		return syncSnap, 0, nil
	}
	f, err := h.floor(peerLast)
	switch {
	case err != nil:
		return 0, 0, err
	case f == peerLast:
		return syncDiff, f, nil
	case EpochOf(f) == EpochOf(peerLast):
		return syncTrunc, f, nil
	}
	return syncProbe, f, nil
}

// syncLearner starts syncing a learner that acknowledged the epoch.
func (n *Node) syncLearner(li *learnerInfo) {
	kind, z, err := n.syncPlan(li.lastZxid)
	if err != nil {
		n.fail(err)
		return
	}
	switch kind {
	case syncProbe:
		li.phase = lpProbe
		n.sendTo(li, Message{Type: MsgTrunc, Zxid: z, Probe: true})
	case syncSnap:
		li.phase = lpSnap
		n.needSnapshot = true
	case syncDiff:
		n.sendTo(li, Message{Type: MsgDiff, Zxid: z})
		n.noteSync(li, "DIFF", z, n.sendHistory(li, z))
	case syncTrunc:
		n.sendTo(li, Message{Type: MsgTrunc, Zxid: z})
		n.noteSync(li, "TRUNC", z, n.sendHistory(li, z))
	}
}

// LearnerSync describes how the leader synced a learner, for the log.
type LearnerSync struct {
	Learner int64
	// Mode is DIFF, TRUNC or SNAP, as Apache ZooKeeper names them.
	Mode string
	// PeerLast is the learner's last zxid; From is where the leader's
	// history starts for it (the TRUNC point, the snapshot's zxid).
	PeerLast, From int64
	// Entries is how many log entries were sent after it.
	Entries int
}

func (n *Node) noteSync(li *learnerInfo, mode string, from int64, entries int) {
	n.syncs = append(n.syncs, LearnerSync{Learner: li.id, Mode: mode, PeerLast: li.lastZxid, From: from, Entries: entries})
}

// sendHistory sends the entries after after, then NEWLEADER; it returns how
// many entries it sent.
func (n *Node) sendHistory(li *learnerInfo, after int64) int {
	sent := 0
	for after < n.log.last {
		es, err := n.log.entries(after, n.log.last, n.cfg.MaxEntriesPerMsg)
		if err != nil {
			n.fail(err)
			return sent
		}
		n.sendTo(li, Message{Type: MsgProposal, Entries: es})
		after = es[len(es)-1].Zxid
		sent += len(es)
	}
	li.sent = n.log.last
	li.phase = lpSynced
	n.sendTo(li, Message{Type: MsgNewLeader, Zxid: n.log.last})
	return sent
}

// leaderSnapshot sends the driver's snapshot to the learners waiting for
// one.
func (n *Node) leaderSnapshot(zxid int64, data []byte) {
	ld := n.lead
	if zxid < n.log.base || zxid > n.applied {
		return // not a snapshot of this history's applied state
	}
	for _, id := range ld.learnerIDs() {
		li := ld.learners[id]
		if li.phase != lpSnap {
			continue
		}
		if li.lastZxid >= zxid {
			n.syncLearner(li)
			continue
		}
		m := n.membershipAt(zxid)
		n.sendTo(li, Message{Type: MsgSnap, Zxid: zxid, Data: data, Members: &m})
		n.noteSync(li, "SNAP", zxid, n.sendHistory(li, zxid))
	}
}
