package jepsen

import (
	"fmt"
	"math/rand"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/go-zookeeper/zk"

	"github.com/zkgo/zkgo/test/harness"
)

// Environment variables:
//
//	JEPSEN_DURATION  workload duration per ensemble (Go duration; default 6s,
//	                 `make jepsen` passes 60s)
//	JEPSEN_SEED      seed of the clients' and the nemesis's choices (default:
//	                 the time; the seed is always logged)
//	JEPSEN_OUT       directory for failing histories' visualizations (default:
//	                 a new directory under $TMPDIR)
//	JEPSEN_INJECT_STALE_READ=1  appends a stale read to the register history,
//	                 to see the checker fail and save a visualization
//	JEPSEN_STORAGE   1 or 0: whether the nemesis damages storage (default 1
//	                 when JEPSEN_DURATION is set, as by `make jepsen`; 0 in
//	                 the short run of `make test`, while a damaged older
//	                 write-ahead file or a missing or cut sstable still
//	                 stops a member or goes unnoticed by it)
const (
	envStorage     = "JEPSEN_STORAGE"
	envInjectStale = "JEPSEN_INJECT_STALE_READ"
	envDuration    = "JEPSEN_DURATION"
	envSeed        = "JEPSEN_SEED"
	envOut         = "JEPSEN_OUT"
)

// ensembleCfg makes failover quick: a leader is declared dead after
// syncLimit*tickTime = 1.5s of silence. Snapshots are taken every 2,500 to
// 5,000 txns (a few seconds of the workload), so that runs hold snapshots
// and purged logs for the storage faults to damage.
var ensembleCfg = map[string]string{"tickTime": "500", "initLimit": "10", "syncLimit": "3", "snapCount": "5000"}

const (
	sessionTimeout  = 6 * time.Second
	clientsPerNode  = 2
	registerKeys    = 3
	seqParents      = 2
	checkTimeout    = 2 * time.Minute
	recoveryTimeout = 60 * time.Second
)

func TestMain(m *testing.M) { harness.Main(m) }

func TestJepsen3(t *testing.T) { runJepsen(t, 3) }
func TestJepsen5(t *testing.T) { runJepsen(t, 5) }

type quietLogger struct{}

func (quietLogger) Printf(string, ...any) {}

// history is the record of one run, shared by all clients.
type history struct {
	start time.Time

	mu       sync.Mutex
	register []porcupine.Operation
	seq      []porcupine.Operation
	// observations are per-client program-order records used by the
	// sequential-consistency check of plain (unsynced) reads.
	observations []observation
	ackedNodes   []string        // full paths of acknowledged sequential creates
	unknownSeq   map[string]int  // parent -> number of creates with unknown outcome
	written      map[string]bool // key/value pairs ever attempted ("key=value")
	counts       map[string]int  // op kind/outcome -> count
}

func (h *history) now() int64 { return int64(time.Since(h.start)) }

func (h *history) count(what string) {
	h.mu.Lock()
	h.counts[what]++
	h.mu.Unlock()
}

