#!/bin/sh
# Installs the Debian packages that make test's real-client and application
# suites need (test/*_suite_test.go, clients_test.go, pysuites_test.go,
# curator_test.go): Apache ZooKeeper 3.8 (the reference server and its
# Java and C clients), kazoo and its suite's modules, tooz, taskflow and
# their tests' modules, Apache Curator, and a JDK for javac.
#
# Idempotent: does nothing when everything is installed. As root it runs
# apt-get; otherwise it names what to install and exits 0, and the suites
# that need a missing package fail saying so.
set -eu

PACKAGES="zookeeper zookeeper-bin
python3-kazoo python3-pytest python3-pytest-timeout python3-mock python3-objgraph python3-pure-sasl
python3-tooz python3-testtools python3-fixtures
python3-taskflow python3-oslotest python3-zake python3-redis
libcurator-client-java libcurator-framework-java libcurator-recipes-java libslf4j-java"

missing=""
for pkg in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null | grep -q '^install ok installed$'; then
    missing="$missing $pkg"
  fi
done
if ! command -v javac >/dev/null 2>&1; then
  missing="$missing default-jdk-headless"
fi
if [ -z "$missing" ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "test/install-deps.sh: the client suites need these Debian packages, which are not installed:" >&2
  echo "  apt-get install$missing" >&2
  echo "test/install-deps.sh: run that as root (or run this script as root); until then those suites fail." >&2
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
echo "test/install-deps.sh: installing$missing"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# shellcheck disable=SC2086 # the package list is meant to split
if ! apt-get install -y -qq --no-install-recommends $missing >"$log" 2>&1; then
  # Stale package lists: update them once and try again.
  apt-get update -qq >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
fi
