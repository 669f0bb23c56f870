#!/usr/bin/env bash
# Lint and test the plugin: bootstrap the machine, then ruff, mypy, then pytest.
#   scripts/test.sh            the whole suite (what .ci/run runs)
#   scripts/test.sh --quick    the unit tier and the engine smoke set (-m "unit or smoke"),
#                              a few minutes: the loop while developing
# Other arguments go to pytest, e.g. scripts/test.sh -x -k network tests/unit, or
# scripts/test.sh -m "not slow and not swarm" (markers: pyproject.toml, README.rst).
# With $CI set (non-empty), tests fail instead of skipping when no engine answers.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

quick=
args=()
for arg in "$@"; do
    if [ "$arg" = --quick ]; then
        quick=1
    else
        args+=("$arg")
    fi
done
if [ -n "$quick" ]; then
    args=(-m 'unit or smoke' ${args[@]+"${args[@]}"})
fi

bash "$REPO/scripts/bootstrap.sh"

if [ -n "${CI:-}" ]; then
    export DOCKER_PLUGIN_REQUIRE_ENGINE=1
fi

echo '[test] ruff check .'
"$REPO/.venv/bin/ruff" check .

echo '[test] mypy (docker_plugin)'
"$REPO/.venv/bin/mypy"

echo "[test] python -m pytest ${args[*]+"${args[*]}"}"
exec "$REPO/.venv/bin/python" -m pytest ${args[@]+"${args[@]}"}
