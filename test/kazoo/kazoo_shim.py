"""pytest plugin: run kazoo's own test suite against one running server.

kazoo's harness (kazoo.testing.harness.get_global_cluster) normally starts a
three-server Java ensemble. This plugin replaces it with a fake cluster of one
server that is already running, so the suite can be pointed at Apache
ZooKeeper or at zkserver alike:

    KAZOO_SHIM_HOSTS=127.0.0.1:2181 \
    PYTHONPATH=test/kazoo PYTHONDONTWRITEBYTECODE=1 \
    /usr/bin/python3 -m pytest -p kazoo_shim -p no:cacheprovider \
        /usr/lib/python3/dist-packages/kazoo/tests/test_client.py ...

Environment:

KAZOO_SHIM_HOSTS    host:port of the server, or a comma-separated list for an
                    ensemble (required).
KAZOO_SHIM_CONTROL  optional base URL of a control endpoint; GET <url>/stop
                    stops the server and GET <url>/start starts it again on
                    the same port with the same data (the Go test
                    kazoo_suite_test.go serves it). Without it, tests that
                    stop and restart the server are skipped.
KAZOO_SHIM_TIMEOUT  seconds one test phase (setup, call, teardown) may take
                    (default 60). Past it, the stacks of all threads are
                    printed and the test fails, so that a request the server
                    never answers (kazoo waits forever) costs one test, not
                    the whole run.
KAZOO_SHIM_SASL     "1" when the server was started with kazoo's JAAS file
                    (DIGEST-MD5 users super and jaasuser): test_sasl.py then
                    runs, but for its Kerberos (GSSAPI) tests and its two
                    test_invalid_sasl_auth, whose outcome depends on the
                    order of kazoo's threads (see DESELECT).
KAZOO_SHIM_READ_ONLY  "1" if the servers run in read-only mode with local
                    sessions: TestReadOnlyMode is then not deselected.
KAZOO_SHIM_RECONFIG  "1" if the servers are an ensemble with reconfigEnabled
                    and the super digest of kazoo's harness: TestReconfig is
                    then not deselected.
KAZOO_SHIM_REPORT   optional file to which each test's outcome is appended as
                    it happens, one line each, tab-separated:
                    "start<TAB>node id" when a test begins, "end<TAB>node id"
                    when it is over, and in between
                    "passed|failed|skipped<TAB>setup|call|teardown<TAB>node id
                    <TAB>one-line reason" per phase reported;
                    "deselected<TAB><TAB>node id<TAB>reason" for each test
                    deselected. Unlike
                    --junitxml it survives a run that is killed.

Tests that cannot run against one standalone server are deselected, each
with its reason (DESELECT below); pytest prints them at the end.
"""

import faulthandler
import os
import signal
import sys
import urllib.request

import pytest

import kazoo.testing.harness

# A test file, class or test ("test_x.py", "test_x.py::TestC",
# "test_x.py::TestC::test_y") -> why it cannot run against one standalone
# server. A key matches a test whose node id, with the file's directory left
# out, equals it or starts with key + "::".
DESELECT = {
    # A three-server ensemble.
    "test_client.py::TestClient::test_update_host_list":
        "needs three servers: stops server 0 and expects a failover to the others",
    "test_connection.py::TestReadOnlyMode":
        "needs three servers in read-only mode with local sessions: "
        "set KAZOO_SHIM_READ_ONLY=1 (TestKazooReadOnly)",
    "test_client.py::TestReconfig":
        "needs an ensemble: a standalone server answers reconfig with "
        "UNIMPLEMENTED (Apache 3.8 does so even before the ACL check that "
        "test_no_super_auth expects)",
    # Other event loops: test_client's and test_lock's tests again with
    # kazoo's gevent and eventlet handlers; client-side only, the server
    # sees the same requests as with the threading handler.
    "test_gevent_handler.py": "gevent handler: client-side event loop, same requests as test_client",
    "test_eventlet_handler.py": "eventlet handler: client-side event loop, same requests as test_client/test_lock",
    # SASL: kazoo's harness restarts the ensemble with a JAAS file for these.
    "test_sasl.py": "SASL: needs a server restarted with a JAAS configuration",
    # Only meaningful on kazoo's Travis CI.
    "test_build.py": "checks $ZOOKEEPER_VERSION on Travis only",
}

if os.environ.get("KAZOO_SHIM_SASL") == "1":
    del DESELECT["test_sasl.py"]
    DESELECT["test_sasl.py::TestSASLGSSAPIAuthentication"] = "GSSAPI: needs a Kerberos KDC"
    for cls in ("TestSASLDigestAuthentication", "TestLegacySASLDigestAuthentication"):
        DESELECT["test_sasl.py::%s::test_invalid_sasl_auth" % cls] = (
            "races kazoo's own threads: start() returns at CONNECTED, before "
            "the SASL exchange, and raises AuthFailedError only if the "
            "refusal comes after start() has checked that it is connected, "
            "else KazooTimeoutError (both servers fail it under CPU load); "
            "TestKazooSASLBadLogin checks the same refusal by its events")


# KAZOO_SHIM_READ_ONLY=1: the servers run with -Dreadonlymode.enabled=true,
# as kazoo's harness starts them, and with localSessionsEnabled=true: since
# ZOOKEEPER-3863 (3.7) a read-only server gives out local sessions only, so
# without it Apache fails TestReadOnlyMode too.
if os.environ.get("KAZOO_SHIM_READ_ONLY") == "1":
    del DESELECT["test_connection.py::TestReadOnlyMode"]


