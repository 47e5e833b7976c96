package apache

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/zkgo/zkgo/wire"
)

func reader(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }

func TestPacketRoundTrip(t *testing.T) {
	for _, p := range []*Packet{
		{Type: Ping, Zxid: 0x500000003},
		{Type: Request, Zxid: -1, Data: []byte{}, Auth: []wire.Id{{Scheme: "digest", ID: "u:x"}, {Scheme: "ip", ID: "127.0.0.1"}}},
		{Type: Inform, Zxid: 7, Data: []byte("txn"), Auth: []wire.Id{}},
	} {
		b := p.AppendTo(nil)
		got, err := ReadPacket(reader(b))
		if err != nil {
			t.Fatalf("%v: %v", p, err)
		}
		if !reflect.DeepEqual(got, p) {
			t.Errorf("round trip of %v gave %+v", p, got)
		}
		// Cut anywhere, it is no packet.
		for n := 1; n < len(b); n++ {
			if _, err := ReadPacket(reader(b[:n])); !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("%v cut at %d: %v", p, n, err)
			}
		}
	}
	if _, err := ReadPacket(reader(nil)); err != io.EOF {
		t.Errorf("empty stream: %v, want io.EOF", err)
	}
	// A data length beyond any packet is garbage, not an allocation.
	bad := (&Packet{Type: Inform}).AppendTo(nil)
	binary.BigEndian.PutUint32(bad[12:], 1<<30)
	if _, err := ReadPacket(reader(bad)); !errors.Is(err, ErrGarbage) {
		t.Errorf("huge data length: %v", err)
	}
}

