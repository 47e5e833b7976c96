//go:build !linux

package storage

import (
	"errors"
	"os"
)

// Elsewhere than Linux snapshots are written through the page cache.

const directAlign = 4096

func setDirect(*os.File, bool) error { return errors.New("storage: O_DIRECT is not supported here") }

func alignedBuffer(n int) []byte { return make([]byte, n) }
