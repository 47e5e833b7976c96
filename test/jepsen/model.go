// Package jepsen is a Jepsen-style test suite for zkserver ensembles: client
// sessions spread over the servers of a real 3- or 5-server ensemble run
// register and sequential-create workloads while a nemesis kills, restarts
// and pauses servers; the recorded histories are checked for
// linearizability with porcupine, and at the end every acknowledged write
// must be present.
//
// What is checked, and what is claimed:
//   - register (a few znodes, setData with version -1 = write, with an
//     expected version = cas, sync+getData = read): linearizable, with
//     porcupine. Only reads preceded by sync on the same session are in this
//     history; a plain getData may be served by a lagging follower, which
//     ZooKeeper allows, so plain reads are checked for what ZooKeeper does
//     promise (sequential consistency): every (version, value) seen agrees
//     with one order of writes, and a session never sees a key's version go
//     back (FIFO client order, read-your-writes, monotonic reads). Caveat:
//     in Apache ZooKeeper sync is not a quorum operation, so a sync+read
//     answered by a deposed leader that does not yet know it (a paused
//     leader) may be stale; a violation seen only on synced reads around a
//     pause-leader fault would be that corner rather than a lost write.
//   - sequential create: every acknowledged name is unique, names on one
//     parent increase in real-time order (porcupine, seqModel), and every
//     acknowledged node is present at the end.
//   - no acknowledged write lost: the final synced reads are part of the
//     register history, so a lost acknowledged setData makes it illegal.
//
// Operations that failed with anything but a definite answer (connection
// loss, session expiry, ...) have an unknown outcome: they may have taken
// effect at any time after their call (porcupine: they never return).
package jepsen

import (
	"fmt"
	"math"
	"slices"

	"github.com/anishathalye/porcupine"
)

// infinity is the return time of an operation whose outcome is unknown
// (connection loss, session expiry, ...): it may take effect at any point
// after its call, or never.
const infinity = math.MaxInt64

// opKind is the kind of a register operation.
type opKind int

const (
	opRead  opKind = iota // sync + getData
	opWrite               // setData with version -1
	opCAS                 // setData with an expected version
)

// regInput is a register operation on one key.
type regInput struct {
	Key     string
	Kind    opKind
	Value   int   // written value (write, cas)
	Version int32 // expected version (cas)
	// MaxGhosts bounds the ghost writes (see registerModel) that may have
	// taken effect before this operation: the unresolved unknown writes on
	// Key called before it returned.
	MaxGhosts int
}

// regOutput is what a register operation returned.
type regOutput struct {
	Unknown bool  // no definite answer: may or may not have taken effect
	Failed  bool  // cas: definite failure (version conflict)
	Value   int   // read: value seen
	Version int32 // read: version seen; write, cas: the new version
}

// regState is one key's register: its value and znode data version, and
// how many ghost writes have taken effect so far.
type regState struct {
	Value   int
	Version int32
	Ghosts  int
}

// ghostValue is the value of a register after a ghost write.
const ghostValue = -1

