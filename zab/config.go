package zab

import (
	"errors"
	"fmt"
	"math/rand/v2"
)

// LogReader is read access to the entries the driver has written to its
// durable log. *storage.Log (zab/storage) implements it. The node reads only entries with
// zxid above its log base (the snapshot it was restored from, or a later
// Compact) and not above the last entry it has persisted, so a driver that
// purges only below what it passed to Compact never races with it.
type LogReader interface {
	// Iterate calls fn for every entry with zxid >= from, in zxid order,
	// stopping at (and returning) the first error fn returns.
	Iterate(from int64, fn func(zxid int64, data []byte) error) error
}

// DurableState is what a server recovers from disk on start.
type DurableState struct {
	HardState
	// SnapshotZxid is the zxid of the snapshot the driver loaded its tree
	// from (0 if none): every txn up to it is applied and committed.
	SnapshotZxid int64
	// LastZxid is the zxid of the last entry in the log (0 if empty). If it
	// is below SnapshotZxid the log is ignored.
	LastZxid int64
}

// Config configures a Node. Limits are in ticks; the driver chooses the tick
// length (Apache ZooKeeper's unit is tickTime, but ticking a few times per
// tickTime makes the election's finalize wait shorter).
type Config struct {
	// ID is this server's id (myid).
	ID int64
	// Voters are the ids of the participants, including ID unless this
	// server is an observer.
	Voters []int64
	// Observers are the ids of the observers.
	Observers []int64
	// Version is the version of Voters and Observers (the zxid of the
	// change that made them, 0 for a static configuration).
	Version int64
	// Members, if set, recognizes a log entry that changes the membership
	// and returns the new voters and observers (see Membership). It must be
	// a pure function of data.
	Members func(data []byte) (Membership, bool)

	// InitLimit bounds discovery and sync: a leader that has not been
	// established within it, or a learner that hears nothing from its leader
	// for that long before UPTODATE, goes back to LOOKING.
	InitLimit int
	// SyncLimit bounds silence once synced: a learner that hears nothing
	// from the leader, or a leader that hears from less than a quorum of
	// followers, for this long goes back to LOOKING.
	SyncLimit int
	// ElectionTicks is how long a LOOKING server waits for progress before
	// sending its notifications again.
	ElectionTicks int
	// FinalizeTicks is how long a LOOKING server waits for a better vote
	// once a quorum agrees with its own (Apache ZooKeeper's finalizeWait);
	// zero decides at once.
	FinalizeTicks int

	// MaxEntriesPerMsg bounds the entries in one PROPOSAL or INFORM
	// (default 1000).
	MaxEntriesPerMsg int
	// MaxCommittedPerReady bounds the committed entries handed out by one
	// Ready (default 10000).
	MaxCommittedPerReady int
	// KeepEntries is how many applied entries stay in memory to sync
	// followers that are a little behind without reading the log (default
	// 500, like Apache ZooKeeper's committedLog).
	KeepEntries int

	// Log reads the durable log.
	Log LogReader
	// State is the recovered durable state.
	State DurableState
	// Rand is the only source of randomness (learner session ids). Seed it
	// from crypto/rand in production and from the test seed in simulations.
	Rand *rand.Rand

	// counterLimit, if nonzero, replaces the largest usable zxid counter
	// (tests use it to reach the rollover quickly).
	counterLimit uint32
}

// maxCounter is the largest counter a proposal may use: Apache ZooKeeper
// refuses 0xffffffff and starts a new epoch instead.
const maxCounter = 0xfffffffe

func (c *Config) validate() error {
	if c.Log == nil {
		return errors.New("zab: Config.Log is nil")
	}
	if c.Rand == nil {
		return errors.New("zab: Config.Rand is nil")
	}
	if c.InitLimit <= 0 || c.SyncLimit <= 0 || c.ElectionTicks <= 0 || c.FinalizeTicks < 0 {
		return fmt.Errorf("zab: bad limits initLimit=%d syncLimit=%d electionTicks=%d finalizeTicks=%d",
			c.InitLimit, c.SyncLimit, c.ElectionTicks, c.FinalizeTicks)
	}
	m := Membership{Version: c.Version, Voters: c.Voters, Observers: c.Observers}
	if err := m.validate(); err != nil {
		return err
	}
	if c.MaxEntriesPerMsg <= 0 {
		c.MaxEntriesPerMsg = 1000
	}
	if c.MaxCommittedPerReady <= 0 {
		c.MaxCommittedPerReady = 10000
	}
	if c.KeepEntries <= 0 {
		c.KeepEntries = 500
	}
	c.Voters, c.Observers = m.Voters, m.Observers
	return nil
}
