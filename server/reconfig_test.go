package server

import (
	"strings"
	"testing"

	"github.com/zkgo/zkgo/conf"
	"github.com/zkgo/zkgo/wire"
	"github.com/zkgo/zkgo/zab"
	"github.com/zkgo/zkgo/znode"
)

// membersOf recognizes a prepared reconfig txn only.
func TestMembersOf(t *testing.T) {
	text := "server.1=127.0.0.1:2888:3888:participant\nserver.2=127.0.0.1:2889:3889:observer;0.0.0.0:2182\nversion=0"
	prepared := wire.Encode(&znode.Txn{Zxid: 7, Type: wire.OpReconfig, Body: &wire.ReconfigRequest{NewMembers: text, CurConfigID: -1}})
	m, ok := membersOf(prepared)
	if !ok || len(m.Voters) != 1 || m.Voters[0] != 1 || len(m.Observers) != 1 || m.Observers[0] != 2 {
		t.Fatalf("membersOf(prepared) = %+v, %v", m, ok)
	}
	refused := wire.Encode(&znode.Txn{Zxid: 8, Type: wire.OpReconfig, Body: &wire.ReconfigRequest{CurConfigID: int64(wire.ErrNewConfigNoQuorum)}})
	if _, ok := membersOf(refused); ok {
		t.Error("a refused reconfig changes the membership")
	}
	other := wire.Encode(&znode.Txn{Zxid: 9, Type: wire.OpSetData, Body: &wire.SetDataRequest{Path: "/zookeeper/config", Data: []byte(text), Version: -1}})
	if _, ok := membersOf(other); ok {
		t.Error("a setData of /zookeeper/config changes the membership")
	}
}

// leader and voting_view answer as Apache's admin commands in an ensemble.
func TestAdminLeaderAndVotingView(t *testing.T) {
	servers, err := conf.ParseMembers("server.1=127.0.0.1:2888:3888;127.0.0.1:2181,server.2=127.0.0.2:2889:3889,server.3=127.0.0.3:2890:3890:observer")
	if err != nil {
		t.Fatal(err)
	}
	q := &quorumPeer{}
	q.rc.view.Store(&servers)
	q.state.Store(&peerState{role: zab.Following, leader: 2, serving: true})
	s := &Server{quorum: q}

	lead := newJSONObject()
	s.adminLeader(lead)
	if lead.vals["is_leader"] != false || lead.vals["leader_id"] != int64(2) || lead.vals["leader_ip"] != "127.0.0.2" {
		t.Errorf("leader: %v", lead.vals)
	}
	vv := newJSONObject()
	s.adminVotingView(vv)
	cur := vv.vals["current_config"].(*jsonObject)
	if strings.Join(cur.keys, ",") != "1,2" {
		t.Fatalf("voting_view lists %v, want the voters 1 and 2", cur.keys)
	}
	one := cur.vals["1"].(*jsonObject)
	if one.vals["clientAddress"] != "127.0.0.1:2181" || one.vals["learnerType"] != "participant" ||
		one.vals["serverAddresses"].([]any)[0] != "127.0.0.1:2888" || one.vals["electionAddresses"].([]any)[0] != "127.0.0.1:3888" {
		t.Errorf("voting_view server 1: %v", one.vals)
	}
	if two := cur.vals["2"].(*jsonObject); two.vals["clientAddress"] != "" {
		t.Errorf("voting_view server 2 without a client address: %v", two.vals)
	}
	standalone := newJSONObject()
	(&Server{}).adminLeader(standalone)
	if standalone.vals["error"] != "server is not initialized" {
		t.Errorf("standalone leader: %v", standalone.vals)
	}
}
