package test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zkgo/zkgo/test/harness"
)

const (
	// clickHouseServer is ClickHouse 18.16's server (Debian package
	// clickhouse-server; test/cclient/install.sh installs it).
	clickHouseServer = "/usr/sbin/clickhouse-server"
	// clickHouseStartTimeout bounds a server's start until it answers
	// /ping.
	clickHouseStartTimeout = 60 * time.Second
	// clickHouseStopTimeout bounds the wait for its exit after SIGTERM.
	clickHouseStopTimeout = 30 * time.Second
	// clickHouseSessionTimeout is the servers' ZooKeeper session timeout
	// (session_timeout_ms in clickHouseConfig).
	clickHouseSessionTimeout = 10 * time.Second
	// clickHouseQueryTimeout bounds one query (SYSTEM SYNC REPLICA waits
	// for the replica to fetch what it lacks).
	clickHouseQueryTimeout = 90 * time.Second
)

// clickHouseConfig is a ClickHouse server's config.xml: its ports on
// 127.0.0.1, its directories, one ZooKeeper server, and the macro
// {replica} that names it in the replicated table's path.
const clickHouseConfig = `<?xml version="1.0"?>
<yandex>
  <logger>
    <level>information</level>
    <log>{{dir}}/server.log</log>
    <errorlog>{{dir}}/server.err.log</errorlog>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>{{http}}</http_port>
  <tcp_port>{{tcp}}</tcp_port>
  <interserver_http_port>{{interserver}}</interserver_http_port>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <path>{{dir}}/data/</path>
  <tmp_path>{{dir}}/tmp/</tmp_path>
  <user_files_path>{{dir}}/user_files/</user_files_path>
  <format_schema_path>{{dir}}/format_schemas/</format_schema_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  <mlock_executable>false</mlock_executable>
  <zookeeper>
    <node><host>127.0.0.1</host><port>{{zkport}}</port></node>
    <session_timeout_ms>10000</session_timeout_ms>
  </zookeeper>
  <macros><replica>{{replica}}</replica></macros>
</yandex>
`

// clickHouseUsers is users.xml: the user default, without a password,
// from 127.0.0.1 only.
const clickHouseUsers = `<?xml version="1.0"?>
<yandex>
  <profiles><default></default></profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas><default></default></quotas>
</yandex>
`

// clickHouse is one running ClickHouse server.
type clickHouse struct {
	t       *testing.T
	replica string
	dir     string
	http    int
	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has exited
}