func runJepsen(t *testing.T, n int) {
	duration := 6 * time.Second
	if s := os.Getenv(envDuration); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("%s=%q: %v", envDuration, s, err)
		}
		duration = d
	}
	seed := time.Now().UnixNano()
	if s := os.Getenv(envSeed); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", envSeed, s, err)
		}
		seed = v
	}
	seed += int64(n) // distinct schedules per ensemble size, still reproducible
	damage := os.Getenv(envDuration) != ""
	if s := os.Getenv(envStorage); s != "" {
		damage = s == "1"
	}
	t.Logf("%d servers, duration %v, seed %d (%s=%d), storage faults %v", n, duration, seed, envSeed, seed-int64(n), damage)

	servers, nw := harness.StartFaultyEnsemble(t, n, ensembleCfg)
	waitLeader(t, servers)

	// Set up the keys and parents.
	setup := connect(t, servers, rand.New(rand.NewSource(seed)))
	for _, p := range []string{"/jepsen", "/jepsen/seq"} {
		mustCreate(t, setup, p, nil)
	}
	for k := range registerKeys {
		mustCreate(t, setup, regKey(k), []byte("0"))
	}
	for p := range seqParents {
		mustCreate(t, setup, seqParent(p), nil)
	}
	setup.Close()

	h := &history{
		start:      time.Now(),
		unknownSeq: map[string]int{},
		written:    map[string]bool{},
		counts:     map[string]int{},
	}
	deadline := time.Now().Add(duration)

	var wg sync.WaitGroup
	nClients := n * clientsPerNode
	for c := range nClients {
		rng := rand.New(rand.NewSource(seed*1000 + int64(c) + 1))
		conn := connect(t, servers, rng)
		wg.Go(func() {
			defer conn.Close()
			runClient(h, c, conn, rng, deadline)
		})
	}
	rng := rand.New(rand.NewSource(seed))
	storage := newStorageFaults(t, servers, rng, damage)
	faults := nemesis(t, servers, nw, storage, rng, deadline)
	wg.Wait()

	// Heal and let the ensemble settle (a server that exited started
	// again, the damaged one repaired), then read the final state through
	// a fresh session, recording the final reads in the history.
	nw.Heal()
	for _, s := range servers {
		if err := s.SetFsyncDelay(0); err != nil {
			t.Errorf("heal the disk of server %d: %v", s.ID(), err)
		}
		_ = s.Resume()
	}
	storage.settle()
	waitLeader(t, servers)
	final := connect(t, servers, rand.New(rand.NewSource(seed+1)))
	defer final.Close()
	for k := range registerKeys {
		key := regKey(k)
		call := h.now()
		out, mzxid, err := syncRead(final, key)
		if err != nil {
			t.Fatalf("final read of %s: %v", key, err)
		}
		h.register = append(h.register, porcupine.Operation{ClientId: nClients, Input: regInput{Key: key, Kind: opRead}, Call: call, Output: out, Return: h.now()})
		h.observations = append(h.observations, observation{Client: nClients, Session: final.SessionID(), Key: key, Version: out.Version, Value: out.Value, Mzxid: mzxid, What: "final read"})
	}
	present := map[string]bool{}
	for p := range seqParents {
		parent := seqParent(p)
		if _, err := final.Sync(parent); err != nil {
			t.Fatalf("final sync %s: %v", parent, err)
		}
		children, _, err := final.Children(parent)
		if err != nil {
			t.Fatalf("final children of %s: %v", parent, err)
		}
		for _, c := range children {
			present[parent+"/"+c] = true
		}
	}

	// Report and check.
	var ops []string
	for k, v := range h.counts {
		ops = append(ops, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(ops)
	t.Logf("operations: %d register, %d sequential create acked (%s)", len(h.register), len(h.ackedNodes), strings.Join(ops, " "))
	t.Logf("faults injected: %s", faults)
	t.Logf("storage faults: %s", storage.summary())

	out := os.Getenv(envOut)
	seen := map[string]map[int]int32{}
	for _, o := range h.observations {
		if seen[o.Key] == nil {
			seen[o.Key] = map[int]int32{}
		}
		seen[o.Key][o.Value] = o.Version
	}
	if os.Getenv(envInjectStale) == "1" {
		// Check the checker: a read of the initial value after the final
		// reads must be reported, with a visualization.
		end := h.now()
		h.register = append(h.register, porcupine.Operation{ClientId: nClients, Input: regInput{Key: regKey(0), Kind: opRead}, Call: end, Output: regOutput{}, Return: end + 1, Metadata: "injected stale read"})
		t.Logf("%s=1: injected a stale read of %s at the end of the history", envInjectStale, regKey(0))
	}
	regOps, resolved, ghosts := resolveUnknown(h.register, seen)
	t.Logf("register: of the writes with unknown outcome, %d were seen by reads (took effect), %d never seen (ghosts)", resolved, ghosts)
	userSeed := seed - int64(n)
	checkLinearizable(t, "register", registerModel, regOps, userSeed, out)
	checkLinearizable(t, "sequential-create", seqModel, h.seq, userSeed, out)
	checkSequential(t, h)
	stale := monotonicReadViolations(h.observations)
	for i, v := range stale {
		if i == 20 {
			t.Errorf("... and %d more", len(stale)-20)
			break
		}
		t.Error(v)
	}
	t.Logf("monotonic reads per session, across keys: %d observations, %d stale reads", len(h.observations), len(stale))
	checkSeqNodes(t, h, present)
	storage.checkDamaged(h.ackedNodes, rand.New(rand.NewSource(seed+2)))
}

func regKey(k int) string    { return fmt.Sprintf("/jepsen/r%d", k) }
func seqParent(p int) string { return fmt.Sprintf("/jepsen/seq/p%d", p) }

// runClient runs random operations until the deadline, one at a time (a
// session's operations are sequential, as a Jepsen process's are).
func runClient(h *history, c int, conn *zk.Conn, rng *rand.Rand, deadline time.Time) {
	lastVersion := map[string]int32{}
	index := 0
	observe := func(sess int64, key string, version int32, value int, mzxid int64, what string) {
		h.mu.Lock()
		h.observations = append(h.observations, observation{Client: c, Session: sess, Index: index, Key: key, Version: version, Value: value, Mzxid: mzxid, What: what})
		h.mu.Unlock()
		index++
	}
	for next := 0; time.Now().Before(deadline); next++ {
		value := c*10_000_000 + next + 1 // unique across the run
		r := rng.Intn(100)
		if r >= 75 {
			parent := seqParent(rng.Intn(seqParents))
			call := h.now()
			name, err := conn.Create(parent+"/s-", nil, zk.FlagSequence, zk.WorldACL(zk.PermAll))
			ret := h.now()
			if err != nil {
				h.mu.Lock()
				h.unknownSeq[parent]++
				h.counts["create:unknown"]++
				h.mu.Unlock()
				continue
			}
			seq, perr := strconv.ParseInt(strings.TrimPrefix(name, parent+"/s-"), 10, 64)
			if perr != nil || !strings.HasPrefix(name, parent+"/s-") {
				seq = -1 // the checker will flag it
			}
			h.mu.Lock()
			h.seq = append(h.seq, porcupine.Operation{ClientId: c, Input: seqInput{Parent: parent}, Call: call, Output: seqOutput{Seq: seq}, Return: ret, Metadata: name})
			h.ackedNodes = append(h.ackedNodes, name)
			h.counts["create:ok"]++
			h.mu.Unlock()
			continue
		}
		key := regKey(rng.Intn(registerKeys))
		sess := conn.SessionID()
		switch {
		case r < 20: // linearizable read: sync + getData
			call := h.now()
			out, mzxid, err := syncRead(conn, key)
			ret := h.now()
			if err != nil {
				h.count("read:error")
				continue // a read that failed changed nothing: leave it out
			}
			h.mu.Lock()
			h.register = append(h.register, porcupine.Operation{ClientId: c, Input: regInput{Key: key, Kind: opRead}, Call: call, Output: out, Return: ret})
			h.counts["read:ok"]++
			h.mu.Unlock()
			lastVersion[key] = out.Version
			if conn.SessionID() == sess {
				observe(sess, key, out.Version, out.Value, mzxid, "sync read")
			}
		case r < 35: // plain read: only sequentially consistent
			data, stat, err := conn.Get(key)
			if err != nil {
				h.count("plainread:error")
				continue
			}
			h.count("plainread:ok")
			v, _ := strconv.Atoi(string(data))
			lastVersion[key] = stat.Version
			if conn.SessionID() == sess {
				observe(sess, key, stat.Version, v, stat.Mzxid, "plain read")
			}
		default: // write or cas
			in := regInput{Key: key, Kind: opWrite, Value: value, Version: -1}
			if r >= 55 {
				in.Kind = opCAS
				in.Version = lastVersion[key]
			}
			h.mu.Lock()
			h.written[fmt.Sprintf("%s=%d", key, value)] = true
			h.mu.Unlock()
			call := h.now()
			stat, err := conn.Set(key, []byte(strconv.Itoa(value)), in.Version)
			ret := h.now()
			var out regOutput
			kind := map[opKind]string{opWrite: "write", opCAS: "cas"}[in.Kind]
			switch {
			case err == nil:
				out.Version = stat.Version
				lastVersion[key] = stat.Version
				h.count(kind + ":ok")
			case in.Kind == opCAS && err == zk.ErrBadVersion:
				out.Failed = true
				h.count(kind + ":fail")
			default:
				out.Unknown = true
				ret = infinity
				h.count(kind + ":unknown")
			}
			h.mu.Lock()
			h.register = append(h.register, porcupine.Operation{ClientId: c, Input: in, Call: call, Output: out, Return: ret, Metadata: errString(err)})
			h.mu.Unlock()
			if err == nil && conn.SessionID() == sess {
				observe(sess, key, stat.Version, value, stat.Mzxid, kind)
			}
		}
	}
}

func errString(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

// syncRead is a linearizable read: sync, then getData on the same session.
// It also returns the mzxid of what it read.
func syncRead(conn *zk.Conn, key string) (regOutput, int64, error) {
	if _, err := conn.Sync(key); err != nil {
		return regOutput{}, 0, err
	}
	data, stat, err := conn.Get(key)
	if err != nil {
		return regOutput{}, 0, err
	}
	v, err := strconv.Atoi(string(data))
	if err != nil {
		return regOutput{}, 0, fmt.Errorf("data %q: %v", data, err)
	}
	return regOutput{Value: v, Version: stat.Version}, stat.Mzxid, nil
}

// nemesis injects faults until the deadline and returns a summary. Each
// round picks one fault (on 5 servers, a third of the rounds two, on other
// servers), holds it for a random time, then undoes it:
//
//	kill-*      SIGKILL, then restart
//	pause-*     SIGSTOP, then SIGCONT (keeps its sockets, says nothing)
//	isolate-*   every link to and from the server silently dropped
//	oneway-*    only the links from the server (or only those to it) dropped
//	delay-*     every link to and from the server delayed 20-300ms
//	slowdisk-*  every fsync of the server's log delayed 50-800ms
//	split       a random minority (with the leader half of the time) cut off
//	            from the majority, both ways
//	damage-*    SIGKILL, one file of the data directory damaged (see
//	            storageFaults), then started again without waiting for it
//	            to serve; a plain kill when storageFaults forbids damage
//	            (only with storage faults enabled: JEPSEN_STORAGE)
//
// where * is "leader" (the current leader) or "random". At most one network
// fault per round. Between rounds, storage checks on every server. The
// timers here are the fault schedule (load), not synchronisation.
func nemesis(t *testing.T, servers []*harness.Server, nw *harness.Network, storage *storageFaults, rng *rand.Rand, deadline time.Time) string {
	counts := map[string]int{}
	var log []string
	began := time.Now()
	kinds := []string{"kill-random", "kill-leader", "pause-random", "pause-leader",
		"isolate-random", "isolate-leader", "oneway-random", "oneway-leader",
		"delay-random", "delay-leader", "split", "slowdisk-random", "slowdisk-leader"}
	if storage.enabled {
		kinds = append(kinds, "damage-random", "damage-random", "damage-leader")
	}
	network := func(kind string) bool {
		return kind == "split" || strings.HasPrefix(kind, "isolate") || strings.HasPrefix(kind, "oneway") || strings.HasPrefix(kind, "delay")
	}
	for {
		wait := time.Duration(500+rng.Intn(1500)) * time.Millisecond
		if time.Now().Add(wait).After(deadline) {
			break
		}
		time.Sleep(wait)
		storage.check()
		type fault struct {
			kind   string
			victim *harness.Server
		}
		var faults []fault
		nFaults := 1
		if len(servers) >= 5 && rng.Intn(3) == 0 {
			nFaults = 2
		}
		leader := currentLeader(servers)
		used := map[*harness.Server]bool{}
		netFault := false
		for i := range nFaults {
			kind := kinds[rng.Intn(len(kinds))]
			for netFault && network(kind) {
				kind = kinds[rng.Intn(4)] // a process fault
			}
			netFault = netFault || network(kind)
			var victim *harness.Server
			switch {
			case kind == "split":
				victim = leader
			case strings.HasSuffix(kind, "leader") && leader != nil && !used[leader]:
				victim = leader
			default:
				kind = strings.Replace(kind, "leader", "random", 1)
				for victim == nil || used[victim] {
					victim = servers[rng.Intn(len(servers))]
				}
			}
			if strings.HasPrefix(kind, "damage") && !storage.mayDamage(victim, used, nFaults-1-i) {
				kind = strings.Replace(kind, "damage", "kill", 1)
			}
			if victim != nil {
				used[victim] = true
			}
			faults = append(faults, fault{kind, victim})
		}
		hold := time.Duration(500+rng.Intn(3500)) * time.Millisecond
		at := time.Now()
		var desc []string
		for _, f := range faults {
			d := f.kind
			if f.victim != nil {
				d = fmt.Sprintf("%s(s%d)", f.kind, f.victim.ID())
			}
			switch kind, _, _ := strings.Cut(f.kind, "-"); kind {
			case "kill":
				f.victim.Kill()
			case "damage":
				d += "[" + storage.damage(f.victim) + "]"
			case "pause":
				if err := f.victim.Pause(); err != nil {
					t.Errorf("nemesis: pause server %d: %v", f.victim.ID(), err)
				}
			case "isolate":
				nw.Isolate(f.victim.ID())
			case "oneway":
				from := rng.Intn(2) == 0
				for _, s := range servers {
					if s == f.victim {
						continue
					}
					if from {
						nw.Cut(f.victim.ID(), s.ID())
					} else {
						nw.Cut(s.ID(), f.victim.ID())
					}
				}
			case "delay":
				for _, s := range servers {
					if s != f.victim {
						nw.Delay(f.victim.ID(), s.ID(), time.Duration(20+rng.Intn(280))*time.Millisecond)
						nw.Delay(s.ID(), f.victim.ID(), time.Duration(20+rng.Intn(280))*time.Millisecond)
					}
				}
			case "split":
				nw.Partition(minority(servers, f.victim, rng))
			case "slowdisk":
				delay := time.Duration(50+rng.Intn(750)) * time.Millisecond
				if err := f.victim.SetFsyncDelay(delay); err != nil {
					t.Errorf("nemesis: slow disk on server %d: %v", f.victim.ID(), err)
				}
				d += fmt.Sprintf("[fsync +%v]", delay)
			}
			if network(f.kind) {
				d += "[" + nw.String() + "]"
			}
			counts[f.kind]++
			desc = append(desc, d)
		}
		time.Sleep(hold)
		// Heal the network first: a restarted server must reach a quorum
		// to be ready.
		if netFault {
			nw.Heal()
		}
		for _, f := range faults {
			switch kind, _, _ := strings.Cut(f.kind, "-"); kind {
			case "kill":
				if storage.under(f.victim) {
					storage.relaunch(f.victim) // it may not serve before it is repaired
				} else if err := f.victim.Restart(); err != nil {
					t.Errorf("nemesis: restart server %d: %v", f.victim.ID(), err)
				}
			case "damage":
				storage.relaunch(f.victim)
			case "pause":
				if err := f.victim.Resume(); err != nil {
					t.Errorf("nemesis: resume server %d: %v", f.victim.ID(), err)
				}
			case "slowdisk":
				if err := f.victim.SetFsyncDelay(0); err != nil {
					t.Errorf("nemesis: heal the disk of server %d: %v", f.victim.ID(), err)
				}
			}
		}
		log = append(log, fmt.Sprintf("%s at %v for %v", strings.Join(desc, "+"), at.Sub(began).Round(time.Millisecond), hold))
	}
	var parts []string
	total := 0
	for _, k := range slices.Sorted(mapsKeys(counts)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, counts[k]))
		total += counts[k]
	}
	t.Logf("nemesis schedule: %s", strings.Join(log, "; "))
	return fmt.Sprintf("%d (%s)", total, strings.Join(parts, " "))
}

