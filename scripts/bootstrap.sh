#!/usr/bin/env bash
# Make this machine ready to run the docker plugin's tests and demo.
#
# Idempotent: on a ready machine it only checks things (about a second).
# On a fresh Debian 12 machine (as root) it installs and starts what is missing:
#   - a Docker engine answering on /var/run/docker.sock (docker.io, dockerd
#     started in the background; there is no systemd here),
#   - the Debian tools the tests use (busybox-static, docker-registry,
#     apache2-utils, openssl, iproute2, curl, openssh-server: its sshd serves
#     the ssh:// test host, inside a network namespace; it is never started here
#     as a service),
#   - the Python venv $REPO/.venv with the plugin (editable) and dev requirements,
#   - the local base image docker-plugin/busybox:latest (built FROM scratch;
#     nothing is ever pulled),
#   - $REPO/.cache/busybox-rootfs.tar, a rootfs for `docker import` tests.
#
# Environment:
#   DOCKER_PLUGIN_SKIP_APT=1   never run apt-get (missing things become errors
#                              or warnings instead)
#   DOCKER_HOST                if set, that engine is used as is (it must
#                              answer; nothing is started for it)
#   DOCKERD_ARGS               extra arguments for a dockerd this script starts
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# dockerd and ip live in sbin, which non-login root shells may lack.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

BASE_IMAGE=docker-plugin/busybox:latest
# Bump when the image's content changes: an older image is rebuilt.
BASE_VERSION=3
BASE_LABEL=io.github.docker-plugin.base=$BASE_VERSION
DEFAULT_SOCK=/var/run/docker.sock
DOCKERD_PIDFILE=/var/run/docker.pid
ENGINE_WAIT_SECONDS=60
VENV="$REPO/.venv"
STAMP="$VENV/.bootstrap-stamp"
CACHE="$REPO/.cache"
ROOTFS_TAR="$CACHE/busybox-rootfs.tar"
SKIP_APT="${DOCKER_PLUGIN_SKIP_APT:-0}"

log() { printf '[bootstrap] %s\n' "$*"; }
warn() { printf '[bootstrap] WARNING: %s\n' "$*" >&2; }
die() { printf '[bootstrap] ERROR: %s\n' "$*" >&2; exit 1; }

mkdir -p "$CACHE"
# Two bootstraps at once (say test.sh and demo.sh) would race on dockerd,
# pip and the image build: serialise them.
exec 9>"$CACHE/.bootstrap.lock"
flock 9

# ---------------------------------------------------------------- helpers
docker_answers() {
    command -v docker >/dev/null 2>&1 || return 1
    if [ -n "${DOCKER_HOST:-}" ]; then
        timeout 20 docker info >/dev/null 2>&1
    else
        timeout 20 docker --host "unix://$DEFAULT_SOCK" info >/dev/null 2>&1
    fi
}

can_apt() {
    [ "$SKIP_APT" != 1 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1
}

APT_UPDATED=0
apt_install() {  # apt_install PKG...: one update (at most once per run) + one install
    [ "$#" -gt 0 ] || return 0
    export DEBIAN_FRONTEND=noninteractive
    if [ "$APT_UPDATED" = 0 ]; then
        log "apt-get update"
        apt-get update -q >/dev/null || die "apt-get update failed"
        APT_UPDATED=1
    fi
    # No package may start a service on this machine (openssh-server would start
    # sshd on port 22): Debian's policy-rc.d says no, for this install only.
    local policy=/usr/sbin/policy-rc.d made_policy=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 0755 "$policy" && made_policy=1
    fi
    log "apt-get install $*"
    if ! apt-get install -y -q "$@" >/dev/null; then
        [ "$made_policy" = 0 ] || rm -f "$policy"
        die "apt-get install $* failed"
    fi
    [ "$made_policy" = 0 ] || rm -f "$policy"
}

is_static() {  # is_static FILE: true for a statically linked ELF (ldd is always there)
    local out
    [ -x "$1" ] || return 1
    out="$(ldd "$1" 2>&1 || true)"
    case "$out" in
        *"not a dynamic executable"* | *"statically linked"*) return 0 ;;
        *) return 1 ;;
    esac
}

find_static_busybox() {  # prints the path of a static busybox, if any
    local c
    for c in /bin/busybox /usr/bin/busybox "$(command -v busybox 2>/dev/null || true)"; do
        if [ -n "$c" ] && is_static "$c"; then
            printf '%s\n' "$c"
            return 0
        fi
    done
    return 1
}

dockerd_pid_alive() {  # true if the pid file names a live dockerd
    local pid
    [ -s "$DOCKERD_PIDFILE" ] || return 1
    pid="$(cat "$DOCKERD_PIDFILE" 2>/dev/null || true)"
    [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm")" = dockerd ]
}

