package znode

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/zkgo/zkgo/internal/auth"
	"github.com/zkgo/zkgo/wire"
)

func TestReads(t *testing.T) {
	h := newHarness(t, Options{})
	alice := wire.Id{Scheme: "digest", ID: auth.DigestID("alice", "pw")}
	bob := wire.Id{Scheme: "digest", ID: auth.DigestID("bob", "pw")}
	h.mustCreate("/a", "data")
	h.mustCreate("/a/x", "")
	h.mustCreate("/a/b", "")
	h.mustCreate("/a/b/c", "")
	h.mustApply(0, nil, wire.OpCreate, &wire.CreateRequest{Path: "/priv", Data: []byte("s"),
		ACL: []wire.ACL{{Perms: wire.PermAll, ID: alice}, {Perms: wire.PermAdmin, ID: wire.Id{Scheme: "ip", ID: "10.0.0.0/8"}}}})
	h.mustApply(0, nil, wire.OpCreate, &wire.CreateRequest{Path: "/readonly",
		ACL: []wire.ACL{{Perms: wire.PermRead, ID: bob}, {Perms: wire.PermAll, ID: alice}}})

	as := func(ids ...wire.Id) Caller { return Caller{Auth: ids} }
	pw := func(p string) *wire.PathWatchRequest { return &wire.PathWatchRequest{Path: p} }
	pr := func(p string) *wire.PathRequest { return &wire.PathRequest{Path: p} }
	aStat := h.stat("/a")
	tests := []struct {
		name string
		op   wire.OpCode
		body wire.Record
		c    Caller
		want wire.Record
		err  wire.ErrCode
	}{
		{"exists", wire.OpExists, pw("/a"), as(), &wire.StatResponse{Stat: aStat}, wire.ErrOK},
		{"exists missing", wire.OpExists, pw("/nope"), as(), nil, wire.ErrNoNode},
		{"exists null char", wire.OpExists, pw("/a\x00"), as(), nil, wire.ErrBadArguments},
		{"exists needs read", wire.OpExists, pw("/priv"), as(bob), nil, wire.ErrNoAuth},
		{"getData", wire.OpGetData, pw("/a"), as(), &wire.GetDataResponse{Data: []byte("data"), Stat: aStat}, wire.ErrOK},
		{"getData missing", wire.OpGetData, pw("/nope"), as(), nil, wire.ErrNoNode},
		{"getData no read", wire.OpGetData, pw("/priv"), as(), nil, wire.ErrNoAuth},
		{"getData digest", wire.OpGetData, pw("/priv"), as(alice), &wire.GetDataResponse{Data: []byte("s"), Stat: h.stat("/priv")}, wire.ErrOK},
		{"getData super", wire.OpGetData, pw("/priv"), as(superID), &wire.GetDataResponse{Data: []byte("s"), Stat: h.stat("/priv")}, wire.ErrOK},
		{"getData bad path", wire.OpGetData, pw("/a/"), as(), nil, wire.ErrNoNode},
		{"getChildren", wire.OpGetChildren, pw("/a"), as(), &wire.StringsResponse{Strings: []string{"b", "x"}}, wire.ErrOK},
		{"getChildren leaf", wire.OpGetChildren, pw("/a/x"), as(), &wire.StringsResponse{Strings: []string{}}, wire.ErrOK},
		{"getChildren missing", wire.OpGetChildren, pw("/nope"), as(), nil, wire.ErrNoNode},
		{"getChildren no read", wire.OpGetChildren, pw("/priv"), as(), nil, wire.ErrNoAuth},
		{"getChildren2", wire.OpGetChildren2, pw("/a"), as(), &wire.GetChildren2Response{Children: []string{"b", "x"}, Stat: aStat}, wire.ErrOK},
		{"getChildren2 no read", wire.OpGetChildren2, pw("/priv"), as(), nil, wire.ErrNoAuth},
		{"getACL admin", wire.OpGetACL, pr("/priv"), as(alice), &wire.GetACLResponse{Stat: h.stat("/priv"),
			ACL: []wire.ACL{{Perms: wire.PermAll, ID: alice}, {Perms: wire.PermAdmin, ID: wire.Id{Scheme: "ip", ID: "10.0.0.0/8"}}}}, wire.ErrOK},
		{"getACL admin by ip", wire.OpGetACL, pr("/priv"), as(wire.Id{Scheme: "ip", ID: "10.1.2.3"}), &wire.GetACLResponse{Stat: h.stat("/priv"),
			ACL: []wire.ACL{{Perms: wire.PermAll, ID: alice}, {Perms: wire.PermAdmin, ID: wire.Id{Scheme: "ip", ID: "10.0.0.0/8"}}}}, wire.ErrOK},
		{"getACL read only redacts", wire.OpGetACL, pr("/readonly"), as(bob), &wire.GetACLResponse{Stat: h.stat("/readonly"),
			ACL: []wire.ACL{{Perms: wire.PermRead, ID: wire.Id{Scheme: "digest", ID: "bob:x"}}, {Perms: wire.PermAll, ID: wire.Id{Scheme: "digest", ID: "alice:x"}}}}, wire.ErrOK},
		{"getACL neither", wire.OpGetACL, pr("/priv"), as(bob), nil, wire.ErrNoAuth},
		{"getACL missing", wire.OpGetACL, pr("/nope"), as(), nil, wire.ErrNoNode},
		{"getAllChildrenNumber", wire.OpGetAllChildrenNumber, pr("/a"), as(), &wire.IntResponse{Value: 3}, wire.ErrOK},
		{"getAllChildrenNumber leaf", wire.OpGetAllChildrenNumber, pr("/a/x"), as(), &wire.IntResponse{Value: 0}, wire.ErrOK},
		{"getAllChildrenNumber root", wire.OpGetAllChildrenNumber, pr("/"), as(), &wire.IntResponse{Value: 9}, wire.ErrOK},
		{"getAllChildrenNumber alias", wire.OpGetAllChildrenNumber, pr(""), as(), &wire.IntResponse{Value: 10}, wire.ErrOK},
		{"getAllChildrenNumber no read", wire.OpGetAllChildrenNumber, pr("/priv"), as(), nil, wire.ErrNoAuth},
		{"getAllChildrenNumber missing", wire.OpGetAllChildrenNumber, pr("/nope"), as(), nil, wire.ErrNoNode},
		{"sync", wire.OpSync, pr("/a"), as(), &wire.PathRequest{Path: "/a"}, wire.ErrOK},
		{"whoAmI", wire.OpWhoAmI, &wire.Empty{}, as(wire.Id{Scheme: "ip", ID: "1.2.3.4"}, alice, superID),
			&wire.WhoAmIResponse{ClientInfo: []wire.ClientInfo{{AuthScheme: "ip", User: "1.2.3.4"}, {AuthScheme: "digest", User: "alice"}, {AuthScheme: "super", User: ""}}}, wire.ErrOK},
		{"wrong body", wire.OpGetData, pr("/a"), as(), nil, wire.ErrMarshallingError},
		{"write op", wire.OpCreate, createReq("/z", "", 0), as(), nil, wire.ErrMarshallingError},
		{"multiRead", wire.OpMultiRead, &wire.MultiRequest{Ops: []wire.Op{
			{Type: wire.OpGetData, Body: pw("/a")},
			{Type: wire.OpGetChildren, Body: pw("/a")},
			{Type: wire.OpGetData, Body: pw("/nope")},
			{Type: wire.OpGetChildren, Body: pw("/priv")},
		}}, as(), &wire.MultiResponse{Results: []wire.OpResult{
			{Type: wire.OpGetData, Body: &wire.GetDataResponse{Data: []byte("data"), Stat: aStat}},
			{Type: wire.OpGetChildren, Body: &wire.StringsResponse{Strings: []string{"b", "x"}}},
			{Type: wire.OpError, Err: wire.ErrNoNode},
			{Type: wire.OpError, Err: wire.ErrNoAuth},
		}}, wire.ErrOK},
		{"multiRead with write", wire.OpMultiRead, &wire.MultiRequest{Ops: []wire.Op{
			{Type: wire.OpGetData, Body: pw("/a")},
			{Type: wire.OpCheck, Body: &wire.PathVersionRequest{Path: "/a", Version: -1}},
		}}, as(), nil, wire.ErrMarshallingError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := h.tree.Read(tc.op, tc.body, tc.c)
			eq(t, "err", err, tc.err)
			if tc.want != nil || got != nil {
				eq(t, "body", got, tc.want)
			}
		})
	}

	// Watch flags inside multiRead are ignored, as in Apache.
	w := &recorder{}
	h.tree.Read(wire.OpMultiRead, &wire.MultiRequest{Ops: []wire.Op{
		{Type: wire.OpGetData, Body: &wire.PathWatchRequest{Path: "/a", Watch: true}}}}, Caller{Watcher: w})
	eq(t, "no watch from multiRead", h.tree.Stats().AllWatches, 0)
	// A NoAuth exists sets no watch.
	h.tree.Read(wire.OpExists, &wire.PathWatchRequest{Path: "/priv", Watch: true}, Caller{Watcher: w})
	eq(t, "no watch after NoAuth", h.tree.Stats().AllWatches, 0)
	// Watches without a watcher are ignored.
	h.tree.Read(wire.OpGetData, &wire.PathWatchRequest{Path: "/a", Watch: true}, Caller{})
	eq(t, "no watcher", h.tree.Stats().AllWatches, 0)
}

