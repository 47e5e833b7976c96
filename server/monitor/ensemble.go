package monitor

import (
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/zkgo/zkgo/conf"
)

// writeQuorumConf ends the conf command in an ensemble as Apache's
// QuorumZooKeeperServer.dumpConf: the limits, the ports, the peer type
// (0 participant, 1 observer) and the active membership.
func (m *Monitor) writeQuorumConf(w io.Writer) {
	cfg := m.cfg
	fmt.Fprintf(w, "initLimit=%d\n", cfg.InitLimit)
	fmt.Fprintf(w, "syncLimit=%d\n", cfg.SyncLimit)
	fmt.Fprintf(w, "electionAlg=3\n")
	var ep, qp []string
	observer := false
	if self, ok := cfg.Server(cfg.MyID); ok {
		for _, a := range self.Addrs {
			ep = append(ep, strconv.Itoa(a.ElectionPort))
			qp = append(qp, strconv.Itoa(a.QuorumPort))
		}
		observer = self.Observer
	}
	servers, version, ok := m.srv.View()
	for _, sv := range servers {
		if sv.ID == cfg.MyID {
			observer = sv.Observer // the active membership's (a reconfig or takeover changes it)
		}
	}
	peerType := 0
	if observer {
		peerType = 1
	}
	fmt.Fprintf(w, "electionPort=%s\n", strings.Join(ep, "|"))
	fmt.Fprintf(w, "quorumPort=%s\n", strings.Join(qp, "|"))
	fmt.Fprintf(w, "peerType=%d\n", peerType)
	if !ok {
		return
	}
	io.WriteString(w, "membership: \n")
	io.WriteString(w, conf.MembershipText(servers, version))
}

// adminLeader answers the admin command leader as Apache's LeaderCommand:
// whether this server leads, and the leader's id and host.
func (m *Monitor) adminLeader(resp *jsonObject) {
	if !m.ensemble() {
		resp.put("error", "server is not initialized") // Apache's answer when not in a quorum
		return
	}
	leader, leading := m.srv.Leader()
	resp.put("is_leader", leading)
	resp.put("leader_id", leader)
	ip := ""
	servers, _, _ := m.srv.View()
	for _, sv := range servers {
		if sv.ID == leader {
			ip = sv.Host
		}
	}
	resp.put("leader_ip", ip)
}

// adminVotingView answers the admin command voting_view as Apache's
// VotingViewCommand: the voters of the active membership.
func (m *Monitor) adminVotingView(resp *jsonObject) {
	view := newJSONObject()
	servers, _, _ := m.srv.View()
	for _, sv := range servers {
		if sv.Observer {
			continue
		}
		v := newJSONObject()
		var qa, ea []any
		for _, a := range sv.Addrs {
			qa = append(qa, net.JoinHostPort(a.Host, strconv.Itoa(a.QuorumPort)))
			ea = append(ea, net.JoinHostPort(a.Host, strconv.Itoa(a.ElectionPort)))
		}
		v.put("serverAddresses", qa)
		v.put("electionAddresses", ea)
		client := ""
		if sv.ClientPort != 0 {
			client = net.JoinHostPort(sv.ClientAddr, strconv.Itoa(sv.ClientPort))
		}
		v.put("clientAddress", client)
		v.put("learnerType", "participant")
		view.put(strconv.FormatInt(sv.ID, 10), v)
	}
	resp.put("current_config", view)
}
