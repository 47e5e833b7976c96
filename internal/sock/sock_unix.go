//go:build unix

// Package sock writes to TCP sockets without blocking, so that the
// goroutine that produced some output can write it itself and leave only
// what the socket does not take at once to a writer goroutine.
package sock

import (
	"net"
	"syscall"
	"unsafe"
)

// Raw returns the socket of a plain TCP connection, for WriteNonblocking;
// nil for any other connection (TLS), whose writes must go through it.
func Raw(nc net.Conn) syscall.RawConn {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// WriteNonblocking writes as much of b as the socket takes without
// waiting (Go's sockets are non-blocking) and returns how much that was;
// the caller's writer goroutine writes the rest.
func WriteNonblocking(rc syscall.RawConn, b []byte) (int, error) {
	var (
		n    int
		werr error
	)
	err := rc.Write(func(fd uintptr) bool {
		for n < len(b) {
			// A raw system call: it never blocks, so the scheduler need
			// not be told (nor sysmon woken) as syscall.Write would.
			r, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, fd,
				uintptr(unsafe.Pointer(&b[n])), uintptr(len(b)-n))
			if errno == syscall.EINTR {
				continue
			}
			if errno != 0 {
				if errno != syscall.EAGAIN {
					werr = errno
				}
				break
			}
			if r == 0 {
				break
			}
			n += int(r)
		}
		return true // never wait for the socket: the writer goroutine does
	})
	if err == nil {
		err = werr
	}
	return n, err
}
