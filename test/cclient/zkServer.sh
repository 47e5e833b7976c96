#!/usr/bin/env bash
# Stands in for tests/zkServer.sh of Apache's C client suite, which the suite
# runs (as ./tests/zkServer.sh) to start and stop its standalone server:
#
#   zkServer.sh startClean|start|startCleanReadOnly [host:port]
#   zkServer.sh startRequireSASLAuth [jaasConf] [readOnly]
#   zkServer.sh stop
#
# It starts our zkserver (ZKCC_IMPL=ours) or Apache ZooKeeper (ZKCC_IMPL=apache)
# with the configuration of the original: tests/zoo.cfg (tick 500 ms, local
# sessions, a TLS port 22281 with the certificates of ssl/gencerts.sh in
# /tmp/certs, where the tests read them), the properties
# zookeeper.extendedTypesEnabled and znode.container.checkIntervalMs, SASL
# required for startRequireSASLAuth, and for the read-only starts server 1
# of a three-server ensemble whose other two never start. As the original,
# the ports listen on every address (testIPV6 connects to ::1): the test
# runs the suite in a network namespace whose only interface is its own
# loopback. Unlike the original, the certificates are made once per run
# rather than at every start, and a start returns once the server serves
# (read-only, for the read-only starts) instead of sleeping. As in the
# original, every command first kills (SIGKILL) the server the previous one
# started.
#
# Environment (set by test/cclient_suite_test.go):
#   ZKCC_IMPL      ours or apache
#   ZKCC_ZKSERVER  our zkserver binary
#   ZKCC_CLASSPATH Apache ZooKeeper's classpath (java from PATH)
#   ZKCC_STATE     a directory for the data, zoo.cfg, pid file and log
#   ZKCC_GENCERTS  the suite's ssl/gencerts.sh
#   ZOOPORT        the client port (default 22181)
#   ZKMAXCNXNS     maxClientCnxns (default 100)
set -u

: "${ZKCC_IMPL:?}" "${ZKCC_STATE:?}" "${ZKCC_GENCERTS:?}"
port=${ZOOPORT:-22181}
maxcnxns=${ZKMAXCNXNS:-100}
securePort=22281
certs=/tmp/certs
state=$ZKCC_STATE
data=$state/zkdata
cfg=$state/zoo.cfg
pidfile=$state/zk.pid
log=$state/zk.log
readyTimeout=60

if [ $# -lt 1 ]; then
  echo "usage: $0 startClean|start|startCleanReadOnly|startRequireSASLAuth [jaasConf] [readOnly]|stop" >&2
  exit 2
fi

# Kill what the previous command started.
if [ -r "$pidfile" ]; then
  pid=$(cat "$pidfile")
  if kill -9 "$pid" 2>/dev/null; then
    while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  fi
  rm -f "$pidfile"
fi

# fourLetter prints a four-letter word's reply from the client port.
fourLetter() {
  local reply
  exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
  printf '%s' "$1" >&3
  reply=$(timeout 5 cat <&3)
  exec 3<&-
  printf '%s' "$reply"
}

# makeCerts runs the suite's gencerts.sh in /tmp/certs once per run of the
# suite, and adds the PEM key and trust stores our server reads.
makeCerts() {
  [ -e "$state/certs.done" ] && return 0
  mkdir -p "$certs"
  (cd "$certs" && bash "$ZKCC_GENCERTS" >gencerts.stdout 2>gencerts.stderr) || {
    echo "$0: gencerts.sh failed, see $certs/gencerts.stderr" >&2
    return 1
  }
  cat "$certs/serverkey.pem" "$certs/server.crt" >"$certs/server-keystore.pem"
  cp "$certs/root.crt" "$certs/server-truststore.pem"
  touch "$state/certs.done"
}

case $1 in
start | startClean | startCleanReadOnly | startRequireSASLAuth) ;;
stop) exit 0 ;;
*)
  echo "$0: unknown command $1" >&2
  exit 2
  ;;
