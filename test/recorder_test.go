package test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

const (
	// sessionTimeout is the session timeout the recorder's clients ask for.
	sessionTimeout = 10 * time.Second
	// connectTimeout bounds the wait for a new session.
	connectTimeout = 15 * time.Second
	// eventTimeout bounds the wait for one expected watch event.
	eventTimeout = 5 * time.Second
	// clockSlack is how far a znode time may be from the test's clock and
	// still count as a plausible wall-clock time.
	clockSlack = 10 * time.Minute
)

// Special ephemeralOwner values (Apache's EphemeralType): containers carry
// the sign bit alone, TTL nodes the top byte 0xff and the TTL below.
const (
	containerOwner = -1 << 63
	ttlOwnerMask   = -1 << 56
)

// transcript is the normalized record of one scenario run against one
// server: one line per operation or watch event, with everything that may
// legitimately differ between servers (zxids, times, session ids) replaced
// by symbols that keep only their relations.
type transcript struct {
	lines    []string
	zxids    map[int64]string   // zxid -> "Z<n>", named in order of first appearance
	sessions map[int64]*session // session id -> session, to name ephemeral owners
	all      []*session         // in order of opening
	start    time.Time
}

func newTranscript() *transcript {
	return &transcript{
		zxids:    map[int64]string{},
		sessions: map[int64]*session{},
		start:    time.Now(),
	}
}

func (tr *transcript) String() string {
	return strings.Join(tr.lines, "\n") + "\n"
}

// zxid names z by order of first appearance. On first appearance a zxid
// smaller than one already named is written "Z5<Z2" (Z2 being the smallest
// named zxid above it), so the transcript keeps the zxids' total order.
func (tr *transcript) zxid(z int64) string {
	if z == 0 {
		return "0"
	}
	if name, ok := tr.zxids[z]; ok {
		return name
	}
	name := fmt.Sprintf("Z%d", len(tr.zxids)+1)
	var above int64
	for k := range tr.zxids {
		if k > z && (above == 0 || k < above) {
			above = k
		}
	}
	tr.zxids[z] = name
	if above != 0 {
		return name + "<" + tr.zxids[above]
	}
	return name
}

// time writes a znode time as "0", "t" (a plausible wall-clock time) or
// "bad(ms)".
func (tr *transcript) time(ms int64) string {
	if ms == 0 {
		return "0"
	}
	t := time.UnixMilli(ms)
	if t.Before(tr.start.Add(-clockSlack)) || t.After(time.Now().Add(clockSlack)) {
		return fmt.Sprintf("bad(%d)", ms)
	}
	return "t"
}

// session is one client session whose operations are recorded into a
// transcript. Its methods never fail the test: every outcome, error or not,
// becomes a transcript line.
type session struct {
	t      testing.TB
	tr     *transcript
	addr   string
	name   string
	conn   *zk.Conn
	id     int64
	events chan zk.Event // watch notifications, in order of arrival
	lost   atomic.Int32  // notifications dropped because events was full
	closed bool
}

// openSession connects a new session named name to addr and waits until it
// is established.
func openSession(t testing.TB, tr *transcript, addr, name string) *session {
	t.Helper()
	s := &session{t: t, tr: tr, addr: addr, name: name, events: make(chan zk.Event, 1024)}
	states := make(chan zk.State, 64)
	// The callback runs on the client's receive loop, in order of arrival:
	// it sees every notification the server sends exactly once, before
	// go-zookeeper fans it out to per-call watch channels.
	callback := func(ev zk.Event) {
		switch {
		case ev.Type == zk.EventSession:
			select {
			case states <- ev.State:
			default:
			}
		case ev.Type > 0: // a server notification, not a client-side EventNotWatching
			select {
			case s.events <- ev:
			default:
				s.lost.Add(1)
			}
		}
	}
	var quiet atomic.Bool
	conn, _, err := zk.Connect([]string{addr}, sessionTimeout,
		zk.WithEventCallback(callback),
		zk.WithLogInfo(false),
		zk.WithLogger(testLogger{t, name, &quiet}))
	if err != nil {
		t.Fatalf("session %s: connect %s: %v", name, addr, err)
	}
	s.conn = conn
	t.Cleanup(func() {
		conn.Close()
		quiet.Store(true)
	})
	deadline := time.After(connectTimeout)
	for state := zk.StateUnknown; state != zk.StateHasSession; {
		select {
		case state = <-states:
		case <-deadline:
			t.Fatalf("session %s: no session with %s within %v", name, addr, connectTimeout)
		}
	}
	s.id = conn.SessionID()
	tr.sessions[s.id] = s
	tr.all = append(tr.all, s)
	return s
}

