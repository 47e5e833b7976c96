package server

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/zap"

	"github.com/zkgo/zkgo/conf"
	"github.com/zkgo/zkgo/wire"
)

// restartable runs a server over a fixed data dir that a test can stop and
// start again.
type restartable struct {
	t   *testing.T
	cfg *conf.Config
	s   *Server
}

func newRestartable(t *testing.T, edit func(*conf.Config)) *restartable {
	cfg := conf.Default()
	cfg.DataDir = t.TempDir()
	cfg.DataLogDir = cfg.DataDir
	cfg.TickTime = 100
	cfg.MinSessionTimeout = 200
	cfg.MaxSessionTimeout = 60000
	if edit != nil {
		edit(cfg)
	}
	r := &restartable{t: t, cfg: cfg}
	r.start()
	t.Cleanup(func() { r.s.Close() })
	return r
}

func (r *restartable) start() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		r.t.Fatal(err)
	}
	r.s = New(r.cfg, zap.NewNop())
	if err := r.s.Serve(ln); err != nil {
		r.t.Fatal(err)
	}
}

func (r *restartable) restart() {
	r.s.Close()
	r.start()
}

func TestRestartKeepsTreeAndSessions(t *testing.T) {
	for _, snapCount := range []int{100000, 10} {
		t.Run(fmt.Sprintf("snapCount=%d", snapCount), func(t *testing.T) {
			r := newRestartable(t, func(c *conf.Config) { c.SnapCount = snapCount })
			c := newRaw(t, r.s)
			for i := 0; i < 50; i++ {
				c.expect(wire.ErrOK, wire.OpCreate, create(fmt.Sprintf("/n%02d", i), "v", wire.FlagPersistentSequential), nil)
			}
			c.expect(wire.ErrOK, wire.OpCreate, create("/eph", "", wire.FlagEphemeral), nil)
			c.expect(wire.ErrOK, wire.OpSetData, &wire.SetDataRequest{Path: "/n00" + "0000000000", Data: []byte("new"), Version: -1}, nil)
			lastZxid := r.s.tree.LastZxid()
			r.restart()
			if got := r.s.tree.LastZxid(); got != lastZxid {
				t.Fatalf("lastZxid after restart 0x%x, want 0x%x", got, lastZxid)
			}
			// The session survives the restart: reconnect to it.
			again, err := dialRaw(t, r.s.Addr().String(), wire.ConnectRequest{SessionID: c.resp.SessionID, Passwd: c.resp.Passwd, LastZxidSeen: lastZxid})
			if err != nil {
				t.Fatal(err)
			}
			if again.resp.SessionID != c.resp.SessionID {
				t.Fatalf("session lost in restart: %+v", again.resp)
			}
			var gd wire.GetDataResponse
			again.expect(wire.ErrOK, wire.OpGetData, &wire.PathWatchRequest{Path: "/n000000000000"}, &gd)
			if string(gd.Data) != "new" || gd.Stat.Version != 1 {
				t.Fatalf("data after restart %q v%d", gd.Data, gd.Stat.Version)
			}
			var st wire.StatResponse
			again.expect(wire.ErrOK, wire.OpExists, &wire.PathWatchRequest{Path: "/eph"}, &st)
			if st.Stat.EphemeralOwner != c.resp.SessionID {
				t.Fatal("ephemeral lost its owner")
			}
			var ch wire.StringsResponse
			again.expect(wire.ErrOK, wire.OpGetChildren, &wire.PathWatchRequest{Path: "/"}, &ch)
			if len(ch.Strings) != 52 {
				t.Fatalf("%d children of / after restart, want 52", len(ch.Strings))
			}
		})
	}
}

func TestCorruptSnapshotStopsStart(t *testing.T) {
	r := newRestartable(t, func(c *conf.Config) { c.SnapCount = 4 })
	c := newRaw(t, r.s)
	for i := 0; i < 20; i++ {
		c.expect(wire.ErrOK, wire.OpCreate, create(fmt.Sprintf("/n%02d", i), "v", 0), nil)
	}
	r.s.Close()
	snaps, _ := filepath.Glob(filepath.Join(r.cfg.DataDir, "version-2", "snapshot.*"))
	if len(snaps) == 0 {
		t.Fatal("no snapshot was taken")
	}
	for _, p := range snaps {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)/2] ^= 0xff
		os.WriteFile(p, b, 0o644)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.s = New(r.cfg, zap.NewNop())
	err = r.s.Serve(ln)
	if err == nil {
		t.Fatal("server started on corrupt snapshots")
	}
	t.Logf("start refused: %v", err)
	r.s = New(r.cfg, zap.NewNop()) // closed by the cleanup without ever serving
}