// TestPacketBytes checks the layout against a packet as Apache's
// BinaryOutputArchive writes it: int type, long zxid, buffer data,
// vector authinfo.
func TestPacketBytes(t *testing.T) {
	p := &Packet{Type: Ack, Zxid: 0x100000000}
	want := []byte{0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	if got := p.AppendTo(nil); !bytes.Equal(got, want) {
		t.Errorf("ACK is % x, want % x", got, want)
	}
}

func TestRecordsRoundTrip(t *testing.T) {
	li := LearnerInfo{ServerID: 4, ProtocolVersion: ProtocolVersion, ConfigVersion: 0x100000000}
	if got, err := ParseLearnerInfo(li.Marshal()); err != nil || got != li {
		t.Errorf("learner info: %+v, %v", got, err)
	}
	if got, err := ParseLearnerInfo(li.Marshal()[:8]); err != nil || got.ServerID != 4 || got.ProtocolVersion != 0 {
		t.Errorf("learner info of a pre-1.0 learner: %+v, %v", got, err)
	}
	ts := []Touch{{1, 4000}, {-2, 30000}}
	if got, err := ParseTouches(MarshalTouches(ts)); err != nil || !reflect.DeepEqual(got, ts) {
		t.Errorf("touches: %v, %v", got, err)
	}
	if _, err := ParseTouches(make([]byte, 13)); !errors.Is(err, ErrGarbage) {
		t.Errorf("13 bytes of touches: %v", err)
	}
	r := &ForwardedRequest{Session: 0x1000, Cxid: 9, Type: wire.OpCreate, Body: []byte("body")}
	if got, err := ParseForwardedRequest(r.Marshal()); err != nil || !reflect.DeepEqual(got, r) {
		t.Errorf("request: %+v, %v", got, err)
	}
	for _, valid := range []bool{true, false} {
		if s, v, err := ParseRevalidateReply(MarshalRevalidateReply(77, valid)); err != nil || s != 77 || v != valid {
			t.Errorf("revalidate reply: %d %v %v", s, v, err)
		}
	}
}

func TestElectionRoundTrip(t *testing.T) {
	h := Header{Version: HeaderV2, SID: 4, Addrs: []string{"127.0.0.1:3888", "10.0.0.1:3888"}}
	got, err := ReadHeader(reader(h.Marshal()))
	if err != nil || !reflect.DeepEqual(got, h) {
		t.Errorf("header: %+v, %v", got, err)
	}
	old := binary.BigEndian.AppendUint64(nil, 3) // a 3.4 server sends its id first
	if _, err := ReadHeader(reader(old)); err == nil || !strings.Contains(err.Error(), "protocol version 3, which we do not speak") {
		t.Errorf("pre-3.5 header: %v", err)
	}

	n := &Notification{State: Leading, Leader: 2, Zxid: 0x300000007, ElectionEpoch: 5, PeerEpoch: 3,
		Version: NotificationVersion, Config: []byte("server.1=127.0.0.1:2888:3888:participant\nversion=0")}
	msg, err := ReadMessage(reader(AppendMessage(nil, n.Marshal())))
	if err != nil {
		t.Fatal(err)
	}
	gotN, err := ParseNotification(msg)
	if err != nil || !reflect.DeepEqual(gotN, n) {
		t.Errorf("notification: %+v, %v", gotN, err)
	}
	// Apache's older formats: 28 bytes take the peer epoch from the zxid.
	if gotN, err := ParseNotification(n.Marshal()[:28]); err != nil || gotN.PeerEpoch != 3 || gotN.Version != 0 {
		t.Errorf("28-byte notification: %+v, %v", gotN, err)
	}
	for _, cut := range []int{0, 27, 42, 60} {
		if _, err := ParseNotification(n.Marshal()[:cut]); !errors.Is(err, ErrGarbage) {
			t.Errorf("notification cut at %d: %v", cut, err)
		}
	}
	if _, err := ReadMessage(reader(binary.BigEndian.AppendUint32(nil, 1<<30))); !errors.Is(err, ErrGarbage) {
		t.Errorf("huge election message: %v", err)
	}
}

func TestDecide(t *testing.T) {
	lead := &Notification{State: Leading, Leader: 2, PeerEpoch: 4}
	follow := &Notification{State: Following, Leader: 2, PeerEpoch: 4}
	stale := &Notification{State: Following, Leader: 1, PeerEpoch: 3}
	if _, ok := decide(map[int64]*Notification{1: follow, 3: follow}, 3); ok {
		t.Error("a leader that has not said it leads was chosen")
	}
	if _, ok := decide(map[int64]*Notification{2: lead, 3: stale}, 3); ok {
		t.Error("a leader without a majority was chosen")
	}
	if v, ok := decide(map[int64]*Notification{2: lead, 3: follow}, 3); !ok || v.Leader != 2 || v.PeerEpoch != 4 {
		t.Errorf("decide: %+v %v", v, ok)
	}
}

// snapshotStream builds what a leader sends after SNAP: one session, one
// ACL, the root and one node, the end marker and the signature.
func snapshotStream(sig string) (body, all []byte) {
	e := wire.NewEncoder(nil)
	e.Int(1)
	e.Long(0x100)
	e.Int(30000)
	e.Int(1)
	e.Long(1)
	e.Int(1)
	e.Int(31)
	e.String("world")
	e.String("anyone")
	for _, path := range []string{"", "/a"} {
		e.String(path)
		e.Buffer([]byte("x"))
		e.Long(1)
		for range 4 {
			e.Long(5)
		}
		for range 3 {
			e.Int(0)
		}
		e.Long(0)
		e.Long(5)
	}
	e.String("/")
	body = bytes.Clone(e.Bytes())
	e.String(sig)
	return body, e.Bytes()
}

func TestReadSnapshot(t *testing.T) {
	body, all := snapshotStream(snapSignature)
	next := (&Packet{Type: NewLeader}).AppendTo(nil)
	r := reader(append(bytes.Clone(all), next...))
	got, err := readSnapshot(r)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("snapshot: %d bytes (want %d), %v", len(got), len(body), err)
	}
	if p, err := ReadPacket(r); err != nil || p.Type != NewLeader {
		t.Errorf("the packet after the snapshot: %v, %v", p, err)
	}
	_, bad := snapshotStream("BenWasNotHere")
	if _, err := readSnapshot(reader(bad)); !errors.Is(err, ErrGarbage) {
		t.Errorf("bad signature: %v", err)
	}
	if _, err := readSnapshot(reader(all[:len(all)-20])); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("cut snapshot: %v", err)
	}
}

// txnBytes is a TxnHeader of zxid with an empty record.
func txnBytes(zxid int64) []byte {
	e := wire.NewEncoder(nil)
	e.Long(0x100)
	e.Int(1)
	e.Long(zxid)
	e.Long(1700000000000)
	e.Int(int32(wire.OpCloseSession))
	return e.Bytes()
}

type recorder struct {
	kind    PacketType
	zxid    int64
	snap    []byte
	txns    []int64 // flushed
	pending []int64
	synced  int
	// unflushedSyncs counts SYNCs answered with txns not flushed yet.
	unflushedSyncs int
	touched        []Touch
}

