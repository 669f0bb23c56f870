#!/usr/bin/env bash
# A local registry for blueprints/registry-pipeline.yaml: Debian's docker-registry
# on 127.0.0.1:5055 with htpasswd auth (user demo, password demo-registry-password,
# as in blueprints/inputs/registry-pipeline.yaml). The engine pushes to and pulls
# from loopback registries without TLS configuration.
#
#   bash scripts/local-registry.sh start    # (idempotent) start it in the background
#   bash scripts/local-registry.sh stop     # stop it and remove its data
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$REPO/.cache/local-registry"
ADDR=127.0.0.1:5055
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

answers() { curl -s -o /dev/null -w '%{http_code}' "http://$ADDR/v2/" 2>/dev/null | grep -q 401; }

case "${1:-}" in
start)
    if answers; then echo "[registry] already answering on $ADDR"; exit 0; fi
    command -v docker-registry >/dev/null || { echo "run scripts/bootstrap.sh first" >&2; exit 1; }
    mkdir -p "$WORK/data"
    htpasswd -Bbn demo demo-registry-password >"$WORK/htpasswd"
    cat >"$WORK/config.yml" <<CONFIG
version: 0.1
log: {level: warn}
storage:
  filesystem: {rootdirectory: $WORK/data}
  delete: {enabled: true}
http: {addr: $ADDR}
auth:
  htpasswd: {realm: docker-plugin-demo, path: $WORK/htpasswd}
CONFIG
    setsid nohup docker-registry serve "$WORK/config.yml" </dev/null >"$WORK/registry.log" 2>&1 &
    echo $! >"$WORK/pid"
    for _ in $(seq 1 100); do
        if answers; then echo "[registry] answering on $ADDR"; exit 0; fi
        sleep 0.1
    done
    echo "[registry] did not answer in 10 s; see $WORK/registry.log" >&2
    exit 1
    ;;
stop)
    if [ -s "$WORK/pid" ]; then kill "$(cat "$WORK/pid")" 2>/dev/null || true; fi
    rm -rf "$WORK"
    echo "[registry] stopped"
    ;;
*)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