// registerModel models each key as a register with a version, like a znode:
// every successful setData increments the version, and setData with an
// expected version is a compare-and-set on it.
//
// Writes with an unknown outcome make the search exponential when given to
// porcupine as operations that never return, so resolveUnknown turns them
// into either
//   - a known write, when somebody read its (unique) value: it took effect
//     with the version it was read at (it still never returns), or
//   - a ghost: nobody ever saw its value, so if it took effect it was
//     overwritten unseen, and the only trace it can leave is a version
//     number skipped. Ghosts are dropped from the history; the model lets
//     the version skip ahead (or a cas fail) only by as many ghosts as had
//     been called before the operation that observes the skip returned.
//
// Reads must match the state exactly.
var registerModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		var keys []string
		for _, op := range history {
			k := op.Input.(regInput).Key
			if _, ok := byKey[k]; !ok {
				keys = append(keys, k)
			}
			byKey[k] = append(byKey[k], op)
		}
		out := make([][]porcupine.Operation, 0, len(keys))
		for _, k := range keys {
			out = append(out, byKey[k])
		}
		return out
	},
	Init: func() any { return regState{} },
	Step: func(state, input, output any) (bool, any) {
		s, in, out := state.(regState), input.(regInput), output.(regOutput)
		// skipTo applies the ghosts needed to bring the version to prev.
		skipTo := func(prev int32) (bool, int) {
			need := int(prev - s.Version)
			return need >= 0 && s.Ghosts+need <= in.MaxGhosts, s.Ghosts + need
		}
		switch in.Kind {
		case opRead:
			return !out.Unknown && out.Value == s.Value && out.Version == s.Version, s
		case opWrite:
			if out.Unknown { // only in hand-made histories: resolveUnknown removes them
				return true, regState{Value: in.Value, Version: s.Version + 1, Ghosts: s.Ghosts}
			}
			ok, ghosts := skipTo(out.Version - 1)
			return ok, regState{Value: in.Value, Version: out.Version, Ghosts: ghosts}
		case opCAS:
			switch {
			case out.Unknown:
				if s.Version == in.Version {
					return true, regState{Value: in.Value, Version: s.Version + 1, Ghosts: s.Ghosts}
				}
				return true, s
			case out.Failed:
				if s.Version != in.Version {
					return true, s
				}
				// Only a ghost write just before could have made it fail.
				return s.Ghosts < in.MaxGhosts, regState{Value: ghostValue, Version: s.Version + 1, Ghosts: s.Ghosts + 1}
			default:
				ok, ghosts := skipTo(in.Version)
				return ok && out.Version == in.Version+1, regState{Value: in.Value, Version: out.Version, Ghosts: ghosts}
			}
		}
		return false, s
	},
	DescribeOperation: func(input, output any) string {
		in, out := input.(regInput), output.(regOutput)
		var res string
		switch {
		case out.Unknown:
			res = "?"
		case out.Failed:
			res = "fail"
		default:
			res = fmt.Sprintf("v%d", out.Version)
		}
		switch in.Kind {
		case opRead:
			return fmt.Sprintf("read(%s) -> %d@v%d", in.Key, out.Value, out.Version)
		case opWrite:
			return fmt.Sprintf("write(%s, %d) -> %s", in.Key, in.Value, res)
		default:
			return fmt.Sprintf("cas(%s, v%d, %d) -> %s", in.Key, in.Version, in.Value, res)
		}
	},
	DescribeState: func(state any) string {
		s := state.(regState)
		return fmt.Sprintf("%d@v%d (ghosts %d)", s.Value, s.Version, s.Ghosts)
	},
}

// resolveUnknown rewrites the register history as registerModel expects:
// an unknown write whose value somebody observed (seen maps key and value
// to the version it was seen at) becomes a write known to have taken effect
// at that version (never returning); the others become ghosts, dropped, and
// every remaining operation's MaxGhosts counts the ghosts on its key called
// before it returned. It returns the new history and the number of each.
func resolveUnknown(ops []porcupine.Operation, seen map[string]map[int]int32) (out []porcupine.Operation, resolved, ghosts int) {
	ghostCalls := map[string][]int64{}
	for _, op := range ops {
		in, res := op.Input.(regInput), op.Output.(regOutput)
		if !res.Unknown {
			out = append(out, op)
			continue
		}
		if v, ok := seen[in.Key][in.Value]; ok {
			op.Output = regOutput{Version: v}
			out = append(out, op)
			resolved++
			continue
		}
		ghostCalls[in.Key] = append(ghostCalls[in.Key], op.Call)
		ghosts++
	}
	for i := range out {
		in := out[i].Input.(regInput)
		in.MaxGhosts = 0
		for _, c := range ghostCalls[in.Key] {
			if c <= out[i].Return {
				in.MaxGhosts++
			}
		}
		out[i].Input = in
	}
	return out, resolved, ghosts
}

