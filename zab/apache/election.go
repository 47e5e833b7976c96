package apache

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// The versions of QuorumCnxManager's connection header: the first long a
// server sends when it opens an election connection.
const (
	// HeaderV1 announces one election address ("host:port").
	HeaderV1 int64 = -65536
	// HeaderV2 announces several, separated by '|' (multiAddress).
	HeaderV2 int64 = -65535
)

// maxAddrLen bounds the address list of a header: a few host:port
// strings.
const maxAddrLen = 4096

// Header is QuorumCnxManager's InitialMessage: the connecting server's
// protocol version, id and election addresses.
type Header struct {
	Version int64
	SID     int64
	Addrs   []string
}

// Marshal encodes the header.
func (h Header) Marshal() []byte {
	addr := strings.Join(h.Addrs, "|")
	b := binary.BigEndian.AppendUint64(nil, uint64(h.Version))
	b = binary.BigEndian.AppendUint64(b, uint64(h.SID))
	b = binary.BigEndian.AppendUint32(b, uint32(len(addr)))
	return append(b, addr...)
}

// ReadHeader reads a connection header. A first long that is no version
// we speak is an error naming it (servers before 3.5 send their id there,
// a non-negative number, and no addresses).
func ReadHeader(r *bufio.Reader) (Header, error) {
	s := stream{r: r}
	var h Header
	var err error
	if h.Version, err = s.long(); err != nil {
		return h, noEOF(err)
	}
	if h.Version != HeaderV1 && h.Version != HeaderV2 {
		return h, fmt.Errorf("apache: election connection header of protocol version %d, which we do not speak (we speak %d and %d, Apache ZooKeeper 3.5 and later)",
			h.Version, HeaderV1, HeaderV2)
	}
	if h.SID, err = s.long(); err != nil {
		return h, noEOF(err)
	}
	addr, err := s.buffer(maxAddrLen)
	if err != nil {
		return h, err
	}
	if addr == nil {
		return h, garbage("election connection header without addresses")
	}
	h.Addrs = strings.Split(string(addr), "|")
	return h, nil
}

// PeerState is a server's state in a notification.
type PeerState int32

// The states of QuorumPeer.ServerState, as notifications number them.
const (
	Looking   PeerState = 0
	Following PeerState = 1
	Leading   PeerState = 2
	Observing PeerState = 3
)

// String is Apache's name of the state.
func (s PeerState) String() string {
	switch s {
	case Looking:
		return "LOOKING"
	case Following:
		return "FOLLOWING"
	case Leading:
		return "LEADING"
	case Observing:
		return "OBSERVING"
	}
	return fmt.Sprintf("UNKNOWN(%d)", int32(s))
}

// NotificationVersion is the notification format we send (with the
// configuration, Apache 3.5 and later).
const NotificationVersion = 2

// Notification is a FastLeaderElection message: the sender's state and
// vote (leader, the leader's zxid and epoch), its election round, and
// from version 2 on its configuration in zoo.cfg's dynamic form.
type Notification struct {
	State         PeerState
	Leader        int64
	Zxid          int64
	ElectionEpoch int64
	PeerEpoch     int64
	Version       int32
	Config        []byte
}

// Marshal encodes the notification in Version 2's layout.
func (n *Notification) Marshal() []byte {
	b := make([]byte, 0, 44+len(n.Config))
	b = binary.BigEndian.AppendUint32(b, uint32(n.State))
	b = binary.BigEndian.AppendUint64(b, uint64(n.Leader))
	b = binary.BigEndian.AppendUint64(b, uint64(n.Zxid))
	b = binary.BigEndian.AppendUint64(b, uint64(n.ElectionEpoch))
	b = binary.BigEndian.AppendUint64(b, uint64(n.PeerEpoch))
	b = binary.BigEndian.AppendUint32(b, NotificationVersion)
	b = binary.BigEndian.AppendUint32(b, uint32(len(n.Config)))
	return append(b, n.Config...)
}

// ParseNotification decodes a notification of any format Apache reads:
// 28 bytes (no peer epoch: it is the zxid's), 36 (peer epoch), 40
// (version) or more (version 2 and the configuration).
func ParseNotification(b []byte) (*Notification, error) {
	if len(b) < 28 {
		return nil, garbage("notification of %d bytes", len(b))
	}
	n := &Notification{
		State:         PeerState(int32(binary.BigEndian.Uint32(b))),
		Leader:        int64(binary.BigEndian.Uint64(b[4:])),
		Zxid:          int64(binary.BigEndian.Uint64(b[12:])),
		ElectionEpoch: int64(binary.BigEndian.Uint64(b[20:])),
	}
	if len(b) < 36 {
		n.PeerEpoch = n.Zxid >> 32
		return n, nil
	}
	n.PeerEpoch = int64(binary.BigEndian.Uint64(b[28:]))
	if len(b) < 40 {
		return n, nil
	}
	n.Version = int32(binary.BigEndian.Uint32(b[36:]))
	if n.Version > 1 {
		if len(b) < 44 {
			return nil, garbage("notification version %d of %d bytes", n.Version, len(b))
		}
		cl := int(binary.BigEndian.Uint32(b[40:]))
		if cl < 0 || cl != len(b)-44 {
			return nil, garbage("notification with a configuration of %d bytes in %d", cl, len(b)-44)
		}
		n.Config = b[44:]
	}
	if n.State < Looking || n.State > Observing {
		return nil, garbage("notification with state %d", n.State)
	}
	return n, nil
}

