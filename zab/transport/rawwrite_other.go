//go:build !unix

package transport

import (
	"net"
	"syscall"
)

// rawConn returns nil: the link's goroutine writes everything.
func rawConn(net.Conn) syscall.RawConn { return nil }

// writeNonblocking is never called without a raw connection.
func writeNonblocking(syscall.RawConn, []byte) (int, error) { return 0, nil }