// minority picks the ids of a random minority of servers (1 of 3, 2 of 5),
// including leader half of the time (when there is one).
func minority(servers []*harness.Server, leader *harness.Server, rng *rand.Rand) []int {
	var ids []int
	if leader != nil && rng.Intn(2) == 0 {
		ids = append(ids, leader.ID())
	}
	for _, i := range rng.Perm(len(servers)) {
		if len(ids) == (len(servers)-1)/2 {
			break
		}
		if id := servers[i].ID(); !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids
}

func mapsKeys(m map[string]int) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// currentLeader returns the live server that says it leads, or nil.
func currentLeader(servers []*harness.Server) *harness.Server {
	for _, s := range servers {
		if s.Alive() && s.Mode() == "leader" {
			return s
		}
	}
	return nil
}

// waitLeader polls until one live server leads and all the others follow.
func waitLeader(t *testing.T, servers []*harness.Server) {
	t.Helper()
	deadline := time.Now().Add(recoveryTimeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		leaders, followers := 0, 0
		for _, s := range servers {
			switch s.Mode() {
			case "leader":
				leaders++
			case "follower":
				followers++
			}
		}
		if leaders == 1 && leaders+followers == len(servers) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no single leader with all servers following after %v (%d leaders, %d followers)", recoveryTimeout, leaders, followers)
		}
		<-tick.C
	}
}

