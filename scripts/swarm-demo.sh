#!/usr/bin/env bash
# A Docker Swarm of three engines on this one machine, driven by blueprints/swarm.yaml
# through the local `cfy` CLI:
#
#   1. tests/helpers/swarm.py builds three dockerd's, each in a network namespace of
#      its own (10.252.T.10-12) on a hub bridge, and a registry they all reach
#      (10.252.T.1:5000); the web image is pushed there;
#   2. cfy install: the first engine initialises the swarm, the second joins as a
#      manager, the third as a worker; an overlay network, a secret, a config and a
#      web service of one task per engine (host-mode port 8080);
#   3. the page is fetched from every engine; the config gets a new value (a new
#      config object; the service rolls over to it); the service scales to 2;
#   4. cfy uninstall: everything is removed and the engines leave the swarm;
#   5. the engines, namespaces and registry are removed (also when a step failed).
#
# cfy keeps its state in $REPO/.cfy-work-swarm. Never pipe cfy's output through
# `head`: cfy hangs once its stdout closes.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

BP_ID=docker-plugin-swarm-demo
BLUEPRINT="$REPO/blueprints/swarm.yaml"
TYPES_URL=http://cloudify.co/spec/cloudify/7.0.0/types.yaml
TYPES_FILE="file://$REPO/blueprints/types/cloudify-local-types.yaml"
RETRIES=(--task-retries 10 --task-retry-interval 1)
LAB_DIR="$REPO/.cache/swarm-demo"

log() { printf '[swarm-demo] %s\n' "$*"; }
die() { printf '[swarm-demo] ERROR: %s\n' "$*" >&2; exit 1; }

bash "$REPO/scripts/bootstrap.sh"
[ "$(id -u)" = 0 ] || die "network namespaces and extra engines need root"

export CFY_WORKDIR="$REPO/.cfy-work-swarm"
CFY="$REPO/.venv/bin/cfy"
PY="$REPO/.venv/bin/python"
LOCAL_STATE="$CFY_WORKDIR/.cloudify/profiles/local"

# ------------------------------------------------------------ the engines
INSTALLED=0
on_exit() {
    local rc=$?
    if [ "$INSTALLED" = 1 ]; then
        printf '[swarm-demo] failed (exit %s): uninstalling (best effort)\n' "$rc" >&2
        "$CFY" uninstall -b "$BP_ID" -p ignore_failure=true "${RETRIES[@]}" >/dev/null 2>&1 ||
            printf '[swarm-demo] best-effort uninstall failed too\n' >&2
        rm -rf "$LOCAL_STATE/blueprints/$BP_ID" "$LOCAL_STATE/deployments/$BP_ID"
    fi
    log "removing the engines, namespaces and registry"
    "$PY" "$REPO/tests/helpers/swarm.py" down --dir "$LAB_DIR" || true
    exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "three engines and a registry (tests/helpers/swarm.py up)"
mkdir -p "$LAB_DIR"
"$PY" "$REPO/tests/helpers/swarm.py" up --dir "$LAB_DIR" >/dev/null
read -r TAG < <("$PY" -c '
import json, sys
print(json.load(open(sys.argv[1]))["tag"])' "$LAB_DIR/lab.json")
E0="10.252.$TAG.10"; E1="10.252.$TAG.11"; E2="10.252.$TAG.12"

log "engines at $E0, $E1, $E2"

# --------------------------------------------------------- the cfy profile
mkdir -p "$CFY_WORKDIR"
[ -d "$CFY_WORKDIR/.cloudify" ] || "$CFY" init >/dev/null
"$PY" - "$CFY_WORKDIR/.cloudify/config.yaml" "$TYPES_URL" "$TYPES_FILE" <<'PYEOF'
import sys

import yaml

path, url, target = sys.argv[1:4]
with open(path, encoding='utf-8') as f:
    cfg = yaml.safe_load(f) or {}
cfg['import_resolver'] = {'parameters': {'rules': [{url: target}]}}
with open(path, 'w', encoding='utf-8') as f:
    yaml.safe_dump(cfg, f, default_flow_style=False, sort_keys=False)
PYEOF
rm -rf "$LOCAL_STATE/blueprints/$BP_ID" "$LOCAL_STATE/deployments/$BP_ID"

INPUTS="$LAB_DIR/inputs.json"
log "the web image pushed to the engines' registry; inputs for swarm.yaml"
"$PY" "$REPO/tests/helpers/swarm.py" inputs --dir "$LAB_DIR" >"$INPUTS"

# ---------------------------------------------------------------- install
log "cfy install blueprints/swarm.yaml -b $BP_ID"
INSTALLED=1
"$CFY" install "$BLUEPRINT" -b "$BP_ID" -i "$INPUTS" "${RETRIES[@]}"
"$CFY" deployments outputs -b "$BP_ID"

page() {  # page ADDRESS WANT: the page an engine serves (waits for WANT, bounded)
    local i out=''
    for i in $(seq 1 60); do
        out="$(curl -fsS --max-time 3 "http://$1:8080/" 2>/dev/null || true)"
        [ "$out" = "$2" ] && break
        sleep 0.5
    done
    printf '%s' "$out"
}
for address in "$E0" "$E1" "$E2"; do
    got="$(page "$address" 'hello from the swarm')"
    log "GET http://$address:8080/ -> $got"
    [ "$got" = 'hello from the swarm' ] || die "engine $address did not serve the page"
done

log "a new value for the config: a new object, and the service rolls over to it"
"$CFY" executions start execute_operation -b "$BP_ID" -p '{"operation": "cloudify.interfaces.lifecycle.update", "node_ids": ["page"], "operation_kwargs": {"data": "hello again"}}'
for address in "$E0" "$E1" "$E2"; do
    got="$(page "$address" 'hello again')"
    log "GET http://$address:8080/ -> $got"
    [ "$got" = 'hello again' ] || die "engine $address did not serve the new page"
done

log "scale the service to 2 tasks (the docker_service_scale workflow)"
"$CFY" executions start docker_service_scale -b "$BP_ID" -p '{"operation_kwargs": {"replicas": 2}}'
"$CFY" executions start docker_service_ps -b "$BP_ID"

# -------------------------------------------------------------- uninstall
log "cfy uninstall -b $BP_ID"
"$CFY" uninstall -b "$BP_ID" "${RETRIES[@]}"
INSTALLED=0
for address in "$E0" "$E1" "$E2"; do
    state="$(docker -H "tcp://$address:2375" info --format '{{.Swarm.LocalNodeState}}')"
    [ "$state" = inactive ] || die "engine $address is still in a swarm ($state)"
done
log "OK: swarm formed, served, updated, scaled, removed; every engine left the swarm"
