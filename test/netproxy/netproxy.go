// Package netproxy is a fault-injecting TCP proxy for tests: it listens on
// one address and forwards every connection it accepts to a target address,
// byte for byte in both directions, until a test tells it to misbehave.
//
// A Proxy is in one of three states:
//
//   - Pass: bytes are forwarded, each after the configured delay (order is
//     kept; zero delay forwards at once).
//   - Drop: a silent partition. Bytes read from either side are discarded;
//     nobody is told. Connections accepted meanwhile are held open but never
//     reach the target. Since their streams now have a gap, every connection
//     that was open during a Drop is closed when the proxy passes again
//     (a TCP connection may always be reset; it may not lose bytes).
//   - Reject: an unreachable host that says so. Open connections are closed
//     at once and new ones are closed as soon as they are accepted.
//
// The faults act on whole connections in both directions; a one-way
// partition is made by proxying each direction of a conversation through
// its own Proxy (the zab transport opens one connection per direction).
package netproxy

import (
	"errors"
	"net"
	"sync"
	"time"
)

// State is what a Proxy does with traffic.
type State int

// The states of a Proxy (see the package comment).
const (
	Pass State = iota
	Drop
	Reject
)

func (s State) String() string {
	switch s {
	case Pass:
		return "pass"
	case Drop:
		return "drop"
	case Reject:
		return "reject"
	}
	return "invalid"
}

// dialTimeout bounds the connect to the target.
const dialTimeout = 2 * time.Second

// Proxy forwards the connections accepted on its address to a target.
type Proxy struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup

	mu     sync.Mutex
	state  State
	delay  time.Duration
	closed bool
	conns  map[*pipe]struct{}
}

// pipe is one proxied connection: the accepted side and, unless it was
// accepted during a Drop, the side dialled to the target.
type pipe struct {
	client, server net.Conn
	broken         bool // lost bytes in a Drop: close it when passing again
	once           sync.Once
}

func (p *pipe) close() {
	p.once.Do(func() {
		p.client.Close()
		if p.server != nil {
			p.server.Close()
		}
	})
}

// Listen starts a proxy on addr (host:port; port 0 picks a free one) that
// forwards to target. It passes traffic until told otherwise.
func Listen(addr, target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, target: target, conns: map[*pipe]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the address the proxy listens on.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Target is the address the proxy forwards to.
func (p *Proxy) Target() string { return p.target }

// State returns the proxy's state and delay.
func (p *Proxy) State() (State, time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state, p.delay
}

// Set changes the proxy's state; delay applies to forwarded bytes (Pass).
// Going to Reject closes every open connection; going to Pass closes the
// connections that lost bytes in a Drop.
func (p *Proxy) Set(s State, delay time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state, p.delay = s, delay
	for c := range p.conns {
		switch {
		case s == Reject, s == Pass && c.broken:
			c.close()
			delete(p.conns, c)
		case s == Drop:
			c.broken = true
		}
	}
}

// Close stops listening, closes every connection and waits for the
// proxy's goroutines.
func (p *Proxy) Close() error {
	err := p.ln.Close()
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.close()
	}
	clear(p.conns)
	p.mu.Unlock()
	p.wg.Wait()
	return err
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return
		}
		p.wg.Add(1)
		go p.serve(c)
	}
}

// serve proxies one accepted connection until either side closes it or
// the proxy's state ends it.
func (p *Proxy) serve(c net.Conn) {
	defer p.wg.Done()
	p.mu.Lock()
	state := p.state
	p.mu.Unlock()
	pp := &pipe{client: c}
	switch state {
	case Reject:
		c.Close()
		return
	case Pass:
		s, err := net.DialTimeout("tcp", p.target, dialTimeout)
		if err != nil {
			c.Close() // the target is down: refuse as it would
			return
		}
		pp.server = s
	}
	p.mu.Lock()
	if p.closed || p.state != state {
		// Closed or changed while dialling: reset the connection (the
		// client reconnects and meets the new state).
		p.mu.Unlock()
		pp.close()
		return
	}
	if state == Drop {
		pp.broken = true
	}
	p.conns[pp] = struct{}{}
	p.mu.Unlock()

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		p.copy(pp, c, pp.server)
	}()
	if pp.server != nil {
		p.copy(pp, pp.server, c)
	}
	wg.Wait()
	p.mu.Lock()
	delete(p.conns, pp)
	p.mu.Unlock()
}

// copy forwards from src to dst (nil: discard) until src fails, then
// closes the pipe. Bytes read while the proxy drops are discarded and
// mark the pipe broken; bytes read while it passes are written after the
// delay in force when they were read.
func (p *Proxy) copy(pp *pipe, src, dst net.Conn) {
	defer pp.close()
	type chunk struct {
		data []byte
		due  time.Time
	}
	queue := make(chan chunk, 64)
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		for ch := range queue {
			if d := time.Until(ch.due); d > 0 {
				time.Sleep(d) // the injected latency itself
			}
			if _, err := dst.Write(ch.data); err != nil {
				pp.close()
				for range queue {
				}
				return
			}
		}
	}()
	defer func() {
		close(queue)
		<-writerDone
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			state, delay := p.state, p.delay
			if state != Pass || dst == nil {
				pp.broken = true
			}
			p.mu.Unlock()
			if state == Pass && dst != nil {
				queue <- chunk{data: append([]byte(nil), buf[:n]...), due: time.Now().Add(delay)}
			}
		}
		if err != nil {
			return
		}
	}
}
