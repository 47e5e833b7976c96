package znode

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestChildSetMatchesMap runs random puts and deletes on a childSet and on
// a map and checks they agree after every step, through growth, probe runs
// that wrap around the table and shrinking.
func TestChildSetMatchesMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var s childSet
	want := map[string]*node{}
	for step := 0; step < 20000; step++ {
		name := fmt.Sprintf("n%d", rng.IntN(600))
		switch {
		case step > 12000 || rng.IntN(3) == 0: // deletes dominate at the end
			got := s.del(name)
			if got != want[name] {
				t.Fatalf("step %d: del(%q) = %v, want %v", step, name, got, want[name])
			}
			delete(want, name)
		default:
			n := newNode(name, nil)
			s.put(n)
			want[name] = n
		}
		if s.len() != len(want) {
			t.Fatalf("step %d: len %d, want %d", step, s.len(), len(want))
		}
		if step%97 == 0 {
			seen := 0
			for c := range s.all() {
				if want[c.name()] != c {
					t.Fatalf("step %d: stray child %q", step, c.name())
				}
				seen++
			}
			for k, v := range want {
				if s.get(k) != v {
					t.Fatalf("step %d: get(%q) lost", step, k)
				}
			}
			if seen != len(want) {
				t.Fatalf("step %d: iterated %d, want %d", step, seen, len(want))
			}
		}
	}
	if len(want) == 0 && s.slots != nil {
		t.Fatalf("empty set keeps %d slots", len(s.slots))
	}
	c := s.clone()
	if c.len() != s.len() || (len(s.slots) > 0 && &c.slots[0] == &s.slots[0]) {
		t.Fatal("clone shares the table")
	}
}

// TestNodeNameAndData checks the packed name and data, null data included.
func TestNodeNameAndData(t *testing.T) {
	n := newNode("child", []byte("data"))
	if n.name() != "child" || string(n.data()) != "data" {
		t.Fatalf("got %q %q", n.name(), n.data())
	}
	n.setData(nil)
	if n.name() != "child" || n.data() != nil {
		t.Fatalf("after null data: %q %v", n.name(), n.data())
	}
	n.setData([]byte{})
	if n.data() == nil || len(n.data()) != 0 {
		t.Fatalf("empty data reads as %v", n.data())
	}
	if r := newNode("", nil); r.name() != "" || r.data() != nil {
		t.Fatal("root with null data")
	}
	d := newNode("x", []byte("ab")).data()
	if cap(d) != len(d) {
		t.Fatal("data slice can be appended into the buffer")
	}
}
