package jepsen

import (
	"fmt"
	"maps"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zkgo/zkgo/test/harness"
)

// What a damaged ensemble member logs (server/quorum.go).
const (
	damagedLine  = "neither votes nor leads until a leader has synced it"
	repairedLine = "the transaction log is repaired"
	loadedLine   = "database loaded for the ensemble"
)

// maxFailStops bounds how often a damaged server may stop on a bad read
// at run time and be started again before the test calls it a crash loop.
const maxFailStops = 3

// storageFaults is the nemesis's storage fault: a killed server's data
// directory damaged at random (see damage), then the server relaunched.
// Only while a quorum of whole logs is certain:
//
//   - at most one server is damaged at a time: the next only once the last
//     one has logged that its log is repaired, or, if it found no damage,
//     serves again;
//   - never while fewer than a quorum of the other servers are up, whole
//     and serving.
//
// It also watches every server between rounds (every other fault is undone
// by then): a server that exited by itself is reported, except a damaged
// one that stopped on the damage (pebble refusing its own damaged files at
// open, or a bad read at run time), which is started again, as an operator
// would: after a bad read as it is, after pebble's refusal with its data
// directory wiped, to rejoin as a new member synced by the leader.
type storageFaults struct {
	t       *testing.T
	servers []*harness.Server
	rng     *rand.Rand
	enabled bool // the nemesis damages storage
	began   time.Time

	cur      *damaged                 // the server damaged last, until repaired; nil if none
	ever     map[*harness.Server]bool // damaged at some time in the run
	launched map[*harness.Server]int  // length of a server's log when relaunch started it
	events   []string                 // for the schedule
	counts   map[string]int           // outcomes
}

// damaged is the state of the server damaged last.
type damaged struct {
	s        *harness.Server
	what     string // the damage, for the log
	pebble   bool   // one of pebble's own files (MANIFEST, OPTIONS, CURRENT, markers)
	detected bool   // it logged damagedLine
	wiped    bool   // its data directory was wiped
	stops    int    // times it stopped on a bad read at run time
}

// newStorageFaults returns the storage faults of a run on servers, drawn
// with rng; the nemesis damages storage only if enabled, but every server
// is watched either way.
func newStorageFaults(t *testing.T, servers []*harness.Server, rng *rand.Rand, enabled bool) *storageFaults {
	return &storageFaults{t: t, servers: servers, rng: rng, enabled: enabled, began: time.Now(),
		ever: map[*harness.Server]bool{}, launched: map[*harness.Server]int{}, counts: map[string]int{}}
}

func (sf *storageFaults) note(format string, args ...any) {
	e := fmt.Sprintf("at %v: ", time.Since(sf.began).Round(time.Millisecond)) + fmt.Sprintf(format, args...)
	sf.events = append(sf.events, e)
	sf.t.Logf("storage nemesis: %s", e)
}

// mayDamage reports whether victim may be damaged now: no server is under
// repair, and a quorum of the others are up and serving, leaving out those
// taken by another fault of the round (busy) and the victims of the round's
// faults still to be chosen (more).
func (sf *storageFaults) mayDamage(victim *harness.Server, busy map[*harness.Server]bool, more int) bool {
	if sf.cur != nil {
		return false
	}
	up := 0
	for _, s := range sf.servers {
		if s != victim && !busy[s] && s.Alive() {
			if m := s.Mode(); m == "leader" || m == "follower" {
				up++
			}
		}
	}
	return up-more >= len(sf.servers)/2+1
}

// damage kills s, damages one of its files and returns what it did; relaunch
// starts it again.
func (sf *storageFaults) damage(s *harness.Server) string {
	s.Kill()
	what, pebble, err := damageDataDir(filepath.Join(s.Dir(), "data"), sf.rng)
	if err != nil {
		sf.t.Errorf("storage nemesis: damage server %d: %v", s.ID(), err)
	}
	sf.cur = &damaged{s: s, what: what, pebble: pebble}
	sf.ever[s] = true
	return what
}

