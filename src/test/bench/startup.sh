#!/usr/bin/env bash
# Launch to ready and the first order-sign after ready, on the demo profile (BENCHMARKS.md "Start-up").
# Starts the jar from the repository root (it loads this checkout's cql/ and fhir-resources/), polls
# /actuator/health/readiness every 0.2 s, then times one order-sign for crlm-demo-11 with curl
# (src/docs/order-sign-crlm-demo-11.json) and a second one. Stops the server it started.
#
# Usage: bash src/test/bench/startup.sh [--jar JAR] [--data DIR] [--runs N] [-- JVM options...]
#   --data DIR   a data directory to reuse (a restart when it already holds a database);
#                default: a fresh directory per run
#   --runs N     starts in a row (default 1); with --data, every start after the first is a restart
# One line per start: launch-to-ready s, processor s used until ready, "Started ... in" s from the log, first and second call ms.
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"
jar=target/crlm-ablation-cds.jar
data=
runs=1
while [ $# -gt 0 ]; do
  case "$1" in
    --jar) jar=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
port=${PORT:-18089}
body=src/docs/order-sign-crlm-demo-11.json
now() { date +%s.%N; }
pid=
cleanup() { if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill "$pid"; wait "$pid" 2>/dev/null || true; fi; }
trap cleanup EXIT
for run in $(seq 1 "$runs"); do
  dir=${data:-$(mktemp -d /tmp/crlm-startup.XXXXXX)}
  log=$(mktemp /tmp/crlm-startup-log.XXXXXX)
  start=$(now)
  java "$@" -jar "$jar" --server.port="$port" --crlm.data-dir="$dir" >"$log" 2>&1 &
  pid=$!
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/actuator/health/readiness")" = 200 ]; do
    kill -0 "$pid" 2>/dev/null || { echo "server exited, log: $log" >&2; exit 1; }
    sleep 0.2
  done
  ready=$(now)
  # Processor time the server used to get ready (all its threads: JIT, GC, start-up work): less
  # sensitive than the wall time to other work on a shared machine.
  cpu=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%.1f", ($14 + $15) / hz}' "/proc/$pid/stat")
  first=$(curl -s -o /dev/null -w '%{time_total}' -H 'Content-Type: application/json' \
    --data-binary @"$body" "http://127.0.0.1:$port/cds-services/crlm-ablation-order-sign")
  second=$(curl -s -o /dev/null -w '%{time_total}' -H 'Content-Type: application/json' \
    --data-binary @"$body" "http://127.0.0.1:$port/cds-services/crlm-ablation-order-sign")
  started=$(grep -o 'Started CrlmCdsApplication in [0-9.]*' "$log" | grep -o '[0-9.]*$' || echo '?')
  printf 'run %d: ready %.1f s | cpu %s s | spring started %s s | first call %.1f ms | second %.1f ms | load %s | log %s\n' \
    "$run" "$(echo "$ready - $start" | bc)" "$cpu" "$started" "$(echo "$first * 1000" | bc)" \
    "$(echo "$second * 1000" | bc)" "$(cut -d' ' -f1-3 /proc/loadavg)" "$log"
  cleanup
  pid=
  [ -n "$data" ] || rm -rf "$dir"
done
