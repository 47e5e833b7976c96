package server

import (
	"testing"

	"github.com/zkgo/zkgo/wire"
)

// TestLeaderNeverBehindAFollower: a follower answers a write once the
// leader's COMMIT reached it, and the leader applies a committed txn before
// it sends that COMMIT, so by the time a client holds the answer (and its
// zxid) the leader's tree is at least that far. A client that then loses
// the follower can always reconnect to the leader: a server refuses a
// client that has seen a newer zxid than its own. (go-zookeeper's
// TestIntegration_DNSHostProviderReconnect once found both other servers
// behind when the leader sent its COMMIT before applying.) The writes fail
// (no such node), as that test's: a failed write is a txn too.
func TestLeaderNeverBehindAFollower(t *testing.T) {
	servers := startInProcessEnsemble(t, 3, nil)
	leader := leaderOf(t, servers)
	c := newRaw(t, follower(t, servers))
	for range 300 {
		h := c.expect(wire.ErrNoNode, wire.OpDelete, &wire.PathVersionRequest{Path: "/none", Version: -1}, nil)
		if last := leader.tree.LastZxid(); last < h.Zxid {
			t.Fatalf("a follower answered zxid 0x%x while the leader had applied only 0x%x", h.Zxid, last)
		}
	}
}
