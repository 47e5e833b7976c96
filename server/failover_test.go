package server

import (
	"net"
	"testing"

	"go.uber.org/zap"

	"github.com/zkgo/zkgo/conf"
	"github.com/zkgo/zkgo/wire"
	"github.com/zkgo/zkgo/zab"
	"github.com/zkgo/zkgo/znode"
)

// TestReattachWaitsForTheNextLeader: a session created on the leader
// re-attaches to a follower that lost the leader and holds its clients
// (failover.go). Its connection was admitted while the follower served
// (awaitServing had nothing to wait for) and its ConnectRequest arrives
// once the follower holds: the follower keeps the session's revalidation
// until it serves again with the next leader, which answers it, rather
// than closing the connection. The other follower is stopped too, so that
// the next leader is elected only once it restarts: the re-attach
// certainly comes while there is none. The session keeps its id, and the
// ephemeral node it owns survives.
//
// Before the hold kept revalidations, the follower closed the connection
// as soon as the ConnectRequest came (the test fails reading the
// response). That needs the connection's goroutine to have passed
// awaitServing before the follower noticed the leader's loss (else the
// connection waits there for the follower to serve, and the test passes
// without the hold keeping anything); nothing outside the server tells
// when it has, so the test makes a round trip to the follower first. With
// the fix the order does not matter.
func TestReattachWaitsForTheNextLeader(t *testing.T) {
	servers := startInProcessEnsemble(t, 3, func(c *conf.Config) { c.LeaderLossHoldMs = 30000 })
	leader := leaderOf(t, servers)
	var followers []*Server
	for _, s := range servers {
		if s != leader {
			followers = append(followers, s)
		}
	}
	f, other := followers[0], followers[1]

	owner := newRaw(t, leader)
	id, passwd := owner.resp.SessionID, owner.resp.Passwd
	h := owner.expect(wire.ErrOK, wire.OpCreate, create("/e", "", wire.FlagEphemeral), nil)
	sameZxid(t, servers, h.Zxid)

	nc, err := net.DialTimeout("tcp", f.Addr().String(), waitLimit)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	frame := connectFrame(wire.ConnectRequest{SessionID: id, Passwd: passwd, LastZxidSeen: h.Zxid})
	// The frame's length: not a four-letter word, so the server admits
	// the connection and waits for the rest.
	if _, err := nc.Write(frame[:4]); err != nil {
		t.Fatal(err)
	}
	// A round trip to the follower on another connection, accepted after
	// the first had its bytes: the first connection's goroutine has
	// almost certainly passed awaitServing by its end (see above).
	if got := fourLetter(t, f.Addr().String(), "ruok"); got != "imok" {
		t.Fatalf("ruok: %q", got)
	}
	leader.Close()
	other.Close()
	owner.waitClosed()
	waitFor(t, "the follower holds its clients", f.holding)
	if _, err := nc.Write(frame[4:]); err != nil {
		t.Fatal(err)
	}

	startServerWith(t, other.cfg)
	c, err := connectedRaw(t, nc)
	if err != nil {
		t.Fatalf("re-attaching while the ensemble had no leader: %v", err)
	}
	if c.resp.SessionID != id || c.resp.TimeOut == 0 {
		t.Fatalf("re-attached as %+v, want session %#x", c.resp, id)
	}
	var st wire.StatResponse
	c.expect(wire.ErrOK, wire.OpExists, &wire.PathWatchRequest{Path: "/e"}, &st)
	if st.Stat.EphemeralOwner != id {
		t.Fatalf("/e is owned by %#x, want %#x", st.Stat.EphemeralOwner, id)
	}
	// The session works with the new leader: a write through it.
	c.expect(wire.ErrOK, wire.OpCreate, create("/e2", "", wire.FlagEphemeral), nil)
}

// TestHoldKeepsRevalidations drives an ensemble server's driver state by
// hand (no driver runs): the revalidations pending when a hold begins, and
// those asked during it, are kept and asked again once the server serves,
// and are lost when the hold ends without serving; a leader that loses its
// quorum does not hold, and loses them at once.
func TestHoldKeepsRevalidations(t *testing.T) {
	cfg := testConfig(t, func(c *conf.Config) {
		c.LeaderLossHoldMs = 30000
		for i := int64(1); i <= 3; i++ {
			c.Servers = append(c.Servers, conf.Server{ID: i, Host: "127.0.0.1", QuorumPort: freePort(t),
				ElectionPort: freePort(t)})
		}
		c.MyID = 1
	})
	s := New(cfg, zap.NewNop())
	t.Cleanup(func() { s.Close() })
	s.tree = znode.NewTree(s.treeOptions())
	q := s.quorum
	newReval := func(session int64) *revalidation {
		return &revalidation{session: session, timeout: 10000, passwd: make([]byte, 16),
			result: make(chan revalResult, 1)}
	}
	unanswered := func(what string, rvs ...*revalidation) {
		t.Helper()
		for _, rv := range rvs {
			select {
			case res := <-rv.result:
				t.Fatalf("%s: session %#x answered %d", what, rv.session, res)
			default:
			}
		}
	}
	answered := func(what string, want revalResult, rvs ...*revalidation) {
		t.Helper()
		for _, rv := range rvs {
			select {
			case res := <-rv.result:
				if res != want {
					t.Fatalf("%s: session %#x answered %d, want %d", what, rv.session, res, want)
				}
			default:
				t.Fatalf("%s: session %#x not answered", what, rv.session)
			}
		}
	}

	// A follower loses its leader with a revalidation pending there.
	pending := newReval(1)
	q.revalPending[7] = pending
	if !q.startHold(zab.Status{Role: zab.Following, Serving: true, Leader: 2}) {
		t.Fatal("a follower that lost its leader does not hold")
	}
	asked := newReval(2)
	q.startRevalidation(asked)
	unanswered("holding", pending, asked)
	if len(q.revalPending) != 0 {
		t.Fatalf("%d revalidations still pending with the old leader", len(q.revalPending))
	}
	// It serves again, as the leader: it answers them itself (the
	// sessions are unknown: invalid).
	q.status = zab.Status{Role: zab.Leading, Serving: true, Leader: 1}
	q.resume()
	answered("serving again", revalInvalid, pending, asked)

	// The hold's bound passes.
	q.status = zab.Status{Role: zab.Looking}
	q.beginHold("test")
	kept := newReval(3)
	q.startRevalidation(kept)
	unanswered("holding", kept)
	q.stopServing()
	answered("past the hold", revalLost, kept)

	// A leader that loses its quorum does not hold.
	lost := newReval(4)
	if q.startHold(zab.Status{Role: zab.Leading, Serving: true, Leader: 1}) {
		t.Fatal("a leader that lost its quorum holds")
	}
	q.startRevalidation(lost)
	answered("not holding", revalLost, lost)
}