// testLogger routes go-zookeeper's log to the test log until the session
// is closed.
type testLogger struct {
	t     testing.TB
	name  string
	quiet *atomic.Bool
}

func (l testLogger) Printf(format string, args ...any) {
	if !l.quiet.Load() {
		l.t.Logf("session %s: zk: "+format, append([]any{l.name}, args...)...)
	}
}

// Open opens another session, named name, on the same server and
// transcript.
func (s *session) Open(name string) *session {
	s.t.Helper()
	o := openSession(s.t, s.tr, s.addr, name)
	s.log("open session %s", name)
	return o
}

// Close closes the session; the server deletes its ephemeral nodes.
func (s *session) Close() {
	s.conn.Close()
	s.closed = true
	s.log("close")
}

func (s *session) log(format string, args ...any) {
	s.tr.lines = append(s.tr.lines, s.name+": "+fmt.Sprintf(format, args...))
}

// record writes "name: op -> ERR" and, when err is nil, the results.
func (s *session) record(op string, err error, results ...string) {
	line := op + " -> " + errName(err)
	if err == nil && len(results) > 0 {
		line += " " + strings.Join(results, " ")
	}
	s.log("%s", line)
}

// Create creates a znode and returns the path the server assigned.
func (s *session) Create(path string, data []byte, flags int32, acl []zk.ACL) string {
	got, err := s.conn.Create(path, data, flags, acl)
	s.record(fmt.Sprintf("create %q %s %s %s", path, fmtData(data), flagName(flags), fmtACL(acl)), err, got)
	return got
}

// CreateContainer creates a container znode.
func (s *session) CreateContainer(path string, data []byte, acl []zk.ACL) {
	got, err := s.conn.CreateContainer(path, data, zk.FlagContainer, acl)
	s.record(fmt.Sprintf("createContainer %q %s %s", path, fmtData(data), fmtACL(acl)), err, got)
}

// CreateTTL creates a TTL znode.
func (s *session) CreateTTL(path string, data []byte, flags int32, acl []zk.ACL, ttl time.Duration) {
	got, err := s.conn.CreateTTL(path, data, flags, acl, ttl)
	s.record(fmt.Sprintf("createTTL %q %s %s %s ttl=%v", path, fmtData(data), flagName(flags), fmtACL(acl), ttl), err, got)
}

// Get records getData without a watch.
func (s *session) Get(path string) { s.get(path, false) }

// GetW records getData with a watch.
func (s *session) GetW(path string) { s.get(path, true) }

func (s *session) get(path string, watch bool) {
	var data []byte
	var st *zk.Stat
	var err error
	if watch {
		data, st, _, err = s.conn.GetW(path)
	} else {
		data, st, err = s.conn.Get(path)
	}
	s.record(opName("get", watch)+" "+quote(path), err, fmtData(data), s.stat(st))
}

// Exists records exists without a watch.
func (s *session) Exists(path string) { s.exists(path, false) }

// ExistsW records exists with a watch (set whether or not the node exists).
func (s *session) ExistsW(path string) { s.exists(path, true) }

