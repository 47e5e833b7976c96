package main

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is the outcome of one workload against one implementation.
type Result struct {
	Workload string `json:"workload"`
	// Client is the load generator: "jute" (zkbench's own) or "gozk"
	// (go-zookeeper).
	Client    string  `json:"client"`
	Ops       int     `json:"ops"`
	Errors    int     `json:"errors"`
	Seconds   float64 `json:"seconds"`
	OpsPerSec float64 `json:"ops_per_sec"`
	P50ms     float64 `json:"p50_ms"`
	P99ms     float64 `json:"p99_ms"`
	P999ms    float64 `json:"p999_ms"`
	// ServerCPUPerOp is the CPU time (user and system, µs) the servers of
	// the ensemble used together, per op, while the workload ran.
	ServerCPUPerOp float64 `json:"server_cpu_us_per_op"`
	FirstError     string  `json:"first_error,omitempty"`
}

// Memory is the resident memory per znode after a fill.
type Memory struct {
	Znodes     int     `json:"znodes"`
	ValueBytes int     `json:"value_bytes"`
	RSSBefore  []int64 `json:"rss_before_bytes"` // per server, by id
	// RSSAfter is read a few seconds after the fill, RSSSettled once it
	// has stopped moving (SettleSeconds later).
	RSSAfter      []int64 `json:"rss_after_bytes"`
	RSSSettled    []int64 `json:"rss_settled_bytes"`
	SettleSeconds float64 `json:"settle_seconds"`
	// BytesPerZnode is the mean over servers of (settled-before)/Znodes,
	// BytesPerZnodeAtFill the same with RSSAfter.
	BytesPerZnode       float64 `json:"bytes_per_znode"`
	BytesPerZnodeAtFill float64 `json:"bytes_per_znode_at_fill"`
	Error               string  `json:"error,omitempty"`
}

// Restart is the time a follower takes, from its start after a SIGKILL,
// to serve a read of the last znode of the fill.
type Restart struct {
	Znodes  int     `json:"znodes"`
	Seconds float64 `json:"seconds"`
	Error   string  `json:"error,omitempty"`
}

// Failover is the write unavailability when the leader is killed -9.
type Failover struct {
	// LongestGapMs is the longest window without a successful write,
	// counted from the kill.
	LongestGapMs float64 `json:"longest_gap_ms"`
	// FirstWriteMs is the time from the kill to the first successful write.
	FirstWriteMs float64 `json:"first_write_ms"`
	// OneAddrClients sessions were each given one follower's address;
	// OneAddrDisconnected of them saw a disconnect, and
	// OneAddrLongestGapMs is the longest window, from the kill, without a
	// successful write of one of them.
	OneAddrClients      int     `json:"one_address_clients"`
	OneAddrDisconnected int     `json:"one_address_disconnected"`
	OneAddrLongestGapMs float64 `json:"one_address_longest_gap_ms"`
	Error               string  `json:"error,omitempty"`
}

// ScalePoint is one workload on Conns synchronous jute sessions, with
// the servers' resident memory (VmRSS, summed) while they were open.
type ScalePoint struct {
	Conns int `json:"conns"`
	Result
	RSS int64 `json:"rss_bytes"`
}

// IdleMemory is the servers' resident memory with Conns idle sessions
// open (each only pinging), against the same servers settled before.
type IdleMemory struct {
	Conns       int     `json:"conns"`
	OpenSeconds float64 `json:"open_seconds"` // to open them all
	RSSBefore   []int64 `json:"rss_before_bytes"`
	RSSAfter    []int64 `json:"rss_after_bytes"` // settled, SettleSeconds after the last was open
	// BytesPerConn is the growth of the servers' summed RSS per session.
	BytesPerConn  float64 `json:"bytes_per_conn"`
	SettleSeconds float64 `json:"settle_seconds"`
	Error         string  `json:"error,omitempty"`
}

// ImplReport is everything measured on one implementation.
type ImplReport struct {
	Name string `json:"name"`
	// ServerAffinity is, per server, the CPUs its threads may run on,
	// read from the kernel once the ensemble was up.
	ServerAffinity []string     `json:"server_affinity"`
	Results        []Result     `json:"results"`
	Scaling        []ScalePoint `json:"scaling,omitempty"`
	// FixedRate are the workloads run at a fixed offered rate (see
	// fixedrate.go).
	FixedRate []Result    `json:"fixed_rate,omitempty"`
	Idle      *IdleMemory `json:"idle_memory,omitempty"`
	Memory    *Memory     `json:"memory,omitempty"`
	Restart   *Restart    `json:"restart,omitempty"`
	Failover  *Failover   `json:"failover,omitempty"`
	// Deleted counts the znodes the create workloads made, deleted
	// between workloads (see clearCreated).
	Deleted int    `json:"deleted_between_workloads"`
	Error   string `json:"error,omitempty"`
}

