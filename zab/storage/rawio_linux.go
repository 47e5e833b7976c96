package storage

import (
	"os"
	"syscall"
	"unsafe"
)

// Go's syscall.Write and Fdatasync tell the scheduler that the goroutine
// may block, and that wakes the runtime's sysmon thread, which then polls
// every 20 µs for at least a millisecond (and hands the goroutine's P to
// another thread once the call outlasts a poll). The transaction log
// writes and syncs once per batch, thousands of times a second whenever
// the server goes from idle to busy, and the polling alone cost 13–17% of
// each server's CPU under writes. So the write-ahead log is
// written and synced with raw system calls: a write to the page cache is
// short, and an fdatasync keeps its P while the disk works. That P is one
// of several (rawIO is off with GOMAXPROCS=1, where it would stop the whole
// server for every sync). The price is that a garbage collector's
// stop-the-world pause waits for a sync in flight. Syncing through Linux
// AIO (the fdatasync in a kernel worker, its completion on an eventfd
// watched by Go's poller) avoided that, but cost 12% more CPU per write
// on this 2-core VM, more than the pause is worth.
const rawIO = true

// rawWrite writes all of b to the file fd with raw write system calls.
func rawWrite(fd uintptr, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		r, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, fd,
			uintptr(unsafe.Pointer(&b[n])), uintptr(len(b)-n))
		switch errno {
		case 0:
			n += int(r)
		case syscall.EINTR:
		default:
			return n, errno
		}
	}
	return n, nil
}

// rawSyncData fdatasyncs the file fd with a raw system call.
func rawSyncData(fd uintptr) error {
	for {
		_, _, errno := syscall.RawSyscall(syscall.SYS_FDATASYNC, fd, 0, 0)
		if errno != syscall.EINTR {
			if errno != 0 {
				return errno
			}
			return nil
		}
	}
}

// rawPwrite writes all of b at offset off of the file fd with raw pwrite
// system calls.
func rawPwrite(fd uintptr, b []byte, off int64) error {
	for n := 0; n < len(b); {
		r, _, errno := syscall.RawSyscall6(syscall.SYS_PWRITE64, fd,
			uintptr(unsafe.Pointer(&b[n])), uintptr(len(b)-n), uintptr(off+int64(n)), 0, 0)
		switch errno {
		case 0:
			n += int(r)
		case syscall.EINTR:
		default:
			return errno
		}
	}
	return nil
}

// syncData fdatasyncs f through Go's system call wrapper: the data and
// only the metadata needed to read it back (an overwrite in place needs
// none, where fsync would also commit the new modification time).
func syncData(f *os.File) error {
	for {
		if err := syscall.Fdatasync(int(f.Fd())); err != syscall.EINTR {
			return err
		}
	}
}
