package test

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/zkgo/zkgo/test/harness"
	"github.com/zkgo/zkgo/wire"
)

// TestConnectResponseReadOnlyByte: a ConnectRequest without the trailing
// readOnly byte (clients older than ZooKeeper 3.4, ClickHouse 18.16's own
// client) gets a ConnectResponse without one: 36 bytes, where a request
// with the byte gets 37. That holds for a new session and for the answer to
// a resumed session that no longer exists, and the old-style session then
// serves requests. Apache ZooKeeper and ours must answer alike.
func TestConnectResponseReadOnlyByte(t *testing.T) {
	harness.BuildOurs(t)
	apache := harness.StartApache(t, nil)
	ours := harness.StartOurs(t, nil)
	want := connectTranscript(t, apache.Addr())
	got := connectTranscript(t, ours.Addr())
	if d := harness.UnifiedDiff("apache", want, "ours", got); d != "" {
		t.Errorf("handshakes differ:\n%s", d)
	}
	for _, line := range []string{
		"old-style new session: 36 bytes",
		"new-style new session: 37 bytes",
		"old-style unknown session: 36 bytes",
		"new-style unknown session: 37 bytes",
	} {
		if !strings.Contains(got, line) {
			t.Errorf("ours: no %q", line)
		}
	}
}

// connectTranscript performs old- and new-style handshakes on addr and
// describes each ConnectResponse and what follows.
func connectTranscript(t *testing.T, addr string) string {
	var b strings.Builder
	for _, style := range []string{"old-style", "new-style"} {
		req := &wire.ConnectRequest{TimeOut: 10000, Passwd: make([]byte, 16), HasReadOnly: style == "new-style"}
		nc, pkt := rawConnect(t, addr, req)
		resp := describeConnectResponse(t, pkt)
		fmt.Fprintf(&b, "%s new session: %s\n", style, resp)
		fmt.Fprintf(&b, "%s exists \"/\": %s\n", style, rawExists(t, nc, "/"))
		nc.Close()

		unknown := &wire.ConnectRequest{TimeOut: 10000, SessionID: 0x1234567, Passwd: make([]byte, 16),
			HasReadOnly: style == "new-style"}
		nc, pkt = rawConnect(t, addr, unknown)
		fmt.Fprintf(&b, "%s unknown session: %s\n", style, describeConnectResponse(t, pkt))
		nc.Close()
	}
	return b.String()
}

// rawConnect sends req on a new connection to addr and returns the
// connection and the ConnectResponse packet, without its length prefix.
func rawConnect(t *testing.T, addr string, req *wire.ConnectRequest) (net.Conn, []byte) {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := nc.Write(wire.AppendFrame(nil, req)); err != nil {
		t.Fatalf("%s: send ConnectRequest: %v", addr, err)
	}
	pkt, err := wire.ReadFrame(nc, nil, wire.DefaultMaxBuffer)
	if err != nil {
		t.Fatalf("%s: read ConnectResponse: %v", addr, err)
	}
	return nc, pkt
}

// describeConnectResponse words a ConnectResponse packet without the
// values that differ from run to run (the session id and password).
func describeConnectResponse(t *testing.T, pkt []byte) string {
	t.Helper()
	var resp wire.ConnectResponse
	if err := wire.Decode(pkt, &resp); err != nil {
		t.Fatalf("decode ConnectResponse %x: %v", pkt, err)
	}
	readOnly := "absent"
	if resp.HasReadOnly {
		readOnly = fmt.Sprint(resp.ReadOnly)
	}
	return fmt.Sprintf("%d bytes: protocolVersion=%d timeOut=%d session set=%v passwd %d bytes readOnly=%s",
		len(pkt), resp.ProtocolVersion, resp.TimeOut, resp.SessionID != 0, len(resp.Passwd), readOnly)
}

// rawExists sends exists(path) on an established raw session and words
// the reply.
func rawExists(t *testing.T, nc net.Conn, path string) string {
	t.Helper()
	req := wire.AppendFrame(nil, &wire.RequestHeader{Xid: 1, Type: wire.OpExists},
		&wire.PathWatchRequest{Path: path})
	if _, err := nc.Write(req); err != nil {
		return fmt.Sprintf("send: %v", err)
	}
	pkt, err := wire.ReadFrame(nc, nil, wire.DefaultMaxBuffer)
	if err != nil {
		return fmt.Sprintf("read: %v", err)
	}
	d := wire.NewDecoder(pkt)
	var h wire.ReplyHeader
	h.Decode(d)
	return fmt.Sprintf("xid=%d err=%v", h.Xid, h.Err)
}
