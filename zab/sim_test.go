package zab

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

var (
	simSeeds = flag.Int("sim.seeds", 2000, "number of random seeds TestSim runs")
	simSeed  = flag.Int64("sim.seed", -1, "run TestSim for this seed only, printing its event trace")
)

// simParams are the knobs a seed picks.
type simParams struct {
	voters, observers int
	spares            int     // servers in no membership at first
	reconfigP         float64 // per tick: the leader proposes a new membership
	chaosTicks        int
	faults            netFaults
	crashP, partP     float64 // per tick
	powerP            float64 // per tick: several servers crash at once
	damageP           float64 // per restart: the server's storage is damaged
	discP             float64 // per tick: a spurious connection-loss report
	crashNoticeP      float64 // per peer: a crash is reported as a lost connection
	slowDisks         bool
	snapP             float64
	cfg               Config
}

func pickParams(rng *rand.Rand) simParams {
	p := simParams{
		voters:     3 + 2*rng.IntN(2),
		chaosTicks: 150 + rng.IntN(250),
		faults: netFaults{
			drop:     rng.Float64() * 0.08,
			dup:      rng.Float64() * 0.05,
			reorder:  rng.Float64() * 0.05,
			maxDelay: 2 + rng.Int64N(15),
		},
		crashP:    rng.Float64() * 0.03,
		partP:     rng.Float64() * 0.04,
		powerP:    rng.Float64() * 0.02,
		slowDisks: rng.IntN(2) == 0,
		damageP:   rng.Float64() * 0.3,
		snapP:     rng.Float64() * 0.05,
		cfg: Config{
			InitLimit:            10,
			SyncLimit:            5,
			ElectionTicks:        3 + rng.IntN(4),
			FinalizeTicks:        rng.IntN(3),
			MaxEntriesPerMsg:     1 + rng.IntN(8),
			MaxCommittedPerReady: 1 + rng.IntN(20),
			KeepEntries:          1 + rng.IntN(10),
		},
	}
	if rng.IntN(3) == 0 {
		p.observers = 1
	}
	if rng.IntN(2) == 0 {
		p.spares = rng.IntN(3)
		p.reconfigP = rng.Float64() * 0.05
	}
	if rng.IntN(4) > 0 {
		p.discP = rng.Float64() * 0.1
		p.crashNoticeP = rng.Float64()
	}
	if rng.IntN(4) == 0 {
		p.cfg.counterLimit = uint32(5 + rng.IntN(30)) // force zxid rollovers
	}
	return p
}

// livenessTicks bounds how long after the faults stop a leader must be
// established and a new proposal applied everywhere.
const livenessTicks = 250

