#!/usr/bin/python3
"""A kazoo client for the leader failover test (failover_test.go).

Usage: /usr/bin/python3 kazoo_failover.py 127.0.0.1:PORT PATH

It connects to the one server given, creates PATH, and sets PATH's data to
1, 2, 3, ... in a loop until its stdin closes. It prints "ready" once the
first write succeeded, "state NAME" for every connection state change after
the first connection, and at the end "writes N" (the last value written)
and "errors N" (writes that failed), then exits.
"""

import sys
import threading

from kazoo.client import KazooClient

addr, path = sys.argv[1], sys.argv[2]
zk = KazooClient(hosts=addr, timeout=10.0, connection_retry={"max_tries": -1, "delay": 0.05, "max_delay": 1.0})
connected = threading.Event()
stop = threading.Event()


def listener(state):
    if connected.is_set() and not stop.is_set():
        print("state", state, flush=True)


zk.add_listener(listener)
zk.start(timeout=30)
connected.set()
zk.ensure_path(path)
threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
written, errors = 0, 0
while not stop.is_set():
    try:
        zk.set(path, str(written + 1).encode())
        written += 1
        if written == 1:
            print("ready", flush=True)
    except Exception as e:  # a failed write is counted, not retried
        errors += 1
        print("error", type(e).__name__, file=sys.stderr, flush=True)
        stop.wait(0.05)
data, _ = zk.get(path)
print("writes", written, flush=True)
print("errors", errors, flush=True)
print("stored", data.decode(), flush=True)
zk.stop()
zk.close()
