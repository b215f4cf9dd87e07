#!/usr/bin/env bash
# Local Kafka (KRaft, one combined broker+controller) + Apicurio Registry + Redis, no Docker.
#
#   stack.sh up | down | status            the whole stack (docs/stack.md)
#   stack.sh start|stop|restart COMPONENT  one part, for fault-injection tests
#                                          (kafka | registry | redis; stop/restart take --kill)
#
# Everything downloaded or written lives under <repo>/.stack (git-ignored). `up` is
# idempotent and caches downloads: once .stack is complete it needs neither network nor mvn.
# `down` stops only what stack.sh started; a Redis (or Kafka/registry) that already answered
# on its port is used as is and left alone. `up` never stops or restarts a part that was
# already running: one that does not answer in time is reported and `up` exits 2.
#
# Under pipefail, `producer | grep -q` (or `| head`) fails with 141 whenever the producer is
# still writing when the reader quits (SIGPIPE): never end a pipe with an early-exit reader
# here. Read files directly, capture output first, or use `sed -n '...{p;q;}' FILE`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
POM="$ROOT/deploy/local/pom.xml"
STACK="${TRACKLANE_STACK_DIR:-$ROOT/.stack}"
RUN="$STACK/run"
LOGS="$STACK/logs"
DATA="$STACK/data"

HOST=127.0.0.1
KAFKA_PORT=9092
CONTROLLER_PORT=9093
REGISTRY_PORT=8081
REGISTRY_MGMT_PORT=9081
REDIS_PORT=6379
REGISTRY_API="http://$HOST:$REGISTRY_PORT/apis/ccompat/v7"

pom_property() { sed -n "\\:<$1>.*</$1>:{s:.*<$1>\(.*\)</$1>.*:\1:p;q;}" "$POM"; }
KAFKA_VERSION="${TRACKLANE_KAFKA_VERSION:-$(pom_property kafka.version)}"
LOG4J_VERSION="$(pom_property log4j.version)"
APICURIO_VERSION="$(pom_property apicurio.version)"

TIMEOUT="${TRACKLANE_STACK_TIMEOUT:-120}"   # seconds each component gets to become ready
KAFKA_HEAP="${TRACKLANE_KAFKA_HEAP:--Xms256m -Xmx1g}"
REGISTRY_HEAP="${TRACKLANE_REGISTRY_HEAP:--Xms128m -Xmx512m}"

KAFKA_JAVA_MIN=17
REGISTRY_JAVA_MIN=21   # Apicurio Registry 3.3 classes are Java 21 (class file 65)
JAVA=""                # set by find_java before each start
STARTED_NOW=" "        # components this command launched (only those may be stopped on failure)

say() { printf '%s\n' "$*"; }
die() { printf 'stack: %s\n' "$*" >&2; exit 1; }
rel() { local p="$1"; [[ "$p" == "$ROOT/"* ]] && p="${p#"$ROOT/"}"; printf '%s' "$p"; }

# --- prerequisites -----------------------------------------------------------------------

