package server

import (
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"go.uber.org/zap"

	"github.com/zkgo/zkgo/zab"
	"github.com/zkgo/zkgo/zab/storage"
	"github.com/zkgo/zkgo/znode"
)

// Recovery of an ensemble server: what it loads from disk at start, and
// the damage it repairs from its leader.

// recover opens the log and loads the newest snapshot only: the node hands
// the committed txns of the log after it back through Ready.Committed once
// the ensemble has a leader.
func (q *ensemble) recover() error {
	s := q.s
	cfg := q.cfg
	if _, ok := cfg.Server(cfg.MyID); !ok {
		return fmt.Errorf("server: myid %d is not one of the server.N lines of %s", cfg.MyID, cfg.File)
	}
	start := time.Now()
	txnLog, err := s.openTxnLog()
	if err != nil {
		return err
	}
	tree, path, dmg, err := q.loadDamaged(txnLog)
	if err != nil {
		return err
	}
	if s.tree == nil {
		s.tree = tree
	} else {
		// An Apache observer taken over: its clients keep the tree
		// (and their watches).
		s.tree.Restore(tree)
	}
	for _, si := range tree.Sessions() {
		s.sessions.add(si.ID, si.Timeout)
	}
	var hs zab.HardState
	for _, m := range []struct {
		key string
		v   *int64
	}{
		{zab.MetaAcceptedEpoch, &hs.AcceptedEpoch},
		{zab.MetaAcceptedLeader, &hs.AcceptedLeader},
		{zab.MetaCurrentEpoch, &hs.CurrentEpoch},
	} {
		if *m.v, _, err = txnLog.Meta(m.key); err != nil {
			return err
		}
	}
	repairing, _, err := txnLog.Meta(zab.MetaRepairing)
	if err != nil {
		return err
	}
	if last := max(txnLog.LastZxid(), tree.LastZxid()); hs.CurrentEpoch < zab.EpochOf(last) || hs.AcceptedEpoch < hs.CurrentEpoch {
		// The stored epochs are older than the history (a lost file took
		// them): the promises this server made are unknown. It takes the
		// history's epoch and repairs, and a repairing server's promises
		// count for nothing (zab).
		if dmg == nil {
			dmg = &damage{truncateAfter: -1, err: fmt.Errorf("the stored epochs (accepted %d, current %d) are older than the history's (%d): they were lost",
				hs.AcceptedEpoch, hs.CurrentEpoch, zab.EpochOf(last))}
		}
		hs.CurrentEpoch = max(hs.CurrentEpoch, zab.EpochOf(last))
		hs.AcceptedEpoch = max(hs.AcceptedEpoch, hs.CurrentEpoch)
		for _, m := range []struct {
			key string
			v   int64
		}{{zab.MetaAcceptedEpoch, hs.AcceptedEpoch}, {zab.MetaCurrentEpoch, hs.CurrentEpoch}} {
			if err := txnLog.SetMeta(m.key, m.v); err != nil {
				return err
			}
		}
	}
	if dmg != nil {
		// Recorded before anything is dropped: until a leader has synced
		// this server it must not vote with what is left.
		if err := txnLog.SetMeta(zab.MetaRepairing, 1); err != nil {
			return err
		}
		repairing = 1
		s.log.Error("the transaction log or snapshot is damaged: this server neither votes nor leads until a leader has synced it",
			zap.Error(dmg.err))
		if dmg.truncateAfter >= 0 {
			// What follows the damage is dropped, to be synced again
			// from the leader.
			if err := txnLog.TruncateAfter(dmg.truncateAfter); err != nil {
				return err
			}
		}
	} else if repairing == 1 {
		s.log.Warn("the transaction log is still under repair: this server neither votes nor leads until a leader has synced it")
	}
	hs.Repairing = repairing == 1
	q.repairing = hs.Repairing
	st := zab.DurableState{HardState: hs, SnapshotZxid: tree.LastZxid(), LastZxid: txnLog.LastZxid()}

	// Tick about every targetTick: limits are in tickTime units.
	tickTime := time.Duration(cfg.TickTime) * time.Millisecond
	q.scale = max(1, int(tickTime/targetTick))
	q.tick = tickTime / time.Duration(q.scale)
	q.initReconfig()
	var voters, observers []int64
	for _, sv := range cfg.Servers {
		if sv.Observer {
			observers = append(observers, sv.ID)
		} else {
			voters = append(voters, sv.ID)
		}
	}
	var seed [16]byte
	crand.Read(seed[:])
	node, err := zab.NewNode(zab.Config{
		ID:            cfg.MyID,
		Voters:        voters,
		Observers:     observers,
		Version:       cfg.ConfigVersion,
		Members:       membersOf,
		InitLimit:     max(1, cfg.InitLimit) * q.scale,
		SyncLimit:     max(1, cfg.SyncLimit) * q.scale,
		ElectionTicks: max(1, int(400*time.Millisecond/q.tick)),
		FinalizeTicks: max(1, int(200*time.Millisecond/q.tick)),
		Log:           txnLog,
		State:         st,
		Rand:          rand.New(rand.NewPCG(binary.BigEndian.Uint64(seed[:8]), binary.BigEndian.Uint64(seed[8:]))),
	})
	if err != nil {
		return err
	}
	q.node = node
	s.log.Info("database loaded for the ensemble",
		zap.String("snapshot", path), zap.String("snapshotZxid", hex(st.SnapshotZxid)),
		zap.String("logLastZxid", hex(st.LastZxid)), zap.Int64("acceptedEpoch", hs.AcceptedEpoch),
		zap.Int64("currentEpoch", hs.CurrentEpoch), zap.Duration("took", time.Since(start)))
	s.resetSnapCountdown()
	return nil
}

