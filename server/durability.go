package server

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"go.uber.org/zap"

	"github.com/zkgo/zkgo/conf"
	"github.com/zkgo/zkgo/server/monitor"
	"github.com/zkgo/zkgo/wire"
	"github.com/zkgo/zkgo/zab"
	"github.com/zkgo/zkgo/zab/storage"
	"github.com/zkgo/zkgo/znode"
)

// SnapshotDir is where snapshots live: dataDir/version-2, as in Apache
// ZooKeeper.
func SnapshotDir(dataDir string) string { return filepath.Join(dataDir, "version-2") }

// TxnLogDir is the pebble directory of the transaction log under
// dataLogDir.
func TxnLogDir(dataLogDir string) string { return filepath.Join(dataLogDir, "version-2", "txnlog") }

func (s *Server) snapshotDir() string { return SnapshotDir(s.cfg.DataDir) }

func (s *Server) txnLogDir() string {
	dir := s.cfg.DataLogDir
	if dir == "" {
		dir = s.cfg.DataDir
	}
	return TxnLogDir(dir)
}

// openTxnLog creates the snapshot and log directories if need be and opens
// the transaction log as s.txnLog.
func (s *Server) openTxnLog() (*storage.Log, error) {
	for _, dir := range []string{s.snapshotDir(), s.txnLogDir()} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	txnLog, err := storage.OpenLog(s.txnLogDir(), s.logOptions())
	if err != nil {
		return nil, err
	}
	s.txnLog = txnLog
	return txnLog, nil
}

// recover opens the transaction log and rebuilds the tree from the newest
// valid snapshot plus the log after it.
func (s *Server) recover() error {
	start := time.Now()
	txnLog, err := s.openTxnLog()
	if err != nil {
		return err
	}
	tree, snapshot, replayed, err := LoadTree(s.snapshotDir(), txnLog, s.treeOptions(), s.log)
	if err != nil {
		return err
	}
	s.tree = tree
	for _, si := range tree.Sessions() {
		s.sessions.add(si.ID, si.Timeout)
	}
	s.stats.Observe(monitor.DBInitTime, time.Since(start).Milliseconds())
	s.log.Info("database loaded",
		zap.String("snapshot", snapshot), zap.Int("txnsReplayed", replayed),
		zap.String("lastZxid", hex(tree.LastZxid())), zap.Int("sessions", len(tree.Sessions())),
		zap.Duration("took", time.Since(start)))
	s.resetSnapCountdown()
	return nil
}

// logOptions are the transaction log's options: forceSync, the fsync
// warning threshold (fsync.warningthresholdms) and the fsynctime metric.
func (s *Server) logOptions() storage.Options {
	warn := s.cfg.FsyncWarningThresholdMs
	if warn <= 0 {
		warn = conf.DefaultFsyncWarningThresholdMs
	}
	return storage.Options{
		ForceSync:    s.cfg.ForceSync,
		Logger:       s.log,
		FsyncWarning: time.Duration(warn) * time.Millisecond,
		OnSync:       func(d time.Duration) { s.stats.Observe(monitor.FsyncTime, d.Milliseconds()) },
		OnFailure:    s.failStorage,
		// A member of an ensemble repairs a damaged log from its leader;
		// a standalone server refuses to start (zkserver repair accepts
		// a loss).
		AcceptLoss: s.quorum != nil,
		SyncDelay:  s.syncDelay,
	}
}

// LoadTree rebuilds the tree from the newest valid snapshot in snapDir plus
// the txns of txnLog after it (txnLog may be nil: no log). Corruption is an
// error naming the file and zxid; nothing is skipped. It returns the
// snapshot file used ("" for none) and how many txns were replayed. An
// invalid snapshot skipped for an older one is logged to log (nil discards
// the warning).
func LoadTree(snapDir string, txnLog *storage.Log, opts znode.Options, log *zap.Logger) (tree *znode.Tree, snapshot string, replayed int, err error) {
	tree = znode.NewTree(opts)
	snapZxid, path, payload, err := storage.LatestSnapshot(snapDir, log)
	if err != nil {
		return nil, "", 0, err
	}
	if path != "" {
		if tree, err = decodeSnapshot(payload, path, snapZxid, opts); err != nil {
			return nil, "", 0, err
		}
	}
	if txnLog == nil {
		return tree, path, 0, nil
	}
	if first := txnLog.FirstZxid(); first > snapZxid+1 {
		return nil, "", 0, fmt.Errorf("transaction log starts at zxid 0x%x but the newest snapshot is at 0x%x: txns are missing",
			first, snapZxid)
	}
	err = txnLog.Iterate(snapZxid+1, func(zxid int64, data []byte) error {
		var txn znode.Txn
		d := wire.NewDecoder(data)
		txn.Decode(d)
		if d.Err() != nil || txn.Zxid != zxid {
			return &storage.CorruptionError{Path: txnLog.Dir(), Zxid: zxid, Reason: "undecodable txn"}
		}
		// The next txn follows the last one, or starts a later epoch
		// (an ensemble's log, or an Apache observer's).
		if want := tree.LastZxid() + 1; zxid != want && !(zab.EpochOf(zxid) > zab.EpochOf(want) && zxid&0xffffffff == 1) {
			return &storage.CorruptionError{Path: txnLog.Dir(), Zxid: zxid,
				Reason: fmt.Sprintf("gap in the log: expected zxid 0x%x", want)}
		}
		tree.Apply(&txn)
		replayed++
		return nil
	})
	if err != nil {
		return nil, "", 0, err
	}
	if mark := txnLog.HighWater(); tree.LastZxid() < mark {
		return nil, "", 0, &storage.CorruptionError{Path: snapDir, Zxid: tree.LastZxid(),
			Reason: fmt.Sprintf("snapshots and log hold txns up to 0x%x, but up to 0x%x were made durable", tree.LastZxid(), mark)}
	}
	return tree, path, replayed, nil
}