start_dockerd() {
    local logfile pid deadline
    command -v dockerd >/dev/null 2>&1 ||
        die "no Docker engine answers on $DEFAULT_SOCK and dockerd is not installed (install docker.io, or unset DOCKER_PLUGIN_SKIP_APT and run as root)"
    [ "$(id -u)" = 0 ] || die "no Docker engine answers on $DEFAULT_SOCK, and starting dockerd needs root"

    if dockerd_pid_alive; then
        pid="$(cat "$DOCKERD_PIDFILE")"
        log "dockerd (pid $pid) is running but not answering yet; waiting for it"
    else
        if [ -e "$DOCKERD_PIDFILE" ]; then
            log "removing stale $DOCKERD_PIDFILE"
            rm -f "$DOCKERD_PIDFILE"
        fi
        if [ -d /var/log ] && [ -w /var/log ]; then
            logfile=/var/log/docker-plugin-dockerd.log
        else
            logfile="${TMPDIR:-/tmp}/docker-plugin-dockerd.log"
        fi
        log "starting dockerd in the background (log: $logfile)"
        # New session, and none of our fds: it outlives this script, a caller
        # piping our output does not wait for dockerd to close the pipe, and
        # it must not inherit fd 9 (it would hold the bootstrap lock forever).
        # shellcheck disable=SC2086  # DOCKERD_ARGS is a word list on purpose
        setsid nohup dockerd ${DOCKERD_ARGS:-} </dev/null >>"$logfile" 2>&1 9>&- &
        pid=$!
    fi

    deadline=$((SECONDS + ENGINE_WAIT_SECONDS))
    while ((SECONDS < deadline)); do
        if docker_answers; then
            log "dockerd is up"
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null && ! dockerd_pid_alive; then
            if [ -n "${logfile:-}" ]; then tail -n 20 "$logfile" >&2 || true; fi
            die "dockerd exited during start-up${logfile:+ (see $logfile)}"
        fi
        sleep 0.5
    done
    die "dockerd did not answer on $DEFAULT_SOCK within ${ENGINE_WAIT_SECONDS}s${logfile:+ (see $logfile)}"
}

# ------------------------------------------- 1. what is missing (one apt run)
ENGINE_UP=0
if docker_answers; then
    ENGINE_UP=1
elif [ -n "${DOCKER_HOST:-}" ]; then
    die "DOCKER_HOST=$DOCKER_HOST does not answer 'docker info' (unset it to use/start the engine on $DEFAULT_SOCK)"
fi

PKGS=()
MISSING_NO_APT=()
want() {  # want PACKAGE REASON
    if can_apt; then PKGS+=("$1"); else MISSING_NO_APT+=("$1 ($2)"); fi
}
if [ "$ENGINE_UP" = 0 ] && { ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; }; then
    want docker.io "Docker engine"
fi
find_static_busybox >/dev/null || want busybox-static "static busybox"
command -v docker-registry >/dev/null 2>&1 || want docker-registry "docker-registry"
command -v htpasswd >/dev/null 2>&1 || want apache2-utils "htpasswd"
command -v openssl >/dev/null 2>&1 || want openssl "openssl"
command -v ip >/dev/null 2>&1 || want iproute2 "ip"
command -v curl >/dev/null 2>&1 || want curl "curl"
[ -x /usr/sbin/sshd ] || want openssh-server "sshd, for the ssh:// test host"
command -v python3 >/dev/null 2>&1 || want python3 "python3"
if [ ! -x "$VENV/bin/python" ] && ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
    want python3-venv "python3 -m venv"
fi

if [ "${#PKGS[@]}" -gt 0 ]; then
    apt_install "${PKGS[@]}"
fi
if [ "${#MISSING_NO_APT[@]}" -gt 0 ]; then
    warn "missing and not installed (apt skipped or not root): ${MISSING_NO_APT[*]}"
fi

# ------------------------------------------------------------- 2. the engine
if [ "$ENGINE_UP" = 1 ]; then
    log "Docker engine answers${DOCKER_HOST:+ at $DOCKER_HOST}"
else
    start_dockerd
fi
if [ -z "${DOCKER_HOST:-}" ]; then
    export DOCKER_HOST="unix://$DEFAULT_SOCK"
fi

# --------------------------------------------------------------- 3. the venv
command -v python3 >/dev/null 2>&1 || die "python3 is missing"
if [ -e "$VENV" ] && ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    log "removing broken venv $VENV"
    rm -rf "$VENV"
fi
if [ ! -x "$VENV/bin/python" ]; then
    log "creating venv $VENV"
    python3 -m venv "$VENV" || die "python3 -m venv failed (is python3-venv installed?)"