java_major() { # java_major JAVA -> 17, 21, ... (empty if it does not run)
  local out line major
  out="$("$1" -version 2>&1)" || return 0
  line="${out%%$'\n'*}"
  major="$(sed -n 's/.*version "\([0-9]*\)[."].*/\1/p' <<<"$line")"
  [[ "$major" == 1 ]] && major="$(sed -n 's/.*version "1\.\([0-9]*\).*/\1/p' <<<"$line")"
  printf '%s' "$major"
}

# find_java WHO MIN HOME_VAR: the first java >= MIN among $HOME_VAR, $JAVA_HOME, java on PATH,
# then the usual JDK folders (Debian /usr/lib/jvm, macOS java_home, SDKMAN). Kafka 4 runs on
# 17; Apicurio Registry 3.3 is compiled for 21, so on a machine whose default java is 17 it
# needs a second JDK, found here without configuration.
find_java() {
  local who="$1" min="$2" home_var="$3" c major seen=""
  local candidates=()
  [[ -n "${!home_var:-}" ]] && candidates+=("${!home_var}/bin/java")
  [[ -n "${JAVA_HOME:-}" ]] && candidates+=("$JAVA_HOME/bin/java")
  command -v java >/dev/null 2>&1 && candidates+=("$(command -v java)")
  if [[ -x /usr/libexec/java_home ]] && c="$(/usr/libexec/java_home -v "$min+" 2>/dev/null)"; then
    candidates+=("$c/bin/java")
  fi
  for c in /usr/lib/jvm/*/bin/java "$HOME"/.sdkman/candidates/java/*/bin/java; do
    [[ -x "$c" ]] && candidates+=("$c")
  done
  for c in "${candidates[@]}"; do
    [[ -x "$c" ]] || continue
    major="$(java_major "$c")"
    [[ -n "$major" && " $seen " != *" $major "* ]] && seen="$seen ${major}"
    if [[ -n "$major" && "$major" -ge "$min" ]]; then printf '%s' "$c"; return 0; fi
  done
  if [[ -z "$seen" ]]; then
    die "java not found: $who needs Java $min or newer (Debian: apt-get install -y openjdk-17-jre-headless; or set $home_var)"
  fi
  die "$who needs Java $min or newer; found only Java${seen}: install a JDK $min+ (e.g. Temurin) and set $home_var or JAVA_HOME to it"
}

require_mvn() {
  command -v mvn >/dev/null 2>&1 ||
    die "mvn (Apache Maven) not found: it resolves Kafka and Apicurio from Maven Central on the first 'up' (Debian: apt-get install -y maven)"
}

mvn_run() { # mvn_run LOGNAME ARGS... ; output goes to .stack/logs/mvn-LOGNAME.log
  local log="$LOGS/mvn-$1.log"; shift
  if ! mvn -B -q -f "$POM" -Dkafka.version="$KAFKA_VERSION" "$@" </dev/null >"$log" 2>&1; then
    tail -n 30 "$log" >&2 || true
    die "mvn failed (full output: $(rel "$log")); Maven Central must be reachable for the first 'up'"
  fi
}

# --- downloads (cached; a marker is written only after a complete fetch) ------------------

ensure_kafka_libs() {
  local want="kafka $KAFKA_VERSION log4j $LOG4J_VERSION" marker="$STACK/kafka/.libs-complete"
  [[ -f "$marker" && "$(cat "$marker")" == "$want" ]] && return 0
  require_mvn
  say "kafka: resolving Kafka $KAFKA_VERSION jars from Maven Central into $(rel "$STACK/kafka/libs") ..."
  rm -rf "$STACK/kafka/libs" "$STACK/kafka/libs.partial" "$marker"
  mkdir -p "$STACK/kafka"
  mvn_run kafka dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$STACK/kafka/libs.partial"
  ls "$STACK/kafka/libs.partial"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null 2>&1 ||
    die "mvn did not produce kafka_2.13-$KAFKA_VERSION.jar (see $(rel "$LOGS/mvn-kafka.log"))"
  mv "$STACK/kafka/libs.partial" "$STACK/kafka/libs"
  printf '%s\n' "$want" >"$marker"
}

ensure_apicurio() {
  local want="apicurio $APICURIO_VERSION" marker="$STACK/apicurio/.app-complete"
  [[ -f "$marker" && "$(cat "$marker")" == "$want" ]] && return 0
  require_mvn
  say "registry: fetching Apicurio Registry $APICURIO_VERSION from Maven Central into $(rel "$STACK/apicurio") ..."
  rm -rf "$STACK/apicurio"
  mkdir -p "$STACK/apicurio/download" "$STACK/apicurio/app.partial"
  mvn_run apicurio dependency:copy \
    -Dartifact="io.apicurio:apicurio-registry-app:$APICURIO_VERSION:tar.gz:all" \
    -DoutputDirectory="$STACK/apicurio/download"
  tar -xzf "$STACK/apicurio/download/apicurio-registry-app-$APICURIO_VERSION-all.tar.gz" \
    -C "$STACK/apicurio/app.partial"
  [[ -f "$STACK/apicurio/app.partial/quarkus-run.jar" ]] || die "the Apicurio archive has no quarkus-run.jar"
  mv "$STACK/apicurio/app.partial" "$STACK/apicurio/app"
  rm -rf "$STACK/apicurio/download"
  printf '%s\n' "$want" >"$marker"
}

# --- process helpers ----------------------------------------------------------------------

tcp_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# bounded SECONDS CMD...: a peer that accepts but never answers must not hang a check
# (coreutils timeout; without it, e.g. stock macOS, the command runs unbounded)
bounded() {
  if command -v timeout >/dev/null 2>&1; then timeout "$@"; else shift; "$@"; fi
}

# pid from RUN/NAME.pid if that process is alive and is really ours (command line matches;
# a stale file whose pid now belongs to something else is not ours)
our_pid() {
  local name="$1" pattern="$2" pid cmdline
  [[ -f "$RUN/$name.pid" ]] || return 1
  pid="$(cat "$RUN/$name.pid" 2>/dev/null)" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
  [[ "$cmdline" == *"$pattern"* ]] || return 1
  printf '%s' "$pid"
}
kafka_pid() { our_pid kafka "$STACK/kafka/server.properties"; }
registry_pid() { our_pid registry "$STACK/apicurio/app/quarkus-run.jar"; }
redis_pid() { our_pid redis "redis-server"; }

port_owner() { # best effort, for messages only
  ss -ltnpH "sport = :$1" 2>/dev/null | sed -n '/pid=/{s/.*pid=\([0-9]*\).*/\1/p;q;}' || true
}

stop_pid() { # stop_pid NAME PID GRACE_SECONDS [--kill]
  local name="$1" pid="$2" grace="$3" mode="${4:-}"
  if [[ "$mode" == --kill ]]; then
    kill -KILL "$pid" 2>/dev/null || true
  else
    kill -TERM "$pid" 2>/dev/null || true
    local i
    for ((i = 0; i < grace * 5; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      say "$name: still running after ${grace}s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  local i
  for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$RUN/$name.pid"
}

# Each start records where its log ended, so readiness checks and failure reports only
# look at what this start wrote (logs are appended across restarts).
mark_log() { # mark_log NAME LOG
  mkdir -p "$RUN"
  stat -c %s "$2" 2>/dev/null >"$RUN/$1.logoffset" || echo 0 >"$RUN/$1.logoffset"
}
log_since_start() { # log_since_start NAME LOG
  local offset
  offset="$(cat "$RUN/$1.logoffset" 2>/dev/null || echo 0)"
  [[ "$offset" =~ ^[0-9]+$ ]] && ((offset <= $(stat -c %s "$2" 2>/dev/null || echo 0))) || offset=0
  tail -c +"$((offset + 1))" "$2" 2>/dev/null
}

# launched NAME: this command started NAME's process. TRACKLANE_STACK_STARTED (a file, set by
# with-stack.sh) collects the names so the caller stops exactly what was started, nothing else.
launched() {
  STARTED_NOW+="$1 "
  [[ -z "${TRACKLANE_STACK_STARTED:-}" ]] || printf '%s\n' "$1" >>"$TRACKLANE_STACK_STARTED"
}
launched_now() { [[ "$STARTED_NOW" == *" $1 "* ]]; }

# A part that was running before this command and does not answer in time is left alone
# (stopping it would take a busy, healthy broker down with it): say so and exit 2.
not_answering() { # not_answering NAME PID WHAT
  say "$1: already running (pid ${2:-?}) but $3 within ${TIMEOUT}s; left running (this command did not start it). Check $(rel "$LOGS") or stop it with 'stack.sh stop $1'" >&2
  exit 2
}

fail_start() { # fail_start NAME LOG MESSAGE
  local lines
  lines="$(log_since_start "$1" "$2" | tail -n 40)"
  if [[ -n "$lines" ]]; then
    say "$1: $3; last lines of $(rel "$2"):" >&2
    printf '%s\n' "$lines" >&2
  else
    say "$1: $3; $(rel "$2") has nothing from this start" >&2
  fi
  exit 1
}

# --- Kafka --------------------------------------------------------------------------------

write_kafka_config() {
  mkdir -p "$DATA/kafka"
  cat >"$STACK/kafka/server.properties" <<EOF
# Generated by deploy/local/stack.sh; edits are overwritten on the next start.
process.roles=broker,controller
node.id=1
listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$KAFKA_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
controller.quorum.bootstrap.servers=$HOST:$CONTROLLER_PORT
log.dirs=$DATA/kafka
# One node: every internal topic has one replica.
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=8
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Tests join groups often and create their topics explicitly (as 'tracklane init' does).
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
delete.topic.enable=true
log.retention.hours=24
EOF
  cat >"$STACK/kafka/log4j2.properties" <<'EOF'
# Generated by deploy/local/stack.sh. Console output is appended to .stack/logs/kafka.log.
status = warn
appender.out.type = Console
appender.out.name = STDOUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = STDOUT
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.statechange.name = state.change.logger
logger.statechange.level = WARN
logger.storage.name = org.apache.kafka.storage.internals
logger.storage.level = WARN
logger.unifiedlog.name = kafka.log
logger.unifiedlog.level = WARN
logger.raft.name = org.apache.kafka.raft
logger.raft.level = WARN
logger.clients.name = org.apache.kafka.clients
logger.clients.level = WARN
logger.config.name = org.apache.kafka.common.config.AbstractConfig
logger.config.level = WARN
EOF
}

kafka_java() { # run a Kafka class with the stack's classpath and logging
  "$JAVA" -Dlog4j2.configurationFile="file:$STACK/kafka/log4j2.properties" \
    -cp "$STACK/kafka/libs/*" "$@"
}

format_kafka_storage() {
  [[ -f "$DATA/kafka/meta.properties" ]] && return 0
  local cluster_id
  cluster_id="$(kafka_java kafka.tools.StorageTool random-uuid 2>>"$LOGS/kafka.log" | tail -n1)"
  [[ -n "$cluster_id" ]] || fail_start kafka "$LOGS/kafka.log" "StorageTool random-uuid failed"
  say "kafka: formatting $(rel "$DATA/kafka") (cluster id $cluster_id)"
  kafka_java kafka.tools.StorageTool format --standalone -t "$cluster_id" \
    -c "$STACK/kafka/server.properties" >>"$LOGS/kafka.log" 2>&1 ||
    fail_start kafka "$LOGS/kafka.log" "StorageTool format failed"
}

start_kafka() {
  local pid
  if pid="$(kafka_pid)"; then say "kafka: already running (pid $pid)"; return 0; fi
  if tcp_open "$KAFKA_PORT"; then
    say "kafka: $HOST:$KAFKA_PORT is already served by another process (pid $(port_owner "$KAFKA_PORT")); using it, stack.sh will not stop it"
    return 0
  fi
  JAVA="$(find_java "Kafka $KAFKA_VERSION" "$KAFKA_JAVA_MIN" TRACKLANE_KAFKA_JAVA_HOME)"
  ensure_kafka_libs
  mkdir -p "$RUN" "$LOGS"
  write_kafka_config
  mark_log kafka "$LOGS/kafka.log"
  format_kafka_storage
  # setsid: a Ctrl-C in the terminal that ran `up` must not kill the broker half-way.
  # shellcheck disable=SC2086
  (cd "$STACK/kafka" && exec setsid "$JAVA" $KAFKA_HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="file:$STACK/kafka/log4j2.properties" -Dkafka.logs.dir="$LOGS" \
    -cp "$STACK/kafka/libs/*" kafka.Kafka "$STACK/kafka/server.properties") \
    </dev/null >>"$LOGS/kafka.log" 2>&1 9>&- &
  echo $! >"$RUN/kafka.pid"
  disown $!
  launched kafka
  say "kafka: starting Kafka $KAFKA_VERSION on $HOST:$KAFKA_PORT with Java $(java_major "$JAVA") (pid $!), log $(rel "$LOGS/kafka.log")"
}

# Readiness asks the broker itself, not its log: an ApiVersions request (v0, correlation id 7,
# client id "stack.sh") on the client port must get its response (correlation id 7, error 0).
# The port accepts TCP connections before the broker serves requests; Kafka enables request
# processing on it only once the broker is caught up and unfenced, just before it logs
# "Kafka Server started". Cheap (one round trip) and independent of the log's size.
kafka_answers() {
  local reply
  reply="$( (exec 3<>"/dev/tcp/$HOST/$KAFKA_PORT" &&
    printf '\x00\x00\x00\x12\x00\x12\x00\x00\x00\x00\x00\x07\x00\x08stack.sh' >&3 &&
    bounded 3 head -c 10 <&3 | od -An -tx1) 2>/dev/null)" || return 1
  reply="${reply//[[:space:]]/}"
  [[ "$reply" == ????????000000070000 ]]
}

wait_kafka() {
  local pid deadline=$((SECONDS + TIMEOUT))
  if ! pid="$(kafka_pid)"; then
    tcp_open "$KAFKA_PORT" || fail_start kafka "$LOGS/kafka.log" "not running"
    # not ours: wait for it like any other, never touch it
    while ((SECONDS < deadline)); do kafka_answers && { say "kafka: ready on $HOST:$KAFKA_PORT"; return 0; }; sleep 0.3; done
    not_answering kafka "$(port_owner "$KAFKA_PORT")" "did not answer an ApiVersions request on $HOST:$KAFKA_PORT"
  fi
  while ((SECONDS < deadline)); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$RUN/kafka.pid"; fail_start kafka "$LOGS/kafka.log" "the broker exited during start-up"; }
    if kafka_answers; then
      say "kafka: ready on $HOST:$KAFKA_PORT"
      return 0
    fi
    sleep 0.3
  done
  launched_now kafka ||
    not_answering kafka "$pid" "did not answer an ApiVersions request on $HOST:$KAFKA_PORT"
  stop_pid kafka "$pid" 5 --kill
  fail_start kafka "$LOGS/kafka.log" "not ready after ${TIMEOUT}s (stopped the broker this command started)"
}

stop_kafka() {
  local pid
  if pid="$(kafka_pid)"; then
    say "kafka: stopping (pid $pid)"
    stop_pid kafka "$pid" 30 "${1:-}"
  elif tcp_open "$KAFKA_PORT"; then
    say "kafka: $HOST:$KAFKA_PORT is served by a process stack.sh did not start (pid $(port_owner "$KAFKA_PORT")); leaving it"
    return 3
  else
    rm -f "$RUN/kafka.pid"; say "kafka: not running"
  fi
}

# --- Apicurio Registry --------------------------------------------------------------------

registry_ready() {
  local url="$REGISTRY_API/subjects"
  if command -v curl >/dev/null 2>&1; then
    [[ "$(curl -s -o /dev/null -m 3 -w '%{http_code}' "$url" 2>/dev/null)" == 200 ]]
  else
    local status
    status="$( (exec 3<>"/dev/tcp/$HOST/$REGISTRY_PORT" &&
      printf 'GET /apis/ccompat/v7/subjects HTTP/1.0\r\nHost: %s\r\n\r\n' "$HOST" >&3 &&
      bounded 3 head -n1 <&3) 2>/dev/null || true)"
    [[ "$status" == *" 200"* ]]
  fi
}

