package zab

import (
	"container/heap"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/zkgo/zkgo/wire"
)

// This file is a simulated ensemble: nodes with in-memory durable storage
// and a network under the test's control, driven in one goroutine from a
// seeded PRNG, plus the checker of ZAB's safety properties.

// unitsPerTick is the simulated time resolution: messages take a few units.
const unitsPerTick = 10

// disk is what survives a crash.
type disk struct {
	log  []Entry
	hs   HardState
	snap snapshotFile
	// members is the last active membership (the real driver writes it to
	// a dynamic configuration file); Version 0 means the initial one.
	members Membership
}

type snapshotFile struct {
	zxid int64
	tree []Entry
	prev int64 // zxid of the snapshot before, kept as the purge point
}

// Iterate implements LogReader over the durable log.
func (d *disk) Iterate(from int64, fn func(zxid int64, data []byte) error) error {
	i, _ := slices.BinarySearchFunc(d.log, from, func(e Entry, z int64) int { return cmpZxid(e.Zxid, z) })
	for _, e := range d.log[i:] {
		if err := fn(e.Zxid, e.Data); err != nil {
			return err
		}
	}
	return nil
}

func (d *disk) lastZxid() int64 {
	if len(d.log) == 0 {
		return 0
	}
	return d.log[len(d.log)-1].Zxid
}

// simNode is one server: the state machine plus what its driver holds.
type simNode struct {
	id       int64
	observer bool
	up       bool
	node     *Node
	disk     disk
	pending  []Entry // appended, not yet durable
	tree     []Entry // applied transactions (the data tree)
	status   Status
	// truncs and snaps record the syncs this server went through.
	truncs   []int64
	snaps    []int64
	requests []Request // forwarded writes received
	// replies are the leader's answers handed out, with the zxid of the
	// tree when they were.
	replies []simReply
	// syncsSent are the learner syncs this server reported as leader.
	syncsSent []LearnerSync
	// persistP is the chance per time unit that pending entries become
	// durable (slow disks have a small one).
	persistP float64
}

// simReply is an answer from the leader as a learner's driver saw it.
type simReply struct {
	data     []byte
	treeZxid int64
}

func (s *simNode) treeZxid() int64 {
	if len(s.tree) == 0 {
		return 0
	}
	return s.tree[len(s.tree)-1].Zxid
}

// inflight is a message on the wire.
type inflight struct {
	at  int64
	seq int64
	m   Message
}

type msgQueue []inflight

func (q msgQueue) Len() int { return len(q) }
func (q msgQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}
func (q msgQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *msgQueue) Push(x any)   { *q = append(*q, x.(inflight)) }
func (q *msgQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

// netFaults are the network's misbehaviours, each a probability per message.
type netFaults struct {
	drop, dup, reorder float64
	maxDelay           int64 // in units
}

// cluster is the simulated ensemble.
type cluster struct {
	rng      *rand.Rand
	cfg      Config // template: limits and sizes
	voters   []int64
	obs      []int64
	nodes    map[int64]*simNode
	ids      []int64
	now      int64 // in units
	queue    msgQueue
	seq      int64
	linkLast map[[2]int64]int64
	blocked  map[[2]int64]bool
	faults   netFaults

	// Checker state.
	committed []Entry          // the one committed sequence
	proposed  map[int64][]byte // zxid -> data, across all leaders
	leaders   map[int64]int64  // epoch -> established leader
	err       error            // first safety violation

	trace    bool
	events   []string
	maxTrace int
}

func newCluster(seed uint64, nVoters, nObservers int, tmpl Config) *cluster {
	return newClusterSpares(seed, nVoters, nObservers, 0, tmpl)
}

// newClusterSpares is newCluster with nSpares more servers (ids 201, ...)
// that are in no membership at first: they can join by reconfiguration.
func newClusterSpares(seed uint64, nVoters, nObservers, nSpares int, tmpl Config) *cluster {
	c := &cluster{
		rng:      rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		cfg:      tmpl,
		nodes:    map[int64]*simNode{},
		linkLast: map[[2]int64]int64{},
		blocked:  map[[2]int64]bool{},
		proposed: map[int64][]byte{},
		leaders:  map[int64]int64{},
		faults:   netFaults{maxDelay: 5},
		maxTrace: 4000,
	}
	for i := 1; i <= nVoters; i++ {
		c.voters = append(c.voters, int64(i))
	}
	for i := 1; i <= nObservers; i++ {
		c.obs = append(c.obs, int64(100+i))
	}
	c.ids = append(slices.Clone(c.voters), c.obs...)
	for i := 1; i <= nSpares; i++ {
		c.ids = append(c.ids, int64(200+i))
	}
	if tmpl.Members == nil {
		tmpl.Members = simMembers
		c.cfg.Members = simMembers
	}
	for _, id := range c.ids {
		c.nodes[id] = &simNode{id: id, observer: id >= 100, persistP: 0.5}
	}
	for _, id := range c.ids {
		c.start(id)
	}
	return c
}

func (c *cluster) logf(format string, args ...any) {
	if !c.trace {
		return
	}
	ev := fmt.Sprintf("t=%d.%d ", c.now/unitsPerTick, c.now%unitsPerTick) + fmt.Sprintf(format, args...)
	if c.maxTrace > 0 && len(c.events) >= c.maxTrace {
		c.events = c.events[1:]
	}
	c.events = append(c.events, ev)
}

func (c *cluster) failf(format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf("t=%d: %s", c.now/unitsPerTick, fmt.Sprintf(format, args...))
		c.logf("VIOLATION: %v", c.err)
	}
}

