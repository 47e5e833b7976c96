package jepsen

import (
	"fmt"
	"math/rand"
	"reflect"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkgo/zkgo/test/harness"
)

// TestPartitionIsolatedLeader cuts the leader of a 3-server ensemble off
// from its followers (silently, both ways): the two followers elect a new
// leader and serve writes, the old leader stops serving its clients, and
// after the network heals all three hold the same tree, with every write
// acknowledged before, during and after the partition.
func TestPartitionIsolatedLeader(t *testing.T) {
	servers, nw := harness.StartFaultyEnsemble(t, 3, ensembleCfg)
	waitLeader(t, servers)
	old := currentLeader(servers)
	if old == nil {
		t.Fatal("no leader")
	}
	var rest []*harness.Server
	for _, s := range servers {
		if s != old {
			rest = append(rest, s)
		}
	}

	c := connect(t, servers, rand.New(rand.NewSource(1)))
	defer c.Close()
	mustCreate(t, c, "/before", []byte("b"))
	// A session on the old leader alone, to see it stop serving.
	onOld := connect(t, []*harness.Server{old}, rand.New(rand.NewSource(2)))
	defer onOld.Close()
	if _, err := onOld.Sync("/before"); err != nil {
		t.Fatalf("sync on the leader: %v", err)
	}

	nw.Isolate(old.ID())
	t.Logf("isolated the leader, server %d: %s", old.ID(), nw)

	// The majority elects one of its own.
	newLeader := waitLeaderAmong(t, rest)
	t.Logf("server %d leads the majority", newLeader.ID())

	// It serves writes.
	maj := connect(t, rest, rand.New(rand.NewSource(3)))
	defer maj.Close()
	for i := range 5 {
		mustCreate(t, maj, fmt.Sprintf("/during-%d", i), []byte("d"))
	}

	// The old leader gives up leadership and serves no client: its srvr
	// says so, and a write through its session does not succeed.
	waitNotServing(t, old)
	_, isolatedErr := onOld.Create("/on-isolated", nil, 0, zk.WorldACL(zk.PermAll))
	if isolatedErr == nil {
		t.Errorf("a write through the isolated old leader succeeded")
	}
	t.Logf("a write through the isolated old leader: %v", isolatedErr)

	nw.Heal()
	t.Logf("healed: %s", nw)
	waitLeader(t, servers)
	mustCreate(t, maj, "/after", []byte("a"))

	trees := make([]map[string]string, len(servers))
	for i, s := range servers {
		trees[i] = readTree(t, s)
	}
	for _, p := range []string{"/before", "/during-0", "/during-4", "/after"} {
		if _, ok := trees[0][p]; !ok {
			t.Errorf("server %d lost acknowledged %s", servers[0].ID(), p)
		}
	}
	if _, ok := trees[0]["/on-isolated"]; ok && isolatedErr != zk.ErrConnectionClosed {
		t.Errorf("/on-isolated exists although its create failed with %v", isolatedErr)
	}
	for i := 1; i < len(trees); i++ {
		if !reflect.DeepEqual(trees[i], trees[0]) {
			t.Errorf("server %d's tree differs from server %d's:\n%v\n%v", servers[i].ID(), servers[0].ID(), trees[i], trees[0])
		}
	}
	t.Logf("%d servers hold the same tree of %d nodes", len(servers), len(trees[0]))
}

// TestPartitionFiveSplits splits a 5-server ensemble into 2+3 with the
// leader on the minority side, then makes a one-way cut on the majority:
// the majority of three keeps serving writes throughout, and after healing
// no acknowledged write is missing anywhere.
func TestPartitionFiveSplits(t *testing.T) {
	servers, nw := harness.StartFaultyEnsemble(t, 5, ensembleCfg)
	waitLeader(t, servers)
	old := currentLeader(servers)
	minority := []int{old.ID()}
	var majority []*harness.Server
	for _, s := range servers {
		if s == old {
			continue
		}
		if len(minority) < 2 {
			minority = append(minority, s.ID())
		} else {
			majority = append(majority, s)
		}
	}
	nw.Partition(minority)
	t.Logf("partition: %v | rest; %s", minority, nw)
	leader := waitLeaderAmong(t, majority)
	c := connect(t, majority, rand.New(rand.NewSource(4)))
	defer c.Close()
	var acked []string
	for i := range 5 {
		p := fmt.Sprintf("/split-%d", i)
		mustCreate(t, c, p, nil)
		acked = append(acked, p)
	}
	waitNotServing(t, old)

	t.Logf("server %d leads the majority", leader.ID())

	// Healed, then a one-way cut: the leader no longer hears one follower
	// (which still hears the leader); the other three make a quorum.
	nw.Heal()
	waitLeader(t, servers)
	leader = currentLeader(servers)
	var follower *harness.Server
	for _, s := range servers {
		if s != leader {
			follower = s
			break
		}
	}
	nw.Cut(follower.ID(), leader.ID())
	t.Logf("one-way cut: %s", nw)
	for i := range 5 {
		p := fmt.Sprintf("/oneway-%d", i)
		mustCreate(t, c, p, nil)
		acked = append(acked, p)
	}
	nw.Heal()
	waitLeader(t, servers)
	for _, s := range servers {
		tree := readTree(t, s)
		for _, p := range acked {
			if _, ok := tree[p]; !ok {
				t.Errorf("server %d lost acknowledged %s", s.ID(), p)
			}
		}
	}
}

// waitLeaderAmong polls until one of servers leads and the others follow.
func waitLeaderAmong(t *testing.T, servers []*harness.Server) *harness.Server {
	t.Helper()
	deadline := time.Now().Add(recoveryTimeout)
	for {
		var leader *harness.Server
		leaders, followers := 0, 0
		for _, s := range servers {
			switch s.Mode() {
			case "leader":
				leaders++
				leader = s
			case "follower":
				followers++
			}
		}
		if leaders == 1 && leaders+followers == len(servers) {
			return leader
		}
		if time.Now().After(deadline) {
			t.Fatalf("no leader among %d servers after %v (%d leaders, %d followers)", len(servers), recoveryTimeout, leaders, followers)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitNotServing polls until s no longer says it leads or follows.
func waitNotServing(t *testing.T, s *harness.Server) {
	t.Helper()
	deadline := time.Now().Add(recoveryTimeout)
	for {
		m := s.Mode()
		if m != "leader" && m != "follower" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("server %d still says %q after %v without a quorum", s.ID(), m, recoveryTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// readTree reads every node's path and data from server s through a
// session on it alone, after a sync. /zookeeper/config is left out: in an
// ensemble of StartFaultyEnsemble each server's zoo.cfg names the proxies it
// dials, so each shows its own.
func readTree(t *testing.T, s *harness.Server) map[string]string {
	t.Helper()
	c := connect(t, []*harness.Server{s}, rand.New(rand.NewSource(5)))
	defer c.Close()
	out := map[string]string{}
	if err := harness.WalkTree(c, func(p string, data []byte, _ *zk.Stat) {
		if p != "/zookeeper/config" {
			out[p] = string(data)
		}
	}); err != nil {
		t.Fatalf("server %d: %v", s.ID(), err)
	}
	return out
}