// under reports whether s is the server under repair.
func (sf *storageFaults) under(s *harness.Server) bool { return sf.cur != nil && sf.cur.s == s }

// relaunch starts the damaged server s without waiting for it to serve.
func (sf *storageFaults) relaunch(s *harness.Server) {
	sf.launched[s] = len(s.Log())
	if err := s.Relaunch(); err != nil {
		sf.t.Errorf("storage nemesis: relaunch server %d: %v", s.ID(), err)
	}
}

// check looks at every server between rounds: it restarts those that
// exited by themselves (reporting those that had no reason to) and follows
// the repair of the damaged one.
func (sf *storageFaults) check() {
	for _, s := range sf.servers {
		if s.Alive() {
			continue
		}
		last := lastError(s.Log()[sf.launched[s]:])
		switch {
		case sf.under(s):
			sf.damagedExit(last)
		case sf.ever[s] && storageError(last):
			// Damage no start looked at (an sstable of purged entries)
			// found by a read at run time: the server stops, and its next
			// start finds it.
			sf.counts["stopped later"]++
			sf.note("s%d, damaged earlier, stopped: %s; started again", s.ID(), last)
			sf.relaunch(s)
		default:
			sf.t.Errorf("storage nemesis: server %d exited by itself (damaged before: %v): %s", s.ID(), sf.ever[s], last)
			sf.relaunch(s)
		}
	}
	d := sf.cur
	if d == nil || !d.s.Alive() {
		return
	}
	log := d.s.Log()[sf.launched[d.s]:]
	if !d.detected && strings.Contains(log, damagedLine) {
		d.detected = true
		sf.counts["detected"]++
		sf.note("s%d found the damage: %s", d.s.ID(), message(log, damagedLine))
	}
	mode := d.s.Mode()
	serving := mode == "leader" || mode == "follower"
	switch {
	case strings.Contains(log, repairedLine):
		sf.counts["repaired"]++
		sf.note("s%d repaired (%s)", d.s.ID(), mode)
		sf.cur = nil
	case d.wiped && serving:
		sf.counts["rejoined after wipe"]++
		sf.note("s%d, wiped, rejoined as %s", d.s.ID(), mode)
		sf.cur = nil
	case d.detected && serving:
		// A learner serves once its leader's NEWLEADER is acknowledged,
		// which clears Repairing; the server logs repairedLine only for a
		// log that lost entries, not for a damaged snapshot or a log cut
		// before a bad entry.
		sf.counts["repaired, not logged"]++
		sf.note("s%d serves again as %s (synced, so repaired) without logging %q", d.s.ID(), mode, repairedLine)
		sf.cur = nil
	case !d.detected && serving && strings.Contains(log, loadedLine):
		sf.counts["not detected"]++
		sf.note("s%d found no damage and serves as %s", d.s.ID(), mode)
		sf.cur = nil
	}
}

// damagedExit handles the exit of the damaged server: pebble's refusal of
// its own damaged files (expected: its data directory is wiped), any other
// refusal to start (a failure: a member must start and repair), or a stop
// at run time on a bad read (started again, up to maxFailStops times).
func (sf *storageFaults) damagedExit(last string) {
	d := sf.cur
	started := strings.Contains(d.s.Log()[sf.launched[d.s]:], loadedLine)
	switch {
	case started && storageError(last) && d.stops < maxFailStops:
		d.stops++
		sf.counts["stopped on a bad read"]++
		sf.note("s%d stopped at run time on the damage: %s; started again", d.s.ID(), last)
		sf.relaunch(d.s)
		return
	case started:
		sf.t.Errorf("storage nemesis: server %d, damaged by %s, stopped (%d times before): %s", d.s.ID(), d.what, d.stops, last)
	case d.pebble:
		sf.counts["refused (pebble)"]++
	default:
		sf.t.Errorf("storage nemesis: server %d refused to start after %s instead of repairing from the leader: %s", d.s.ID(), d.what, last)
	}
	sf.note("s%d exited: %s; data directory wiped, rejoins as a new member", d.s.ID(), last)
	if err := wipeDataDir(filepath.Join(d.s.Dir(), "data")); err != nil {
		sf.t.Errorf("storage nemesis: wipe server %d: %v", d.s.ID(), err)
	}
	d.wiped = true
	sf.relaunch(d.s)
}