// connect opens a session over all servers, in an order of rng's choosing
// (go-zookeeper shuffles it again), and waits until it is established.
func connect(t *testing.T, servers []*harness.Server, rng *rand.Rand) *zk.Conn {
	t.Helper()
	addrs := make([]string, len(servers))
	for i, s := range servers {
		addrs[i] = s.Addr()
	}
	rng.Shuffle(len(addrs), func(i, j int) { addrs[i], addrs[j] = addrs[j], addrs[i] })
	dialer := func(network, address string, timeout time.Duration) (net.Conn, error) {
		return net.DialTimeout(network, address, timeout)
	}
	c, events, err := zk.Connect(addrs, sessionTimeout, zk.WithLogger(quietLogger{}), zk.WithDialer(dialer))
	if err != nil {
		t.Fatal(err)
	}
	if !harness.AwaitSession(events, recoveryTimeout) {
		c.Close()
		t.Fatalf("no session with %v after %v", addrs, recoveryTimeout)
	}
	return c
}

func mustCreate(t *testing.T, c *zk.Conn, path string, data []byte) {
	t.Helper()
	if _, err := c.Create(path, data, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatalf("create %s: %v", path, err)
	}
}

// checkLinearizable runs porcupine on a history; an illegal history is
// saved as an HTML visualization whose path is printed.
func checkLinearizable(t *testing.T, name string, model porcupine.Model, ops []porcupine.Operation, seed int64, outDir string) {
	t.Helper()
	unknown := 0
	for _, op := range ops {
		if op.Return == infinity {
			unknown++
		}
	}
	began := time.Now()
	res, info := porcupine.CheckOperationsVerbose(model, ops, checkTimeout)
	t.Logf("%s: %d operations (%d with unknown outcome): linearizability %s (checked in %v)", name, len(ops), unknown, res, time.Since(began).Round(time.Millisecond))
	switch res {
	case porcupine.Ok:
		return
	case porcupine.Unknown:
		t.Logf("%s: porcupine timed out after %v: not checked", name, checkTimeout)
		return
	}
	if outDir == "" {
		d, err := os.MkdirTemp("", "jepsen-")
		if err != nil {
			t.Fatalf("%v", err)
		}
		outDir = d
	} else if err := os.MkdirAll(outDir, 0o755); err != nil {
		t.Fatalf("%v", err)
	}
	path := filepath.Join(outDir, fmt.Sprintf("%s-%s-seed%d.html", t.Name(), name, seed))
	if err := porcupine.VisualizePath(model, info, path); err != nil {
		t.Errorf("visualize: %v", err)
	}
	t.Errorf("%s history is NOT linearizable (%s=%d): visualization in %s", name, envSeed, seed, path)
}

