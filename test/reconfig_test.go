package test

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkgo/zkgo/test/harness"
)

// reconfigCfg enables dynamic reconfiguration as go-zookeeper's and
// kazoo's tests do: a one-server ensemble that may grow, and the super
// digest of password "test".
func reconfigCfg() map[string]string {
	cfg := map[string]string{
		"reconfigEnabled":                          "true",
		"standaloneEnabled":                        "false",
		"DigestAuthenticationProvider.superDigest": "super:D/InIHSb7yEEbrWz8b9l71RjZJU=",
	}
	for k, v := range ensembleCfg {
		cfg[k] = v
	}
	return cfg
}

// configOf reads /zookeeper/config through c: the server ids it lists and
// its version line.
func configOf(t *testing.T, c *zk.Conn) (ids []int, version string) {
	t.Helper()
	if _, err := c.Sync("/"); err != nil {
		t.Fatalf("sync: %v", err)
	}
	data, _, err := c.Get("/zookeeper/config")
	if err != nil {
		t.Fatalf("get /zookeeper/config: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		k, v, _ := strings.Cut(line, "=")
		switch {
		case strings.HasPrefix(k, "server."):
			id, _ := strconv.Atoi(strings.TrimPrefix(k, "server."))
			ids = append(ids, id)
		case k == "version":
			version = v
		}
	}
	return ids, version
}

// reconfigWriter creates /w/<n> through its own session until stopped and
// remembers which creates were acknowledged.
type reconfigWriter struct {
	mu    sync.Mutex
	acked []int
	stop  chan struct{}
	done  chan struct{}
}

func startReconfigWriter(t *testing.T, addrs []string) *reconfigWriter {
	c, _, err := zk.Connect(addrs, 10*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	w := &reconfigWriter{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		defer c.Close()
		for i := 0; ; i++ {
			select {
			case <-w.stop:
				return
			default:
			}
			_, err := c.Create(fmt.Sprintf("/w/%d", i), []byte("x"), 0, zk.WorldACL(zk.PermAll))
			if err == nil {
				w.mu.Lock()
				w.acked = append(w.acked, i)
				w.mu.Unlock()
			} else {
				time.Sleep(10 * time.Millisecond) // a connection loss: the client reconnects
			}
		}
	}()
	return w
}

func (w *reconfigWriter) finish() []int {
	close(w.stop)
	<-w.done
	return w.acked
}

func (w *reconfigWriter) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.acked)
}

