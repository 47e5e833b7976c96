package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"time"

	"github.com/go-zookeeper/zk"
)

// Failover timing.
const (
	failoverWarmup  = 2 * time.Second
	failoverSettle  = 2 * time.Second
	failoverMaxWait = 60 * time.Second
	// memorySettle is the pause between the fill and the second VmRSS read,
	// for the followers to apply the last proposals.
	memorySettle = 3 * time.Second
	// After that, VmRSS is read every rssPoll until it has not moved by
	// more than rssSteady for config.stableReads reads in a row (an idle
	// server's resident size, what a dashboard shows between bursts), for
	// at most rssSettleMax.
	rssPoll        = time.Second
	rssSteady      = 1 << 20
	rssStableReads = 10 // config.stableReads of zkbench runs
	rssSettleMax   = 60 * time.Second
)

// stepsPerImpl counts the progress steps of runImpl for im.
func stepsPerImpl(cfg config, im impl) int {
	n := 2 // start, warmup
	for _, client := range cfg.clients {
		for _, w := range workloads {
			switch {
			case !cfg.runs(w.name) || !im.answers(client, w):
			case w.sized:
				n += len(cfg.sizes)
			default:
				n++
			}
		}
	}
	n += len(cfg.scale)
	if !im.null {
		n += len(cfg.rates)
	}
	if cfg.idle > 0 {
		n++
	}
	if im.null {
		return n
	}
	if cfg.runs(watchName) {
		n++
	}
	if !cfg.noFill {
		n += 2 // the fill, the restart
	}
	if !cfg.noFailover {
		n++
	}
	if !cfg.noFill || !cfg.noFailover {
		n++ // a fresh ensemble's start
	}
	return n
}

// answers reports whether im is measured on workload w with client. The
// null server answers only some workloads, and only the jute client
// measures it: go-zookeeper's cost per reply is highest when replies come
// one at a time, as they do from a server that answers at once, so
// against the null server it measures itself.
func (im impl) answers(client string, w workload) bool {
	return !im.null || w.null && client == clientJute
}

// watchName names the watch fan-out for -run.
const watchName = "watch fan-out"

// runs reports whether the workload called name is selected by -run.
func (c config) runs(name string) bool { return c.run == nil || c.run.MatchString(name) }

// sizeName renders a value size for a workload name.
func sizeName(n int) string {
	if n >= 1024 && n%1024 == 0 {
		return fmt.Sprintf("%dKB", n/1024)
	}
	return fmt.Sprintf("%dB", n)
}

