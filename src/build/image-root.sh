#!/usr/bin/env bash
# Prepares what the container image adds on top of "scratch" (Jib copies it in as an extra
# directory; no base image is pulled from a registry):
#   /opt/java                 a JRE made by jlink from the build JDK (the modules below)
#   /lib, /lib64              the shared libraries that JRE loads (glibc, libstdc++, libgcc, zlib)
#   /etc/passwd, /etc/group   user and group crlm, 10001 (the image runs as 10001:10001)
#   /tmp                      scratch space (the only place the app writes)
# Usage: image-root.sh OUTPUT_DIR JAVA_HOME
set -euo pipefail

out=$1
java_home=$2

# What Spring Boot, HAPI FHIR (JPA, Hibernate), Tomcat, the CQL engine and the JDBC drivers use.
# java.desktop is there for java.beans; AWT's native libraries are left without their X11 and
# font dependencies (the server is headless and never draws).
modules=java.base,java.compiler,java.desktop,java.instrument,java.logging,java.management,java.naming
modules+=,java.net.http,java.prefs,java.rmi,java.scripting,java.security.jgss,java.security.sasl,java.sql
modules+=,java.transaction.xa,java.xml,java.xml.crypto,jdk.charsets,jdk.crypto.cryptoki,jdk.crypto.ec
modules+=,jdk.management,jdk.naming.dns,jdk.unsupported,jdk.xml.dom,jdk.zipfs
# Native libraries of the JRE that the server loads; their dependencies go into the image.
server_libs="bin/java lib/server/libjvm.so lib/libjava.so lib/libjli.so lib/libjimage.so lib/libzip.so
  lib/libnio.so lib/libnet.so lib/libverify.so lib/libmanagement.so lib/libmanagement_ext.so lib/libprefs.so
  lib/librmi.so lib/libj2gss.so lib/libj2pkcs11.so lib/libinstrument.so lib/libawt.so lib/libawt_headless.so"

stamp="$(sha256sum "$0" | cut -d' ' -f1) $("$java_home/bin/java" -version 2>&1 | tr '\n' ' ')"
if [[ -f "$out.stamp" && "$(cat "$out.stamp")" == "$stamp" ]]; then
  echo "image root up to date: $out"
  exit 0
fi
rm -rf "$out" "$out.stamp"
mkdir -p "$out/opt" "$out/etc" "$out/tmp"

if [[ ! -d "$java_home/jmods" ]]; then
  echo "No $java_home/jmods: jlink needs a full JDK 17 (Debian: openjdk-17-jdk-headless)" >&2
  exit 1
fi
# Uncompressed modules (the image layer is gzipped anyway; compressed modules start slower),
# plus the default class-data-sharing archive, as a JDK ships it.
"$java_home/bin/jlink" --module-path "$java_home/jmods" --add-modules "$modules" \
  --strip-debug --no-man-pages --no-header-files --output "$out/opt/java"
"$out/opt/java/bin/java" -Xshare:dump >/dev/null
# jlink links the per-module legal notices to java.base's copies: make them plain files.
find "$out/opt/java/legal" -type l | while read -r link; do
  cp --remove-destination "$(readlink -f "$link")" "$link"
done
# The operating system's CA certificates (Debian keeps them current), when the build host has them.
if [[ -f /etc/ssl/certs/java/cacerts ]]; then
  cp /etc/ssl/certs/java/cacerts "$out/opt/java/lib/security/cacerts"
fi

for lib in $server_libs; do
  ldd "$out/opt/java/$lib" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\/.*ld-linux/ { print $1 }'
done | sort -u | while read -r dependency; do
  case "$dependency" in "$out"/*) continue ;; esac
  mkdir -p "$out$(dirname "$dependency")"
  cp -L "$dependency" "$out$dependency"
done

cat > "$out/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/sbin/nologin
crlm:x:10001:10001:CRLM CDS:/app:/sbin/nologin
PASSWD
cat > "$out/etc/group" <<'GROUP'
root:x:0:
crlm:x:10001:
GROUP
echo "hosts: files dns" > "$out/etc/nsswitch.conf"

echo "$stamp" > "$out.stamp"
echo "image root prepared: $out ($(du -sh "$out" | cut -f1))"
