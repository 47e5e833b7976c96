package storage

import (
	"os"
	"syscall"
	"unsafe"
)

// Snapshots are written with O_DIRECT where the file system allows it: the
// data goes from the writer's buffer to the disk without being copied into
// the page cache. A snapshot is written once and read back only at a
// restart, and on this 2-core VM copying a 50 MB snapshot into the page
// cache (fresh pages, every few seconds under writes) was the biggest
// single item of a busy server's CPU.

// directAlign is the alignment O_DIRECT asks of buffers, sizes and offsets
// (the logical block size; 4096 covers every common device).
const directAlign = 4096

// setDirect turns O_DIRECT on or off for f.
func setDirect(f *os.File, on bool) error {
	fd := f.Fd()
	flags, _, errno := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_GETFL, 0)
	if errno != 0 {
		return errno
	}
	if on {
		flags |= syscall.O_DIRECT
	} else {
		flags &^= syscall.O_DIRECT
	}
	if _, _, errno := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_SETFL, flags); errno != 0 {
		return errno
	}
	return nil
}

// alignedBuffer returns a buffer of n bytes (a multiple of directAlign)
// starting at an address aligned to directAlign.
func alignedBuffer(n int) []byte {
	b := make([]byte, n+directAlign)
	off := int(-uintptr(unsafe.Pointer(&b[0])) & (directAlign - 1))
	return b[off : off+n : off+n]
}