// settle waits, once the run is over and the ensemble serves again, until
// the damaged server is repaired, failing the test if it never is.
func (sf *storageFaults) settle() {
	deadline := time.Now().Add(recoveryTimeout)
	for sf.check(); sf.cur != nil; sf.check() {
		if time.Now().After(deadline) {
			d := sf.cur
			sf.t.Errorf("storage nemesis: server %d, damaged by %s, not repaired %v after the run (mode %q, found the damage: %v)",
				d.s.ID(), d.what, recoveryTimeout, d.s.Mode(), d.detected)
			return
		}
		time.Sleep(pollInterval)
	}
}

// checkDamaged checks that every server damaged during the run serves every
// acknowledged create (acked: their full paths) once the ensemble has
// settled: a repair that left a hole in a server's log or tree loses
// acknowledged writes for the clients of that server only, which the final
// reads through one session may not see.
func (sf *storageFaults) checkDamaged(acked []string, rng *rand.Rand) {
	for _, s := range sf.servers {
		if !sf.ever[s] {
			continue
		}
		conn := connect(sf.t, []*harness.Server{s}, rng)
		has := map[string]bool{}
		for p := range seqParents {
			parent := seqParent(p)
			if _, err := conn.Sync(parent); err != nil {
				sf.t.Fatalf("server %d: sync %s: %v", s.ID(), parent, err)
			}
			children, _, err := conn.Children(parent)
			if err != nil {
				sf.t.Fatalf("server %d: children of %s: %v", s.ID(), parent, err)
			}
			for _, c := range children {
				has[parent+"/"+c] = true
			}
		}
		conn.Close()
		var missing []string
		for _, name := range acked {
			if !has[name] {
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			sf.t.Errorf("storage nemesis: server %d, damaged during the run, lacks %d of %d acknowledged creates after the run (first %s)",
				s.ID(), len(missing), len(acked), missing[0])
		} else {
			sf.t.Logf("storage nemesis: server %d, damaged during the run, serves all %d acknowledged creates", s.ID(), len(acked))
		}
	}
}

// summary lists the outcomes and the events.
func (sf *storageFaults) summary() string {
	if !sf.enabled {
		return "off"
	}
	if len(sf.events) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(sf.counts)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, sf.counts[k]))
	}
	return fmt.Sprintf("outcomes: %s; events: %s", strings.Join(parts, " "), strings.Join(sf.events, "; "))
}

// message returns the first line of a server log that contains text,
// without its time stamp, level and source position.
func message(log, text string) string {
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, text) {
			f := strings.SplitN(l, "\t", 4)
			return f[len(f)-1]
		}
	}
	return ""
}

// storageError reports whether a server's last error is about its storage:
// a server stops on a bad read of its log or snapshots (fail-stop).
func storageError(last string) bool {
	return strings.Contains(last, "corrupt") || strings.Contains(last, "storage") || strings.Contains(last, "pebble")
}

// pollInterval paces the polls of settle.
const pollInterval = 100 * time.Millisecond

// lastError returns why a server stopped: the log's last line if it is
// zkserver's exit message or a panic, else the last line that reports an
// error (zap's ERROR, DPANIC or FATAL level), without its time stamp and
// source position, else the last line.
func lastError(log string) string {
	lines := strings.Split(strings.TrimRight(log, "\n"), "\n")
	if l := lines[len(lines)-1]; strings.HasPrefix(l, "zkserver:") {
		return l
	}
	for i := len(lines) - 1; i >= 0; i-- {
		// zap's console lines: time, level, caller, message and fields,
		// separated by tabs.
		f := strings.SplitN(lines[i], "\t", 4)
		if len(f) == 4 && (f[1] == "ERROR" || f[1] == "DPANIC" || f[1] == "FATAL") {
			return f[3]
		}
		if strings.HasPrefix(lines[i], "panic:") {
			return lines[i]
		}
	}
	return lines[len(lines)-1]
}

