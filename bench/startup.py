"""What each operation costs before it reaches the engine, one process per operation.

On a manager, every operation is a fresh Python process (cloudify.dispatch in
a subprocess): nothing the plugin could cache survives. For each operation
this starts a new interpreter (of ``--python``: the repo's venv, or the
manager-like venv ``scripts/wagon.sh`` installs the wagon into), which
imports ``cloudify.dispatch`` and the operation's module, then runs the
operation until its first Engine API request, and reports:

* from the process's start to that first request (goal <= 0.2 s);
* the import of ``cloudify.dispatch`` (what every operation pays anyway);
* the plugin's own import on top of it (goal <= 25 ms).

The median of ``--repeats`` runs is printed. No test asserts a time.

    python bench/startup.py [--python .cache/wagon/manager-venv/bin/python] [--repeats 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
IMAGE = 'docker-plugin/busybox:latest'
# operation -> (module, function, inputs, runtime properties)
OPERATIONS = {
    'create': ('docker_plugin.tasks', 'create', {'container_config': {'image': IMAGE}}, {}),
    'configure': ('docker_plugin.tasks', 'configure',
                  {'container_config': {'image': IMAGE, 'command': 'true'}}, {'image': IMAGE}),
    'run (start)': ('docker_plugin.tasks', 'run', {}, {'container_id': 'f' * 64}),
    'stop': ('docker_plugin.tasks', 'stop', {}, {'container_id': 'f' * 64}),
    'delete': ('docker_plugin.tasks', 'delete', {}, {'container_id': 'f' * 64}),
    'exec (action)': ('docker_plugin.tasks.container.commands', 'exec_command',
                      {'command': 'true'}, {'container_id': 'f' * 64}),
}
CHILD = r'''
import json, os, sys, time
started = float(sys.argv[1])
module_name, function, inputs, runtime = json.loads(sys.argv[2])
t0 = time.perf_counter()
import cloudify.dispatch  # noqa: F401 - what every operation on a manager imports
t1 = time.perf_counter()
import importlib
operation = getattr(importlib.import_module(module_name), function)
t2 = time.perf_counter()
import requests

def first_request(session, request, **kwargs):
    print(json.dumps({'first_request': time.time() - started, 'dispatch_import': t1 - t0,
                      'plugin_import': t2 - t1}), flush=True)
    os._exit(0)

requests.Session.send = first_request
from cloudify.mocks import MockCloudifyContext
from cloudify.state import current_ctx
ctx = MockCloudifyContext(node_id='c_x', node_name='c', deployment_id='bench', properties={},
                          runtime_properties=runtime,
                          operation={'name': 'op', 'retry_number': 0, 'max_retries': 0})
current_ctx.set(ctx)
operation(ctx=ctx, **inputs)
print(json.dumps({'error': 'the operation ended without an engine request'}))
'''


def measure(python: str, name: str) -> dict[str, float]:
    module, function, inputs, runtime = OPERATIONS[name]
    started = time.time()
    out = subprocess.run([python, '-c', CHILD, repr(started),
                          json.dumps([module, function, inputs, runtime])],
                         capture_output=True, text=True, timeout=120, cwd='/')
    for line in out.stdout.splitlines():
        if line.startswith('{'):
            found = json.loads(line)
            if 'error' in found:
                raise RuntimeError(f'{name}: {found["error"]}')
            return found
    raise RuntimeError(f'{name}: no measurement\n{out.stdout[-1000:]}\n{out.stderr[-2000:]}')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--python', type=lambda p: str(Path(p).absolute()),
                        default=str(REPO / '.venv' / 'bin' / 'python'),
                        help='the interpreter of the venv to measure (default: the repo venv)')
    parser.add_argument('--repeats', type=int, default=7)
    args = parser.parse_args(argv)
    print(f'interpreter {args.python}; median of {args.repeats} fresh processes per operation')
    print(f"{'operation':<16} {'start -> first request ms':>26} {'dispatch import ms':>19} "
          f"{'plugin import ms':>17}")
    worst_start = worst_import = 0.0
    for name in OPERATIONS:
        runs = [measure(args.python, name) for _ in range(args.repeats)]
        first = statistics.median(r['first_request'] for r in runs) * 1000
        dispatch = statistics.median(r['dispatch_import'] for r in runs) * 1000
        plugin = statistics.median(r['plugin_import'] for r in runs) * 1000
        worst_start, worst_import = max(worst_start, first), max(worst_import, plugin)
        print(f'{name:<16} {first:>26.0f} {dispatch:>19.0f} {plugin:>17.1f}')
    print(f'\nworst: {worst_start:.0f} ms to the first engine request (goal <= 200), '
          f'{worst_import:.1f} ms of plugin import over cloudify.dispatch (goal <= 25)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
