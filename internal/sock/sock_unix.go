//go:build unix

// Package sock reads and writes TCP sockets with raw system calls: writes
// that never block, so that the goroutine that produced some output can
// write it itself and leave only what the socket does not take at once to a
// writer goroutine, and reads that do not wake the runtime's sysmon.
package sock

import (
	"io"
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

// NewReader returns a reader of nc. A plain TCP socket is read with raw
// system calls: Go's syscall.Read tells the scheduler it may block, and
// that wakes the runtime's sysmon thread, which then polls every 20 µs for
// at least a millisecond; a server that goes idle and busy again thousands
// of times a second spent 13–17% of its CPU there. A read of a
// non-blocking socket never blocks, and Go's poller still waits for
// data (and deadlines) as for any connection. Any other connection (TLS)
// is returned as it is.
func NewReader(nc net.Conn) io.Reader {
	rc := Raw(nc)
	if rc == nil {
		return nc
	}
	return rawReader{rc}
}

type rawReader struct{ rc syscall.RawConn }

func (r rawReader) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	var (
		n    int
		rerr error
	)
	err := r.rc.Read(func(fd uintptr) bool {
		for {
			m, _, errno := syscall.RawSyscall(syscall.SYS_READ, fd,
				uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
			switch errno {
			case 0:
				n = int(m)
				if n == 0 {
					rerr = io.EOF
				}
				return true
			case syscall.EINTR:
				continue
			case syscall.EAGAIN:
				return false // the poller waits for data
			default:
				rerr = errno
				return true
			}
		}
	})
	if err != nil {
		return n, err
	}
	return n, rerr
}
