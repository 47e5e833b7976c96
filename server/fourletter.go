package server

import (
	"fmt"
	"io"
	"net"
	"sort"
	"strings"
	"time"
)

// fourLetterWords maps each four-letter word to the function writing its
// answer.
var fourLetterWords = map[string]func(s *Server, w io.Writer){
	"ruok": func(_ *Server, w io.Writer) { io.WriteString(w, "imok") },
	"srvr": func(s *Server, w io.Writer) { s.writeStat(w, false) },
	"stat": func(s *Server, w io.Writer) { s.writeStat(w, true) },
	"isro": func(_ *Server, w io.Writer) { io.WriteString(w, "rw") },
}

func isFourLetterWord(cmd string) bool {
	_, ok := fourLetterWords[cmd]
	return ok
}

// serveFourLetter answers one four-letter word and closes the connection,
// as Apache ZooKeeper does.
func (s *Server) serveFourLetter(nc net.Conn, cmd string) {
	nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if !s.cfg.FourLetterWordEnabled(cmd) {
		fmt.Fprintf(nc, "%s is not executed because it is not in the whitelist.\n", cmd)
		return
	}
	var b strings.Builder
	fourLetterWords[cmd](s, &b)
	io.WriteString(nc, b.String())
}

// mode is the server state as srvr's "Mode:" line names it.
func (s *Server) mode() string { return "standalone" }

func (s *Server) writeStat(w io.Writer, withClients bool) {
	fmt.Fprintf(w, "Zookeeper version: %s\n", Version)
	if withClients {
		io.WriteString(w, "Clients:\n")
		conns := s.connections()
		sort.Slice(conns, func(i, j int) bool { return conns[i].created.Before(conns[j].created) })
		for _, c := range conns {
			fmt.Fprintf(w, " %s[1](queued=%d,recved=%d,sent=%d)\n", c.nc.RemoteAddr(),
				c.queued(), c.stats.received.Load(), c.stats.sent.Load())
		}
		io.WriteString(w, "\n")
	}
	lat := s.stats.snapshot()
	fmt.Fprintf(w, "Latency min/avg/max: %d/%.4f/%d\n", lat.min, lat.avg(), lat.max)
	fmt.Fprintf(w, "Received: %d\n", s.stats.received.Load())
	fmt.Fprintf(w, "Sent: %d\n", s.stats.sent.Load())
	fmt.Fprintf(w, "Connections: %d\n", len(s.connections()))
	fmt.Fprintf(w, "Outstanding: %d\n", s.outstanding())
	fmt.Fprintf(w, "Zxid: 0x%x\n", s.tree.LastZxid())
	fmt.Fprintf(w, "Mode: %s\n", s.mode())
	fmt.Fprintf(w, "Node count: %d\n", s.tree.Stats().NodeCount)
}

// outstanding counts requests received and not yet answered.
func (s *Server) outstanding() int {
	n := 0
	for _, c := range s.connections() {
		n += c.queued()
	}
	return n
}

func (c *conn) queued() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.queue)
}