esac

readOnly=
props=(-Dzookeeper.extendedTypesEnabled=true -Dznode.container.checkIntervalMs=100)
if [ "$1" = startRequireSASLAuth ]; then
  props+=(-Dzookeeper.sessionRequireClientSASLAuth=true
    -Dzookeeper.authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider)
  if [ -n "${2:-}" ]; then
    props+=("-Djava.security.auth.login.config=$(realpath "$2")")
  fi
  [ -n "${3:-}" ] && readOnly=1
fi
[ "$1" = startCleanReadOnly ] && readOnly=1
[ -n "$readOnly" ] && props+=(-Dreadonlymode.enabled=true)

if [ "$1" = startClean ] || [ "$1" = startCleanReadOnly ]; then
  rm -rf "$data"
fi
mkdir -p "$data"
makeCerts || exit 1

{
  echo "tickTime=500"
  echo "initLimit=10"
  echo "syncLimit=5"
  echo "dataDir=$data"
  echo "maxClientCnxns=$maxcnxns"
  echo "localSessionsEnabled=true"
  echo "clientPort=$port"
  echo "secureClientPort=$securePort"
  echo "4lw.commands.whitelist=*"
  echo "admin.enableServer=false"
  if [ "$ZKCC_IMPL" = apache ]; then
    echo "serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory"
    echo "ssl.keyStore.location=$certs/server.jks"
    echo "ssl.keyStore.password=password"
    echo "ssl.trustStore.location=$certs/servertrust.jks"
    echo "ssl.trustStore.password=password"
  else
    echo "ssl.keyStore.location=$certs/server-keystore.pem"
    echo "ssl.trustStore.location=$certs/server-truststore.pem"
  fi
  if [ -n "$readOnly" ]; then
    echo "server.1=localhost:22881:33881"
    echo "server.2=localhost:22882:33882"
    echo "server.3=localhost:22883:33883"
  fi
} >"$cfg"
if [ -n "$readOnly" ]; then
  echo 1 >"$data/myid"
fi

echo "=== $(date '+%F %T') $0 $*" >>"$log"
if [ "$ZKCC_IMPL" = apache ]; then
  printf '%s\n' "log4j.rootLogger=INFO, CONSOLE" \
    "log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender" \
    "log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout" \
    "log4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} %-5p [%t:%C{1}@%L] - %m%n" \
    >"$state/log4j.properties"
  main=org.apache.zookeeper.server.ZooKeeperServerMain
  [ -n "$readOnly" ] && main=org.apache.zookeeper.server.quorum.QuorumPeerMain
  java -Xmx512m -XX:+UseSerialGC -Dzookeeper.jmx.log4j.disable=true \
    -Dlog4j.configuration="file:$state/log4j.properties" \
    -cp "${ZKCC_CLASSPATH:?}" "${props[@]}" "$main" "$cfg" >>"$log" 2>&1 &
else
  SERVER_JVMFLAGS="${props[*]}" "${ZKCC_ZKSERVER:?}" start-foreground "$cfg" >>"$log" 2>&1 &
fi
pid=$!
echo "$pid" >"$pidfile"

# Wait until the server serves: srvr without Apache's "not currently
# serving requests", and for a read-only start isro answering ro.
for ((i = 0; i < readyTimeout * 20; i++)); do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "$0: the server exited; see $log" >&2
    exit 1
  fi
  if [ -n "$readOnly" ]; then
    [ "$(fourLetter isro 2>/dev/null)" = ro ] && exit 0
  else
    reply=$(fourLetter srvr 2>/dev/null) && [ -n "$reply" ] &&
      [[ $reply != *"not currently serving"* ]] && exit 0
  fi
  sleep 0.05
done
echo "$0: the server did not serve within ${readyTimeout}s; see $log" >&2
exit 1
