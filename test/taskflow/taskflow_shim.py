"""pytest plugin pointing taskflow's ZooKeeper tests at a server of ours.

taskflow's tests connect to taskflow.tests.utils.ZK_TEST_CONFIG's hosts,
localhost:2181, and decide when their modules are imported whether a server
is there (skipping every test if not). Loaded with -p before collection,
this plugin replaces those hosts with TASKFLOW_SHIM_HOSTS ("host:port") and
fails the run at once if no server answers there, rather than letting
every test be skipped. test/pysuites_test.go loads it.
"""

import os

from taskflow.tests import utils


def pytest_configure(config):
    hosts = os.environ.get("TASKFLOW_SHIM_HOSTS")
    if not hosts:
        raise RuntimeError("taskflow_shim: TASKFLOW_SHIM_HOSTS is not set")
    utils.ZK_TEST_CONFIG["hosts"] = [hosts]
    if not utils.zookeeper_available(None, timeout=30):
        raise RuntimeError("taskflow_shim: no ZooKeeper server answers at " + hosts)