// damage is what loadDamaged found wrong with the stored state.
type damage struct {
	err           error
	truncateAfter int64 // the log must be cut after this zxid; -1: it need not
}

// loadDamaged loads the newest valid snapshot and checks the log after
// it, as far as this server can use them. Damage (a log that lost entries
// it had made durable, a bad group, no valid snapshot, a log that does not
// reach back to the snapshot) is returned, not failed on: the server
// repairs it from its leader.
func (q *ensemble) loadDamaged(txnLog *storage.Log) (tree *znode.Tree, path string, dmg *damage, err error) {
	s := q.s
	note := func(err error, truncateAfter int64) {
		if dmg == nil {
			dmg = &damage{err: err, truncateAfter: -1}
		}
		if truncateAfter >= 0 && (dmg.truncateAfter < 0 || truncateAfter < dmg.truncateAfter) {
			dmg.truncateAfter = truncateAfter
		}
	}
	if lost := txnLog.Lost(); lost != nil {
		note(lost, -1)
	}
	tree = znode.NewTree(s.treeOptions())
	snapZxid, path, payload, snapErr := storage.LatestSnapshot(s.snapshotDir(), s.log)
	if snapErr == nil && path != "" {
		tree, snapErr = decodeSnapshot(payload, path, snapZxid, s.treeOptions())
	}
	if snapErr != nil {
		var ce *storage.CorruptionError
		if path != "" && !errors.As(snapErr, &ce) {
			return nil, "", nil, snapErr
		}
		tree, path, snapZxid = znode.NewTree(s.treeOptions()), "", 0
		note(snapErr, -1)
	}
	if purged := txnLog.Purged(); purged > snapZxid {
		// The log was purged behind a newer snapshot that is gone: it
		// cannot be replayed onto this one.
		note(&storage.CorruptionError{Path: txnLog.Dir(), Zxid: purged,
			Reason: fmt.Sprintf("the log was purged up to 0x%x, after the newest valid snapshot 0x%x", purged, snapZxid)}, snapZxid)
		return tree, path, dmg, nil
	}
	// Every txn after the snapshot must follow the one before it: a
	// missing range (a write-ahead or table file gone) leaves a gap that
	// the log's own checks do not see.
	good := snapZxid
	verr := txnLog.Iterate(snapZxid+1, func(z int64, _ []byte) error {
		if !follows(good, z) {
			return &storage.CorruptionError{Path: txnLog.Dir(), Zxid: z,
				Reason: fmt.Sprintf("gap in the log: txn 0x%x follows 0x%x", z, good)}
		}
		good = z
		return nil
	})
	var ce *storage.CorruptionError
	switch {
	case verr == nil:
	case errors.As(verr, &ce):
		note(verr, good)
	default:
		return nil, "", nil, verr
	}
	return tree, path, dmg, nil
}

// follows reports whether txn z can come right after txn prev: the next
// counter of the same epoch, or the first of a later one (a leader numbers
// its epoch's txns from 1, one after another).
func follows(prev, z int64) bool {
	if zab.EpochOf(z) == zab.EpochOf(prev) {
		return z == prev+1
	}
	return zab.EpochOf(z) > zab.EpochOf(prev) && zab.CounterOf(z) == 1
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
