// Package storage holds the durable state of a server: the transaction log
// (in pebble) and the snapshot files. It stores opaque transaction bytes and
// knows nothing of their format.
package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/vfs"
	"go.uber.org/zap"

	"github.com/zkgo/zkgo/zab"
)

// The consensus core reads the log back through zab.LogReader.
var _ zab.LogReader = (*Log)(nil)

// Options configures a Log.
type Options struct {
	// ForceSync makes Append wait until its entries are fsynced (zoo.cfg
	// forceSync, default true). Without it an acknowledged write can be lost
	// by a machine crash (not by a process crash).
	ForceSync bool
	// Logger receives the log's and pebble's messages; nil means zap.NewNop().
	Logger *zap.Logger
	// FsyncWarning is how long a sync of the log may take before a warning
	// is logged (fsync.warningthresholdms); zero means one second.
	FsyncWarning time.Duration
	// OnSync, if set, is told how long each sync of the log took (the
	// fsynctime metric).
	OnSync func(time.Duration)
	// OnFailure, if set, is told (once, from any goroutine) when a
	// background write of the log fails: a flush or compaction that cannot
	// write (a full disk, an I/O error). Writes may then stall rather than
	// fail, so the owner must stop without waiting for them. Errors of
	// Append and its wait are returned as usual and not reported here.
	OnFailure func(error)
	// SyncDelay, if set, is a fault-injection hook that simulates a slow
	// disk: every sync of the log's write-ahead files first waits for the
	// duration it returns (it is called at each sync, so the delay can
	// change at run time; zero or less waits nothing). The wait counts as
	// sync time for the FsyncWarning warning. Never set it in production.
	SyncDelay func() time.Duration
	// AcceptLoss opens a log that lost entries it had reported durable
	// (see Lost) instead of failing with a *CorruptionError. A member of an
	// ensemble does, and repairs the log from its leader; a standalone
	// server does not: only the operator's repair command accepts a loss.
	AcceptLoss bool

	fs vfs.FS // tests inject faults here; nil means the OS file system
}

