#!/usr/bin/env bash
# Swarm services through the plugin against the docker CLI on a three-engine swarm
# built on this machine: bootstrap, then bench/swarm.py (which builds and removes
# the swarm). Arguments go to bench/swarm.py, e.g.
#   scripts/bench-swarm.sh --replicas 10 --repeats 3 --json out.json
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$REPO/scripts/bootstrap.sh"
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
exec "$REPO/.venv/bin/python" "$REPO/bench/swarm.py" "$@"