func (s *session) exists(path string, watch bool) {
	var ok bool
	var st *zk.Stat
	var err error
	if watch {
		ok, st, _, err = s.conn.ExistsW(path)
	} else {
		ok, st, err = s.conn.Exists(path)
	}
	results := []string{fmt.Sprint(ok)}
	if ok {
		results = append(results, s.stat(st))
	}
	s.record(opName("exists", watch)+" "+quote(path), err, results...)
}

// Children records getChildren2 (children, sorted, and the parent's Stat)
// without a watch.
func (s *session) Children(path string) { s.children(path, false) }

// ChildrenW records getChildren2 with a child watch.
func (s *session) ChildrenW(path string) { s.children(path, true) }

func (s *session) children(path string, watch bool) {
	var kids []string
	var st *zk.Stat
	var err error
	if watch {
		kids, st, _, err = s.conn.ChildrenW(path)
	} else {
		kids, st, err = s.conn.Children(path)
	}
	slices.Sort(kids) // the API promises no order
	s.record(opName("children", watch)+" "+quote(path), err, "["+strings.Join(kids, " ")+"]", s.stat(st))
}

// Set records setData.
func (s *session) Set(path string, data []byte, version int32) {
	st, err := s.conn.Set(path, data, version)
	s.record(fmt.Sprintf("set %q %s v=%d", path, fmtData(data), version), err, s.stat(st))
}

// Delete records delete.
func (s *session) Delete(path string, version int32) {
	err := s.conn.Delete(path, version)
	s.record(fmt.Sprintf("delete %q v=%d", path, version), err)
}

// GetACL records getACL.
func (s *session) GetACL(path string) {
	acl, st, err := s.conn.GetACL(path)
	s.record("getACL "+quote(path), err, fmtACL(acl), s.stat(st))
}

// SetACL records setACL.
func (s *session) SetACL(path string, acl []zk.ACL, version int32) {
	st, err := s.conn.SetACL(path, acl, version)
	s.record(fmt.Sprintf("setACL %q %s v=%d", path, fmtACL(acl), version), err, s.stat(st))
}

// AddAuth records addAuth.
func (s *session) AddAuth(scheme, auth string) {
	err := s.conn.AddAuth(scheme, []byte(auth))
	s.record(fmt.Sprintf("addAuth %s %q", scheme, auth), err)
}

// Sync records sync.
func (s *session) Sync(path string) {
	got, err := s.conn.Sync(path)
	s.record("sync "+quote(path), err, quote(got))
}

// Multi records a multi and the result of each of its operations.
func (s *session) Multi(ops ...any) {
	descs := make([]string, len(ops))
	for i, op := range ops {
		descs[i] = fmtOp(op)
	}
	res, err := s.conn.Multi(ops...)
	s.log("multi [%s] -> %s (%d results)", strings.Join(descs, "; "), errName(err), len(res))
	for i, r := range res {
		var out []string
		if r.String != "" {
			out = append(out, quote(r.String))
		}
		if r.Stat != nil {
			out = append(out, s.stat(r.Stat))
		}
		s.log("  [%d] %s", i, strings.TrimSpace(errName(r.Error)+" "+strings.Join(out, " ")))
	}
}

// Expect waits for n watch notifications and records them in order of
// arrival, then checks that no further notification is pending.
func (s *session) Expect(n int) {
	for _, ev := range s.wait(n) {
		s.log("%s", ev)
	}
	s.quiet()
}

// ExpectUnordered is Expect for notifications whose relative order the
// server does not define (for example the deletion of several ephemerals
// of a closed session): it records them sorted.
func (s *session) ExpectUnordered(n int) {
	evs := s.wait(n)
	slices.Sort(evs)
	for _, ev := range evs {
		s.log("%s (unordered)", ev)
	}
	s.quiet()
}

// wait returns up to n notifications, each waited for at most eventTimeout;
// a missing one is reported as such.
func (s *session) wait(n int) []string {
	var evs []string
	for range n {
		select {
		case ev := <-s.events:
			evs = append(evs, fmtEvent(ev))
		case <-time.After(eventTimeout):
			return append(evs, fmt.Sprintf("event missing after %v", eventTimeout))
		}
	}
	return evs
}