// checkSequential checks what ZooKeeper promises for plain reads, which
// are not linearizable: every (version, value) anybody observed agrees with
// one history of each key (a version has one value, which somebody wrote),
// and within one session a key's version never goes backwards (FIFO client
// order, read-your-writes, monotonic reads).
func checkSequential(t *testing.T, h *history) {
	t.Helper()
	type kv struct {
		key     string
		version int32
	}
	seen := map[kv]observation{}
	for k := range registerKeys {
		seen[kv{regKey(k), 0}] = observation{Key: regKey(k), Value: 0, What: "initial"}
	}
	bad := 0
	report := func(format string, args ...any) {
		if bad < 20 {
			t.Errorf(format, args...)
		}
		bad++
	}
	for _, o := range h.observations {
		if prev, ok := seen[kv{o.Key, o.Version}]; ok && prev.Value != o.Value {
			report("%s version %d has two values: %d (%s by client %d) and %d (%s by client %d)", o.Key, o.Version, prev.Value, prev.What, prev.Client, o.Value, o.What, o.Client)
		} else if !ok {
			seen[kv{o.Key, o.Version}] = o
		}
		if o.Value != 0 && !h.written[fmt.Sprintf("%s=%d", o.Key, o.Value)] {
			report("%s: client %d saw value %d (%s) that nobody wrote", o.Key, o.Client, o.Value, o.What)
		}
	}
	type sk struct {
		client  int
		session int64
		key     string
	}
	last := map[sk]observation{}
	for _, o := range h.observations { // appended in each client's program order
		k := sk{o.Client, o.Session, o.Key}
		if prev, ok := last[k]; ok && o.Version < prev.Version {
			report("client %d session %#x: %s went back from version %d (%s) to %d (%s)", o.Client, o.Session, o.Key, prev.Version, prev.What, o.Version, o.What)
		}
		last[k] = o
	}
	t.Logf("sequential consistency: %d observations, %d anomalies", len(h.observations), bad)
}

// checkSeqNodes checks the sequential creates: every acknowledged name is
// unique and present at the end, and the nodes present are no more than
// the creates that may have happened.
func checkSeqNodes(t *testing.T, h *history, present map[string]bool) {
	t.Helper()
	dup, lost := 0, 0
	names := map[string]bool{}
	for _, name := range h.ackedNodes {
		if names[name] {
			dup++
			t.Errorf("sequential create: name %s acknowledged twice", name)
		}
		names[name] = true
		if !present[name] {
			lost++
			if lost <= 20 {
				t.Errorf("sequential create: acknowledged %s is missing at the end", name)
			}
		}
	}
	unknown := 0
	for _, n := range h.unknownSeq {
		unknown += n
	}
	extra := len(present) - len(names)
	if extra > unknown {
		t.Errorf("sequential create: %d nodes present that were never acknowledged, but only %d creates had an unknown outcome", extra, unknown)
	}
	t.Logf("sequential create: %d acked, %d unknown, %d present at the end; %d duplicates, %d lost", len(names), unknown, len(present), dup, lost)
}
