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

Then, manager mode: a container's whole lifecycle (create, configure, run, stop,
delete) as five fresh processes against the real engine, the runtime properties
carried from one to the next as a manager's storage carries them, beside the raw
docker SDK doing the same essential work (image inspect, create, start, stop,
remove) as five fresh processes of the same interpreter: the median of
``--repeats`` lifecycles of each, their ratio, and the plugin's processes split
into ``cloudify.dispatch``'s import (what any operation pays) and the rest (the
plugin's share).

The plugin's modules are byte-compiled first (``compileall``), as installing the
wagon compiles them: an environment with ``PYTHONDONTWRITEBYTECODE`` set would
otherwise have every process compile them from source.

    python bench/startup.py [--python .cache/wagon/manager-venv/bin/python] [--repeats 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
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


LIFECYCLE = {  # operation -> inputs, as a seed-style blueprint gives them
    'create': {'container_config': {'image': IMAGE}},
    'configure': {'container_config': {'image': IMAGE, 'command': [
        'sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.2; done']}},
    'run': {},
    'stop': {'container_stop': {'timeout': 5}},
    'delete': {'container_stop': {'timeout': 5}},
}
OPERATION_PROCESS = r'''
import json, sys, time
t0 = time.perf_counter()
import cloudify.dispatch  # noqa: F401
t1 = time.perf_counter()
import importlib
state, deployment, function, inputs = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
operation = getattr(importlib.import_module('docker_plugin.tasks'), function)
from cloudify.mocks import MockCloudifyContext
from cloudify.state import current_ctx
with open(state) as f:
    runtime = json.load(f)
ctx = MockCloudifyContext(node_id='c_x', node_name='c', deployment_id=deployment,
                          blueprint_id=deployment, properties={}, runtime_properties=runtime,
                          operation={'name': function, 'retry_number': 0, 'max_retries': 0})
current_ctx.set(ctx)
operation(ctx=ctx, **inputs)
with open(state, 'w') as f:
    json.dump(dict(ctx.instance.runtime_properties), f)
print(json.dumps({'dispatch_import': t1 - t0}), flush=True)
'''
SDK_PROCESS = r'''
import json, sys
import docker
state, deployment, step = sys.argv[1], sys.argv[2], sys.argv[3]
with open(state) as f:
    recorded = json.load(f)
client = docker.APIClient(version='auto')
if step == 'create':
    client.inspect_image(IMAGE)
elif step == 'configure':
    recorded['id'] = client.create_container(IMAGE, COMMAND, name=f'{deployment}-sdk', labels={
        'cloudify.deployment': deployment})['Id']
elif step == 'run':
    client.start(recorded['id'])
elif step == 'stop':
    client.stop(recorded['id'], timeout=5)
else:
    client.remove_container(recorded['id'])
client.close()
with open(state, 'w') as f:
    json.dump(recorded, f)
'''.replace('IMAGE', repr(IMAGE)).replace('COMMAND', repr(
    LIFECYCLE['configure']['container_config']['command']))


def compile_plugin(python: str) -> None:
    """Byte-compile the plugin's package as the measured interpreter imports it."""
    where = subprocess.run([python, '-c', 'import docker_plugin, os; '
                            'print(os.path.dirname(docker_plugin.__file__))'],
                           capture_output=True, text=True, check=True, cwd='/').stdout.strip()
    subprocess.run([python, '-m', 'compileall', '-q', where], check=True,
                   capture_output=True, cwd='/')


def lifecycle(python: str, deployment: str, directory: Path) -> dict[str, float]:
    """One container lifecycle, five processes each way: seconds of the plugin's
    processes, of their cloudify.dispatch imports, of the SDK's processes."""
    found = {'plugin': 0.0, 'dispatch': 0.0, 'sdk': 0.0}
    for who, child in (('plugin', OPERATION_PROCESS), ('sdk', SDK_PROCESS)):
        state = directory / f'{deployment}-{who}.json'
        state.write_text('{}')
        for step, inputs in LIFECYCLE.items():
            started = time.perf_counter()
            out = subprocess.run([python, '-c', child, str(state), deployment, step,
                                  json.dumps(inputs)], capture_output=True, text=True,
                                 timeout=120, cwd='/')
            found[who] += time.perf_counter() - started
            if out.returncode:
                raise RuntimeError(f'{who} {step} failed:\n{out.stderr[-2000:]}')
            if who == 'plugin':
                found['dispatch'] += json.loads(out.stdout.splitlines()[-1])['dispatch_import']
    return found


def remove_left(deployment: str) -> None:
    """Remove what a lifecycle left (only after a failure), by its label."""
    import docker
    client = docker.from_env()
    try:
        for container in client.containers.list(
                all=True, filters={'label': f'cloudify.deployment={deployment}'}):
            container.remove(force=True)
    finally:
        client.close()


def manager_mode(python: str, repeats: int) -> None:
    runs = []
    with tempfile.TemporaryDirectory(prefix='bench-startup-') as tmp:
        for _ in range(repeats):
            deployment = f'bench-startup-{time.time_ns()}'
            try:
                runs.append(lifecycle(python, deployment, Path(tmp)))
            finally:
                remove_left(deployment)
    plugin = statistics.median(r['plugin'] for r in runs) * 1000
    dispatch = statistics.median(r['dispatch'] for r in runs) * 1000
    sdk = statistics.median(r['sdk'] for r in runs) * 1000
    share = statistics.median((r['plugin'] - r['dispatch']) for r in runs) * 1000
    print(f'\nmanager mode: a container lifecycle (create, configure, run, stop, delete) as '
          f'five fresh processes, median of {repeats}')
    print(f"{'who':<28} {'ms':>7} {'x sdk':>6}")
    print(f"{'raw SDK, 5 processes':<28} {sdk:>7.0f} {1:>6.2f}")
    print(f"{'plugin, 5 processes':<28} {plugin:>7.0f} {plugin / sdk:>6.2f}")
    print(f"{'  of which dispatch import':<28} {dispatch:>7.0f}")
    print(f"{'  without dispatch import':<28} {share:>7.0f} {share / sdk:>6.2f}")


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
    parser.add_argument('--no-lifecycle', action='store_true',
                        help='skip the manager-mode lifecycle (it needs the engine)')
    args = parser.parse_args(argv)
    compile_plugin(args.python)
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
    if not args.no_lifecycle:
        manager_mode(args.python, args.repeats)
    return 0


if __name__ == '__main__':
    sys.exit(main())