// result returns the result of the named workload with client, if any.
func (r *ImplReport) result(client, name string) (Result, bool) {
	for _, x := range r.Results {
		if x.Client == client && x.Workload == name {
			return x, true
		}
	}
	return Result{}, false
}

// Report is the whole benchmark run, written as JSON.
type Report struct {
	Started time.Time `json:"started"`
	Host    string    `json:"host"`
	CPUs    int       `json:"cpus"`
	// ServerCPUs and LoadCPUs are the CPU lists the servers and the load
	// generator were pinned to; empty when not pinned.
	ServerCPUs  string        `json:"server_cpus"`
	LoadCPUs    string        `json:"load_cpus"`
	Pinning     string        `json:"pinning"`
	Clients     []string      `json:"clients"`
	Connections int           `json:"connections"`
	Outstanding int           `json:"outstanding"`
	Duration    string        `json:"duration_per_workload"`
	Sizes       []int         `json:"value_sizes"`
	Impls       []*ImplReport `json:"impls"` // ours, apache, null
}

// ratio formats a/b, or "-" when either is missing.
func ratio(a, b float64) string {
	if a == 0 || b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", a/b)
}

// trio returns the ours, apache and null reports (empty ones for those
// that did not run).
func (r *Report) trio() (ours, apache, null *ImplReport) {
	find := func(name string) *ImplReport {
		for _, x := range r.Impls {
			if x.Name == name {
				return x
			}
		}
		return &ImplReport{Name: name}
	}
	return find("ours"), find("apache"), find("null")
}

// hasNull reports whether the null server ran.
func (r *Report) hasNull() bool {
	_, _, null := r.trio()
	return len(null.Results) > 0 || len(null.Scaling) > 0
}

// clients lists the load generators of the results in run order.
func (r *Report) clients() []string {
	var clients []string
	for _, x := range r.Impls {
		for _, res := range x.Results {
			if !slices.Contains(clients, res.Client) {
				clients = append(clients, res.Client)
			}
		}
	}
	return clients
}

// names lists the workloads run with client in run order, from any
// implementation.
func (r *Report) names(client string) []string {
	var names []string
	for _, x := range r.Impls {
		for _, res := range x.Results {
			if res.Client == client && !slices.Contains(names, res.Workload) {
				names = append(names, res.Workload)
			}
		}
	}
	return names
}

// clientTitle describes a load generator for a table or chart heading.
func clientTitle(client string) string {
	switch client {
	case clientJute:
		return "jute client (zkbench's own pipelined wire client: what the servers sustain)"
	case clientGozk:
		return "go-zookeeper client (what a Go application sees)"
	}
	return client + " client"
}

