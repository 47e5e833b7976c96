package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/zkgo/zkgo/conf"
	"github.com/zkgo/zkgo/server/monitor"
	"github.com/zkgo/zkgo/test/harness"
	"github.com/zkgo/zkgo/wire"
)

// The expectations below were measured once on Debian's Apache ZooKeeper
// 3.8.0, standalone, with admin.enableServer=true (its classpath needs
// /usr/share/java/servlet-api.jar for Jetty) and one client session
// holding an ephemeral node and two data watches.

// apacheCommandList is Apache's answer to GET /commands.
const apacheCommandList = `<a href="/commands/configuration">configuration</a>
<br/>
<a href="/commands/connection_stat_reset">connection_stat_reset</a>
<br/>
<a href="/commands/connections">connections</a>
<br/>
<a href="/commands/dirs">dirs</a>
<br/>
<a href="/commands/dump">dump</a>
<br/>
<a href="/commands/environment">environment</a>
<br/>
<a href="/commands/get_trace_mask">get_trace_mask</a>
<br/>
<a href="/commands/hash">hash</a>
<br/>
<a href="/commands/initial_configuration">initial_configuration</a>
<br/>
<a href="/commands/is_read_only">is_read_only</a>
<br/>
<a href="/commands/last_snapshot">last_snapshot</a>
<br/>
<a href="/commands/leader">leader</a>
<br/>
<a href="/commands/monitor">monitor</a>
<br/>
<a href="/commands/observer_connection_stat_reset">observer_connection_stat_reset</a>
<br/>
<a href="/commands/observers">observers</a>
<br/>
<a href="/commands/ruok">ruok</a>
<br/>
<a href="/commands/server_stats">server_stats</a>
<br/>
<a href="/commands/set_trace_mask">set_trace_mask</a>
<br/>
<a href="/commands/stat_reset">stat_reset</a>
<br/>
<a href="/commands/stats">stats</a>
<br/>
<a href="/commands/system_properties">system_properties</a>
<br/>
<a href="/commands/voting_view">voting_view</a>
<br/>
<a href="/commands/watch_summary">watch_summary</a>
<br/>
<a href="/commands/watches">watches</a>
<br/>
<a href="/commands/watches_by_path">watches_by_path</a>
<br/>
<a href="/commands/zabstate">zabstate</a>
<br/>
`

// apacheAdminKeys are the keys of each command's answer, in Apache's
// order. monitor's are apacheMntrKeys without "zk_" (checked identical),
// then "command error"; system_properties' depend on the JVM.
var apacheAdminKeys = map[string]string{
	"configuration":                  "client_port data_dir data_log_dir tick_time max_client_cnxns min_session_timeout max_session_timeout server_id client_port_listen_backlog command error",
	"connection_stat_reset":          "command error",
	"connections":                    "connections secure_connections command error",
	"dirs":                           "datadir_size logdir_size command error",
	"dump":                           "expiry_time_to_session_ids session_id_to_ephemeral_paths command error",
	"environment":                    "zookeeper.version host.name java.version java.vendor java.home java.class.path java.library.path java.io.tmpdir java.compiler os.name os.arch os.version user.name user.home user.dir os.memory.free os.memory.max os.memory.total command error",
	"get_trace_mask":                 "tracemask command error",
	"hash":                           "digests command error",
	"initial_configuration":          "initial_configuration command error",
	"is_read_only":                   "read_only command error",
	"last_snapshot":                  "zxid timestamp command error",
	"leader":                         "error command",
	"observer_connection_stat_reset": "command error",
	"observers":                      "synced_observers observers command error",
	"ruok":                           "command error",
	"server_stats":                   "version read_only server_stats client_response node_count command error",
	"set_trace_mask":                 "error command", // without its argument
	"stat_reset":                     "command error",
	"stats":                          "version read_only server_stats client_response node_count connections secure_connections command error",
	"voting_view":                    "current_config command error",
	"watch_summary":                  "num_connections num_paths num_total_watches command error",
	"watches":                        "session_id_to_watched_paths command error",
	"watches_by_path":                "path_to_session_ids command error",
	"zabstate":                       "voting zabstate command error",
}