start_registry() {
  local pid
  if pid="$(registry_pid)"; then say "registry: already running (pid $pid)"; return 0; fi
  if tcp_open "$REGISTRY_PORT"; then
    say "registry: $HOST:$REGISTRY_PORT is already served by another process (pid $(port_owner "$REGISTRY_PORT")); using it, stack.sh will not stop it"
    return 0
  fi
  JAVA="$(find_java "Apicurio Registry $APICURIO_VERSION" "$REGISTRY_JAVA_MIN" TRACKLANE_REGISTRY_JAVA_HOME)"
  ensure_apicurio
  mkdir -p "$RUN" "$LOGS" "$DATA/apicurio"
  mark_log registry "$LOGS/apicurio.log"
  # In-memory storage is Apicurio 3's default (SQL on an in-memory H2): a restart forgets all
  # schemas. BACKWARD as the global rule is what @kafkajs/confluent-schema-registry's
  # register() expects to read back (docs/stack.md). Deletion is enabled so tests can clean up.
  # C1 only (TieredStopAtLevel=1) starts it about a third faster; a test registry never gets hot.
  # shellcheck disable=SC2086
  (cd "$DATA/apicurio" && exec setsid "$JAVA" $REGISTRY_HEAP -XX:TieredStopAtLevel=1 -XX:+ExitOnOutOfMemoryError \
    -Djava.awt.headless=true -Djava.io.tmpdir="$DATA/apicurio" \
    -Dquarkus.http.host="$HOST" -Dquarkus.http.port="$REGISTRY_PORT" \
    -Dquarkus.management.host="$HOST" -Dquarkus.management.port="$REGISTRY_MGMT_PORT" \
    -Dquarkus.log.console.format='%d{yyyy-MM-dd HH:mm:ss,SSS} %-5p [%c{3.}] (%t) %s%e%n' \
    -Dapicurio.rules.global.compatibility=BACKWARD \
    -Dapicurio.rest.deletion.group.enabled=true \
    -Dapicurio.rest.deletion.artifact.enabled=true \
    -Dapicurio.rest.deletion.artifact-version.enabled=true \
    -Dapicurio.storage.snapshot.location="$DATA/apicurio" -Dapicurio.import.work-dir="$DATA/apicurio" \
    -jar "$STACK/apicurio/app/quarkus-run.jar") \
    </dev/null >>"$LOGS/apicurio.log" 2>&1 9>&- &
  echo $! >"$RUN/registry.pid"
  disown $!
  launched registry
  say "registry: starting Apicurio Registry $APICURIO_VERSION on $HOST:$REGISTRY_PORT with Java $(java_major "$JAVA") (pid $!), log $(rel "$LOGS/apicurio.log")"
}

