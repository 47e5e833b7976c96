package main

import (
	"bufio"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/zkgo/zkgo/internal/sock"
)

// The load generator shares the machine's CPUs with the servers it
// measures, so its own cost per request takes CPU from them. go-zookeeper
// reads every reply with two reads (its length, then its body) and writes
// every request with one, each a system call through net.Conn, and Go's
// syscall wrappers wake the runtime's sysmon thread, which then polls every
// 20 µs (a sixth of the client's CPU). So the client connections buffer
// their reads and read and write with raw system calls (internal/sock, as
// the servers do). Both implementations are driven through the same
// connections; go-zookeeper itself is unchanged.

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