// Keys of the objects inside srvr, stat and cons.
const (
	apacheServerStatsKeys     = "packets_sent packets_received fsync_threshold_exceed_count client_response_stats data_dir_size log_dir_size provider_null server_state last_processed_zxid outstanding_requests avg_latency max_latency min_latency num_alive_client_connections uptime auth_failed_count non_mtlsremote_conn_count non_mtlslocal_conn_count"
	apacheClientResponseKeys  = "last_buffer_size min_buffer_size max_buffer_size"
	apacheBriefConnectionKeys = "remote_socket_address interest_ops outstanding_requests packets_received packets_sent"
	apacheFullConnectionKeys  = apacheBriefConnectionKeys + " session_id last_operation established session_timeout last_cxid last_zxid last_response_time last_latency min_latency avg_latency max_latency"
)

// adminAnswer is one decoded answer of the admin server.
type adminAnswer struct {
	status int
	header http.Header
	body   string
	keys   []string                   // top-level keys in order
	fields map[string]json.RawMessage // top-level values
}

func (a adminAnswer) str(t *testing.T, key string) string {
	t.Helper()
	var v string
	if err := json.Unmarshal(a.fields[key], &v); err != nil {
		t.Fatalf("%s: %v in %s", key, err, a.body)
	}
	return v
}

func (a adminAnswer) num(t *testing.T, key string) int64 {
	t.Helper()
	var v int64
	if err := json.Unmarshal(a.fields[key], &v); err != nil {
		t.Fatalf("%s: %v in %s", key, err, a.body)
	}
	return v
}

// orderedKeys returns the keys of the JSON object raw, in order.
func orderedKeys(t *testing.T, raw []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object (%v): %s", err, raw)
	}
	var keys []string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

