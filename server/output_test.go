package server

import (
	"bytes"
	"net"
	"testing"
	"time"

	"github.com/zkgo/zkgo/wire"
)

// A client that reads nothing while the server has tens of MiB for it gets
// every reply and notification once it reads, whole and in order: written
// by the reader, the applier and the writer goroutine as the socket takes
// them.
func TestSlowClientGetsOutputInOrder(t *testing.T) {
	s := startServer(t, nil)
	w := newRaw(t, s)
	big := bytes.Repeat([]byte{'b'}, 512<<10)
	w.expect(wire.ErrOK, wire.OpCreate, &wire.CreateRequest{Path: "/big", Data: big, ACL: openACL}, nil)

	nc, err := net.DialTimeout("tcp", s.Addr().String(), waitLimit)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(waitLimit))
	if _, err := nc.Write(wire.AppendFrame(nil, &wire.ConnectRequest{TimeOut: 10000, Passwd: make([]byte, 16)})); err != nil {
		t.Fatal(err)
	}
	if _, err := wire.ReadFrame(nc, nil, wire.DefaultMaxBuffer); err != nil {
		t.Fatal(err)
	}
	// 50 watching reads of 512 KiB, then a write that fires the watch: its
	// notification comes after the reads' replies and before its own.
	const reads = 50
	var reqs []byte
	for xid := int32(1); xid <= reads; xid++ {
		reqs = wire.AppendFrame(reqs, &wire.RequestHeader{Xid: xid, Type: wire.OpGetData},
			&wire.PathWatchRequest{Path: "/big", Watch: true})
	}
	reqs = wire.AppendFrame(reqs, &wire.RequestHeader{Xid: reads + 1, Type: wire.OpSetData},
		&wire.SetDataRequest{Path: "/big", Data: []byte("new"), Version: -1})
	go nc.Write(reqs) // the server may stop reading until this side does
	for want := int32(1); want <= reads+2; want++ {
		pkt, err := wire.ReadFrame(nc, nil, wire.DefaultMaxBuffer)
		if err != nil {
			t.Fatalf("packet %d: %v", want, err)
		}
		d := wire.NewDecoder(pkt)
		var h wire.ReplyHeader
		h.Decode(d)
		switch {
		case want <= reads:
			var r wire.GetDataResponse
			r.Decode(d)
			if h.Xid != want || h.Err != wire.ErrOK || !bytes.Equal(r.Data, big) {
				t.Fatalf("packet %d: xid %d err %v, %d bytes of data", want, h.Xid, h.Err, len(r.Data))
			}
		case want == reads+1:
			var ev wire.WatcherEvent
			ev.Decode(d)
			if h.Xid != wire.XidNotification || ev.Type != wire.EventNodeDataChanged || ev.Path != "/big" {
				t.Fatalf("packet %d: xid %d event %v %s, want the notification", want, h.Xid, ev.Type, ev.Path)
			}
		default:
			if h.Xid != reads+1 || h.Err != wire.ErrOK {
				t.Fatalf("packet %d: xid %d err %v, want the setData reply", want, h.Xid, h.Err)
			}
		}
	}
}