// start (re)starts a server from its disk.
func (c *cluster) start(id int64) {
	s := c.nodes[id]
	cfg := c.cfg
	cfg.ID = id
	cfg.Voters = c.voters
	cfg.Observers = c.obs
	if m := s.disk.members; m.Version > 0 {
		cfg.Voters, cfg.Observers, cfg.Version = m.Voters, m.Observers, m.Version
	}
	cfg.Log = &s.disk
	cfg.Rand = rand.New(rand.NewPCG(c.rng.Uint64(), c.rng.Uint64()))
	cfg.State = DurableState{HardState: s.disk.hs, SnapshotZxid: s.disk.snap.zxid, LastZxid: s.disk.lastZxid()}
	n, err := NewNode(cfg)
	if err != nil {
		panic(err)
	}
	s.node, s.up, s.pending = n, true, nil
	s.tree = slices.Clone(s.disk.snap.tree)
	s.status = Status{Role: -1}
	c.logf("n%d starts: %+v snap=%s log..%s", id, s.disk.hs, ZxidString(s.disk.snap.zxid), ZxidString(s.disk.lastZxid()))
	c.process(s)
}

// crash stops a server: volatile state is lost, and of the entries not yet
// durable a random prefix reaches the disk anyway.
func (c *cluster) crash(id int64) {
	s := c.nodes[id]
	if !s.up {
		return
	}
	k := c.rng.IntN(len(s.pending) + 1)
	s.disk.log = append(s.disk.log, s.pending[:k]...)
	s.pending, s.node, s.tree, s.up = nil, nil, nil, false
	c.logf("n%d crashes (%d pending entries survive)", id, k)
}

// damage models a storage fault found when a stopped server restarts: its
// log lost a suffix of durable (possibly acknowledged) entries, from a
// damaged record on (the real log is cut at its first bad record), or its
// snapshot is unreadable and, the log having been purged behind it, the
// log cannot be used either. Its driver then starts it with
// HardState.Repairing, as the real one does when the log is short of its
// high-water mark.
func (c *cluster) damage(id int64) {
	s := c.nodes[id]
	d := &s.disk
	if c.rng.IntN(4) == 0 && d.snap.zxid > 0 {
		c.logf("n%d restarts with its snapshot %s unreadable and its log unusable", id, ZxidString(d.snap.zxid))
		d.snap, d.log = snapshotFile{}, nil
	} else {
		k := c.rng.IntN(len(d.log) + 1)
		c.logf("n%d restarts with its log damaged after %d of %d entries", id, k, len(d.log))
		d.log = d.log[:k]
	}
	d.hs.Repairing = true
}

