package main

import (
	"fmt"
	"sync"
	"syscall"
	"time"
)

// runJuteWorkload opens conns jute sessions spread over the ensemble, runs
// f on them for d with outstanding operations in flight on each, measures
// the servers' CPU time meanwhile and closes the sessions. Opening and
// closing are not timed: each run has sessions of its own, so none sits
// idle (without pings) between runs.
func runJuteWorkload(e *ensemble, conns, outstanding int, d time.Duration, f jop) sample {
	sessions, err := dialJuteAll(e.addrs(), conns, sessionTimeout)
	if err != nil {
		return sample{errors: 1, firstErr: err}
	}
	defer closeJute(sessions)
	meter := startMeter(e.cpu)
	s := runJute(sessions, outstanding, d, f)
	s.serverCPU = meter()
	return s
}

// scaleWorkloads are the workloads of the scaling measurement, at the
// first value size.
var scaleWorkloads = []string{"getData", "setData"}

// measureScaling runs each of scaleWorkloads for d on conns jute sessions,
// each a synchronous client (one request in flight), and reads the
// servers' resident memory while the sessions are open.
func measureScaling(e *ensemble, conns int, d time.Duration, value []byte) []ScalePoint {
	var points []ScalePoint
	sessions, err := dialJuteAll(e.addrs(), conns, sessionTimeout)
	if err != nil {
		for _, name := range scaleWorkloads {
			points = append(points, ScalePoint{Conns: conns, Result: Result{Workload: name, Client: clientJute, FirstError: err.Error()}})
		}
		return points
	}
	defer closeJute(sessions)
	for _, name := range scaleWorkloads {
		w := workloadNamed(name)
		meter := startMeter(e.cpu)
		s := runJute(sessions, 1, d, w.jute(value, fmt.Sprintf("s%d", conns)))
		s.serverCPU = meter()
		r := s.result(name)
		r.Client = clientJute
		pt := ScalePoint{Conns: conns, Result: r}
		if rss, err := e.rss(); err == nil {
			pt.RSS = sum(rss)
		}
		points = append(points, pt)
	}
	return points
}

// workloadNamed returns the workload called name, which must exist.
func workloadNamed(name string) workload {
	w, ok := findWorkload(name)
	if !ok {
		panic("no workload " + name)
	}
	return w
}

// findWorkload returns the workload called name, if there is one.
func findWorkload(name string) (workload, bool) {
	for _, w := range workloads {
		if w.name == name {
			return w, true
		}
	}
	return workload{}, false
}

// sum adds up xs.
func sum(xs []int64) int64 {
	var t int64
	for _, x := range xs {
		t += x
	}
	return t
}

// Idle sessions ask for idleSessionTimeout (within both implementations'
// default bounds of 2 and 20 ticks) and are pinged every idlePing.
const (
	idleSessionTimeout = 30 * time.Second
	idlePing           = 10 * time.Second
)

// measureIdle reads the servers' resident memory once settled, opens n
// jute sessions spread over the ensemble that only ping (a client with
// nothing to do), reads it again once settled (stableReads steady reads,
// see settledRSS) and closes them.
func measureIdle(e *ensemble, n, stableReads int, p *progress) *IdleMemory {
	m := &IdleMemory{Conns: n}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < uint64(n+1000) {
		m.Error = fmt.Sprintf("%d idle connections need more open files than the limit of %d (ulimit -n)", n, lim.Cur)
		return m
	}
	var err error
	p.note("waiting for resident memory to settle")
	if m.RSSBefore, _, err = settledRSS(e, stableReads); err != nil {
		m.Error = err.Error()
		return m
	}
	p.note(fmt.Sprintf("opening %d sessions", n))
	start := time.Now()
	sessions, err := dialJuteAll(e.addrs(), n, idleSessionTimeout)
	if err != nil {
		m.Error = err.Error()
		return m
	}
	m.OpenSeconds = time.Since(start).Seconds()
	defer closeJute(sessions)

	// One goroutine pings every session every idlePing, until the
	// measurement is over.
	var (
		wg      sync.WaitGroup
		pingErr error
	)
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(idlePing)
		defer t.Stop()
		for {
			if err := pingAll(sessions); err != nil {
				pingErr = fmt.Errorf("pinging the idle sessions: %v", err)
				return
			}
			select {
			case <-t.C:
			case <-stop:
				return
			}
		}
	}()
	p.note("waiting for resident memory to settle")
	m.RSSAfter, m.SettleSeconds, err = settledRSS(e, stableReads)
	close(stop)
	wg.Wait()
	if err == nil {
		err = pingErr
	}
	if err != nil {
		m.Error = err.Error()
		return m
	}
	m.BytesPerConn = float64(sum(m.RSSAfter)-sum(m.RSSBefore)) / float64(n)
	return m
}