// TestChildListingFollowsChanges: getChildren lists the children in order
// after every kind of change to the set (the listing is cached until the
// set changes), and readers listing while children are created see whole,
// ordered listings.
func TestChildListingFollowsChanges(t *testing.T) {
	h := newHarness(t, Options{})
	h.mustCreate("/p", "")
	for _, name := range []string{"c3", "c1", "c2"} {
		h.mustCreate("/p/"+name, "")
	}
	eq(t, "listing", h.children("/p"), []string{"c1", "c2", "c3"})
	eq(t, "listing again", h.children("/p"), []string{"c1", "c2", "c3"})
	h.mustCreate("/p/c0", "")
	eq(t, "after a create", h.children("/p"), []string{"c0", "c1", "c2", "c3"})
	if err := h.delete("/p/c2", -1); err != wire.ErrOK {
		t.Fatal(err)
	}
	eq(t, "after a delete", h.children("/p"), []string{"c0", "c1", "c3"})
	if _, err := h.setData("/p/c1", "new", -1); err != wire.ErrOK {
		t.Fatal(err)
	}
	eq(t, "after a child's setData", h.children("/p"), []string{"c0", "c1", "c3"})
	eq(t, "a leaf's listing", h.children("/p/c0"), []string{})

	const readers, creates = 4, 200
	var wg sync.WaitGroup
	errs := make(chan string, readers)
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range creates {
				r, err := h.tree.Read(wire.OpGetChildren, &wire.PathWatchRequest{Path: "/p"}, Caller{Auth: superAuth})
				if err != wire.ErrOK {
					errs <- err.String()
					return
				}
				names := r.(*wire.StringsResponse).Strings
				if len(names) < 3 || len(names) > 3+creates || !slices.IsSorted(names) {
					errs <- fmt.Sprintf("listing of %d names, sorted %v", len(names), slices.IsSorted(names))
					return
				}
			}
		}()
	}
	for i := range creates {
		h.mustCreate(fmt.Sprintf("/p/n%03d", i), "")
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if got := len(h.children("/p")); got != 3+creates {
		t.Fatalf("%d children listed, want %d", got, 3+creates)
	}
}
