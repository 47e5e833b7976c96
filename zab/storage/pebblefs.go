package storage

import (
	"fmt"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/vfs"
	"go.uber.org/zap"
)

// What the log puts between pebble and the disk: the timing of the
// write-ahead log's syncs (fsync.warningthresholdms, the fsynctime metric,
// the SyncDelay fault hook), raw writes and syncs, and pebble's logger.

// slowSync reports each WAL sync's duration to OnSync and logs one that
// took longer than FsyncWarning.
func (l *Log) slowSync(path string, d time.Duration) {
	if l.opts.OnSync != nil {
		l.opts.OnSync(d)
	}
	if d >= l.opts.FsyncWarning {
		l.logger.Warn("fsync-ing the transaction log took longer than fsync.warningthresholdms; this adds to write latency",
			zap.String("file", path), zap.Duration("took", d), zap.Duration("threshold", l.opts.FsyncWarning))
	}
}

// syncTimingFS times the syncs of pebble's write-ahead log files (*.log),
// and writes and syncs them with raw system calls where it can (see
// rawio_linux.go).
type syncTimingFS struct {
	vfs.FS
	warn  func(path string, d time.Duration)
	delay func() time.Duration // Options.SyncDelay
	raw   bool                 // write and sync with raw system calls
}

func (fs *syncTimingFS) Create(name string) (vfs.File, error) {
	return fs.wrap(name)(fs.FS.Create(name))
}

func (fs *syncTimingFS) ReuseForWrite(oldname, newname string) (vfs.File, error) {
	return fs.wrap(newname)(fs.FS.ReuseForWrite(oldname, newname))
}

func (fs *syncTimingFS) wrap(name string) func(vfs.File, error) (vfs.File, error) {
	return func(f vfs.File, err error) (vfs.File, error) {
		if err != nil || !strings.HasSuffix(name, ".log") {
			return f, err
		}
		sf := &syncTimingFile{File: f, path: name, warn: fs.warn, delay: fs.delay}
		if fs.raw && f.Fd() != vfs.InvalidFd {
			sf.raw, sf.fd = true, f.Fd()
		}
		return sf, nil
	}
}

type syncTimingFile struct {
	vfs.File
	path  string
	warn  func(path string, d time.Duration)
	delay func() time.Duration // Options.SyncDelay
	raw   bool                 // write and sync fd with raw system calls (rawio_linux.go)
	fd    uintptr
}

func (f *syncTimingFile) Write(b []byte) (int, error) {
	if !f.raw {
		return f.File.Write(b)
	}
	return rawWrite(f.fd, b)
}

func (f *syncTimingFile) Sync() error {
	defer f.time(time.Now())
	f.injectSyncDelay()
	return f.File.Sync()
}

func (f *syncTimingFile) SyncData() error {
	defer f.time(time.Now())
	f.injectSyncDelay()
	if !f.raw {
		return f.File.SyncData()
	}
	return rawSyncData(f.fd)
}

func (f *syncTimingFile) SyncTo(length int64) (bool, error) {
	defer f.time(time.Now())
	f.injectSyncDelay()
	return f.File.SyncTo(length)
}

// injectSyncDelay waits as Options.SyncDelay asks.
func (f *syncTimingFile) injectSyncDelay() {
	if f.delay == nil {
		return
	}
	if d := f.delay(); d > 0 {
		time.Sleep(d)
	}
}

func (f *syncTimingFile) time(start time.Time) { f.warn(f.path, time.Since(start)) }

// pebbleFatal is the panic value pebbleLogger.Fatalf raises.
type pebbleFatal string

func (f pebbleFatal) Error() string { return string(f) }

// pebbleLogger routes pebble's messages to zap. Pebble calls Fatalf when it
// cannot go on and expects it not to return: it panics with a pebbleFatal,
// which apply recovers when the call came from a commit. A Fatalf on one of
// pebble's background goroutines crashes the process, as pebble intends.
type pebbleLogger struct{ z *zap.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	p.z.Info("pebble: " + fmt.Sprintf(format, args...))
}

func (p pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.z.Error("pebble fatal error", zap.String("error", msg))
	panic(pebbleFatal(msg))
}
