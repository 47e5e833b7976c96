// Package apache speaks Apache ZooKeeper's own server-to-server protocol,
// so that one of our servers can join a running Apache ZooKeeper ensemble
// as an observer: the connection header of QuorumCnxManager and the
// notifications of FastLeaderElection on the election port (election.go),
// and on the quorum port the QuorumPackets of the learner protocol as
// Apache's Observer speaks it, the handshake and the sync stream
// (learner.go, snapshot.go).
//
// It knows nothing of znodes: it hands its caller Apache txns (TxnHeader,
// record and digest, as znode.DecodeApacheTxn reads them) and the bytes
// of a snapshot stream. Anything it cannot parse, or a packet the
// protocol does not allow at that point, is an error that names what was
// wrong; the caller closes that connection.
package apache

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/zkgo/zkgo/wire"
)

// PacketType is the type of a QuorumPacket (Leader.java's constants).
type PacketType int32

// The QuorumPacket types.
const (
	Request           PacketType = 1
	Proposal          PacketType = 2
	Ack               PacketType = 3
	Commit            PacketType = 4
	Ping              PacketType = 5
	Revalidate        PacketType = 6
	Sync              PacketType = 7
	Inform            PacketType = 8
	CommitAndActivate PacketType = 9
	NewLeader         PacketType = 10
	FollowerInfo      PacketType = 11
	UpToDate          PacketType = 12
	Diff              PacketType = 13
	Trunc             PacketType = 14
	Snap              PacketType = 15
	ObserverInfo      PacketType = 16
	LeaderInfo        PacketType = 17
	AckEpoch          PacketType = 18
	InformAndActivate PacketType = 19
)

var packetNames = [...]string{
	Request: "REQUEST", Proposal: "PROPOSAL", Ack: "ACK", Commit: "COMMIT",
	Ping: "PING", Revalidate: "REVALIDATE", Sync: "SYNC", Inform: "INFORM",
	CommitAndActivate: "COMMITANDACTIVATE", NewLeader: "NEWLEADER",
	FollowerInfo: "FOLLOWERINFO", UpToDate: "UPTODATE", Diff: "DIFF",
	Trunc: "TRUNC", Snap: "SNAP", ObserverInfo: "OBSERVERINFO",
	LeaderInfo: "LEADERINFO", AckEpoch: "ACKEPOCH",
	InformAndActivate: "INFORMANDACTIVATE",
}

// String is the name Apache's logs give the type.
func (t PacketType) String() string {
	if t > 0 && int(t) < len(packetNames) {
		return packetNames[t]
	}
	return fmt.Sprintf("UNKNOWN(%d)", int32(t))
}

// ProtocolVersion is the learner protocol version this package speaks
// (Zab 1.0, as LearnerInfo and LEADERINFO carry it).
const ProtocolVersion = 0x10000

// Packet is a QuorumPacket (zookeeper.jute): a type, a zxid, data (nil is
// jute's null buffer) and authinfo (the identities of a forwarded
// request's session).
type Packet struct {
	Type PacketType
	Zxid int64
	Data []byte
	Auth []wire.Id
}

// String describes the packet for a log line.
func (p *Packet) String() string {
	return fmt.Sprintf("%v zxid 0x%x, %d data bytes", p.Type, p.Zxid, len(p.Data))
}

// AppendTo appends the packet's jute encoding to dst. Packets are not
// length-prefixed: the quorum port carries one jute record after another.
func (p *Packet) AppendTo(dst []byte) []byte {
	e := wire.NewEncoder(dst)
	e.Int(int32(p.Type))
	e.Long(p.Zxid)
	e.Buffer(p.Data)
	if p.Auth == nil {
		e.Int(-1)
	} else {
		e.Int(int32(len(p.Auth)))
		for _, id := range p.Auth {
			e.String(id.Scheme)
			e.String(id.ID)
		}
	}
	return e.Bytes()
}

