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

// Writer writes a socket without blocking (see WriteNonblocking). Its
// writes allocate nothing; one goroutine at a time may write.
type Writer struct {
	rc  syscall.RawConn
	fn  func(fd uintptr) bool // w.write, bound once: a closure per write would be allocated
	b   []byte
	n   int
	err error
}

// NewWriter returns a writer of the socket rc (from Raw); nil if rc is nil.
func NewWriter(rc syscall.RawConn) *Writer {
	if rc == nil {
		return nil
	}
	w := &Writer{rc: rc}
	w.fn = w.write
	return w
}

// WriteNonblocking writes as much of b as the socket takes without
// waiting (Go's sockets are non-blocking) and returns how much that was;
// the caller's writer goroutine writes the rest.
func (w *Writer) WriteNonblocking(b []byte) (int, error) {
	w.b, w.n, w.err = b, 0, nil
	err := w.rc.Write(w.fn)
	n := w.n
	if err == nil {
		err = w.err
	}
	w.b, w.err = nil, nil
	return n, err
}

func (w *Writer) write(fd uintptr) bool {
	for w.n < len(w.b) {
		// A raw system call: it never blocks, so the scheduler need
		// not be told (nor sysmon woken) as syscall.Write would.
		r, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, fd,
			uintptr(unsafe.Pointer(&w.b[w.n])), uintptr(len(w.b)-w.n))
		if errno == syscall.EINTR {
			continue
		}
		if errno != 0 {
			if errno != syscall.EAGAIN {
				w.err = errno
			}
			break
		}
		if r == 0 {
			break
		}
		w.n += int(r)
	}
	return true // never wait for the socket: the writer goroutine does
}

// WriteNonblocking writes as much of b to the socket rc as it takes without
// waiting, as a Writer does; it allocates one per call.
func WriteNonblocking(rc syscall.RawConn, b []byte) (int, error) {
	return NewWriter(rc).WriteNonblocking(b)
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
	r := &rawReader{rc: rc}
	r.fn = r.read
	return r
}

// rawReader reads a socket; its reads allocate nothing.
type rawReader struct {
	rc  syscall.RawConn
	fn  func(fd uintptr) bool // r.read, bound once: a closure per read would be allocated
	b   []byte
	n   int
	err error
}

func (r *rawReader) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	r.b, r.n, r.err = b, 0, nil
	err := r.rc.Read(r.fn)
	n, rerr := r.n, r.err
	r.b, r.err = nil, nil
	if err != nil {
		return n, err
	}
	return n, rerr
}

func (r *rawReader) read(fd uintptr) bool {
	for {
		m, _, errno := syscall.RawSyscall(syscall.SYS_READ, fd,
			uintptr(unsafe.Pointer(&r.b[0])), uintptr(len(r.b)))
		switch errno {
		case 0:
			r.n = int(m)
			if r.n == 0 {
				r.err = io.EOF
			}
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false // the poller waits for data
		default:
			r.err = errno
			return true
		}
	}
}
