package zab

import "fmt"

// MsgType names a peer-to-peer message.
type MsgType uint8

// Message types. Election notifications travel between every pair of
// servers; the rest travel between a leader and its learners (followers and
// observers) and carry the learner's session.
const (
	// MsgVote is a fast leader election notification: Vote, Round (the
	// sender's logical clock) and State (the sender's role).
	MsgVote MsgType = iota + 1
	// MsgFollowerInfo opens a learner session: Epoch is the learner's
	// acceptedEpoch, Zxid its last zxid, Observer whether it only observes.
	MsgFollowerInfo
	// MsgLeaderInfo proposes the new epoch (Epoch) to a learner;
	// Established says the leader already has a quorum for it.
	MsgLeaderInfo
	// MsgAckEpoch accepts the new epoch: Epoch is the learner's currentEpoch
	// and Zxid its last zxid.
	MsgAckEpoch
	// MsgDiff starts a sync that appends the leader's entries after Zxid.
	MsgDiff
	// MsgTrunc starts a sync that first drops the learner's entries after
	// Zxid. With Probe set the learner truncates and reports its new last
	// zxid in a new MsgAckEpoch instead of expecting entries.
	MsgTrunc
	// MsgSnap starts a sync that replaces the learner's state with the
	// snapshot in Data, taken at Zxid.
	MsgSnap
	// MsgProposal carries Entries, in zxid order, to be logged.
	MsgProposal
	// MsgNewLeader ends the sync: Epoch is the new epoch and Zxid the last
	// zxid the learner must now hold.
	MsgNewLeader
	// MsgAckNewLeader: the learner holds the synced history durably and has
	// made Epoch its currentEpoch.
	MsgAckNewLeader
	// MsgUpToDate: the leader is established; Commit is its commit point.
	MsgUpToDate
	// MsgAck: the follower has logged durably every entry up to Zxid.
	MsgAck
	// MsgCommit: every entry up to Commit is committed.
	MsgCommit
	// MsgInform carries committed Entries to an observer, with Commit.
	MsgInform
	// MsgPing is the leader's heartbeat, with its commit point in Commit.
	MsgPing
	// MsgPingReply is the learner's answer to MsgPing.
	MsgPingReply
	// MsgRequest carries a request (Data) from a learner to the leader: a
	// write, or a question for the leader's driver.
	MsgRequest
	// MsgReply carries the leader driver's answer (Data) to a learner's
	// request; Commit is the leader's commit point when it answered.
	MsgReply
	msgTypeEnd
)

var msgTypeNames = [...]string{
	MsgVote: "VOTE", MsgFollowerInfo: "FOLLOWERINFO", MsgLeaderInfo: "LEADERINFO",
	MsgAckEpoch: "ACKEPOCH", MsgDiff: "DIFF", MsgTrunc: "TRUNC", MsgSnap: "SNAP",
	MsgProposal: "PROPOSAL", MsgNewLeader: "NEWLEADER", MsgAckNewLeader: "ACK(NEWLEADER)",
	MsgUpToDate: "UPTODATE", MsgAck: "ACK", MsgCommit: "COMMIT", MsgInform: "INFORM",
	MsgPing: "PING", MsgPingReply: "PINGREPLY", MsgRequest: "REQUEST",
	MsgReply: "REPLY",
}

func (t MsgType) String() string {
	if t > 0 && t < msgTypeEnd {
		return msgTypeNames[t]
	}
	return fmt.Sprintf("MsgType(%d)", uint8(t))
}

// Message is one peer-to-peer message. Which fields are meaningful depends on
// Type (see the MsgType constants); the others are zero.
type Message struct {
	Type MsgType
	From int64
	To   int64

	// Election.
	Vote  Vote
	Round int64
	State Role

	// Learner sessions.
	Session uint64
	// Seq numbers the leader's messages within a session, from 1: a
	// learner drops duplicates and gives up on a gap, so the protocol needs
	// no more of the transport than to deliver some messages, in any order.
	Seq      uint64
	Epoch    int64
	Zxid     int64
	Commit   int64
	Observer bool
	// Repairing marks a FOLLOWERINFO from a server whose log is under
	// repair (HardState.Repairing): its history is no evidence of what
	// was committed.
	Repairing bool
	Probe     bool
	// Established marks a LEADERINFO from a leader already established.
	Established bool
	Entries     []Entry
	Data        []byte
	// Members is the sender's active membership (VOTE), or the one of the
	// snapshot (SNAP).
	Members *Membership
}

func (m Message) String() string {
	s := fmt.Sprintf("%v %d->%d", m.Type, m.From, m.To)
	switch m.Type {
	case MsgVote:
		return s + fmt.Sprintf(" %v vote=%v round=%d", m.State, m.Vote, m.Round)
	case MsgProposal, MsgInform:
		if n := len(m.Entries); n > 0 {
			s += fmt.Sprintf(" %d entries %s..%s", n, ZxidString(m.Entries[0].Zxid), ZxidString(m.Entries[n-1].Zxid))
		}
	}
	return s + fmt.Sprintf(" sess=%x#%d epoch=%d zxid=%s commit=%s", m.Session&0xffff, m.Seq, m.Epoch,
		ZxidString(m.Zxid), ZxidString(m.Commit))
}
