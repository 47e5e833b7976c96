package server

import (
	"math/rand/v2"
	"reflect"
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

// The monitor reads the leader and the membership of the quorum state.
func TestMonitorViewOfTheQuorum(t *testing.T) {
	servers, err := conf.ParseMembers("server.1=127.0.0.1:2888:3888;127.0.0.1:2181,server.2=127.0.0.2:2889:3889,server.3=127.0.0.3:2890:3890:observer")
	if err != nil {
		t.Fatal(err)
	}
	q := &ensemble{}
	q.rc.view.Store(&publishedView{version: 7, servers: servers})
	q.state.Store(&peerState{role: zab.Following, leader: 2, serving: true})
	v := monitorView{&Server{quorum: q}}
	if id, leading := v.Leader(); id != 2 || leading {
		t.Errorf("Leader() = %d, %v; want 2, false", id, leading)
	}
	if got, version, ok := v.View(); !ok || version != 7 || !reflect.DeepEqual(got, servers) {
		t.Errorf("View() = %v, %d, %v", got, version, ok)
	}
	if _, _, ok := (monitorView{&Server{}}).View(); ok {
		t.Error("a standalone server has a view")
	}
}

type emptyLog struct{}

func (emptyLog) Iterate(int64, func(int64, []byte) error) error { return nil }

// soloLeader returns a ensemble whose node leads a one-voter ensemble.
func soloLeader(t *testing.T, cfg *conf.Config) *ensemble {
	t.Helper()
	n, err := zab.NewNode(zab.Config{ID: 1, Voters: []int64{1}, InitLimit: 10, SyncLimit: 5, ElectionTicks: 2,
		Log: emptyLog{}, Rand: rand.New(rand.NewPCG(1, 2)), Members: membersOf})
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		if n.Status().Serving {
			break
		}
		n.Tick()
		if rd := n.Ready(); len(rd.Entries) > 0 {
			n.Persisted(rd.Entries[len(rd.Entries)-1].Zxid)
		}
	}
	if !n.Status().Serving {
		t.Fatal("a one-voter ensemble did not elect itself")
	}
	s := &Server{cfg: cfg, tree: znode.NewTree(znode.Options{})}
	q := &ensemble{s: s, node: n}
	servers, _ := conf.ParseMembers("server.1=127.0.0.1:2888:3888;2181")
	q.rc.servers, q.rc.version = servers, 0x100000001
	return q
}

// The leader's checks, in Apache's order and with its error codes.
func TestCheckReconfig(t *testing.T) {
	q := soloLeader(t, &conf.Config{})
	super := []wire.Id{{Scheme: "super"}}
	one := "server.1=127.0.0.1:2888:3888;2181"
	for _, c := range []struct {
		name string
		req  wire.ReconfigRequest
		auth []wire.Id
		want wire.ErrCode
	}{
		{"same members", wire.ReconfigRequest{NewMembers: one, CurConfigID: -1}, super, wire.ErrOK},
		{"from the active version", wire.ReconfigRequest{NewMembers: one, CurConfigID: 0x100000001}, super, wire.ErrOK},
		{"from another version", wire.ReconfigRequest{NewMembers: one, CurConfigID: 5}, super, wire.ErrBadVersion},
		{"malformed members", wire.ReconfigRequest{NewMembers: "some thing", CurConfigID: -1}, super, wire.ErrBadArguments},
		{"joiner without a client port", wire.ReconfigRequest{JoiningServers: "server.2=127.0.0.1:2889:3889", CurConfigID: -1}, super, wire.ErrBadArguments},
		{"no voter left", wire.ReconfigRequest{LeavingServers: "1", CurConfigID: -1}, super, wire.ErrBadArguments},
		{"new voters not synced", wire.ReconfigRequest{JoiningServers: "server.2=127.0.0.1:2889:3889;2182", CurConfigID: -1}, super, wire.ErrNewConfigNoQuorum},
		{"an observer joins", wire.ReconfigRequest{JoiningServers: "server.9=127.0.0.1:2889:3889:observer;2182", CurConfigID: -1}, super, wire.ErrOK},
		{"without super", wire.ReconfigRequest{NewMembers: one, CurConfigID: -1}, []wire.Id{{Scheme: "digest", ID: "u:x"}}, wire.ErrNoAuth},
	} {
		txn := znode.Txn{Type: wire.OpReconfig, Auth: c.auth, Body: &c.req}
		if _, got := q.checkReconfig(&txn, &c.req); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	// With a change pending, any other is refused.
	data := wire.Encode(&znode.Txn{Type: wire.OpReconfig, Body: &wire.ReconfigRequest{NewMembers: one, CurConfigID: -1}})
	if _, err := q.node.Propose(data); err != nil {
		t.Fatal(err)
	}
	req := wire.ReconfigRequest{NewMembers: one, CurConfigID: -1}
	if _, got := q.checkReconfig(&znode.Txn{Auth: super}, &req); got != wire.ErrReconfigInProgress {
		t.Errorf("with a change pending: %v, want %v", got, wire.ErrReconfigInProgress)
	}
	// standaloneEnabled (Apache's default) wants two voters.
	q2 := soloLeader(t, &conf.Config{StandaloneEnabled: true})
	if _, got := q2.checkReconfig(&znode.Txn{Auth: super}, &req); got != wire.ErrBadArguments {
		t.Errorf("one voter with standaloneEnabled: %v, want %v", got, wire.ErrBadArguments)
	}
}
