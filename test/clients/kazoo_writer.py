"""A kazoo client that writes until its stdin closes, for the migration
test (test/migrate_test.go): kazoo_writer.py <hosts> <prefix>.

It connects to the hosts in the order given, creates an ephemeral node
<prefix>-eph and then persistent sequential nodes <prefix>/n- one after
the other, retrying through connection losses (kazoo's retry), and prints
"ack <path>" for each create acknowledged. When stdin closes it prints
"session same" or "session changed", "eph kept" or "eph lost", then
"done".
"""
import sys
import threading

from kazoo.client import KazooClient
from kazoo.exceptions import NodeExistsError
from kazoo.retry import KazooRetry


def main():
    hosts, prefix = sys.argv[1], sys.argv[2]
    retry = dict(max_tries=-1, delay=0.05, max_delay=0.5)
    zk = KazooClient(hosts=hosts, timeout=10.0, randomize_hosts=False,
                     connection_retry=KazooRetry(**retry),
                     command_retry=KazooRetry(**retry))
    zk.start(timeout=30)
    session = zk.client_id[0]
    zk.ensure_path(prefix)
    zk.create(prefix + "-eph", ephemeral=True)
    print("ready", flush=True)
    stop = threading.Event()

    def wait_stdin():
        sys.stdin.read()
        stop.set()

    threading.Thread(target=wait_stdin, daemon=True).start()
    while not stop.is_set():
        path = zk.retry(zk.create, prefix + "/n-", sequence=True)
        print("ack " + path, flush=True)
    print("session " + ("same" if zk.client_id[0] == session else "changed"), flush=True)
    print("eph " + ("kept" if zk.exists(prefix + "-eph") else "lost"), flush=True)
    zk.stop()
    print("done", flush=True)


if __name__ == "__main__":
    main()
