package server

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/zkgo/zkgo/conf"
	"github.com/zkgo/zkgo/wire"
	"github.com/zkgo/zkgo/zab/storage"
	"github.com/zkgo/zkgo/znode"
)

// The takeover of an Apache ensemble by its observers of ours (`zkserver
// takeover`). The command talks to each of our observers on its client
// port with four-letter words of ours, which only a server in the Apache
// observer mode answers (Apache's servers close the connection on a word
// they do not know):
//
//	mgst  status: myid, the last zxid applied, whether it serves and is paused
//	mgps  pause: new writes wait; the forwarded ones are answered; a sync
//	      through the Apache leader; answers "paused zxid=0x..."
//	mgrs  resume: the writes flow again (a refused takeover)
//	mgtk  take over, followed by a line "version=<hex> servers=<id>,...":
//	      stop the Apache learner and start an ensemble of ours of those
//	      servers, as participants, in this process; client connections,
//	      sessions and watches stay
//
// Every answer ends with a newline; an error is one line "error: ...".

// The migration words.
const (
	wordStatus   = "mgst"
	wordPause    = "mgps"
	wordResume   = "mgrs"
	wordTakeover = "mgtk"
)

// isMigrationWord reports whether w is one of the migration words.
func isMigrationWord(w string) bool {
	switch w {
	case wordStatus, wordPause, wordResume, wordTakeover:
		return true
	}
	return false
}

// drainTimeout bounds how long a pause waits for the writes already
// forwarded and for its sync.
const drainTimeout = 10 * time.Second

// serveControl answers a migration word on nc; in holds what follows it.
func (a *apacheObserver) serveControl(nc net.Conn, in io.Reader, word string) {
	nc.SetDeadline(time.Now().Add(drainTimeout + 30*time.Second))
	var answer string
	var err error
	switch word {
	case wordStatus:
		answer = a.status()
	case wordPause:
		var zxid int64
		if zxid, err = a.pause(); err == nil {
			answer = fmt.Sprintf("paused zxid=0x%x\n", zxid)
		}
	case wordResume:
		a.resume()
		answer = "resumed\n"
	case wordTakeover:
		var line string
		if line, err = bufio.NewReader(in).ReadString('\n'); err == nil {
			err = a.takeoverLine(strings.TrimSpace(line))
		}
		if err == nil {
			answer = "started\n"
		}
	}
	if err != nil {
		a.log.Warn("migration command failed", zap.String("command", word), zap.Error(err))
		answer = "error: " + strings.ReplaceAll(err.Error(), "\n", " ") + "\n"
	}
	io.WriteString(nc, answer)
}

// status is the answer to mgst.
func (a *apacheObserver) status() string {
	a.ctl.Lock()
	paused := a.paused
	a.ctl.Unlock()
	return fmt.Sprintf("zkgo apache observer\nmyid=%d\nzxid=0x%x\nserving=%t\npaused=%t\ntakenOver=%t\n",
		a.s.cfg.MyID, a.s.tree.LastZxid(), a.s.serving.Load(), paused, a.handedOver.Load())
}

