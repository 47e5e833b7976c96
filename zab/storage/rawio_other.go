//go:build !linux

package storage

import (
	"errors"
	"os"
)

// Elsewhere than Linux the write-ahead log is written and synced through
// Go's file calls (see rawio_linux.go).
const rawIO = false

var errNoRawIO = errors.New("storage: raw file calls are not supported here")

func rawWrite(uintptr, []byte) (int, error) { return 0, errNoRawIO }

func rawSyncData(uintptr) error { return errNoRawIO }

func rawPwrite(uintptr, []byte, int64) error { return errNoRawIO }

// syncData syncs f (fdatasync where there is one: rawio_linux.go).
func syncData(f *os.File) error { return f.Sync() }