// mayDamage reports whether a server's storage may be damaged without
// taking away the ensemble's last quorum of whole logs: no server is under
// repair, every membership a server holds, active or logged, has at least
// three voters (with two, the other voter alone is no quorum), and none is
// logged without being active yet.
func (c *cluster) mayDamage() bool {
	if len(c.voters) < 3 {
		return false
	}
	for _, id := range c.ids {
		d := c.nodes[id].disk
		if d.hs.Repairing || (d.members.Version > 0 && len(d.members.Voters) < 3) {
			return false
		}
		for _, e := range append(slices.Clone(d.log), c.nodes[id].pending...) {
			// A membership logged but not active may need the damaged
			// server's acknowledgements, which do not count.
			if m, ok := simMembers(e.Data); ok && (len(m.Voters) < 3 || e.Zxid > d.members.Version) {
				return false
			}
		}
	}
	return true
}

// disconnected tells server id (if it runs) that its connection with peer
// was lost.
func (c *cluster) disconnected(id, peer int64) {
	s := c.nodes[id]
	if !s.up || id == peer {
		return
	}
	c.logf("n%d loses its connection with n%d", id, peer)
	s.node.Disconnected(peer)
	c.process(s)
}

// process carries out a node's Ready outputs until it has none, like the
// real driver does.
func (c *cluster) process(s *simNode) {
	for s.up && s.node.HasReady() {
		rd := s.node.Ready()
		if rd.Fatal != nil {
			c.failf("n%d failed: %v", s.id, rd.Fatal)
			return
		}
		if rd.Status != nil {
			s.status = *rd.Status
			c.logf("n%d status %v", s.id, s.status)
		}
		if rd.Snapshot != nil {
			tree := decodeTree(rd.Snapshot.Data)
			c.logf("n%d installs snapshot %s (%d txns)", s.id, ZxidString(rd.Snapshot.Zxid), len(tree))
			s.disk.snap = snapshotFile{zxid: rd.Snapshot.Zxid, tree: tree}
			s.snaps = append(s.snaps, rd.Snapshot.Zxid)
			s.disk.log, s.pending = nil, nil
			s.tree = slices.Clone(tree)
			c.checkPrefix(s, 0)
		}
		if rd.HasTruncate {
			s.disk.log = append(s.disk.log, s.pending...)
			s.pending = nil
			i, _ := slices.BinarySearchFunc(s.disk.log, rd.TruncateAfter+1, func(e Entry, z int64) int { return cmpZxid(e.Zxid, z) })
			c.logf("n%d truncates after %s (drops %d)", s.id, ZxidString(rd.TruncateAfter), len(s.disk.log)-i)
			s.disk.log = s.disk.log[:i]
			s.truncs = append(s.truncs, rd.TruncateAfter)
		}
		if rd.HardState != nil {
			s.disk.hs = *rd.HardState
			c.logf("n%d stores %+v", s.id, s.disk.hs)
		}
		for _, e := range rd.Entries {
			last := s.disk.lastZxid()
			if len(s.pending) > 0 {
				last = s.pending[len(s.pending)-1].Zxid
			}
			if e.Zxid <= last && e.Zxid > s.disk.snap.zxid {
				c.failf("n%d appends %s after %s", s.id, ZxidString(e.Zxid), ZxidString(last))
			}
			s.pending = append(s.pending, e)
		}
		for _, m := range rd.Memberships {
			if m.Version <= s.disk.members.Version {
				c.failf("n%d activates membership %v after %v", s.id, m, s.disk.members)
			}
			s.disk.members = m
			c.logf("n%d activates %v", s.id, m)
		}
		for _, m := range rd.Messages {
			c.send(m)
		}
		for _, e := range rd.Committed {
			c.apply(s, e)
		}
		for _, r := range rd.Replies {
			s.replies = append(s.replies, simReply{data: r, treeZxid: s.treeZxid()})
		}
		if rd.NeedSnapshot {
			c.logf("n%d sends a snapshot at %s", s.id, ZxidString(s.treeZxid()))
			s.node.SnapshotReady(s.treeZxid(), encodeTree(s.tree))
		}
		s.requests = append(s.requests, rd.Requests...)
		s.syncsSent = append(s.syncsSent, rd.Syncs...)
		if rd.Status != nil && rd.Status.Role == Leading && rd.Status.Serving {
			c.checkLeader(s)
		}
	}
}

