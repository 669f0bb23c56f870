#!/usr/bin/env bash
# Build the plugin's wagon (the archive a Cloudify manager installs) and prove it
# installs as a manager installs it: `wagon install` into a fresh venv that holds
# only what a management worker has (cloudify-common 7.0.5), where every
# operation of every plugin yaml must import, and so must every module the
# plugin imports anywhere (inside functions too: scripts/wagon_check.py).
#
#   bash scripts/wagon.sh [--engine] [OUTPUT_DIR]        (default: .cache/wagon)
#
# With --engine it also runs a ComposeProject whose definition is YAML text
# through its lifecycle in that venv, one process per operation, against the
# engine of DOCKER_HOST (default: the local socket): what a manager reads YAML
# with must be in the wagon.
#
# Then, on a manager:  cfy plugins upload OUTPUT_DIR/<name>.wgn -y plugin_1_5.yaml
# The wagon is built from a copy of the tracked files, from another directory
# (setup.py does not depend on the working directory). Needs PyPI for the
# dependencies' wheels (and for cloudify-common in the check venv).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ENGINE=0
if [ "${1:-}" = --engine ]; then ENGINE=1; shift; fi
OUT="${1:-$REPO/.cache/wagon}"
VENV_PY="$REPO/.venv/bin/python"
[ -x "$VENV_PY" ] || { echo "[wagon] run scripts/bootstrap.sh first" >&2; exit 1; }

rm -rf "$OUT"
mkdir -p "$OUT/src"
git -C "$REPO" ls-files -z | (cd "$REPO" && xargs -0 cp --parents -t "$OUT/src")
cd /
echo "[wagon] wagon create (from $(pwd))"
"$REPO/.venv/bin/wagon" create "$OUT/src" -o "$OUT" -f >"$OUT/create.log" 2>&1 ||
    { tail -n 30 "$OUT/create.log" >&2; exit 1; }
WAGON="$(ls "$OUT"/*.wgn)"
echo "[wagon] built $(basename "$WAGON") ($(du -h "$WAGON" | cut -f1))"
case "$(basename "$WAGON")" in
    cloudify_docker_plugin-*) ;;
    *) echo "[wagon] the wagon has no proper name: $WAGON" >&2; exit 1 ;;
esac

echo "[wagon] a manager-like venv: cloudify-common 7.0.5 only"
python3 -m venv "$OUT/manager-venv"
"$OUT/manager-venv/bin/pip" install -q 'cloudify-common==7.0.5' >"$OUT/venv.log" 2>&1 ||
    { tail -n 30 "$OUT/venv.log" >&2; exit 1; }
echo "[wagon] wagon install"
"$OUT/manager-venv/bin/wagon" install "$WAGON" >"$OUT/install.log" 2>&1 ||
    { tail -n 30 "$OUT/install.log" >&2; exit 1; }
echo "[wagon] every operation of every plugin yaml imports there"
"$VENV_PY" - "$REPO" >"$OUT/operations.txt" <<'PY'
import sys
from pathlib import Path
import yaml
repo = Path(sys.argv[1])
found = set()
for name in ('plugin.yaml', 'v2_plugin.yaml', 'plugin_1_4.yaml', 'plugin_1_5.yaml'):
    doc = yaml.safe_load((repo / name).read_text())
    sections = list(doc['node_types'].values()) + [
        {'interfaces': r.get(side) or {}}
        for r in doc['relationships'].values() for side in ('source_interfaces', 'target_interfaces')]
    for section in sections:
        for interface in (section.get('interfaces') or {}).values():
            for op in interface.values():
                found.add(op['implementation'] if isinstance(op, dict) else op)
print('\n'.join(sorted(found)))
PY
"$OUT/manager-venv/bin/python" "$REPO/scripts/wagon_check.py" imports "$OUT/operations.txt"
if [ "$ENGINE" = 1 ]; then
    echo "[wagon] a ComposeProject with a YAML definition, on the engine, in that venv"
    "$OUT/manager-venv/bin/python" "$REPO/scripts/wagon_check.py" compose \
        "wagon-check-$(date +%s)-$$" | tee "$OUT/compose.json"
fi
echo "[wagon] ok: $WAGON"