wait_registry() {
  local pid deadline=$((SECONDS + TIMEOUT))
  if ! pid="$(registry_pid)"; then
    tcp_open "$REGISTRY_PORT" || fail_start registry "$LOGS/apicurio.log" "not running"
    while ((SECONDS < deadline)); do registry_ready && { say "registry: ready at $REGISTRY_API"; return 0; }; sleep 0.5; done
    not_answering registry "$(port_owner "$REGISTRY_PORT")" "GET $REGISTRY_API/subjects did not answer 200"
  fi
  while ((SECONDS < deadline)); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$RUN/registry.pid"; fail_start registry "$LOGS/apicurio.log" "the registry exited during start-up"; }
    if registry_ready; then say "registry: ready at $REGISTRY_API"; return 0; fi
    sleep 0.5
  done
  launched_now registry ||
    not_answering registry "$pid" "GET $REGISTRY_API/subjects did not answer 200"
  stop_pid registry "$pid" 5 --kill
  fail_start registry "$LOGS/apicurio.log" "GET $REGISTRY_API/subjects did not answer 200 within ${TIMEOUT}s (stopped the registry this command started)"
}

stop_registry() {
  local pid
  if pid="$(registry_pid)"; then
    say "registry: stopping (pid $pid)"
    stop_pid registry "$pid" 15 "${1:-}"
  elif tcp_open "$REGISTRY_PORT"; then
    say "registry: $HOST:$REGISTRY_PORT is served by a process stack.sh did not start (pid $(port_owner "$REGISTRY_PORT")); leaving it"
    return 3
  else
    rm -f "$RUN/registry.pid"; say "registry: not running"
  fi
}