// MaxPacketData bounds the data of a packet read (jute.maxbuffer's
// default, 1 MB, plus room for the header of a forwarded request).
const MaxPacketData = 1<<20 + 1024

// ErrGarbage is wrapped by every error for bytes that are no valid
// message of Apache's protocol.
var ErrGarbage = errors.New("apache: malformed message")

func garbage(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrGarbage, fmt.Sprintf(format, args...))
}

// stream reads jute primitives from a byte stream. If rec is set, it
// also appends every byte it reads to rec.
type stream struct {
	r   *bufio.Reader
	b   [8]byte
	rec *[]byte
}

// read fills p; io.EOF only if the stream ended before p's first byte.
func (s *stream) read(p []byte) error {
	n, err := io.ReadFull(s.r, p)
	if s.rec != nil {
		*s.rec = append(*s.rec, p[:n]...)
	}
	if err == io.EOF {
		return err
	}
	return noEOF(err)
}

func (s *stream) full(n int) ([]byte, error) {
	if err := s.read(s.b[:n]); err != nil {
		return nil, err
	}
	return s.b[:n], nil
}

func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

func (s *stream) int() (int32, error) {
	b, err := s.full(4)
	if err != nil {
		return 0, err
	}
	return int32(binary.BigEndian.Uint32(b)), nil
}