// Key layout: one prefix byte, then for transactions the big-endian zxid
// of the last txn of the group stored under the key.
//
// The txns of one append are stored as one group, under one key: pebble's
// cost per key (memtable insert, flush, and compaction, where purged txns
// are skipped one key at a time) was several percent of a busy server's
// CPU with a key per txn. A group's value is its CRC32-C (over the key's
// zxid and the rest) followed by each txn as zxid (int64), length (uint32)
// and data, in increasing zxid order.
const (
	prefixOldTxn = 't' // one txn per key: logs written before groups
	prefixGroup  = 'g'
	// Meta keys sort below every group: a table holding meta keys and
	// groups then spans only groups older than those appended after it, so
	// pebble moves newly flushed tables down without rewriting them. Under
	// 'm', above the groups (logs written before this layout; openDB moves
	// them), every such table spanned the key range of all later groups
	// and each compaction rewrote them.
	prefixMeta    = 'b'
	prefixOldMeta = 'm'
	// Meta keys of the log itself (SetMeta's callers use others).
	metaPurged    = "zkgo.purgedThrough" // entries up to it may have been purged
	metaHighWater = "zkgo.highWater"     // 1 once the high-water file exists
	groupKeyLen   = 9
	crcLen        = 4
	entryHdrLen   = 8 + 4
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Log is the transaction log: a pebble database at one directory holding
// groups of txns keyed by the big-endian zxid of their last txn, each framed
// with a CRC32-C (see prefixGroup). It also keeps a few durable named
// integers (see SetMeta).
//
// Writes are serialized internally; syncs are shared between concurrent
// writers (group commit). After a failed write or sync the log is failed and
// refuses every later write with that error.
type Log struct {
	dir    string
	opts   Options
	logger *zap.Logger
	db     *pebble.DB

	hw *highWater

	bgErr atomic.Pointer[error] // a background write failed (see Options.OnFailure)

	mu     sync.Mutex // serializes writes and guards the fields below
	first  int64      // zxid of the first entry, 0 if empty
	last   int64      // zxid of the last entry, 0 if empty
	purged int64      // entries up to it may have been purged (behind a snapshot)
	lost   error      // what was found lost at open (Options.AcceptLoss)
	err    error      // sticky failure
	wedged bool       // pebble panicked in a commit; its pipeline may be locked
	closed bool
}

// OpenLog opens (creating if needed) the transaction log in dir.
//
// Pebble replays its write-ahead log and stops at the first record it
// cannot read, treating it as a tail torn by a crash. That is true only of
// entries never reported durable: the log keeps a high-water mark (see
// highWater) and checks on open that it still holds every entry up to it.
// If it does not (a damaged or truncated write-ahead file, a deleted file),
// OpenLog fails with a *CorruptionError naming the file, the offset where
// reading stopped and the last good zxid, and leaves the files as they are;
// with Options.AcceptLoss it opens the log as far as it is good and
// reports the loss through Lost. A torn tail beyond the mark is dropped
// with a log line.
func OpenLog(dir string, opts Options) (*Log, error) {
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.FsyncWarning <= 0 {
		opts.FsyncWarning = time.Second
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("storage: creating transaction log dir: %w", err)
	}
	l := &Log{dir: dir, opts: opts, logger: opts.Logger.With(zap.String("dir", dir))}

	fs := &syncTimingFS{FS: opts.fs, warn: l.slowSync, delay: opts.SyncDelay}
	if opts.fs == nil {
		// Raw calls on the files' descriptors would bypass a test's FS.
		fs.FS, fs.raw = vfs.Default, rawIO && runtime.GOMAXPROCS(0) > 1
	}
	hwPath := filepath.Join(dir, HighWaterFile)
	mark, seq, hwErr := readHighWater(hwPath)
	hwFound := hwErr == nil
	var ce *CorruptionError
	if hwErr != nil && !errors.Is(hwErr, errNoHighWater) && !errors.As(hwErr, &ce) {
		return nil, hwErr
	}
	walFile, walOffset, walBad := walDamage(dir)
	if walBad && hwFound && !opts.AcceptLoss {
		// Opening for writing would make pebble's cut final: look first.
		last, err := l.peekLast(fs)
		if err != nil {
			return nil, err
		}
		if last < mark {
			return nil, l.lossError(walFile, walOffset, last, mark)
		}
	}
	if err := l.openDB(fs, false); err != nil {
		if !opts.AcceptLoss || !dataDamage(err) {
			return nil, err
		}
		return openAside(dir, opts, err)
	}
	lost, err := l.checkHighWater(hwErr, mark, walFile, walOffset, walBad)
	if err == nil && lost != nil && !opts.AcceptLoss {
		err = lost
	}
	if err != nil {
		l.db.Close()
		return nil, err
	}
	switch {
	case lost != nil:
		l.lost = lost
		l.logger.Error("the transaction log lost entries it had made durable; opened as far as it is good, to be repaired", zap.Error(lost))
	case walBad:
		l.logger.Warn("dropped a torn tail of the transaction log: a write cut short by a crash, of entries never reported durable",
			zap.String("file", walFile), zap.Int64("offset", walOffset), zap.String("lastZxid", zxidHex(l.last)))
	}
	if !hwFound {
		// No mark yet (a new log, one from before marks, or a mark lost
		// or damaged): it starts at what the log holds. A log that lost
		// entries keeps its mark until Repaired.
		mark, seq = max(l.last, l.purged), 0
	}
	if l.hw, err = openHighWater(dir, mark, seq, opts.ForceSync, !hwFound); err != nil {
		l.db.Close()
		return nil, err
	}
	if !hwFound {
		if err := l.SetMeta(metaHighWater, 1); err != nil {
			l.Close()
			return nil, err
		}
	}
	l.logger.Info("opened transaction log",
		zap.String("firstZxid", zxidHex(l.first)), zap.String("lastZxid", zxidHex(l.last)),
		zap.String("highWater", zxidHex(l.hw.mark())), zap.Bool("forceSync", opts.ForceSync))
	return l, nil
}

// openDB opens pebble (read-only to look without changing anything) and
// loads the log's bounds.
func (l *Log) openDB(fs vfs.FS, readOnly bool) error {
	db, err := pebble.Open(l.dir, &pebble.Options{
		FS:       fs,
		Logger:   pebbleLogger{l.logger},
		ReadOnly: readOnly,
		// Txns are written once, read back rarely (a restart, a learner's
		// catch-up) and purged after a few snapshots: compressing them on
		// every flush and compaction (snappy, pebble's default) cost more
		// CPU under writes than the disk space it saves is worth. Apache
		// ZooKeeper's log files are not compressed either.
		Levels:        []pebble.LevelOptions{{Compression: pebble.NoCompression}},
		EventListener: &pebble.EventListener{BackgroundError: l.backgroundError},
	})
	if err != nil {
		return fmt.Errorf("storage: opening transaction log %s: %w", l.dir, err)
	}
	l.db = db
	err = l.refuseOldLayout()
	if err == nil && !readOnly {
		err = l.moveOldMeta()
	}
	if err == nil {
		err = l.loadBounds()
	}
	if err == nil {
		l.purged, _, err = l.Meta(metaPurged)
	}
	if err != nil {
		l.db.Close()
	}
	return err
}

// peekLast opens the log read-only and returns the last zxid it holds,
// counting purged entries as held.
func (l *Log) peekLast(fs vfs.FS) (int64, error) {
	if err := l.openDB(fs, true); err != nil {
		return 0, err
	}
	defer l.db.Close()
	return max(l.last, l.purged), nil
}

// backgroundError handles pebble's report of a failed flush or compaction.
// Pebble retries them, but a write waiting for the flush stalls until one
// succeeds: the log is failed (fail-stop, as for a failed sync) and the
// owner told. It takes no lock: a stalled Append may hold l.mu.
func (l *Log) backgroundError(err error) {
	err = fmt.Errorf("storage: transaction log %s: background write failed, refusing further writes: %w", l.dir, err)
	if !l.bgErr.CompareAndSwap(nil, &err) {
		return
	}
	l.logger.Error("transaction log background write failed; no further write will be acknowledged", zap.Error(err))
	if l.opts.OnFailure != nil {
		l.opts.OnFailure(err)
	}
}

// refuseOldLayout fails for a log in the layout of one key per txn, which
// must not be read as empty.
func (l *Log) refuseOldLayout() error {
	it, err := l.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixOldTxn}, UpperBound: []byte{prefixOldTxn + 1}})
	if err != nil {
		return err
	}
	defer it.Close()
	if it.First() {
		return fmt.Errorf("storage: transaction log %s holds txns in an older layout (one key per txn) that this version does not read", l.dir)
	}
	return l.iterError(it, 0)
}

