package storage

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"go.uber.org/zap"
)

// What the log does when it finds itself damaged: see OpenLog and
// mirror.go.

// dataDamage reports whether pebble's failure to open a log is about its
// files' contents (damaged, cut or missing files) rather than the disk or
// the process (a lock held, no permission, no space, an I/O error).
func dataDamage(err error) bool {
	for _, e := range []error{fs.ErrPermission, syscall.EAGAIN, syscall.ENOSPC, syscall.EIO, syscall.EROFS} {
		if errors.Is(err, e) {
			return false
		}
	}
	return true
}

// openAside handles a log that pebble cannot open at all, for a caller
// that repairs it from elsewhere (Options.AcceptLoss): the directory is
// kept for inspection under a new name and an empty log is opened in its
// place, reporting the loss through Lost.
func openAside(dir string, opts Options, cause error) (*Log, error) {
	aside := fmt.Sprintf("%s.damaged-%d", dir, time.Now().UnixNano())
	if err := os.Rename(dir, aside); err != nil {
		return nil, fmt.Errorf("storage: moving the unreadable transaction log aside: %w (it could not be opened: %v)", err, cause)
	}
	l, err := OpenLog(dir, opts)
	if err != nil {
		return nil, err
	}
	l.lost = &CorruptionError{Path: dir,
		Reason: fmt.Sprintf("it cannot be opened (%v); moved to %s and started empty", cause, aside)}
	l.logger.Error("the transaction log cannot be opened; moved aside, to be repaired", zap.Error(l.lost), zap.String("movedTo", aside))
	return l, nil
}

// reconcile compares the opened log with its mirror and makes good what
// one copy lost from the other: lost describes entries reported durable
// (up to mark) that neither holds, or a mirror or high-water file that
// is missing or unreadable; err is a failure to look or to repair.
func (l *Log) reconcile(ms *mirrorState, mark int64, hwErr error, walFile string, walOffset int64, walBad bool) (lost, err error) {
	if !ms.found {
		return l.checkWithoutMirror(mark, hwErr, walFile, walOffset, walBad)
	}
	if hwErr != nil {
		// The mirror says what was acknowledged as well, if less
		// recently written: no loss unless it says so.
		l.logger.Warn("the transaction log's high-water file is missing or damaged; checking the log against its mirror", zap.Error(hwErr))
	}
	lastBefore := l.last
	repaired, dropped, err := l.rewriteFromMirror(ms)
	if err != nil {
		return nil, err
	}
	if held := max(l.last, l.purged); held < mark {
		return l.lossError(walFile, walOffset, ms, held, mark), nil
	}
	switch {
	case repaired > 0 || dropped > 0:
		fields := []zap.Field{zap.Int("entriesWrittenBack", repaired), zap.Int("entriesDropped", dropped),
			zap.String("lastZxidBefore", zxidHex(lastBefore)), zap.String("lastZxid", zxidHex(l.last))}
		if walBad {
			fields = append(fields, zap.String("file", walFile), zap.Int64("offset", walOffset))
		}
		l.logger.Warn("the transaction log's write-ahead file ended short of its mirror (damaged, cut or removed, or a truncation a crash cut short): made good from the mirror", fields...)
	case walBad:
		l.logger.Warn("dropped a torn tail of the transaction log: a write cut short by a crash, of entries never reported durable",
			zap.String("file", walFile), zap.Int64("offset", walOffset), zap.String("lastZxid", zxidHex(l.last)))
	}
	if ms.damage != nil {
		l.logger.Warn("the transaction log's mirror is damaged; the log's own copy holds every entry it had made durable, and the mirror starts anew",
			zap.Error(ms.damage))
	}
	return nil, nil
}

// rewriteFromMirror makes the log's entries after the mirror's base (and
// after the purged ones) up to the mirror's last one those of the mirror,
// where they differ: entries pebble lost are written back, entries a
// truncation dropped are deleted. Entries pebble holds beyond the
// mirror's last one are kept (the mirror's copy of them was torn or
// damaged), unless the mirror ends with a truncation.
func (l *Log) rewriteFromMirror(ms *mirrorState) (repaired, dropped int, err error) {
	lo := max(ms.base, l.purged)
	hi := ms.lastZxid()
	if ms.truncTo >= 0 {
		hi = max(hi, l.last)
	}
	want := ms.entries
	for len(want) > 0 && want[0].Zxid <= lo {
		want = want[1:]
	}
	if hi <= lo {
		return 0, 0, nil
	}
	// Compare first: almost always the two agree.
	i := 0
	err = l.Iterate(lo+1, func(zxid int64, data []byte) error {
		if zxid > hi {
			return errStop
		}
		for i < len(want) && want[i].Zxid < zxid {
			i++
			repaired++ // missing from pebble
		}
		if i < len(want) && want[i].Zxid == zxid {
			if !bytes.Equal(want[i].Data, data) {
				repaired++
			}
			i++
			return nil
		}
		dropped++ // not in the mirror
		return nil
	})
	var ce *CorruptionError
	switch {
	case errors.As(err, &ce) && ce.Zxid <= hi:
		// A group pebble holds damaged, which the mirror holds whole.
		l.logger.Warn("the transaction log holds a damaged group the mirror holds whole: rewriting it from the mirror", zap.Error(err))
		repaired = max(repaired, 1)
	case err != nil && err != errStop:
		return 0, 0, err
	default:
		repaired += len(want) - i
	}
	if repaired == 0 && dropped == 0 {
		return 0, 0, nil
	}
	b := l.db.NewBatch()
	var start, end [groupKeyLen]byte
	putGroupKey(start[:], lo+1)
	putGroupKey(end[:], hi+1)
	b.DeleteRange(start[:], end[:], nil)
	for len(want) > 0 {
		n, size := 0, 0
		for n < len(want) && (n == 0 || size < 4<<20) {
			size += entryHdrLen + len(want[n].Data)
			n++
		}
		setGroup(b, want[:n])
		want = want[n:]
	}
	l.mu.Lock()
	err = l.commit(b)
	l.mu.Unlock()
	if err == nil {
		err = l.loadBounds()
	}
	return repaired, dropped, err
}

