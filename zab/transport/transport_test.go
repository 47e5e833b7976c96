package transport

import (
	"bufio"
	"encoding/binary"
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/zkgo/zkgo/internal/freeport"
	"github.com/zkgo/zkgo/wire"
	"github.com/zkgo/zkgo/zab"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	// Outside the kernel's ephemeral range: a port the kernel handed
	// out and took back could be given to another process's outgoing
	// connection before the transport listens on it.
	port, err := freeport.Pick()
	if err != nil {
		t.Fatal(err)
	}
	return "127.0.0.1:" + strconv.Itoa(port)
}

func receive(t *testing.T, tr *Transport, n int) []zab.Message {
	t.Helper()
	var out []zab.Message
	deadline := time.After(10 * time.Second)
	for len(out) < n {
		select {
		case m := <-tr.Recv():
			out = append(out, m)
		case <-deadline:
			t.Fatalf("received %d of %d messages", len(out), n)
		}
	}
	return out
}

// twoPeers starts transports for peers 1 and 2 on fresh addresses; a is
// closed when the test ends, b is the test's to close.
func twoPeers(t *testing.T) ([]Peer, *Transport, *Transport) {
	t.Helper()
	peers := []Peer{
		{ID: 1, QuorumAddr: freeAddr(t), ElectionAddr: freeAddr(t)},
		{ID: 2, QuorumAddr: freeAddr(t), ElectionAddr: freeAddr(t)},
	}
	a, err := New(Config{ID: 1, Peers: peers})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	b, err := New(Config{ID: 2, Peers: peers})
	if err != nil {
		t.Fatal(err)
	}
	return peers, a, b
}

// Messages arrive in order per port, votes over the election port, and a
// restarted peer is reconnected to.
func TestSendReceiveReconnect(t *testing.T) {
	peers, a, b := twoPeers(t)

	var msgs []zab.Message
	for i := range 1000 {
		msgs = append(msgs, zab.Message{Type: zab.MsgProposal, From: 1, To: 2, Seq: uint64(i + 1),
			Entries: []zab.Entry{{Zxid: int64(i + 1), Data: []byte("data")}}})
	}
	msgs = append(msgs, zab.Message{Type: zab.MsgVote, From: 1, To: 2, Round: 7})
	msgs = append(msgs, zab.Message{Type: zab.MsgPing, From: 1, To: 3}) // unknown peer
	a.Send(msgs)
	got := receive(t, b, 1001)
	seq := uint64(0)
	votes := 0
	for _, m := range got {
		if m.Type == zab.MsgVote {
			votes++
			continue
		}
		if m.Seq != seq+1 || string(m.Entries[0].Data) != "data" {
			t.Fatalf("message %v after seq %d", m, seq)
		}
		seq = m.Seq
	}
	if votes != 1 {
		t.Fatalf("%d votes", votes)
	}

	// Restart b: a reconnects (messages sent meanwhile may be lost).
	b.Close()
	b, err := New(Config{ID: 2, Peers: peers})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		a.Send([]zab.Message{{Type: zab.MsgPing, From: 1, To: 2, Commit: 5}})
		select {
		case m := <-b.Recv():
			if m.Commit != 5 {
				t.Fatalf("got %v", m)
			}
			return
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("no message after the peer restarted")
		}
	}
}

func waitLost(t *testing.T, tr *Transport, want int64) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case id := <-tr.Disconnected():
			if id == want {
				return
			}
			t.Fatalf("lost connection reported for peer %d, want %d", id, want)
		case <-deadline:
			t.Fatalf("no lost connection reported for peer %d", want)
		}
	}
}

// A peer that goes away is reported at once: its incoming connection
// closes, and connecting to it is refused.
func TestDisconnectedReported(t *testing.T) {
	_, a, b := twoPeers(t)
	b.Send([]zab.Message{{Type: zab.MsgPing, From: 2, To: 1}})
	receive(t, a, 1)
	select {
	case id := <-a.Disconnected():
		t.Fatalf("peer %d reported lost while connected", id)
	default:
	}
	b.Close()
	waitLost(t, a, 2) // b's connection to a closed
	a.Send([]zab.Message{{Type: zab.MsgPing, From: 1, To: 2}})
	waitLost(t, a, 2) // connecting to b is refused
}