// WriteTable prints the comparison tables: per load generator,
// throughput and latency of every implementation per workload, with
// ours/apache ratios (ops/s: higher is better for us; latency and server
// CPU per op: lower is better for us; the package doc says why both are
// shown) and, when the null server ran, ours as a fraction of its
// throughput; then scaling, memory, restart and failover.
func (r *Report) WriteTable(w io.Writer) {
	ours, apache, null := r.trio()
	withNull := r.hasNull()
	fmt.Fprintf(w, "pinning: %s\n", r.Pinning)
	for _, x := range r.Impls {
		if len(x.ServerAffinity) > 0 {
			fmt.Fprintf(w, "%s servers' threads run on CPU %s\n", x.Name, strings.Join(x.ServerAffinity, " | "))
		}
	}
	for _, client := range r.clients() {
		fmt.Fprintf(w, "\n%s\n", clientTitle(client))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		nullCols := withNull && client == clientJute // see impl.answers
		nullHead := ""
		if nullCols {
			nullHead = "null ops/s\tours/null\t"
		}
		fmt.Fprintf(tw, "workload\tours ops/s\tapache ops/s\tratio\t%sours p50/p99/p99.9 ms\tapache p50/p99/p99.9 ms\tp99 ratio\tserver CPU µs/op o/a\tCPU ratio\terrors o/a\t\n", nullHead)
		for _, name := range r.names(client) {
			o, _ := ours.result(client, name)
			a, _ := apache.result(client, name)
			nullText := ""
			if nullCols {
				n, _ := null.result(client, name)
				nullText = fmt.Sprintf("%.0f\t%s\t", n.OpsPerSec, ratio(o.OpsPerSec, n.OpsPerSec))
			}
			fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%s\t%s%.2f/%.2f/%.2f\t%.2f/%.2f/%.2f\t%s\t%.0f/%.0f\t%s\t%d/%d\t\n",
				name, o.OpsPerSec, a.OpsPerSec, ratio(o.OpsPerSec, a.OpsPerSec), nullText,
				o.P50ms, o.P99ms, o.P999ms, a.P50ms, a.P99ms, a.P999ms, ratio(o.P99ms, a.P99ms),
				o.ServerCPUPerOp, a.ServerCPUPerOp, ratio(o.ServerCPUPerOp, a.ServerCPUPerOp), o.Errors, a.Errors)
		}
		tw.Flush()
		if nullCols {
			for _, name := range r.names(client) {
				if strings.HasPrefix(name, "getData") {
					o, _ := ours.result(client, name)
					n, _ := null.result(client, name)
					fmt.Fprintf(w, "%s: ours at %s of the null server's rate (target: at least %.2f)\n", name, ratio(o.OpsPerSec, n.OpsPerSec), getDataTarget)
				}
			}
		}
	}
	r.writeScalingTable(w)
	r.writeFixedRateTable(w)
	if ours.Idle != nil || apache.Idle != nil {
		oi, ai := orZero(ours.Idle), orZero(apache.Idle)
		fmt.Fprintf(w, "\n%d idle sessions (pinging only), growth of the servers' summed VmRSS, settled: ours %.1f MB (%.0f B per session), apache %.1f MB (%.0f B per session), ratio %s\n",
			max(oi.Conns, ai.Conns), growthMB(oi), oi.BytesPerConn, growthMB(ai), ai.BytesPerConn, ratio(oi.BytesPerConn, ai.BytesPerConn))
	}
	if ours.Memory != nil || apache.Memory != nil {
		om, am := orZero(ours.Memory), orZero(apache.Memory)
		fmt.Fprintf(w, "\nmemory per znode (VmRSS delta / znodes, mean of 3 servers, %d znodes of %d B), settled: ours %.0f B, apache %.0f B, ratio %s (after %.0f / %.0f s); 3 s after the fill: ours %.0f B, apache %.0f B, ratio %s\n",
			max(om.Znodes, am.Znodes), max(om.ValueBytes, am.ValueBytes), om.BytesPerZnode, am.BytesPerZnode, ratio(om.BytesPerZnode, am.BytesPerZnode),
			om.SettleSeconds, am.SettleSeconds, om.BytesPerZnodeAtFill, am.BytesPerZnodeAtFill, ratio(om.BytesPerZnodeAtFill, am.BytesPerZnodeAtFill))
	}
	if ours.Restart != nil || apache.Restart != nil {
		or, ar := orZero(ours.Restart), orZero(apache.Restart)
		fmt.Fprintf(w, "follower restart with %d znodes (kill -9, start, until it serves a read of the last one): ours %.2f s, apache %.2f s, ratio %s\n",
			max(or.Znodes, ar.Znodes), or.Seconds, ar.Seconds, ratio(or.Seconds, ar.Seconds))
	}
	if ours.Failover != nil || apache.Failover != nil {
		of, af := orZero(ours.Failover), orZero(apache.Failover)
		fmt.Fprintf(w, "leader failover (kill -9 under setData load), longest window without a successful write: ours %.0f ms, apache %.0f ms, ratio %s (first write after kill: %.0f / %.0f ms)\n",
			of.LongestGapMs, af.LongestGapMs, ratio(of.LongestGapMs, af.LongestGapMs), of.FirstWriteMs, af.FirstWriteMs)
		fmt.Fprintf(w, "leader failover, clients given one follower's address: disconnected ours %d of %d, apache %d of %d; longest window without a successful write of one of them: ours %.0f ms, apache %.0f ms\n",
			of.OneAddrDisconnected, of.OneAddrClients, af.OneAddrDisconnected, af.OneAddrClients, of.OneAddrLongestGapMs, af.OneAddrLongestGapMs)
	}
	r.writeErrors(w)
}

// getDataTarget is the fraction of the null server's getData rate that
// ours is to reach.
const getDataTarget = 0.5

