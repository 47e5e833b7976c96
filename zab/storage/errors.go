package storage

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// ErrClosed is returned by every method of a Log after Close.
var ErrClosed = errors.New("storage: transaction log is closed")

// ErrOutOfOrder is returned (wrapped) by Append when the entries are not in
// strictly increasing zxid order or do not follow LastZxid. It is a caller
// error: the log is not failed by it.
var ErrOutOfOrder = errors.New("storage: zxid out of order")

// CorruptionError reports stored data that failed its checksum or could not be
// decoded. The server must stop rather than skip it.
type CorruptionError struct {
	// Path is the transaction log directory or the snapshot file.
	Path string
	// Zxid is the zxid of the bad log entry, or of the snapshot (from its
	// name); for a log that lost entries, the last good zxid.
	Zxid int64
	// Offset is where in the file at Path reading stopped, when Path is a
	// write-ahead file (*.log) of the log or Offset is nonzero.
	Offset int64
	// Reason says what is wrong.
	Reason string
}

// Error returns "corrupt transaction log <path> at zxid 0x<zxid>: <reason>",
// or "corrupt snapshot <path> at zxid 0x<zxid>: <reason>" for a snapshot
// file; with an offset, "... <path> at offset <n>, zxid 0x<zxid>: ...".
func (e *CorruptionError) Error() string {
	what := "transaction log"
	if strings.HasPrefix(filepath.Base(e.Path), snapshotPrefix) {
		what = "snapshot"
	}
	if e.Offset != 0 || strings.HasSuffix(e.Path, ".log") {
		return fmt.Sprintf("corrupt %s %s at offset %d, zxid 0x%x: %s", what, e.Path, e.Offset, e.Zxid, e.Reason)
	}
	return fmt.Sprintf("corrupt %s %s at zxid 0x%x: %s", what, e.Path, e.Zxid, e.Reason)
}
