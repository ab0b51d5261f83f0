#!/bin/sh
# Class Data Sharing archive for a faster start (README: Quick start). Run from the repository
# root after `mvn -q -DskipTests package`; rerun after every build (the archive belongs to the
# exact jars it was made from; a stale one is refused by the JVM, which then starts without it).
#
#   target/app/crlm-ablation-cds.jar + target/app/lib/   the jar extracted (CDS reads plain jars)
#   target/app/app.jsa                                    the archive of the classes start-up loads
#
# Start with: java -XX:SharedArchiveFile=target/app/app.jsa -jar "$PWD/target/app/crlm-ablation-cds.jar"
# (the jar named by the same absolute path as here; otherwise the JVM starts without the archive).
#
# The class list comes from one start on a throwaway H2 database that stops once the
# application context is up. Java 17 crashes while archiving lambda proxy classes
# (SystemDictionaryShared::adjust_lambda_proxy_class_dictionary), so those lines are left out.
set -eu
jar=target/crlm-ablation-cds.jar
app="$PWD/target/app"
[ -f "$jar" ] || { echo "Build the jar first: mvn -q -DskipTests package" >&2; exit 1; }
rm -rf "$app"
java -Djarmode=tools -jar "$jar" extract --destination "$app"
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
java -XX:DumpLoadedClassList="$app/classes-loaded.lst" -Dspring.context.exit=onRefresh \
    -jar "$app/crlm-ablation-cds.jar" --server.port=0 --crlm.data-dir="$data" >"$app/training.log" 2>&1 || true
[ -s "$app/classes-loaded.lst" ] || { echo "The training start failed: see $app/training.log" >&2; exit 1; }
grep -v '^@lambda-proxy\|^@lambda-form-invoker' "$app/classes-loaded.lst" >"$app/classes.lst"
java -Xshare:dump -XX:SharedClassListFile="$app/classes.lst" -XX:SharedArchiveFile="$app/app.jsa" \
    -Xlog:cds=off -cp "$app/crlm-ablation-cds.jar" >"$app/dump.log" 2>&1
echo "Start with: java -XX:SharedArchiveFile=$app/app.jsa -jar $app/crlm-ablation-cds.jar"
