package zab

import (
	"errors"
	"fmt"

	"github.com/zkgo/zkgo/wire"
)

// Wire layout of a Message, all integers big-endian (jute):
//
//	type     byte (as the low byte of an int)
//	from, to long
//	MsgVote:  leader, zxid, epoch, round (longs), state (int), membership
//	others:   session, seq, epoch, zxid, commit (longs), flags (int: 1 observer,
//	          2 probe, 4 established, 8 membership), entries (int count, then
//	          zxid long + buffer each), data (buffer), membership if flagged
//	membership: version (long), voters, observers (int count, then longs)
//
// The layout is ours: peers speak only to peers of the same implementation.

const (
	flagObserver = 1 << iota
	flagProbe
	flagEstablished
	flagMembers
	flagRepairing
)

// entryMinSize is the smallest encoding of an entry (zxid and an empty
// buffer), which bounds what a hostile count can make the decoder allocate.
const entryMinSize = 8 + 4

// ErrBadMessage is returned (wrapped) by UnmarshalMessage for bytes that are
// not a message.
var ErrBadMessage = errors.New("zab: malformed message")

// Encode appends m's encoding; Message is a wire.Record, so
// wire.AppendFrame frames it for a stream.
func (m *Message) Encode(e *wire.Encoder) {
	e.Int(int32(m.Type))
	e.Long(m.From)
	e.Long(m.To)
	if m.Type == MsgVote {
		e.Long(m.Vote.Leader)
		e.Long(m.Vote.Zxid)
		e.Long(m.Vote.Epoch)
		e.Long(m.Round)
		e.Int(int32(m.State))
		members := m.Members
		if members == nil {
			members = &Membership{}
		}
		members.encode(e)
		return
	}
	e.Long(int64(m.Session))
	e.Long(int64(m.Seq))
	e.Long(m.Epoch)
	e.Long(m.Zxid)
	e.Long(m.Commit)
	var flags int32
	if m.Observer {
		flags |= flagObserver
	}
	if m.Probe {
		flags |= flagProbe
	}
	if m.Repairing {
		flags |= flagRepairing
	}
	if m.Established {
		flags |= flagEstablished
	}
	if m.Members != nil {
		flags |= flagMembers
	}
	e.Int(flags)
	e.Int(int32(len(m.Entries)))
	for _, en := range m.Entries {
		e.Long(en.Zxid)
		e.Buffer(en.Data)
	}
	e.Buffer(m.Data)
	if m.Members != nil {
		m.Members.encode(e)
	}
}

// Decode reads a message encoded by Encode; errors are reported by d.Err.
func (m *Message) Decode(d *wire.Decoder) {
	*m = Message{Type: MsgType(d.Int()), From: d.Long(), To: d.Long()}
	if d.Err() == nil && (m.Type == 0 || m.Type >= msgTypeEnd) {
		d.Fail(fmt.Errorf("%w: unknown type %d", ErrBadMessage, m.Type))
		return
	}
	if m.Type == MsgVote {
		m.Vote = Vote{Leader: d.Long(), Zxid: d.Long(), Epoch: d.Long()}
		m.Round = d.Long()
		m.State = Role(d.Int())
		if d.Err() == nil && (m.State < Looking || m.State > Observing) {
			d.Fail(fmt.Errorf("%w: unknown state %d", ErrBadMessage, m.State))
		}
		m.Members = &Membership{}
		m.Members.decode(d)
		if len(m.Members.Voters) == 0 {
			m.Members = nil // none sent
		}
		return
	}
	m.Session = uint64(d.Long())
	m.Seq = uint64(d.Long())
	m.Epoch = d.Long()
	m.Zxid = d.Long()
	m.Commit = d.Long()
	flags := d.Int()
	m.Observer = flags&flagObserver != 0
	m.Probe = flags&flagProbe != 0
	m.Established = flags&flagEstablished != 0
	m.Repairing = flags&flagRepairing != 0
	n := int(d.Int())
	if d.Err() != nil {
		return
	}
	if n < 0 || n > d.Remaining()/entryMinSize {
		d.Fail(wire.ErrBadLength)
		return
	}
	if n > 0 {
		m.Entries = make([]Entry, n)
		for i := range m.Entries {
			m.Entries[i] = Entry{Zxid: d.Long(), Data: d.Buffer()}
		}
	}
	m.Data = d.Buffer()
	if flags&flagMembers != 0 {
		m.Members = &Membership{}
		m.Members.decode(d)
	}
}

// MarshalMessage returns m's encoding (without a length prefix).
func MarshalMessage(m *Message) []byte {
	e := wire.NewEncoder(nil)
	m.Encode(e)
	return e.Bytes()
}

// UnmarshalMessage decodes a message from exactly b. The result does not
// alias b.
func UnmarshalMessage(b []byte) (Message, error) {
	var m Message
	d := wire.NewDecoder(b)
	m.Decode(d)
	if err := d.Err(); err != nil {
		if !errors.Is(err, ErrBadMessage) {
			err = fmt.Errorf("%w: %w", ErrBadMessage, err)
		}
		return Message{}, err
	}
	if d.Remaining() != 0 {
		return Message{}, fmt.Errorf("%w: %d trailing bytes", ErrBadMessage, d.Remaining())
	}
	return m, nil
}
