package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zkgo/zkgo/test/harness"
)

// proc is a zkcli process whose combined output tests wait on.
type proc struct {
	*stream
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan struct{}
	err   error
}

func startZkcli(t *testing.T, addr string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(zkcliBin(t), append([]string{"-server", addr}, args...)...)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = w, w
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	p := &proc{stream: newStream(t, r), cmd: cmd, stdin: stdin, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
		r.Close()
		if t.Failed() {
			t.Logf("%v output:\n%s", cmd.Args, p.text(0))
		}
	})
	return p
}

// wait waits for the process to exit and returns its exit code.
func (p *proc) wait() int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(expectTimeout):
		p.t.Fatalf("%v did not exit", p.cmd.Args)
	}
	if ee, ok := p.err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return 0
}

func (p *proc) interrupt() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		p.t.Fatal(err)
	}
}

func zkcliOK(t *testing.T, addr string, args ...string) string {
	t.Helper()
	r := runZkcli(t, addr, "", true, args...)
	if r.code != 0 {
		t.Fatalf("zkcli %v: exit %d\n%s%s", args, r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

func TestExtras(t *testing.T) {
	zkcliBin(t)
	srv := harness.StartApache(t, map[string]string{"extendedTypesEnabled": "true"})
	addr := srv.Addr()

	t.Run("tree", func(t *testing.T) {
		t.Parallel()
		zkcliOK(t, addr, "create", "/tree", "12345")
		zkcliOK(t, addr, "create", "/tree/a", "xy")
		zkcliOK(t, addr, "create", "/tree/a/b", "")
		zkcliOK(t, addr, "create", "/tree/c", "abc")
		got := zkcliOK(t, addr, "tree", "/tree")
		want := `/tree  [5 B, 2 children, subtree 4 nodes, 10 B]
├── a  [2 B, 1 child, subtree 2 nodes, 2 B]
│   └── b  [0 B]
└── c  [3 B]
4 nodes, 10 B
`
		if got != want {
			t.Errorf("tree:\n%s\nwant:\n%s", got, want)
		}
		got = zkcliOK(t, addr, "tree", "-d", "0", "/tree")
		if !strings.Contains(got, "/tree  [5 B, 2 children, not shown]") {
			t.Errorf("tree -d 0:\n%s", got)
		}
		var n struct {
			Nodes    int
			Bytes    int
			Children []struct{ Name string }
		}
		if err := json.Unmarshal([]byte(zkcliOK(t, addr, "--json", "tree", "/tree")), &n); err != nil {
			t.Fatal(err)
		}
		if n.Nodes != 4 || n.Bytes != 10 || len(n.Children) != 2 || n.Children[0].Name != "a" {
			t.Errorf("tree --json: %+v", n)
		}
	})

	t.Run("json", func(t *testing.T) {
		t.Parallel()
		zkcliOK(t, addr, "create", "/json", "hello")
		var get struct {
			Path string
			Data *string
			Stat struct{ DataLength int }
		}
		if err := json.Unmarshal([]byte(zkcliOK(t, addr, "get", "-s", "--json", "/json")), &get); err != nil {
			t.Fatal(err)
		}
		if get.Path != "/json" || get.Data == nil || *get.Data != "hello" || get.Stat.DataLength != 5 {
			t.Errorf("get --json: %+v", get)
		}
		var ls struct{ Children []string }
		if err := json.Unmarshal([]byte(zkcliOK(t, addr, "--json", "ls", "/")), &ls); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(strings.Join(ls.Children, ","), "json") {
			t.Errorf("ls --json: %+v", ls)
		}
		r := runZkcli(t, addr, "", true, "--json", "get", "/nope")
		var e struct {
			Error    string
			ExitCode int
		}
		if err := json.Unmarshal([]byte(r.stderr), &e); err != nil || e.Error != "Node does not exist: /nope" || r.code != 1 {
			t.Errorf("error in JSON: %q (%v), exit %d", r.stderr, err, r.code)
		}
	})

	t.Run("dump-load", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		script := `create /dump root
create /dump/a "with space"
create /dump/a/b
create -s /dump/seq- s
create /dump/acl x world:anyone:r
create -c /dump/cont
create /dump/cont/keep k
create -t 60000 /dump/ttl t
create -e /dump/eph e
dump /dump > ` + filepath.Join(dir, "d1.json") + `
deleteall /dump
load ` + filepath.Join(dir, "d1.json") + ` /restored
dump /restored > ` + filepath.Join(dir, "d2.json") + `
load ` + filepath.Join(dir, "d1.json") + `
load ` + filepath.Join(dir, "d1.json") + `
load -f ` + filepath.Join(dir, "d1.json") + `
`
		r := runZkcli(t, addr, script, false)
		// The last load cannot overwrite the node whose ACL is read-only.
		if r.code != 1 {
			t.Fatalf("script exited %d, want 1:\n%s", r.code, r.combined)
		}
		for _, want := range []string{
			"skipped 1 ephemeral node(s)",
			"loaded 8 node(s): 8 created, 0 updated, 0 already there",
			"loaded 8 node(s): 8 created, 0 updated, 0 already there",
			"loaded 8 node(s): 0 created, 0 updated, 8 already there",
			"/dump/acl: Insufficient permission : /dump/acl",
			"loaded 8 node(s): 0 created, 7 updated, 0 already there, 1 failed",
		} {
			if !strings.Contains(r.combined, want) {
				t.Errorf("output lacks %q:\n%s", want, r.combined)
			}
		}
		var d1, d2 dumpDoc
		readJSON(t, filepath.Join(dir, "d1.json"), &d1)
		readJSON(t, filepath.Join(dir, "d2.json"), &d2)
		if len(d1.Nodes) != 8 || len(d2.Nodes) != 8 {
			t.Fatalf("dumps have %d and %d nodes, want 8", len(d1.Nodes), len(d2.Nodes))
		}
		for i := range d1.Nodes {
			a, b := d1.Nodes[i], d2.Nodes[i]
			if strings.Replace(a.Path, "/dump", "/restored", 1) != b.Path || !sameJSON(a.Data, b.Data) || !sameJSON(a.ACL, b.ACL) || a.Mode != b.Mode {
				t.Errorf("node %d: dumped %+v, restored %+v", i, a, b)
			}
		}
		if got := zkcliOK(t, addr, "get", "/restored/a"); got != "with space\n" {
			t.Errorf("restored data %q", got)
		}
		if got := zkcliOK(t, addr, "getAcl", "/restored/acl"); got != "'world,'anyone\n: r\n" {
			t.Errorf("restored ACL %q", got)
		}
		// Apache ZooKeeper shows containers and TTL nodes with ephemeralOwner
		// 0, so a dump cannot tell them from persistent nodes.
		if got := zkcliOK(t, addr, "get", "/restored/ttl"); got != "t\n" {
			t.Errorf("restored TTL node %q", got)
		}
	})

	t.Run("lock", func(t *testing.T) {
		t.Parallel()
		a := startZkcli(t, addr, "lock", "/locks/l", "--", "sh", "-c", "echo A-has-it; cat >/dev/null; echo A-done")
		a.expect(0, "A-has-it")
		b := startZkcli(t, addr, "lock", "/locks/l", "--", "echo", "B-has-it")
		b.expect(0, "waiting for lock /locks/l (1 ahead)")
		a.stdin.Close() // A's command ends, A lets go
		a.expect(0, "released lock /locks/l")
		if code := a.wait(); code != 0 {
			t.Errorf("A exited %d", code)
		}
		b.expect(0, "B-has-it")
		if code := b.wait(); code != 0 {
			t.Errorf("B exited %d", code)
		}
		if out := zkcliOK(t, addr, "ls", "/locks/l"); out != "[]\n" {
			t.Errorf("lock nodes left: %s", out)
		}
		c := startZkcli(t, addr, "lock", "/locks/l", "--", "sh", "-c", "exit 3")
		if code := c.wait(); code != 3 {
			t.Errorf("the command's exit code is zkcli's: got %d, want 3", code)
		}
	})

	t.Run("elect", func(t *testing.T) {
		t.Parallel()
		a := startZkcli(t, addr, "elect", "/election", "alpha")
		at := a.expect(0, "leader: alpha (n_0000000000) <- me")
		b := startZkcli(t, addr, "elect", "/election", "beta")
		bt := b.expect(0, "leader: alpha (n_0000000000)\n")
		a.interrupt()
		if code := a.wait(); code != 0 {
			t.Errorf("alpha exited %d", code)
		}
		b.expect(bt, "leader: beta (n_0000000001) <- me")
		b.interrupt()
		b.wait()
		_ = at
	})

	t.Run("watch", func(t *testing.T) {
		t.Parallel()
		zkcliOK(t, addr, "create", "/watched")
		w := startZkcli(t, addr, "watch", "-d", "/watched")
		at := w.expect(0, "watching /watched")
		zkcliOK(t, addr, "create", "/watched/x", "one")
		at = w.expect(at, "NodeCreated /watched/x = one")
		zkcliOK(t, addr, "set", "/watched/x", "two")
		at = w.expect(at, "NodeDataChanged /watched/x = two")
		zkcliOK(t, addr, "create", "/watched/x/y")
		at = w.expect(at, "NodeCreated /watched/x/y = null")
		zkcliOK(t, addr, "deleteall", "/watched/x")
		at = w.expect(at, "NodeDeleted /watched/x/y")
		w.expect(at, "NodeDeleted /watched/x")
		w.interrupt()
		if code := w.wait(); code != 0 {
			t.Errorf("watch exited %d", code)
		}
	})

	t.Run("chroot", func(t *testing.T) {
		t.Parallel()
		zkcliOK(t, addr, "create", "/app")
		script := "create /x 1\ncreate -s /x/s- 2\nls /x\nget -w /x\nset /x 3\nls -R /\ngetEphemerals\n"
		r := runZkcli(t, addr+"/app", script, false)
		for _, want := range []string{"Created /x\n", "Created /x/s-0000000000\n", "[s-0000000000]\n",
			"WatchedEvent state:SyncConnected type:NodeDataChanged path:/x\n", "/\n/x\n/x/s-0000000000\n"} {
			if !strings.Contains(r.combined, want) {
				t.Errorf("chrooted output lacks %q:\n%s", want, r.combined)
			}
		}
		if got := zkcliOK(t, addr, "get", "/app/x"); got != "3\n" {
			t.Errorf("/app/x = %q", got)
		}
	})

	t.Run("ephemeral-one-shot", func(t *testing.T) {
		t.Parallel()
		// zkcli closes its session when a one-shot command is done (zkCli.sh
		// leaves it to expire): the ephemeral node goes at once.
		zkcliOK(t, addr, "create", "-e", "/eph1")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		r := runZkcli(t, addr, "", true, "stat", "/eph1")
		if r.code == 0 || ctx.Err() != nil {
			t.Errorf("ephemeral node still there after the one-shot session: %+v", r)
		}
	})
}

type dumpDoc struct {
	Root  string
	Nodes []struct {
		Path string
		Data any
		ACL  any
		Mode string
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v\n%s", path, err, b)
	}
}

func sameJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
