package test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkgo/zkgo/test/harness"
	"github.com/zkgo/zkgo/wire"
	"github.com/zkgo/zkgo/znode"
)

// importCfg is the zoo.cfg both servers of TestImportFromApache run with:
// a small snapCount so that Apache ZooKeeper writes several snapshots and
// log files, and sessions that outlive the test.
var importCfg = map[string]string{
	"snapCount":            "20",
	"maxSessionTimeout":    "600000",
	"extendedTypesEnabled": "true",
}

func importCfgWith(kv ...string) map[string]string {
	m := maps.Clone(importCfg)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// importConnect opens a go-zookeeper session with a long timeout. Once
// *blocked is true the client cannot reach any server any more, so that a
// session stays open without reconnecting to a later server.
func importConnect(t *testing.T, addr string, blocked *atomic.Bool) *zk.Conn {
	t.Helper()
	dialer := func(network, address string, timeout time.Duration) (net.Conn, error) {
		if blocked != nil && blocked.Load() {
			return nil, errors.New("blocked by the test")
		}
		return net.DialTimeout(network, address, timeout)
	}
	c := connectWith(t, addr, 300*time.Second, dialer)
	t.Cleanup(c.Close)
	return c
}

// importWorkload writes a varied tree. It returns the live session that
// owns ephemeral nodes and must stay open.
func importWorkload(t *testing.T, addr string, blocked *atomic.Bool) *zk.Conn {
	t.Helper()
	open := zk.WorldACL(zk.PermAll)
	a := importConnect(t, addr, nil)
	step := ""
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	create := func(c *zk.Conn, path string, data []byte, flags int32, acl []zk.ACL) string {
		t.Helper()
		step = "create " + path
		p, err := c.Create(path, data, flags, acl)
		must(err)
		return p
	}
	if err := a.AddAuth("digest", []byte("alice:secret")); err != nil {
		t.Fatal(err)
	}

	// Nested nodes, binary, empty, null and large data, unicode names.
	create(a, "/app", []byte("hello"), 0, open)
	create(a, "/app/a", nil, 0, open)
	create(a, "/app/a/b", []byte{}, 0, open)
	create(a, "/app/a/b/c", []byte("deep"), 0, open)
	create(a, "/app/a/b/c/d", []byte("deeper"), 0, open)
	bin := make([]byte, 256)
	for i := range bin {
		bin[i] = byte(i)
	}
	create(a, "/app/bin", bin, 0, open)
	create(a, "/app/big", bytes.Repeat([]byte("0123456789abcdef"), 8192), 0, open)
	create(a, "/app/ünïcødé ✓", []byte("名前"), 0, open)

	// setData versions, with version checks.
	create(a, "/app/config", []byte(`{"v":0}`), 0, open)
	for v := int32(0); v < 5; v++ {
		_, err := a.Set("/app/config", []byte(fmt.Sprintf(`{"v":%d}`, v+1)), v)
		must(err)
	}
	if _, err := a.Set("/app/config", []byte("stale"), 1); !errors.Is(err, zk.ErrBadVersion) {
		t.Fatalf("stale setData: %v", err)
	}

	// Sequential nodes, some deleted.
	create(a, "/app/queue", nil, 0, open)
	var items []string
	for i := 0; i < 6; i++ {
		items = append(items, create(a, "/app/queue/item-", []byte(strconv.Itoa(i)), zk.FlagSequence, open))
	}
	must(a.Delete(items[1], -1))
	must(a.Delete(items[4], 0))
	if err := a.Delete("/app/queue/nope", -1); !errors.Is(err, zk.ErrNoNode) {
		t.Fatalf("delete missing: %v", err)
	}

	// Digest ACLs, mixed ACLs, setACL.
	create(a, "/secure", []byte("top secret"), 0, zk.DigestACL(zk.PermAll, "alice", "secret"))
	create(a, "/secure/child", []byte("x"), 0, zk.DigestACL(zk.PermRead|zk.PermWrite, "alice", "secret"))
	mixed := append(zk.WorldACL(zk.PermRead), zk.DigestACL(zk.PermAll, "bob", "pw")...)
	mixed = append(mixed, zk.DigestACL(zk.PermAll, "alice", "secret")...)
	create(a, "/mixed", nil, 0, mixed)
	step = "setACL"
	_, err := a.SetACL("/app/a", zk.AuthACL(zk.PermAll), -1)
	must(err)
	_, err = a.SetACL("/app/a", append(zk.AuthACL(zk.PermAll), zk.WorldACL(zk.PermRead)...), 1)
	must(err)

	// Multi: a successful one and a failed one.
	step = "multi"
	// (No container here: go-zookeeper cannot decode the create2 result
	// Apache ZooKeeper answers for it.)
	res, err := a.Multi(
		&zk.CreateRequest{Path: "/multi", Data: []byte("m"), Acl: open},
		&zk.CreateRequest{Path: "/multi/x", Data: []byte("mx"), Acl: open},
		&zk.CreateRequest{Path: "/multi/seq-", Data: nil, Acl: open, Flags: zk.FlagSequence},
		&zk.SetDataRequest{Path: "/app", Data: []byte("hello, multi"), Version: 0},
		&zk.DeleteRequest{Path: items[2], Version: -1},
		&zk.CheckVersionRequest{Path: "/app/config", Version: 5},
	)
	if err != nil {
		for i, r := range res {
			t.Logf("multi op %d: %+v", i, r)
		}
	}
	must(err)
	if _, err := a.Multi(
		&zk.CreateRequest{Path: "/multi/never", Data: nil, Acl: open},
		&zk.CheckVersionRequest{Path: "/app/config", Version: 99},
	); err == nil {
		t.Fatal("failing multi succeeded")
	}

	// A container with a child, a TTL node, a failed create.
	step = "createContainer"
	_, err = a.CreateContainer("/ctr", []byte("c"), zk.FlagContainer, open)
	must(err)
	create(a, "/ctr/child", nil, 0, open)
	step = "createTTL"
	_, err = a.CreateTTL("/ttl", []byte("t"), zk.FlagTTL, open, time.Hour)
	must(err)
	if _, err := a.Create("/app", nil, 0, open); !errors.Is(err, zk.ErrNodeExists) {
		t.Fatalf("create existing: %v", err)
	}

	// A quota on /app, kept up to date by the server.
	create(a, "/zookeeper/quota/app", nil, 0, open)
	create(a, "/zookeeper/quota/app/zookeeper_limits", []byte("count=100,bytes=-1"), 0, open)
	create(a, "/zookeeper/quota/app/zookeeper_stats", []byte("count=0,bytes=0"), 0, open)
	create(a, "/app/counted", []byte("12345"), 0, open)

	// A session that closes: its ephemeral nodes go with it.
	gone := importConnect(t, addr, nil)
	create(gone, "/app/gone", nil, zk.FlagEphemeral, open)
	create(gone, "/app/queue/gone-", nil, zk.FlagEphemeral|zk.FlagSequence, open)
	gone.Close()

	// A live session with ephemeral nodes, which the import must keep.
	live := importConnect(t, addr, blocked)
	create(live, "/live", []byte("owner"), 0, open)
	create(live, "/live/eph", []byte("e"), zk.FlagEphemeral, open)
	create(live, "/live/seq-", nil, zk.FlagEphemeral|zk.FlagSequence, open)
	create(live, "/app/queue/live-", nil, zk.FlagEphemeral|zk.FlagSequence, open)

	// More churn, so that several snapshots and log files exist.
	for i := 0; i < 30; i++ {
		p := fmt.Sprintf("/app/churn-%02d", i)
		create(a, p, []byte(p), 0, open)
		if i%3 == 0 {
			must(a.Delete(p, 0))
		} else if i%3 == 1 {
			_, err := a.Set(p, []byte("changed"), 0)
			must(err)
		}
	}
	return live
}

// importApacheZxid is the last zxid Apache ZooKeeper reports (srvr).
func importApacheZxid(t *testing.T, s *harness.Server) int64 {
	t.Helper()
	out, err := s.FourLetter("srvr")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, "Zxid: "); ok {
			z, err := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(v), "0x"), 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			return z
		}
	}
	t.Fatalf("no Zxid in srvr output:\n%s", out)
	return 0
}