// growthMB is the growth of the servers' summed RSS in MB.
func growthMB(m IdleMemory) float64 {
	return float64(sum(m.RSSAfter)-sum(m.RSSBefore)) / (1 << 20)
}

// writeScalingTable prints the scaling points of every implementation.
func (r *Report) writeScalingTable(w io.Writer) {
	ours, apache, null := r.trio()
	points := r.scaleKeys()
	if len(points) == 0 {
		return
	}
	fmt.Fprintln(w, "\nscaling: synchronous jute sessions (one request in flight each)")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "conns\tworkload\tours ops/s\tapache ops/s\tnull ops/s\tratio\tp99 ms o/a/null\tRSS MB o/a\terrors o/a\t")
	for _, k := range points {
		o, a, n := ours.scalePoint(k), apache.scalePoint(k), null.scalePoint(k)
		fmt.Fprintf(tw, "%d\t%s\t%.0f\t%.0f\t%.0f\t%s\t%.2f/%.2f/%.2f\t%.0f/%.0f\t%d/%d\t\n",
			k.conns, k.workload, o.OpsPerSec, a.OpsPerSec, n.OpsPerSec, ratio(o.OpsPerSec, a.OpsPerSec),
			o.P99ms, a.P99ms, n.P99ms, float64(o.RSS)/(1<<20), float64(a.RSS)/(1<<20), o.Errors, a.Errors)
	}
	tw.Flush()
}

// scaleKey names a scaling point.
type scaleKey struct {
	conns    int
	workload string
}

