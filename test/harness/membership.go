package harness

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Member is one server of an ensemble whose membership a test controls:
// observers, and servers that join or leave by dynamic reconfiguration.
type Member struct {
	ID           int
	Observer     bool
	ClientPort   int
	QuorumPort   int
	ElectionPort int
}

// NewMember allocates the ports of server id.
func NewMember(t testing.TB, id int, observer bool) Member {
	return Member{ID: id, Observer: observer, ClientPort: FreePort(t), QuorumPort: FreePort(t), ElectionPort: FreePort(t)}
}

// NewMembers allocates the ports of servers 1..n, participants.
func NewMembers(t testing.TB, n int) []Member {
	ms := make([]Member, n)
	for i := range ms {
		ms[i] = NewMember(t, i+1, false)
	}
	return ms
}

// Spec is the member's server.N value, with its client address as a
// reconfiguration needs it: 127.0.0.1:quorum:election[:observer];127.0.0.1:client.
func (m Member) Spec() string {
	typ := ""
	if m.Observer {
		typ = ":observer"
	}
	return fmt.Sprintf("127.0.0.1:%d:%d%s;127.0.0.1:%d", m.QuorumPort, m.ElectionPort, typ, m.ClientPort)
}

// Line is "server.N=" and Spec.
func (m Member) Line() string { return fmt.Sprintf("server.%d=%s", m.ID, m.Spec()) }

// StartMembers starts one zkserver per member of start, each with a zoo.cfg
// that lists the servers of view (the harness defaults, initLimit=10,
// syncLimit=5, peerType=observer for an observer, then extraCfg), and
// waits until each serves clients. A member's Server has ID m.ID.
func StartMembers(t testing.TB, start, view []Member, extraCfg map[string]string) []*Server {
	t.Helper()
	bin := BuildOurs(t)
	return startMembers(t, start, view, extraCfg, func(m Member, cfg map[string]string) *Server {
		return launchMember(t, bin, m.ID, m.ClientPort, cfg, false)
	})
}

// startMembers launches each member of start with launch, given its
// zoo.cfg keys (as StartMembers describes them), and waits until each
// serves clients.
func startMembers(t testing.TB, start, view []Member, extraCfg map[string]string,
	launch func(m Member, cfg map[string]string) *Server) []*Server {
	t.Helper()
	servers := make([]*Server, len(start))
	for i, m := range start {
		cfg := map[string]string{"initLimit": "10", "syncLimit": "5"}
		for _, v := range view {
			cfg["server."+strconv.Itoa(v.ID)] = v.Spec()
		}
		if m.Observer {
			cfg["peerType"] = "observer"
		}
		for k, v := range extraCfg {
			cfg[k] = v
		}
		servers[i] = launch(m, cfg)
	}
	for _, s := range servers {
		if err := s.waitReady(); err != nil {
			t.Fatalf("harness: %s: %v", s.name, err)
		}
	}
	return servers
}

// ConfigFile returns the server's zoo.cfg as it is now (a server rewrites
// it when its membership changes).
func (s *Server) ConfigFile() string {
	b, err := os.ReadFile(filepath.Join(s.dir, "zoo.cfg"))
	if err != nil {
		s.t.Fatalf("harness: %v", err)
	}
	return strings.TrimSpace(string(b))
}