// moveOldMeta moves meta keys stored under prefixOldMeta to prefixMeta,
// in one synced batch. Their values carry over as they are: a value's
// checksum covers the key's name, not its prefix.
func (l *Log) moveOldMeta() error {
	it, err := l.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixOldMeta}, UpperBound: []byte{prefixOldMeta + 1}})
	if err != nil {
		return err
	}
	defer it.Close()
	b := l.db.NewBatch()
	defer b.Close()
	for it.First(); it.Valid(); it.Next() {
		b.Set(metaKey(string(it.Key()[1:])), it.Value(), nil)
	}
	if err := l.iterError(it, 0); err != nil || b.Empty() {
		return err
	}
	b.DeleteRange([]byte{prefixOldMeta}, []byte{prefixOldMeta + 1}, nil)
	return b.Commit(pebble.Sync)
}

// loadBounds reads the first and last zxid from the database.
func (l *Log) loadBounds() error {
	it, err := l.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixGroup}, UpperBound: []byte{prefixGroup + 1}})
	if err != nil {
		return err
	}
	defer it.Close()
	l.first, l.last = 0, 0
	if it.First() {
		err := l.eachInGroup(it, 0, func(zxid int64, _ []byte) error {
			l.first = zxid
			return errStop
		})
		if err != nil && err != errStop {
			return err
		}
		it.Last()
		if l.last, err = l.keyZxid(it.Key(), l.first); err != nil {
			return err
		}
	}
	return l.iterError(it, l.first)
}

// errStop ends an iteration early.
var errStop = errors.New("stop")

// Append writes entries, which must have strictly increasing zxids greater
// than LastZxid, in one batch. With ForceSync it returns once they are
// durable. Appends in flight at the same time share fsyncs (group commit);
// since zxid order is checked when entries are queued, goroutines appending
// concurrently order their calls with AppendAsync under their own lock.
func (l *Log) Append(entries []zab.Entry) error {
	p, err := l.AppendAsync(entries)
	if err != nil {
		return err
	}
	return p.Wait()
}

