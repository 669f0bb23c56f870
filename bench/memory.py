"""How much the plugin's process grows while it reads a container that printed 50 MB.

For each shape of output (many lines, one line), a container prints 50 MB;
then the plugin's ``logs`` action (``tail: all``), an ``exec`` that prints
50 MB, and the raw SDK's ``logs()`` (which reads it all into memory, as the
plugin did before) run in this process. Each prints the growth of the
process's peak RSS over its baseline (``VmHWM``, reset before each run). The
goal for the plugin is at most 10 MB. No test asserts a time.

    bash scripts/bench.sh --memory      (or: python bench/memory.py)
"""

from __future__ import annotations

import functools
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Callable

import docker

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / 'tests'))

from helpers.cleanup import remove_labelled  # noqa: E402

IMAGE = 'docker-plugin/busybox:latest'
MB50 = 50 * 1024 * 1024
SHAPES = {
    'many lines': f'yes 0123456789abcdefghijklmnopqrstuvwxyz | head -c {MB50}',
    'one line': f"head -c {MB50} /dev/zero | tr '\\0' x",
}


def peak_growth(action: Callable[[], Any]) -> float:
    """MB the process's peak RSS grew by while ``action`` ran."""
    with open('/proc/self/clear_refs', 'w') as handle:
        handle.write('5')
    before = _hwm()
    action()
    return (_hwm() - before) / 2 ** 20


def _hwm() -> int:
    for line in open('/proc/self/status'):
        if line.startswith('VmHWM:'):
            return int(line.split()[1]) * 1024
    raise RuntimeError('no VmHWM in /proc/self/status')


def _ctx(container_id: str) -> Any:
    from cloudify.mocks import MockCloudifyContext
    from cloudify.state import current_ctx
    ctx = MockCloudifyContext(node_id='bench_x', node_name='bench', deployment_id='bench',
                              properties={}, runtime_properties={'container_id': container_id},
                              operation={'name': 'op', 'retry_number': 0, 'max_retries': 0})
    current_ctx.set(ctx)
    return ctx


def main() -> int:
    from docker_plugin.tasks.container import commands as container_commands
    from docker_plugin.tasks.container import controls as container_actions
    client = docker.from_env()
    label = {'docker-plugin-bench': uuid.uuid4().hex[:8]}
    rows = []
    try:
        for shape, script in SHAPES.items():
            printer = client.containers.run(IMAGE, ['sh', '-c', f'{script}; sleep 300'],
                                            detach=True, labels=label)
            deadline = time.monotonic() + 120
            while [p[-1] for p in printer.top()['Processes']] != ['sleep 300']:
                if time.monotonic() > deadline:
                    raise RuntimeError('the container did not finish printing')
                time.sleep(0.3)
            time.sleep(1)  # let the log driver catch up
            ctx = _ctx(printer.id)
            logs = functools.partial(container_actions.logs, ctx=ctx, tail='all', timeout=300)
            execs = functools.partial(container_commands.exec_command, ctx=ctx,
                                      command=['sh', '-c', script], timeout=300)
            raw = functools.partial(client.api.logs, printer.id, tail='all')
            rows.append((shape, 'plugin logs (tail all)', peak_growth(logs)))
            rows.append((shape, 'plugin exec (50 MB out)', peak_growth(execs)))
            rows.append((shape, 'raw SDK logs()', peak_growth(raw)))
    finally:
        remove_labelled(client, label)
    print(f"{'output':<11} {'what':<26} {'peak RSS growth MB':>18}")
    print('-' * 57)
    for shape, what, growth in rows:
        print(f'{shape:<11} {what:<26} {growth:>18.1f}')
    worst = max(g for _, what, g in rows if what.startswith('plugin'))
    print(f'\nplugin worst case: {worst:.1f} MB over its baseline (goal <= 10 MB)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
