#!/usr/bin/env bash
# The plugin's cost over the raw engine: bootstrap, then bench/run.py.
# Arguments go to bench/run.py, e.g. scripts/bench.sh --sizes 1,10 --threads 4 --json out.json
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$REPO/scripts/bootstrap.sh"
exec "$REPO/.venv/bin/python" "$REPO/bench/run.py" "$@"
