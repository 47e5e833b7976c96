// Package freeport picks loopback TCP ports for servers that tests and the
// benchmark start.
package freeport

import (
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
)

// Ports are picked below Linux's ephemeral range (32768-60999 by default),
// which the kernel hands to outgoing connections. A port taken from that
// range could be given to some client's connection (or a starting server's
// connection to its peers) between the check and the server's bind, which
// made tests fail now and then with "address already in use" and Apache
// ZooKeeper exit before it was ready in zkbench. Ports below 17000 are left
// to go-zookeeper's and its forks' own test suites, which test/ runs and
// which pick their servers' ports at random from 10000-16000 (and bind a
// few fixed ones there) while other packages' tests run beside them.
const (
	minPort = 17000
	maxPort = 32767
)

// handedOut holds every port Pick returned in this process: two servers
// given the same port would collide.
var handedOut = struct {
	sync.Mutex
	ports map[int]bool
}{ports: map[int]bool{}}

// Pick returns a TCP port on 127.0.0.1, outside the ephemeral range, that
// was free a moment ago and that no earlier call in this process returned.
func Pick() (int, error) {
	handedOut.Lock()
	defer handedOut.Unlock()
	for range 1000 {
		port := minPort + rand.IntN(maxPort-minPort+1)
		if handedOut.ports[port] {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		l.Close()
		handedOut.ports[port] = true
		return port, nil
	}
	return 0, fmt.Errorf("freeport: no free port in %d-%d", minPort, maxPort)
}