// Pending is an append in flight (see AppendAsync). Exactly one of Wait
// and Synced must be called.
type Pending struct {
	l    *Log
	b    *pebble.Batch // nil: nothing to wait for
	last int64         // the last zxid appended
	gen  uint64        // the high-water mark's truncation generation then
}

// Wait blocks until the entries are durable: synced, and covered by the
// high-water mark.
func (p Pending) Wait() error {
	if err := p.Synced(); err != nil {
		return err
	}
	return p.l.MarkDurable(p)
}

// Synced blocks until the entries are synced to the write-ahead log, and
// no longer: they count as acknowledged only once MarkDurable has run for
// them or a later Pending. A caller with many appends in flight waits for
// each with Synced, then calls MarkDurable once for the last, so that they
// share one write of the high-water mark as they share the syncs.
func (p Pending) Synced() error {
	if p.b == nil {
		return nil
	}
	return p.l.syncWait(p.b)
}

// MarkDurable moves the high-water mark up to p's entries, which Synced
// has reported synced (and every entry appended before them). A log
// truncated since p was appended keeps its mark: p's entries may be gone.
// A failure to write the mark fails the log.
func (l *Log) MarkDurable(p Pending) error {
	if p.b == nil {
		return nil
	}
	err := l.hw.advance(p.last, p.gen)
	if err != nil {
		l.mu.Lock()
		err = l.fail(err)
		l.mu.Unlock()
	}
	return err
}

// AppendAsync is Append split in two: it writes the entries to the log
// (checking their order against earlier calls) and returns at once; the
// returned Pending's Wait blocks until they are durable. A caller that
// orders entries under its own lock uses it to release the lock before
// waiting, so that many appends share one fsync. Entries appended before
// it become durable no later than these.
func (l *Log) AppendAsync(entries []zab.Entry) (Pending, error) {
	if len(entries) == 0 {
		return Pending{l: l}, nil
	}
	for i, e := range entries {
		if i > 0 && e.Zxid <= entries[i-1].Zxid {
			return Pending{}, fmt.Errorf("%w: entry 0x%x follows 0x%x", ErrOutOfOrder, e.Zxid, entries[i-1].Zxid)
		}
	}
	b := l.db.NewBatchWithSize(groupKeyLen + crcLen + groupSize(entries) + 16)
	setGroup(b, entries)

	l.mu.Lock()
	if err := l.writable(); err != nil {
		l.mu.Unlock()
		b.Close()
		return Pending{}, err
	}
	if first := entries[0].Zxid; first <= l.last || first <= 0 {
		l.mu.Unlock()
		b.Close()
		return Pending{}, fmt.Errorf("%w: entry 0x%x does not follow last zxid 0x%x", ErrOutOfOrder, first, l.last)
	}
	if err := l.apply(b, l.opts.ForceSync); err != nil {
		err = l.fail(err)
		l.mu.Unlock()
		return Pending{}, err
	}
	if l.first == 0 {
		l.first = entries[0].Zxid
	}
	l.last = entries[len(entries)-1].Zxid
	p := Pending{l: l, b: b, last: l.last, gen: l.hw.generation()}
	l.mu.Unlock()

	if !l.opts.ForceSync {
		// Without syncs nothing is durable, and the high-water mark
		// stays where it is.
		b.Close()
		return Pending{l: l}, nil
	}
	return p, nil
}

// writable returns why the log cannot be written, if it cannot. l.mu is held.
func (l *Log) writable() error {
	if l.closed {
		return ErrClosed
	}
	if err := l.bgErr.Load(); err != nil && l.err == nil {
		l.err = *err
	}
	return l.err
}

// fail marks the log failed (keeping the first error) and returns the error
// that every later write gets. l.mu is held.
func (l *Log) fail(err error) error {
	if l.err == nil {
		l.err = fmt.Errorf("storage: transaction log %s failed, refusing further writes: %w", l.dir, err)
		l.logger.Error("transaction log write failed; no further writes will be acknowledged", zap.Error(err))
	}
	return l.err
}