// txnlogDir is the transaction log's directory in a data directory.
const txnlogDir = "version-2/txnlog"

// Damage targets: the transaction log's files (pebble's write-ahead files
// and sstables, our high-water file, pebble's own MANIFEST, OPTIONS,
// CURRENT and marker files) and the snapshots. Pebble's own files are drawn
// less often: damage there may make pebble refuse to open at all.
var damageTargets = []struct {
	dir    string // in the data directory
	weight int
	match  func(base string) bool
	pebble bool
}{
	{txnlogDir, 3, func(b string) bool { return strings.HasSuffix(b, ".log") }, false},
	{txnlogDir, 2, func(b string) bool { return strings.HasSuffix(b, ".sst") }, false},
	{txnlogDir, 2, func(b string) bool { return b == "zkgo-highwater" }, false},
	{"version-2", 2, func(b string) bool { return strings.HasPrefix(b, "snapshot.") }, false},
	{txnlogDir, 1, func(b string) bool {
		return strings.HasPrefix(b, "MANIFEST") || strings.HasPrefix(b, "OPTIONS") || b == "CURRENT" || strings.HasPrefix(b, "marker.")
	}, true},
}

// damageDataDir damages one file of a stopped server's data directory at
// random: flips bytes, truncates it, zeroes a range, or deletes it. It
// returns what it did ("flip 3B at 1234 of version-2/txnlog/000005.log
// (40960B)") and whether the file is one of pebble's own.
func damageDataDir(dataDir string, rng *rand.Rand) (what string, pebble bool, err error) {
	var candidates [][]string // per target
	total := 0
	for _, tg := range damageTargets {
		var files []string
		dir := filepath.Join(dataDir, tg.dir)
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if e.Type().IsRegular() && tg.match(e.Name()) {
				files = append(files, filepath.Join(dir, e.Name()))
			}
		}
		candidates = append(candidates, files)
		if len(files) > 0 {
			total += tg.weight
		}
	}
	if total == 0 {
		return "", false, fmt.Errorf("no file to damage in %s", dataDir)
	}
	pick := rng.Intn(total)
	var files []string
	for i, tg := range damageTargets {
		if len(candidates[i]) == 0 {
			continue
		}
		if pick < tg.weight {
			files, pebble = candidates[i], tg.pebble
			break
		}
		pick -= tg.weight
	}
	path := files[rng.Intn(len(files))]
	rel, _ := filepath.Rel(dataDir, path)
	data, err := os.ReadFile(path)
	if err != nil {
		return "", pebble, err
	}
	size := len(data)
	kind := []string{"flip", "truncate", "zero", "delete"}[rng.Intn(4)]
	if size == 0 {
		kind = "delete"
	}
	switch kind {
	case "flip":
		n := 1 + rng.Intn(16)
		off := rng.Intn(size)
		for i := range n {
			data[(off+i)%size] ^= byte(1 + rng.Intn(255))
		}
		what = fmt.Sprintf("flip %dB at %d", n, off)
	case "truncate":
		off := rng.Intn(size)
		data = data[:off]
		what = fmt.Sprintf("truncate at %d", off)
	case "zero":
		off := rng.Intn(size)
		n := 1 + rng.Intn(min(size-off, 4096))
		clear(data[off : off+n])
		what = fmt.Sprintf("zero %dB at %d", n, off)
	case "delete":
		return fmt.Sprintf("delete %s (%dB)", rel, size), pebble, os.Remove(path)
	}
	return fmt.Sprintf("%s of %s (%dB)", what, rel, size), pebble, os.WriteFile(path, data, 0o644)
}

// wipeDataDir removes everything in a server's data directory but its myid.
func wipeDataDir(dataDir string) error {
	entries, err := os.ReadDir(dataDir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Name() == "myid" {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dataDir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}
