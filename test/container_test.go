package test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkgo/zkgo/test/harness"
)

// containerDeadline bounds the wait for the removal of a container or TTL
// node. The checks run every 100 ms here; at the default interval, a
// minute, the first check would come after the deadline.
const containerDeadline = 30 * time.Second

// containerCase is a TestContainerManager case: run drives a session on a
// server started with the JVM flags and returns its transcript.
type containerCase struct {
	name  string
	flags []string
	run   func(c *zk.Conn) string
}

// TestContainerManager: the znode.container.* system properties
// (-D flags, as Apache reads them) set how often empty containers and
// expired TTL nodes are removed, how many per minute, and after how long a
// container that never had a child goes too. Apache ZooKeeper and ours
// must remove the same nodes.
func TestContainerManager(t *testing.T) {
	harness.BuildOurs(t)
	cfg := map[string]string{"extendedTypesEnabled": "true"}
	const fast = "-Dznode.container.checkIntervalMs=100"
	cases := []containerCase{
		{name: "interval", flags: []string{fast}, run: containerInterval},
		{name: "never-used", flags: []string{fast, "-Dznode.container.maxNeverUsedIntervalMs=300"}, run: containerNeverUsed},
		{name: "max-per-minute", flags: []string{fast, "-Dznode.container.maxPerMinute=1"}, run: containerMaxPerMinute},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			apache := harness.StartApacheJVM(t, cfg, tc.flags...)
			ours := harness.StartOursJVM(t, cfg, tc.flags...)
			want := tc.run(connect(t, apache.Addr()))
			got := tc.run(connect(t, ours.Addr()))
			if d := harness.UnifiedDiff("apache", want, "ours", got); d != "" {
				t.Errorf("transcripts differ:\n%s", d)
			} else if testing.Verbose() {
				t.Logf("transcript:\n%s", want)
			}
		})
	}
}

// containerInterval: an emptied container and an expired TTL node go
// within the deadline; a container that never had a child stays (the check
// that removed the others saw it).
func containerInterval(c *zk.Conn) string {
	defer c.Close()
	var tr containerTranscript
	tr.do("create container /unused", createContainer(c, "/unused"))
	tr.do("create container /ct", createContainer(c, "/ct"))
	tr.do("create /ct/child", createPersistent(c, "/ct/child"))
	_, err := c.CreateTTL("/ttl", nil, zk.FlagTTL, open, 200*time.Millisecond)
	tr.do("create ttl /ttl (200ms)", err)
	tr.do("delete /ct/child", c.Delete("/ct/child", -1))
	tr.awaitGone(c, "/ct")
	tr.awaitGone(c, "/ttl")
	tr.exists(c, "/unused")
	return tr.String()
}

// containerNeverUsed: with maxNeverUsedIntervalMs a container that never
// had a child goes too.
func containerNeverUsed(c *zk.Conn) string {
	defer c.Close()
	var tr containerTranscript
	tr.do("create container /unused", createContainer(c, "/unused"))
	tr.awaitGone(c, "/unused")
	return tr.String()
}

// containerMaxPerMinute: with maxPerMinute=1 the second of two emptied
// containers goes a minute after the first, so it is still there right
// after the first has gone.
func containerMaxPerMinute(c *zk.Conn) string {
	defer c.Close()
	var tr containerTranscript
	for _, p := range []string{"/a", "/b"} {
		tr.do("create container "+p, createContainer(c, p))
		tr.do("create "+p+"/child", createPersistent(c, p+"/child"))
	}
	a := tr.watch(c, "/a")
	b := tr.watch(c, "/b")
	tr.do("delete /a/child", c.Delete("/a/child", -1))
	tr.do("delete /b/child", c.Delete("/b/child", -1))
	// Either may go first: the transcript names neither.
	var first, other string
	select {
	case ev := <-a:
		first, other = fmt.Sprint(ev.Type), "/b"
	case ev := <-b:
		first, other = fmt.Sprint(ev.Type), "/a"
	case <-time.After(containerDeadline):
		first = "no event within the deadline"
	}
	tr.log("first container: " + first)
	if other != "" {
		ok, _, err := c.Exists(other)
		tr.log(fmt.Sprintf("the other exists: %v %v", ok, errName(err)))
	}
	return tr.String()
}

// containerTranscript records what a containerCase saw.
type containerTranscript struct{ lines []string }

func (tr *containerTranscript) String() string { return strings.Join(tr.lines, "\n") + "\n" }

func (tr *containerTranscript) log(line string) { tr.lines = append(tr.lines, line) }

// do records the outcome of an operation.
func (tr *containerTranscript) do(op string, err error) { tr.log(op + " -> " + errName(err)) }

// watch sets an exists watch on path and returns its channel.
func (tr *containerTranscript) watch(c *zk.Conn, path string) <-chan zk.Event {
	ok, _, ch, err := c.ExistsW(path)
	tr.log(fmt.Sprintf("existsW %s -> %s %v", path, errName(err), ok))
	return ch
}

// awaitGone records whether path is gone within containerDeadline,
// awaiting its deletion with an exists watch (it may be gone already).
func (tr *containerTranscript) awaitGone(c *zk.Conn, path string) {
	ok, _, ch, err := c.ExistsW(path)
	if err != nil {
		tr.log(fmt.Sprintf("existsW %s -> %s", path, errName(err)))
		return
	}
	if ok {
		select {
		case ev := <-ch:
			if ev.Type != zk.EventNodeDeleted {
				tr.log(fmt.Sprintf("%s: unexpected event %s", path, ev.Type))
				return
			}
		case <-time.After(containerDeadline):
			tr.log(path + " still there after the deadline")
			return
		}
	}
	tr.log(path + " gone")
}

// exists records whether path exists.
func (tr *containerTranscript) exists(c *zk.Conn, path string) {
	ok, _, err := c.Exists(path)
	tr.log(fmt.Sprintf("exists %s -> %s %v", path, errName(err), ok))
}

func createContainer(c *zk.Conn, path string) error {
	_, err := c.CreateContainer(path, nil, zk.FlagContainer, open)
	return err
}

func createPersistent(c *zk.Conn, path string) error {
	_, err := c.Create(path, nil, zk.FlagPersistent, open)
	return err
}
