package main

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is the outcome of one workload against one implementation.
type Result struct {
	Workload  string  `json:"workload"`
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
	Error        string  `json:"error,omitempty"`
}

// ImplReport is everything measured on one implementation.
type ImplReport struct {
	Name     string    `json:"name"`
	Results  []Result  `json:"results"`
	Memory   *Memory   `json:"memory,omitempty"`
	Restart  *Restart  `json:"restart,omitempty"`
	Failover *Failover `json:"failover,omitempty"`
	Error    string    `json:"error,omitempty"`
}

// result returns the result of the named workload, if any.
func (r *ImplReport) result(name string) (Result, bool) {
	for _, x := range r.Results {
		if x.Workload == name {
			return x, true
		}
	}
	return Result{}, false
}

// Report is the whole benchmark run, written as JSON.
type Report struct {
	Started     time.Time     `json:"started"`
	Host        string        `json:"host"`
	CPUs        int           `json:"cpus"`
	Connections int           `json:"connections"`
	Outstanding int           `json:"outstanding"`
	Duration    string        `json:"duration_per_workload"`
	Sizes       []int         `json:"value_sizes"`
	Impls       []*ImplReport `json:"impls"` // ours, then apache
}

// ratio formats a/b, or "-" when either is missing.
func ratio(a, b float64) string {
	if a == 0 || b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", a/b)
}

// pair returns the ours and apache reports (either may be nil).
func (r *Report) pair() (ours, apache *ImplReport) {
	for _, x := range r.Impls {
		switch x.Name {
		case "ours":
			ours = x
		case "apache":
			apache = x
		}
	}
	if ours == nil {
		ours = &ImplReport{Name: "ours"}
	}
	if apache == nil {
		apache = &ImplReport{Name: "apache"}
	}
	return ours, apache
}

// names lists the workloads in run order, from either implementation.
func (r *Report) names() []string {
	var names []string
	seen := map[string]bool{}
	for _, x := range r.Impls {
		for _, res := range x.Results {
			if !seen[res.Workload] {
				seen[res.Workload] = true
				names = append(names, res.Workload)
			}
		}
	}
	return names
}

// WriteTable prints the comparison table: throughput and latency of both
// implementations per workload, with ours/apache ratios (ops/s: higher is
// better for us; latency and server CPU per op: lower is better for us;
// the package doc says why both ratios are shown).
func (r *Report) WriteTable(w io.Writer) {
	ours, apache := r.pair()
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "workload\tours ops/s\tapache ops/s\tratio\tours p50/p99/p99.9 ms\tapache p50/p99/p99.9 ms\tp99 ratio\tserver CPU µs/op o/a\tCPU ratio\terrors o/a\t")
	for _, name := range r.names() {
		o, _ := ours.result(name)
		a, _ := apache.result(name)
		fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%s\t%.2f/%.2f/%.2f\t%.2f/%.2f/%.2f\t%s\t%.0f/%.0f\t%s\t%d/%d\t\n",
			name, o.OpsPerSec, a.OpsPerSec, ratio(o.OpsPerSec, a.OpsPerSec),
			o.P50ms, o.P99ms, o.P999ms, a.P50ms, a.P99ms, a.P999ms, ratio(o.P99ms, a.P99ms),
			o.ServerCPUPerOp, a.ServerCPUPerOp, ratio(o.ServerCPUPerOp, a.ServerCPUPerOp), o.Errors, a.Errors)
	}
	tw.Flush()
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
	}
	for _, x := range r.Impls {
		if x.Error != "" {
			fmt.Fprintf(w, "%s: ERROR: %s\n", x.Name, x.Error)
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

// Chart colours.
const (
	colorOurs   = "#1f77b4"
	colorApache = "#d62728"
)

// writeHTML renders the report page: two inline SVG bar charts side by
// side (throughput, p99 latency), then the table.
func (r *Report) writeHTML(w io.Writer) {
	ours, apache := r.pair()
	names := r.names()
	var tput, lat [][2]float64
	for _, n := range names {
		o, _ := ours.result(n)
		a, _ := apache.result(n)
		tput = append(tput, [2]float64{o.OpsPerSec, a.OpsPerSec})
		lat = append(lat, [2]float64{o.P99ms, a.P99ms})
	}
	fmt.Fprintf(w, `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>zkbench %s</title>
<style>body{font-family:sans-serif;margin:2em}.charts{display:flex;gap:2em;flex-wrap:wrap}
pre{background:#f6f6f6;padding:1em}</style></head><body>
<h1>zkbench: zkgo vs Apache ZooKeeper</h1>
<p>%s, %d CPUs, %d connections &times; %d outstanding, %s per workload, value sizes %v B.
Same machine, same run; read the ratios, not the absolute numbers.
<span style="color:%s">&#9632; ours</span> <span style="color:%s">&#9632; apache</span></p>
<div class="charts">
`, html.EscapeString(r.Started.Format(time.RFC3339)), html.EscapeString(r.Host), r.CPUs, r.Connections, r.Outstanding,
		html.EscapeString(r.Duration), r.Sizes, colorOurs, colorApache)
	barChart(w, "Throughput (ops/s, higher is better)", names, tput, "%.0f")
	barChart(w, "p99 latency (ms, lower is better)", names, lat, "%.2f")
	fmt.Fprint(w, "</div>\n<pre>")
	var t strings.Builder
	r.WriteTable(&t)
	fmt.Fprint(w, html.EscapeString(t.String()))
	fmt.Fprint(w, "</pre>\n</body></html>\n")
}

// barChart writes a horizontal grouped bar chart: per label one bar for
// ours and one for apache, scaled to the largest value.
func barChart(w io.Writer, title string, labels []string, values [][2]float64, format string) {
	const (
		labelW, barW, valueW = 230, 300, 70
		groupH, barH, top    = 34, 13, 30
	)
	width := labelW + barW + valueW
	height := top + groupH*len(labels) + 10
	peak := 0.0
	for _, v := range values {
		peak = max(peak, v[0], v[1])
	}
	if peak == 0 {
		peak = 1
	}
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-size="12">`+"\n", width, height)
	fmt.Fprintf(w, `<text x="0" y="16" font-weight="bold">%s</text>`+"\n", html.EscapeString(title))
	for i, label := range labels {
		y := top + i*groupH
		fmt.Fprintf(w, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", labelW-6, y+barH+4, html.EscapeString(label))
		for j, color := range []string{colorOurs, colorApache} {
			v := values[i][j]
			bw := int(float64(barW) * v / peak)
			by := y + j*barH
			fmt.Fprintf(w, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s"/>`, labelW, by, bw, barH-1, color)
			fmt.Fprintf(w, `<text x="%d" y="%d">%s</text>`+"\n", labelW+bw+4, by+barH-2, fmt.Sprintf(format, v))
		}
	}
	fmt.Fprint(w, "</svg>\n")
}