// checkWithoutMirror checks a log that has no mirror against its
// high-water mark, up to which it must reach: a new log, one from before
// the mirror, or one whose mirror was removed.
func (l *Log) checkWithoutMirror(mark int64, hwErr error, walFile string, walOffset int64, walBad bool) (lost, err error) {
	hadMirror, _, err := l.Meta(metaMirror)
	if err != nil {
		return nil, err
	}
	if hadMirror == 1 {
		if hwErr != nil {
			return &CorruptionError{Path: filepath.Join(l.dir, mirrorPrefix+"*"), Zxid: l.last,
				Reason: "the log's mirror and its high-water file are missing or damaged: nothing tells which entries were made durable"}, nil
		}
		l.logger.Warn("the transaction log's mirror is missing; checking the log against its high-water file, which may lag the last acknowledgements before a crash")
	}
	hwPath := filepath.Join(l.dir, HighWaterFile)
	if hwErr != nil && !errors.Is(hwErr, errNoHighWater) {
		return hwErr, nil // damaged: nothing tells what was made durable
	}
	hadMark, _, err := l.Meta(metaHighWater)
	if err != nil {
		return nil, err
	}
	if hwErr != nil {
		if hadMark == 1 {
			return &CorruptionError{Path: hwPath, Zxid: l.last,
				Reason: "the high-water file is missing: nothing tells which entries were made durable"}, nil
		}
		return nil, nil // a new log, or one from before high-water marks
	}
	if held := max(l.last, l.purged); held < mark {
		if !walBad {
			walFile, walOffset = "", 0
		}
		return l.lossError(walFile, walOffset, nil, held, mark), nil
	}
	if walBad {
		l.logger.Warn("dropped a torn tail of the transaction log: a write cut short by a crash, of entries never reported durable",
			zap.String("file", walFile), zap.Int64("offset", walOffset), zap.String("lastZxid", zxidHex(l.last)))
	}
	return nil, nil
}

// lossError describes a log that ends at last, short of the mark: where
// pebble stopped reading a damaged write-ahead file, else where the
// mirror was found damaged or ends.
func (l *Log) lossError(walFile string, walOffset int64, ms *mirrorState, last, mark int64) *CorruptionError {
	e := &CorruptionError{Path: l.dir, Zxid: last,
		Reason: fmt.Sprintf("the log ends at zxid 0x%x (the last good one) but had made entries up to 0x%x durable: they are damaged or missing", last, mark)}
	switch {
	case walFile != "":
		e.Path, e.Offset = walFile, walOffset
		e.Reason += "; reading stopped at a damaged record"
	case ms != nil && ms.damage != nil:
		e.Path, e.Offset = ms.damage.Path, ms.damage.Offset
		e.Reason += "; the mirror is damaged here (" + ms.damage.Reason + ")"
	case ms != nil && ms.end != "":
		e.Path, e.Offset = ms.end, ms.endOff
		e.Reason += "; the mirror's records end here"
	}
	return e
}

// Lost returns the loss found when the log was opened with
// Options.AcceptLoss (a *CorruptionError: entries it had made durable that
// are damaged or missing), until Repaired; nil if there was none.
func (l *Log) Lost() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lost
}

// Repaired records that the log is whole again (an ensemble member's
// leader has synced it): the acknowledged mark moves to the log's end.
func (l *Log) Repaired() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.writable(); err != nil {
		return err
	}
	l.acked.Store(max(l.last, l.purged))
	if err := l.mir.wait(l.mir.add(mirrorMark, l.acked.Load(), nil)); err != nil {
		return l.fail(err)
	}
	l.lost = nil
	return nil
}

// Purged returns the zxid up to which entries may have been purged (behind
// a snapshot); 0 if none were.
func (l *Log) Purged() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.purged
}

// HighWater returns the acknowledged mark: every entry up to it was
// reported durable (and is held by the log or, once purged, by a
// snapshot).
func (l *Log) HighWater() int64 { return l.acked.Load() }

// SetMeta durably stores v under key (such as "acceptedEpoch"), in a key
// space apart from the entries.
func (l *Log) SetMeta(key string, v int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.writable(); err != nil {
		return err
	}
	b := l.db.NewBatch()
	b.Set(metaKey(key), metaValue(key, v), nil)
	return l.commit(b)
}
