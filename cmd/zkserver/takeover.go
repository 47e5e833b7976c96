package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/zkgo/zkgo/conf"
)

const takeoverUsage = `usage: zkserver takeover [--apache-clients host:port,...] [--timeout <duration>] [--resume] <zoo.cfg>

Makes the observers of ours (quorumProtocol=apache) of a running Apache
ZooKeeper ensemble an ensemble of their own, keeping their clients. The
zoo.cfg is one of our observers'. Our servers are the :observer lines whose
client port answers our migration words; every other line is an Apache
server, asked on its client port (;clientPort on its line, else
--apache-clients, all of them, in the order of the lines) whether it has
clients. It pauses our servers' writes, has them sync through the Apache
leader, and refuses, resuming them, if an Apache server has client
connections (or cannot be asked) or one of ours lags. Then each of ours
starts the ensemble of ours (a new epoch, the configuration written as
reconfig writes it); it exits 0 once that serves: one leader, the others
following. Then stop the Apache servers. --resume only lets our
servers forward writes again (after a takeover command that died after
pausing them).
`

// runTakeover is the takeover verb.
func runTakeover(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("takeover", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, takeoverUsage) }
	apacheClients := fs.String("apache-clients", "", "client addresses of the Apache servers, host:port,..., in the order of their server lines")
	timeout := fs.Duration("timeout", time.Minute, "how long to wait for the ensemble of ours to serve")
	resume := fs.Bool("resume", false, "only resume our servers' writes")
	rest, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	} else if err != nil {
		return err
	}
	if len(rest) != 1 {
		fs.Usage()
		return errors.New("takeover: bad arguments")
	}
	cfg, err := conf.Load(rest[0])
	if err != nil {
		return err
	}
	if cfg.QuorumProtocol != conf.QuorumProtocolApache {
		return fmt.Errorf("takeover: %s is not the configuration of an observer of an Apache ensemble (quorumProtocol=%s)", rest[0], conf.QuorumProtocolApache)
	}
	t := &takeover{out: stdout}
	if err := t.findServers(cfg, *apacheClients); err != nil {
		return err
	}
	if *resume {
		t.resume()
		fmt.Fprintln(stdout, "our servers forward writes again")
		return nil
	}
	if _, err := t.checkApache(); err != nil {
		return fmt.Errorf("takeover refused: %w", err) // before pausing anything
	}
	if err := t.pauseAndCheck(); err != nil {
		t.resume()
		return fmt.Errorf("takeover refused: %w (our servers' writes resumed)", err)
	}
	if err := t.start(); err != nil {
		return err
	}
	return t.awaitServing(*timeout)
}

// takeover is one run of the verb.
type takeover struct {
	out    io.Writer
	ours   []peer // our observers
	apache []peer // the Apache servers; addr "" if unknown
	zxid   int64  // after the pause: the zxid all of ours hold
}

// peer is a server of the configuration and its client address.
type peer struct {
	id   int64
	addr string
}

// findServers sorts the configuration's servers into ours and Apache's.
func (t *takeover) findServers(cfg *conf.Config, apacheClients string) error {
	var given []string
	if apacheClients != "" {
		given = strings.Split(apacheClients, ",")
	}
	for _, sv := range cfg.Servers {
		addr := clientAddr(sv)
		if sv.ID == cfg.MyID && addr == "" {
			addr = net.JoinHostPort(hostOr(cfg.ClientPortAddress, sv.Host), strconv.Itoa(cfg.ClientPort))
		}
		if sv.Observer && addr != "" {
			if out, err := word(addr, "mgst", ""); err == nil && strings.HasPrefix(out, "zkgo apache observer") {
				t.ours = append(t.ours, peer{sv.ID, addr})
				continue
			}
		}
		if len(given) > 0 {
			addr, given = strings.TrimSpace(given[0]), given[1:]
		}
		t.apache = append(t.apache, peer{sv.ID, addr})
	}
	if len(t.ours) == 0 {
		return errors.New("takeover: no server of ours answers among the :observer lines (is each started, with a client port on its line?)")
	}
	fmt.Fprintf(t.out, "our servers: %s; Apache servers: %s\n", ids(t.ours), ids(t.apache))
	return nil
}

// pauseAndCheck pauses our servers and checks that nothing can commit on
// the Apache side any more and that every one of ours holds every txn.
func (t *takeover) pauseAndCheck() error {
	// Twice: writes forwarded by the servers paused later commit after
	// the first pauses' syncs; the second round's syncs come after them.
	zxids := map[int64]int64{}
	for range 2 {
		for _, p := range t.ours {
			start := time.Now()
			out, err := word(p.addr, "mgps", "")
			fmt.Fprintf(t.out, "server %d: %s (%v)\n", p.id, strings.TrimSpace(out), time.Since(start).Round(time.Millisecond))
			if err != nil {
				return fmt.Errorf("pausing server %d (%s): %v", p.id, p.addr, err)
			}
			var z int64
			if _, err := fmt.Sscanf(out, "paused zxid=0x%x", &z); err != nil {
				return fmt.Errorf("pausing server %d: %s", p.id, strings.TrimSpace(out))
			}
			zxids[p.id] = z
			t.zxid = max(t.zxid, z)
		}
	}
	apacheZxid, err := t.checkApache()
	if err != nil {
		return err
	}
	for id, z := range zxids {
		if z < t.zxid || z < apacheZxid {
			return fmt.Errorf("server %d lags: it holds up to 0x%x, but 0x%x was committed", id, z, max(t.zxid, apacheZxid))
		}
	}
	fmt.Fprintf(t.out, "paused; our servers hold every txn up to 0x%x; the Apache servers have no clients\n", t.zxid)
	return nil
}

