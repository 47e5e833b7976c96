package znode

import (
	"hash/maphash"
	"iter"
	"math/bits"
	"slices"
)

// childSet holds a parent's children, found by name: an open-addressing
// hash table (linear probing) of nodes (one pointer each), each node
// knowing its own name. A Go map[string]node costs about 50 bytes per entry (a 16-byte key
// and 8-byte value per slot, control bytes, load factor); this costs 9 bytes
// per slot at a load between 3/8 and 3/4, and needs no separate name.
// The zero value is an empty set; get, len and all work on a nil *childSet.
//
// Each slot has a tag, 7 bits of its node's name hash: a probe reads a
// node (whose name is in its own block of memory, most often not in the
// CPU's caches) only when the tag matches. Comparing names at every slot
// of a probe run cost a setData about 5% of the servers' CPU.
type childSet struct {
	slots []node  // nil or a power-of-two length; zero node = empty
	tags  []uint8 // as long as slots: 0 for an empty slot, else tagOf its node's hash
	n     int
	// sorted caches the children's names in order for getChildren (see
	// Tree.childNames); nil until asked for, and again after any put or
	// del. Its strings alias the children's blocks, so it is dropped when
	// a child is replaced too.
	sorted []string
}

// childSeed seeds the name hash (per process; iteration order is never
// relied upon: listings are sorted).
var childSeed = maphash.MakeSeed()

func (s *childSet) home(name string) int {
	return int(nameHash(name) & uint64(len(s.slots)-1))
}

// nameHash is the hash of a child's name; its low bits are the child's
// home slot.
func nameHash(name string) uint64 { return maphash.String(childSeed, name) }

// tagOf is the slot tag of a name hash: never 0, which marks an empty slot.
func tagOf(h uint64) uint8 { return uint8(h>>57) | 0x80 }

// hashedNode is a node with its name's hash.
type hashedNode struct {
	node
	hash uint64
}

// len returns the number of children.
func (s *childSet) len() int {
	if s == nil {
		return 0
	}
	return s.n
}

// get returns the child called name, or the zero node.
func (s *childSet) get(name string) node {
	if s == nil || s.n == 0 {
		return node{}
	}
	h := nameHash(name)
	mask := len(s.slots) - 1
	tag := tagOf(h)
	for i := int(h) & mask; ; i = (i + 1) & mask {
		switch s.tags[i] {
		case 0:
			return node{}
		case tag:
			if c := s.slots[i]; c.name() == name {
				return c
			}
		}
	}
}

// put adds c, replacing the child of the same name if there is one, and
// reports whether it replaced one.
func (s *childSet) put(c node) (replaced bool) {
	s.sorted = nil
	if (s.n+1)*4 > len(s.slots)*3 {
		s.resize(max(8, 2*len(s.slots)))
	}
	name := c.name()
	h := nameHash(name)
	mask := len(s.slots) - 1
	tag := tagOf(h)
	for i := int(h) & mask; ; i = (i + 1) & mask {
		switch s.tags[i] {
		case 0:
			s.slots[i], s.tags[i] = c, tag
			s.n++
			return false
		case tag:
			if s.slots[i].name() == name {
				s.slots[i] = c
				return true
			}
		}
	}
}

// del removes the child called name and returns it (the zero node if
// absent). The entries after it in its probe run shift back, so no
// tombstones are left.
func (s *childSet) del(name string) node {
	if s.n == 0 {
		return node{}
	}
	s.sorted = nil
	h := nameHash(name)
	mask := len(s.slots) - 1
	tag := tagOf(h)
	i := int(h) & mask
	for {
		t := s.tags[i]
		if t == 0 {
			return node{}
		}
		if t == tag && s.slots[i].name() == name {
			break
		}
		i = (i + 1) & mask
	}
	removed := s.slots[i]
	for j := (i + 1) & mask; s.tags[j] != 0; j = (j + 1) & mask {
		k := s.home(s.slots[j].name())
		// The entry at j may fill the hole at i unless its home lies
		// cyclically in (i, j].
		if (i < j && i < k && k <= j) || (i > j && (k > i || k <= j)) {
			continue
		}
		s.slots[i], s.tags[i] = s.slots[j], s.tags[j]
		i = j
	}
	s.slots[i], s.tags[i] = node{}, 0
	s.n--
	if s.n == 0 {
		s.slots, s.tags = nil, nil
	} else if len(s.slots) > 8 && s.n*8 < len(s.slots) {
		s.resize(len(s.slots) / 2)
	}
	return removed
}

// resize rehashes into size slots (a power of two above the count).
func (s *childSet) resize(size int) {
	old := s.slots
	s.slots, s.tags = make([]node, size), make([]uint8, size)
	mask := size - 1
	for _, c := range old {
		if !c.ok() {
			continue
		}
		h := nameHash(c.name())
		i := int(h) & mask
		for s.tags[i] != 0 {
			i = (i + 1) & mask
		}
		s.slots[i], s.tags[i] = c, tagOf(h)
	}
}

// reserve makes room for n children without rehashing.
func (s *childSet) reserve(n int) {
	size := 8
	for size*3 < n*4 {
		size *= 2
	}
	if size > len(s.slots) {
		s.resize(size)
	}
}

// buildSortMin is the number of children from which build fills a table
// window by window; smaller tables fit the CPU's caches anyway.
const buildSortMin = 1 << 12

// build makes the empty set s hold kids and returns a node whose name
// another of kids has too, or the zero node. The table is sized once. A
// large one is filled in the order of the kids' home slots, a window of
// about 2048 slots at a time (a counting sort on the top bits of the
// homes), and collisions compare the names only of nodes whose hashes are
// equal: filled in the kids' order, comparing names, each insert into a
// million-child table missed the cache twice, at the slot and at the node
// already in it.
func (s *childSet) build(kids []hashedNode) node {
	s.reserve(len(kids))
	if len(kids) < buildSortMin {
		for _, k := range kids {
			if s.put(k.node) {
				return k.node
			}
		}
		return node{}
	}
	mask := uint64(len(s.slots) - 1)
	shift := max(0, bits.Len64(mask)-11)
	start := make([]int, (mask>>shift)+2)
	for _, k := range kids {
		start[(k.hash&mask)>>shift+1]++
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	sorted := make([]hashedNode, len(kids))
	for _, k := range kids {
		w := (k.hash & mask) >> shift
		sorted[start[w]] = k
		start[w]++
	}
	hashes := make([]uint64, len(s.slots)) // of the node in each slot
	for _, k := range sorted {
		i := k.hash & mask
		for ; s.tags[i] != 0; i = (i + 1) & mask {
			if hashes[i] == k.hash && s.slots[i].name() == k.name() {
				return k.node
			}
		}
		s.slots[i], s.tags[i], hashes[i] = k.node, tagOf(k.hash), k.hash
		s.n++
	}
	return node{}
}

// clone returns a copy of s that shares the nodes.
func (s childSet) clone() childSet {
	return childSet{slots: slices.Clone(s.slots), tags: slices.Clone(s.tags), n: s.n}
}

// all yields the children in no particular order.
func (s *childSet) all() iter.Seq[node] {
	return func(yield func(node) bool) {
		if s == nil {
			return
		}
		for _, c := range s.slots {
			if c.ok() && !yield(c) {
				return
			}
		}
	}
}
