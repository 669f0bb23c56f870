#!/usr/bin/env bash
# Lint and test the plugin: bootstrap the machine, then ruff, mypy, then pytest.
# Extra arguments go to pytest, e.g. scripts/test.sh -x -k network tests/unit
# With $CI set (non-empty), tests fail instead of skipping when no engine answers.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

bash "$REPO/scripts/bootstrap.sh"

if [ -n "${CI:-}" ]; then
    export DOCKER_PLUGIN_REQUIRE_ENGINE=1
fi

echo '[test] ruff check .'
"$REPO/.venv/bin/ruff" check .

echo '[test] mypy (docker_plugin)'
"$REPO/.venv/bin/mypy"

echo "[test] python -m pytest $*"
exec "$REPO/.venv/bin/python" -m pytest "$@"