// checkApache makes sure that no Apache server has clients, and returns
// the highest zxid they hold.
func (t *takeover) checkApache() (int64, error) {
	var zxid int64
	for _, p := range t.apache {
		if p.addr == "" {
			return 0, fmt.Errorf("the client port of Apache server %d is unknown (no ;clientPort on its line, no --apache-clients): cannot be sure it has no clients", p.id)
		}
		n, z, err := apacheClients(p.addr)
		if err != nil {
			return 0, fmt.Errorf("cannot ask Apache server %d at %s (%v): cannot be sure it has no clients", p.id, p.addr, err)
		}
		if n > 0 {
			return 0, fmt.Errorf("Apache server %d (%s) has %d client connections, whose writes could commit after the takeover: move its clients to our servers first", p.id, p.addr, n)
		}
		zxid = max(zxid, z)
	}
	return zxid, nil
}

// resume lets our servers forward writes to the Apache leader again.
func (t *takeover) resume() {
	for _, p := range t.ours {
		word(p.addr, "mgrs", "")
	}
}

// start has each of ours start the ensemble of ours.
func (t *takeover) start() error {
	var idList []string
	for _, p := range t.ours {
		idList = append(idList, strconv.FormatInt(p.id, 10))
	}
	line := fmt.Sprintf("version=%x servers=%s\n", t.zxid, strings.Join(idList, ","))
	for _, p := range t.ours {
		out, err := word(p.addr, "mgtk", line)
		if err == nil && !strings.HasPrefix(out, "started") {
			err = errors.New(strings.TrimSpace(out))
		}
		if err != nil {
			return fmt.Errorf("takeover: server %d (%s) did not start the ensemble of ours: %v", p.id, p.addr, err)
		}
	}
	fmt.Fprintf(t.out, "our servers left the Apache ensemble and elect among themselves (configuration version 0x%x)\n", t.zxid)
	return nil
}

// awaitServing waits until one of ours leads and the others follow.
func (t *takeover) awaitServing(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		leaders, followers := 0, 0
		for _, p := range t.ours {
			out, err := word(p.addr, "srvr", "")
			if err != nil {
				continue
			}
			switch {
			case strings.Contains(out, "Mode: leader"):
				leaders++
			case strings.Contains(out, "Mode: follower"):
				followers++
			}
		}
		if leaders == 1 && leaders+followers == len(t.ours) {
			fmt.Fprintln(t.out, "the ensemble of ours serves: stop the Apache servers now")
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("takeover: the ensemble of ours did not serve within %v (%d leader, %d followers of %d)", timeout, leaders, followers, len(t.ours))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// apacheClients returns how many client connections an Apache server has
// (mntr's zk_num_alive_connections, less the one asking) and its last zxid
// (srvr).
func apacheClients(addr string) (int, int64, error) {
	out, err := word(addr, "mntr", "")
	if err != nil {
		return 0, 0, err
	}
	n := -1
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, "zk_num_alive_connections\t"); ok {
			n, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	if n < 0 {
		return 0, 0, fmt.Errorf("mntr without zk_num_alive_connections: %q", strings.TrimSpace(out))
	}
	out, err = word(addr, "srvr", "")
	if err != nil {
		return 0, 0, err
	}
	var zxid int64
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, "Zxid: "); ok {
			zxid, _ = strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(v), "0x"), 16, 64)
		}
	}
	return max(n-1, 0), zxid, nil
}

// word sends a four-letter word (and what follows it) to addr and returns
// the answer.
func word(addr, w, rest string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Minute))
	if _, err := io.WriteString(c, w+rest); err != nil {
		return "", err
	}
	b, err := io.ReadAll(bufio.NewReader(c))
	if err != nil && len(b) == 0 {
		return "", err
	}
	if len(b) == 0 {
		return "", errors.New("no answer")
	}
	return string(b), nil
}

// clientAddr is the client address of a server line ("" if none).
func clientAddr(sv conf.Server) string {
	if sv.ClientPort == 0 {
		return ""
	}
	return net.JoinHostPort(hostOr(sv.ClientAddr, sv.Host), strconv.Itoa(sv.ClientPort))
}

// hostOr is host, or fallback when host is empty or a wildcard address.
func hostOr(host, fallback string) string {
	if host == "" || host == "0.0.0.0" || host == "::" {
		return fallback
	}
	return host
}

func ids(ps []peer) string {
	var s []string
	for _, p := range ps {
		s = append(s, strconv.FormatInt(p.id, 10))
	}
	return strings.Join(s, ", ")
}