// quiet makes a sync round trip, after which every notification the server
// owed this session has arrived (they precede the sync reply on the
// connection), and records any pending notification as unexpected.
func (s *session) quiet() {
	if _, err := s.conn.Sync("/"); err != nil {
		s.log("sync for quiet check -> %s", errName(err))
	}
	for {
		select {
		case ev := <-s.events:
			s.log("unexpected %s", fmtEvent(ev))
		default:
			if n := s.lost.Swap(0); n > 0 {
				s.log("%d notifications lost (event buffer full)", n)
			}
			return
		}
	}
}

// stat normalizes a Stat: zxids as symbols, times as relations, the
// ephemeral owner relative to this session, the rest exactly.
func (s *session) stat(st *zk.Stat) string {
	if st == nil {
		return "stat(nil)"
	}
	tr := s.tr
	mtime := tr.time(st.Mtime)
	if st.Mtime < st.Ctime {
		mtime += "<ctime"
	}
	return fmt.Sprintf("stat(cz=%s mz=%s pz=%s ct=%s mt=%s v=%d cv=%d av=%d eph=%s len=%d nc=%d)",
		tr.zxid(st.Czxid), tr.zxid(st.Mzxid), tr.zxid(st.Pzxid),
		tr.time(st.Ctime), mtime,
		st.Version, st.Cversion, st.Aversion,
		s.owner(st.EphemeralOwner), st.DataLength, st.NumChildren)
}

// owner names an ephemeralOwner: 0, self, another session of the transcript,
// container, ttl(ms) or other.
func (s *session) owner(id int64) string {
	switch {
	case id == 0:
		return "0"
	case id == s.id:
		return "self"
	case id == containerOwner:
		return "container"
	case id&ttlOwnerMask == ttlOwnerMask:
		return fmt.Sprintf("ttl(%d)", id&^ttlOwnerMask)
	}
	if o, ok := s.tr.sessions[id]; ok {
		return "session:" + o.name
	}
	return "other"
}

func opName(op string, watch bool) string {
	if watch {
		return op + "W"
	}
	return op
}

func quote(s string) string { return fmt.Sprintf("%q", s) }

// fmtData distinguishes nil (sent as length -1) from empty data.
func fmtData(b []byte) string {
	if b == nil {
		return "nil"
	}
	return fmt.Sprintf("%q", b)
}

func fmtEvent(ev zk.Event) string {
	return fmt.Sprintf("event %s %q", ev.Type, ev.Path)
}

// flagNames are the create modes of go-zookeeper's Flag constants.
var flagNames = map[int32]string{
	zk.FlagPersistent:                  "persistent",
	zk.FlagEphemeral:                   "ephemeral",
	zk.FlagSequence:                    "sequential",
	zk.FlagEphemeralSequential:         "ephemeral-sequential",
	zk.FlagContainer:                   "container",
	zk.FlagTTL:                         "ttl",
	zk.FlagPersistentSequentialWithTTL: "sequential-ttl",
}

func flagName(flags int32) string {
	if n, ok := flagNames[flags]; ok {
		return n
	}
	return fmt.Sprintf("flags(%d)", flags)
}

// permLetters lists ACL permissions the way zkCli prints them.
var permLetters = []struct {
	bit    int32
	letter byte
}{
	{zk.PermCreate, 'c'}, {zk.PermDelete, 'd'}, {zk.PermRead, 'r'}, {zk.PermWrite, 'w'}, {zk.PermAdmin, 'a'},
}

func fmtPerms(p int32) string {
	var b strings.Builder
	for _, pl := range permLetters {
		if p&pl.bit != 0 {
			b.WriteByte(pl.letter)
			p &^= pl.bit
		}
	}
	if p != 0 {
		fmt.Fprintf(&b, "+%#x", p)
	}
	return b.String()
}

