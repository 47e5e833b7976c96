package server

import (
	"fmt"
	"testing"

	"github.com/zkgo/zkgo/wire"
)

// A connection reuses its request, and the path of a getData, exists or
// getChildren shares the packet buffer, which the next request overwrites
// (conn.scratch, conn.decodeRead). A request kept past that point must
// keep its own path: a read queued behind a write, and a watch.
func TestReusedRequestKeepsPaths(t *testing.T) {
	s := startServer(t, nil)
	c := newRaw(t, s)
	// Paths of one length, so that each request fills the same bytes of
	// the packet buffer as the one before.
	for _, p := range []string{"/w0", "/a1", "/b2", "/c3", "/x4"} {
		c.expect(wire.ErrOK, wire.OpCreate, create(p, "data of "+p, 0), nil)
	}

	// Reads pipelined behind a write wait in the queue while the
	// requests after them are read.
	_, wrote := c.send(wire.OpSetData, &wire.SetDataRequest{Path: "/w0", Data: []byte("new"), Version: -1})
	var reads []chan reply
	paths := []string{"/a1", "/b2", "/c3", "/x4", "/a1"}
	for _, p := range paths {
		_, ch := c.send(wire.OpGetData, &wire.PathWatchRequest{Path: p})
		reads = append(reads, ch)
	}
	if r := <-wrote; r.hdr.Err != wire.ErrOK {
		t.Fatalf("setData: %v", r.hdr.Err)
	}
	for i, ch := range reads {
		r := <-ch
		var resp wire.GetDataResponse
		if r.hdr.Err != wire.ErrOK || wire.Decode(r.body, &resp) != nil {
			t.Fatalf("getData %s: %v", paths[i], r.hdr.Err)
		}
		if got, want := string(resp.Data), "data of "+paths[i]; got != want {
			t.Errorf("getData %s queued behind a write answered %q, want %q", paths[i], got, want)
		}
	}

	// Watches set by reads that later requests overwrite.
	c.expect(wire.ErrOK, wire.OpGetData, &wire.PathWatchRequest{Path: "/a1", Watch: true}, nil)
	c.expect(wire.ErrNoNode, wire.OpExists, &wire.PathWatchRequest{Path: "/n5", Watch: true}, nil)
	c.expect(wire.ErrOK, wire.OpGetChildren, &wire.PathWatchRequest{Path: "/b2", Watch: true}, nil)
	for i := 0; i < 4; i++ {
		c.expect(wire.ErrOK, wire.OpGetData, &wire.PathWatchRequest{Path: fmt.Sprintf("/%c%d", "abcx"[i], i+1)}, nil)
	}
	other := newRaw(t, s)
	other.expect(wire.ErrOK, wire.OpSetData, &wire.SetDataRequest{Path: "/a1", Data: []byte("changed"), Version: -1}, nil)
	other.expect(wire.ErrOK, wire.OpCreate, create("/n5", "", 0), nil)
	other.expect(wire.ErrOK, wire.OpCreate, create("/b2/k", "", 0), nil)
	c.expectEvents("NodeDataChanged /a1", "NodeCreated /n5", "NodeChildrenChanged /b2")
}