# KAZOO_SHIM_RECONFIG=1: the servers are an ensemble that reconfigures.
if os.environ.get("KAZOO_SHIM_RECONFIG") == "1":
    del DESELECT["test_client.py::TestReconfig"]


def _deselect_key(nodeid):
    """Returns the DESELECT key matching nodeid, or None."""
    # The node id's path part depends on the rootdir ("kazoo/tests/test_x.py",
    # "../../usr/lib/.../test_x.py"): keep its file name only.
    path, sep, rest = nodeid.partition("::")
    rel = os.path.basename(path) + sep + rest
    for key in DESELECT:
        if rel == key or rel.startswith(key + "::"):
            return key
    return None


def _control(verb, index):
    url = os.environ.get("KAZOO_SHIM_CONTROL")
    if not url:
        pytest.skip("stops and restarts the server: set KAZOO_SHIM_CONTROL")
    url = "%s/%s?server=%d" % (url.rstrip("/"), verb, index)
    with urllib.request.urlopen(url, timeout=90) as r:
        body = r.read().decode("utf-8", "replace")
        if r.status != 200:
            raise RuntimeError("kazoo_shim: %s: %s %s" % (verb, r.status, body))


class FakeServer(object):
    """What kazoo's tests use of ManagedZooKeeper, for one running server."""

    def __init__(self, address, index=0):
        self.address = address
        self.index = index
        self.host, _, port = address.rpartition(":")
        self.client_port = int(port)
        self._running = True

    @property
    def running(self):
        return self._running

    def run(self):
        if self._running:
            return
        _control("start", self.index)
        self._running = True

    def stop(self):
        if not self._running:
            return
        _control("stop", self.index)
        self._running = False

    def reset(self):
        pytest.skip("kazoo_shim: cannot wipe the data of an external server")

    def destroy(self):
        pass


class FakeCluster(object):
    """What kazoo's tests use of ZookeeperCluster: the running servers."""

    def __init__(self, addresses):
        self._servers = [FakeServer(a, i) for i, a in enumerate(addresses.split(","))]

    def __getitem__(self, k):
        if isinstance(k, int) and k >= len(self._servers):
            pytest.skip("kazoo_shim: needs server %d, only %d run" % (k, len(self._servers)))
        return self._servers[k]

    def __iter__(self):
        return iter(self._servers)

    def __len__(self):
        return len(self._servers)

    def start(self):
        for s in self._servers:
            s.run()

    def stop(self):
        for s in self._servers:
            s.stop()

    def terminate(self):
        pass

    def reset(self):
        pytest.skip("kazoo_shim: cannot wipe the data of an external server")


_CLUSTER = None


def get_global_cluster():
    global _CLUSTER
    if _CLUSTER is None:
        hosts = os.environ.get("KAZOO_SHIM_HOSTS")
        if not hosts:
            raise RuntimeError("kazoo_shim: set KAZOO_SHIM_HOSTS=host:port")
        _CLUSTER = FakeCluster(hosts.strip())
    return _CLUSTER


def pytest_configure(config):
    kazoo.testing.harness.get_global_cluster = get_global_cluster
    config._kazoo_shim_deselected = {}


class ShimTimeout(Exception):
    """A test phase ran past KAZOO_SHIM_TIMEOUT."""


def _timeout():
    return float(os.environ.get("KAZOO_SHIM_TIMEOUT") or 60)


def _on_alarm(signum, frame):
    sys.stderr.write("\nkazoo_shim: test phase ran past %gs; stacks:\n" % _timeout())
    faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
    raise ShimTimeout("kazoo_shim: test phase ran past %gs "
                      "(a request left unanswered?)" % _timeout())


def _timed(phase):
    @pytest.hookimpl(hookwrapper=True)
    def hook(item):
        old = signal.signal(signal.SIGALRM, _on_alarm)
        signal.setitimer(signal.ITIMER_REAL, _timeout())
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
    hook.__name__ = phase
    return hook


pytest_runtest_setup = _timed("pytest_runtest_setup")
pytest_runtest_call = _timed("pytest_runtest_call")
pytest_runtest_teardown = _timed("pytest_runtest_teardown")


def pytest_collection_modifyitems(session, config, items):
    keep, drop = [], []
    counts = config._kazoo_shim_deselected
    for item in items:
        key = _deselect_key(item.nodeid)
        if key:
            drop.append(item)
            counts[key] = counts.get(key, 0) + 1
            _report("deselected", "", item.nodeid, DESELECT[key])
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _report(*fields):
    path = os.environ.get("KAZOO_SHIM_REPORT")
    if not path:
        return
    line = "\t".join(str(f).replace("\t", " ").replace("\n", " ") for f in fields)
    with open(path, "a", encoding="utf-8") as f:
        f.write(line + "\n")


def pytest_runtest_logstart(nodeid, location):
    _report("start", nodeid)


def pytest_runtest_logfinish(nodeid, location):
    _report("end", nodeid)


def pytest_runtest_logreport(report):
    if report.passed and report.when != "call":
        return
    reason = ""
    if report.failed:
        crash = getattr(report.longrepr, "reprcrash", None)
        reason = crash.message if crash is not None else str(report.longrepr)
        reason = reason.strip().splitlines()[0] if reason.strip() else ""
    elif report.skipped and isinstance(report.longrepr, tuple):
        reason = report.longrepr[2]
    _report(report.outcome, report.when, report.nodeid, reason[:300])


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    counts = getattr(config, "_kazoo_shim_deselected", {})
    if not counts:
        return
    terminalreporter.section("kazoo_shim: deselected")
    for key, n in counts.items():
        terminalreporter.write_line(
            "DESELECTED %d %s - %s" % (n, key, DESELECT[key]))
