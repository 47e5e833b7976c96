// Command zkbench measures our zkserver side by side with Apache ZooKeeper
// 3.8 on the same machine in the same run.
//
// It starts a 3-server ensemble of ours (zkserver start-foreground zoo.cfg),
// then one of Apache ZooKeeper (Debian's package) from the same zoo.cfg
// shape, then three null servers (below), on 127.0.0.1 ports, one after
// the other, and drives each with the same load. Workloads: create,
// setData, getData, exists, getChildren, mixed 90% reads / 10% writes,
// multi, ephemeral create/delete churn and watch fan-out (one change, many
// watchers), the data-carrying ones once per value size. The znodes a
// create workload made are deleted before the next workload runs, so each
// starts from the same tree on both implementations (the faster one would
// otherwise carry a larger tree, and larger snapshots, into the rest of
// the run). It also measures
// resident memory per znode (VmRSS of every server before and after a
// fill of -znodes znodes, each reading taken once VmRSS has been steady
// for 10 s), the restart time of a follower with those znodes (kill -9,
// start, until it serves a read of the last one) and leader-failover
// unavailability (kill -9 the leader under write load; the longest window
// without a successful write). These three run on a fresh ensemble of the
// same implementation, started once the workloads are done, so that the
// heap the workloads left behind does not count for or against the fill.
//
// Pinning. On a machine with 2 or more CPUs, the servers (all 3 processes
// of each implementation, every JVM thread included) run on one CPU set
// and zkbench itself, the load generator, on a disjoint one: by default
// the lower half of the CPUs for the servers and the upper half for the
// load generator (on 2 CPUs: servers on CPU 0, load on CPU 1), or
// -server-cpus and -load-cpus. Each side then has its CPUs to itself, and
// both implementations get the same CPUs. A server is started from a
// thread pinned to the server set (fork and exec keep the affinity, and
// every thread the server creates inherits it); GOMAXPROCS of our servers
// and -XX:ActiveProcessorCount of the JVMs follow the set, and zkbench
// pins its own threads and sets its GOMAXPROCS to its set. The sets, and
// the CPUs each server's threads were found on, are printed and reported.
// -nopin lets the scheduler place everything, as before.
//
// Clients (-client jute|gozk|both, default both; jute runs first). The
// jute client is zkbench's own minimal wire client (wire/ for the
// encoding; a handshake, then pipelined requests with xids, replies read
// by one goroutine per connection, no goroutine per request): it costs
// the load generator a fraction of what go-zookeeper does, so its numbers
// are the servers' and its table is the one to read for throughput. The
// go-zookeeper client (goroutines sharing a Conn, which pipelines them)
// is what a real Go application sees, client overhead included: its
// table is kept for that view, and the watch fan-out and the fill use it.
// Either way -conns connections carry -outstanding requests in flight
// each.
//
// The null server is zkbench itself in null server mode: a connection
// layer built like ours (internal/sock, wire/) that answers create,
// setData, getData, exists and delete from constants, with no tree, no
// log and no quorum; three of them run on the server CPUs. It is the
// ceiling for any server on this machine, and the jute table reports ours
// as a fraction of it (ours/null); -nonull skips it. Only the jute client
// measures it: go-zookeeper costs most per reply when replies come one at
// a time, as they do from a server that answers at once, so against the
// null server it would measure itself.
//
// Scaling: getData and setData on 1, 10, 100 and 1000 (-scale) jute
// connections, each a synchronous client with one request in flight:
// throughput, p99 and the servers' RSS. Idle sessions: the servers' RSS
// settled before and with 10,000 (-idle) open sessions that only ping.
// The HTML report charts both.
//
// Latency at a fixed offered rate: getData at 3,000 and 10,000/s and
// setData at 1,000 and 3,000/s (-rates) over the -conns jute sessions,
// below what either implementation sustains here (the lower rates at about
// a third of a CPU for both), sent on schedule whatever the replies do;
// each latency counts from the request's due time. The throughput
// workloads' latencies are mostly queueing behind a full window; these
// are the servers' response times under a load they keep up with.
//
// For each workload it also reads the CPU time the servers used from
// /proc/<pid>/stat and reports it per op: unpinned, the load generator
// shares the CPUs with the servers and costs the same per op against
// both, so when the CPUs are busy the throughput ratio understates how
// much less the servers themselves spend.
//
// It prints tables with ours/apache ratios and writes -out.json and
// -out.html (inline SVG charts of throughput, latency, scaling and
// memory).
//
// Usage:
//
//	zkbench [-quick] [-duration 10s] [-warmup 16s] [-conns 12] [-outstanding 16]
//	        [-sizes 100,1024] [-znodes 100000 | -million] [-zkserver bin/zkserver]
//	        [-client jute|gozk|both] [-nopin] [-server-cpus 0] [-load-cpus 1]
//	        [-scale 1,10,100,1000] [-scale-duration 10s] [-idle 10000] [-nonull]
//	        [-only ours|apache|null] [-run regexp] [-nofill] [-nofailover] [-out zkbench-report]
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// config holds the command-line flags.
type config struct {
	conns       int
	outstanding int
	duration    time.Duration
	warmup      time.Duration
	sizes       []int
	znodes      int
	watchers    int
	zkserver    string
	apacheHeap  int
	only        string
	noNull      bool
	clients     []string // load generators, in the order they run
	pin         pinning
	scale       []int // connection counts of the scaling measurement
	scaleDur    time.Duration
	rates       []fixedRate    // workloads run at a fixed offered rate
	idle        int            // idle sessions of the memory measurement (0: none)
	stableReads int            // steady VmRSS reads that make a reading settled
	run         *regexp.Regexp // workloads to run (nil: all)
	out         string
	keep        bool
	noFill      bool
	noFailover  bool
}

