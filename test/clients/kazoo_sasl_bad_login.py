"""A kazoo client that logs in with DIGEST-MD5 credentials the server does
not know, for TestKazooSASLBadLogin (test/sasl_test.go):
kazoo_sasl_bad_login.py <hosts> <user> <password> [legacy]. With "legacy"
the login is given the old way, as auth_data ("sasl", "user:password"),
which kazoo turns into the same DIGEST-MD5 exchange.

kazoo reports CONNECTED when the server has answered the connect request
and only then runs the SASL exchange on its connection thread, so what
KazooClient.start() raises for a refused login depends on which of two
threads runs first. This script waits for events instead: it prints every
state kazoo's connection thread reports, one per line as "state <NAME>",
until the connection loop stops, then "reason <repr>" for the error kazoo
gave up with ("none" if it did not), then "done".
"""
import logging
import queue
import sys

from kazoo.client import KazooClient
from kazoo.protocol.states import KeeperState

# How long the whole exchange may take, in seconds, before the script
# reports what it saw so far and fails.
TIMEOUT = 30


class AuthFailedReason(logging.Handler):
    """Keeps the error of kazoo's 'AUTH_FAILED closing: %s' warning."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.reason = None

    def emit(self, record):
        if record.msg.startswith("AUTH_FAILED closing") and record.args:
            self.reason = repr(record.args[0])


def main():
    hosts, user, password = sys.argv[1:4]
    if sys.argv[4:] == ["legacy"]:
        login = {"auth_data": [("sasl", "%s:%s" % (user, password))]}
    else:
        login = {"sasl_options": {
            "mechanism": "DIGEST-MD5", "username": user, "password": password}}
    reason = AuthFailedReason()
    logging.getLogger("kazoo.client").addHandler(reason)
    zk = KazooClient(hosts=hosts, timeout=10.0, **login)
    states = queue.Queue()
    report = zk._session_callback

    def record(state):
        report(state)
        states.put(state)

    zk._session_callback = record
    zk.start_async()
    try:
        while True:
            state = states.get(timeout=TIMEOUT)
            print("state", state, flush=True)
            if state == KeeperState.CLOSED:
                break
    except queue.Empty:
        print("timeout", flush=True)
    print("reason", reason.reason or "none", flush=True)
    zk.stop()
    zk.close()
    print("done", flush=True)


if __name__ == "__main__":
    main()
