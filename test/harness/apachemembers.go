package harness

import (
	"os/exec"
	"testing"
)

// StartApacheMembers starts one Apache ZooKeeper server per member of
// start, each with a zoo.cfg that lists the servers of view (as
// StartMembers writes it), and waits until each serves clients. Together
// with StartMembers it runs an Apache ensemble with our servers among
// its observers.
func StartApacheMembers(t testing.TB, start, view []Member, extraCfg map[string]string) []*Server {
	t.Helper()
	return startMembers(t, start, view, extraCfg, func(m Member, cfg map[string]string) *Server {
		s := launchMemberCmd(t, m.ID, m.ClientPort, cfg, false, func(dir, cfgPath string) *exec.Cmd {
			return apacheCmd(t, dir, cfgPath)
		})
		s.name = "apache " + s.name
		return s
	})
}
