package test

import (
	"net"
	"regexp"
	"testing"
	"time"

	"github.com/zkgo/zkgo/test/harness"
	"github.com/zkgo/zkgo/wire"
)

// Reconnecting with an existing session to a follower: as with Apache
// ZooKeeper (a REVALIDATE to the leader), the follower answers only what
// the leader says, not what its own, possibly late, tree says. Each case
// delays the leader's messages to follower B, so that B learns of a
// session's change only well after the client that made it on follower A
// got its answer, and then reconnects the session on B at once. The last
// case cuts B off from the leader: B has no answer to give until it gives
// up on the leader (syncLimit) and closes the connection.
func TestSessionRevalidateThroughLeader(t *testing.T) {
	servers, nw := harness.StartFaultyEnsemble(t, 3, map[string]string{"syncLimit": "2"})
	var leader *harness.Server
	var followers []*harness.Server
	for _, s := range servers {
		if s.WaitMode(30*time.Second, "leader", "follower") == "leader" {
			leader = s
		} else {
			followers = append(followers, s)
		}
	}
	if leader == nil || len(followers) != 2 {
		t.Fatalf("no leader with two followers: leader %v, %d followers", leader, len(followers))
	}
	a, b := followers[0], followers[1]
	const lag = 1500 * time.Millisecond

	t.Run("created elsewhere", func(t *testing.T) {
		nw.Delay(leader.ID(), b.ID(), lag)
		defer nw.Heal()
		nc, created, err := handshake(a.Addr(), 10000)
		if err != nil {
			t.Fatalf("new session on server %d: %v", a.ID(), err)
		}
		defer nc.Close()
		// B has not applied the createSession yet: its own tree would call
		// the session expired.
		got, err := revalidateResume(b.Addr(), created)
		if err != nil {
			t.Fatalf("resume session 0x%x on server %d: %v", created.SessionID, b.ID(), err)
		}
		if got.SessionID != created.SessionID || got.TimeOut <= 0 {
			t.Fatalf("resuming session 0x%x (created on server %d) on server %d: got session 0x%x timeout %d, want the session",
				created.SessionID, a.ID(), b.ID(), got.SessionID, got.TimeOut)
		}
	})

	t.Run("closed elsewhere", func(t *testing.T) {
		nc, created, err := handshake(a.Addr(), 10000)
		if err != nil {
			t.Fatalf("new session on server %d: %v", a.ID(), err)
		}
		defer nc.Close()
		// B holds the session before the lag starts.
		awaitSameZxid(t, a, b)
		nw.Delay(leader.ID(), b.ID(), lag)
		defer nw.Heal()
		closeRaw(t, nc)
		// B has not applied the closeSession yet: its own tree would call
		// the session valid.
		got, err := revalidateResume(b.Addr(), created)
		if err != nil {
			t.Fatalf("resume session 0x%x on server %d: %v", created.SessionID, b.ID(), err)
		}
		if got.SessionID != 0 || got.TimeOut != 0 {
			t.Fatalf("resuming session 0x%x (closed on server %d) on server %d: got session 0x%x timeout %d, want the expired answer",
				created.SessionID, a.ID(), b.ID(), got.SessionID, got.TimeOut)
		}
	})

	t.Run("leader unreachable", func(t *testing.T) {
		nc, created, err := handshake(a.Addr(), 10000)
		if err != nil {
			t.Fatalf("new session on server %d: %v", a.ID(), err)
		}
		defer nc.Close()
		awaitSameZxid(t, a, b)
		nw.Cut(leader.ID(), b.ID())
		nw.Cut(b.ID(), leader.ID())
		defer nw.Heal()
		// B's tree holds the session, but only the leader may say it lives.
		got, err := revalidateResume(b.Addr(), created)
		if err == nil {
			t.Fatalf("resuming session 0x%x on server %d, cut off from the leader: got session 0x%x timeout %d, want the connection closed",
				created.SessionID, b.ID(), got.SessionID, got.TimeOut)
		}
	})
}

// revalidateResume reconnects the session of created on addr and returns
// the answer; an error if the server closed the connection instead.
func revalidateResume(addr string, created wire.ConnectResponse) (wire.ConnectResponse, error) {
	var resp wire.ConnectResponse
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return resp, err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(15 * time.Second))
	req := &wire.ConnectRequest{TimeOut: created.TimeOut, SessionID: created.SessionID, Passwd: created.Passwd}
	if _, err := nc.Write(wire.AppendFrame(nil, req)); err != nil {
		return resp, err
	}
	pkt, err := wire.ReadFrame(nc, nil, wire.DefaultMaxBuffer)
	if err != nil {
		return resp, err
	}
	err = wire.Decode(pkt, &resp)
	return resp, err
}

// closeRaw closes the session of a raw connection and waits for the answer.
func closeRaw(t *testing.T, nc net.Conn) {
	t.Helper()
	nc.SetDeadline(time.Now().Add(15 * time.Second))
	if _, err := nc.Write(wire.AppendFrame(nil, &wire.RequestHeader{Xid: 1, Type: wire.OpCloseSession})); err != nil {
		t.Fatal(err)
	}
	pkt, err := wire.ReadFrame(nc, nil, wire.DefaultMaxBuffer)
	if err != nil {
		t.Fatalf("closeSession: %v", err)
	}
	var h wire.ReplyHeader
	if err := wire.Decode(pkt, &h); err != nil || h.Xid != 1 || h.Err != wire.ErrOK {
		t.Fatalf("closeSession: reply %+v, %v", h, err)
	}
}

var srvrZxid = regexp.MustCompile(`(?m)^Zxid: (0x[0-9a-f]+)$`)

// awaitSameZxid waits until b has applied as much as a.
func awaitSameZxid(t *testing.T, a, b *harness.Server) {
	t.Helper()
	zxid := func(s *harness.Server) string {
		out, err := s.FourLetter("srvr")
		if err != nil {
			t.Fatalf("srvr on server %d: %v", s.ID(), err)
		}
		m := srvrZxid.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("srvr on server %d: no Zxid line in %q", s.ID(), out)
		}
		return m[1]
	}
	want := zxid(a)
	for deadline := time.Now().Add(10 * time.Second); zxid(b) != want; {
		if time.Now().After(deadline) {
			t.Fatalf("server %d did not reach zxid %s of server %d", b.ID(), want, a.ID())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
