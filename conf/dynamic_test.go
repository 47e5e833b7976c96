package conf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMembershipTextAsApache(t *testing.T) {
	servers, err := ParseMembers("server.2=127.0.0.1:2889:3889;2182\n,server.1=localhost:2888:3888:participant;0.0.0.0:2181,server.3=127.0.0.1:2890:3890:observer")
	if err != nil {
		t.Fatal(err)
	}
	got := MembershipText(servers, 0x100000003)
	want := "server.1=localhost:2888:3888:participant;0.0.0.0:2181\n" +
		"server.2=127.0.0.1:2889:3889:participant;0.0.0.0:2182\n" +
		"server.3=127.0.0.1:2890:3890:observer\n" +
		"version=100000003"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	again, err := ParseMembers(got)
	if err != nil || MembershipText(again, 0x100000003) != want {
		t.Fatalf("reparsed: %v %v", again, err)
	}
	for _, bad := range []string{"server.x=a:1:2", "foo=1", "server.1=a:1:2,server.1=a:3:4", "server.1=a:1"} {
		if _, err := ParseMembers(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// WriteDynamic leaves a zoo.cfg that loads the new membership.
func TestWriteDynamicReloads(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "zoo.cfg")
	os.WriteFile(filepath.Join(dir, "myid"), []byte("2\n"), 0o644)
	static := "tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=" + dir + "\nclientPort=2181\nreconfigEnabled=true\n" +
		"server.1=127.0.0.1:2888:3888\nserver.2=127.0.0.1:2889:3889\n"
	if err := os.WriteFile(cfgFile, []byte(static), 0o644); err != nil {
		t.Fatal(err)
	}
	servers, err := ParseMembers("server.2=127.0.0.1:2889:3889;2182,server.3=127.0.0.1:2890:3890:observer;2183,server.4=127.0.0.1:2891:3891;2184")
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := WriteDynamic(cfgFile, 2, servers, 0x200000001)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(dyn, "zoo.cfg.dynamic.200000001") {
		t.Errorf("dynamic file %s", dyn)
	}
	if b, _ := os.ReadFile(cfgFile + ".bak"); string(b) != static {
		t.Errorf("backup holds %q", b)
	}
	c, err := Load(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	if c.ClientPort != 2182 {
		t.Errorf("client port %d, want the one of server.2's line", c.ClientPort)
	}
	if c.ConfigVersion != 0x200000001 || len(c.Servers) != 3 || c.Servers[1].ID != 3 || !c.Servers[1].Observer {
		t.Fatalf("reloaded version %x servers %+v", c.ConfigVersion, c.Servers)
	}
	b, _ := os.ReadFile(cfgFile)
	if strings.Contains(string(b), "server.") || !strings.Contains(string(b), "reconfigEnabled=true") {
		t.Errorf("static file now:\n%s", b)
	}
}
