package storage

import (
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
// highWater.

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

// checkHighWater compares the opened log with its high-water mark: lost
// describes entries reported durable that the log no longer holds (or a
// mark that cannot be read); err is a failure to look.
func (l *Log) checkHighWater(hwErr error, mark int64, walFile string, walOffset int64, walBad bool) (lost, err error) {
	hwPath := filepath.Join(l.dir, HighWaterFile)
	if hwErr != nil && !errors.Is(hwErr, errNoHighWater) {
		return hwErr, nil // damaged: nothing tells what was made durable
	}
	had, _, err := l.Meta(metaHighWater)
	if err != nil {
		return nil, err
	}
	if hwErr != nil {
		if had == 1 {
			return &CorruptionError{Path: hwPath, Zxid: l.last,
				Reason: "the high-water file is missing: nothing tells which entries were made durable"}, nil
		}
		return nil, nil // a log from before high-water marks, or a new one
	}
	if max(l.last, l.purged) < mark {
		if !walBad {
			walFile, walOffset = "", 0
		}
		return l.lossError(walFile, walOffset, max(l.last, l.purged), mark), nil
	}
	return nil, nil
}

// lossError describes a log that ends at last, short of its mark.
func (l *Log) lossError(walFile string, walOffset, last, mark int64) *CorruptionError {
	e := &CorruptionError{Path: l.dir, Zxid: last,
		Reason: fmt.Sprintf("the log ends at zxid 0x%x (the last good one) but had made entries up to 0x%x durable: they are damaged or missing", last, mark)}
	if walFile != "" {
		e.Path, e.Offset = walFile, walOffset
		e.Reason += "; reading stopped at a damaged record"
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
// leader has synced it): the high-water mark moves to the log's end.
func (l *Log) Repaired() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.writable(); err != nil {
		return err
	}
	if err := l.hw.set(max(l.last, l.purged)); err != nil {
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

// HighWater returns the high-water mark: every entry up to it was reported
// durable (and is held by the log or, once purged, by a snapshot).
func (l *Log) HighWater() int64 { return l.hw.mark() }

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
