package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/zkgo/zkgo/wire"
)

// Latency at a fixed offered rate.
//
// The throughput workloads keep every connection's window full, so their
// latencies are mostly queueing: how long a request waits behind the
// others in flight, and, with three servers sharing one CPU, behind the
// other servers' turns of the scheduler. Those tell how a saturated server
// degrades, not how fast it answers. Here the jute sessions send at a
// fixed total rate (-rates), the same for both implementations and below
// what either sustains, each request at its scheduled time whatever the
// replies do (an open loop), and a request's latency is counted from the
// time it was due to be sent, so that a server that falls behind is not
// flattered by the load generator waiting for it.

// fixedRate is one workload run at a fixed rate.
type fixedRate struct {
	workload string
	rate     float64 // requests per second, over all sessions
}

// parseRates parses -rates: "workload=rate,...".
func parseRates(s string) ([]fixedRate, error) {
	var rates []fixedRate
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		name, r, ok := strings.Cut(f, "=")
		rate, err := strconv.ParseFloat(r, 64)
		if !ok || err != nil || rate <= 0 {
			return nil, fmt.Errorf("bad -rates entry %q (want workload=requests per second)", f)
		}
		if _, ok := findWorkload(name); !ok {
			return nil, fmt.Errorf("-rates: no workload %q", name)
		}
		rates = append(rates, fixedRate{name, rate})
	}
	return rates, nil
}

// name is the workload's name in the report.
func (f fixedRate) name() string { return fmt.Sprintf("%s @ %.0f/s", f.workload, f.rate) }

// measureFixedRate runs f on conns jute sessions for d at its rate, with
// the servers' CPU time metered.
func measureFixedRate(e *ensemble, conns int, d time.Duration, f fixedRate, value []byte) Result {
	sessions, err := dialJuteAll(e.addrs(), conns, sessionTimeout)
	if err != nil {
		return Result{Workload: f.name(), Client: clientJute, FirstError: err.Error()}
	}
	defer closeJute(sessions)
	meter := startMeter(e.cpu)
	s := runJuteAtRate(sessions, f.rate, d, workloadNamed(f.workload).jute(value, "fixed"))
	s.serverCPU = meter()
	r := s.result(f.name())
	r.Client = clientJute
	return r
}

// runJuteAtRate sends f on every session for d, rate requests a second in
// all, each session's at evenly spaced times (the sessions' staggered).
func runJuteAtRate(conns []*juteSession, rate float64, d time.Duration, f jop) sample {
	var (
		mu  sync.Mutex
		all sample
		wg  sync.WaitGroup
	)
	interval := time.Duration(float64(time.Second) * float64(len(conns)) / rate)
	start := time.Now().Add(10 * time.Millisecond)
	deadline := start.Add(d)
	for ci, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			first := start.Add(interval * time.Duration(ci) / time.Duration(len(conns)))
			s := c.driveAtRate(ci, first, interval, deadline, f)
			mu.Lock()
			all.add(s)
			mu.Unlock()
		}()
	}
	wg.Wait()
	all.elapsed = d
	return all
}

// scheduled is a request sent at a fixed rate: when it was due, and how
// many replies complete it.
type scheduled struct {
	due  time.Time
	left int
}

// driveAtRate sends f on c at first, first+interval, ... until deadline
// from one goroutine, and reads the replies in this one.
func (c *juteSession) driveAtRate(w int, first time.Time, interval time.Duration, deadline time.Time, f jop) sample {
	var s sample
	sent := make(chan scheduled, 1<<16)
	var sendErr error
	next := c.xid + 1 // the xid of the next reply due
	go func() {
		defer close(sent)
		rng := rand.New(rand.NewPCG(uint64(w), 43))
		for seq, due := 0, first; due.Before(deadline); seq, due = seq+1, due.Add(interval) {
			time.Sleep(time.Until(due))
			sent <- scheduled{due: due, left: f(c, w, seq, rng)}
			if err := c.w.flush(); err != nil {
				sendErr = err
				return
			}
		}
	}()
	// A write deadline too: after a read error this goroutine waits for
	// the sender, which must not block forever in a flush.
	c.nc.SetDeadline(deadline.Add(juteReplyTimeout))
	defer c.nc.SetDeadline(time.Time{})
	fail := func(err error, pending int) {
		s.errors += pending
		for range sent { // the sender stops at its next flush or deadline
			s.errors++
		}
		if s.firstErr == nil {
			s.firstErr = err
		}
	}
	for op := range sent {
		errCode := wire.ErrOK
		for op.left > 0 {
			h, err := c.reply()
			if err != nil {
				fail(err, 1)
				return s
			}
			if h.Xid < 0 { // a notification or a ping's reply
				continue
			}
			if h.Xid != next {
				fail(fmt.Errorf("reply xid %d, expected %d", h.Xid, next), 1)
				return s
			}
			next++
			op.left--
			if h.Err != wire.ErrOK && errCode == wire.ErrOK {
				errCode = h.Err
			}
		}
		if errCode != wire.ErrOK {
			s.errors++
			if s.firstErr == nil {
				s.firstErr = errCode
			}
			continue
		}
		s.ops++
		s.latencies = append(s.latencies, time.Since(op.due))
	}
	if sendErr != nil && s.firstErr == nil {
		s.firstErr = sendErr
		s.errors++
	}
	return s
}

// writeFixedRateTable prints the fixed-rate latencies of ours and Apache.
func (r *Report) writeFixedRateTable(w io.Writer) {
	ours, apache, _ := r.trio()
	names := r.fixedRateNames()
	if len(names) == 0 {
		return
	}
	fmt.Fprintln(w, "\nlatency at a fixed offered rate (jute sessions sending on schedule, latency from each request's due time)")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "workload\tours ops/s\tapache ops/s\tours p50/p99/p99.9 ms\tapache p50/p99/p99.9 ms\tp99 ratio\tserver CPU µs/op o/a\tCPU ratio\terrors o/a\t")
	for _, name := range names {
		o, a := fixedResult(ours, name), fixedResult(apache, name)
		fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%.2f/%.2f/%.2f\t%.2f/%.2f/%.2f\t%s\t%.0f/%.0f\t%s\t%d/%d\t\n",
			name, o.OpsPerSec, a.OpsPerSec, o.P50ms, o.P99ms, o.P999ms, a.P50ms, a.P99ms, a.P999ms, ratio(o.P99ms, a.P99ms),
			o.ServerCPUPerOp, a.ServerCPUPerOp, ratio(o.ServerCPUPerOp, a.ServerCPUPerOp), o.Errors, a.Errors)
	}
	tw.Flush()
}

// fixedRateNames lists the fixed-rate workloads in run order, from any
// implementation.
func (r *Report) fixedRateNames() []string {
	var names []string
	for _, x := range r.Impls {
		for _, res := range x.FixedRate {
			if !slices.Contains(names, res.Workload) {
				names = append(names, res.Workload)
			}
		}
	}
	return names
}

// fixedResult returns im's fixed-rate result called name, or a zero one.
func fixedResult(im *ImplReport, name string) Result {
	for _, x := range im.FixedRate {
		if x.Workload == name {
			return x
		}
	}
	return Result{}
}
