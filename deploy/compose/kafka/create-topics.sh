#!/bin/bash
# Creates the platform's topics on the compose broker; each argument is NAME:PARTITIONS.
# Idempotent (--if-not-exists), so `docker compose up` may run it again.
set -euo pipefail
bootstrap="${BOOTSTRAP_SERVERS:-kafka:9092}"
for spec in "$@"; do
  /opt/kafka/bin/kafka-topics.sh --bootstrap-server "$bootstrap" --create --if-not-exists \
    --topic "${spec%%:*}" --partitions "${spec##*:}" --replication-factor 1
done
/opt/kafka/bin/kafka-topics.sh --bootstrap-server "$bootstrap" --list
