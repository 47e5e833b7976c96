package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// progress draws a one-line progress bar on a terminal: steps done out of
// total, the current step's name and the time spent on it, the fraction
// within a step estimated from its expected duration. When the output is
// not a terminal it prints one plain line per finished step instead.
type progress struct {
	w     io.Writer
	total int
	tty   bool

	mu       sync.Mutex
	done     int
	step     string
	expected time.Duration
	began    time.Time
	detail   string

	stop chan struct{}
	wg   sync.WaitGroup
}

// newProgress starts redrawing the bar every 200 ms until finish.
func newProgress(w *os.File, total int) *progress {
	p := &progress{w: w, total: total, tty: isTerminal(w), began: time.Now(), stop: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.draw()
			}
		}
	}()
	return p
}

// start marks the beginning of the next step, expected to take about d.
func (p *progress) start(step string, d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.step, p.expected, p.began, p.detail = step, d, time.Now(), ""
}

// note sets a detail shown after the step name.
func (p *progress) note(detail string) {
	p.mu.Lock()
	p.detail = detail
	p.mu.Unlock()
}

// end marks the current step done.
func (p *progress) end() {
	p.mu.Lock()
	p.done++
	if !p.tty {
		fmt.Fprintf(p.w, "zkbench: %d/%d %s done in %.1fs\n", p.done, p.total, p.step, time.Since(p.began).Seconds())
	}
	p.mu.Unlock()
	p.draw()
}

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// log prints a line above the bar.
func (p *progress) log(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
	fmt.Fprintf(p.w, format+"\n", args...)
}

// finish stops redrawing and clears the bar.
func (p *progress) finish() {
	close(p.stop)
	p.wg.Wait()
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

func (p *progress) draw() {
	if !p.tty {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	const width = 30
	frac := float64(p.done)
	spent := time.Since(p.began)
	if p.expected > 0 && p.done < p.total {
		frac += min(0.99, spent.Seconds()/p.expected.Seconds())
	}
	frac = min(1, frac/float64(max(p.total, 1)))
	n := int(frac * width)
	bar := strings.Repeat("=", n) + strings.Repeat(" ", width-n)
	fmt.Fprintf(p.w, "\r\033[K[%s] %3.0f%% %d/%d %s %s %.0fs", bar, 100*frac, p.done, p.total, p.step, p.detail, spent.Seconds())
}
