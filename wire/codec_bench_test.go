package wire

import (
	"bytes"
	"testing"
)

// benchCreate is a create request as clients send it: a 100-byte value
// and the open ACL.
func benchCreate() *CreateRequest {
	return &CreateRequest{
		Path: "/bench/new/r1-17-4242",
		Data: bytes.Repeat([]byte{'v'}, 100),
		ACL:  []ACL{{Perms: PermAll, ID: Id{Scheme: "world", ID: "anyone"}}},
	}
}

func BenchmarkEncodeCreateRequest(b *testing.B) {
	req := benchCreate()
	hdr := &RequestHeader{Xid: 7, Type: OpCreate}
	var buf []byte
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf = AppendFrame(buf[:0], hdr, req)
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkDecodeCreateRequest(b *testing.B) {
	pkt := Encode(benchCreate())
	b.ReportAllocs()
	b.SetBytes(int64(len(pkt)))
	for i := 0; i < b.N; i++ {
		var req CreateRequest
		if err := Decode(pkt, &req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeGetDataReply(b *testing.B) {
	hdr := &ReplyHeader{Xid: 7, Zxid: 1 << 32}
	resp := &GetDataResponse{Data: bytes.Repeat([]byte{'v'}, 100), Stat: Stat{Czxid: 1, Mzxid: 2, DataLength: 100}}
	var buf []byte
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf = AppendFrame(buf[:0], hdr, resp)
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkReadFrame(b *testing.B) {
	one := AppendFrame(nil, &RequestHeader{Xid: 7, Type: OpCreate}, benchCreate())
	stream := bytes.Repeat(one, 1000)
	r := bytes.NewReader(stream)
	var buf []byte
	b.ReportAllocs()
	b.SetBytes(int64(len(one)))
	for i := 0; i < b.N; i++ {
		if r.Len() == 0 {
			r.Reset(stream)
		}
		var err error
		if buf, err = ReadFrame(r, buf, DefaultMaxBuffer); err != nil {
			b.Fatal(err)
		}
	}
}
