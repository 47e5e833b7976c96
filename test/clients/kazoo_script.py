#!/usr/bin/python3
"""A kazoo workload for the differential real-client test (clients_test.go).

Usage: /usr/bin/python3 kazoo_script.py 127.0.0.1:PORT

It drives Debian's python3-kazoo against one ZooKeeper server and prints one
normalized line per step on stdout; the Go test runs it against Apache
ZooKeeper and against zkserver and diffs the two outputs. Everything that may
legitimately differ between two servers is normalized here: zxids are named
Z1, Z2, ... in order of first appearance (0 stays 0), plausible wall-clock
times become "t", session ids become the name of the client that owns them,
lists whose order ZooKeeper does not promise (children) are sorted.
Diagnostics go to stderr. Every wait has a timeout; a step that times out
prints TIMEOUT instead of its result, so the transcripts differ instead of
the script hanging.
"""

import logging
import os
import sys
import threading
import time

from kazoo.client import KazooClient
from kazoo.protocol.states import EventType, KazooState, ZnodeStat
from kazoo.security import (
    ACL,
    OPEN_ACL_UNSAFE,
    READ_ACL_UNSAFE,
    make_acl,
    make_digest_acl,
)

# How long any single wait (connect, callback, lock, ...) may take.
WAIT = 10.0
# The whole script is killed after this many seconds.
WATCHDOG = 90.0
# A znode time within this many seconds of now counts as plausible.
CLOCK_SLACK = 600.0

ROOT = "/kz"


class Names:
    """Names zxids and session ids so that transcripts can be compared."""

    def __init__(self):
        self.zxids = {}
        self.sessions = {}

    def zxid(self, z):
        if z == 0:
            return "0"
        if z not in self.zxids:
            self.zxids[z] = "Z%d" % (len(self.zxids) + 1)
        return self.zxids[z]

    def time(self, ms):
        if ms == 0:
            return "0"
        if abs(ms / 1000.0 - time.time()) < CLOCK_SLACK:
            return "t"
        return "BADTIME(%d)" % ms

    def owner(self, sid):
        if sid == 0:
            return "0"
        return self.sessions.get(sid, "unknown-session")


names = Names()


def fmt_stat(s):
    return ("stat(cz=%s mz=%s pz=%s ct=%s mt=%s v=%d cv=%d av=%d eph=%s len=%d nc=%d)"
            % (names.zxid(s.czxid), names.zxid(s.mzxid), names.zxid(s.pzxid),
               names.time(s.ctime), names.time(s.mtime), s.version, s.cversion,
               s.aversion, names.owner(s.ephemeralOwner), s.dataLength, s.numChildren))


def fmt_acl(a):
    return "%s:%s:%d" % (a.id.scheme, a.id.id, a.perms)


def fmt(v):
    """Formats a kazoo result (or exception) as a deterministic string."""
    if isinstance(v, BaseException):
        return type(v).__name__
    if isinstance(v, ZnodeStat):
        return fmt_stat(v)
    if isinstance(v, ACL):
        return fmt_acl(v)
    if isinstance(v, bytes):
        return repr(v)
    if isinstance(v, tuple):
        return "(" + ", ".join(fmt(x) for x in v) + ")"
    if isinstance(v, list):
        return "[" + ", ".join(fmt(x) for x in v) + "]"
    if hasattr(v, "type") and hasattr(v, "state") and hasattr(v, "path"):
        return "event(%s %s %s)" % (v.type, v.state, v.path)
    return repr(v)