// importNewestSnapshot returns the highest zxid of the snapshots in dir.
func importNewestSnapshot(t *testing.T, dir string) (zxid int64, n int) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	zxid = -1
	for _, e := range ents {
		if z, ok := importFileZxid(e.Name(), "snapshot"); ok {
			n++
			zxid = max(zxid, z)
		}
	}
	return zxid, n
}

// importFileZxid parses prefix.<hex zxid>[.ext], as Apache ZooKeeper names
// its snapshots (snapshot.5c, snapshot.5c.gz) and logs.
func importFileZxid(name, prefix string) (int64, bool) {
	parts := strings.Split(name, ".")
	if len(parts) < 2 || parts[0] != prefix {
		return 0, false
	}
	z, err := strconv.ParseInt(parts[1], 16, 64)
	return z, err == nil
}

// importCopyApacheDir copies the log files and the first snapshot of an
// Apache ZooKeeper version-2 directory.
func importCopyApacheDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if z, ok := importFileZxid(e.Name(), "snapshot"); (!ok || z != 0) && !strings.HasPrefix(e.Name(), "log.") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// importExport runs zkserver export on a data directory.
func importExport(t *testing.T, bin, dataDir string) string {
	t.Helper()
	cmd := exec.Command(bin, "export", "--data", dataDir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("zkserver export --data %s: %v\n%s", dataDir, err, stderr.String())
	}
	return string(out)
}

