#!/usr/bin/env bash
# Restricts Tracklane's dead-letter topics (dlq.*) on a Kafka cluster with an authorizer
# (KRaft: authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer).
#
# Why: a dead letter keeps the original value bytes untouched, so dlq.* holds raw input,
# personal data included (email, IP, ...), before pseudonymization. Only the engine may
# write there and only an operations principal may read (to inspect and replay).
# docs/deploy.md explains the rest (retention, who else needs what).
#
# Usage: deploy/acl/dead-letter-acls.sh [--dry-run]
#   BOOTSTRAP_SERVER   broker to talk to              (default localhost:9092)
#   COMMAND_CONFIG     admin client properties file   (SASL/TLS of an ACL admin; optional)
#   ENGINE_PRINCIPAL   Tracklane's principal           (default User:tracklane)
#   OPS_PRINCIPAL      who may read dead letters       (default User:tracklane-ops)
#   DLQ_PREFIX         dead-letter topic prefix        (default dlq.)
#   TOPOLOGY           topology name, for replay       (default checkout)
#   SOURCE_TOPIC       where replay re-injects         (default raw.checkout)
set -euo pipefail

BOOTSTRAP_SERVER="${BOOTSTRAP_SERVER:-localhost:9092}"
ENGINE_PRINCIPAL="${ENGINE_PRINCIPAL:-User:tracklane}"
OPS_PRINCIPAL="${OPS_PRINCIPAL:-User:tracklane-ops}"
DLQ_PREFIX="${DLQ_PREFIX:-dlq.}"
TOPOLOGY="${TOPOLOGY:-checkout}"
SOURCE_TOPIC="${SOURCE_TOPIC:-raw.checkout}"
DRY_RUN=false
[[ "${1:-}" == "--dry-run" ]] && DRY_RUN=true

if command -v kafka-acls.sh >/dev/null 2>&1; then KAFKA_ACLS=kafka-acls.sh
elif command -v kafka-acls >/dev/null 2>&1; then KAFKA_ACLS=kafka-acls
elif [[ -n "${KAFKA_HOME:-}" && -x "$KAFKA_HOME/bin/kafka-acls.sh" ]]; then KAFKA_ACLS="$KAFKA_HOME/bin/kafka-acls.sh"
elif $DRY_RUN; then KAFKA_ACLS=kafka-acls.sh
else echo "kafka-acls.sh not found: put Kafka's bin/ on PATH or set KAFKA_HOME" >&2; exit 1; fi

acls() {
  local cmd=("$KAFKA_ACLS" --bootstrap-server "$BOOTSTRAP_SERVER")
  [[ -n "${COMMAND_CONFIG:-}" ]] && cmd+=(--command-config "$COMMAND_CONFIG")
  cmd+=("$@")
  if $DRY_RUN; then printf '%q ' "${cmd[@]}"; echo; else "${cmd[@]}"; fi
}

# 1. The engine writes dead letters (its transactional producer describes the topic, and at
#    start it reads the topic's max.message.bytes to size its sends: DescribeConfigs).
acls --add --allow-principal "$ENGINE_PRINCIPAL" --operation Write --operation Describe --operation DescribeConfigs \
  --topic "$DLQ_PREFIX" --resource-pattern-type prefixed

# 2. Operations read them: `tracklane consume --topic dlq.<name>` (group tracklane-reader-*)
#    and `tracklane replay --from-dlq` (group <topology>-replay*).
acls --add --allow-principal "$OPS_PRINCIPAL" --operation Read --operation Describe \
  --topic "$DLQ_PREFIX" --resource-pattern-type prefixed
acls --add --allow-principal "$OPS_PRINCIPAL" --operation Read \
  --group tracklane-reader- --resource-pattern-type prefixed
acls --add --allow-principal "$OPS_PRINCIPAL" --operation Read \
  --group "$TOPOLOGY-replay" --resource-pattern-type prefixed

# 3. Replay writes corrected events back to the source topic.
acls --add --allow-principal "$OPS_PRINCIPAL" --operation Write --operation Describe \
  --topic "$SOURCE_TOPIC"

# Nobody else gets an ACL on dlq.*: with allow.everyone.if.no.acl.found=false (the default)
# every other principal is refused. Do not add a DENY for User:* — in Kafka DENY wins over
# ALLOW and would lock out the two principals above as well.

# Show the result.
acls --list --topic "$DLQ_PREFIX" --resource-pattern-type prefixed