// pause stops the forwarding of new writes, waits until the forwarded
// ones are answered, then syncs through the Apache leader: the returned
// zxid is at least every zxid the leader had committed when it answered.
func (a *apacheObserver) pause() (int64, error) {
	a.ctl.Lock()
	defer a.ctl.Unlock()
	if a.handedOver.Load() {
		return 0, errors.New("taken over already")
	}
	if !a.paused {
		ack := make(chan struct{})
		select {
		case a.pauseReq <- ack:
		case <-a.s.done:
			return 0, errors.New("the server is closing")
		}
		<-ack
		a.paused = true
	}
	deadline := time.Now().Add(drainTimeout)
	for {
		a.mu.Lock()
		n := len(a.pending) + len(a.syncs)
		a.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("%d forwarded writes not answered by the Apache leader within %v", n, drainTimeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
	synced := make(chan struct{})
	r := &request{op: wire.OpSync, body: &wire.PathRequest{Path: "/"}, start: time.Now(),
		onApplied: func(*request, znode.Result) { close(synced) }}
	if err := a.forward(r); err != nil {
		return 0, fmt.Errorf("sync through the Apache leader: %w", err)
	}
	select {
	case <-synced:
	case <-time.After(drainTimeout):
		return 0, fmt.Errorf("the Apache leader did not answer a sync within %v", drainTimeout)
	}
	return a.s.tree.LastZxid(), nil
}

// resume lets the writes flow to the Apache leader again.
func (a *apacheObserver) resume() {
	a.ctl.Lock()
	defer a.ctl.Unlock()
	if a.paused && !a.handedOver.Load() {
		a.resumeReq <- struct{}{}
		a.paused = false
	}
}

// takeoverLine parses mgtk's line and takes over.
func (a *apacheObserver) takeoverLine(line string) error {
	var version int64
	var ids []int64
	for _, f := range strings.Fields(line) {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "version":
			n, err := strconv.ParseInt(v, 16, 64)
			if err != nil {
				return fmt.Errorf("bad version %q", v)
			}
			version = n
		case "servers":
			for _, s := range strings.Split(v, ",") {
				id, err := strconv.ParseInt(s, 10, 64)
				if err != nil {
					return fmt.Errorf("bad server id %q", s)
				}
				ids = append(ids, id)
			}
		}
	}
	if version <= 0 || len(ids) == 0 {
		return fmt.Errorf("want version=<hex> servers=<id>,...; got %q", line)
	}
	return a.takeover(version, ids)
}

// takeover stops following the Apache leader and starts an ensemble of
// ours of the servers ids, in this process, keeping the clients: the
// configuration is written as reconfig writes it (the dynamic file at
// version, zoo.cfg pointing at it, /zookeeper/config), the tree is
// snapshotted so that the ensemble loads exactly what the clients see, and
// our zab, from the epochs stored (Apache's), starts a new epoch above
// them. The server must be paused.
func (a *apacheObserver) takeover(version int64, ids []int64) error {
	a.ctl.Lock()
	defer a.ctl.Unlock()
	s := a.s
	if a.handedOver.Load() {
		return errors.New("taken over already")
	}
	if !a.paused {
		return errors.New("not paused (mgps first)")
	}
	var servers []conf.Server
	for _, id := range ids {
		sv, ok := s.cfg.Server(id)
		if !ok {
			return fmt.Errorf("server %d is not in %s", id, s.cfg.File)
		}
		sv.Observer, sv.Weight = false, 1
		servers = append(servers, sv)
	}
	if !slices.Contains(ids, s.cfg.MyID) {
		return fmt.Errorf("this server (%d) is not among the servers of the new ensemble %v", s.cfg.MyID, ids)
	}

	// Stop the Apache side; the clients stay. Until our ensemble runs,
	// reads go on and writes wait in s.writes; from then on its driver
	// holds the clients' requests until it serves, as across a change of
	// leader (failover.go), and a new connection waits (awaitServing).
	s.serving.Store(false)
	a.handingOver.Store(true)
	a.stopConnect()
	<-a.connDone
	close(a.fwdStop)
	<-a.fwdDone
	for s.snapshotting.Load() {
		time.Sleep(10 * time.Millisecond) // a snapshot of the observer's, being written
	}
	zxid, write := s.tree.Snapshot()
	if _, err := storage.WriteSnapshot(s.snapshotDir(), zxid, write); err != nil {
		return a.failTakeover(err)
	}
	if err := s.txnLog.Close(); err != nil {
		return a.failTakeover(err)
	}
	path, err := conf.WriteDynamic(s.cfg.File, s.cfg.MyID, servers, version)
	if err != nil {
		return a.failTakeover(err)
	}
	cfg := *s.cfg
	cfg.Servers, cfg.ConfigVersion, cfg.DynamicConfigFile = servers, version, path
	cfg.PeerType, cfg.QuorumProtocol = "participant", conf.QuorumProtocolZkgo
	a.log.Info("taking over: starting an ensemble of ours", zap.Int64s("servers", ids),
		zap.String("version", hex(version)), zap.String("zxid", hex(zxid)), zap.String("dynamicConfigFile", path))

	q := newEnsemble(s)
	q.cfg = &cfg
	if err := q.recover(); err != nil {
		return a.failTakeover(err)
	}
	if err := q.start(); err != nil {
		return a.failTakeover(err)
	}
	if cfg.LeaderLossHoldMs > 0 {
		q.beginHold("taking over: holding client connections until the ensemble of ours serves")
	}
	s.quorum = q
	a.handedOver.Store(true)
	q.run()
	return nil
}

// failTakeover stops the server after a takeover failed halfway: it no
// longer follows the Apache leader and has no ensemble of its own. Its
// data directory is whole: restarted, it observes the Apache ensemble
// again (the zoo.cfg.bak beside a rewritten zoo.cfg is the original).
func (a *apacheObserver) failTakeover(err error) error {
	err = fmt.Errorf("takeover failed halfway: %w", err)
	select {
	case a.s.fatal <- err:
	default:
	}
	return err
}
