package main

import (
	"bufio"
	"encoding/binary"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/zkgo/zkgo/internal/sock"
)

// The load generator's own cost per request bounds the load it can offer
// from its CPUs (and, unpinned, takes CPU from the servers). go-zookeeper
// reads every reply with two reads (its length, then its body) and writes
// every request with one, each a system call through net.Conn, and Go's
// syscall wrappers wake the runtime's sysmon thread, which then polls every
// 20 µs (a sixth of the client's CPU). So the client connections buffer
// their reads and read and write with raw system calls (internal/sock, as
// the servers do). Both implementations are driven through the same
// connections; go-zookeeper itself is unchanged. The jute client and the
// null server use the same raw reads and the rawWriter below.

// fastConn is a TCP connection read through a buffer with raw reads and
// written with raw writes.
type fastConn struct {
	net.Conn
	r   io.Reader
	raw syscall.RawConn
}

func (c *fastConn) Read(b []byte) (int, error) { return c.r.Read(b) }

func (c *fastConn) Write(b []byte) (int, error) {
	n, err := sock.WriteNonblocking(c.raw, b)
	if err != nil || n == len(b) {
		return n, err
	}
	m, err := c.Conn.Write(b[n:]) // waits for the socket to take the rest
	return n + m, err
}

// dialFast is go-zookeeper's Dialer for fastConns.
func dialFast(network, address string, timeout time.Duration) (net.Conn, error) {
	c, err := net.DialTimeout(network, address, timeout)
	if err != nil {
		return nil, err
	}
	raw := sock.Raw(c)
	if raw == nil {
		return c, nil
	}
	return &fastConn{Conn: c, r: bufio.NewReaderSize(sock.NewReader(c), 16<<10), raw: raw}, nil
}

// rawWriter gathers packets for a TCP connection and writes them with one
// raw non-blocking write, waiting through the connection only for what the
// socket does not take at once.
type rawWriter struct {
	nc  net.Conn
	raw syscall.RawConn // nil: every write goes through nc
	out []byte
}

func newRawWriter(nc net.Conn) *rawWriter { return &rawWriter{nc: nc, raw: sock.Raw(nc)} }

// flush writes the gathered output.
func (w *rawWriter) flush() error {
	b := w.out
	w.out = w.out[:0]
	if len(b) == 0 {
		return nil
	}
	n := 0
	if w.raw != nil {
		var err error
		if n, err = sock.WriteNonblocking(w.raw, b); err != nil {
			return err
		}
	}
	if n < len(b) {
		_, err := w.nc.Write(b[n:])
		return err
	}
	return nil
}

// frameBuffered reports whether br holds a whole frame: the next packet
// can be read without waiting.
func frameBuffered(br *bufio.Reader) bool {
	n := br.Buffered()
	if n < 4 {
		return false
	}
	h, _ := br.Peek(4)
	return uint64(n-4) >= uint64(binary.BigEndian.Uint32(h))
}
