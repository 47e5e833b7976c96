package znode

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestChildSetMatchesMap runs random puts and deletes on a childSet and on
// a map and checks they agree after every step, through growth, probe runs
// that wrap around the table and shrinking.
func TestChildSetMatchesMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var s childSet
	want := map[string]node{}
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
			n := newNode(name, nil, nodeStat{})
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
			for i, c := range s.slots {
				var tag uint8 // an empty slot's
				if c.ok() {
					tag = tagOf(nameHash(c.name()))
				}
				if s.tags[i] != tag {
					t.Fatalf("step %d: slot %d tagged %#x, want %#x", step, i, s.tags[i], tag)
				}
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
// TestChildSetBuild: build, below and above the size from which it fills
// the table window by window, holds every child, finds a duplicate name
// wherever it is, and leaves a set that puts and deletes work on.
func TestChildSetBuild(t *testing.T) {
	for _, n := range []int{1, 7, buildSortMin - 1, buildSortMin, 3 * buildSortMin} {
		kids := make([]hashedNode, n)
		for i := range kids {
			name := fmt.Sprintf("k%d", i)
			kids[i] = hashedNode{newNode(name, nil, nodeStat{}), nameHash(name)}
		}
		var s childSet
		if dup := s.build(kids); dup.ok() {
			t.Fatalf("%d kids: duplicate %q reported", n, dup.name())
		}
		if s.len() != n {
			t.Fatalf("%d kids: len %d", n, s.len())
		}
		for _, k := range kids {
			if s.get(k.name()) != k.node {
				t.Fatalf("%d kids: %q not found", n, k.name())
			}
		}
		if s.del("k0") != kids[0].node || s.get("k0").ok() || s.put(kids[0].node) || s.len() != n {
			t.Fatalf("%d kids: del and put after build", n)
		}
		for _, at := range []int{0, n / 2, n - 1} {
			name := kids[(at+1)%n].name()
			again := append(append([]hashedNode(nil), kids[:at]...),
				append([]hashedNode{{newNode(name, nil, nodeStat{}), nameHash(name)}}, kids[at:]...)...)
			var d childSet
			if dup := d.build(again); !dup.ok() || dup.name() != name {
				t.Fatalf("%d kids, %q again at %d: build reported %v", n, name, at, dup)
			}
		}
	}
}

func TestNodeNameAndData(t *testing.T) {
	n := newNode("child", []byte("data"), nodeStat{})
	if n.name() != "child" || string(n.data()) != "data" {
		t.Fatalf("got %q %q", n.name(), n.data())
	}
	n = n.with(nil, nodeStat{})
	if n.name() != "child" || n.data() != nil {
		t.Fatalf("after null data: %q %v", n.name(), n.data())
	}
	n = n.with([]byte{}, nodeStat{})
	if n.data() == nil || len(n.data()) != 0 {
		t.Fatalf("empty data reads as %v", n.data())
	}
	if r := newNode("", nil, nodeStat{}); r.name() != "" || r.data() != nil {
		t.Fatal("root with null data")
	}
	d := newNode("x", []byte("ab"), nodeStat{}).data()
	if cap(d) != len(d) {
		t.Fatal("data slice can be appended into the buffer")
	}
	long := strings.Repeat("n", 300) // a name whose length takes two bytes
	big := bytes.Repeat([]byte{7}, 70000)
	if n := newNode(long, big, nodeStat{}); n.name() != long || !bytes.Equal(n.data(), big) {
		t.Fatal("long name and data do not round-trip")
	}
}

// TestNodeStat checks that every Stat field round-trips through a blob,
// extremes and the fields usually left out included.
func TestNodeStat(t *testing.T) {
	for _, st := range []nodeStat{
		{},
		{czxid: 0x100000001, mzxid: 0x100000001, ctime: 1_790_000_000_000, mtime: 1_790_000_000_000, acl: 1},
		{czxid: 5, mzxid: 9, ctime: 100, mtime: 50, owner: 0x1000abc00000001, version: 3, aversion: -1, acl: 300},
		{czxid: math.MaxInt64, mzxid: math.MinInt64, ctime: math.MinInt64, mtime: math.MaxInt64,
			owner: ContainerOwner, version: math.MinInt32, aversion: math.MaxInt32, acl: math.MaxUint32},
		{owner: TTLOwner(MaxTTL), version: -1},
	} {
		n := newNode("x", []byte("data"), st)
		if got := n.stat(); got != st {
			t.Errorf("stat %+v read back as %+v", st, got)
		}
		if n.name() != "x" || string(n.data()) != "data" {
			t.Errorf("stat %+v: name %q data %q", st, n.name(), n.data())
		}
	}
}