// A server that the other's configuration does not list (one joining by
// reconfiguration) is answered: its connection announces its addresses.
func TestUnlistedPeerIsAnswered(t *testing.T) {
	one := Peer{ID: 1, QuorumAddr: freeAddr(t), ElectionAddr: freeAddr(t)}
	four := Peer{ID: 4, QuorumAddr: freeAddr(t), ElectionAddr: freeAddr(t)}
	a, err := New(Config{ID: 1, Peers: []Peer{one}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := New(Config{ID: 4, Peers: []Peer{one, four}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	a.Send([]zab.Message{{Type: zab.MsgPing, From: 1, To: 4}}) // unknown yet: dropped
	b.Send([]zab.Message{{Type: zab.MsgVote, From: 4, To: 1, Round: 3}})
	if m := receive(t, a, 1)[0]; m.From != 4 || m.Round != 3 {
		t.Fatalf("server 1 received %v", m)
	}
	a.Send([]zab.Message{{Type: zab.MsgVote, From: 1, To: 4, Round: 5}})
	if m := receive(t, b, 1)[0]; m.From != 1 || m.Round != 5 {
		t.Fatalf("server 4 received %v", m)
	}
}

// A peer that stops reading fills the queue to it: the queue is dropped,
// the connection is closed (the peer sees it end) and the loss is reported
// at once, instead of the messages vanishing unnoticed; the next message
// opens a new connection.
func TestFullQueueDropsConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 2)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c // and never read from it
		}
	}()
	peers := []Peer{
		{ID: 1, QuorumAddr: freeAddr(t), ElectionAddr: freeAddr(t)},
		{ID: 2, QuorumAddr: ln.Addr().String(), ElectionAddr: freeAddr(t)},
	}
	a, err := New(Config{ID: 1, Peers: peers, MaxQueue: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()

	big := make([]byte, 1<<20)
	var conns []net.Conn // accepted so far, oldest first
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for seq, lost := uint64(1), false; !lost; seq++ {
		if time.Now().After(deadline) {
			t.Fatalf("no lost connection reported after %d messages of 1 MiB to a peer that does not read", seq)
		}
		a.Send([]zab.Message{{Type: zab.MsgRequest, From: 1, To: 2, Seq: seq, Data: big}})
		select {
		case id := <-a.Disconnected():
			if id != 2 {
				t.Fatalf("lost connection reported for peer %d, want 2", id)
			}
			lost = true
		case c := <-accepted:
			conns = append(conns, c)
		default:
		}
	}
	if a.Dropped() == 0 {
		t.Error("a full queue dropped nothing")
	}
	awaitConns := func(n int) {
		t.Helper()
		for len(conns) < n {
			select {
			case c := <-accepted:
				conns = append(conns, c)
			case <-time.After(5 * time.Second):
				t.Fatalf("%d connections from the sender, want %d", len(conns), n)
			}
		}
	}
	awaitConns(1)
	// The peer sees its connection end once it reads what was sent.
	conns[0].SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.Copy(io.Discard, conns[0]); err != nil {
		t.Fatalf("the connection to the peer that stopped reading was not closed: %v", err)
	}
	a.Send([]zab.Message{{Type: zab.MsgPing, From: 1, To: 2}})
	awaitConns(2)
}

// Messages sent faster than the peer reads arrive whole and in order: Send
// writes what the socket takes at once and the link's goroutine the rest,
// the tail of a partly written frame first.
func TestSlowReaderGetsEverythingInOrder(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	peers := []Peer{
		{ID: 1, QuorumAddr: freeAddr(t), ElectionAddr: freeAddr(t)},
		{ID: 2, QuorumAddr: ln.Addr().String(), ElectionAddr: freeAddr(t)},
	}
	a, err := New(Config{ID: 1, Peers: peers})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	const n, size = 2000, 16 << 10
	send := func(seq uint64) {
		data := make([]byte, size)
		binary.BigEndian.PutUint64(data, seq)
		binary.BigEndian.PutUint64(data[size-8:], seq)
		a.Send([]zab.Message{{Type: zab.MsgRequest, From: 1, To: 2, Seq: seq, Data: data}})
	}

	send(1)
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(10 * time.Second))
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(c)
	var hdr [len(magic) + 8 + 1 + 2]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		t.Fatal(err)
	}
	if _, err := br.Discard(int(binary.BigEndian.Uint16(hdr[len(hdr)-2:]))); err != nil {
		t.Fatal(err)
	}
	expect := func(seq uint64) {
		t.Helper()
		pkt, err := wire.ReadFrame(br, nil, 1<<30)
		if err != nil {
			t.Fatalf("reading message %d: %v", seq, err)
		}
		m, err := zab.UnmarshalMessage(pkt)
		if err != nil {
			t.Fatalf("message %d: %v", seq, err)
		}
		d := m.Data
		if m.Seq != seq || len(d) != size || binary.BigEndian.Uint64(d) != seq || binary.BigEndian.Uint64(d[size-8:]) != seq {
			t.Fatalf("message %d arrived as seq %d with %d bytes", seq, m.Seq, len(d))
		}
	}
	// One at a time while connected: Send writes them itself.
	for seq := uint64(1); seq <= 10; seq++ {
		if seq > 1 {
			send(seq)
		}
		expect(seq)
	}
	// Far more than the sockets' buffers hold, before the peer reads on.
	for seq := uint64(11); seq <= n; seq++ {
		send(seq)
	}
	for seq := uint64(11); seq <= n; seq++ {
		expect(seq)
	}
	if d := a.Dropped(); d != 0 {
		t.Fatalf("%d messages dropped", d)
	}
}