// runSim runs one seed and returns the first violation, and how many ticks
// recovery took.
func runSim(seed uint64, trace bool) (c *cluster, recovery int, err error) {
	rng := rand.New(rand.NewPCG(seed, 1))
	p := pickParams(rng)
	c = newClusterSpares(rng.Uint64(), p.voters, p.observers, p.spares, p.cfg)
	c.trace = trace
	if trace {
		c.maxTrace = 0 // keep it all
	}
	c.logf("seed %d: %d voters, %d observers, %d spares, %d chaos ticks, faults %+v, crash %.3f, damage %.2f, partition %.3f, disconnect %.3f/%.2f, reconfig %.3f, slow disks %v, cfg %+v",
		seed, p.voters, p.observers, p.spares, p.chaosTicks, p.faults, p.crashP, p.damageP, p.partP, p.discP, p.crashNoticeP, p.reconfigP, p.slowDisks, p.cfg)
	c.faults = p.faults
	if p.slowDisks {
		for _, id := range c.ids {
			c.nodes[id].persistP = 0.005 + rng.Float64()*0.2
		}
	}
	next := 0
	proposeSome := func() {
		if l := c.leader(); l != nil && rng.IntN(2) == 0 {
			for range 1 + rng.IntN(3) {
				next++
				if _, err := c.propose(l, fmt.Appendf(nil, "txn-%d", next)); err != nil {
					break
				}
			}
		}
	}

	// A membership change, proposed as Apache ZooKeeper's leader would:
	// none in progress, and a quorum of the new voters synced with it.
	reconfigure := func() {
		l := c.leader()
		if l == nil || l.node.ReconfigPending() {
			return
		}
		var m Membership
		for _, i := range rng.Perm(len(c.ids)) {
			switch id := c.ids[i]; {
			case len(m.Voters) == 0 || (len(m.Voters) < 5 && rng.IntN(2) == 0):
				m.Voters = append(m.Voters, id)
			case rng.IntN(3) == 0:
				m.Observers = append(m.Observers, id)
			}
		}
		if !l.node.QuorumSynced(m) {
			return
		}
		next++
		c.propose(l, encodeMembers(m))
	}

	// A crash closes the server's connections: some peers hear of it.
	crash := func(id int64) {
		if !c.nodes[id].up {
			return
		}
		c.crash(id)
		for _, peer := range c.ids {
			if peer != id && rng.Float64() < p.crashNoticeP {
				c.disconnected(peer, id)
			}
		}
	}

	// Chaos.
	for tick := 0; tick < p.chaosTicks && c.err == nil; tick++ {
		for range unitsPerTick {
			c.step()
		}
		proposeSome()
		if rng.Float64() < p.reconfigP {
			reconfigure()
		}
		for _, id := range c.ids {
			s := c.nodes[id]
			switch {
			case s.up && rng.Float64() < p.crashP:
				crash(id)
			case !s.up && rng.Float64() < 0.2:
				// One damaged server at a time: with more, a quorum
				// of whole logs may not exist.
				if rng.Float64() < p.damageP && c.mayDamage() {
					c.damage(id)
				}
				c.start(id)
			case s.up && rng.Float64() < p.snapP:
				c.takeSnapshot(s)
			}
		}
		if rng.Float64() < p.powerP {
			for _, id := range c.ids {
				if rng.IntN(3) > 0 {
					crash(id)
				}
			}
		}
		if rng.Float64() < p.discP {
			// A spurious report: the connection flapped, or the report is
			// late.
			a, b := c.ids[rng.IntN(len(c.ids))], c.ids[rng.IntN(len(c.ids))]
			c.disconnected(a, b)
		}
		if rng.Float64() < p.partP {
			if len(c.blocked) > 0 && rng.IntN(2) == 0 {
				c.heal()
			} else {
				var side []int64
				for _, id := range c.ids {
					if rng.IntN(2) == 0 {
						side = append(side, id)
					}
				}
				c.partition(side)
			}
		}
	}
	if c.err != nil {
		return c, 0, c.err
	}

	// Calm: everything up, connected, a reliable FIFO network.
	c.logf("faults stop")
	c.heal()
	c.faults = netFaults{maxDelay: p.faults.maxDelay}
	for _, id := range c.ids {
		if !c.nodes[id].up {
			c.start(id)
		}
		c.nodes[id].persistP = max(c.nodes[id].persistP, 0.1)
	}
	var mark int64 = -1
	for tick := 0; tick < livenessTicks && c.err == nil; tick++ {
		for range unitsPerTick {
			c.step()
		}
		if mark < 0 {
			if l := c.leader(); l != nil {
				next++
				if z, err := c.propose(l, fmt.Appendf(nil, "txn-%d", next)); err == nil {
					mark = z
				}
			}
			continue
		}
		done := true
		for _, id := range c.ids {
			if c.nodes[id].treeZxid() < mark {
				done = false
			}
		}
		if done {
			c.checkMemberships()
			return c, tick, c.err
		}
		if l := c.leader(); l == nil || l.status.Epoch != EpochOf(mark) {
			mark = -1 // the leader changed before committing: try again
		}
	}
	if c.err != nil {
		return c, 0, c.err
	}
	return c, 0, fmt.Errorf("no progress within %d ticks after the faults stopped (leader: %v)", livenessTicks, c.leader() != nil)
}

// TestSim runs the simulated ensemble under random faults for many seeds and
// checks ZAB's properties: no committed transaction is lost, every server
// applies the same sequence, at most one established leader per epoch,
// primary order, and progress once the faults stop.
func TestSim(t *testing.T) {
	if *simSeed >= 0 {
		c, rec, err := runSim(uint64(*simSeed), true)
		t.Log("\n" + c.dumpTrace())
		if err != nil {
			t.Fatalf("seed %d: %v", *simSeed, err)
		}
		t.Logf("seed %d: %d txns committed, recovered in %d ticks", *simSeed, len(c.committed), rec)
		return
	}
	seeds := *simSeeds
	if testing.Short() {
		seeds = min(seeds, 50)
	}
	start := time.Now()
	worst, total, elections, reconfigs := 0, 0, 0, 0
	for seed := range uint64(seeds) {
		c, rec, err := runSim(seed, false)
		if err != nil {
			c, _, _ = runSim(seed, true)
			tr := c.events
			if len(tr) > 300 {
				tr = tr[len(tr)-300:]
			}
			for _, ev := range tr {
				t.Log(ev)
			}
			t.Fatalf("seed %d: %v\nreproduce with: go test ./zab -run 'TestSim$' -sim.seed=%d -v", seed, err, seed)
		}
		worst = max(worst, rec)
		total += len(c.committed)
		elections += len(c.leaders)
		for _, e := range c.committed {
			if _, ok := simMembers(e.Data); ok {
				reconfigs++
			}
		}
	}
	t.Logf("%d seeds in %v: %d txns committed (%d membership changes), %d established leaders, slowest recovery %d ticks",
		seeds, time.Since(start).Round(time.Millisecond), total, reconfigs, elections, worst)
}