// persist makes a prefix of a server's pending entries durable (a group
// commit covers what was written when its sync began) and tells its node.
func (c *cluster) persist(s *simNode) {
	if !s.up || len(s.pending) == 0 {
		return
	}
	k := len(s.pending)
	if c.rng.IntN(2) == 0 {
		k = 1 + c.rng.IntN(k)
	}
	s.disk.log = append(s.disk.log, s.pending[:k]...)
	s.pending = slices.Clone(s.pending[k:])
	s.node.Persisted(s.disk.lastZxid())
	c.process(s)
}

func (c *cluster) send(m Message) {
	if c.rng.Float64() < c.faults.drop {
		c.logf("drop %v", m)
		return
	}
	copies := 1
	if c.rng.Float64() < c.faults.dup {
		copies = 2
	}
	for range copies {
		link := [2]int64{m.From, m.To}
		at := c.now + 1 + c.rng.Int64N(c.faults.maxDelay)
		if c.rng.Float64() >= c.faults.reorder {
			at = max(at, c.linkLast[link]) // FIFO, like a TCP connection
			c.linkLast[link] = at
		}
		c.seq++
		heap.Push(&c.queue, inflight{at: at, seq: c.seq, m: m})
	}
}

// deliver hands over the messages due now.
func (c *cluster) deliver() {
	for len(c.queue) > 0 && c.queue[0].at <= c.now {
		in := heap.Pop(&c.queue).(inflight)
		m := in.m
		s := c.nodes[m.To]
		if s == nil || !s.up || c.blocked[[2]int64{m.From, m.To}] {
			continue
		}
		c.logf("deliver %v", m)
		s.node.Step(m)
		c.process(s)
	}
}

// tick advances every running server's clock.
func (c *cluster) tick() {
	for _, id := range c.ids {
		if s := c.nodes[id]; s.up {
			s.node.Tick()
			c.process(s)
		}
	}
}

// step advances simulated time by one unit.
func (c *cluster) step() {
	c.now++
	c.deliver()
	for _, id := range c.ids {
		s := c.nodes[id]
		if s.up && len(s.pending) > 0 && c.rng.Float64() < s.persistP {
			c.persist(s)
		}
	}
	if c.now%unitsPerTick == 0 {
		c.tick()
	}
}

// runTicks runs for n ticks.
func (c *cluster) runTicks(n int) {
	for range n * unitsPerTick {
		c.step()
	}
}

// leader returns the serving leader, if exactly one server believes it is.
func (c *cluster) leader() *simNode {
	var l *simNode
	for _, id := range c.ids {
		s := c.nodes[id]
		if s.up && s.status.Role == Leading && s.status.Serving {
			if l != nil && l.status.Epoch == s.status.Epoch {
				return nil
			}
			if l == nil || s.status.Epoch > l.status.Epoch {
				l = s
			}
		}
	}
	return l
}

// propose has server s propose data, recording it for the checker.
func (c *cluster) propose(s *simNode, data []byte) (int64, error) {
	z, err := s.node.Propose(data)
	if err != nil {
		c.process(s)
		return 0, err
	}
	if old, ok := c.proposed[z]; ok && string(old) != string(data) {
		c.failf("zxid %s proposed twice: %q by an earlier leader, %q by n%d", ZxidString(z), old, data, s.id)
	}
	c.proposed[z] = data
	c.logf("n%d proposes %s %q", s.id, ZxidString(z), data)
	c.process(s)
	return z, nil
}

