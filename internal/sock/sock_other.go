//go:build !unix

// Package sock reads and writes TCP sockets with raw system calls: writes
// that never block, so that the goroutine that produced some output can
// write it itself and leave only what the socket does not take at once to a
// writer goroutine, and reads that do not wake the runtime's sysmon.
package sock

import (
	"io"
	"net"
	"syscall"
)

// Raw returns nil: every write goes through the writer goroutine.
func Raw(net.Conn) syscall.RawConn { return nil }

// Writer is never made: there are no raw writes here.
type Writer struct{}

// NewWriter returns nil: every write goes through the writer goroutine.
func NewWriter(syscall.RawConn) *Writer { return nil }

// WriteNonblocking is never called: there is no Writer.
func (*Writer) WriteNonblocking([]byte) (int, error) { return 0, nil }

// WriteNonblocking is never called without a raw connection.
func WriteNonblocking(syscall.RawConn, []byte) (int, error) { return 0, nil }

// NewReader returns nc: there are no raw reads here.
func NewReader(nc net.Conn) io.Reader { return nc }