// decodeSnapshot rebuilds the tree from the payload of the snapshot file at
// path, taken at zxid; damage is a *storage.CorruptionError.
func decodeSnapshot(payload []byte, path string, zxid int64, opts znode.Options) (*znode.Tree, error) {
	tree, err := znode.DecodeSnapshot(payload, opts)
	if err != nil {
		return nil, &storage.CorruptionError{Path: path, Zxid: zxid, Reason: err.Error()}
	}
	if tree.LastZxid() != zxid {
		return nil, &storage.CorruptionError{Path: path, Zxid: zxid,
			Reason: fmt.Sprintf("snapshot holds zxid 0x%x", tree.LastZxid())}
	}
	return tree, nil
}

// resetSnapCountdown picks how many txns until the next snapshot: between
// snapCount/2 and snapCount, randomised as Apache ZooKeeper does so that
// servers of an ensemble do not all snapshot at once.
func (s *Server) resetSnapCountdown() {
	n := s.cfg.SnapCount
	if n < 2 {
		n = 2
	}
	s.snapCountdown = n/2 + rand.IntN(n/2)
}

// maybeSnapshot counts applied txns and, when due, freezes the tree (in the
// applier, so the snapshot is exactly at the last applied zxid) and writes
// it in the background while writes go on.
func (s *Server) maybeSnapshot(applied int) {
	s.snapCountdown -= applied
	if s.snapCountdown > 0 || s.snapshotting.Load() {
		return
	}
	s.resetSnapCountdown()
	s.snapshotting.Store(true)
	zxid, write := s.tree.Snapshot()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer s.snapshotting.Store(false)
		s.writeSnapshot(zxid, write)
	}()
}

func (s *Server) writeSnapshot(zxid int64, write func(io.Writer) error) {
	start := time.Now()
	called := false
	path, err := storage.WriteSnapshot(s.snapshotDir(), zxid, func(w io.Writer) error {
		called = true
		return write(w)
	})
	if !called {
		write(io.Discard) // releases the frozen tree
	}
	if err != nil {
		s.log.Error("writing snapshot failed", zap.Error(err))
		return
	}
	took := time.Since(start)
	s.stats.Observe(monitor.SnapshotTime, took.Milliseconds())
	size := int64(-1)
	if fi, err := os.Stat(path); err == nil {
		size = fi.Size()
	}
	s.log.Info("snapshot taken", zap.String("file", path), zap.String("zxid", hex(zxid)),
		zap.Int64("bytes", size), zap.Duration("took", took))
	retain := max(s.cfg.AutopurgeSnapRetainCount, 3)
	oldest, err := storage.PurgeSnapshots(s.snapshotDir(), retain)
	if err != nil {
		s.log.Warn("purging old snapshots failed", zap.Error(err))
		return
	}
	if s.quorum != nil {
		// The ZAB node may still read the log to sync learners: the driver
		// tells it first, then purges.
		s.quorum.compactTo(oldest)
		return
	}
	if err := s.txnLog.PurgeBefore(oldest + 1); err != nil {
		s.log.Warn("purging the transaction log failed", zap.Error(err))
	}
}

// failStorage stops the server after the log failed: no write is
// acknowledged that was not persisted, and none is accepted any more.
func (s *Server) failStorage(err error) {
	s.log.Error("transaction log failed: stopping, no further write is acknowledged", zap.Error(err))
	select {
	case s.fatal <- err:
	default:
	}
	go s.Close()
}

// Fatal delivers the error that stopped the server on its own (a failed
// transaction log), if any.
func (s *Server) Fatal() <-chan error { return s.fatal }