// apply hands b to pebble's commit pipeline. l.mu is held. With sync the
// caller must then call syncWait(b), otherwise the caller closes b.
//
// Pebble does not return every write error: a failed WAL write surfaces as a
// panic in a later commit (directly, or through Logger.Fatalf, where
// pebbleLogger panics), leaving its commit pipeline locked. apply turns such a
// panic into an error and marks the database wedged, so that the log fails
// and Close does not wait on that lock.
func (l *Log) apply(b *pebble.Batch, sync bool) (err error) {
	defer func() {
		if r := recover(); r != nil {
			l.wedged = true
			if e, ok := r.(error); ok {
				err = e
			} else {
				err = fmt.Errorf("pebble: %v", r)
			}
		}
	}()
	if sync {
		return l.db.ApplyNoSyncWait(b, pebble.Sync)
	}
	return l.db.Apply(b, pebble.NoSync)
}

// syncWait waits for a batch applied with sync and closes it.
func (l *Log) syncWait(b *pebble.Batch) error {
	err := b.SyncWait()
	b.Close()
	if err != nil {
		l.mu.Lock()
		err = l.fail(err)
		l.mu.Unlock()
	}
	return err
}

// commit applies b with a sync and waits for it. l.mu is held.
func (l *Log) commit(b *pebble.Batch) error {
	if err := l.apply(b, true); err != nil {
		return l.fail(err)
	}
	err := b.SyncWait()
	b.Close()
	if err != nil {
		return l.fail(err)
	}
	return nil
}

// LastZxid returns the zxid of the last appended entry (its Append may still
// be waiting for the sync), or 0 if the log is empty.
func (l *Log) LastZxid() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

// FirstZxid returns the zxid of the first entry, or 0 if the log is empty.
func (l *Log) FirstZxid() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.first
}

// Iterate calls fn for every entry with zxid >= from, in zxid order, and stops
// at the first error fn returns, returning it. data is valid only during the
// call. A checksum mismatch or undecodable entry stops the iteration with a
// *CorruptionError. Entries whose Append is still waiting for its sync may be
// included.
func (l *Log) Iterate(from int64, fn func(zxid int64, data []byte) error) error {
	l.mu.Lock()
	closed := l.closed
	l.mu.Unlock()
	if closed {
		return ErrClosed
	}
	var lower [groupKeyLen]byte
	putGroupKey(lower[:], max(from, 0))
	it, err := l.db.NewIter(&pebble.IterOptions{LowerBound: lower[:], UpperBound: []byte{prefixGroup + 1}})
	if err != nil {
		return err
	}
	defer it.Close()
	prev := int64(0) // the first group may hold txns before from
	for ok := it.First(); ok; ok = it.Next() {
		err := l.eachInGroup(it, prev, func(zxid int64, data []byte) error {
			prev = zxid
			if zxid < from {
				return nil
			}
			return fn(zxid, data)
		})
		if err != nil {
			return err
		}
	}
	return l.iterError(it, prev)
}

// eachInGroup checks the group it is at and calls fn for each of its txns,
// stopping at fn's first error; prev, the zxid before the group, names the
// position in errors.
func (l *Log) eachInGroup(it *pebble.Iterator, prev int64, fn func(zxid int64, data []byte) error) error {
	key, err := l.keyZxid(it.Key(), prev)
	if err != nil {
		return err
	}
	v, err := it.ValueAndErr()
	if err != nil {
		return l.corruption(key, err)
	}
	bad := func(format string, args ...any) error {
		return &CorruptionError{Path: l.dir, Zxid: key,
			Reason: fmt.Sprintf("txns after 0x%x up to 0x%x: ", prev, key) + fmt.Sprintf(format, args...)}
	}
	if len(v) < crcLen {
		return bad("value of %d bytes is shorter than its checksum", len(v))
	}
	payload := v[crcLen:]
	if want, got := binary.BigEndian.Uint32(v), groupChecksum(it.Key()[1:], payload); want != got {
		return bad("checksum mismatch (stored %08x, computed %08x)", want, got)
	}
	last := prev
	for len(payload) > 0 {
		if len(payload) < entryHdrLen {
			return bad("truncated txn header")
		}
		zxid, n := int64(binary.BigEndian.Uint64(payload)), int(binary.BigEndian.Uint32(payload[8:]))
		if n > len(payload)-entryHdrLen {
			return bad("txn 0x%x of %d bytes overruns its group", zxid, n)
		}
		if zxid <= last || zxid > key {
			return bad("txn 0x%x out of order", zxid)
		}
		if err := fn(zxid, payload[entryHdrLen:entryHdrLen+n]); err != nil {
			return err
		}
		last, payload = zxid, payload[entryHdrLen+n:]
	}
	if last != key {
		return bad("the last txn is 0x%x, not the key's", last)
	}
	return nil
}