// runImpl starts an ensemble of im, runs every measurement on it and stops
// it. Errors are recorded in the report rather than ending the run.
func runImpl(cfg config, im impl, root string, p *progress) *ImplReport {
	rep := &ImplReport{Name: im.name}
	p.start(im.name+" start", 10*time.Second)
	e, err := startEnsemble(im, 3, filepath.Join(root, im.name))
	p.end()
	if err != nil {
		rep.Error = err.Error()
		p.log("%s: %v", im.name, err)
		return rep
	}
	setRunning(e)
	defer func() {
		setRunning(nil)
		if e != nil {
			e.stop()
		}
	}()
	rep.ServerAffinity = e.affinity()

	conns, err := dialAll(e.addrs(), cfg.conns)
	if err != nil {
		rep.Error = err.Error()
		return rep
	}
	defer func() { closeAll(conns) }()

	// Warm up (the JVM's JIT compiles each request path only once it is
	// hot; caches and buffers of both) with every workload in turn, the
	// watch fan-out too when it runs, for cfg.warmup in all; not recorded.
	p.start(im.name+" warmup", cfg.warmup)
	warmValue := bytes.Repeat([]byte{'v'}, cfg.sizes[0])
	if err := setup(conns, warmValue); err != nil {
		rep.Error = fmt.Sprintf("setup: %v", err)
		return rep
	}
	parts := len(workloads)
	if cfg.runs(watchName) && !im.null {
		parts++
		if _, err := watchFanOut(e.addrs(), cfg.watchers, cfg.warmup/time.Duration(parts), warmValue, nil); err != nil {
			p.log("%s: warming up the watch fan-out: %v", im.name, err)
		}
	}
	for _, w := range workloads {
		if !im.null || w.null {
			runLoad(conns, cfg.outstanding, cfg.warmup/time.Duration(parts), w.op(warmValue, "warm"))
		}
	}
	clear := func() {
		if im.null {
			return
		}
		n, err := clearCreated(e.addrs()[0])
		rep.Deleted += n
		if err != nil && rep.Error == "" {
			rep.Error = fmt.Sprintf("deleting the created znodes: %v", err)
			p.log("%s: %s", im.name, rep.Error)
		}
	}
	clear()
	p.end()

	run := 0
	for si, size := range cfg.sizes {
		value := bytes.Repeat([]byte{'v'}, size)
		if err := setup(conns, value); err != nil {
			rep.Error = fmt.Sprintf("setup: %v", err)
			return rep
		}
		for _, client := range cfg.clients {
			for _, w := range workloads {
				if !w.sized && si > 0 || !cfg.runs(w.name) || !im.answers(client, w) {
					continue
				}
				name := w.name
				if w.sized && len(cfg.sizes) > 1 {
					name += " " + sizeName(size)
				}
				p.start(fmt.Sprintf("%s %s (%s)", im.name, name, client), cfg.duration)
				run++
				tag := fmt.Sprintf("r%d", run)
				var s sample
				if client == clientJute {
					s = runJuteWorkload(e, cfg.conns, cfg.outstanding, cfg.duration, w.jute(value, tag))
				} else {
					meter := startMeter(e.cpu)
					s = runLoad(conns, cfg.outstanding, cfg.duration, w.op(value, tag))
					s.serverCPU = meter()
				}
				r := s.result(name)
				r.Client = client
				rep.Results = append(rep.Results, r)
				clear()
				p.end()
			}
		}
	}
	value := bytes.Repeat([]byte{'v'}, cfg.sizes[0])

	if cfg.runs(watchName) && !im.null {
		p.start(fmt.Sprintf("%s %s (%d watchers)", im.name, watchName, cfg.watchers), cfg.duration+5*time.Second)
		s, err := watchFanOut(e.addrs(), cfg.watchers, cfg.duration, value, e.cpu)
		r := s.result(fmt.Sprintf("%s x%d (notif/s)", watchName, cfg.watchers))
		r.Client = clientGozk
		if err != nil && r.FirstError == "" {
			r.FirstError = err.Error()
		}
		rep.Results = append(rep.Results, r)
		p.end()
	}

	for _, n := range cfg.scale {
		p.start(fmt.Sprintf("%s scaling: %d connections", im.name, n), 2*cfg.scaleDur)
		rep.Scaling = append(rep.Scaling, measureScaling(e, n, cfg.scaleDur, value)...)
		p.end()
	}
	for _, f := range cfg.rates {
		if im.null {
			break
		}
		p.start(fmt.Sprintf("%s %s", im.name, f.name()), cfg.duration)
		rep.FixedRate = append(rep.FixedRate, measureFixedRate(e, cfg.conns, cfg.duration, f, value))
		p.end()
	}
	if cfg.idle > 0 {
		p.start(fmt.Sprintf("%s %d idle connections", im.name, cfg.idle), 30*time.Second)
		rep.Idle = measureIdle(e, cfg.idle, cfg.stableReads, p)
		p.end()
	}
	if im.null || cfg.noFill && cfg.noFailover {
		return rep
	}

	// The fill, the restart and the failover run on a fresh ensemble: the
	// heap the workloads left behind (garbage a JVM keeps committed, a Go
	// heap's headroom) would otherwise make the fill's growth of resident
	// memory depend on what ran before it.
	p.start(im.name+" start a fresh ensemble", 10*time.Second)
	closeAll(conns)
	conns = nil
	e.stop()
	e, err = startEnsemble(im, 3, filepath.Join(root, im.name+"-fresh"))
	if err == nil {
		setRunning(e)
		conns, err = dialAll(e.addrs(), cfg.conns)
	}
	if err == nil {
		err = setup(conns, value)
	}
	p.end()
	if err != nil {
		rep.Error = fmt.Sprintf("fresh ensemble: %v", err)
		return rep
	}

	if !cfg.noFill {
		p.start(fmt.Sprintf("%s fill %d znodes", im.name, cfg.znodes), time.Duration(cfg.znodes)*time.Second/5000)
		rep.Memory = measureMemory(e, conns, cfg, value, p)
		p.end()
		if rep.Memory.Error == "" {
			p.start(im.name+" restart a follower", time.Duration(cfg.znodes)*time.Second/100_000+5*time.Second)
			rep.Restart = measureRestart(e, fmt.Sprintf("%s/f%d", fillPath, cfg.znodes-1), cfg.znodes)
			p.end()
		}
	}
	if !cfg.noFailover {
		p.start(im.name+" leader failover", failoverWarmup+failoverSettle+5*time.Second)
		f := &Failover{}
		r, err := failover(e, cfg.conns, failoverWarmup, failoverSettle, failoverMaxWait, value)
		f.LongestGapMs = float64(r.longest) / float64(time.Millisecond)
		f.FirstWriteMs = float64(r.first) / float64(time.Millisecond)
		f.OneAddrClients = failoverOneAddr
		f.OneAddrDisconnected = r.oneAddrDisconnected
		f.OneAddrLongestGapMs = float64(r.oneAddrLongest) / float64(time.Millisecond)
		if err != nil {
			f.Error = err.Error()
		}
		rep.Failover = f
		p.end()
	}
	return rep
}

