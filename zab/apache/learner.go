package apache

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/zkgo/zkgo/wire"
)

// Hello is what an observer tells the leader when it connects, and what
// it needs of the leader's answer.
type Hello struct {
	SID           int64
	ConfigVersion int64 // of the configuration the observer has active
	AcceptedEpoch int64 // the newest epoch it has seen a leader propose
	CurrentEpoch  int64 // the epoch of its history
	LastZxid      int64 // the last txn it holds
	// Timeout bounds each read from the leader (Apache: tickTime *
	// initLimit during the sync, tickTime * syncLimit after).
	Timeout time.Duration
}

// Learner is an observer's connection to an Apache leader's quorum port.
// One goroutine reads (Sync, then Follow); any goroutine may send.
type Learner struct {
	c        net.Conn
	r        *bufio.Reader
	timeout  time.Duration
	newEpoch int64

	wmu sync.Mutex
	w   *bufio.Writer
	buf []byte
}

// Dial connects to the leader at addr and registers as an observer
// (OBSERVERINFO, LEADERINFO, ACKEPOCH). The leader's epoch is then
// Epoch.
func Dial(ctx context.Context, addr string, h Hello) (*Learner, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	l := &Learner{c: c, r: bufio.NewReaderSize(c, 64<<10), w: bufio.NewWriter(c), timeout: h.Timeout}
	if err := l.register(h); err != nil {
		c.Close()
		return nil, err
	}
	return l, nil
}

func (l *Learner) register(h Hello) error {
	info := LearnerInfo{ServerID: h.SID, ProtocolVersion: ProtocolVersion, ConfigVersion: h.ConfigVersion}
	if err := l.Send(&Packet{Type: ObserverInfo, Zxid: h.AcceptedEpoch << 32, Data: info.Marshal()}); err != nil {
		return err
	}
	p, err := l.read()
	if err != nil {
		return err
	}
	if p.Type != LeaderInfo {
		return fmt.Errorf("apache: the leader answered OBSERVERINFO with %v, not LEADERINFO", p)
	}
	if len(p.Data) < 4 {
		return garbage("LEADERINFO with %d data bytes", len(p.Data))
	}
	if v := int32(binary.BigEndian.Uint32(p.Data)); v < ProtocolVersion {
		return fmt.Errorf("apache: the leader speaks learner protocol version 0x%x, which we do not speak (we speak 0x%x)", v, ProtocolVersion)
	}
	l.newEpoch = p.Zxid >> 32
	ack := int32(-1)
	switch {
	case l.newEpoch > h.AcceptedEpoch:
		ack = int32(h.CurrentEpoch)
	case l.newEpoch < h.AcceptedEpoch:
		return fmt.Errorf("apache: the leader's epoch %d is below the epoch %d we accepted", l.newEpoch, h.AcceptedEpoch)
	}
	return l.Send(&Packet{Type: AckEpoch, Zxid: h.LastZxid, Data: binary.BigEndian.AppendUint32(nil, uint32(ack))})
}

// Epoch is the leader's epoch, from LEADERINFO.
func (l *Learner) Epoch() int64 { return l.newEpoch }

// Close closes the connection; a Sync or Follow under way returns.
func (l *Learner) Close() error { return l.c.Close() }

// Send writes one packet to the leader.
func (l *Learner) Send(p *Packet) error {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	l.buf = p.AppendTo(l.buf[:0])
	if _, err := l.w.Write(l.buf); err != nil {
		return err
	}
	return l.w.Flush()
}

// readAfter reads the next packet, calling flush first if none is
// buffered: the read may then wait.
func (l *Learner) readAfter(flush func() error) (*Packet, error) {
	if l.r.Buffered() == 0 {
		if err := flush(); err != nil {
			return nil, err
		}
	}
	return l.read()
}

func (l *Learner) read() (*Packet, error) {
	if l.timeout > 0 {
		l.c.SetReadDeadline(time.Now().Add(l.timeout))
	}
	return ReadPacket(l.r)
}

// SyncHandler takes what the leader sends while it syncs an observer.
type SyncHandler interface {
	// Begin is called once, first: with Diff the txns that follow go on
	// from the observer's last zxid; with Trunc the observer must first
	// drop every txn after zxid; with Snap snapshot (the leader's
	// sessions and tree at zxid, see readSnapshot) replaces its state.
	Begin(kind PacketType, zxid int64, snapshot []byte) error
	// Txn is a committed txn (TxnHeader, record, optional TxnDigest),
	// in zxid order.
	Txn(zxid int64, txn []byte) error
	// Flush is called when the leader has sent nothing more for now, and
	// before Sync returns: the txns since the last Flush may be made
	// durable and applied together.
	Flush() error
}