// scaleKeys lists the scaling points in run order, from any implementation.
func (r *Report) scaleKeys() []scaleKey {
	var keys []scaleKey
	for _, x := range r.Impls {
		for _, p := range x.Scaling {
			if k := (scaleKey{p.Conns, p.Workload}); !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	return keys
}

// scalePoint returns the point at k, or a zero one.
func (r *ImplReport) scalePoint(k scaleKey) ScalePoint {
	for _, p := range r.Scaling {
		if p.Conns == k.conns && p.Workload == k.workload {
			return p
		}
	}
	return ScalePoint{}
}

// writeErrors lists every error of the run.
func (r *Report) writeErrors(w io.Writer) {
	for _, x := range r.Impls {
		if x.Error != "" {
			fmt.Fprintf(w, "%s: ERROR: %s\n", x.Name, x.Error)
		}
		if x.Idle != nil && x.Idle.Error != "" {
			fmt.Fprintf(w, "%s idle sessions: ERROR: %s\n", x.Name, x.Idle.Error)
		}
		if x.Memory != nil && x.Memory.Error != "" {
			fmt.Fprintf(w, "%s memory: ERROR: %s\n", x.Name, x.Memory.Error)
		}
		if x.Restart != nil && x.Restart.Error != "" {
			fmt.Fprintf(w, "%s restart: ERROR: %s\n", x.Name, x.Restart.Error)
		}
		if x.Failover != nil && x.Failover.Error != "" {
			fmt.Fprintf(w, "%s failover: ERROR: %s\n", x.Name, x.Failover.Error)
		}
		for _, res := range x.Results {
			if res.FirstError != "" {
				fmt.Fprintf(w, "%s %s (%s): %d errors, first: %s\n", x.Name, res.Workload, res.Client, res.Errors, res.FirstError)
			}
		}
		for _, p := range x.Scaling {
			if p.FirstError != "" {
				fmt.Fprintf(w, "%s %s on %d connections: %d errors, first: %s\n", x.Name, p.Workload, p.Conns, p.Errors, p.FirstError)
			}
		}
		for _, res := range x.FixedRate {
			if res.FirstError != "" {
				fmt.Fprintf(w, "%s %s: %d errors, first: %s\n", x.Name, res.Workload, res.Errors, res.FirstError)
			}
		}
	}
}

// orZero returns *p, or the zero value for nil.
func orZero[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

// WriteFiles writes the report as base.json and base.html.
func (r *Report) WriteFiles(base string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(base), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(base+".json", append(b, '\n'), 0o644); err != nil {
		return err
	}
	var h strings.Builder
	r.writeHTML(&h)
	return os.WriteFile(base+".html", []byte(h.String()), 0o644)
}

// Chart colours of ours, apache and null.
var implColors = []string{"#1f77b4", "#d62728", "#7f7f7f"}

// series is one named, coloured set of values of a chart.
type series struct {
	name, color string
	dashed      bool
	values      []float64
}

// writeHTML renders the report page: per load generator, bar charts of
// throughput and p99 latency; line charts of scaling; a bar chart of the
// memory of idle sessions; then the tables.
func (r *Report) writeHTML(w io.Writer) {
	ours, apache, null := r.trio()
	impls := []*ImplReport{ours, apache}
	if r.hasNull() {
		impls = append(impls, null)
	}
	fmt.Fprintf(w, `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>zkbench %s</title>
<style>body{font-family:sans-serif;margin:2em}.charts{display:flex;gap:2em;flex-wrap:wrap}
pre{background:#f6f6f6;padding:1em}</style></head><body>
<h1>zkbench: zkgo vs Apache ZooKeeper</h1>
<p>%s, %d CPUs, %s; %d connections &times; %d outstanding, %s per workload, value sizes %v B.
Same machine, same run; read the ratios, not the absolute numbers. The null server answers from constants: the ceiling for any server here.
`, html.EscapeString(r.Started.Format(time.RFC3339)), html.EscapeString(r.Host), r.CPUs, html.EscapeString(r.Pinning),
		r.Connections, r.Outstanding, html.EscapeString(r.Duration), r.Sizes)
	for i, x := range impls {
		fmt.Fprintf(w, `<span style="color:%s">&#9632; %s</span> `, implColors[i], x.Name)
	}
	fmt.Fprint(w, "</p>\n")
	for _, client := range r.clients() {
		names := r.names(client)
		var tput, lat []series
		for i, x := range impls {
			if x.Name == "null" && client != clientJute {
				continue // see impl.answers
			}
			t := series{name: x.Name, color: implColors[i]}
			l := t
			for _, n := range names {
				res, _ := x.result(client, n)
				t.values = append(t.values, res.OpsPerSec)
				l.values = append(l.values, res.P99ms)
			}
			tput, lat = append(tput, t), append(lat, l)
		}
		fmt.Fprintf(w, "<h2>%s</h2>\n<div class=\"charts\">\n", html.EscapeString(clientTitle(client)))
		barChart(w, "Throughput (ops/s, higher is better)", names, tput, "%.0f")
		barChart(w, "p99 latency (ms, lower is better)", names, lat, "%.2f")
		fmt.Fprint(w, "</div>\n")
	}
	if keys := r.scaleKeys(); len(keys) > 0 {
		var conns []int
		for _, k := range keys {
			if !slices.Contains(conns, k.conns) {
				conns = append(conns, k.conns)
			}
		}
		var tput, lat, rss []series
		for i, x := range impls {
			for j, name := range scaleWorkloads {
				t := series{name: x.Name + " " + name, color: implColors[i], dashed: j > 0}
				l, m := t, t
				for _, c := range conns {
					p := x.scalePoint(scaleKey{c, name})
					t.values = append(t.values, p.OpsPerSec)
					l.values = append(l.values, p.P99ms)
					m.values = append(m.values, float64(p.RSS)/(1<<20))
				}
				tput, lat = append(tput, t), append(lat, l)
				if j == 0 {
					rss = append(rss, m)
				}
			}
		}
		fmt.Fprint(w, "<h2>Scaling: synchronous jute sessions, one request in flight each (solid getData, dashed setData)</h2>\n<div class=\"charts\">\n")
		lineChart(w, "Throughput (ops/s) by connections", conns, tput, "%.0f")
		lineChart(w, "p99 latency (ms) by connections", conns, lat, "%.2f")
		lineChart(w, "Servers' summed RSS (MB) by connections", conns, rss, "%.0f")
		fmt.Fprint(w, "</div>\n")
	}
	if names := r.fixedRateNames(); len(names) > 0 {
		var lat []series
		for i, x := range []*ImplReport{ours, apache} {
			l := series{name: x.Name, color: implColors[i]}
			for _, n := range names {
				l.values = append(l.values, fixedResult(x, n).P99ms)
			}
			lat = append(lat, l)
		}
		fmt.Fprint(w, "<h2>Latency at a fixed offered rate (jute sessions sending on schedule)</h2>\n<div class=\"charts\">\n")
		barChart(w, "p99 latency (ms, lower is better)", names, lat, "%.2f")
		fmt.Fprint(w, "</div>\n")
	}
	var idle []series
	conns := 0
	for i, x := range impls {
		if x.Idle != nil && x.Idle.Error == "" {
			conns = x.Idle.Conns
			idle = append(idle, series{name: x.Name, color: implColors[i],
				values: []float64{float64(sum(x.Idle.RSSBefore)) / (1 << 20), float64(sum(x.Idle.RSSAfter)) / (1 << 20)}})
		}
	}
	if len(idle) > 0 {
		fmt.Fprint(w, "<h2>Memory of idle sessions</h2>\n<div class=\"charts\">\n")
		barChart(w, "Servers' summed RSS (MB, settled, lower is better)", []string{"no sessions", fmt.Sprintf("%d idle sessions", conns)}, idle, "%.0f")
		fmt.Fprint(w, "</div>\n")
	}
	fmt.Fprint(w, "<pre>")
	var t strings.Builder
	r.WriteTable(&t)
	fmt.Fprint(w, html.EscapeString(t.String()))
	fmt.Fprint(w, "</pre>\n</body></html>\n")
}

// barChart writes a horizontal grouped bar chart: per label one bar per
// series, scaled to the largest value.
func barChart(w io.Writer, title string, labels []string, ss []series, format string) {
	const (
		labelW, barW, valueW = 230, 300, 70
		barH, top            = 13, 30
	)
	groupH := barH*len(ss) + 8
	width := labelW + barW + valueW
	height := top + groupH*len(labels) + 10
	peak := 0.0
	for _, s := range ss {
		for _, v := range s.values {
			peak = max(peak, v)
		}
	}
	if peak == 0 {
		peak = 1
	}
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-size="12">`+"\n", width, height)
	fmt.Fprintf(w, `<text x="0" y="16" font-weight="bold">%s</text>`+"\n", html.EscapeString(title))
	for i, label := range labels {
		y := top + i*groupH
		fmt.Fprintf(w, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", labelW-6, y+barH+4, html.EscapeString(label))
		for j, s := range ss {
			v := s.values[i]
			bw := int(float64(barW) * v / peak)
			by := y + j*barH
			fmt.Fprintf(w, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s"/>`, labelW, by, bw, barH-1, s.color)
			fmt.Fprintf(w, `<text x="%d" y="%d">%s</text>`+"\n", labelW+bw+4, by+barH-2, fmt.Sprintf(format, v))
		}
	}
	fmt.Fprint(w, "</svg>\n")
}

