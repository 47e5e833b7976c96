package monitor

import (
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/zkgo/zkgo/conf"
	"github.com/zkgo/zkgo/znode"
)

// fakeServer is a Server whose answers a test sets.
type fakeServer struct {
	leader  int64
	leading bool
	servers []conf.Server
	version int64
}

func (f *fakeServer) Mode() string                      { return "follower" }
func (f *fakeServer) Running() bool                     { return true }
func (f *fakeServer) Serving() bool                     { return true }
func (f *fakeServer) ReadOnly() bool                    { return false }
func (f *fakeServer) Tree() *znode.Tree                 { return znode.NewTree(znode.Options{}) }
func (f *fakeServer) NumConnections() int               { return 0 }
func (f *fakeServer) Connections() []ConnInfo           { return nil }
func (f *fakeServer) ResetConnectionStats()             {}
func (f *fakeServer) Outstanding() int                  { return 0 }
func (f *fakeServer) Sessions() (global, local int)     { return 0, 0 }
func (f *fakeServer) SessionExpiries() []SessionExpiry  { return nil }
func (f *fakeServer) ClientPort() int                   { return 2181 }
func (f *fakeServer) Started() time.Time                { return time.Time{} }
func (f *fakeServer) PeerState() string                 { return "following - broadcast" }
func (f *fakeServer) EnsembleGauges(func(*Metric, any)) {}
func (f *fakeServer) Leader() (id int64, leading bool)  { return f.leader, f.leading }
func (f *fakeServer) View() ([]conf.Server, int64, bool) {
	return f.servers, f.version, f.servers != nil
}

// leader and voting_view answer as Apache's admin commands in an ensemble.
func TestAdminLeaderAndVotingView(t *testing.T) {
	servers, err := conf.ParseMembers("server.1=127.0.0.1:2888:3888;127.0.0.1:2181,server.2=127.0.0.2:2889:3889,server.3=127.0.0.3:2890:3890:observer")
	if err != nil {
		t.Fatal(err)
	}
	cfg := conf.Default()
	cfg.Servers = servers
	m := New(cfg, zap.NewNop(), &fakeServer{leader: 2, servers: servers})

	lead := newJSONObject()
	m.adminLeader(lead)
	if lead.vals["is_leader"] != false || lead.vals["leader_id"] != int64(2) || lead.vals["leader_ip"] != "127.0.0.2" {
		t.Errorf("leader: %v", lead.vals)
	}
	vv := newJSONObject()
	m.adminVotingView(vv)
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
	New(conf.Default(), zap.NewNop(), &fakeServer{}).adminLeader(standalone)
	if standalone.vals["error"] != "server is not initialized" {
		t.Errorf("standalone leader: %v", standalone.vals)
	}
}