# --- Redis --------------------------------------------------------------------------------

redis_ping() {
  if command -v redis-cli >/dev/null 2>&1; then
    [[ "$(bounded 3 redis-cli -h "$HOST" -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]
  else
    local reply
    reply="$( (exec 3<>"/dev/tcp/$HOST/$REDIS_PORT" && printf 'PING\r\n' >&3 && bounded 2 head -c 7 <&3) 2>/dev/null || true)"
    [[ "$reply" == "+PONG"* ]]
  fi
}

start_redis() {
  local pid
  if pid="$(redis_pid)"; then say "redis: already running (pid $pid)"; return 0; fi
  if redis_ping; then
    say "redis: $HOST:$REDIS_PORT already answers PING; using it, stack.sh will not stop it"
    return 0
  fi
  if ! command -v redis-server >/dev/null 2>&1; then
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
      say "redis: redis-server not found, installing it with apt-get"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server </dev/null >"$LOGS/apt-redis.log" 2>&1 ||
        { DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$LOGS/apt-redis.log" 2>&1 &&
          DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server </dev/null >>"$LOGS/apt-redis.log" 2>&1; } ||
        die "redis: apt-get install redis-server failed (see $(rel "$LOGS/apt-redis.log"))"
    else
      die "redis-server not found and nothing answers on $HOST:$REDIS_PORT: install Redis (Debian: apt-get install -y redis-server) or start one there"
    fi
  fi
  mkdir -p "$RUN" "$LOGS" "$DATA/redis"
  redis-server --bind "$HOST" --port "$REDIS_PORT" --save "" --appendonly no --daemonize yes \
    --pidfile "$RUN/redis.pid" --logfile "$LOGS/redis.log" --dir "$DATA/redis" 9>&- ||
    fail_start redis "$LOGS/redis.log" "redis-server did not start"
  launched redis
  say "redis: starting redis-server on $HOST:$REDIS_PORT, log $(rel "$LOGS/redis.log")"
}

wait_redis() {
  local deadline=$((SECONDS + 20))
  while ((SECONDS < deadline)); do
    if redis_ping; then say "redis: ready at redis://$HOST:$REDIS_PORT"; return 0; fi
    sleep 0.2
  done
  fail_start redis "$LOGS/redis.log" "no PONG from $HOST:$REDIS_PORT within 20s"
}

stop_redis() {
  local pid
  if pid="$(redis_pid)"; then
    say "redis: stopping (pid $pid)"
    stop_pid redis "$pid" 10 "${1:-}"
  elif redis_ping; then
    say "redis: $HOST:$REDIS_PORT was not started by stack.sh; leaving it"
    return 3
  else
    rm -f "$RUN/redis.pid"; say "redis: not running"
  fi
}

restart_redis() {
  if redis_pid >/dev/null || ! redis_ping; then
    stop_redis "${1:-}" || true
    start_redis
    wait_redis
  else
    # Not ours (e.g. the machine's own Redis): do not kill it. Dropping every client
    # connection is what a client sees of a restart; the data is kept.
    say "redis: $HOST:$REDIS_PORT was not started by stack.sh; dropping all client connections instead of restarting it"
    redis-cli -h "$HOST" -p "$REDIS_PORT" client kill type normal >/dev/null
    redis-cli -h "$HOST" -p "$REDIS_PORT" client kill type pubsub >/dev/null || true
  fi
}

# --- status -------------------------------------------------------------------------------

component_status() { # prints one line; returns 0 when the component answers
  local pid
  case "$1" in
    kafka)
      if pid="$(kafka_pid)" && kafka_answers; then
        say "kafka     up    $HOST:$KAFKA_PORT  (Kafka $KAFKA_VERSION, pid $pid, log $(rel "$LOGS/kafka.log"))"
      elif [[ -n "${pid:-}" ]]; then
        say "kafka     down  (pid $pid runs but does not answer: starting or stuck; log $(rel "$LOGS/kafka.log"))"; return 1
      elif kafka_answers; then
        say "kafka     up    $HOST:$KAFKA_PORT  (not started by stack.sh)"
      else
        say "kafka     down"; return 1
      fi ;;
    registry)
      if registry_ready; then
        if pid="$(registry_pid)"; then
          say "registry  up    $REGISTRY_API  (Apicurio $APICURIO_VERSION, pid $pid, log $(rel "$LOGS/apicurio.log"))"
        else
          say "registry  up    $REGISTRY_API  (not started by stack.sh)"
        fi
      else
        say "registry  down"; return 1
      fi ;;
    redis)
      if redis_ping; then
        if pid="$(redis_pid)"; then
          say "redis     up    redis://$HOST:$REDIS_PORT  (pid $pid, log $(rel "$LOGS/redis.log"))"
        else
          say "redis     up    redis://$HOST:$REDIS_PORT  (not started by stack.sh)"
        fi
      else
        say "redis     down"; return 1
      fi ;;
    *) die "unknown component '$1' (kafka | registry | redis)" ;;
  esac
}

