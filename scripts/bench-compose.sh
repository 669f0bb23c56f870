#!/usr/bin/env bash
# One compose project three ways, side by side: the compose CLI, the ComposeProject
# node, and the imported typed-node blueprint. Bootstrap, then bench/compose.py.
# Arguments go to bench/compose.py, e.g. scripts/bench-compose.sh --repeats 5 --json out.json
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$REPO/scripts/bootstrap.sh"
exec "$REPO/.venv/bin/python" "$REPO/bench/compose.py" "$@"
