package sock

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// pair returns both ends of a loopback TCP connection.
func pair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

func TestReaderReadsUntilEOF(t *testing.T) {
	client, server := pair(t)
	want := make([]byte, 1<<20)
	for i := range want {
		want[i] = byte(i * 7)
	}
	go func() {
		client.Write(want)
		client.Close()
	}()
	got, err := io.ReadAll(NewReader(server))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Fatalf("read %d bytes, not the %d written", len(got), len(want))
	}
}

func TestReaderHonoursDeadline(t *testing.T) {
	_, server := pair(t)
	server.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	_, err := NewReader(server).Read(make([]byte, 10))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past the deadline: %v, want a timeout", err)
	}
}

func TestReaderOfClosedConnection(t *testing.T) {
	_, server := pair(t)
	r := NewReader(server)
	server.Close()
	if _, err := r.Read(make([]byte, 10)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read of a closed connection: %v, want net.ErrClosed", err)
	}
}

// TestWriterWritesWithoutBlocking: a Writer takes what the socket takes
// and returns at once when it is full; what it wrote arrives whole and in
// order.
func TestWriterWritesWithoutBlocking(t *testing.T) {
	client, server := pair(t)
	w := NewWriter(Raw(server))
	if w == nil {
		t.Fatal("no Writer for a TCP connection")
	}
	want := make([]byte, 64<<20) // more than any socket buffer
	for i := range want {
		want[i] = byte(i * 13)
	}
	n, err := w.WriteNonblocking(want)
	if err != nil || n == 0 || n >= len(want) {
		t.Fatalf("first write: %d of %d bytes, %v; want part of it", n, len(want), err)
	}
	got := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(client)
		got <- b
	}()
	for n < len(want) {
		m, err := w.WriteNonblocking(want[n:])
		if err != nil {
			t.Fatal(err)
		}
		n += m
	}
	server.Close()
	if b := <-got; string(b) != string(want) {
		t.Fatalf("read %d bytes, not the %d written", len(b), len(want))
	}
	if NewWriter(nil) != nil {
		t.Fatal("a Writer for no socket")
	}
}
