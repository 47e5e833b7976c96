package znode

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/zkgo/zkgo/wire"
)

// recorder is a Watcher that records the events it gets.
type recorder struct {
	session int64
	events  []wire.WatcherEvent
}

func (r *recorder) Notify(ev wire.WatcherEvent) { r.events = append(r.events, ev) }
func (r *recorder) SessionID() int64            { return r.session }

// take returns the recorded events and forgets them.
func (r *recorder) take() []wire.WatcherEvent {
	ev := r.events
	r.events = nil
	return ev
}

// connRecorder also implements AuthWatcher and ZxidWatcher.
type connRecorder struct {
	recorder
	ids   []wire.Id
	zxids []int64
}

func (r *connRecorder) Auth() []wire.Id { return r.ids }
func (r *connRecorder) NotifyZxid(ev wire.WatcherEvent, zxid int64) {
	r.events = append(r.events, ev)
	r.zxids = append(r.zxids, zxid)
}

func ev(typ wire.EventType, path string) wire.WatcherEvent {
	return wire.WatcherEvent{Type: typ, State: wire.StateSyncConnected, Path: path}
}

// superID is the identity that passes every ACL check (auth.Super).
var superID = wire.Id{Scheme: "super", ID: ""}

var superAuth = []wire.Id{superID}

// harness applies txns with increasing zxids and times.
type harness struct {
	t    *testing.T
	tree *Tree
	zxid int64
	time int64
}

func newHarness(t *testing.T, opts Options) *harness {
	t.Helper()
	return &harness{t: t, tree: NewTree(opts), time: 1_700_000_000_000}
}

func (h *harness) txn(session int64, auth []wire.Id, op wire.OpCode, body wire.Record) Result {
	h.zxid++
	h.time += 1000
	return h.tree.Apply(&Txn{Zxid: h.zxid, Time: h.time, Session: session, Cxid: int32(h.zxid), Type: op, Auth: auth, Body: body})
}

func (h *harness) openSession(id int64) {
	h.t.Helper()
	if r := h.txn(id, nil, wire.OpCreateSession, &CreateSession{Timeout: 30000, Passwd: []byte("pw")}); r.Err != wire.ErrOK {
		h.t.Fatalf("createSession: %v", r.Err)
	}
}

func createReq(path, data string, flags int32) *wire.CreateRequest {
	var d []byte
	if data != "" {
		d = []byte(data)
	}
	return &wire.CreateRequest{Path: path, Data: d, ACL: OpenACL, Flags: flags}
}

// create applies a create2 and returns the created path and error.
func (h *harness) create(session int64, path, data string, flags int32) (string, wire.ErrCode) {
	r := h.txn(session, nil, wire.OpCreate2, createReq(path, data, flags))
	if r.Err != wire.ErrOK {
		return "", r.Err
	}
	return r.Body.(*wire.Create2Response).Path, wire.ErrOK
}

func (h *harness) mustCreate(path, data string) {
	h.t.Helper()
	if _, err := h.create(0, path, data, wire.FlagPersistent); err != wire.ErrOK {
		h.t.Fatalf("create %s: %v", path, err)
	}
}

func (h *harness) mustApply(session int64, auth []wire.Id, op wire.OpCode, body wire.Record) Result {
	h.t.Helper()
	r := h.txn(session, auth, op, body)
	if r.Err != wire.ErrOK {
		h.t.Fatalf("%v %+v: %v", op, body, r.Err)
	}
	return r
}

func (h *harness) setData(path, data string, version int32) (wire.Stat, wire.ErrCode) {
	r := h.txn(0, nil, wire.OpSetData, &wire.SetDataRequest{Path: path, Data: []byte(data), Version: version})
	if r.Err != wire.ErrOK {
		return wire.Stat{}, r.Err
	}
	return r.Body.(*wire.StatResponse).Stat, wire.ErrOK
}

func (h *harness) delete(path string, version int32) wire.ErrCode {
	return h.txn(0, nil, wire.OpDelete, &wire.PathVersionRequest{Path: path, Version: version}).Err
}

// stat returns the Stat of path (as super).
func (h *harness) stat(path string) wire.Stat {
	h.t.Helper()
	r, err := h.tree.Read(wire.OpExists, &wire.PathWatchRequest{Path: path}, Caller{Auth: superAuth})
	if err != wire.ErrOK {
		h.t.Fatalf("exists %s: %v", path, err)
	}
	return r.(*wire.StatResponse).Stat
}

func (h *harness) exists(path string) bool {
	_, err := h.tree.Read(wire.OpExists, &wire.PathWatchRequest{Path: path}, Caller{Auth: superAuth})
	return err == wire.ErrOK
}

func (h *harness) data(path string) []byte {
	h.t.Helper()
	r, err := h.tree.Read(wire.OpGetData, &wire.PathWatchRequest{Path: path}, Caller{Auth: superAuth})
	if err != wire.ErrOK {
		h.t.Fatalf("getData %s: %v", path, err)
	}
	return r.(*wire.GetDataResponse).Data
}

func (h *harness) children(path string) []string {
	h.t.Helper()
	r, err := h.tree.Read(wire.OpGetChildren, &wire.PathWatchRequest{Path: path}, Caller{Auth: superAuth})
	if err != wire.ErrOK {
		h.t.Fatalf("getChildren %s: %v", path, err)
	}
	return r.(*wire.StringsResponse).Strings
}

// watch sets a one-shot watch with a read.
func (h *harness) watch(op wire.OpCode, path string, w Watcher) wire.ErrCode {
	_, err := h.tree.Read(op, &wire.PathWatchRequest{Path: path, Watch: true}, Caller{Watcher: w, Auth: superAuth})
	return err
}

func (h *harness) addWatch(path string, mode int32, w Watcher) {
	h.t.Helper()
	r, err := h.tree.Read(wire.OpAddWatch, &wire.PathTypeRequest{Path: path, Type: mode}, Caller{Watcher: w})
	if err != wire.ErrOK {
		h.t.Fatalf("addWatch: %v", err)
	}
	if !bytes.Equal(wire.Encode(r), []byte{0, 0, 0, 0}) {
		h.t.Fatalf("addWatch response %x, want 4 zero bytes", wire.Encode(r))
	}
}

func (h *harness) snapshot() []byte {
	h.t.Helper()
	var b bytes.Buffer
	if err := h.tree.WriteSnapshot(&b); err != nil {
		h.t.Fatal(err)
	}
	return b.Bytes()
}

func eq(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: got %+v, want %+v", what, got, want)
	}
}