// maxMessage bounds an election message (QuorumCnxManager's
// PACKETMAXSIZE, 512 kB).
const maxMessage = 512 * 1024

// AppendMessage frames an election message: its length, then its bytes.
func AppendMessage(dst, msg []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(msg)))
	return append(dst, msg...)
}

// ReadMessage reads one framed election message.
func ReadMessage(r *bufio.Reader) ([]byte, error) {
	s := stream{r: r}
	n, err := s.int()
	if err != nil {
		return nil, err
	}
	if n <= 0 || n > maxMessage {
		return nil, garbage("election message of length %d", n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, noEOF(err)
	}
	return b, nil
}

// Voter is a participant of the Apache ensemble, reached on its election
// address.
type Voter struct {
	ID           int64
	ElectionAddr string
}

// Vote is what FindLeader learned: the leader and its epoch.
type Vote struct {
	Leader    int64
	PeerEpoch int64
	Zxid      int64
}

// FindLeader learns the Apache ensemble's leader as Apache's observers do:
// it opens an election connection to each voter (as server me, whose own
// election address is myAddr, with lastZxid), sends a LOOKING
// notification, and reads the votes the voters answer with (a voter
// answers a non-voting server at once with its current vote). The leader
// is the server a majority of voters vote for while it says itself that
// it is LEADING. It returns when it knows, or with ctx's error.
//
// Our id must be above every voter's: QuorumCnxManager keeps a
// connection only when the dialing side has the larger id.
func FindLeader(ctx context.Context, me int64, myAddr string, lastZxid int64, voters []Voter) (Vote, error) {
	type answer struct {
		from int64
		n    *Notification
		err  error
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	answers := make(chan answer, len(voters))
	for _, v := range voters {
		if v.ID >= me {
			return Vote{}, fmt.Errorf("apache: voter %d has an id not below ours (%d): Apache's election would drop our connections to it", v.ID, me)
		}
		go func() {
			n, err := askVote(ctx, me, myAddr, lastZxid, v.ElectionAddr)
			answers <- answer{v.ID, n, err}
		}()
	}
	votes := make(map[int64]*Notification, len(voters))
	var errs []error
	for range voters {
		var a answer
		select {
		case a = <-answers:
		case <-ctx.Done():
			return Vote{}, ctx.Err()
		}
		if a.err != nil {
			errs = append(errs, fmt.Errorf("server %d: %w", a.from, a.err))
			continue
		}
		votes[a.from] = a.n
		if v, ok := decide(votes, len(voters)); ok {
			return v, nil
		}
	}
	if len(errs) > 0 {
		return Vote{}, fmt.Errorf("apache: no leader known to a majority of the voters: %w", errors.Join(errs...))
	}
	return Vote{}, errors.New("apache: no leader known to a majority of the voters (an election is under way?)")
}

// decide returns the leader a majority of the n voters vote for, once the
// leader's own vote says it leads.
func decide(votes map[int64]*Notification, n int) (Vote, bool) {
	for id, v := range votes {
		if v.State != Leading || v.Leader != id {
			continue
		}
		count := 0
		for _, o := range votes {
			if (o.State == Following || o.State == Leading) && o.Leader == id && o.PeerEpoch == v.PeerEpoch {
				count++
			}
		}
		if count > n/2 {
			return Vote{Leader: id, PeerEpoch: v.PeerEpoch, Zxid: v.Zxid}, true
		}
	}
	return Vote{}, false
}

// lookAgain is how often askVote repeats its notification while the voter
// answers that it is LOOKING itself (an election is under way): a voter
// answers each notification once.
const lookAgain = 200 * time.Millisecond

// askVote sends a LOOKING notification to addr, again every lookAgain,
// and returns the first answer that is not LOOKING.
func askVote(ctx context.Context, me int64, myAddr string, lastZxid int64, addr string) (*Notification, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()
	hdr := Header{Version: HeaderV1, SID: me, Addrs: []string{myAddr}}
	look := Notification{State: Looking, Leader: me, Zxid: lastZxid, PeerEpoch: lastZxid >> 32}
	msg := AppendMessage(nil, look.Marshal())
	if _, err := c.Write(append(hdr.Marshal(), msg...)); err != nil {
		return nil, err
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		t := time.NewTicker(lookAgain)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if _, err := c.Write(msg); err != nil {
					return
				}
			}
		}
	}()
	r := bufio.NewReader(c)
	for {
		b, err := ReadMessage(r)
		if err != nil {
			return nil, err
		}
		n, err := ParseNotification(b)
		if err != nil {
			return nil, err
		}
		if n.State != Looking {
			return n, nil
		}
	}
}
