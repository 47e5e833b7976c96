//go:build unix

package server

import (
	"net"
	"syscall"
)

// rawConn returns the socket of a plain TCP connection, for
// writeNonblocking; nil for any other connection (TLS).
func rawConn(nc net.Conn) syscall.RawConn {
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

// writeNonblocking writes as much of b as the socket takes without
// waiting (Go's sockets are non-blocking) and returns how much that was.
func writeNonblocking(rc syscall.RawConn, b []byte) (int, error) {
	var (
		n    int
		werr error
	)
	err := rc.Write(func(fd uintptr) bool {
		for n < len(b) {
			m, err := syscall.Write(int(fd), b[n:])
			if err == syscall.EINTR {
				continue
			}
			if err != nil {
				if err != syscall.EAGAIN {
					werr = err
				}
				break
			}
			if m <= 0 {
				break
			}
			n += m
		}
		return true // never wait for the socket: the writer goroutine does
	})
	if err == nil {
		err = werr
	}
	return n, err
}
