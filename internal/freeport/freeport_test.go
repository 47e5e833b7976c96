package freeport

import (
	"net"
	"strconv"
	"testing"
)

func TestPickIsFreeDistinctAndOutsideTheEphemeralRange(t *testing.T) {
	seen := map[int]bool{}
	for range 200 {
		port, err := Pick()
		if err != nil {
			t.Fatal(err)
		}
		if port < minPort || port > maxPort {
			t.Fatalf("port %d outside %d-%d", port, minPort, maxPort)
		}
		if seen[port] {
			t.Fatalf("port %d handed out twice", port)
		}
		seen[port] = true
	}
	port, err := Pick()
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatalf("picked port %d is not free: %v", port, err)
	}
	l.Close()
}