// Sync reads the sync stream up to UPTODATE (Learner.syncWithLeader as an
// Observer runs it): DIFF, TRUNC or SNAP; then PROPOSAL and COMMIT pairs
// and INFORMs, whose txns go to h in order; NEWLEADER, which it ACKs; and
// UPTODATE, which it ACKs too. It returns NEWLEADER's configuration (the
// leader's dynamic configuration, nil if none).
func (l *Learner) Sync(h SyncHandler) (config []byte, err error) {
	p, err := l.read()
	if err != nil {
		return nil, err
	}
	var snap []byte
	switch p.Type {
	case Diff, Trunc:
	case Snap:
		if snap, err = readSnapshot(l.r); err != nil {
			return nil, fmt.Errorf("apache: snapshot at 0x%x: %w", p.Zxid, err)
		}
	default:
		return nil, fmt.Errorf("apache: the leader began the sync with %v, not DIFF, TRUNC or SNAP", p)
	}
	if err := h.Begin(p.Type, p.Zxid, snap); err != nil {
		return nil, err
	}
	type proposal struct {
		zxid int64
		txn  []byte
	}
	var proposals []proposal
	newLeaderZxid := l.newEpoch << 32
	for {
		p, err := l.readAfter(h.Flush)
		if err != nil {
			return nil, err
		}
		switch p.Type {
		case Proposal:
			zxid, err := TxnZxid(p.Data)
			if err != nil {
				return nil, err
			}
			proposals = append(proposals, proposal{zxid, p.Data})
		case Commit, CommitAndActivate:
			if len(proposals) == 0 || proposals[0].zxid != p.Zxid {
				return nil, fmt.Errorf("apache: %v of a txn the leader did not propose first", p)
			}
			if err := h.Txn(p.Zxid, proposals[0].txn); err != nil {
				return nil, err
			}
			proposals = proposals[1:]
		case Inform, InformAndActivate:
			zxid, txn, err := informTxn(p)
			if err != nil {
				return nil, err
			}
			if err := h.Txn(zxid, txn); err != nil {
				return nil, err
			}
		case NewLeader:
			config = p.Data
			if err := l.Send(&Packet{Type: Ack, Zxid: newLeaderZxid}); err != nil {
				return nil, err
			}
		case UpToDate:
			if err := h.Flush(); err != nil {
				return nil, err
			}
			if err := l.Send(&Packet{Type: Ack, Zxid: newLeaderZxid}); err != nil {
				return nil, err
			}
			return config, nil
		case Ping:
			// Apache's learners do not answer pings while they sync.
		default:
			return nil, fmt.Errorf("apache: unexpected %v while syncing", p)
		}
	}
}

// FollowHandler takes what the leader sends an observer that is up to
// date.
type FollowHandler interface {
	// Txn is a committed txn, in zxid order.
	Txn(zxid int64, txn []byte) error
	// Flush is called when the leader has sent nothing more for now, and
	// before Synced.
	Flush() error
	// Touches returns the sessions used since the last call, for the
	// answer to a PING.
	Touches() []Touch
	// Synced says the leader answered the oldest SYNC forwarded and not
	// yet answered.
	Synced()
	// Revalidated is the leader's answer to a REVALIDATE.
	Revalidated(session int64, valid bool)
}

// Follow reads packets until the connection fails (Observer.processPacket):
// INFORM and INFORMANDACTIVATE carry txns, PING is answered with h's
// touches, SYNC and REVALIDATE answer what the observer sent. PROPOSAL and
// COMMIT are not for observers and are dropped, as Apache's observer does.
func (l *Learner) Follow(h FollowHandler) error {
	for {
		p, err := l.readAfter(h.Flush)
		if err != nil {
			return err
		}
		switch p.Type {
		case Inform, InformAndActivate:
			zxid, txn, err := informTxn(p)
			if err != nil {
				return err
			}
			if err := h.Txn(zxid, txn); err != nil {
				return err
			}
		case Ping:
			if err := l.Send(&Packet{Type: Ping, Zxid: p.Zxid, Data: MarshalTouches(h.Touches()), Auth: p.Auth}); err != nil {
				return err
			}
		case Sync:
			if err := h.Flush(); err != nil {
				return err
			}
			h.Synced()
		case Revalidate:
			session, valid, err := ParseRevalidateReply(p.Data)
			if err != nil {
				return err
			}
			h.Revalidated(session, valid)
		case Proposal, Commit, UpToDate:
		default:
			return fmt.Errorf("apache: unexpected %v from the leader", p)
		}
	}
}

// Forward sends a client request to the leader (REQUEST).
// auth are the identities of the request's session.
func (l *Learner) Forward(r *ForwardedRequest, auth []wire.Id) error {
	return l.Send(&Packet{Type: Request, Zxid: -1, Data: r.Marshal(), Auth: auth})
}

// informTxn returns the zxid and txn of an INFORM or INFORMANDACTIVATE
// (whose data starts with the suggested leader's id).
func informTxn(p *Packet) (int64, []byte, error) {
	txn := p.Data
	if p.Type == InformAndActivate {
		if len(txn) < 8 {
			return 0, nil, garbage("%v with %d data bytes", p.Type, len(txn))
		}
		txn = txn[8:]
	}
	zxid, err := TxnZxid(txn)
	return zxid, txn, err
}

// RevalidateSession asks the leader whether session is still valid, for a
// client that re-attaches it here with timeout; the answer comes through
// FollowHandler.Revalidated.
func (l *Learner) RevalidateSession(session int64, timeout int32) error {
	return l.Send(&Packet{Type: Revalidate, Zxid: -1, Data: MarshalRevalidate(session, timeout)})
}

// TxnZxid returns the zxid in the TxnHeader a txn starts with (clientId,
// cxid, zxid, time, type).
func TxnZxid(txn []byte) (int64, error) {
	if len(txn) < 28 {
		return 0, garbage("txn of %d bytes", len(txn))
	}
	return int64(binary.BigEndian.Uint64(txn[12:])), nil
}