def out(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def step(name, fn, *args, **kwargs):
    """Runs fn, prints "name -> result" (or the exception's class name)
    and returns the result (None on error)."""
    try:
        r = fn(*args, **kwargs)
    except Exception as e:  # kazoo raises RuntimeError for codes it does not know
        out("%s -> %s" % (name, type(e).__name__))
        return None
    out("%s -> %s" % (name, fmt(r)))
    return r


def sorted_children(r):
    """get_children results: children are in no promised order."""
    if isinstance(r, tuple):
        return (sorted(r[0]),) + tuple(r[1:])
    return sorted(r)


class Recorder:
    """Collects callback invocations; wait(n) blocks until n arrived."""

    def __init__(self, name):
        self.name = name
        self.items = []
        self.cv = threading.Condition()

    def add(self, item):
        with self.cv:
            self.items.append(item)
            self.cv.notify_all()

    def __call__(self, *args):
        self.add(args[0] if len(args) == 1 else args)

    def wait(self, n, what):
        """Waits for the n-th callback (1-based) and prints it."""
        with self.cv:
            ok = self.cv.wait_for(lambda: len(self.items) >= n, WAIT)
            if not ok:
                out("%s #%d (%s) -> TIMEOUT" % (self.name, n, what))
                return None
            item = self.items[n - 1]
        out("%s #%d (%s) -> %s" % (self.name, n, what, fmt(item)))
        return item

    def count(self):
        with self.cv:
            return len(self.items)


def wait_children(client, path, pred, what):
    """Waits, with a ChildrenWatch, until pred(children) holds."""
    cv = threading.Condition()
    seen = []

    def on_children(children):
        with cv:
            seen.append(list(children))
            cv.notify_all()
            if pred(children):
                return False  # stop watching
            return None

    client.ChildrenWatch(path, on_children)
    with cv:
        if not cv.wait_for(lambda: seen and pred(seen[-1]), WAIT):
            out("wait for %s -> TIMEOUT" % what)


class _Capture(logging.Handler):
    def __init__(self):
        logging.Handler.__init__(self, level=1)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def negotiated_timeout(hosts, timeout):
    """Connects asking for a session timeout (seconds) and returns the one
    the server granted, which kazoo only logs (at its BLATHER level)."""
    capture = _Capture()
    logger = logging.getLogger("kazoo_script.negotiate.%s" % timeout)
    logger.setLevel(1)
    logger.propagate = False
    logger.addHandler(capture)
    c = KazooClient(hosts=hosts, timeout=timeout, logger=logger)
    c.start(timeout=WAIT)
    c.stop()
    c.close()
    for m in capture.messages:
        if "negotiated session timeout:" in m:
            return int(m.split("negotiated session timeout:")[1].split()[0])
    return "not logged"


def connect(name, hosts, auth=None):
    states = Recorder(name + " state")
    c = KazooClient(hosts=hosts, timeout=WAIT, auth_data=auth)
    c.add_listener(lambda s: states.add(str(s)))
    c.start(timeout=WAIT)
    names.sessions[c.client_id[0]] = name
    out("%s: connected, state %s" % (name, c.state))
    c._states = states
    return c


def main():
    hosts = sys.argv[1]
    watchdog = threading.Timer(WATCHDOG, lambda: (out("WATCHDOG: script took too long"), os._exit(3)))
    watchdog.daemon = True
    watchdog.start()

    a = connect("a", hosts)
    b = connect("b", hosts)

    # --- server facts
    v = step("a.server_version", a.server_version)
    if v is not None:
        sys.stderr.write("server_version: %r\n" % (v,))
    out("a.server_version plausible -> %s" % (
        isinstance(v, tuple) and len(v) == 3 and v >= (3, 5, 0)))
    step("a.command ruok", a.command, b"ruok")
    step("a.get_children /", lambda: sorted_children(a.get_children("/")))
    step("a.exists /zookeeper", a.exists, "/zookeeper")
    step("a.get_acls /", a.get_acls, "/")

    out("a.protocol version -> %r" % a._protocol_version)
    for want in (1.0, 10.0, 100.0):
        out("session timeout %dms negotiated -> %s" % (want * 1000, negotiated_timeout(hosts, want)))

    # --- ensure_path and create
    step("a.ensure_path", a.ensure_path, ROOT + "/ens/a/b")
    step("a.ensure_path again", a.ensure_path, ROOT + "/ens/a/b")
    step("a.exists ens/a/b", a.exists, ROOT + "/ens/a/b")
    step("a.exists ens", a.exists, ROOT + "/ens")
    step("a.create x", a.create, ROOT + "/x", b"x-data")
    step("a.create x again", a.create, ROOT + "/x", b"other")
    step("a.create no parent", a.create, ROOT + "/missing/y", b"")
    step("a.create makepath", a.create, ROOT + "/m/n/o", b"deep", makepath=True)
    step("a.get_children m/n", a.get_children, ROOT + "/m/n")
    step("a.create include_data", a.create, ROOT + "/inc", b"12345", include_data=True)
    step("a.create include_data exists", a.create, ROOT + "/inc", b"", include_data=True)
    step("a.create empty value", a.create, ROOT + "/empty")
    step("a.get empty", a.get, ROOT + "/empty")
    step("a.create bad path", a.create, ROOT + "/bad/", b"")
    step("a.create bad path 2", a.create, ROOT + "//double", b"")

    # --- sequential and ephemeral
    step("a.create seq 1", a.create, ROOT + "/seq/n-", b"1", sequence=True, makepath=True)
    step("a.create seq 2", a.create, ROOT + "/seq/n-", b"2", sequence=True)
    step("a.create seq plain", a.create, ROOT + "/seq/plain", b"")
    step("a.create seq 3", a.create, ROOT + "/seq/n-", b"3", sequence=True)
    step("a.create seq ephemeral", a.create, ROOT + "/seq/e-", b"", ephemeral=True, sequence=True)
    step("a.delete seq 1", a.delete, ROOT + "/seq/n-0000000000")
    step("a.create seq 4", a.create, ROOT + "/seq/n-", b"4", sequence=True)
    step("a.get_children seq include_data",
         lambda: sorted_children(a.get_children(ROOT + "/seq", include_data=True)))
    step("a.create ephemeral", a.create, ROOT + "/eph", b"e", ephemeral=True)
    step("a.exists ephemeral", a.exists, ROOT + "/eph")
    step("b.get ephemeral", b.get, ROOT + "/eph")
    step("a.create under ephemeral", a.create, ROOT + "/eph/child", b"")
    step("a.create under ephemeral makepath", a.create, ROOT + "/eph/c/d", b"", makepath=True)

    # --- get, set, delete
    step("a.get x", a.get, ROOT + "/x")
    step("a.set x v0", a.set, ROOT + "/x", b"x2", version=0)
    step("a.set x stale version", a.set, ROOT + "/x", b"x3", version=0)
    step("a.set x any version", a.set, ROOT + "/x", b"x3")
    step("a.set x empty", a.set, ROOT + "/x", b"", version=2)
    step("a.get x", a.get, ROOT + "/x")
    step("a.set missing", a.set, ROOT + "/nope", b"")
    step("a.get missing", a.get, ROOT + "/nope")
    step("a.exists missing", a.exists, ROOT + "/nope")
    step("a.get_children missing", a.get_children, ROOT + "/nope")
    step("a.set large", lambda: a.set(ROOT + "/x", b"z" * 100000))
    step("a.get large len", lambda: len(a.get(ROOT + "/x")[0]))
    step("a.set x small again", a.set, ROOT + "/x", b"small")
    step("a.get_children kz include_data",
         lambda: sorted_children(a.get_children(ROOT, include_data=True)))
    step("a.delete m stale version", a.delete, ROOT + "/m/n/o", version=3)
    step("a.delete m not empty", a.delete, ROOT + "/m")
    step("a.delete m recursive", a.delete, ROOT + "/m", recursive=True)
    step("a.exists m", a.exists, ROOT + "/m")
    step("a.delete missing", a.delete, ROOT + "/m")
    step("a.delete missing recursive", a.delete, ROOT + "/m", recursive=True)
    step("a.delete root", a.delete, "/")
    step("a.delete /zookeeper", a.delete, "/zookeeper")
    step("a.get kz", a.get, ROOT)

    # --- one-shot watches with plain callbacks
    w = Recorder("watch get")
    step("a.get x watch", a.get, ROOT + "/x", watch=w)
    step("b.set x", b.set, ROOT + "/x", b"changed")
    w.wait(1, "data changed")
    step("b.set x again (no watch left)", b.set, ROOT + "/x", b"changed2")
    w2 = Recorder("watch exists")
    step("a.exists w missing", a.exists, ROOT + "/w", watch=w2)
    step("b.create w", b.create, ROOT + "/w", b"")
    w2.wait(1, "created")
    w3 = Recorder("watch children")
    step("a.get_children w watch", a.get_children, ROOT + "/w", watch=w3)
    step("b.create w/c", b.create, ROOT + "/w/c", b"")
    w3.wait(1, "child")
    w4 = Recorder("watch exists deleted")
    step("a.exists w/c watch", a.exists, ROOT + "/w/c", watch=w4)
    w5 = Recorder("watch children deleted")
    step("a.get_children w watch", a.get_children, ROOT + "/w", watch=w5)
    step("b.delete w/c", b.delete, ROOT + "/w/c")
    w4.wait(1, "deleted")
    w5.wait(1, "child")
    w6 = Recorder("watch get deleted")
    step("a.get w watch", a.get, ROOT + "/w", watch=w6)
    step("a.delete w", a.delete, ROOT + "/w")
    w6.wait(1, "deleted")
    out("watch counts -> %s" % [r.count() for r in (w, w2, w3, w4, w5, w6)])

    # --- DataWatch and ChildrenWatch recipes
    dw = Recorder("DataWatch")

    def on_data(data, stat, event=None):
        dw.add((data, stat, event.type if event else None))

    a.DataWatch(ROOT + "/dw", on_data)
    dw.wait(1, "initial, missing")
    step("b.create dw", b.create, ROOT + "/dw", b"one")
    dw.wait(2, "created")
    step("b.set dw", b.set, ROOT + "/dw", b"two")
    dw.wait(3, "changed")
    step("b.delete dw", b.delete, ROOT + "/dw")
    dw.wait(4, "deleted")

    step("a.create cw", a.create, ROOT + "/cw", b"")
    cw = Recorder("ChildrenWatch")

    def on_children(children, event=None):
        cw.add((sorted(children), event.type if event else None))

    a.ChildrenWatch(ROOT + "/cw", on_children, send_event=True)
    cw.wait(1, "initial")
    step("b.create cw/1", b.create, ROOT + "/cw/1", b"")
    cw.wait(2, "child added")
    step("b.create cw/2 ephemeral", b.create, ROOT + "/cw/2", b"", ephemeral=True)
    cw.wait(3, "child added")
    step("b.set cw/1 (no child event)", b.set, ROOT + "/cw/1", b"data")
    step("b.delete cw/1", b.delete, ROOT + "/cw/1")
    cw.wait(4, "child removed")

    # --- transactions
    t = a.transaction()
    t.create(ROOT + "/tx", b"t")
    t.create(ROOT + "/tx/s-", b"", sequence=True)
    t.set_data(ROOT + "/tx", b"t2")
    t.check(ROOT + "/tx", 1)
    t.create(ROOT + "/tx/gone", b"")
    t.delete(ROOT + "/tx/gone")
    step("a.transaction ok", t.commit)
    step("a.get tx", a.get, ROOT + "/tx")
    t = a.transaction()
    t.create(ROOT + "/tx2", b"")
    t.check(ROOT + "/tx", 7)
    t.set_data(ROOT + "/tx", b"never")
    step("a.transaction bad version", t.commit)
    t = a.transaction()
    t.set_data(ROOT + "/tx", b"never")
    t.delete(ROOT + "/tx")
    step("a.transaction not empty", t.commit)
    t = a.transaction()
    t.create(ROOT + "/tx3", b"")
    t.create(ROOT + "/tx3", b"")
    step("a.transaction node exists", t.commit)
    t = a.transaction()
    t.delete(ROOT + "/nope")
    t.create(ROOT + "/tx4", b"")
    step("a.transaction no node first", t.commit)
    step("a.exists tx2", a.exists, ROOT + "/tx2")
    step("a.get tx", a.get, ROOT + "/tx")
    step("a.transaction empty", a.transaction().commit)
    tw = Recorder("tx watch")
    step("b.get tx watch", b.get, ROOT + "/tx", watch=tw)
    t = a.transaction()
    t.set_data(ROOT + "/tx", b"t3")
    step("a.transaction set", t.commit)
    tw.wait(1, "changed by multi")

    # --- digest auth and ACLs
    secret = make_digest_acl("alice", "secret", all=True)
    step("a.add_auth alice", a.add_auth, "digest", "alice:secret")
    step("a.create acl", a.create, ROOT + "/acl", b"private", acl=[secret])
    step("a.get_acls acl", a.get_acls, ROOT + "/acl")
    step("a.get acl", a.get, ROOT + "/acl")
    step("b.get acl", b.get, ROOT + "/acl")
    step("b.set acl", b.set, ROOT + "/acl", b"x")
    step("b.get_children acl", b.get_children, ROOT + "/acl")
    step("b.create under acl", b.create, ROOT + "/acl/c", b"")
    step("b.get_acls acl", b.get_acls, ROOT + "/acl")
    step("b.add_auth wrong password", b.add_auth, "digest", "alice:wrong")
    step("b.get acl wrong password", b.get, ROOT + "/acl")
    step("b.add_auth alice", b.add_auth, "digest", "alice:secret")
    step("b.get acl after auth", b.get, ROOT + "/acl")
    step("a.create creator acl", a.create, ROOT + "/creator", b"",
         acl=[make_acl("auth", "", all=True)])
    step("a.get_acls creator", a.get_acls, ROOT + "/creator")
    step("a.create read-only", a.create, ROOT + "/ro", b"r", acl=READ_ACL_UNSAFE)
    step("a.set read-only", a.set, ROOT + "/ro", b"w")
    step("a.create under read-only", a.create, ROOT + "/ro/c", b"")
    step("a.set_acls ro bad version", a.set_acls, ROOT + "/ro", OPEN_ACL_UNSAFE, version=5)
    step("a.set_acls ro no admin", a.set_acls, ROOT + "/ro", OPEN_ACL_UNSAFE)
    step("a.delete read-only (parent allows)", a.delete, ROOT + "/ro")
    step("a.create admin-only", a.create, ROOT + "/adm", b"",
         acl=[make_acl("world", "anyone", admin=True, read=True)])
    step("a.set_acls adm", a.set_acls, ROOT + "/adm", OPEN_ACL_UNSAFE, version=0)
    step("a.get_acls adm", a.get_acls, ROOT + "/adm")
    step("a.set_acls adm stale", a.set_acls, ROOT + "/adm", OPEN_ACL_UNSAFE, version=0)
    step("a.set_acls missing", a.set_acls, ROOT + "/nope", OPEN_ACL_UNSAFE)
    step("a.get_acls missing", a.get_acls, ROOT + "/nope")
    step("a.create ip acl", a.create, ROOT + "/ip", b"",
         acl=[make_acl("ip", "127.0.0.1", all=True)])
    step("a.get ip", a.get, ROOT + "/ip")
    step("a.create bad scheme acl", a.create, ROOT + "/badacl", b"",
         acl=[make_acl("nosuchscheme", "x", all=True)])
    step("a.create bad ip acl", a.create, ROOT + "/badip", b"",
         acl=[make_acl("ip", "not-an-ip", all=True)])
    step("a.create bad digest acl", a.create, ROOT + "/baddigest", b"",
         acl=[make_acl("digest", "no-colon", all=True)])
    step("a.create empty acl", lambda: a.create_async(ROOT + "/noacl", b"", acl=[]).get())
    d = connect("d", hosts, auth=[("digest", "alice:secret")])
    step("d.get creator (auth_data at connect)", d.get, ROOT + "/creator")
    step("d.create creator acl", d.create, ROOT + "/creator2", b"",
         acl=[make_acl("auth", "", read=True, write=True)])
    step("d.get_acls creator2", d.get_acls, ROOT + "/creator2")
    d.stop()
    d.close()
    c = connect("c", hosts)
    step("c.create auth acl without auth", c.create, ROOT + "/authacl", b"",
         acl=[make_acl("auth", "", all=True)])
    step("c.delete acl child of acl", c.delete, ROOT + "/acl")
    # the ip scheme takes any credentials: the identity is the client's
    # address, which the session already has, and it is not one that an
    # auth ACL can name
    step("c.add_auth ip", c.add_auth, "ip", "10.1.2.3")
    step("c.get ip after ip auth", c.get, ROOT + "/ip")
    step("c.create auth acl with ip auth", c.create, ROOT + "/authacl", b"",
         acl=[make_acl("auth", "", all=True)])
    c.stop()
    c.close()

    # an unknown auth scheme fails the add_auth and ends the session
    e = connect("e", hosts)
    n = e._states.count()
    step("e.add_auth unknown scheme", e.add_auth, "nosuchscheme", "x")
    e._states.wait(n + 1, "e after auth failure")
    e.stop()
    e.close()

    # --- recipes
    lock = a.Lock(ROOT + "/lock", "id-a")
    step("a.lock acquire", lock.acquire, timeout=WAIT)
    step("a.lock contenders", lock.contenders)
    lock_b = b.Lock(ROOT + "/lock", "id-b")
    step("b.lock acquire nonblocking", lock_b.acquire, blocking=False)
    got_b = threading.Event()

    def take_b():
        if lock_b.acquire(timeout=WAIT):
            got_b.set()

    tb = threading.Thread(target=take_b)
    tb.start()
    # b's acquire must be queued behind a's before a releases.
    wait_children(a, ROOT + "/lock", lambda ch: len(ch) >= 2, "b queued for the lock")
    step("a.lock contenders (b waiting)", lock.contenders)
    step("a.lock release", lock.release)
    out("b.lock acquired after release -> %s" % got_b.wait(WAIT))
    tb.join(WAIT)
    step("b.lock contenders", lock_b.contenders)
    step("b.lock release", lock_b.release)
    step("a.get_children lock", a.get_children, ROOT + "/lock")

    counter = a.Counter(ROOT + "/counter")
    counter += 5
    counter -= 2
    out("a.counter -> %r" % counter.value)
    counter_b = b.Counter(ROOT + "/counter")
    counter_b += 10
    out("a.counter after b -> %r" % counter.value)
    fcounter = a.Counter(ROOT + "/fcounter", default=0.5)
    fcounter += 1.25
    out("a.float counter -> %r" % fcounter.value)
    step("a.get counter", a.get, ROOT + "/counter")

    election = a.Election(ROOT + "/election", "leader-a")
    step("a.election contenders before", election.contenders)
    elected = threading.Event()
    resign = threading.Event()

    def lead():
        elected.set()
        resign.wait(WAIT)

    te = threading.Thread(target=election.run, args=(lead,))
    te.start()
    out("a.election elected -> %s" % elected.wait(WAIT))
    step("b.election contenders", b.Election(ROOT + "/election", "leader-b").contenders)
    resign.set()
    te.join(WAIT)
    step("a.election contenders after", election.contenders)

    party_a = a.Party(ROOT + "/party", "member-a")
    party_b = b.Party(ROOT + "/party", "member-b")
    step("a.party join", party_a.join)
    step("b.party join", party_b.join)
    out("a.party members -> %s" % sorted(party_a))
    out("a.party len -> %d" % len(party_a))
    step("b.party leave", party_b.leave)
    out("a.party members after leave -> %s" % sorted(party_a))
    shallow = a.ShallowParty(ROOT + "/shallow", "s-a")
    step("a.shallow join", shallow.join)
    out("a.shallow members -> %s" % sorted(shallow))

    barrier = a.Barrier(ROOT + "/barrier")
    step("a.barrier create", barrier.create)
    waited = Recorder("barrier wait")
    tw_ = threading.Thread(target=lambda: waited.add(b.Barrier(ROOT + "/barrier").wait(WAIT)))
    tw_.start()
    # Whether b's wait sets its watch before or after the remove, it
    # returns True: no synchronisation needed.
    step("a.barrier remove", barrier.remove)
    waited.wait(1, "released")
    tw_.join(WAIT)
    step("a.barrier wait when absent", a.Barrier(ROOT + "/barrier").wait, 1)

    q = a.Queue(ROOT + "/queue")
    q.put(b"low", priority=200)
    q.put(b"first")
    q.put(b"high", priority=10)
    q.put(b"second")
    out("a.queue len -> %d" % len(q))
    out("a.queue order -> %s" % [q.get() for _ in range(4)])
    out("a.queue empty get -> %r" % q.get())
    lq = a.LockingQueue(ROOT + "/lqueue")
    lq.put(b"job1")
    lq.put_all([b"job2", b"job3"])
    out("a.lqueue get -> %r" % lq.get(WAIT))
    out("a.lqueue consume -> %s" % lq.consume())
    out("a.lqueue len -> %d" % len(lq))

    sem = a.Semaphore(ROOT + "/sem", "holder-a", max_leases=2)
    step("a.semaphore acquire", sem.acquire, timeout=WAIT)
    sem_b = b.Semaphore(ROOT + "/sem", "holder-b", max_leases=2)
    step("b.semaphore acquire", sem_b.acquire, timeout=WAIT)
    step("a.semaphore lease holders", lambda: sorted(sem.lease_holders()))
    step("b.semaphore release", sem_b.release)
    step("a.semaphore release", sem.release)

    # --- sync
    step("a.sync kz", a.sync, ROOT)
    step("a.sync root", a.sync, "/")
    step("b.sync after a's write",
         lambda: (a.set(ROOT + "/x", b"synced"), b.sync(ROOT + "/x"), b.get(ROOT + "/x")[0])[2])

    # --- session close: a's ephemerals go, b sees them go
    step("a.create eph2", a.create, ROOT + "/eph2", b"", ephemeral=True)
    gone = Recorder("b watch eph2")
    step("b.exists eph2 watch", b.exists, ROOT + "/eph2", watch=gone)
    step("b.get_children kz",
         lambda: sorted(x for x in b.get_children(ROOT) if x.startswith("eph")))
    n = a._states.count()
    a.stop()
    a._states.wait(n + 1, "a stopped")
    gone.wait(1, "eph2 deleted by session close")
    step("b.exists eph", b.exists, ROOT + "/eph")
    step("b.exists seq/e-", lambda: sorted_children(b.get_children(ROOT + "/seq")))
    a.close()
    step("b.delete kz recursive", b.delete, ROOT, recursive=True)
    step("b.get_children /", lambda: sorted_children(b.get_children("/")))
    n = b._states.count()
    b.stop()
    b._states.wait(n + 1, "b stopped")
    b.close()
    out("done")
    watchdog.cancel()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    main()