// seqInput is a sequential create under Parent.
type seqInput struct {
	Parent string
}

// seqOutput is the sequence number a sequential create got, or Unknown.
type seqOutput struct {
	Unknown bool
	Seq     int64
}

// seqModel models a parent's sequence counter: each acknowledged sequential
// create gets a number at least the counter's (failed or unknown creates may
// consume numbers), and the counter moves past it.
var seqModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byParent := map[string][]porcupine.Operation{}
		var parents []string
		for _, op := range history {
			p := op.Input.(seqInput).Parent
			if _, ok := byParent[p]; !ok {
				parents = append(parents, p)
			}
			byParent[p] = append(byParent[p], op)
		}
		out := make([][]porcupine.Operation, 0, len(parents))
		for _, p := range parents {
			out = append(out, byParent[p])
		}
		return out
	},
	Init: func() any { return int64(0) },
	Step: func(state, _, output any) (bool, any) {
		next, out := state.(int64), output.(seqOutput)
		if out.Unknown {
			return true, next
		}
		return out.Seq >= next, out.Seq + 1
	},
	DescribeOperation: func(input, output any) string {
		in, out := input.(seqInput), output.(seqOutput)
		if out.Unknown {
			return fmt.Sprintf("create(%s/s-) -> ?", in.Parent)
		}
		return fmt.Sprintf("create(%s/s-) -> %010d", in.Parent, out.Seq)
	},
	DescribeState: func(state any) string { return fmt.Sprintf("next >= %d", state.(int64)) },
}

// observation is a (version, value) of a key that one client saw, in the
// client's program order, within one session.
type observation struct {
	Client  int
	Session int64
	Index   int // program order within the client
	Key     string
	Version int32
	Value   int
	// Mzxid is the zxid of the write that made Version (the Stat's
	// mzxid): where in the history this state of Key lies.
	Mzxid int64
	What  string
}

// monotonicReadViolations checks that no session reads older data than it
// read (or wrote) before, across keys: once a session has seen the state
// of the history at zxid h (the newest mzxid among its earlier
// observations), a key it reads must not be in a state that a write at or
// below h had already replaced. The writes known are those some
// observation shows (any client's): an observation of key k at mzxid m
// violates this if a write of k at w with m < w <= h is known. A server
// that answered a session from an older tree after a change of leader (a
// truncation below what it served) shows up here. The per-key case is also
// checkSequential's; this one catches a session reading key B from before
// a state of key A it had already seen. Observations are in each client's
// program order.
func monotonicReadViolations(obs []observation) []string {
	writes := map[string][]int64{} // key -> the mzxids seen, sorted
	for _, o := range obs {
		writes[o.Key] = append(writes[o.Key], o.Mzxid)
	}
	for k, ws := range writes {
		slices.Sort(ws)
		writes[k] = slices.Compact(ws)
	}
	type session struct {
		client int
		id     int64
	}
	type horizon struct {
		zxid int64
		at   observation
	}
	seen := map[session]horizon{}
	var out []string
	for _, o := range obs {
		s := session{o.Client, o.Session}
		h := seen[s]
		ws := writes[o.Key]
		// The first known write of o.Key after o.Mzxid.
		i, _ := slices.BinarySearch(ws, o.Mzxid+1)
		if i < len(ws) && ws[i] <= h.zxid {
			out = append(out, fmt.Sprintf("client %d session %#x read %s at mzxid %#x (%s, version %d) after seeing zxid %#x (%s of %s); %s had been written at %#x",
				o.Client, o.Session, o.Key, o.Mzxid, o.What, o.Version, h.zxid, h.at.What, h.at.Key, o.Key, ws[i]))
		}
		if o.Mzxid > h.zxid {
			seen[s] = horizon{zxid: o.Mzxid, at: o}
		}
	}
	return out
}