// waitWrites waits until the writer has n more acknowledged writes.
func (w *reconfigWriter) waitWrites(t *testing.T, n int) {
	t.Helper()
	want := w.count() + n
	deadline := time.Now().Add(modeTimeout)
	for w.count() < want {
		if time.Now().After(deadline) {
			t.Fatalf("the writer made no progress: %d acknowledged writes", w.count())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// An ensemble grows from one server to three and five and shrinks back to
// three (the first leader leaving) by reconfig while a client writes; every
// server of the final membership holds the same tree with every
// acknowledged write, and keeps its membership across a restart.
func TestReconfigGrowAndShrink(t *testing.T) {
	cfg := reconfigCfg()
	ms := harness.NewMembers(t, 5)
	all := harness.StartMembers(t, ms[:1], ms[:1], cfg)
	if m := all[0].WaitMode(modeTimeout, "leader"); m != "leader" {
		t.Fatalf("one server with standaloneEnabled=false: mode %q", m)
	}
	admin, _, err := zk.Connect([]string{all[0].Addr()}, 10*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Create("/w", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	var addrs []string
	for _, m := range ms {
		addrs = append(addrs, fmt.Sprintf("127.0.0.1:%d", m.ClientPort))
	}
	w := startReconfigWriter(t, addrs)
	defer func() {
		select {
		case <-w.done:
		default:
			w.finish()
		}
	}()

	// Only super (or whoever has WRITE on /zookeeper/config) may reconfigure.
	if _, err := admin.Reconfig([]string{ms[0].Line()}, -1); !errors.Is(err, zk.ErrNoAuth) {
		t.Fatalf("reconfig without super: %v, want %v", err, zk.ErrNoAuth)
	}
	if err := admin.AddAuth("digest", []byte("super:test")); err != nil {
		t.Fatal(err)
	}
	ids, version := configOf(t, admin)
	if !slices.Equal(ids, []int{1}) || version == "" || version == "0" {
		t.Fatalf("/zookeeper/config lists %v version %q; want server 1 and the first leader's version", ids, version)
	}

	// 1 -> 3: the joiners sync as non-voting followers first.
	all = append(all, harness.StartMembers(t, ms[1:3], ms[:3], cfg)...)
	st, err := admin.IncrementalReconfig([]string{ms[1].Line(), ms[2].Line()}, nil, -1)
	if err != nil {
		t.Fatalf("adding servers 2 and 3: %v", err)
	}
	ids, version = configOf(t, admin)
	if !slices.Equal(ids, []int{1, 2, 3}) || version != strconv.FormatInt(st.Mzxid, 16) {
		t.Fatalf("after adding 2 and 3: /zookeeper/config lists %v version %q (reply's mzxid %x)", ids, version, st.Mzxid)
	}
	leaderOf(t, all)
	w.waitWrites(t, 20)

	// A stale fromConfig and a membership without a synced quorum are refused.
	old, _ := strconv.ParseInt(version, 16, 64)
	if _, err := admin.IncrementalReconfig(nil, []string{"2"}, old+1); !errors.Is(err, zk.ErrBadVersion) {
		t.Fatalf("reconfig from a wrong version: %v, want %v", err, zk.ErrBadVersion)
	}
	ghost8, ghost9 := harness.NewMember(t, 8, false), harness.NewMember(t, 9, false)
	if _, err := admin.Reconfig([]string{ms[0].Line(), ghost8.Line(), ghost9.Line()}, -1); err == nil || !strings.Contains(err.Error(), "-13") {
		t.Fatalf("reconfig to servers that are not synced: %v, want NewConfigNoQuorum (-13)", err)
	}

	// 3 -> 5, from the current version; a watch on /zookeeper/config fires.
	all = append(all, harness.StartMembers(t, ms[3:5], ms[:5], cfg)...)
	_, _, configChanged, err := admin.GetW("/zookeeper/config")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.IncrementalReconfig([]string{ms[3].Line(), ms[4].Line()}, nil, old); err != nil {
		t.Fatalf("adding servers 4 and 5: %v", err)
	}
	select {
	case ev := <-configChanged:
		if ev.Type != zk.EventNodeDataChanged || ev.Path != "/zookeeper/config" {
			t.Fatalf("watch on /zookeeper/config: %+v", ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the watch on /zookeeper/config did not fire")
	}
	if ids, _ := configOf(t, admin); !slices.Equal(ids, []int{1, 2, 3, 4, 5}) {
		t.Fatalf("after adding 4 and 5: %v", ids)
	}
	leaderOf(t, all)
	w.waitWrites(t, 20)

	// 5 -> 3: servers 1 (the first leader) and 5 leave, non-incrementally.
	c2, _, err := zk.Connect([]string{all[1].Addr()}, 10*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if err := c2.AddAuth("digest", []byte("super:test")); err != nil {
		t.Fatal(err)
	}
	if _, err := c2.Reconfig([]string{ms[1].Line(), ms[2].Line(), ms[3].Line()}, -1); err != nil && !errors.Is(err, zk.ErrConnectionClosed) {
		t.Fatalf("removing servers 1 and 5: %v", err)
	}
	final := all[1:4]
	leader := leaderOf(t, final)
	if ids, _ := configOf(t, c2); !slices.Equal(ids, []int{2, 3, 4}) {
		t.Fatalf("after removing 1 and 5: %v", ids)
	}
	if leader.ID() == 1 || leader.ID() == 5 {
		t.Fatalf("removed server %d still leads", leader.ID())
	}
	w.waitWrites(t, 20)
	acked := w.finish()

	// The same tree everywhere, with every acknowledged write.
	sameTrees(t, final)
	c3, _, err := zk.Connect([]string{final[2].Addr()}, 10*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Close()
	tree := walk(t, c3)
	for _, i := range acked {
		if _, ok := tree[fmt.Sprintf("/w/%d", i)]; !ok {
			t.Fatalf("acknowledged write /w/%d is lost", i)
		}
	}
	t.Logf("%d acknowledged writes during 1 -> 3 -> 5 -> 3", len(acked))

	// Each server wrote the new membership to zoo.cfg.dynamic.<version> and
	// restarts with it.
	_, version = configOf(t, c3)
	s4 := final[2]
	if cfgText := s4.ConfigFile(); !strings.Contains(cfgText, "dynamicConfigFile=") || strings.Contains(cfgText, "server.") {
		t.Fatalf("server 4's zoo.cfg:\n%s", cfgText)
	}
	if _, err := os.Stat(s4.Dir() + "/zoo.cfg.dynamic." + version); err != nil {
		t.Fatalf("dynamic file: %v", err)
	}
	s4.Kill()
	if err := s4.Restart(); err != nil {
		t.Fatal(err)
	}
	leaderOf(t, final)
	sameTrees(t, final)
}