func (r *recorder) Begin(kind PacketType, zxid int64, snap []byte) error {
	r.kind, r.zxid, r.snap = kind, zxid, snap
	return nil
}
func (r *recorder) Txn(zxid int64, txn []byte) error { r.pending = append(r.pending, zxid); return nil }
func (r *recorder) Flush() error                     { r.txns = append(r.txns, r.pending...); r.pending = nil; return nil }
func (r *recorder) Touches() []Touch                 { return r.touched }
func (r *recorder) Synced()                          { r.synced++ }
func (r *recorder) Revalidated(int64, bool)          {}

// TestLearnerSession runs an observer against a scripted leader: the
// handshake, a SNAP sync with a DIFF-style tail, then INFORM, PING, SYNC.
func TestLearnerSession(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	leaderErr := make(chan error, 1)
	go func() { leaderErr <- scriptedLeader(ln) }()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := Dial(ctx, ln.Addr().String(), Hello{SID: 4, AcceptedEpoch: 1, CurrentEpoch: 1, LastZxid: 0x100000002, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.Epoch() != 2 {
		t.Errorf("epoch %d", l.Epoch())
	}
	rec := &recorder{touched: []Touch{{0x100, 30000}}}
	cfg, err := l.Sync(rec)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := snapshotStream(snapSignature)
	if rec.kind != Snap || rec.zxid != 0x100000005 || !bytes.Equal(rec.snap, body) || string(cfg) != "version=100000000" {
		t.Errorf("sync: %v 0x%x %d bytes, config %q", rec.kind, rec.zxid, len(rec.snap), cfg)
	}
	if err := l.Follow(rec); err != io.EOF {
		t.Errorf("follow ended with %v, want io.EOF", err)
	}
	if err := <-leaderErr; err != nil {
		t.Fatal(err)
	}
	if want := []int64{0x100000006, 0x200000001, 0x200000002}; !reflect.DeepEqual(rec.txns, want) || rec.synced != 1 || rec.unflushedSyncs != 0 {
		t.Errorf("txns %x (want %x), synced %d (%d before the txns before it were flushed)", rec.txns, want, rec.synced, rec.unflushedSyncs)
	}
}

func scriptedLeader(ln net.Listener) error {
	c, err := ln.Accept()
	if err != nil {
		return err
	}
	defer c.Close()
	r := bufio.NewReader(c)
	expect := func(typ PacketType, zxid int64) (*Packet, error) {
		p, err := ReadPacket(r)
		if err != nil {
			return nil, err
		}
		if p.Type != typ || p.Zxid != zxid {
			return nil, errors.New("leader got " + p.String() + ", want " + typ.String())
		}
		return p, nil
	}
	p, err := expect(ObserverInfo, 1<<32)
	if err != nil {
		return err
	}
	if li, err := ParseLearnerInfo(p.Data); err != nil || li.ServerID != 4 || li.ProtocolVersion != ProtocolVersion {
		return errors.New("bad learner info")
	}
	send := func(ps ...*Packet) error {
		var b []byte
		for _, p := range ps {
			b = p.AppendTo(b)
		}
		_, err := c.Write(b)
		return err
	}
	if err := send(&Packet{Type: LeaderInfo, Zxid: 2 << 32, Data: binary.BigEndian.AppendUint32(nil, ProtocolVersion)}); err != nil {
		return err
	}
	if p, err = expect(AckEpoch, 0x100000002); err != nil {
		return err
	}
	if int32(binary.BigEndian.Uint32(p.Data)) != 1 {
		return errors.New("ACKEPOCH without the current epoch")
	}
	if err := send(&Packet{Type: Snap, Zxid: 0x100000005}); err != nil {
		return err
	}
	_, snap := snapshotStream(snapSignature)
	if _, err := c.Write(snap); err != nil {
		return err
	}
	if err := send(
		&Packet{Type: Proposal, Zxid: 0x100000006, Data: txnBytes(0x100000006)},
		&Packet{Type: Commit, Zxid: 0x100000006},
		&Packet{Type: NewLeader, Zxid: 2 << 32, Data: []byte("version=100000000")},
	); err != nil {
		return err
	}
	if _, err := expect(Ack, 2<<32); err != nil {
		return err
	}
	if err := send(&Packet{Type: Inform, Zxid: 0x200000001, Data: txnBytes(0x200000001)}, &Packet{Type: UpToDate, Zxid: -1}); err != nil {
		return err
	}
	if _, err := expect(Ack, 2<<32); err != nil {
		return err
	}
	inform := append(binary.BigEndian.AppendUint64(nil, 1), txnBytes(0x200000002)...)
	if err := send(&Packet{Type: InformAndActivate, Zxid: 0x200000002, Data: inform}, &Packet{Type: Ping, Zxid: 0x200000002}, &Packet{Type: Sync}); err != nil {
		return err
	}
	p, err = expect(Ping, 0x200000002)
	if err != nil {
		return err
	}
	if ts, err := ParseTouches(p.Data); err != nil || len(ts) != 1 || ts[0].Session != 0x100 {
		return errors.New("PING reply without the touch")
	}
	return nil
}

// serveOne accepts one connection on a loopback port and hands it to
// serve; it returns the port's address.
func serveOne(t *testing.T, serve func(c net.Conn, r *bufio.Reader)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		serve(c, bufio.NewReader(c))
	}()
	return ln.Addr().String()
}

// leaderAnswering accepts one connection, reads the OBSERVERINFO,
// answers with the packets given and reads until the connection closes.
func leaderAnswering(t *testing.T, answer ...*Packet) string {
	t.Helper()
	return serveOne(t, func(c net.Conn, r *bufio.Reader) {
		if _, err := ReadPacket(r); err != nil {
			return
		}
		var b []byte
		for _, p := range answer {
			b = p.AppendTo(b)
		}
		c.Write(b)
		io.Copy(io.Discard, r)
	})
}

// A leader of a learner protocol we do not speak, or one that sends what
// the protocol does not allow, is an error that names it.
func TestLearnerRefuses(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	hello := Hello{SID: 4, Timeout: 30 * time.Second}
	old := leaderAnswering(t, &Packet{Type: LeaderInfo, Zxid: 1 << 32, Data: binary.BigEndian.AppendUint32(nil, 0x100)})
	if _, err := Dial(ctx, old, hello); err == nil || !strings.Contains(err.Error(), "version 0x100, which we do not speak") {
		t.Errorf("a leader of protocol 0x100: %v", err)
	}
	newLeader := leaderAnswering(t, &Packet{Type: NewLeader, Zxid: 1 << 32})
	if _, err := Dial(ctx, newLeader, hello); err == nil || !strings.Contains(err.Error(), "NEWLEADER") {
		t.Errorf("a leader that skips LEADERINFO: %v", err)
	}
	info := &Packet{Type: LeaderInfo, Zxid: 1 << 32, Data: binary.BigEndian.AppendUint32(nil, ProtocolVersion)}
	unexpected := leaderAnswering(t, info, &Packet{Type: Diff, Zxid: 0}, &Packet{Type: Request, Zxid: -1})
	l, err := Dial(ctx, unexpected, hello)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := l.Sync(&recorder{}); err == nil || !strings.Contains(err.Error(), "unexpected REQUEST") {
		t.Errorf("a REQUEST from the leader while syncing: %v", err)
	}
}

// fakeVoter answers the notifications it gets on its election port with
// answers in turn, the last one from then on.
func fakeVoter(t *testing.T, answers ...*Notification) string {
	t.Helper()
	return serveOne(t, func(c net.Conn, r *bufio.Reader) {
		if _, err := ReadHeader(r); err != nil {
			return
		}
		for i := 0; ; i++ {
			if _, err := ReadMessage(r); err != nil {
				return
			}
			a := answers[min(i, len(answers)-1)]
			if _, err := c.Write(AppendMessage(nil, a.Marshal())); err != nil {
				return
			}
		}
	})
}

// FindLeader asks again while the voters are still electing, and takes
// the leader a majority follows once it leads.
func TestFindLeader(t *testing.T) {
	looking := &Notification{State: Looking, Leader: 1, PeerEpoch: 1}
	leading := &Notification{State: Leading, Leader: 2, PeerEpoch: 2, Zxid: 0x200000000}
	following := &Notification{State: Following, Leader: 2, PeerEpoch: 2}
	voters := []Voter{
		{ID: 1, ElectionAddr: fakeVoter(t, looking, looking, following)},
		{ID: 2, ElectionAddr: fakeVoter(t, looking, leading)},
		{ID: 3, ElectionAddr: "127.0.0.1:1"}, // down
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	v, err := FindLeader(ctx, 4, "127.0.0.1:2", 0, voters)
	if err != nil || v.Leader != 2 || v.PeerEpoch != 2 {
		t.Errorf("FindLeader: %+v %v", v, err)
	}
	if _, err := FindLeader(ctx, 2, "127.0.0.1:2", 0, voters); err == nil || !strings.Contains(err.Error(), "voter 2 has an id not below ours (2)") {
		t.Errorf("FindLeader as server 2: %v", err)
	}
}
