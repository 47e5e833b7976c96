package zab

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Interaction tests, after etcd-io/raft's: each file in testdata/ is a
// transcript of commands driving a few nodes by hand (every message
// delivered, dropped or held by name) and, after each, what the nodes did.
// They keep readable the sequences that once broke, next to the random
// simulation. go test ./zab -run TestInteraction -rewrite rewrites the
// expected output; read the diff before committing it.
//
// A transcript is blocks of command lines, "----", the expected output and
// a blank line. Commands (arguments are key=value; lists are comma
// separated):
//
//	cluster voters=1,2,3 [observers=101] [counter-limit=N]
//	tick [n=1] [nodes=...]            ticks, printing what the nodes do
//	run [ticks=1]                     ticks every node, then stabilizes, each tick
//	deliver [from=] [to=] [type=] [drop] [max=N]
//	                                  delivers (or drops) in-flight messages
//	                                  that match, in the order they were sent,
//	                                  and those they cause, up to max (100)
//	persist [nodes=...]               makes appended entries durable
//	stabilize                         persist and deliver until quiet
//
// Heartbeats (PING and its reply) are delivered but not printed unless
// named by type=; messages to a stopped node are lost without a word.
//
//	propose node= data=
//	crash node=                       (appended entries not durable are lost)
//	damage node= keep=N               a stopped node's log keeps its first N
//	                                  entries and it is marked Repairing
//	restart node=
//	status                            each node's role and history
var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of the interaction tests")

func TestInteraction(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) { runTranscript(t, f) })
	}
}

// block is one command block of a transcript.
type block struct {
	line int
	cmds []string
	want string
}

func parseTranscript(t *testing.T, path string) (blocks []block, comments map[int][]string) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	comments = map[int][]string{}
	sc := bufio.NewScanner(f)
	var cur *block
	inOut, n := false, 0
	for sc.Scan() {
		n++
		l := sc.Text()
		switch {
		case inOut && l == "":
			blocks = append(blocks, *cur)
			cur, inOut = nil, false
		case inOut:
			cur.want += l + "\n"
		case cur == nil && (l == "" || strings.HasPrefix(l, "#")):
			comments[len(blocks)] = append(comments[len(blocks)], l)
		case l == "----":
			if cur == nil {
				t.Fatalf("%s:%d: ---- without a command", path, n)
			}
			inOut = true
		default:
			if cur == nil {
				cur = &block{line: n}
			}
			cur.cmds = append(cur.cmds, l)
		}
	}
	if cur != nil {
		blocks = append(blocks, *cur)
	}
	return blocks, comments
}

