package wire

import "testing"

// The schemes and ids of common ACLs and identities decode to constants;
// others to copies that outlive the packet buffer.
func TestIdDecodeSharesCommonStrings(t *testing.T) {
	buf := AppendFrame(nil, &Id{Scheme: "world", ID: "anyone"}, &Id{Scheme: "digest", ID: "bob:xyz"})[4:]
	var a, b Id
	allocs := testing.AllocsPerRun(100, func() {
		d := NewDecoder(buf)
		a.Decode(d)
	})
	if allocs > 1 { // the decoder itself
		t.Errorf("decoding world:anyone allocated %v times", allocs)
	}
	d := NewDecoder(buf)
	a.Decode(d)
	b.Decode(d)
	clear(buf)
	if a != (Id{Scheme: "world", ID: "anyone"}) || b != (Id{Scheme: "digest", ID: "bob:xyz"}) {
		t.Errorf("decoded %v and %v", a, b)
	}
}
