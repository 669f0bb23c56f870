#!/usr/bin/env bash
# Install, show and uninstall blueprints/demo.yaml with the local `cfy` CLI,
# then check that the deployment left no container, network or volume behind.
#
# Everything cfy keeps lives in $REPO/.cfy-work/.cloudify. The official types
# URL the blueprint imports is mapped to blueprints/types/cloudify-local-types.yaml
# by an import_resolver rule in its config.yaml, so no internet is needed.
#
# Environment: DEMO_BLUEPRINT overrides the blueprint path (default
# blueprints/demo.yaml); the blueprint id is always docker-plugin-demo.
# Never pipe cfy's output through `head`: cfy hangs once its stdout closes.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

BP_ID=docker-plugin-demo
BLUEPRINT="${DEMO_BLUEPRINT:-$REPO/blueprints/demo.yaml}"
TYPES_URL=http://cloudify.co/spec/cloudify/7.0.0/types.yaml
TYPES_FILE="file://$REPO/blueprints/types/cloudify-local-types.yaml"
RETRIES=(--task-retries 10 --task-retry-interval 1)

log() { printf '[demo] %s\n' "$*"; }
die() { printf '[demo] ERROR: %s\n' "$*" >&2; exit 1; }

bash "$REPO/scripts/bootstrap.sh"

export CFY_WORKDIR="$REPO/.cfy-work"
CFY="$REPO/.venv/bin/cfy"
PY="$REPO/.venv/bin/python"
LOCAL_STATE="$CFY_WORKDIR/.cloudify/profiles/local"
[ -f "$BLUEPRINT" ] || die "blueprint not found: $BLUEPRINT"
[ -x "$CFY" ] || die "$CFY is missing (did bootstrap fail?)"

# ------------------------------------------------------------ local profile
mkdir -p "$CFY_WORKDIR"
if [ ! -d "$CFY_WORKDIR/.cloudify" ]; then
    log "cfy init (local profile in $CFY_WORKDIR)"
    "$CFY" init
fi

# --------------------------------------- types URL -> local file (idempotent)
"$PY" - "$CFY_WORKDIR/.cloudify/config.yaml" "$TYPES_URL" "$TYPES_FILE" <<'PYEOF'
import os
import sys

import yaml

path, url, target = sys.argv[1:4]
cfg = {}
if os.path.exists(path):
    with open(path, encoding='utf-8') as f:
        cfg = yaml.safe_load(f) or {}
if not isinstance(cfg, dict):
    sys.exit(f'{path}: expected a mapping at the top level')

resolver = cfg.get('import_resolver') or {}
params = resolver.get('parameters') or {}
rules = list(params.get('rules') or [])
wanted = {url: target}
kept = [r for r in rules if not (isinstance(r, dict) and url in r)]
new_rules = kept + [wanted]
if new_rules != rules:
    params['rules'] = new_rules
    resolver['parameters'] = params
    cfg['import_resolver'] = resolver
    tmp = path + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        yaml.safe_dump(cfg, f, default_flow_style=False, sort_keys=False)
    os.replace(tmp, path)
    print(f'[demo] import_resolver rule set in {path}')
PYEOF

# ------------------------------------------------- leftovers of earlier runs
leftovers() {  # prints ids of docker objects labelled with this deployment
    local f="label=cloudify.deployment=$BP_ID"
    docker ps -aq --filter "$f"
    docker network ls -q --filter "$f"
    docker volume ls -q --filter "$f"
}

if [ -e "$LOCAL_STATE/blueprints/$BP_ID" ] || [ -e "$LOCAL_STATE/deployments/$BP_ID" ]; then
    log "state of an earlier run of $BP_ID found: uninstalling it (best effort)"
    "$CFY" uninstall -b "$BP_ID" "${RETRIES[@]}" || log "(earlier state could not be uninstalled; removing it)"
    rm -rf "$LOCAL_STATE/blueprints/$BP_ID" "$LOCAL_STATE/deployments/$BP_ID"
fi
if [ -n "$(leftovers)" ]; then
    die "Docker objects labelled cloudify.deployment=$BP_ID exist from an earlier run; remove them first:
  docker rm -f \$(docker ps -aq --filter label=cloudify.deployment=$BP_ID)
  docker network rm \$(docker network ls -q --filter label=cloudify.deployment=$BP_ID)
  docker volume rm \$(docker volume ls -q --filter label=cloudify.deployment=$BP_ID)"
fi

# ---------------------------------------------------- install/show/uninstall
INSTALLED=0
on_exit() {
    local rc=$?
    if [ "$rc" -ne 0 ] && [ "$INSTALLED" = 1 ]; then
        printf '[demo] failed (exit %s): uninstalling %s (best effort)\n' "$rc" "$BP_ID" >&2
        "$CFY" uninstall -b "$BP_ID" -p ignore_failure=true "${RETRIES[@]}" ||
            printf '[demo] best-effort uninstall failed too; state is in %s\n' "$CFY_WORKDIR" >&2
        # Failed before a deployment existed (bad mapping, bad input): drop the
        # half-made blueprint state, which would break every later install.
        if [ ! -e "$LOCAL_STATE/deployments/$BP_ID" ]; then
            rm -rf "$LOCAL_STATE/blueprints/$BP_ID"
        fi
    fi
    exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "cfy install ${BLUEPRINT#"$REPO"/} -b $BP_ID"
INSTALLED=1
"$CFY" install "$BLUEPRINT" -b "$BP_ID" "${RETRIES[@]}"

log "outputs of $BP_ID"
"$CFY" deployments outputs -b "$BP_ID"

# Only the demo blueprint publishes this URL; another DEMO_BLUEPRINT may not.
if [ "$BLUEPRINT" = "$REPO/blueprints/demo.yaml" ]; then
    log "GET http://127.0.0.1:18080/ -> $(curl -fsS --retry 5 --retry-connrefused --max-time 10 http://127.0.0.1:18080/)"
fi

log "cfy uninstall -b $BP_ID"
"$CFY" uninstall -b "$BP_ID" "${RETRIES[@]}"
INSTALLED=0

# ------------------------------------------------------- nothing left over
left="$(leftovers)"
if [ -n "$left" ]; then
    printf '[demo] ERROR: left behind after uninstall (label cloudify.deployment=%s):\n%s\n' "$BP_ID" "$left" >&2
    exit 1
fi
log "OK: installed, showed outputs, uninstalled; no container, network or volume left"
