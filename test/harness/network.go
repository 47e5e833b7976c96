package harness

import (
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zkgo/zkgo/test/netproxy"
)

// EnvFaultFsyncDelayFile is the environment variable through which zkserver
// learns the file holding its injected fsync delay (a Go duration, re-read
// at each sync of the transaction log). It is a test hook; StartFaultyEnsemble
// sets it for every server and Server.SetFsyncDelay rewrites the file.
const EnvFaultFsyncDelayFile = "ZKGO_FAULT_FSYNC_DELAY_FILE"

// StartFaultyEnsemble is StartEnsemble with faults at hand: every peer link
// goes through a proxy of the returned Network, and every server has an
// fsync delay control file (see SetFsyncDelay).
//
// Our zab transport opens one connection per direction and port (server i
// dials server j to send it messages), so server i's zoo.cfg names, for each
// other server j, the quorum and election addresses of the proxies of the
// directed link i -> j; its own line holds its real addresses. Cutting link
// i -> j thus stops exactly the messages from i to j.
func StartFaultyEnsemble(t testing.TB, n int, extraCfg map[string]string) ([]*Server, *Network) {
	t.Helper()
	return startEnsemble(t, n, extraCfg, true)
}

// SetFsyncDelay makes every later sync of the server's transaction log take
// at least d longer (zero removes the delay). Only for servers of
// StartFaultyEnsemble.
func (s *Server) SetFsyncDelay(d time.Duration) error {
	if s.fsyncDelayFile == "" {
		return fmt.Errorf("harness: %s has no fsync delay control file (use StartFaultyEnsemble)", s.name)
	}
	tmp := s.fsyncDelayFile + ".tmp"
	if err := os.WriteFile(tmp, []byte(d.String()+"\n"), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, s.fsyncDelayFile)
}

// peerAddrs are a server's real quorum and election ports.
type peerAddrs struct{ quorum, election int }

// link is a directed link between two servers, by id.
type link struct{ from, to int }

// Network holds the proxies of every directed link of an ensemble started by
// StartFaultyEnsemble and injects faults into them: silent partitions
// (symmetric or one-way), rejected connections and delays. Servers are
// named by id (1..n).
type Network struct {
	n       int
	proxies map[link][2]*netproxy.Proxy // [quorum, election]

	mu    sync.Mutex
	state map[link]string // links not passing without delay: description
}

// newNetwork starts two proxies (quorum, election) for each ordered pair of
// servers, forwarding to the target's real ports.
func newNetwork(addrs []peerAddrs) (*Network, error) {
	nw := &Network{n: len(addrs), proxies: map[link][2]*netproxy.Proxy{}, state: map[link]string{}}
	for i := range addrs {
		for j := range addrs {
			if i == j {
				continue
			}
			var pair [2]*netproxy.Proxy
			for k, port := range []int{addrs[j].quorum, addrs[j].election} {
				p, err := netproxy.Listen("127.0.0.1:0", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
				if err != nil {
					nw.Close()
					return nil, fmt.Errorf("proxy for link %d -> %d: %w", i+1, j+1, err)
				}
				pair[k] = p
			}
			nw.proxies[link{i + 1, j + 1}] = pair
		}
	}
	return nw, nil
}

// proxyPorts returns the quorum and election ports of link from -> to.
func (nw *Network) proxyPorts(from, to int) (quorum, election int) {
	pair := nw.proxies[link{from, to}]
	return portOf(pair[0].Addr()), portOf(pair[1].Addr())
}

func portOf(addr string) int {
	_, p, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(p)
	return port
}

// Close stops every proxy.
func (nw *Network) Close() {
	for _, pair := range nw.proxies {
		for _, p := range pair {
			if p != nil {
				p.Close()
			}
		}
	}
}

// set puts both proxies of link from -> to in state s with delay d.
func (nw *Network) set(from, to int, s netproxy.State, d time.Duration) {
	pair, ok := nw.proxies[link{from, to}]
	if !ok {
		panic(fmt.Sprintf("harness: no link %d -> %d in a network of %d servers", from, to, nw.n))
	}
	for _, p := range pair {
		p.Set(s, d)
	}
	nw.mu.Lock()
	defer nw.mu.Unlock()
	switch {
	case s == netproxy.Pass && d == 0:
		delete(nw.state, link{from, to})
	case s == netproxy.Pass:
		nw.state[link{from, to}] = "delay " + d.String()
	default:
		nw.state[link{from, to}] = s.String()
	}
}

// Cut silently drops every message from server from to server to (a
// one-way partition): nothing arrives, nobody is told.
func (nw *Network) Cut(from, to int) { nw.set(from, to, netproxy.Drop, 0) }

// Reject closes the connections from server from to server to as soon as
// they open (an unreachable host that answers with a reset).
func (nw *Network) Reject(from, to int) { nw.set(from, to, netproxy.Reject, 0) }

// Delay delivers every message from server from to server to d late.
func (nw *Network) Delay(from, to int, d time.Duration) { nw.set(from, to, netproxy.Pass, d) }

// Partition cuts both ways every link between servers of different groups;
// the links inside a group are left as they are. Servers in no group form
// one more group.
func (nw *Network) Partition(groups ...[]int) {
	group := map[int]int{}
	for g, ids := range groups {
		for _, id := range ids {
			group[id] = g + 1
		}
	}
	for l := range nw.proxies {
		if group[l.from] != group[l.to] {
			nw.Cut(l.from, l.to)
		}
	}
}

// Isolate cuts every link to and from server id, both ways.
func (nw *Network) Isolate(id int) { nw.Partition([]int{id}) }

// Heal makes every link pass again without delay. Connections that lost
// messages in a cut are closed, so that their senders reconnect.
func (nw *Network) Heal() {
	for l := range nw.proxies {
		nw.set(l.from, l.to, netproxy.Pass, 0)
	}
}

// String describes the links that are not healthy ("1->2 drop, 3->1 delay
// 200ms") or says "healthy".
func (nw *Network) String() string {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	if len(nw.state) == 0 {
		return "healthy"
	}
	var parts []string
	for l, s := range nw.state {
		parts = append(parts, fmt.Sprintf("%d->%d %s", l.from, l.to, s))
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}