func adminGet(t *testing.T, base, path string) adminAnswer {
	t.Helper()
	resp, err := http.Get(base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := adminAnswer{status: resp.StatusCode, header: resp.Header, body: string(body)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if !json.Valid(body) {
			t.Fatalf("%s: invalid JSON: %s", path, body)
		}
		a.keys = orderedKeys(t, body)
		if err := json.Unmarshal(body, &a.fields); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

func checkKeys(t *testing.T, what string, got []string, want string) {
	t.Helper()
	if !slices.Equal(got, strings.Fields(want)) {
		t.Errorf("%s: keys\n %s\nwant (Apache's)\n %s", what, strings.Join(got, " "), want)
	}
}

// adminServer serves s's admin handler on a loopback port.
func adminServer(t *testing.T, s *Server) string {
	t.Helper()
	hs := httptest.NewServer(s.AdminHandler())
	t.Cleanup(hs.Close)
	return hs.URL
}

func TestAdminCommandList(t *testing.T) {
	s := startServer(t, nil)
	base := adminServer(t, s)
	for _, path := range []string{"/commands", "/commands/"} {
		a := adminGet(t, base, path)
		if a.status != http.StatusOK || a.body != apacheCommandList {
			t.Fatalf("GET %s: %d\n%s\nwant Apache's list:\n%s", path, a.status, a.body, apacheCommandList)
		}
		if ct, ok := a.header["Content-Type"]; ok {
			t.Errorf("GET %s: Content-Type %q; Apache sends none", path, ct)
		}
	}
	if a := adminGet(t, base, "/elsewhere"); a.status != http.StatusNotFound {
		t.Errorf("GET /elsewhere: %d, want 404", a.status)
	}
	resp, err := http.Post(base+"/commands/ruok", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405 as Apache 3.8", resp.StatusCode)
	}
}

func TestAdminCommandURL(t *testing.T) {
	s := startServer(t, func(c *conf.Config) { c.AdminCommandURL = "/zk/admin/" })
	base := adminGet(t, adminServer(t, s), "/zk/admin")
	if !strings.HasPrefix(base.body, `<a href="/zk/admin/configuration">configuration</a>`) {
		t.Fatalf("listing under admin.commandURL: %s", base.body)
	}
	a := adminGet(t, adminServer(t, s), "/zk/admin/ruok")
	if a.status != 200 || a.str(t, "command") != "ruok" {
		t.Fatalf("ruok under admin.commandURL: %d %s", a.status, a.body)
	}
}

// activity gives s a session with an ephemeral node, data and child
// watches, and a few reads.
func activity(t *testing.T, s *Server) *rawClient {
	t.Helper()
	c := newRaw(t, s)
	c.expect(wire.ErrOK, wire.OpCreate, create("/a", "hello", 0), nil)
	c.expect(wire.ErrOK, wire.OpCreate, create("/a/e", "x", wire.FlagEphemeral), nil)
	c.expect(wire.ErrOK, wire.OpGetData, &wire.PathWatchRequest{Path: "/a", Watch: true}, nil)
	c.expect(wire.ErrOK, wire.OpExists, &wire.PathWatchRequest{Path: "/a/e", Watch: true}, nil)
	c.expect(wire.ErrOK, wire.OpGetChildren, &wire.PathWatchRequest{Path: "/", Watch: true}, nil)
	for range 5 {
		c.expect(wire.ErrOK, wire.OpGetData, &wire.PathWatchRequest{Path: "/a"}, nil)
	}
	return c
}

func TestAdminEveryCommand(t *testing.T) {
	s := startServer(t, nil)
	activity(t, s)
	base := adminServer(t, s)

	want := make(map[string]string, len(apacheAdminKeys)+1)
	for k, v := range apacheAdminKeys {
		want[k] = v
	}
	var monitorKeys []string
	for _, k := range strings.Fields(apacheMntrKeys) {
		monitorKeys = append(monitorKeys, strings.TrimPrefix(k, "zk_"))
	}
	want["monitor"] = strings.Join(monitorKeys, " ") + " command error"

	for _, names := range monitor.AdminCommands() {
		for _, name := range names {
			a := adminGet(t, base, "/commands/"+name)
			if a.status != http.StatusOK {
				t.Fatalf("%s: status %d", name, a.status)
			}
			if ct := a.header.Get("Content-Type"); ct != "application/json" {
				t.Fatalf("%s: Content-Type %q", name, ct)
			}
			if got := a.str(t, "command"); got != names[0] {
				t.Errorf("%s: command %q, want %q", name, got, names[0])
			}
			if _, ok := a.fields["error"]; !ok {
				t.Errorf("%s: no error key: %s", name, a.body)
			}
			if name == "system_properties" || name == "sysp" {
				continue
			}
			keys, ok := want[names[0]]
			if !ok {
				t.Fatalf("%s: no Apache keys to compare with", name)
			}
			checkKeys(t, name, a.keys, keys)
			if e := string(a.fields["error"]); e != "null" && name != "leader" && name != "lead" &&
				name != "set_trace_mask" && name != "stmk" {
				t.Errorf("%s: error %s", name, e)
			}
		}
	}

	// The objects inside srvr, stat and cons.
	for _, name := range []string{"server_stats", "stats"} {
		a := adminGet(t, base, "/commands/"+name)
		checkKeys(t, name+".server_stats", orderedKeys(t, a.fields["server_stats"]), apacheServerStatsKeys)
		var st map[string]json.RawMessage
		json.Unmarshal(a.fields["server_stats"], &st)
		checkKeys(t, name+".server_stats.client_response_stats", orderedKeys(t, st["client_response_stats"]), apacheClientResponseKeys)
		checkKeys(t, name+".client_response", orderedKeys(t, a.fields["client_response"]), apacheClientResponseKeys)
	}
	for name, keys := range map[string]string{"stats": apacheBriefConnectionKeys, "connections": apacheFullConnectionKeys} {
		a := adminGet(t, base, "/commands/"+name)
		var conns []json.RawMessage
		if err := json.Unmarshal(a.fields["connections"], &conns); err != nil || len(conns) != 1 {
			t.Fatalf("%s: connections %s (%v)", name, a.fields["connections"], err)
		}
		checkKeys(t, name+".connections[0]", orderedKeys(t, conns[0]), keys)
		if sc := strings.Join(strings.Fields(string(a.fields["secure_connections"])), ""); sc != "[]" {
			t.Errorf("%s: secure_connections %s", name, a.fields["secure_connections"])
		}
	}

	// Exact answers of a standalone server, as Apache's.
	for path, want := range map[string]string{
		"/commands/ruok":             "{\n  \"command\" : \"ruok\",\n  \"error\" : null\n}",
		"/commands/leader":           "{\n  \"error\" : \"server is not initialized\",\n  \"command\" : \"leader\"\n}",
		"/commands/zabstate":         "{\n  \"voting\" : false,\n  \"zabstate\" : \"\",\n  \"command\" : \"zabstate\",\n  \"error\" : null\n}",
		"/commands/voting_view":      "{\n  \"current_config\" : { },\n  \"command\" : \"voting_view\",\n  \"error\" : null\n}",
		"/commands/isro":             "{\n  \"read_only\" : false,\n  \"command\" : \"is_read_only\",\n  \"error\" : null\n}",
		"/commands/hash":             "{\n  \"digests\" : [ ],\n  \"command\" : \"hash\",\n  \"error\" : null\n}",
		"/commands/obsr":             "{\n  \"synced_observers\" : 0,\n  \"observers\" : [ ],\n  \"command\" : \"observers\",\n  \"error\" : null\n}",
		"/commands/nosuch":           "{\n  \"command\" : \"nosuch\",\n  \"error\" : \"Unknown command: nosuch\"\n}",
		"/commands/ruok/x":           "{\n  \"command\" : \"ruok/x\",\n  \"error\" : \"Unknown command: ruok/x\"\n}",
		"/commands/stmk":             "{\n  \"error\" : \"setTraceMask requires long traceMask argument\",\n  \"command\" : \"set_trace_mask\"\n}",
		"/commands/stmk?traceMask=x": "{\n  \"error\" : \"setTraceMask requires long traceMask argument, got x\",\n  \"command\" : \"set_trace_mask\"\n}",
	} {
		if a := adminGet(t, base, path); a.status != 200 || a.body != want {
			t.Errorf("GET %s: %d\n%s\nwant\n%s", path, a.status, a.body, want)
		}
	}
}

func TestAdminValues(t *testing.T) {
	s := startServer(t, nil)
	c := activity(t, s)
	sid := c.resp.SessionID
	url := adminServer(t, s)
	base := adminGet

	srvr := base(t, url, "/commands/srvr")
	if srvr.str(t, "version") != Version || srvr.num(t, "node_count") != int64(s.tree.Stats().NodeCount) {
		t.Errorf("srvr: %s", srvr.body)
	}
	var st struct {
		PacketsSent int64   `json:"packets_sent"`
		PacketsRecv int64   `json:"packets_received"`
		State       string  `json:"server_state"`
		Zxid        int64   `json:"last_processed_zxid"`
		Conns       int     `json:"num_alive_client_connections"`
		AvgLatency  float64 `json:"avg_latency"`
		Uptime      int64   `json:"uptime"`
	}
	json.Unmarshal(srvr.fields["server_stats"], &st)
	if st.PacketsRecv < 10 || st.PacketsSent < 10 || st.State != "standalone" || st.Zxid != s.tree.LastZxid() ||
		st.Conns != 1 || st.Uptime <= 0 {
		t.Errorf("srvr server_stats: %+v\n%s", st, srvr.body)
	}

	cons := base(t, url, "/commands/cons")
	var conns []struct {
		Addr      string `json:"remote_socket_address"`
		Session   int64  `json:"session_id"`
		LastOp    string `json:"last_operation"`
		Timeout   int64  `json:"session_timeout"`
		LastCxid  int64  `json:"last_cxid"`
		Received  int64  `json:"packets_received"`
		Estab     int64  `json:"established"`
		Interest  int    `json:"interest_ops"`
		LastZxid  int64  `json:"last_zxid"`
		LastResp  int64  `json:"last_response_time"`
		MaxLatncy int64  `json:"max_latency"`
	}
	json.Unmarshal(cons.fields["connections"], &conns)
	if len(conns) != 1 {
		t.Fatalf("cons: %s", cons.body)
	}
	cn := conns[0]
	if !strings.HasPrefix(cn.Addr, "127.0.0.1:") || cn.Session != sid || cn.LastOp != "GETD" || cn.LastCxid != 10 ||
		cn.Received != 11 || cn.Interest != 1 || cn.Timeout != 10000 ||
		time.Since(time.UnixMilli(cn.Estab)) > time.Minute || cn.LastZxid != s.tree.LastZxid() {
		t.Errorf("cons: %+v\n%s", cn, cons.body)
	}

	dump := base(t, url, "/commands/dump")
	var d struct {
		Expiry     map[string][]int64  `json:"expiry_time_to_session_ids"`
		Ephemerals map[string][]string `json:"session_id_to_ephemeral_paths"`
	}
	json.Unmarshal([]byte(dump.body), &d)
	key := strconv.FormatInt(sid, 10)
	if !slices.Equal(d.Ephemerals[key], []string{"/a/e"}) || len(d.Expiry) != 1 {
		t.Errorf("dump: %s", dump.body)
	}
	for at, ids := range d.Expiry {
		n, _ := strconv.ParseInt(at, 10, 64)
		if n%int64(s.cfg.TickTime) != 0 || !slices.Equal(ids, []int64{sid}) {
			t.Errorf("dump expiry: %s", dump.body)
		}
	}

	wchc := base(t, url, "/commands/wchc")
	var byS map[string][]string
	json.Unmarshal(wchc.fields["session_id_to_watched_paths"], &byS)
	if !slices.Equal(byS[key], []string{"/a", "/a/e"}) || len(byS) != 1 {
		t.Errorf("wchc: %s", wchc.body)
	}
	wchp := base(t, url, "/commands/wchp")
	var byP map[string][]int64
	json.Unmarshal(wchp.fields["path_to_session_ids"], &byP)
	if len(byP) != 2 || !slices.Equal(byP["/a"], []int64{sid}) || !slices.Equal(byP["/a/e"], []int64{sid}) {
		t.Errorf("wchp: %s", wchp.body)
	}
	wchs := base(t, url, "/commands/wchs")
	if wchs.num(t, "num_connections") != 1 || wchs.num(t, "num_paths") != 2 || wchs.num(t, "num_total_watches") != 2 {
		t.Errorf("wchs: %s", wchs.body)
	}

	mntr := base(t, url, "/commands/mntr")
	if mntr.num(t, "znode_count") != int64(s.tree.Stats().NodeCount) || mntr.num(t, "ephemerals_count") != 1 ||
		mntr.num(t, "watch_count") != 3 || mntr.str(t, "server_state") != "standalone" ||
		mntr.num(t, "num_alive_connections") != 1 || mntr.num(t, "packets_received") < 11 {
		t.Errorf("mntr: %s", mntr.body)
	}
	if !strings.Contains(mntr.body, `"avg_jvm_pause_time_ms" : 0.0,`) || !strings.Contains(mntr.body, `"connection_drop_probability" : 0.0,`) {
		t.Errorf("mntr: doubles are not printed as Java's: %s", mntr.body)
	}

	cfg := base(t, url, "/commands/conf")
	if cfg.num(t, "client_port") != int64(s.Addr().(*net.TCPAddr).Port) || cfg.str(t, "data_dir") != absVersionDir(t, s.cfg.DataDir) ||
		cfg.num(t, "tick_time") != int64(s.cfg.TickTime) || cfg.num(t, "client_port_listen_backlog") != -1 {
		t.Errorf("conf: %s", cfg.body)
	}
	dirs := base(t, url, "/commands/dirs")
	if dirs.num(t, "datadir_size") <= 0 {
		t.Errorf("dirs: %s", dirs.body)
	}
	if icfg := base(t, url, "/commands/icfg"); string(icfg.fields["initial_configuration"]) != "null" {
		t.Errorf("icfg without a zoo.cfg: %s", icfg.body)
	}
	if envi := base(t, url, "/commands/envi"); envi.str(t, "zookeeper.version") != Version {
		t.Errorf("envi: %s", envi.body)
	}
	sysp := base(t, url, "/commands/sysp")
	if sysp.str(t, "line.separator") != "\n" || sysp.str(t, "os.name") == "" || !slices.IsSorted(sysp.keys[:len(sysp.keys)-2]) {
		t.Errorf("sysp: %s", sysp.body)
	}

	// No snapshot yet, then one.
	if ls := base(t, url, "/commands/lsnp"); ls.str(t, "zxid") != "ffffffffffffffff" || ls.num(t, "timestamp") != -1 {
		t.Errorf("last_snapshot without one: %s", ls.body)
	}
	if err := os.WriteFile(filepath.Join(s.snapshotDir(), "snapshot.1f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(s.snapshotDir(), "snapshot.2a.123.tmp"), []byte("x"), 0o644)
	if ls := base(t, url, "/commands/lsnp"); ls.str(t, "zxid") != "1f" || time.Since(time.Unix(ls.num(t, "timestamp"), 0)) > time.Minute {
		t.Errorf("last_snapshot: %s", ls.body)
	}

	// Trace mask, and the resets.
	if a := base(t, url, "/commands/gtmk"); a.num(t, "tracemask") != 306 { // Apache's initial mask
		t.Errorf("gtmk: %s", a.body)
	}
	if a := base(t, url, "/commands/stmk?traceMask=4"); a.num(t, "tracemask") != 4 {
		t.Errorf("stmk: %s", a.body)
	}
	if a := base(t, url, "/commands/get_trace_mask"); a.num(t, "tracemask") != 4 {
		t.Errorf("gtmk after stmk: %s", a.body)
	}
	base(t, url, "/commands/srst")
	if s.stats.Received.Load() != 0 {
		t.Errorf("srst did not reset the server's counters")
	}
	base(t, url, "/commands/crst")
	if n := c.call(wire.OpPing, nil, nil); n.Err != wire.ErrOK {
		t.Fatal(n.Err)
	}
	cons = base(t, url, "/commands/cons")
	json.Unmarshal(cons.fields["connections"], &conns)
	if conns[0].Received != 1 || conns[0].LastCxid != -1 || conns[0].LastOp != "PING" {
		t.Errorf("cons after crst and a ping: %s", cons.body)
	}
}

func TestAdminInitialConfiguration(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "zoo.cfg")
	text := "tickTime=2000\ndataDir=" + dir + "\nclientPort=2181\n"
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, func(c *conf.Config) { c.File = file })
	a := adminGet(t, adminServer(t, s), "/commands/initial_configuration")
	if a.str(t, "initial_configuration") != text {
		t.Errorf("icfg: %s", a.body)
	}
}

func TestAdminBeforeServe(t *testing.T) {
	cfg := conf.Default()
	cfg.DataDir = t.TempDir()
	s := New(cfg, zap.NewNop())
	base := adminServer(t, s)
	a := adminGet(t, base, "/commands/stat")
	if a.status != 200 || a.str(t, "error") != "This ZooKeeper instance is not currently serving requests" ||
		a.str(t, "command") != "stat" {
		t.Errorf("stat before Serve: %d %s", a.status, a.body)
	}
	if a := adminGet(t, base, "/commands/envi"); string(a.fields["error"]) != "null" {
		t.Errorf("envi before Serve: %s", a.body)
	}
}

// freePort returns a loopback TCP port that was free a moment ago (see
// harness.FreePort).
func freePort(t *testing.T) int { return harness.FreePort(t) }

// startConfig is a configuration for Start on loopback ports.
func startConfig(t *testing.T) *conf.Config {
	cfg := conf.Default()
	cfg.DataDir = t.TempDir()
	cfg.DataLogDir = cfg.DataDir
	cfg.ClientPortAddress = "127.0.0.1"
	cfg.ClientPort = freePort(t)
	cfg.AdminServerAddress = "127.0.0.1"
	cfg.AdminServerPort = freePort(t)
	cfg.MetricsProviderClassName = monitor.PrometheusMetricsProvider
	cfg.MetricsHTTPHost = "127.0.0.1"
	cfg.MetricsHTTPPort = freePort(t)
	return cfg
}

func refused(addr string) bool {
	nc, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		nc.Close()
	}
	return err != nil
}

func TestStartServesAdminAndMetrics(t *testing.T) {
	cfg := startConfig(t)
	s := New(cfg, zap.NewNop())
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	admin := fmt.Sprintf("127.0.0.1:%d", cfg.AdminServerPort)
	metrics := fmt.Sprintf("127.0.0.1:%d", cfg.MetricsHTTPPort)
	if a := adminGet(t, "http://"+admin, "/commands/ruok"); a.status != 200 || a.str(t, "command") != "ruok" {
		t.Fatalf("ruok: %d %s", a.status, a.body)
	}
	resp, err := http.Get("http://" + metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "\nznode_count ") {
		t.Fatalf("metrics: %d\n%s", resp.StatusCode, body)
	}
	if resp, err := http.Get("http://" + metrics + "/other"); err != nil || resp.StatusCode != 404 {
		t.Fatalf("metrics /other: %v %v", resp, err)
	}
	s.Close()
	for _, addr := range []string{admin, metrics, s.ClientAddr()} {
		if !refused(addr) {
			t.Errorf("%s still listening after Close", addr)
		}
	}
}

func TestStartWithoutAdminOrMetrics(t *testing.T) {
	cfg := startConfig(t)
	cfg.AdminEnableServer = false
	cfg.MetricsProviderClassName = "org.apache.zookeeper.metrics.impl.DefaultMetricsProvider"
	s := New(cfg, zap.NewNop())
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, addr := range []string{fmt.Sprintf("127.0.0.1:%d", cfg.AdminServerPort), fmt.Sprintf("127.0.0.1:%d", cfg.MetricsHTTPPort)} {
		if !refused(addr) {
			t.Errorf("%s is listening though not configured", addr)
		}
	}
}

// As Apache's standalone server ("Unable to start AdminServer, exiting
// abnormally"), Start fails when the admin port is taken, and leaves
// nothing listening.
func TestStartFailsWhenAdminPortIsTaken(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cfg := startConfig(t)
	cfg.AdminServerPort = busy.Addr().(*net.TCPAddr).Port
	s := New(cfg, zap.NewNop())
	err = s.Start()
	if err == nil {
		s.Close()
		t.Fatal("Start succeeded with the admin port taken")
	}
	if !strings.Contains(err.Error(), "AdminServer") || !strings.Contains(err.Error(), strconv.Itoa(cfg.AdminServerPort)) {
		t.Errorf("error does not name the AdminServer and its address: %v", err)
	}
	for _, addr := range []string{s.ClientAddr(), fmt.Sprintf("127.0.0.1:%d", cfg.MetricsHTTPPort)} {
		if !refused(addr) {
			t.Errorf("%s left listening after a failed Start", addr)
		}
	}
}

// absVersionDir is the version-2 directory under dir as Apache reports it:
// an absolute path.
func absVersionDir(t *testing.T, dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(abs, "version-2")
}

// As Apache's QuorumPeer ("Problem starting AdminServer"), a server of an
// ensemble whose admin port is taken starts without its AdminServer (the
// C client's reconfig tests start three servers on one host, all on the
// default admin port).
func TestEnsembleServerStartsWhenAdminPortIsTaken(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cfg := startConfig(t)
	cfg.AdminServerPort = busy.Addr().(*net.TCPAddr).Port
	for id := int64(1); id <= 3; id++ {
		cfg.Servers = append(cfg.Servers, conf.Server{ID: id, Host: "127.0.0.1",
			QuorumPort: freePort(t), ElectionPort: freePort(t)})
	}
	cfg.MyID = 1
	cfg.FourLetterWords = []string{"ruok"}
	s := New(cfg, zap.NewNop())
	if err := s.Start(); err != nil {
		t.Fatalf("Start with the admin port taken: %v", err)
	}
	defer s.Close()
	if reply := fourLetter(t, s.ClientAddr(), "ruok"); reply != "imok" {
		t.Errorf("ruok answered %q", reply)
	}
}