# --- commands -----------------------------------------------------------------------------

lock() { # serialize commands that start or stop things (two engineers, one .stack)
  mkdir -p "$RUN" "$LOGS"
  exec 9>"$RUN/lock"
  if command -v flock >/dev/null 2>&1; then
    flock -w 600 9 || die "another stack.sh has held $(rel "$RUN/lock") for 10 minutes"
  fi
}

cmd_up() {
  lock
  local started=$SECONDS
  # An explicit `up` keeps the stack: a with-stack.sh run that started parts of it earlier
  # must no longer stop them when it ends.
  [[ -n "${TRACKLANE_WITH_STACK:-}" ]] || rm -f "$RUN/autostarted"
  start_redis
  start_kafka
  start_registry
  wait_redis
  wait_kafka
  wait_registry
  say "stack: up in $((SECONDS - started))s. Logs: $(rel "$LOGS")/{kafka,apicurio,redis}.log"
  say "  KAFKA_BROKERS=$HOST:$KAFKA_PORT SCHEMA_REGISTRY_URL=$REGISTRY_API REDIS_URL=redis://$HOST:$REDIS_PORT"
}

cmd_down() {
  lock
  stop_registry || true
  stop_kafka || true
  stop_redis || true
}

cmd_status() {
  local rc=0 c comps=("$@")
  ((${#comps[@]})) || comps=(kafka registry redis)
  for c in "${comps[@]}"; do component_status "$c" || rc=1; done
  return "$rc"
}

component_arg() { # component_arg COMMAND ARGS...
  local cmd="$1"; shift
  case "${1:-}" in kafka | registry | redis) ;; *) die "usage: stack.sh $cmd kafka|registry|redis [--kill]" ;; esac
  case "${2:-}" in "" | --kill) ;; *) die "usage: stack.sh $cmd ${1} [--kill]" ;; esac
}

main() {
  local cmd="${1:-}"
  shift || true
  case "$cmd" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status "$@" ;;
    start)
      component_arg start "$@"; lock
      "start_$1"
      "wait_$1" ;;
    stop)
      component_arg stop "$@"; lock
      "stop_$1" "${2:-}" ;;
    restart)
      component_arg restart "$@"; lock
      if [[ "$1" == redis ]]; then
        restart_redis "${2:-}"
      else
        "stop_$1" "${2:-}"
        "start_$1"
        "wait_$1"
      fi ;;
    -h | --help | help | "")
      sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      [[ -n "$cmd" ]] ;;
    *) die "unknown command '$cmd' (up | down | status | start | stop | restart)" ;;
  esac
}

# Sourced (deploy/local/secure-stack.sh reuses the helpers above): define, do not run.
[[ "${BASH_SOURCE[0]}" != "$0" ]] || main "$@"
