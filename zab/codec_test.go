package zab

import (
	"errors"
	"reflect"
	"testing"

	"github.com/zkgo/zkgo/wire"
)

func TestMessageRoundTrip(t *testing.T) {
	msgs := []Message{
		{Type: MsgVote, From: 1, To: 2, Vote: Vote{Leader: 3, Zxid: MakeZxid(4, 5), Epoch: 4}, Round: 7, State: Following},
		{Type: MsgVote, From: 1, To: 2, Vote: Vote{Leader: 3}, Round: 7, State: Leading,
			Members: &Membership{Version: MakeZxid(2, 3), Voters: []int64{1, 2, 3}, Observers: []int64{9}}},
		{Type: MsgFollowerInfo, From: 2, To: 1, Session: 1<<63 | 5, Epoch: 3, Zxid: MakeZxid(3, 9), Observer: true},
		{Type: MsgLeaderInfo, From: 1, To: 2, Session: 5, Seq: 1, Epoch: 4, Established: true},
		{Type: MsgTrunc, From: 1, To: 2, Session: 5, Seq: 2, Epoch: 4, Zxid: MakeZxid(3, 1), Probe: true},
		{Type: MsgSnap, From: 1, To: 2, Session: 5, Seq: 3, Epoch: 4, Zxid: 9, Data: []byte("tree"),
			Members: &Membership{Version: 7, Voters: []int64{1, 2}}},
		{Type: MsgProposal, From: 1, To: 2, Session: 5, Seq: 4, Epoch: 4, Entries: []Entry{{Zxid: 1, Data: []byte("a")}, {Zxid: 2, Data: []byte{}}}},
		{Type: MsgInform, From: 1, To: 2, Session: 5, Seq: 5, Epoch: 4, Entries: []Entry{{Zxid: 3, Data: []byte("b")}}, Commit: 3},
		{Type: MsgPing, From: 1, To: 2, Session: 5, Seq: 6, Epoch: 4, Commit: 3},
	}
	for _, m := range msgs {
		got, err := UnmarshalMessage(MarshalMessage(&m))
		if err != nil {
			t.Fatalf("%v: %v", m, err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Errorf("round trip of %v gave %v", m, got)
		}
	}
	// Framed for a stream.
	frame := wire.AppendFrame(nil, &msgs[6])
	if got, err := UnmarshalMessage(frame[4:]); err != nil || !reflect.DeepEqual(got, msgs[6]) {
		t.Errorf("framed: %v, %v", got, err)
	}
}

func TestMessageDecodeErrors(t *testing.T) {
	good := MarshalMessage(&Message{Type: MsgProposal, From: 1, To: 2, Entries: []Entry{{Zxid: 1, Data: []byte("abc")}}})
	for i := range len(good) {
		if _, err := UnmarshalMessage(good[:i]); !errors.Is(err, ErrBadMessage) {
			t.Errorf("truncated to %d bytes: %v", i, err)
		}
	}
	if _, err := UnmarshalMessage(append(good, 0)); !errors.Is(err, ErrBadMessage) {
		t.Errorf("trailing byte: %v", err)
	}
	bad := MarshalMessage(&Message{Type: MsgAck})
	bad[3] = 99
	if _, err := UnmarshalMessage(bad); !errors.Is(err, ErrBadMessage) {
		t.Errorf("unknown type: %v", err)
	}
	// A huge entry count is refused before allocating.
	huge := MarshalMessage(&Message{Type: MsgProposal})
	huge[4+16+8*5+4+0] = 0x7f
	if _, err := UnmarshalMessage(huge); !errors.Is(err, ErrBadMessage) {
		t.Errorf("huge count: %v", err)
	}
}

func FuzzUnmarshalMessage(f *testing.F) {
	f.Add(MarshalMessage(&Message{Type: MsgVote, Vote: Vote{Leader: 1}}))
	f.Add(MarshalMessage(&Message{Type: MsgProposal, Entries: []Entry{{Zxid: 1, Data: []byte("x")}}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := UnmarshalMessage(b)
		if err != nil {
			return
		}
		again, err := UnmarshalMessage(MarshalMessage(&m))
		if err != nil || !reflect.DeepEqual(again, m) {
			t.Fatalf("re-encoding %v: %v, %v", m, again, err)
		}
	})
}