func parseFlags() config {
	c := config{stableReads: rssStableReads}
	var sizes string
	var quick, million bool
	var run, client, scale, rates, serverCPUs, loadCPUs string
	var noPin bool
	flag.IntVar(&c.conns, "conns", 12, "client connections (sessions)")
	flag.IntVar(&c.outstanding, "outstanding", 16, "requests in flight per connection")
	flag.DurationVar(&c.duration, "duration", 10*time.Second, "duration of each workload")
	flag.DurationVar(&c.warmup, "warmup", 16*time.Second, "unrecorded warm-up load (every workload in turn) before measuring")
	flag.BoolVar(&quick, "quick", false, "quick run: 2s per workload, 20k znodes fill")
	flag.StringVar(&sizes, "sizes", "100,1024", "comma-separated value sizes in bytes")
	flag.IntVar(&c.znodes, "znodes", 100_000, "znodes created by the memory fill")
	flag.BoolVar(&million, "million", false, "fill 1M znodes (same as -znodes 1000000)")
	flag.IntVar(&c.watchers, "watchers", 100, "watcher sessions of the watch fan-out")
	flag.StringVar(&c.zkserver, "zkserver", "", "our zkserver binary (default: go build ./cmd/zkserver)")
	flag.IntVar(&c.apacheHeap, "apache-heap", 2048, "Apache ZooKeeper JVM heap (-Xmx) in MB")
	flag.StringVar(&c.only, "only", "", "run only \"ours\", \"apache\" or \"null\"")
	flag.BoolVar(&c.noNull, "nonull", false, "skip the null server")
	flag.StringVar(&client, "client", "both", "load generator: jute (zkbench's own wire client), gozk (go-zookeeper) or both")
	flag.BoolVar(&noPin, "nopin", false, "do not pin the servers and the load generator to CPUs")
	flag.StringVar(&serverCPUs, "server-cpus", "", "CPU list for the servers (default: the lower half of the CPUs)")
	flag.StringVar(&loadCPUs, "load-cpus", "", "CPU list for the load generator (default: the upper half)")
	flag.StringVar(&scale, "scale", "1,10,100,1000", "connection counts of the scaling measurement (empty: none)")
	flag.DurationVar(&c.scaleDur, "scale-duration", 0, "duration of each scaling point (default: -duration)")
	flag.StringVar(&rates, "rates", "getData=3000,getData=10000,setData=1000,setData=3000", "workloads run at a fixed offered rate, as workload=requests per second over all -conns sessions, for latency below saturation (empty: none)")
	flag.IntVar(&c.idle, "idle", 10_000, "idle sessions of the memory measurement (0: none)")
	flag.StringVar(&run, "run", "", "run only the workloads whose names match this regexp (the fan-out is \"watch\"; the fill and failover have their own flags)")
	flag.StringVar(&c.out, "out", "zkbench-report", "report path without extension (.json and .html are written)")
	flag.BoolVar(&c.keep, "keep", false, "keep the servers' directories (zoo.cfg, data, server.log)")
	flag.BoolVar(&c.noFill, "nofill", false, "skip the memory fill")
	flag.BoolVar(&c.noFailover, "nofailover", false, "skip the leader failover")
	flag.Parse()
	if quick {
		c.duration = 2 * time.Second
		if !isSet("znodes") {
			c.znodes = 20_000
		}
		if !isSet("idle") {
			c.idle = 1000
		}
	}
	if c.scaleDur == 0 {
		c.scaleDur = c.duration
	}
	switch client {
	case "both":
		// jute first: its numbers are the servers', gozk's the clients' view.
		c.clients = []string{clientJute, clientGozk}
	case clientJute, clientGozk:
		c.clients = []string{client}
	default:
		fatalf("-client must be jute, gozk or both")
	}
	for _, f := range strings.Split(scale, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			fatalf("bad -scale %q", scale)
		}
		c.scale = append(c.scale, n)
	}
	var err error
	if c.rates, err = parseRates(rates); err != nil {
		fatalf("%v", err)
	}
	if !noPin {
		if c.pin, err = choosePinning(serverCPUs, loadCPUs); err != nil {
			fatalf("%v", err)
		}
	}
	if million {
		c.znodes = 1_000_000
		if !isSet("apache-heap") {
			c.apacheHeap = 4096
		}
	}
	if run != "" {
		re, err := regexp.Compile(run)
		if err != nil {
			fatalf("bad -run: %v", err)
		}
		c.run = re
	}
	for _, f := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 {
			fatalf("bad -sizes %q", sizes)
		}
		c.sizes = append(c.sizes, n)
	}
	if len(c.sizes) == 0 || c.conns < 1 || c.outstanding < 1 || c.watchers < 1 {
		fatalf("-sizes, -conns, -outstanding and -watchers must be positive")
	}
	if c.only != "" && c.only != "ours" && c.only != "apache" && c.only != "null" {
		fatalf("-only must be ours, apache or null")
	}
	if c.idle < 0 {
		fatalf("-idle must not be negative")
	}
	return c
}