// partition cuts the links between the two sides.
func (c *cluster) partition(side []int64) {
	in := map[int64]bool{}
	for _, id := range side {
		in[id] = true
	}
	clear(c.blocked)
	for _, a := range c.ids {
		for _, b := range c.ids {
			if in[a] != in[b] {
				c.blocked[[2]int64{a, b}] = true
			}
		}
	}
	c.logf("partition %v | rest", side)
}

func (c *cluster) heal() {
	clear(c.blocked)
	c.logf("partition healed")
}

// apply applies a committed entry to a server's tree and checks it against
// the one committed sequence.
func (c *cluster) apply(s *simNode, e Entry) {
	if e.Zxid <= s.treeZxid() {
		c.failf("n%d applies %s after %s", s.id, ZxidString(e.Zxid), ZxidString(s.treeZxid()))
		return
	}
	s.tree = append(s.tree, e)
	c.checkPrefix(s, len(s.tree)-1)
}

// checkPrefix checks s.tree[from:] against the committed sequence,
// extending it where the tree is longer.
func (c *cluster) checkPrefix(s *simNode, from int) {
	for i := from; i < len(s.tree); i++ {
		e := s.tree[i]
		if d, ok := c.proposed[e.Zxid]; !ok || string(d) != string(e.Data) {
			c.failf("n%d applied %s %q, which was proposed as %q", s.id, ZxidString(e.Zxid), e.Data, d)
			return
		}
		if i < len(c.committed) {
			if w := c.committed[i]; w.Zxid != e.Zxid || string(w.Data) != string(e.Data) {
				c.failf("n%d applied %s %q as txn #%d, but %s %q was committed there", s.id,
					ZxidString(e.Zxid), e.Data, i, ZxidString(w.Zxid), w.Data)
				return
			}
			continue
		}
		if i > 0 {
			// Primary order: each epoch's transactions commit in the order
			// its leader proposed them, from its first one.
			p := c.committed[i-1].Zxid
			if (EpochOf(p) == EpochOf(e.Zxid) && e.Zxid != p+1) ||
				(EpochOf(p) != EpochOf(e.Zxid) && (EpochOf(e.Zxid) < EpochOf(p) || CounterOf(e.Zxid) != 1)) {
				c.failf("n%d commits %s after %s: primary order broken", s.id, ZxidString(e.Zxid), ZxidString(p))
			}
		} else if CounterOf(e.Zxid) != 1 {
			c.failf("first committed txn is %s", ZxidString(e.Zxid))
		}
		c.committed = append(c.committed, e)
		c.logf("committed #%d %s %q (first applied by n%d)", i, ZxidString(e.Zxid), e.Data, s.id)
	}
}

// checkLeader runs when a leader is established: it must be the only one
// of its epoch, and its history must hold every committed transaction.
func (c *cluster) checkLeader(s *simNode) {
	e := s.status.Epoch
	if other, ok := c.leaders[e]; ok && other != s.id {
		c.failf("two established leaders in epoch %d: n%d and n%d", e, other, s.id)
	}
	c.leaders[e] = s.id
	hist := slices.Clone(s.tree)
	rest, err := s.node.log.entries(s.treeZxid(), s.node.log.last, 1<<30)
	if err != nil {
		c.failf("n%d: reading its log: %v", s.id, err)
		return
	}
	hist = append(hist, rest...)
	for i, w := range c.committed {
		if i >= len(hist) || hist[i].Zxid != w.Zxid || string(hist[i].Data) != string(w.Data) {
			c.failf("leader n%d of epoch %d lacks committed txn #%d %s %q", s.id, e, i, ZxidString(w.Zxid), w.Data)
			return
		}
	}
	c.logf("n%d established in epoch %d with history ..%s", s.id, e, ZxidString(s.node.log.last))
}

// takeSnapshot has a server snapshot its tree and purge its log up to its
// previous snapshot, as the real server's autopurge does.
func (c *cluster) takeSnapshot(s *simNode) {
	z := s.treeZxid()
	if !s.up || z == s.disk.snap.zxid {
		return
	}
	prev := s.disk.snap.zxid
	s.disk.snap = snapshotFile{zxid: z, tree: slices.Clone(s.tree), prev: prev}
	s.node.Compact(prev)
	i, _ := slices.BinarySearchFunc(s.disk.log, prev+1, func(e Entry, z int64) int { return cmpZxid(e.Zxid, z) })
	s.disk.log = slices.Clone(s.disk.log[i:])
	c.logf("n%d snapshots at %s, purges the log up to %s", s.id, ZxidString(z), ZxidString(prev))
}

