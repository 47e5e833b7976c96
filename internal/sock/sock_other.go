//go:build !unix

// Package sock writes to TCP sockets without blocking, so that the
// goroutine that produced some output can write it itself and leave only
// what the socket does not take at once to a writer goroutine.
package sock

import (
	"io"
	"net"
	"syscall"
)

// Raw returns nil: every write goes through the writer goroutine.
func Raw(net.Conn) syscall.RawConn { return nil }

// WriteNonblocking is never called without a raw connection.
func WriteNonblocking(syscall.RawConn, []byte) (int, error) { return 0, nil }

// NewReader returns nc: there are no raw reads here.
func NewReader(nc net.Conn) io.Reader { return nc }