func (s *stream) long() (int64, error) {
	b, err := s.full(8)
	if err != nil {
		return 0, err
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}

// buffer reads a jute buffer of at most limit bytes (nil for -1).
func (s *stream) buffer(limit int) ([]byte, error) {
	n, err := s.int()
	if err != nil {
		return nil, noEOF(err)
	}
	if n == -1 {
		return nil, nil
	}
	if n < 0 || int(n) > limit {
		return nil, garbage("buffer length %d (limit %d)", n, limit)
	}
	b := make([]byte, n)
	if err := s.read(b); err != nil {
		return nil, noEOF(err)
	}
	return b, nil
}

// skip reads n bytes it has no use for.
func (s *stream) skip(n int) error {
	var b [64]byte
	for n > 0 {
		k := min(n, len(b))
		if err := s.read(b[:k]); err != nil {
			return noEOF(err)
		}
		n -= k
	}
	return nil
}

// ReadPacket reads one QuorumPacket from r. io.EOF means the stream ended
// cleanly before the packet; a packet cut short is io.ErrUnexpectedEOF.
func ReadPacket(r *bufio.Reader) (*Packet, error) {
	s := stream{r: r}
	typ, err := s.int()
	if err != nil {
		return nil, err
	}
	p := &Packet{Type: PacketType(typ)}
	if p.Zxid, err = s.long(); err != nil {
		return nil, noEOF(err)
	}
	if p.Data, err = s.buffer(MaxPacketData); err != nil {
		return nil, fmt.Errorf("%v packet: %w", p.Type, err)
	}
	n, err := s.int()
	if err != nil {
		return nil, noEOF(err)
	}
	if n < -1 || n > 1024 {
		return nil, garbage("%v packet: %d auth ids", p.Type, n)
	}
	if n >= 0 {
		p.Auth = make([]wire.Id, n)
	}
	for i := range p.Auth {
		scheme, err := s.buffer(4096)
		if err != nil {
			return nil, err
		}
		id, err := s.buffer(MaxPacketData)
		if err != nil {
			return nil, err
		}
		p.Auth[i] = wire.Id{Scheme: string(scheme), ID: string(id)}
	}
	return p, nil
}

// LearnerInfo is the data of FOLLOWERINFO and OBSERVERINFO.
type LearnerInfo struct {
	ServerID        int64
	ProtocolVersion int32
	ConfigVersion   int64
}

// Marshal encodes the record.
func (li LearnerInfo) Marshal() []byte {
	e := wire.NewEncoder(make([]byte, 0, 20))
	e.Long(li.ServerID)
	e.Int(li.ProtocolVersion)
	e.Long(li.ConfigVersion)
	return e.Bytes()
}

// ParseLearnerInfo decodes the record, as LearnerHandler does: the
// protocol version and config version may be missing (older learners).
func ParseLearnerInfo(b []byte) (LearnerInfo, error) {
	var li LearnerInfo
	if len(b) < 8 {
		return li, garbage("learner info of %d bytes", len(b))
	}
	li.ServerID = int64(binary.BigEndian.Uint64(b))
	if len(b) >= 12 {
		li.ProtocolVersion = int32(binary.BigEndian.Uint32(b[8:]))
	}
	if len(b) >= 20 {
		li.ConfigVersion = int64(binary.BigEndian.Uint64(b[12:]))
	}
	return li, nil
}

// Touch is a session the learner's clients used since the last PING, with
// its timeout: the data of a PING reply is a sequence of them.
type Touch struct {
	Session int64
	Timeout int32
}

// MarshalTouches encodes a PING reply's data.
func MarshalTouches(ts []Touch) []byte {
	b := make([]byte, 0, 12*len(ts))
	for _, t := range ts {
		b = binary.BigEndian.AppendUint64(b, uint64(t.Session))
		b = binary.BigEndian.AppendUint32(b, uint32(t.Timeout))
	}
	return b
}

// ParseTouches decodes a PING reply's data.
func ParseTouches(b []byte) ([]Touch, error) {
	if len(b)%12 != 0 {
		return nil, garbage("ping data of %d bytes", len(b))
	}
	ts := make([]Touch, 0, len(b)/12)
	for ; len(b) > 0; b = b[12:] {
		ts = append(ts, Touch{int64(binary.BigEndian.Uint64(b)), int32(binary.BigEndian.Uint32(b[8:]))})
	}
	return ts, nil
}

// ForwardedRequest is the data of a REQUEST packet: a client request the
// learner forwards to the leader (Learner.request).
type ForwardedRequest struct {
	Session int64
	Cxid    int32
	Type    wire.OpCode
	Body    []byte // the request record, as the client sent it
}

// Marshal encodes the packet data.
func (r *ForwardedRequest) Marshal() []byte {
	b := make([]byte, 0, 16+len(r.Body))
	b = binary.BigEndian.AppendUint64(b, uint64(r.Session))
	b = binary.BigEndian.AppendUint32(b, uint32(r.Cxid))
	b = binary.BigEndian.AppendUint32(b, uint32(r.Type))
	return append(b, r.Body...)
}

// ParseForwardedRequest decodes the packet data.
func ParseForwardedRequest(b []byte) (*ForwardedRequest, error) {
	if len(b) < 16 {
		return nil, garbage("request of %d bytes", len(b))
	}
	return &ForwardedRequest{
		Session: int64(binary.BigEndian.Uint64(b)),
		Cxid:    int32(binary.BigEndian.Uint32(b[8:])),
		Type:    wire.OpCode(int32(binary.BigEndian.Uint32(b[12:]))),
		Body:    b[16:],
	}, nil
}

// MarshalRevalidate encodes the data of a learner's REVALIDATE: the
// session a client re-attaches and its timeout.
func MarshalRevalidate(session int64, timeout int32) []byte {
	b := binary.BigEndian.AppendUint64(nil, uint64(session))
	return binary.BigEndian.AppendUint32(b, uint32(timeout))
}

// ParseRevalidateReply decodes the leader's REVALIDATE answer: the session
// and whether it is still valid.
func ParseRevalidateReply(b []byte) (session int64, valid bool, err error) {
	if len(b) < 9 {
		return 0, false, garbage("revalidate reply of %d bytes", len(b))
	}
	return int64(binary.BigEndian.Uint64(b)), b[8] != 0, nil
}

// MarshalRevalidateReply encodes the leader's REVALIDATE answer.
func MarshalRevalidateReply(session int64, valid bool) []byte {
	b := binary.BigEndian.AppendUint64(nil, uint64(session))
	if valid {
		return append(b, 1)
	}
	return append(b, 0)
}
