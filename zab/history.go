package zab

import (
	"errors"
	"fmt"
	"slices"
)

// history is this server's log as the node sees it: entries above base (the
// snapshot the tree was restored from, or a later compaction point) up to
// last. The newest entries are kept in memory (everything after memBase);
// older ones are read back through the LogReader.
//
// Invariants: base <= memBase <= last; mem holds exactly the entries in
// (memBase, last], in zxid order; persisted <= last.
type history struct {
	reader    LogReader
	base      int64
	memBase   int64
	last      int64
	persisted int64
	mem       []Entry
}

func newHistory(r LogReader, st DurableState) history {
	h := history{reader: r, base: st.SnapshotZxid, last: st.LastZxid}
	if h.last < h.base {
		h.last = h.base
	}
	h.memBase, h.persisted = h.last, h.last
	return h
}

// errStop ends a LogReader iteration early.
var errStop = errors.New("stop")

// scan calls fn for each entry with zxid > after (after >= base), in order,
// until fn returns false. Entries read from the log carry data valid only
// during the call.
func (h *history) scan(after int64, fn func(e Entry) bool) error {
	if after < h.base {
		return fmt.Errorf("zab: reading the log after %s, below its base %s", ZxidString(after), ZxidString(h.base))
	}
	if after < h.memBase {
		stopped := false
		err := h.reader.Iterate(after+1, func(zxid int64, data []byte) error {
			if zxid > h.memBase {
				return errStop
			}
			if !fn(Entry{Zxid: zxid, Data: data}) {
				stopped = true
				return errStop
			}
			return nil
		})
		if err != nil && err != errStop {
			return fmt.Errorf("zab: reading the log after %s: %w", ZxidString(after), err)
		}
		if stopped {
			return nil
		}
	}
	i, _ := slices.BinarySearchFunc(h.mem, after+1, func(e Entry, z int64) int { return cmpZxid(e.Zxid, z) })
	for _, e := range h.mem[i:] {
		if !fn(e) {
			return nil
		}
	}
	return nil
}

func cmpZxid(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// entries returns up to max entries with after < zxid <= upto, with data
// that stays valid.
func (h *history) entries(after, upto int64, max int) ([]Entry, error) {
	var out []Entry
	err := h.scan(after, func(e Entry) bool {
		if e.Zxid > upto || len(out) >= max {
			return false
		}
		if e.Zxid <= h.memBase {
			e.Data = slices.Clone(e.Data)
		}
		out = append(out, e)
		return true
	})
	return out, err
}

// floor returns the largest zxid in the history that is <= z, or base if
// there is none above base. z must be >= base.
func (h *history) floor(z int64) (int64, error) {
	if z >= h.last {
		return h.last, nil
	}
	if z >= h.memBase {
		i, _ := slices.BinarySearchFunc(h.mem, z+1, func(e Entry, z int64) int { return cmpZxid(e.Zxid, z) })
		if i == 0 {
			return h.memBase, nil
		}
		return h.mem[i-1].Zxid, nil
	}
	// Entries of z's epoch precede z only from the epoch's start; scan
	// from there when possible, else from the base.
	from := max(h.base, MakeZxid(EpochOf(z), 0))
	f := from
	if from > h.base {
		// The epoch's start may not be in the history: find the floor below
		// it first only if nothing of z's epoch is there.
		f = -1
	}
	err := h.scan(from, func(e Entry) bool {
		if e.Zxid > z {
			return false
		}
		f = e.Zxid
		return true
	})
	if err != nil {
		return 0, err
	}
	if f >= 0 {
		return f, nil
	}
	// Nothing of z's epoch up to z: scan everything up to z.
	f = h.base
	err = h.scan(h.base, func(e Entry) bool {
		if e.Zxid > z {
			return false
		}
		f = e.Zxid
		return true
	})
	return f, err
}

// append adds entries that follow last.
func (h *history) append(es []Entry) {
	h.mem = append(h.mem, es...)
	h.last = es[len(es)-1].Zxid
}

// truncate drops every entry above z (z >= base); the new last is the floor
// of z. The driver makes the remaining log durable along with the
// truncation, so persisted becomes last.
func (h *history) truncate(z int64) error {
	f, err := h.floor(z)
	if err != nil {
		return err
	}
	if f < h.memBase {
		h.mem, h.memBase = nil, f
	} else {
		i, _ := slices.BinarySearchFunc(h.mem, f+1, func(e Entry, z int64) int { return cmpZxid(e.Zxid, z) })
		clear(h.mem[i:])
		h.mem = h.mem[:i]
	}
	h.last, h.persisted = f, f
	return nil
}

// reset replaces the history by a snapshot at z.
func (h *history) reset(z int64) {
	h.base, h.memBase, h.last, h.persisted = z, z, z, z
	h.mem = nil
}

// compact raises the base to z (entries up to z may leave the log).
func (h *history) compact(z int64) {
	z = min(z, h.last)
	if z <= h.base {
		return
	}
	h.base = z
	if h.memBase < z {
		h.dropMem(z)
	}
}

// dropMem forgets the in-memory entries up to z.
func (h *history) dropMem(z int64) {
	i, _ := slices.BinarySearchFunc(h.mem, z+1, func(e Entry, z int64) int { return cmpZxid(e.Zxid, z) })
	if i == 0 {
		return
	}
	h.memBase = h.mem[i-1].Zxid
	n := copy(h.mem, h.mem[i:])
	clear(h.mem[n:])
	h.mem = h.mem[:n]
}

// trim keeps at most keep entries in memory that are both applied and
// persisted (the others stay until they are).
func (h *history) trim(applied int64, keep int) {
	limit := min(applied, h.persisted)
	i, _ := slices.BinarySearchFunc(h.mem, limit+1, func(e Entry, z int64) int { return cmpZxid(e.Zxid, z) })
	if i > 2*keep {
		h.dropMem(h.mem[i-keep-1].Zxid)
	}
}