// groupAt returns (a copy of) the txns of the first group whose last zxid
// is at least zxid, if there is one.
func (l *Log) groupAt(zxid int64) ([]zab.Entry, error) {
	var lower [groupKeyLen]byte
	putGroupKey(lower[:], max(zxid, 0))
	it, err := l.db.NewIter(&pebble.IterOptions{LowerBound: lower[:], UpperBound: []byte{prefixGroup + 1}})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	if !it.First() {
		return nil, l.iterError(it, zxid)
	}
	var group []zab.Entry
	err = l.eachInGroup(it, 0, func(z int64, data []byte) error {
		group = append(group, zab.Entry{Zxid: z, Data: bytes.Clone(data)})
		return nil
	})
	return group, err
}

// TruncateAfter durably drops every entry with zxid > zxid.
func (l *Log) TruncateAfter(zxid int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.writable(); err != nil {
		return err
	}
	if zxid >= l.last {
		return nil
	}
	// The mark goes down first: a crash between the two leaves it below
	// the log's end, which is no loss. Setting it also makes the waits of
	// appends made before stale (MarkDurable): their entries may be gone.
	if err := l.hw.set(min(l.hw.mark(), max(zxid, 0))); err != nil {
		return l.fail(err)
	}
	// The group holding zxid+1 may hold txns up to zxid too: they are
	// kept, as a group of their own.
	group, err := l.groupAt(zxid + 1)
	if err != nil {
		return err
	}
	b := l.db.NewBatch()
	if kept := entriesUpTo(group, zxid); len(kept) > 0 {
		setGroup(b, kept)
	}
	var start [groupKeyLen]byte
	putGroupKey(start[:], max(zxid+1, 0))
	b.DeleteRange(start[:], []byte{prefixGroup + 1}, nil)
	if err := l.commit(b); err != nil {
		return err
	}
	if zxid < l.first {
		l.first, l.last = 0, 0
		return nil
	}
	return l.loadBounds()
}

// PurgeBefore drops every entry with zxid < zxid (once a snapshot covers
// them). It is not synced: after a crash purged entries may reappear, which
// is harmless.
func (l *Log) PurgeBefore(zxid int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.writable(); err != nil {
		return err
	}
	if l.first == 0 || zxid <= l.first {
		return nil
	}
	// The group holding zxid may hold older txns too: it is rewritten
	// without them.
	group, err := l.groupAt(zxid)
	if err != nil {
		return err
	}
	// The purge goes into a memtable of its own (flushed to a table of its
	// own): in one with new groups, its range deletion would make that
	// table span every group the log holds, and pebble would rewrite them
	// all instead of moving the new table down. On its own, the table
	// covers only purged groups, which the next compaction drops.
	if _, err := l.db.AsyncFlush(); err != nil {
		return l.fail(err)
	}
	b := l.db.NewBatch()
	if older := entriesUpTo(group, zxid-1); len(older) > 0 && len(older) < len(group) {
		setGroup(b, group[len(older):])
	}
	var end [groupKeyLen]byte
	putGroupKey(end[:], zxid)
	b.DeleteRange([]byte{prefixGroup}, end[:], nil)
	// Purged entries still count as held when the log's end is checked
	// against the high-water mark: a snapshot holds them.
	purged := max(l.purged, zxid-1)
	b.Set(metaKey(metaPurged), metaValue(metaPurged, purged), nil)
	err = l.apply(b, false)
	b.Close()
	if err == nil {
		_, err = l.db.AsyncFlush()
	}
	if err != nil {
		return l.fail(err)
	}
	l.purged = purged
	if zxid > l.last {
		l.first, l.last = 0, 0
		return nil
	}
	return l.loadBounds()
}