// importedNode is what a client sees of a node.
type importedNode struct {
	data     []byte
	stat     zk.Stat
	acl      []zk.ACL
	children []string
}

// importWalkTree reads every node (data, Stat, ACL, children) as a client
// authenticated as alice sees it.
func importWalkTree(t *testing.T, c *zk.Conn) map[string]importedNode {
	t.Helper()
	out := map[string]importedNode{}
	var walk func(path string)
	walk = func(path string) {
		data, stat, err := c.Get(path)
		if err != nil {
			t.Fatalf("get %s: %v", path, err)
		}
		acl, _, err := c.GetACL(path)
		if err != nil {
			t.Fatalf("getACL %s: %v", path, err)
		}
		children, _, err := c.Children(path)
		if err != nil {
			t.Fatalf("children %s: %v", path, err)
		}
		slices.Sort(children)
		out[path] = importedNode{data: data, stat: *stat, acl: acl, children: children}
		for _, ch := range children {
			if path == "/" {
				walk("/" + ch)
			} else {
				walk(path + "/" + ch)
			}
		}
	}
	walk("/")
	return out
}

func importFmtData(b []byte) string {
	if b == nil {
		return "null"
	}
	if len(b) > 40 {
		return fmt.Sprintf("%q...(%d bytes)", b[:40], len(b))
	}
	return fmt.Sprintf("%q", b)
}

// importCompare reports every difference between two walks.
func importCompare(t *testing.T, wantName string, want map[string]importedNode, gotName string, got map[string]importedNode) {
	t.Helper()
	for _, p := range importSortedKeys(want) {
		w := want[p]
		g, ok := got[p]
		if !ok {
			t.Errorf("%s: missing in %s", p, gotName)
			continue
		}
		if (w.data == nil) != (g.data == nil) || !bytes.Equal(w.data, g.data) {
			t.Errorf("%s: data %s=%s %s=%s", p, wantName, importFmtData(w.data), gotName, importFmtData(g.data))
		}
		if w.stat != g.stat {
			t.Errorf("%s: stat\n  %s %+v\n  %s %+v", p, wantName, w.stat, gotName, g.stat)
		}
		if fmt.Sprint(w.acl) != fmt.Sprint(g.acl) {
			t.Errorf("%s: acl %s=%v %s=%v", p, wantName, w.acl, gotName, g.acl)
		}
		if fmt.Sprint(w.children) != fmt.Sprint(g.children) {
			t.Errorf("%s: children %s=%v %s=%v", p, wantName, w.children, gotName, g.children)
		}
	}
	for _, p := range importSortedKeys(got) {
		if _, ok := want[p]; !ok {
			t.Errorf("%s: only in %s", p, gotName)
		}
	}
}

