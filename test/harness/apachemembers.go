package harness

import (
	"os/exec"
	"strconv"
	"testing"
)

// StartApacheMembers starts one Apache ZooKeeper server per member of
// start, each with a zoo.cfg that lists the servers of view (as
// StartMembers writes it), and waits until each serves clients. Together
// with StartMembers it runs an Apache ensemble with our servers among
// its observers.
func StartApacheMembers(t testing.TB, start, view []Member, extraCfg map[string]string) []*Server {
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
		servers[i] = launchMemberCmd(t, m.ID, m.ClientPort, cfg, false, func(dir, cfgPath string) *exec.Cmd {
			return apacheCmd(t, dir, cfgPath)
		})
		servers[i].name = "apache " + servers[i].name
	}
	for _, s := range servers {
		if err := s.waitReady(); err != nil {
			t.Fatalf("harness: %s: %v", s.name, err)
		}
	}
	return servers
}