// Meta returns the value stored under key by SetMeta, and whether there is one.
func (l *Log) Meta(key string) (int64, bool, error) {
	l.mu.Lock()
	closed := l.closed
	l.mu.Unlock()
	if closed {
		return 0, false, ErrClosed
	}
	val, closer, err := l.db.Get(metaKey(key))
	if errors.Is(err, pebble.ErrNotFound) {
		// A log opened read-only keeps its meta keys where an older
		// layout put them (see moveOldMeta).
		val, closer, err = l.db.Get(append([]byte{prefixOldMeta}, key...))
	}
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, l.corruption(0, err)
	}
	defer closer.Close()
	if len(val) != 8+crcLen || binary.BigEndian.Uint32(val[8:]) != metaChecksum(key, val[:8]) {
		return 0, false, &CorruptionError{Path: l.dir, Reason: fmt.Sprintf("bad value for meta key %q", key)}
	}
	return int64(binary.BigEndian.Uint64(val)), true, nil
}

// Close closes the log. No call may be in progress or follow, except that
// methods called after Close return ErrClosed. If pebble panicked in a commit
// its database cannot be closed: Close returns the log's failure and leaves
// the files open until the process exits.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	l.closed = true
	l.hw.close()
	if l.wedged {
		return l.err
	}
	if err := l.db.Close(); err != nil {
		return fmt.Errorf("storage: closing transaction log %s: %w", l.dir, err)
	}
	return nil
}

// keyZxid decodes a transaction key; prev names the position in errors.
func (l *Log) keyZxid(k []byte, prev int64) (int64, error) {
	if len(k) != groupKeyLen || k[0] != prefixGroup {
		return 0, &CorruptionError{Path: l.dir, Zxid: prev, Reason: fmt.Sprintf("undecodable key %x", k)}
	}
	return int64(binary.BigEndian.Uint64(k[1:])), nil
}

// iterError converts an iterator's error, if any.
func (l *Log) iterError(it *pebble.Iterator, zxid int64) error {
	if err := it.Error(); err != nil {
		return l.corruption(zxid, err)
	}
	return nil
}

// corruption wraps a pebble read error, as a CorruptionError if pebble found
// corruption.
func (l *Log) corruption(zxid int64, err error) error {
	if errors.Is(err, pebble.ErrCorruption) {
		return &CorruptionError{Path: l.dir, Zxid: zxid, Reason: err.Error()}
	}
	return fmt.Errorf("storage: reading transaction log %s: %w", l.dir, err)
}

func putGroupKey(k []byte, zxid int64) {
	k[0] = prefixGroup
	binary.BigEndian.PutUint64(k[1:], uint64(zxid))
}

func groupChecksum(zxid, payload []byte) uint32 {
	return crc32.Update(crc32.Checksum(zxid, castagnoli), castagnoli, payload)
}

// groupSize is the size of a group's txns, without its checksum.
func groupSize(entries []zab.Entry) int {
	n := 0
	for _, e := range entries {
		n += entryHdrLen + len(e.Data)
	}
	return n
}

// setGroup adds entries to b as one group.
func setGroup(b *pebble.Batch, entries []zab.Entry) {
	op := b.SetDeferred(groupKeyLen, crcLen+groupSize(entries))
	putGroupKey(op.Key, entries[len(entries)-1].Zxid)
	p := op.Value[crcLen:crcLen]
	for _, e := range entries {
		p = binary.BigEndian.AppendUint64(p, uint64(e.Zxid))
		p = binary.BigEndian.AppendUint32(p, uint32(len(e.Data)))
		p = append(p, e.Data...)
	}
	binary.BigEndian.PutUint32(op.Value, groupChecksum(op.Key[1:], p))
	op.Finish()
}

// entriesUpTo returns the leading entries with zxid <= zxid.
func entriesUpTo(entries []zab.Entry, zxid int64) []zab.Entry {
	n := 0
	for n < len(entries) && entries[n].Zxid <= zxid {
		n++
	}
	return entries[:n]
}

func metaKey(key string) []byte {
	return append([]byte{prefixMeta}, key...)
}

func metaValue(key string, v int64) []byte {
	val := binary.BigEndian.AppendUint64(make([]byte, 0, 8+crcLen), uint64(v))
	return binary.BigEndian.AppendUint32(val, metaChecksum(key, val))
}

func metaChecksum(key string, val []byte) uint32 {
	return crc32.Update(crc32.Checksum([]byte(key), castagnoli), castagnoli, val)
}

func zxidHex(zxid int64) string { return fmt.Sprintf("0x%x", zxid) }

// Dir returns the directory the log lives in.
func (l *Log) Dir() string { return l.dir }
