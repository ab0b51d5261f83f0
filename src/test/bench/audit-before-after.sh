#!/usr/bin/env bash
# order-sign p50/p99 before vs after the durable audit, back to back on this machine.
#   before: the commit before 440c6dc (audit and issued cards written by a background queue after the answer)
#   after:  440c6dc (written in one transaction before the answer is sent)
# Usage: bash src/test/bench/audit-before-after.sh [extra options, e.g. --rounds 2 --measure 30 --postgres]
# BEFORE=<rev> AFTER=<rev> choose other commits (AFTER=HEAD: the current code); JARS=<dir> reuses
# before.jar and after.jar built earlier instead of building them.
# Builds each commit's jar from a temporary export of it (git archive) (mvn package, tests skipped), then runs
# org.crlm.cds.bench.AuditLatencyComparison from this checkout; report: target/benchmark/audit-before-after.md
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"
before=${BEFORE:-440c6dc^}
after=${AFTER:-440c6dc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for label in before after; do
  rev=$([ "$label" = before ] && echo "$before" || echo "$after")
  # The server runs in this export, so each build loads its own commit's cql/ and fhir-resources/.
  mkdir -p "$tmp/$label" && git archive "$rev" | tar -x -C "$tmp/$label"
  if [ -n "${JARS:-}" ] && [ -f "$JARS/$label.jar" ]; then cp "$JARS/$label.jar" "$tmp/$label.jar"; continue; fi
  (cd "$tmp/$label" && mvn -q -B -DskipTests -Djib.skip -Dspotless.check.skip package)
  cp "$tmp/$label/target/crlm-ablation-cds.jar" "$tmp/$label.jar"
  echo "$label: $(git rev-parse --short "$rev") built"
done
mvn -q test-compile
mvn -q dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$tmp/cp.txt" >/dev/null
java -Xmx2g -cp "target/test-classes:target/classes:$(cat "$tmp/cp.txt")" \
  org.crlm.cds.bench.AuditLatencyComparison "before=$tmp/before.jar" "after=$tmp/after.jar" "$@"