func runTranscript(t *testing.T, path string) {
	blocks, comments := parseTranscript(t, path)
	it := &interaction{}
	var out strings.Builder
	for i, b := range blocks {
		for _, c := range comments[i] {
			out.WriteString(c + "\n")
		}
		it.out.Reset()
		for _, cmd := range b.cmds {
			if err := it.run(cmd); err != nil {
				t.Fatalf("%s:%d: %s: %v", path, b.line, cmd, err)
			}
		}
		got := it.out.String()
		if got == "" {
			got = "ok\n"
		}
		if !*rewrite && got != b.want {
			t.Errorf("%s:%d: %s\n got:\n%s want:\n%s", path, b.line, strings.Join(b.cmds, "; "), got, b.want)
		}
		out.WriteString(strings.Join(b.cmds, "\n") + "\n----\n" + got + "\n")
	}
	for _, c := range comments[len(blocks)] {
		out.WriteString(c + "\n")
	}
	if *rewrite {
		if err := os.WriteFile(path, []byte(strings.TrimSuffix(out.String(), "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// interaction drives nodes by hand: nothing happens but what a command
// says, so a transcript is exact.
type interaction struct {
	cfg      Config
	voters   []int64
	obs      []int64
	ids      []int64
	nodes    map[int64]*iNode
	inflight []Message
	out      strings.Builder
}

type iNode struct {
	node    *Node
	up      bool
	disk    disk
	pending []Entry // appended, not durable
	applied int64
	seed    uint64
}

func (it *interaction) printf(format string, args ...any) { fmt.Fprintf(&it.out, format, args...) }

func (it *interaction) run(line string) error {
	f := strings.Fields(line)
	args := map[string]string{}
	for _, a := range f[1:] {
		k, v, _ := strings.Cut(a, "=")
		args[k] = v
	}
	ids := func(key string, def []int64) ([]int64, error) {
		s, ok := args[key]
		if !ok {
			return def, nil
		}
		var r []int64
		for _, p := range strings.Split(s, ",") {
			n, err := strconv.ParseInt(p, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", key, err)
			}
			r = append(r, n)
		}
		return r, nil
	}
	num := func(key string, def int) (int, error) {
		s, ok := args[key]
		if !ok {
			return def, nil
		}
		return strconv.Atoi(s)
	}
	node := func() (int64, *iNode, error) {
		id, err := strconv.ParseInt(args["node"], 10, 64)
		if err != nil || it.nodes[id] == nil {
			return 0, nil, fmt.Errorf("no node %q", args["node"])
		}
		return id, it.nodes[id], nil
	}
	switch f[0] {
	case "cluster":
		voters, err := ids("voters", nil)
		if err != nil {
			return err
		}
		obs, err := ids("observers", nil)
		if err != nil {
			return err
		}
		limit, err := num("counter-limit", 0)
		if err != nil {
			return err
		}
		it.cfg = Config{InitLimit: 10, SyncLimit: 5, ElectionTicks: 3, FinalizeTicks: 1,
			MaxEntriesPerMsg: 100, MaxCommittedPerReady: 100, KeepEntries: 100,
			Members: simMembers, counterLimit: uint32(limit)}
		it.voters, it.obs = voters, obs
		it.ids = append(slices.Clone(voters), obs...)
		it.nodes = map[int64]*iNode{}
		for _, id := range it.ids {
			it.nodes[id] = &iNode{seed: uint64(id)}
			it.start(id)
		}
	case "tick":
		n, err := num("n", 1)
		if err != nil {
			return err
		}
		which, err := ids("nodes", it.ids)
		if err != nil {
			return err
		}
		for range n {
			for _, id := range which {
				if s := it.nodes[id]; s.up {
					s.node.Tick()
					it.process(id)
				}
			}
		}
	case "deliver":
		from, err := ids("from", nil)
		if err != nil {
			return err
		}
		to, err := ids("to", nil)
		if err != nil {
			return err
		}
		max, err := num("max", 100)
		if err != nil {
			return err
		}
		_, drop := args["drop"]
		it.deliver(from, to, args["type"], drop, max)
	case "persist":
		which, err := ids("nodes", it.ids)
		if err != nil {
			return err
		}
		for _, id := range which {
			it.persist(id)
		}
	case "stabilize":
		return it.stabilize()
	case "run":
		n, err := num("ticks", 1)
		if err != nil {
			return err
		}
		for range n {
			for _, id := range it.ids {
				if s := it.nodes[id]; s.up {
					s.node.Tick()
					it.process(id)
				}
			}
			if err := it.stabilize(); err != nil {
				return err
			}
		}
	case "propose":
		id, s, err := node()
		if err != nil {
			return err
		}
		z, err := s.node.Propose([]byte(args["data"]))
		if err != nil {
			it.printf("n%d: propose %q: %v\n", id, args["data"], err)
		} else {
			it.printf("n%d: propose %q as %s\n", id, args["data"], ZxidString(z))
		}
		it.process(id)
	case "crash":
		id, s, err := node()
		if err != nil {
			return err
		}
		s.up, s.node, s.pending = false, nil, nil
		it.printf("n%d: crashed\n", id)
	case "damage":
		id, s, err := node()
		if err != nil {
			return err
		}
		keep, err := num("keep", 0)
		if err != nil {
			return err
		}
		if s.up || keep > len(s.disk.log) {
			return fmt.Errorf("n%d is up or has fewer than %d entries", id, keep)
		}
		s.disk.log = s.disk.log[:keep]
		s.disk.hs.Repairing = true
		it.printf("n%d: log damaged after %d entries, repairing\n", id, keep)
	case "restart":
		id, s, err := node()
		if err != nil {
			return err
		}
		if s.up {
			return fmt.Errorf("n%d is up", id)
		}
		it.start(id)
	case "status":
		for _, id := range it.ids {
			s := it.nodes[id]
			if !s.up {
				it.printf("n%d: down\n", id)
				continue
			}
			it.printf("n%d: %v log..%s committed %s applied %s\n", id, s.node.Status(), ZxidString(s.node.LastZxid()),
				ZxidString(s.node.CommittedZxid()), ZxidString(s.applied))
		}
	default:
		return fmt.Errorf("unknown command %q", f[0])
	}
	return nil
}

// stabilize persists and delivers until nothing is in flight.
func (it *interaction) stabilize() error {
	for range 1000 {
		for _, id := range it.ids {
			it.persist(id)
		}
		if len(it.inflight) == 0 {
			return nil
		}
		it.deliver(nil, nil, "", false, len(it.inflight))
	}
	return fmt.Errorf("not quiet after 1000 rounds")
}

func (it *interaction) start(id int64) {
	s := it.nodes[id]
	cfg := it.cfg
	cfg.ID, cfg.Voters, cfg.Observers = id, it.voters, it.obs
	cfg.Log = &s.disk
	s.seed++
	cfg.Rand = rand.New(rand.NewPCG(s.seed, uint64(id)))
	cfg.State = DurableState{HardState: s.disk.hs, SnapshotZxid: s.disk.snap.zxid, LastZxid: s.disk.lastZxid()}
	n, err := NewNode(cfg)
	if err != nil {
		panic(err)
	}
	s.node, s.up, s.pending, s.applied = n, true, nil, s.disk.snap.zxid
	it.printf("n%d: started, log..%s\n", id, ZxidString(s.disk.lastZxid()))
	it.process(id)
}

// deliver hands matching in-flight messages to their nodes in the order
// they were sent, or drops them, including those sent meanwhile, up to max.
func (it *interaction) deliver(from, to []int64, typ string, drop bool, max int) {
	for done := 0; done < max; done++ {
		i := slices.IndexFunc(it.inflight, func(m Message) bool {
			return (from == nil || slices.Contains(from, m.From)) && (to == nil || slices.Contains(to, m.To)) &&
				(typ == "" || m.Type.String() == typ)
		})
		if i < 0 {
			return
		}
		m := it.inflight[i]
		it.inflight = slices.Delete(it.inflight, i, i+1)
		s := it.nodes[m.To]
		switch {
		case !s.up:
			continue
		case drop:
			it.printf("drop %s\n", brief(m))
			continue
		case typ != "" || (m.Type != MsgPing && m.Type != MsgPingReply):
			it.printf("%s\n", brief(m))
		}
		s.node.Step(m)
		it.process(m.To)
	}
}

// brief is a message without its session, which says nothing here.
func brief(m Message) string {
	s := m.String()
	if i := strings.Index(s, " sess="); i >= 0 {
		j := strings.Index(s[i+1:], " ")
		s = s[:i] + s[i+1+j:]
	}
	return s
}

func (it *interaction) persist(id int64) {
	s := it.nodes[id]
	if !s.up || len(s.pending) == 0 {
		return
	}
	s.disk.log = append(s.disk.log, s.pending...)
	s.pending = nil
	s.node.Persisted(s.disk.lastZxid())
	it.process(id)
}

// process carries out the node's Ready as a driver does, printing it.
func (it *interaction) process(id int64) {
	s := it.nodes[id]
	for s.up && s.node.HasReady() {
		rd := s.node.Ready()
		if rd.Fatal != nil {
			it.printf("n%d: FATAL %v\n", id, rd.Fatal)
			s.up = false
			return
		}
		if rd.Status != nil {
			it.printf("n%d: %v\n", id, *rd.Status)
		}
		if sn := rd.Snapshot; sn != nil {
			tree := decodeTree(sn.Data)
			s.disk.snap = snapshotFile{zxid: sn.Zxid, tree: tree}
			s.disk.log, s.pending, s.applied = nil, nil, sn.Zxid
			it.printf("n%d: installs snapshot %s\n", id, ZxidString(sn.Zxid))
		}
		if rd.HasTruncate {
			s.disk.log = append(s.disk.log, s.pending...)
			s.pending = nil
			i := slices.IndexFunc(s.disk.log, func(e Entry) bool { return cmpZxid(e.Zxid, rd.TruncateAfter) > 0 })
			if i >= 0 {
				s.disk.log = s.disk.log[:i]
			}
			it.printf("n%d: truncates after %s\n", id, ZxidString(rd.TruncateAfter))
		}
		if hs := rd.HardState; hs != nil {
			s.disk.hs = *hs
			it.printf("n%d: stores %+v\n", id, *hs)
		}
		if n := len(rd.Entries); n > 0 {
			s.pending = append(s.pending, rd.Entries...)
			it.printf("n%d: appends %s\n", id, zxidRange(rd.Entries))
		}
		for _, m := range rd.Messages {
			m.From = id
			it.inflight = append(it.inflight, m)
		}
		if n := len(rd.Committed); n > 0 {
			s.applied = rd.Committed[n-1].Zxid
			it.printf("n%d: applies %s\n", id, zxidRange(rd.Committed))
		}
		for _, m := range rd.Memberships {
			s.disk.members = m
			it.printf("n%d: activates %v\n", id, m)
		}
		if rd.NeedSnapshot {
			var tree []Entry
			s.disk.Iterate(0, func(z int64, d []byte) error {
				if cmpZxid(z, s.applied) <= 0 {
					tree = append(tree, Entry{Zxid: z, Data: d})
				}
				return nil
			})
			tree = append(slices.Clone(s.disk.snap.tree), tree...)
			s.node.SnapshotReady(s.applied, encodeTree(tree))
		}
	}
}

func zxidRange(es []Entry) string {
	if len(es) == 1 {
		return ZxidString(es[0].Zxid)
	}
	return ZxidString(es[0].Zxid) + ".." + ZxidString(es[len(es)-1].Zxid)
}
