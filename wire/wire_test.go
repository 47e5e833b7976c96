package wire

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

func sampleStat() Stat {
	return Stat{Czxid: 1, Mzxid: 2, Ctime: 3, Mtime: 4, Version: 5, Cversion: 6,
		Aversion: 7, EphemeralOwner: 8, DataLength: 9, NumChildren: 10, Pzxid: 11}
}

var worldACL = []ACL{{Perms: PermAll, ID: Id{Scheme: "world", ID: "anyone"}}}

// samples holds one populated value of every record type.
var samples = []Record{
	&Id{Scheme: "digest", ID: "u:h"},
	&ACL{Perms: PermRead, ID: Id{Scheme: "ip", ID: "10.0.0.0/8"}},
	func() *Stat { s := sampleStat(); return &s }(),
	&ClientInfo{AuthScheme: "ip", User: "127.0.0.1"},
	&ConnectRequest{ProtocolVersion: 0, LastZxidSeen: 5, TimeOut: 30000, SessionID: 9, Passwd: make([]byte, 16), ReadOnly: true, HasReadOnly: true},
	&ConnectRequest{TimeOut: 10, Passwd: []byte{1}},
	&ConnectResponse{TimeOut: 4000, SessionID: 7, Passwd: []byte("0123456789abcdef"), ReadOnly: true, HasReadOnly: true},
	&ConnectResponse{TimeOut: 4000, SessionID: 7, Passwd: []byte("0123456789abcdef")},
	&SetWatches{RelativeZxid: 3, DataWatches: []string{"/a"}, ExistWatches: []string{}, ChildWatches: []string{"/b", "/c"}},
	&SetWatches{RelativeZxid: 3, DataWatches: []string{"/a"}, ExistWatches: []string{}, ChildWatches: []string{},
		PersistentWatches: []string{"/p"}, PersistentRecursiveWatches: []string{"/r"}, V2: true},
	&RequestHeader{Xid: 3, Type: OpCreate},
	&ReplyHeader{Xid: 3, Zxid: 99, Err: ErrNoNode},
	&MultiHeader{Type: OpDelete, Done: false, Err: -1},
	&AuthPacket{Scheme: "digest", Auth: []byte("u:p")},
	&PathRequest{Path: "/x"},
	&PathWatchRequest{Path: "/x", Watch: true},
	&PathVersionRequest{Path: "/x", Version: -1},
	&PathTypeRequest{Path: "/x", Type: WatcherAny},
	&SetDataRequest{Path: "/x", Data: []byte("d"), Version: 2},
	&ReconfigRequest{JoiningServers: "server.4=a:1:2", NewMembers: "", CurConfigID: -1},
	&StatResponse{Stat: sampleStat()},
	&SASLToken{Token: []byte{1, 2}},
	&CreateRequest{Path: "/x", Data: []byte("d"), ACL: worldACL, Flags: FlagEphemeral},
	&CreateRequest{Path: "/x", Data: nil, ACL: worldACL, Flags: FlagPersistentWithTTL, TTL: 1000, HasTTL: true},
	&SetACLRequest{Path: "/x", ACL: worldACL, Version: 1},
	&WatcherEvent{Type: EventNodeDeleted, State: StateSyncConnected, Path: "/x"},
	&ErrorResponse{Err: ErrBadVersion},
	&Create2Response{Path: "/x0000000001", Stat: sampleStat()},
	&GetDataResponse{Data: []byte("hello"), Stat: sampleStat()},
	&StringsResponse{Strings: []string{"a", "b"}},
	&GetChildren2Response{Children: []string{"a"}, Stat: sampleStat()},
	&IntResponse{Value: 42},
	&GetACLResponse{ACL: worldACL, Stat: sampleStat()},
	&WhoAmIResponse{ClientInfo: []ClientInfo{{AuthScheme: "ip", User: "::1"}}},
	&Empty{},
	&MultiRequest{Ops: []Op{
		{Type: OpCreate, Body: &CreateRequest{Path: "/m", ACL: worldACL}},
		{Type: OpCreateTTL, Body: &CreateRequest{Path: "/t", ACL: worldACL, Flags: FlagPersistentWithTTL, TTL: 5, HasTTL: true}},
		{Type: OpSetData, Body: &SetDataRequest{Path: "/m", Data: []byte("x"), Version: -1}},
		{Type: OpCheck, Body: &PathVersionRequest{Path: "/m", Version: 1}},
		{Type: OpDelete, Body: &PathVersionRequest{Path: "/m", Version: -1}},
	}},
	&MultiResponse{Results: []OpResult{
		{Type: OpCreate, Body: &PathRequest{Path: "/m"}},
		{Type: OpCreate2, Body: &Create2Response{Path: "/t", Stat: sampleStat()}},
		{Type: OpSetData, Body: &StatResponse{Stat: sampleStat()}},
		{Type: OpCheck},
		{Type: OpError, Err: ErrNoNode},
		{Type: OpGetData, Body: &GetDataResponse{Data: []byte("v"), Stat: sampleStat()}},
		{Type: OpGetChildren, Body: &StringsResponse{Strings: []string{"c"}}},
	}},
}

