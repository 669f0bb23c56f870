#!/usr/bin/env bash
# The plugin's cost over the raw engine: bootstrap, then bench/run.py.
# Arguments go to bench/run.py, e.g. scripts/bench.sh --sizes 1,10 --threads 4 --json out.json
# scripts/bench.sh --memory runs bench/memory.py instead (RSS growth over 50 MB of output).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$REPO/scripts/bootstrap.sh"
if [ "${1:-}" = --memory ]; then
    shift
    exec "$REPO/.venv/bin/python" "$REPO/bench/memory.py" "$@"
fi
exec "$REPO/.venv/bin/python" "$REPO/bench/run.py" "$@"
