package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

// CPU pinning. The servers under test and the load generator share the
// machine; left to the scheduler, they take CPU from each other, and how
// much depends on each implementation's threads, so the throughput ratio
// mixes the servers' cost with the load generator's. Pinned, the servers
// (all 3 processes of either implementation, every thread of the JVMs
// included) run on one set of CPUs and zkbench's own process on a
// disjoint set: each side has its CPUs to itself, and the servers' CPU
// is the same for both implementations.
//
// A child process is pinned by starting it from a thread that is pinned
// already: fork copies the calling thread's affinity into the child, and
// exec keeps it, so the server's first thread has the server set before it
// runs a single instruction and every thread it creates (a JVM's compiler
// and GC threads, a Go runtime's Ms) inherits it. Setting the affinity of
// a child after it has started would race with the threads it creates
// meanwhile. zkbench pins itself the same way, every thread it has at the
// start; the threads Go creates later inherit the set from their creator.

// cpuSet is a sorted list of CPU numbers.
type cpuSet []int

// String renders the set as a CPU list ("0", "0-3,6").
func (s cpuSet) String() string {
	var parts []string
	for i := 0; i < len(s); {
		j := i
		for j+1 < len(s) && s[j+1] == s[j]+1 {
			j++
		}
		if i == j {
			parts = append(parts, strconv.Itoa(s[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", s[i], s[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// parseCPUList parses a CPU list as the kernel writes them ("0-3,6").
func parseCPUList(list string) (cpuSet, error) {
	var s cpuSet
	for _, part := range strings.Split(strings.TrimSpace(list), ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		b := a
		if err == nil && isRange {
			b, err = strconv.Atoi(hi)
		}
		if err != nil || a < 0 || b < a || b >= maxCPUs {
			return nil, fmt.Errorf("bad CPU list %q", list)
		}
		for c := a; c <= b; c++ {
			s = append(s, c)
		}
	}
	slices.Sort(s)
	return slices.Compact(s), nil
}

// maxCPUs is the size of the affinity masks zkbench passes to the kernel.
const maxCPUs = 1024

// cpuMask is a kernel CPU affinity mask (cpu_set_t).
type cpuMask [maxCPUs / 64]uint64

func (s cpuSet) mask() *cpuMask {
	var m cpuMask
	for _, c := range s {
		m[c/64] |= 1 << (c % 64)
	}
	return &m
}

func (m *cpuMask) set() cpuSet {
	var s cpuSet
	for c := 0; c < maxCPUs; c++ {
		if m[c/64]&(1<<(c%64)) != 0 {
			s = append(s, c)
		}
	}
	return s
}

// threadAffinity returns the CPUs thread tid (0: the calling thread) may
// run on.
func threadAffinity(tid int) (cpuSet, error) {
	var m cpuMask
	_, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_GETAFFINITY, uintptr(tid), unsafe.Sizeof(m), uintptr(unsafe.Pointer(&m)))
	if errno != 0 {
		return nil, fmt.Errorf("sched_getaffinity: %v", errno)
	}
	return m.set(), nil
}

// setThreadAffinity restricts thread tid (0: the calling thread) to s.
func setThreadAffinity(tid int, s cpuSet) error {
	m := s.mask()
	_, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, uintptr(tid), unsafe.Sizeof(*m), uintptr(unsafe.Pointer(m)))
	if errno != 0 {
		return fmt.Errorf("sched_setaffinity(%s): %v", s, errno)
	}
	return nil
}

// pinning says where the servers and the load generator run; nil sets
// mean unpinned.
type pinning struct {
	servers, load cpuSet
}

// pinned reports whether processes are pinned at all.
func (p pinning) pinned() bool { return len(p.servers) > 0 }

// describe renders the pinning for the run's header and report.
func (p pinning) describe() string {
	if !p.pinned() {
		return "not pinned (servers and load generator share every CPU)"
	}
	return fmt.Sprintf("servers on CPU %s, load generator on CPU %s", p.servers, p.load)
}

// defaultPinning splits the CPUs zkbench may run on: the load generator
// gets the upper half (rounded down), the servers the rest; on 2 CPUs,
// servers on the first and the load generator on the second. With fewer
// than 2 CPUs nothing is pinned.
func defaultPinning() (pinning, error) {
	all, err := threadAffinity(0)
	if err != nil {
		return pinning{}, err
	}
	if len(all) < 2 {
		return pinning{}, nil
	}
	n := len(all) - len(all)/2
	return pinning{servers: all[:n], load: all[n:]}, nil
}

// checkPinning refuses overlapping or empty sets.
func checkPinning(p pinning) error {
	if len(p.servers) == 0 || len(p.load) == 0 {
		return errors.New("both CPU sets must be non-empty")
	}
	for _, c := range p.servers {
		if slices.Contains(p.load, c) {
			return fmt.Errorf("CPU %d is in both the server set (%s) and the load set (%s)", c, p.servers, p.load)
		}
	}
	return nil
}

// pinSelf restricts every thread of this process to s and sets
// GOMAXPROCS to its size. Threads created from here on inherit the set
// from the thread that creates them; a thread being created while the
// list is read is caught by reading it again until no new thread shows
// up.
func pinSelf(s cpuSet) error {
	done := map[int]bool{}
	for {
		tids, err := threads(os.Getpid())
		if err != nil {
			return err
		}
		fresh := 0
		for _, tid := range tids {
			if done[tid] {
				continue
			}
			if err := setThreadAffinity(tid, s); err != nil && !errors.Is(err, syscall.ESRCH) {
				return err
			}
			done[tid] = true
			fresh++
		}
		if fresh == 0 {
			break
		}
	}
	runtime.GOMAXPROCS(len(s))
	return nil
}

// threads lists the thread ids of process pid.
func threads(pid int) ([]int, error) {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return nil, err
	}
	var tids []int
	for _, e := range ents {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			tids = append(tids, tid)
		}
	}
	return tids, nil
}

// startPinned starts cmd restricted to s (unrestricted for an empty s):
// from a goroutine locked to its thread, that thread's affinity is set to
// s for the fork and set back afterwards. The thread must live on (its
// exit would send the child its Pdeathsig), so it is unlocked again, not
// left to exit with the goroutine.
func startPinned(cmd *exec.Cmd, s cpuSet) error {
	if len(s) == 0 {
		return cmd.Start()
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		own, err := threadAffinity(0)
		if err == nil {
			err = setThreadAffinity(0, s)
		}
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		err = cmd.Start()
		if rerr := setThreadAffinity(0, own); rerr != nil {
			// The thread, still locked, exits with this goroutine rather
			// than run others on the server CPUs; a child started from
			// it gets its Pdeathsig, and the start counts as failed.
			errc <- errors.Join(err, rerr)
			return
		}
		runtime.UnlockOSThread()
		errc <- err
	}()
	return <-errc
}

// processAffinity returns the union of the CPU sets of every thread of
// process pid, from /proc.
func processAffinity(pid int) (cpuSet, error) {
	tids, err := threads(pid)
	if err != nil {
		return nil, err
	}
	var all cpuSet
	for _, tid := range tids {
		s, err := threadAffinity(tid)
		if err != nil {
			continue // the thread has exited
		}
		all = append(all, s...)
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("process %d: no thread's affinity could be read", pid)
	}
	slices.Sort(all)
	return slices.Compact(all), nil
}
