package wire

import (
	"slices"
	"testing"
)

// The table keeps what the switches it replaced said.
func TestOpTable(t *testing.T) {
	var writes []OpCode
	for op, info := range ops {
		if info.Write {
			writes = append(writes, op)
		}
		if info.Name == "" {
			t.Errorf("opcode %d has no name", int32(op))
		}
		if info.InMulti && info.Request == nil {
			t.Errorf("%v may be in a multi but has no request record", op)
		}
	}
	slices.Sort(writes)
	want := []OpCode{OpCloseSession, OpCreateSession, OpCreate, OpDelete, OpSetData, OpSetACL, OpCheck, OpMulti,
		OpCreate2, OpReconfig, OpCreateContainer, OpDeleteContainer, OpCreateTTL}
	slices.Sort(want)
	if !slices.Equal(writes, want) {
		t.Errorf("writes %v, want %v", writes, want)
	}
	for _, op := range []OpCode{OpNotification, OpCreateSession, OpDeleteContainer, OpError, OpCode(99)} {
		if RequestBody(op) != nil {
			t.Errorf("a client may send %v", op)
		}
	}
	if b, ok := RequestBody(OpCreateTTL).(*CreateRequest); !ok || !b.HasTTL {
		t.Errorf("createTTL's request %#v", RequestBody(OpCreateTTL))
	}
	if b, ok := RequestBody(OpSetWatches2).(*SetWatches); !ok || !b.V2 {
		t.Errorf("setWatches2's request %#v", RequestBody(OpSetWatches2))
	}
	if OpGetEphemerals.String() != "getEphemerals" || OpCode(99).String() != "unknown 99" {
		t.Errorf("names %q %q", OpGetEphemerals.String(), OpCode(99).String())
	}
	if _, ok := OpCode(99).Info(); ok {
		t.Error("opcode 99 has a row")
	}
}