func encodeTree(tree []Entry) []byte {
	e := wire.NewEncoder(nil)
	e.Int(int32(len(tree)))
	for _, t := range tree {
		e.Long(t.Zxid)
		e.Buffer(t.Data)
	}
	return e.Bytes()
}

func decodeTree(b []byte) []Entry {
	d := wire.NewDecoder(b)
	n := int(d.Int())
	tree := make([]Entry, 0, n)
	for range n {
		tree = append(tree, Entry{Zxid: d.Long(), Data: d.Buffer()})
	}
	if d.Err() != nil {
		panic(d.Err())
	}
	return tree
}

// restartWith crashes every server, gives them the disks given, forgets the
// messages in flight and starts them again.
func (c *cluster) restartWith(disks map[int64]disk) {
	for _, id := range c.ids {
		c.crash(id)
	}
	c.queue = nil
	clear(c.linkLast)
	for _, id := range c.ids {
		if d, ok := disks[id]; ok {
			c.nodes[id].disk = d
			for _, e := range d.log {
				c.proposed[e.Zxid] = e.Data
			}
			for _, e := range d.snap.tree {
				c.proposed[e.Zxid] = e.Data
			}
		}
	}
	for _, id := range c.ids {
		c.start(id)
	}
}

// until runs until cond holds, for at most n ticks, and reports whether it
// did.
func (c *cluster) until(n int, cond func() bool) bool {
	for range n * unitsPerTick {
		if cond() {
			return true
		}
		c.step()
	}
	return cond()
}

// history returns a server's whole history: its tree, then the log after.
func (c *cluster) history(id int64) []Entry {
	s := c.nodes[id]
	h := slices.Clone(s.tree)
	rest, err := s.node.log.entries(s.treeZxid(), s.node.log.last, 1<<30)
	if err != nil {
		panic(err)
	}
	return append(h, rest...)
}

func (c *cluster) dumpTrace() string {
	return strings.Join(c.events, "\n")
}

// simMembers recognizes the simulation's membership changes:
// "cfg:" then voter ids, "|", observer ids, each comma-separated.
func simMembers(data []byte) (Membership, bool) {
	rest, ok := strings.CutPrefix(string(data), "cfg:")
	if !ok {
		return Membership{}, false
	}
	var m Membership
	vs, os, _ := strings.Cut(rest, "|")
	for i, part := range []string{vs, os} {
		for _, f := range strings.Split(part, ",") {
			if f == "" {
				continue
			}
			var id int64
			fmt.Sscan(f, &id)
			if i == 0 {
				m.Voters = append(m.Voters, id)
			} else {
				m.Observers = append(m.Observers, id)
			}
		}
	}
	return m, true
}

// encodeMembers is the simulation's membership change to m.
func encodeMembers(m Membership) []byte {
	join := func(ids []int64) string {
		s := make([]string, len(ids))
		for i, id := range ids {
			s[i] = fmt.Sprint(id)
		}
		return strings.Join(s, ",")
	}
	return []byte("cfg:" + join(m.Voters) + "|" + join(m.Observers))
}

// checkMemberships checks that every running server has the membership of
// the last committed change active (or the initial one if none).
func (c *cluster) checkMemberships() {
	want := Membership{Voters: c.voters, Observers: c.obs}
	for _, e := range c.committed {
		if m, ok := simMembers(e.Data); ok {
			m.Version = e.Zxid
			want = m
		}
	}
	for _, id := range c.ids {
		s := c.nodes[id]
		if !s.up {
			continue
		}
		got := s.node.Membership()
		if got.Version != want.Version || !slices.Equal(got.Voters, slices.Sorted(slices.Values(want.Voters))) {
			c.failf("n%d has membership %v active, want %v", id, got, want)
		}
	}
}
