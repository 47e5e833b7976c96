package harness

import (
	"fmt"
	"path"
	"slices"
	"time"

	"github.com/go-zookeeper/zk"
)

// WalkTree syncs the server c is connected to and then calls visit for
// every znode of its tree, parents before children and children in name
// order, with the node's data and Stat.
func WalkTree(c *zk.Conn, visit func(p string, data []byte, st *zk.Stat)) error {
	if _, err := c.Sync("/"); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	var walk func(p string) error
	walk = func(p string) error {
		data, st, err := c.Get(p)
		if err != nil {
			return fmt.Errorf("get %s: %w", p, err)
		}
		visit(p, data, st)
		children, _, err := c.Children(p)
		if err != nil {
			return fmt.Errorf("children of %s: %w", p, err)
		}
		slices.Sort(children)
		for _, ch := range children {
			if err := walk(path.Join(p, ch)); err != nil {
				return err
			}
		}
		return nil
	}
	return walk("/")
}

// AwaitSession waits up to timeout for events (a go-zookeeper connection's
// event channel) to report an established session, then drains the channel
// in the background. It reports whether the session came.
func AwaitSession(events <-chan zk.Event, timeout time.Duration) bool {
	deadline := time.After(timeout)
	for {
		select {
		case ev := <-events:
			if ev.State == zk.StateHasSession {
				go func() {
					for range events {
					}
				}()
				return true
			}
		case <-deadline:
			return false
		}
	}
}