func fmtACL(acl []zk.ACL) string {
	if acl == nil {
		return "acl(nil)"
	}
	parts := make([]string, len(acl))
	for i, a := range acl {
		parts[i] = fmt.Sprintf("%s:%s:%s", a.Scheme, a.ID, fmtPerms(a.Perms))
	}
	return "acl[" + strings.Join(parts, ",") + "]"
}

// fmtOp describes one operation of a multi.
func fmtOp(op any) string {
	switch o := op.(type) {
	case *zk.CreateRequest:
		return fmt.Sprintf("create %q %s %s %s", o.Path, fmtData(o.Data), flagName(o.Flags), fmtACL(o.Acl))
	case *zk.SetDataRequest:
		return fmt.Sprintf("set %q %s v=%d", o.Path, fmtData(o.Data), o.Version)
	case *zk.DeleteRequest:
		return fmt.Sprintf("delete %q v=%d", o.Path, o.Version)
	case *zk.CheckVersionRequest:
		return fmt.Sprintf("check %q v=%d", o.Path, o.Version)
	}
	return fmt.Sprintf("%T", op)
}

// errNames names go-zookeeper's error values after ZooKeeper's error codes;
// client-side errors (never sent to the server) are marked "client:".
var errNames = []struct {
	err  error
	name string
}{
	{zk.ErrAPIError, "APIError"},
	{zk.ErrNoNode, "NoNode"},
	{zk.ErrNoAuth, "NoAuth"},
	{zk.ErrBadVersion, "BadVersion"},
	{zk.ErrNoChildrenForEphemerals, "NoChildrenForEphemerals"},
	{zk.ErrNodeExists, "NodeExists"},
	{zk.ErrNotEmpty, "NotEmpty"},
	{zk.ErrSessionExpired, "SessionExpired"},
	{zk.ErrInvalidACL, "InvalidACL"},
	{zk.ErrAuthFailed, "AuthFailed"},
	{zk.ErrClosing, "Closing"},
	{zk.ErrNothing, "Nothing"},
	{zk.ErrSessionMoved, "SessionMoved"},
	{zk.ErrReconfigDisabled, "ReconfigDisabled"},
	{zk.ErrBadArguments, "BadArguments"},
	{zk.ErrUnknown, "Unknown"},
	{zk.ErrInvalidPath, "client:InvalidPath"},
	{zk.ErrInvalidFlags, "client:InvalidFlags"},
	{zk.ErrConnectionClosed, "client:ConnectionClosed"},
	{zk.ErrNoServer, "client:NoServer"},
}

// codeNames names the error codes go-zookeeper reports only as
// "unknown error: <code>".
var codeNames = map[int]string{
	-1:   "SystemError",
	-2:   "RuntimeInconsistency",
	-3:   "DataInconsistency",
	-4:   "ConnectionLoss",
	-5:   "MarshallingError",
	-6:   "Unimplemented",
	-7:   "OperationTimeout",
	-12:  "UnknownSession",
	-13:  "NewConfigNoQuorum",
	-14:  "ReconfigInProgress",
	-113: "InvalidCallback",
	-119: "NotReadOnly",
	-120: "EphemeralOnLocalSession",
	-121: "NoWatcher",
	-122: "RequestTimeout",
	-124: "SessionClosedRequireSaslAuth",
	-125: "QuotaExceeded",
	-127: "Throttled",
}

// errName returns ZooKeeper's name for err ("OK" for nil).
func errName(err error) string {
	if err == nil {
		return "OK"
	}
	for _, e := range errNames {
		if errors.Is(err, e.err) {
			return e.name
		}
	}
	var code int
	if _, scanErr := fmt.Sscanf(err.Error(), "unknown error: %d", &code); scanErr == nil {
		if name, ok := codeNames[code]; ok {
			return name
		}
		return fmt.Sprintf("code(%d)", code)
	}
	return fmt.Sprintf("error(%q)", err.Error())
}