// choosePinning returns the default pinning with the sets given by
// -server-cpus and -load-cpus (either may be empty) in place of its own.
func choosePinning(serverCPUs, loadCPUs string) (pinning, error) {
	p, err := defaultPinning()
	if err != nil {
		return pinning{}, err
	}
	for _, f := range []struct {
		list string
		set  *cpuSet
	}{{serverCPUs, &p.servers}, {loadCPUs, &p.load}} {
		if f.list == "" {
			continue
		}
		if *f.set, err = parseCPUList(f.list); err != nil {
			return pinning{}, err
		}
	}
	if !p.pinned() && len(p.load) == 0 {
		return p, nil // one CPU, nothing asked for
	}
	return p, checkPinning(p)
}

// isSet reports whether the named flag was given on the command line.
func isSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "zkbench: "+format+"\n", args...)
	os.Exit(1)
}

// running tracks the ensemble in use so that an interrupt can stop it.
var running struct {
	mu sync.Mutex
	e  *ensemble
}

func setRunning(e *ensemble) {
	running.mu.Lock()
	running.e = e
	running.mu.Unlock()
}

func main() {
	if cfg := os.Getenv(nullServerEnv); cfg != "" {
		if err := runNullServer(cfg); err != nil {
			fatalf("null server: %v", err)
		}
		return
	}
	cfg := parseFlags()
	if cfg.pin.pinned() {
		if err := pinSelf(cfg.pin.load); err != nil {
			fatalf("pinning zkbench to CPU %s: %v", cfg.pin.load, err)
		}
	}
	fmt.Fprintf(os.Stderr, "zkbench: %s\n", cfg.pin.describe())
	root, err := os.MkdirTemp("", "zkbench-")
	if err != nil {
		fatalf("%v", err)
	}
	if !cfg.keep {
		defer os.RemoveAll(root)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		running.mu.Lock()
		if running.e != nil {
			running.e.stop()
		}
		if !cfg.keep {
			os.RemoveAll(root)
		}
		fmt.Fprintln(os.Stderr, "\nzkbench: interrupted")
		os.Exit(130)
	}()

	var impls []impl
	if cfg.only == "" || cfg.only == "ours" {
		bin := cfg.zkserver
		if bin == "" {
			fmt.Fprintln(os.Stderr, "zkbench: building zkserver")
			if bin, err = buildZkserver(root); err != nil {
				fatalf("build zkserver: %v", err)
			}
		}
		// The servers run in their own directories: make the path absolute.
		if bin, err = filepath.Abs(bin); err != nil {
			fatalf("%v", err)
		}
		impls = append(impls, oursImpl(bin, cfg.pin.servers))
	}
	if cfg.only == "" || cfg.only == "apache" {
		a, err := apacheImpl(cfg.apacheHeap, cfg.pin.servers)
		if err != nil {
			fatalf("%v", err)
		}
		impls = append(impls, a)
	}
	if cfg.only == "null" || cfg.only == "" && !cfg.noNull {
		exe, err := os.Executable()
		if err != nil {
			fatalf("%v", err)
		}
		impls = append(impls, nullImpl(exe, cfg.pin.servers))
	}

	host, _ := os.Hostname()
	rep := &Report{
		Started: time.Now().UTC(), Host: host, CPUs: runtime.NumCPU(),
		ServerCPUs: cfg.pin.servers.String(), LoadCPUs: cfg.pin.load.String(), Pinning: cfg.pin.describe(),
		Clients: cfg.clients, Connections: cfg.conns, Outstanding: cfg.outstanding,
		Duration: cfg.duration.String(), Sizes: cfg.sizes,
	}
	steps := 0
	for _, im := range impls {
		steps += stepsPerImpl(cfg, im)
	}
	p := newProgress(os.Stderr, steps)
	for _, im := range impls {
		rep.Impls = append(rep.Impls, runImpl(cfg, im, root, p))
	}
	p.finish()

	fmt.Printf("zkbench: %d connections x %d outstanding, %v per workload, %d CPUs, %s\n",
		cfg.conns, cfg.outstanding, cfg.duration, runtime.NumCPU(), cfg.pin.describe())
	rep.WriteTable(os.Stdout)
	if err := rep.WriteFiles(cfg.out); err != nil {
		fatalf("write report: %v", err)
	}
	fmt.Printf("\nreport: %s.json, %s.html\n", cfg.out, cfg.out)
}

// buildZkserver builds cmd/zkserver of the enclosing module into dir.
func buildZkserver(dir string) (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the zkgo module; pass -zkserver")
	}
	bin := filepath.Join(dir, "zkserver")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/zkgo/zkgo/cmd/zkserver")
	cmd.Dir = filepath.Dir(gomod)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%v\n%s", err, out)
	}
	return bin, nil
}