// fresh returns an empty record of r's type with the layout flags of r.
func fresh(r Record) Record {
	v := reflect.New(reflect.TypeOf(r).Elem())
	switch x := r.(type) {
	case *CreateRequest:
		v.Interface().(*CreateRequest).HasTTL = x.HasTTL
	case *SetWatches:
		v.Interface().(*SetWatches).V2 = x.V2
	}
	return v.Interface().(Record)
}

func TestRoundTrip(t *testing.T) {
	for _, r := range samples {
		b := Encode(r)
		got := fresh(r)
		if err := Decode(b, got); err != nil {
			t.Errorf("%T: decode: %v", r, err)
			continue
		}
		if !reflect.DeepEqual(got, r) {
			t.Errorf("%T: round trip\n got %+v\nwant %+v", r, got, r)
		}
		if again := Encode(got); !bytes.Equal(again, b) {
			t.Errorf("%T: re-encoding differs", r)
		}
	}
}

// TestTruncated checks that every strict prefix of every record fails to
// decode instead of panicking or reading garbage.
func TestTruncated(t *testing.T) {
	for _, r := range samples {
		b := Encode(r)
		for n := 0; n < len(b); n++ {
			got := fresh(r)
			err := Decode(b[:n], got)
			if _, optional := r.(*ConnectRequest); optional && n == len(b)-1 {
				continue // the trailing readOnly byte is optional
			}
			if cr, ok := r.(*ConnectResponse); ok && cr.HasReadOnly && n == len(b)-1 {
				continue
			}
			if err == nil {
				t.Errorf("%T: prefix of %d/%d bytes decoded without error", r, n, len(b))
			}
		}
	}
}

func TestNullEncodings(t *testing.T) {
	e := NewEncoder(nil)
	e.Buffer(nil)
	e.Strings(nil)
	EncodeACLs(e, nil)
	d := NewDecoder(e.Bytes())
	if d.Buffer() != nil || d.Strings() != nil || DecodeACLs(d) != nil || d.Err() != nil {
		t.Fatalf("null values did not round trip: %v", d.Err())
	}
}

func TestHostileLength(t *testing.T) {
	// A vector claiming 2^31-1 strings in an 8-byte packet must fail fast.
	e := NewEncoder(nil)
	e.Int(0x7fffffff)
	e.Int(0)
	d := NewDecoder(e.Bytes())
	if _ = d.Strings(); !errors.Is(d.Err(), ErrBadLength) {
		t.Fatalf("got %v, want ErrBadLength", d.Err())
	}
	d = NewDecoder([]byte{0xff, 0xff, 0xff, 0xf0})
	if _ = d.String(); !errors.Is(d.Err(), ErrBadLength) {
		t.Fatalf("negative length: got %v", d.Err())
	}
}

