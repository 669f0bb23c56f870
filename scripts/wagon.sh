#!/usr/bin/env bash
# Build the plugin's wagon (the archive a Cloudify manager installs) and prove it
# installs as a manager installs it: `wagon install` into a fresh venv that holds
# only what a management worker has (cloudify-common 7.0.5), where every
# operation of every plugin yaml must import.
#
#   bash scripts/wagon.sh [OUTPUT_DIR]        (default: .cache/wagon)
#
# Then, on a manager:  cfy plugins upload OUTPUT_DIR/<name>.wgn -y plugin_1_5.yaml
# The wagon is built from a copy of the tracked files, from another directory
# (setup.py does not depend on the working directory). Needs PyPI for the
# dependencies' wheels (and for cloudify-common in the check venv).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
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
        {'interfaces': {**r.get('source_interfaces', {}), **r.get('target_interfaces', {})}}
        for r in doc['relationships'].values()]
    for section in sections:
        for interface in (section.get('interfaces') or {}).values():
            for op in interface.values():
                found.add(op['implementation'] if isinstance(op, dict) else op)
print('\n'.join(sorted(found)))
PY
"$OUT/manager-venv/bin/python" - "$REPO" "$OUT/operations.txt" <<'PY'
import importlib, sys
from pathlib import Path
repo, listed = Path(sys.argv[1]), Path(sys.argv[2]).read_text().split()
for mapping in listed:
    module, func = mapping.split('.', 1)[1].rsplit('.', 1)
    assert callable(getattr(importlib.import_module(module), func)), mapping
import docker_plugin
assert 'site-packages' in Path(docker_plugin.__file__).parts, docker_plugin.__file__
print(f'[wagon] {len(listed)} operations import from {Path(docker_plugin.__file__).parent}')
PY
echo "[wagon] ok: $WAGON"
