package server

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/zkgo/zkgo/wire"
)

// A request over jute.maxbuffer closes its connection, as Apache
// ZooKeeper's does; the client that wrote it sees the connection close
// (end of stream), not its write fail: the server reads the refused packet
// to its end before closing, so the socket is not reset under the writer.
func TestOversizedRequestClosesCleanly(t *testing.T) {
	s := startServer(t, nil)
	nc, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	req := wire.ConnectRequest{TimeOut: 10000, Passwd: make([]byte, 16)}
	if _, err := nc.Write(wire.AppendFrame(nil, &req)); err != nil {
		t.Fatal(err)
	}
	nc.SetDeadline(time.Now().Add(waitLimit))
	if _, err := wire.ReadFrame(nc, nil, wire.DefaultMaxBuffer); err != nil {
		t.Fatalf("handshake: %v", err)
	}
	// Far more than the sockets buffer: written while the server reads.
	n := 8 * s.cfg.JuteMaxBuffer
	big := make([]byte, 4+n)
	binary.BigEndian.PutUint32(big, uint32(n))
	if _, err := nc.Write(big); err != nil {
		t.Fatalf("writing a %d-byte request: %v (the server reset the connection under the writer)", n, err)
	}
	_, err = nc.Read(make([]byte, 1))
	if !errors.Is(err, io.EOF) {
		t.Fatalf("after the oversized request: read %v, want the connection closed (EOF)", err)
	}
}