fi
[ -f "$REPO/README.rst" ] || die "README.rst is missing, and setup.py reads it"
want_stamp="$(cat "$REPO/setup.py" "$REPO/requirements-dev.txt" | sha256sum | cut -d' ' -f1)"
have_stamp="$(cat "$STAMP" 2>/dev/null || true)"
if [ "$want_stamp" = "$have_stamp" ]; then
    log "venv is up to date"
else
    log "pip install -e . -r requirements-dev.txt (into .venv)"
    rm -f "$STAMP"
    (cd "$REPO" && "$VENV/bin/pip" install -q -e . -r requirements-dev.txt) || die "pip install failed"
    printf '%s\n' "$want_stamp" >"$STAMP"
fi

# ---------------------------------------------------------- 4. busybox image
BUSYBOX="$(find_static_busybox)" || die "no statically linked busybox found (install busybox-static)"

have_version="$(docker image inspect -f '{{index .Config.Labels "io.github.docker-plugin.base"}}' \
    "$BASE_IMAGE" 2>/dev/null || true)"
if [ "$have_version" = "$BASE_VERSION" ]; then
    log "image $BASE_IMAGE exists"
else
    log "building $BASE_IMAGE from scratch with $BUSYBOX"
    ctx="$(mktemp -d)"
    cp "$BUSYBOX" "$ctx/busybox"
    # A static glibc busybox resolves host names (ping, wget, nc to a network
    # alias) by loading glibc's NSS modules at run time: give it the host's.
    mkdir -p "$ctx/rootfs"
    libc="$(ldconfig -p | awk '/^[[:space:]]*libc\.so\.6 /{print $NF; exit}')"
    libdir="$(dirname "$libc")"
    for lib in "$libdir"/libc.so.6 "$libdir"/libnss_dns.so.2 "$libdir"/libnss_files.so.2 \
        "$libdir"/libresolv.so.2 /lib64/ld-linux-*.so.* "$libdir"/ld-linux-*.so.*; do
        [ -e "$lib" ] || continue
        mkdir -p "$ctx/rootfs$(dirname "$lib")"
        cp -L "$lib" "$ctx/rootfs$lib"
    done
    mkdir -p "$ctx/rootfs/etc"
    printf 'hosts: files dns\n' >"$ctx/rootfs/etc/nsswitch.conf"
    cat >"$ctx/Dockerfile" <<EOF
FROM scratch
COPY busybox /bin/busybox
COPY rootfs/ /
RUN ["/bin/busybox", "--install", "-s", "/bin"]
RUN ["/bin/busybox", "sh", "-c", "mkdir -p /tmp /root /etc /var && chmod 1777 /tmp"]
LABEL $BASE_LABEL
CMD ["sh"]
EOF
    # The classic builder works with every CLI/engine pairing here (a newer
    # CLI without the buildx plugin, or an old engine); nothing is pulled.
    if ! out="$(DOCKER_BUILDKIT=0 docker build -q -t "$BASE_IMAGE" "$ctx" 2>&1)"; then
        rm -rf "$ctx"
        printf '%s\n' "$out" >&2
        die "docker build of $BASE_IMAGE failed"
    fi
    rm -rf "$ctx"
fi

# ------------------------------------------------------ 5. rootfs tarball
if [ -s "$ROOTFS_TAR" ]; then
    log "rootfs tarball exists: ${ROOTFS_TAR#"$REPO"/}"
else
    log "writing ${ROOTFS_TAR#"$REPO"/}"
    work="$(mktemp -d)"
    mkdir -p "$work/root/bin" "$work/root/tmp" "$work/root/etc" \
        "$work/root/proc" "$work/root/sys" "$work/root/dev"
    chmod 1777 "$work/root/tmp"
    cp "$BUSYBOX" "$work/root/bin/busybox"
    chmod 0755 "$work/root/bin/busybox"
    for applet in $("$BUSYBOX" --list); do
        [ "$applet" = busybox ] || ln -s busybox "$work/root/bin/$applet"
    done
    tar -C "$work/root" --numeric-owner --owner=0 --group=0 -cf "$work/rootfs.tar" .
    mv "$work/rootfs.tar" "$ROOTFS_TAR"
    rm -rf "$work"
fi

# The same tarball beside the blueprints, for blueprints/inputs/seed-example.yaml
# (a blueprint's resources travel with it; the cfy CLI copies them).
if ! cmp -s "$ROOTFS_TAR" "$REPO/blueprints/resources/busybox-rootfs.tar" 2>/dev/null; then
    cp "$ROOTFS_TAR" "$REPO/blueprints/resources/busybox-rootfs.tar"
fi

# ------------------------------------------------------------------ summary
engine_version="$(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?')"
docker image inspect "$BASE_IMAGE" >/dev/null 2>&1 || die "image $BASE_IMAGE is missing after the build"
log "ready: Docker engine $engine_version, image $BASE_IMAGE present, venv .venv, rootfs ${ROOTFS_TAR#"$REPO"/}"