// startClickHouse starts a ClickHouse server in a directory of its own
// whose macro {replica} is replica, with the ZooKeeper server on
// 127.0.0.1:zkPort, and
// waits until it answers /ping. It is killed when the test ends.
func startClickHouse(t *testing.T, replica string, zkPort int) *clickHouse {
	t.Helper()
	ch := &clickHouse{t: t, replica: replica, dir: t.TempDir(), http: harness.FreePort(t)}
	cfg := strings.NewReplacer(
		"{{dir}}", ch.dir,
		"{{http}}", strconv.Itoa(ch.http),
		"{{tcp}}", strconv.Itoa(harness.FreePort(t)),
		"{{interserver}}", strconv.Itoa(harness.FreePort(t)),
		"{{zkport}}", strconv.Itoa(zkPort),
		"{{replica}}", replica,
	).Replace(clickHouseConfig)
	for name, content := range map[string]string{"config.xml": cfg, "users.xml": clickHouseUsers} {
		if err := os.WriteFile(filepath.Join(ch.dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ch.start()
	t.Cleanup(func() {
		ch.kill()
		if t.Failed() {
			t.Logf("ClickHouse %s, %s:\n%s", replica, filepath.Join(ch.dir, "server.err.log"),
				tailFile(filepath.Join(ch.dir, "server.err.log")))
		}
	})
	return ch
}

// start runs the server and waits until it answers /ping.
func (ch *clickHouse) start() {
	ch.t.Helper()
	out, err := os.OpenFile(filepath.Join(ch.dir, "stdout.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		ch.t.Fatal(err)
	}
	defer out.Close()
	ch.cmd = exec.Command(clickHouseServer, "--config-file="+filepath.Join(ch.dir, "config.xml"))
	ch.cmd.Dir = ch.dir
	ch.cmd.Stdout, ch.cmd.Stderr = out, out
	if err := ch.cmd.Start(); err != nil {
		ch.t.Fatalf("ClickHouse %s: %v", ch.replica, err)
	}
	ch.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) {
		cmd.Wait()
		close(done)
	}(ch.cmd, ch.done)
	deadline := time.Now().Add(clickHouseStartTimeout)
	for {
		reply, err := ch.get("/ping")
		if err == nil && reply == "Ok.\n" {
			return
		}
		select {
		case <-ch.done:
			ch.t.Fatalf("ClickHouse %s exited while starting; %s:\n%s", ch.replica,
				filepath.Join(ch.dir, "stdout.log"), tailFile(filepath.Join(ch.dir, "stdout.log")))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			ch.t.Fatalf("ClickHouse %s does not answer /ping within %v: %v %q", ch.replica, clickHouseStartTimeout, err, reply)
		}
	}
}

// stop sends SIGTERM and waits for the exit.
func (ch *clickHouse) stop() {
	ch.t.Helper()
	if err := ch.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		ch.t.Fatalf("ClickHouse %s: %v", ch.replica, err)
	}
	select {
	case <-ch.done:
	case <-time.After(clickHouseStopTimeout):
		ch.t.Fatalf("ClickHouse %s did not exit within %v of SIGTERM", ch.replica, clickHouseStopTimeout)
	}
}

// kill kills the server if it runs and waits for the exit.
func (ch *clickHouse) kill() {
	if ch.cmd == nil {
		return
	}
	select {
	case <-ch.done:
	default:
		ch.cmd.Process.Kill()
		<-ch.done
	}
}

// get fetches a path of the HTTP interface.
func (ch *clickHouse) get(path string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d%s", ch.http, path), nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// query runs a statement through the HTTP interface and returns its
// output (TabSeparated), failing the test if ClickHouse answers an error.
func (ch *clickHouse) query(q string) string {
	ch.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clickHouseQueryTimeout)
	defer cancel()
	u := fmt.Sprintf("http://127.0.0.1:%d/", ch.http)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(q))
	if err != nil {
		ch.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ch.t.Fatalf("ClickHouse %s: %s: %v", ch.replica, q, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		ch.t.Fatalf("ClickHouse %s: %s: %v", ch.replica, q, err)
	}
	if resp.StatusCode != http.StatusOK {
		ch.t.Fatalf("ClickHouse %s: %s: %s: %s", ch.replica, q, resp.Status, strings.TrimSpace(string(b)))
	}
	return string(b)
}

// expect runs a query and fails the test unless its output is want.
func (ch *clickHouse) expect(q, want string) {
	ch.t.Helper()
	if got := ch.query(q); got != want {
		ch.t.Errorf("ClickHouse %s: %s: got %q, want %q", ch.replica, q, got, want)
	}
}

// TestClickHouseReplication runs two ClickHouse 18.16 servers as the two
// replicas of a ReplicatedMergeTree table whose coordination is our
// ZooKeeper server: inserts on both replicate to both, a block inserted
// twice (on either replica) is kept once, system.zookeeper lists the
// replicas, and a replica stopped while the other takes inserts catches up
// after its restart. With DIFF_SELF=1 it runs against Apache ZooKeeper.
//
// ClickHouse's own ZooKeeper client sends the ConnectRequest of old clients,
// without the trailing readOnly flag, and accepts only the 36-byte answer
// without it that Apache ZooKeeper gives such clients.
func TestClickHouseReplication(t *testing.T) {
	start := harness.StartOurs
	if os.Getenv(envDiffSelf) == "1" {
		start = harness.StartApache
	}
	requireClient(t, clickHouseServer, "clickhouse-server")
	zk := start(t, nil)
	r1 := startClickHouse(t, "r1", zk.Port())
	r2 := startClickHouse(t, "r2", zk.Port())

	const table = "CREATE TABLE events (day Date, id UInt64, name String) " +
		"ENGINE = ReplicatedMergeTree('/clickhouse/tables/events', '{replica}') PARTITION BY day ORDER BY id"
	r1.query(table)
	r2.query(table)

	r1.query("INSERT INTO events VALUES ('2024-01-01', 1, 'a'), ('2024-01-01', 2, 'b')")
	r2.query("INSERT INTO events VALUES ('2024-01-02', 3, 'c')")
	// The same block again, on each replica: de-duplicated by its hash in
	// ZooKeeper (/blocks), whichever replica it comes through.
	r1.query("INSERT INTO events VALUES ('2024-01-01', 1, 'a'), ('2024-01-01', 2, 'b')")
	r2.query("INSERT INTO events VALUES ('2024-01-01', 1, 'a'), ('2024-01-01', 2, 'b')")
	for _, ch := range []*clickHouse{r1, r2} {
		ch.query("SYSTEM SYNC REPLICA events")
		ch.expect("SELECT count(), sum(id) FROM events", "3\t6\n")
		ch.expect("SELECT id, name FROM events ORDER BY id", "1\ta\n2\tb\n3\tc\n")
	}
	r1.expect("SELECT name FROM system.zookeeper WHERE path = '/clickhouse/tables/events/replicas' ORDER BY name", "r1\nr2\n")
	r2.expect("SELECT count() FROM system.zookeeper WHERE path = '/clickhouse/tables/events/blocks'", "2\n")
	r2.expect("SELECT name FROM system.zookeeper WHERE path = '/clickhouse/tables/events/replicas/r2' AND name = 'is_active'", "is_active\n")

	// r2 goes away; r1 takes inserts meanwhile; r2 comes back and catches up.
	r2.stop()
	r1.query("INSERT INTO events VALUES ('2024-01-03', 4, 'd'), ('2024-01-03', 5, 'e')")
	r1.query("INSERT INTO events VALUES ('2024-01-04', 6, 'f')")
	// r2's session ended with it (or expires): its ephemeral is_active goes.
	const r2Active = "SELECT count() FROM system.zookeeper WHERE path = '/clickhouse/tables/events/replicas/r2' AND name = 'is_active'"
	for deadline := time.Now().Add(clickHouseSessionTimeout + 20*time.Second); r1.query(r2Active) != "0\n"; {
		if time.Now().After(deadline) {
			t.Fatalf("r2's is_active is still there %v after it stopped", clickHouseSessionTimeout+20*time.Second)
		}
		time.Sleep(100 * time.Millisecond)
	}
	r2.start()
	r2.query("SYSTEM SYNC REPLICA events")
	r2.expect("SELECT count(), sum(id) FROM events", "6\t21\n")
	r2.expect("SELECT is_readonly, queue_size, active_replicas FROM system.replicas WHERE table = 'events'", "0\t0\t2\n")
	r1.expect("SELECT count(), sum(id) FROM events", "6\t21\n")
	r2.query("INSERT INTO events VALUES ('2024-01-05', 7, 'g')")
	r1.query("SYSTEM SYNC REPLICA events")
	r1.expect("SELECT count(), sum(id) FROM events", "7\t28\n")
}
