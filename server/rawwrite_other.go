//go:build !unix

package server

import (
	"net"
	"syscall"
)

// rawConn returns nil: every write goes through the writer goroutine.
func rawConn(net.Conn) syscall.RawConn { return nil }

// writeNonblocking is never called without a raw connection.
func writeNonblocking(syscall.RawConn, []byte) (int, error) { return 0, nil }