func importSortedKeys(m map[string]importedNode) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// importResumeSession connects with an existing session id and password, as a
// client does after losing its server, and returns the server's answer.
func importResumeSession(t *testing.T, addr string, id int64, passwd []byte) wire.ConnectResponse {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	req := &wire.ConnectRequest{TimeOut: 300000, SessionID: id, Passwd: passwd}
	if _, err := conn.Write(wire.AppendFrame(nil, req)); err != nil {
		t.Fatal(err)
	}
	b, err := wire.ReadFrame(conn, nil, 1<<20)
	if err != nil {
		t.Fatalf("resume session 0x%x on %s: %v", id, addr, err)
	}
	var resp wire.ConnectResponse
	if err := wire.Decode(b, &resp); err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestImportFromApache fills Apache ZooKeeper 3.8 with a varied tree (with
// snapCount=20, so that it takes snapshots and the newest one is followed
// by logged txns), stops it, imports its data directory with `zkserver
// import`, and then compares, node by node, Apache ZooKeeper restarted on
// its own data with our server started on the imported data: data, every
// Stat field (zxids equal), ACLs and children. The session that owned
// ephemeral nodes when Apache stopped must be resumable on both, with the
// password Apache gave it. The import from the first snapshot alone, which
// replays the whole log, must give the same tree, and `zkserver export`
// must dump it. All of this for each snapshot compression Apache offers.
func TestImportFromApache(t *testing.T) {
	bin := harness.BuildOurs(t)
	// Apache ZooKeeper's snapshot.compression.method: none, gzip, snappy.
	for _, compression := range []string{"", "gz", "snappy"} {
		t.Run("compression="+compression, func(t *testing.T) {
			t.Parallel()
			testImportFromApache(t, bin, compression)
		})
	}
}

func testImportFromApache(t *testing.T, bin, compression string) {
	cfg := importCfg
	if compression != "" {
		cfg = importCfgWith("snapshot.compression.method", compression)
	}
	apache := harness.StartApache(t, cfg)
	var blocked atomic.Bool
	live := importWorkload(t, apache.Addr(), &blocked)
	liveID := live.SessionID()

	// Make sure txns follow the newest snapshot, so that the import needs
	// both the snapshot and the log.
	apacheData := filepath.Join(apache.Dir(), "data")
	snapDir := filepath.Join(apacheData, "version-2")
	extra := importConnect(t, apache.Addr(), nil)
	for i := 0; ; i++ {
		time.Sleep(300 * time.Millisecond)
		snap, n := importNewestSnapshot(t, snapDir)
		last := importApacheZxid(t, apache)
		if n >= 2 && snap < last {
			t.Logf("Apache: %d snapshots, the newest at 0x%x, last zxid 0x%x", n, snap, last)
			break
		}
		if i == 20 {
			t.Fatalf("no snapshot followed by txns: %d snapshots, newest 0x%x, last zxid 0x%x", n, snap, last)
		}
		if _, err := extra.Create(fmt.Sprintf("/extra-%d", i), nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatal(err)
		}
	}
	extra.Close()
	blocked.Store(true)
	apache.Stop()

	ourData := filepath.Join(t.TempDir(), "data")
	out, err := exec.Command(bin, "import", "--from", apacheData, "--to", ourData).CombinedOutput()
	t.Logf("zkserver import:\n%s", out)
	if err != nil {
		t.Fatalf("zkserver import: %v", err)
	}

	// The same import from the first snapshot only replays the whole log:
	// every txn type Apache ZooKeeper wrote goes through the import.
	fullData := filepath.Join(t.TempDir(), "apache-full")
	importCopyApacheDir(t, snapDir, filepath.Join(fullData, "version-2"))
	fullOurs := filepath.Join(t.TempDir(), "data")
	out, err = exec.Command(bin, "import", "--from", fullData, "--to", fullOurs).CombinedOutput()
	t.Logf("zkserver import from snapshot.0:\n%s", out)
	if err != nil {
		t.Fatalf("zkserver import: %v", err)
	}
	if a, b := importExport(t, bin, ourData), importExport(t, bin, fullOurs); a != b {
		t.Errorf("importing from the newest snapshot and from snapshot.0 differ:\n%s",
			harness.UnifiedDiff("newest", a, "snapshot.0", b))
	}

	apache2cfg := maps.Clone(cfg)
	apache2cfg["dataDir"] = apacheData
	apache2 := harness.StartApache(t, apache2cfg)
	ours := harness.StartOurs(t, importCfgWith("dataDir", ourData))
	ca := importConnect(t, apache2.Addr(), nil)
	co := importConnect(t, ours.Addr(), nil)
	for _, c := range []*zk.Conn{ca, co} {
		if err := c.AddAuth("digest", []byte("alice:secret")); err != nil {
			t.Fatal(err)
		}
	}
	want := importWalkTree(t, ca)
	got := importWalkTree(t, co)
	importCompare(t, "apache", want, "ours", got)
	t.Logf("compared %d nodes", len(want))
	for _, p := range []string{"/live/eph", "/secure/child", "/ttl", "/ctr/child", "/multi/seq-0000000001", "/app/big"} {
		if _, ok := want[p]; !ok {
			t.Errorf("%s missing after Apache restarted: the workload did not do what it should", p)
		}
	}
	if owner := want["/live/eph"].stat.EphemeralOwner; owner != liveID {
		t.Errorf("/live/eph owner 0x%x, want the live session 0x%x", owner, liveID)
	}

	// The live session resumes on both with the password Apache derived.
	passwd := znode.ApacheSessionPasswd(liveID)
	for _, s := range []*harness.Server{apache2, ours} {
		resp := importResumeSession(t, s.Addr(), liveID, passwd)
		if resp.SessionID != liveID || resp.TimeOut <= 0 || !bytes.Equal(resp.Passwd, passwd) {
			t.Errorf("resuming session 0x%x: got session 0x%x timeout %d passwd %x, want passwd %x",
				liveID, resp.SessionID, resp.TimeOut, resp.Passwd, passwd)
		}
	}

	// export dumps the same tree.
	ours.Stop()
	dump := filepath.Join(t.TempDir(), "dump.json")
	if out, err := exec.Command(bin, "export", "--data", ourData, "--out", dump).CombinedOutput(); err != nil {
		t.Fatalf("zkserver export: %v\n%s", err, out)
	}
	got = importReadDump(t, dump)
	for p, w := range want {
		// export reads as the super user; alice's view hides the digests
		// of nodes she may not administer.
		if g, ok := got[p]; ok && len(g.acl) == len(w.acl) {
			for i := range w.acl {
				if w.acl[i].Scheme == "digest" && strings.HasSuffix(w.acl[i].ID, ":x") {
					g.acl[i].ID = g.acl[i].ID[:strings.IndexByte(g.acl[i].ID, ':')] + ":x"
				}
			}
		}
	}
	importCompare(t, "apache", want, "export", got)
}

// importDumpedNode is a node of `zkserver export` output.
type importDumpedNode struct {
	Path     string  `json:"path"`
	Data     *string `json:"data"`
	Encoding string  `json:"encoding"`
	Stat     struct {
		Czxid, Mzxid, Pzxid, EphemeralOwner string
		Ctime, Mtime                        int64
		Version, Cversion, Aversion         int32
		DataLength, NumChildren             int32
	} `json:"stat"`
	ACL []struct {
		Perms  int32  `json:"perms"`
		Scheme string `json:"scheme"`
		ID     string `json:"id"`
	} `json:"acl"`
	Children []importDumpedNode `json:"children"`
}

// importReadDump reads an export into the shape importWalkTree returns.
func importReadDump(t *testing.T, path string) map[string]importedNode {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var dump struct {
		LastZxid string           `json:"lastZxid"`
		Tree     importDumpedNode `json:"tree"`
	}
	if err := json.Unmarshal(b, &dump); err != nil {
		t.Fatalf("export output is not JSON: %v", err)
	}
	hex := func(s string) int64 {
		v, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64)
		if err != nil {
			t.Fatalf("export: bad hex %q", s)
		}
		return int64(v)
	}
	out := map[string]importedNode{}
	var walk func(n *importDumpedNode)
	walk = func(n *importDumpedNode) {
		var node importedNode
		if n.Data != nil {
			node.data = []byte(*n.Data)
			if n.Encoding == "base64" {
				if node.data, err = base64.StdEncoding.DecodeString(*n.Data); err != nil {
					t.Fatal(err)
				}
			}
		}
		s := &n.Stat
		node.stat = zk.Stat{
			Czxid: hex(s.Czxid), Mzxid: hex(s.Mzxid), Pzxid: hex(s.Pzxid),
			Ctime: s.Ctime, Mtime: s.Mtime,
			Version: s.Version, Cversion: s.Cversion, Aversion: s.Aversion,
			EphemeralOwner: hex(s.EphemeralOwner),
			DataLength:     s.DataLength, NumChildren: s.NumChildren,
		}
		node.acl = []zk.ACL{}
		for _, a := range n.ACL {
			node.acl = append(node.acl, zk.ACL{Perms: a.Perms, Scheme: a.Scheme, ID: a.ID})
		}
		node.children = []string{}
		for i := range n.Children {
			c := &n.Children[i]
			node.children = append(node.children, c.Path[strings.LastIndexByte(c.Path, '/')+1:])
			walk(c)
		}
		out[n.Path] = node
	}
	walk(&dump.Tree)
	return out
}