// measureRestart kills a follower with SIGKILL, starts it again and times
// it from the start until it serves a read of path (the fill's last
// znode): its snapshot and log loaded and synced with the leader.
func measureRestart(e *ensemble, path string, znodes int) *Restart {
	r := &Restart{Znodes: znodes}
	var f *server
	for _, s := range e.servers {
		if s.mode() == "follower" {
			f = s
			break
		}
	}
	if f == nil {
		r.Error = "no follower"
		return r
	}
	f.kill()
	start := time.Now()
	err := f.launch(e.impl)
	if err == nil {
		err = f.waitReady()
	}
	if err == nil {
		err = awaitRead(f.addr(), path, startTimeout)
	}
	if err != nil {
		r.Error = err.Error()
		return r
	}
	r.Seconds = time.Since(start).Seconds()
	return r
}

// awaitRead connects to the server at addr only and reads path until the
// read succeeds or timeout passes.
func awaitRead(addr, path string, timeout time.Duration) error {
	c, err := dial([]string{addr})
	if err != nil {
		return err
	}
	defer c.Close()
	deadline := time.Now().Add(timeout)
	for {
		_, _, err := c.Get(path)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("reading %s: %v", path, err)
		}
		time.Sleep(pollInterval)
	}
}

// measureMemory reads VmRSS of every server once it has settled, fills
// cfg.znodes znodes of value, lets the followers catch up and reads VmRSS
// again, right away and once settled.
func measureMemory(e *ensemble, conns []*zk.Conn, cfg config, value []byte, p *progress) *Memory {
	m := &Memory{Znodes: cfg.znodes, ValueBytes: len(value)}
	var err error
	// The reading before the fill is settled too, so that both readings
	// are of a server in the same (idle) state.
	p.note("waiting for resident memory to settle")
	if m.RSSBefore, _, err = settledRSS(e, cfg.stableReads); err != nil {
		m.Error = err.Error()
		return m
	}
	err = fill(conns, cfg.outstanding, cfg.znodes, value, func(done int) {
		p.note(fmt.Sprintf("%d/%d", done, cfg.znodes))
	})
	if err != nil {
		m.Error = err.Error()
		return m
	}
	time.Sleep(memorySettle)
	if m.RSSAfter, err = e.rss(); err != nil {
		m.Error = err.Error()
		return m
	}
	p.note("waiting for resident memory to settle")
	if m.RSSSettled, m.SettleSeconds, err = settledRSS(e, cfg.stableReads); err != nil {
		m.Error = err.Error()
		return m
	}
	m.BytesPerZnodeAtFill = perZnode(m.RSSBefore, m.RSSAfter, cfg.znodes)
	m.BytesPerZnode = perZnode(m.RSSBefore, m.RSSSettled, cfg.znodes)
	return m
}

// perZnode is the mean over servers of (after-before)/znodes.
func perZnode(before, after []int64, znodes int) float64 {
	var sum float64
	for i := range before {
		sum += float64(after[i] - before[i])
	}
	return sum / float64(len(before)) / float64(znodes)
}

// settledRSS polls VmRSS of every server until none has moved by more than
// rssSteady for reads reads (or rssSettleMax passes) and returns the last
// reading and the seconds it took.
func settledRSS(e *ensemble, reads int) ([]int64, float64, error) {
	start := time.Now()
	last, err := e.rss()
	if err != nil {
		return nil, 0, err
	}
	for stable := 0; stable < reads && time.Since(start) < rssSettleMax; {
		time.Sleep(rssPoll)
		cur, err := e.rss()
		if err != nil {
			return nil, 0, err
		}
		stable++
		for i := range cur {
			if d := cur[i] - last[i]; d > rssSteady || d < -rssSteady {
				stable = 0
			}
		}
		last = cur
	}
	return last, time.Since(start).Seconds(), nil
}
