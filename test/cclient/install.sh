#!/usr/bin/env bash
# Installs what test/cclient_suite_test.go and test/clickhouse_test.go need
# and builds the first one's test program; does nothing that is already done.
#
#  - Debian packages: Apache ZooKeeper 3.8 (the reference server), the C
#    client's build tools and libraries (cppunit, OpenSSL, Cyrus SASL with
#    its DIGEST-MD5 plugin), iproute2 (the suite runs in a network namespace
#    of its own), ClickHouse 18.16, and npm if there is none. Installing
#    them takes root; without it the script names what is missing and fails.
#  - Apache's C client 3.8.2 with its cppunit suite, as the npm package
#    zookeeper@7.3.0 ships it (deps/zookeeper-client-c.tar.gz): fetched with
#    npm pack, unpacked, configured and built (make zktest-mt) in
#    $ZKGO_CCLIENT_DIR, by default ${XDG_CACHE_HOME:-$HOME/.cache}/zkgo/cclient-3.8.2,
#    where the Go test looks for it.
set -euo pipefail

npm_package=zookeeper@7.3.0
dir=${ZKGO_CCLIENT_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/zkgo/cclient-3.8.2}

packages=(zookeeper zookeeper-bin default-jre-headless openssl
  g++ make autoconf automake libtool pkg-config
  libcppunit-dev libssl-dev libsasl2-dev libsasl2-modules iproute2
  clickhouse-server clickhouse-client)

missing=()
for pkg in "${packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
# npm may come with a nodejs from elsewhere, which conflicts with Debian's.
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "$0: missing Debian packages: ${missing[*]}" >&2
    echo "$0: run this script as root, or: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "$0: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq "${missing[@]}" >/dev/null; then
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi

# The build is done when the test program and the stamp naming the package
# it came from are both there.
if [ -x "$dir/src/zktest-mt" ] && [ "$(cat "$dir/stamp" 2>/dev/null)" = "$npm_package" ]; then
  exit 0
fi
echo "$0: building the C client's cppunit suite from $npm_package in $dir"
rm -rf "$dir"
mkdir -p "$dir/npm"
(cd "$dir/npm" && npm pack --silent "$npm_package" >/dev/null)
tar xzf "$dir"/npm/zookeeper-*.tgz -C "$dir/npm" package/deps/zookeeper-client-c.tar.gz
mkdir "$dir/src"
# The tarball was made on macOS, with extended attributes GNU tar ignores.
tar xzf "$dir/npm/package/deps/zookeeper-client-c.tar.gz" -C "$dir/src" --strip-components=1 \
  --warning=no-unknown-keyword
cd "$dir/src"
./configure --quiet >configure.log 2>&1 || { tail -30 configure.log >&2; exit 1; }
make -j2 zktest-mt >make.log 2>&1 || { tail -30 make.log >&2; exit 1; }
echo "$npm_package" >"$dir/stamp"
