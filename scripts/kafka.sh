#!/usr/bin/env bash
# A real single-node Apache Kafka (KRaft, broker + controller in one JVM) on
# loopback, from Maven Central artifacts (scripts/kafka/pom.xml), for crv's
# tests, demos and benchmarks. Java 17 and Maven come with the machine.
#   scripts/kafka.sh fetch          # download the jars into build/kafka/libs (once)
#   scripts/kafka.sh start DIR      # start a broker with its data and logs in DIR;
#                                   # waits until it serves; writes DIR/bootstrap
#   scripts/kafka.sh stop DIR       # stops it cleanly (SIGTERM, waits)
#   scripts/kafka.sh perf DIR ARGS  # Kafka's own kafka-producer-perf-test
# The ports are free ones picked at start. Environment: CRV_KAFKA_LIBS.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
libs=${CRV_KAFKA_LIBS:-$root/build/kafka/libs}

fetch() {
  local stamp="$libs/.pom.sha256" sum
  sum=$(sha256sum "$root/scripts/kafka/pom.xml" | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ]; then return; fi
  command -v mvn >/dev/null || { echo "kafka.sh: Maven (mvn) is needed to fetch Kafka" >&2; exit 2; }
  command -v java >/dev/null || { echo "kafka.sh: Java is needed to run Kafka" >&2; exit 2; }
  echo "kafka.sh: fetching Apache Kafka from Maven Central into $libs"
  rm -rf "$libs" && mkdir -p "$libs"
  mvn -q -B -f "$root/scripts/kafka/pom.xml" dependency:copy-dependencies -DoutputDirectory="$libs" \
    -DincludeScope=runtime
  echo "$sum" >"$stamp"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

run_java() { java -Xms256m -Xmx768m -cp "$libs/*" -Dlog4j.configuration="file:$1/log4j.properties" "${@:2}"; }

start() {
  local dir=${1:?usage: kafka.sh start DIR}
  fetch
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
    echo "kafka.sh: already running in $dir ($(cat "$dir/bootstrap"))"
    return
  fi
  rm -rf "$dir/data"
  local port cport
  port=$(free_port)
  cport=$(free_port)
  cat >"$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
log.dirs=$dir/data
num.partitions=4
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=1
PROPS
  cat >"$dir/log4j.properties" <<'PROPS'
log4j.rootLogger=WARN, stdout
log4j.logger.kafka.server.KafkaServer=INFO
log4j.logger.kafka.server.KafkaRaftServer=INFO
log4j.logger.kafka.server.BrokerServer=INFO
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
PROPS
  local id
  id=$(run_java "$dir" kafka.tools.StorageTool random-uuid)
  run_java "$dir" kafka.tools.StorageTool format -t "$id" -c "$dir/server.properties" >"$dir/format.log" 2>&1
  # A simple command in the background, so $! is the JVM itself (a backgrounded
  # shell function would leave $! pointing at a subshell, and stop would
  # kill that and leave the broker running).
  java -Xms256m -Xmx768m -cp "$libs/*" -Dlog4j.configuration="file:$dir/log4j.properties" \
    kafka.Kafka "$dir/server.properties" >"$dir/kafka.log" 2>&1 &
  echo $! >"$dir/pid"
  echo "127.0.0.1:$port" >"$dir/bootstrap.tmp"
  for _ in $(seq 1 240); do
    if grep -q "Kafka Server started\|KafkaRaftServer.*started\|Transition from STARTING to STARTED" "$dir/kafka.log" 2>/dev/null; then
      mv "$dir/bootstrap.tmp" "$dir/bootstrap"
      echo "kafka.sh: Kafka serves on $(cat "$dir/bootstrap") (data and log in $dir)"
      return
    fi
    if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then break; fi
    sleep 0.25
  done
  echo "kafka.sh: Kafka did not start; the end of $dir/kafka.log:" >&2
  tail -n 30 "$dir/kafka.log" >&2 || true
  stop "$dir" || true
  exit 1
}

stop() {
  local dir=${1:?usage: kafka.sh stop DIR}
  [ -f "$dir/pid" ] || { echo "kafka.sh: nothing running in $dir"; return; }
  local pid
  pid=$(cat "$dir/pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "kafka.sh: the broker did not stop within 30 s; killing it" >&2
      kill -KILL "$pid"
    fi
  fi
  rm -f "$dir/pid" "$dir/bootstrap"
  echo "kafka.sh: stopped"
}

perf() {
  local dir=${1:?usage: kafka.sh perf DIR ARGS}
  shift
  run_java "$dir" org.apache.kafka.tools.ProducerPerformance --producer-props "bootstrap.servers=$(cat "$dir/bootstrap")" "$@"
}

case "${1:-}" in
  fetch) fetch ;;
  start) start "${2:-}" ;;
  stop) stop "${2:-}" ;;
  perf) perf "${@:2}" ;;
  *)
    echo "usage: $0 fetch | start DIR | stop DIR | perf DIR ARGS" >&2
    exit 2
    ;;
esac