// lineChart writes a line chart of series over the connection counts xs,
// evenly spaced (they grow tenfold), the y axis from 0 to the largest
// value, with a legend.
func lineChart(w io.Writer, title string, xs []int, ss []series, format string) {
	const (
		left, plotW, plotH, top = 70, 360, 220, 30
		legendH                 = 16
	)
	width := left + plotW + 30
	height := top + plotH + 40 + legendH*len(ss)
	peak := 0.0
	for _, s := range ss {
		for _, v := range s.values {
			peak = max(peak, v)
		}
	}
	if peak == 0 {
		peak = 1
	}
	x := func(i int) float64 {
		if len(xs) == 1 {
			return left + plotW/2
		}
		return left + float64(i)*plotW/float64(len(xs)-1)
	}
	y := func(v float64) float64 { return top + plotH - v/peak*plotH }
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-size="12">`+"\n", width, height)
	fmt.Fprintf(w, `<text x="0" y="16" font-weight="bold">%s</text>`+"\n", html.EscapeString(title))
	for k := 0; k <= 4; k++ {
		v := peak * float64(k) / 4
		fmt.Fprintf(w, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/><text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n",
			left, y(v), left+plotW, y(v), left-6, y(v)+4, fmt.Sprintf(format, v))
	}
	for i, c := range xs {
		fmt.Fprintf(w, `<text x="%.1f" y="%d" text-anchor="middle">%d</text>`+"\n", x(i), top+plotH+16, c)
	}
	for j, s := range ss {
		var pts []string
		for i, v := range s.values {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(v)))
		}
		dash := ""
		if s.dashed {
			dash = ` stroke-dasharray="6,4"`
		}
		fmt.Fprintf(w, `<polyline fill="none" stroke="%s" stroke-width="2"%s points="%s"/>`+"\n", s.color, dash, strings.Join(pts, " "))
		ly := top + plotH + 36 + j*legendH
		fmt.Fprintf(w, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"%s/><text x="%d" y="%d">%s</text>`+"\n",
			left, ly-4, left+30, ly-4, s.color, dash, left+36, ly, html.EscapeString(s.name))
	}
	fmt.Fprint(w, "</svg>\n")
}