func TestMultiRejectsBadOp(t *testing.T) {
	e := NewEncoder(nil)
	(&MultiHeader{Type: OpGetACL, Err: -1}).Encode(e)
	(&PathRequest{Path: "/x"}).Encode(e)
	var m MultiRequest
	if err := Decode(e.Bytes(), &m); !errors.Is(err, ErrBadOp) {
		t.Fatalf("got %v, want ErrBadOp", err)
	}
}

func TestFrames(t *testing.T) {
	buf := AppendFrame(nil, &RequestHeader{Xid: 1, Type: OpPing})
	buf = AppendFrame(buf, &ReplyHeader{Xid: 2}, &StatResponse{})
	r := bytes.NewReader(buf)
	p, err := ReadFrame(r, nil, DefaultMaxBuffer)
	if err != nil || len(p) != 8 {
		t.Fatalf("first frame: %v len %d", err, len(p))
	}
	p, err = ReadFrame(r, p, DefaultMaxBuffer)
	if err != nil || len(p) != 16+68 {
		t.Fatalf("second frame: %v len %d", err, len(p))
	}
	big := []byte{0x00, 0x10, 0x00, 0x00}
	var tooLarge *FrameTooLargeError
	if _, err := ReadFrame(bytes.NewReader(big), nil, DefaultMaxBuffer); !errors.As(err, &tooLarge) {
		t.Fatalf("oversized frame: got %v", err)
	}
	if _, err := ReadFrame(bytes.NewReader([]byte{0, 0, 0, 5, 1}), nil, DefaultMaxBuffer); err == nil {
		t.Fatal("truncated frame decoded")
	}
}

func TestErrCodeMessages(t *testing.T) {
	if got := ErrNoNode.Error(); got != "KeeperErrorCode = NoNode" {
		t.Fatalf("got %q", got)
	}
	if got := ErrNotEmpty.String(); got != "Directory not empty" {
		t.Fatalf("got %q", got)
	}
}

// FuzzRequest decodes arbitrary bytes as a request packet the way the
// server does; it must never panic.
func FuzzRequest(f *testing.F) {
	for _, r := range samples {
		f.Add(Encode(r))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d := NewDecoder(b)
		var h RequestHeader
		h.Decode(d)
		if body := RequestBody(h.Type); body != nil {
			body.Decode(d)
		}
		var c ConnectRequest
		_ = Decode(b, &c)
		var m MultiResponse
		_ = Decode(b, &m)
	})
}

// TestReuse: a kept Decoder, Reset, decodes a new packet from its start
// without an earlier packet's error; a kept Encoder's AppendFrame gives the
// function's bytes and leaves the Encoder empty.
func TestReuse(t *testing.T) {
	var d Decoder
	d.Reset([]byte{0, 0})
	d.Int()
	if d.Err() == nil {
		t.Fatal("a 2-byte packet gave an int")
	}
	d.Reset([]byte{0, 0, 0, 7})
	if v := d.Int(); v != 7 || d.Err() != nil || d.Remaining() != 0 {
		t.Fatalf("after Reset: %d, %v, %d left", v, d.Err(), d.Remaining())
	}
	var e Encoder
	recs := []Record{&ReplyHeader{Xid: 3, Zxid: 9}, &Stat{Version: 2}}
	for _, dst := range [][]byte{nil, []byte("abc")} {
		want := AppendFrame(append([]byte(nil), dst...), recs...)
		got := e.AppendFrame(append([]byte(nil), dst...), recs...)
		if string(got) != string(want) || e.Len() != 0 {
			t.Fatalf("Encoder.AppendFrame = %x (encoder holds %d bytes), want %x", got, e.Len(), want)
		}
	}
}
