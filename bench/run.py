"""What the plugin costs over the raw engine: deploy and remove N containers
three ways in one run, side by side.

1. ``local``: the plugin through a Cloudify local workflow (``init_env``,
   ``install`` then ``uninstall``, ``task_thread_pool_size=--threads``); its
   floor is measured apart (the same graph whose operations only read the node and
   write the instance: Cloudify's own task handling);
2. ``cfy``: the ``cfy`` CLI (``cfy install`` / ``cfy uninstall`` of the same
   blueprint, ``--task-thread-pool-size``), wall time including CLI start-up; its
   fixed cost per command is measured apart (the same blueprint with no container);
3. ``sdk``: the raw docker SDK doing the same essential work (create+start,
   then stop+remove) on a pool of ``--threads`` workers, one client per call,
   as each operation of the plugin opens one on a manager (locally the plugin
   keeps its clients: one client shared by the workers measured the same, 4.71-4.93
   s against 4.85-4.93 s for the install of N=50).

The plugin is byte-compiled first, as installing it does.
Every container runs ``sh`` that exits on SIGTERM (stop timeout 5 s, never
reached), so stop measures the engine, not a grace period. Engine API calls
are counted in-process by wrapping ``requests.Session.send``; the plugin's
CPU time is each operation's thread CPU time (``time.thread_time``),
measured by wrapping the operation functions the workflow dispatches.
No time is asserted anywhere: this prints numbers.

    bash scripts/bench.sh [--sizes 1,10,50,100] [--threads 8] [--repeats 1] [--json out.json]
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import contextlib
import functools
import io
import json
import logging
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import docker
import requests
from cloudify.workflows import local

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / 'tests'))

from helpers.cleanup import remove_labelled  # noqa: E402
from helpers.cloudify_local import LOCAL_TYPES, TYPES_URL, LocalRun, resolver  # noqa: E402

from docker_plugin import PACKAGE_NAME, __version__  # noqa: E402

IMAGE = 'docker-plugin/busybox:latest'
COMMAND = ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.2; done']
BENCH_LABEL = 'docker-plugin-bench'
OPERATIONS = ('create', 'configure', 'run', 'stop', 'delete', 'check_drift')
DRIFT = 'cloudify.interfaces.lifecycle.check_drift'


def blueprint(n: int, directory: Path) -> Path:
    path = directory / f'bench-{n}.yaml'
    path.write_text(f"""tosca_definitions_version: cloudify_dsl_1_5
imports:
  - {TYPES_URL}
  - {REPO / 'plugin.yaml'}
node_templates:
  c:
    type: cloudify.nodes.docker.Container
    capabilities:
      scalable:
        properties:
          default_instances: {n}
    properties:
      container_config:
        image: '{IMAGE}'
        command: {json.dumps(COMMAND)}
        labels: {{{BENCH_LABEL}: '1'}}
      container_stop: {{timeout: 5}}
""")
    return path


FLOOR_OPERATION = 'docker.noop_operation.touch'  # bench/noop_operation.py


def floor_blueprint(n: int, directory: Path) -> Path:
    """N instances whose five lifecycle operations only read the node and write the
    instance (bench/noop_operation.py): Cloudify's own task handling."""
    path = directory / f'floor-{n}.yaml'
    operations = ''.join(f'        {op}: {FLOOR_OPERATION}\n'
                         for op in ('create', 'configure', 'start', 'stop', 'delete'))
    path.write_text(f"""tosca_definitions_version: cloudify_dsl_1_5
imports:
  - {TYPES_URL}
  - {REPO / 'plugin.yaml'}
node_templates:
  c:
    type: cloudify.nodes.Root
    capabilities:
      scalable:
        properties:
          default_instances: {n}
    interfaces:
      cloudify.interfaces.lifecycle:
{operations}""")
    return path


# ------------------------------------------------------------------ counting
class Counter:
    """Counts Engine API calls (by method and endpoint) made in this process."""

    def __init__(self) -> None:
        self.calls: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def counting(self) -> Iterator[None]:
        original = requests.Session.send

        def send(session: Any, request: Any, **kwargs: Any) -> Any:
            path = re.sub(r'/v1\.\d+', '', request.path_url.split('?')[0])
            path = re.sub(r'/[0-9a-f]{64}', '/{id}', path)
            path = re.sub(r'/containers/[^/]+/', '/containers/{id}/', path)
            with self._lock:
                self.calls[f'{request.method} {path}'] += 1
            return original(session, request, **kwargs)

        requests.Session.send = send
        try:
            yield
        finally:
            requests.Session.send = original

    def total(self) -> int:
        return sum(self.calls.values())


class CpuMeter:
    """Thread CPU seconds spent inside each plugin operation."""

    def __init__(self) -> None:
        self.seconds: collections.Counter[str] = collections.Counter()
        self.count: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def measuring(self) -> Iterator[None]:
        # The container's operations, however plugin.yaml names them (the seed's
        # docker_plugin.tasks.<op> or the kind's facade), are this module's functions.
        from docker_plugin.tasks.container import lifecycle as container_state
        modules = {name: container_state for name in OPERATIONS}
        originals = {name: getattr(modules[name], name) for name in OPERATIONS}

        def wrap(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(func)
            def timed(*args: Any, **kwargs: Any) -> Any:
                start = time.thread_time()
                try:
                    return func(*args, **kwargs)
                finally:
                    with self._lock:
                        self.seconds[name] += time.thread_time() - start
                        self.count[name] += 1
            return timed

        for name, func in originals.items():
            setattr(modules[name], name, wrap(name, func))
        try:
            yield
        finally:
            for name, func in originals.items():
                setattr(modules[name], name, func)

    def per_operation_ms(self) -> dict[str, float]:
        return {name: round(1000 * self.seconds[name] / self.count[name], 2)
                for name in OPERATIONS if self.count[name]}


# ------------------------------------------------------------------ the three ways
def run_local(n: int, threads: int, directory: Path) -> dict[str, Any]:
    bp = blueprint(n, directory)
    run = LocalRun(bp, f'bench-local-{n}-{time.time_ns()}', {})
    counter, cpu = Counter(), CpuMeter()
    quiet = io.StringIO()
    try:
        with counter.counting(), cpu.measuring(), contextlib.redirect_stdout(quiet):
            started = time.perf_counter()
            run.env.execute('install', task_retries=0, task_retry_interval=0,
                            task_thread_pool_size=threads)
            installed = time.perf_counter()
            run.env.execute('execute_operation', task_retries=0, task_retry_interval=0,
                            task_thread_pool_size=threads,
                            parameters={'operation': DRIFT, 'node_ids': ['c']})
            drifted = time.perf_counter()
            uninstall_started = time.perf_counter()
            run.env.execute('uninstall', task_retries=0, task_retry_interval=0,
                            task_thread_pool_size=threads)
            removed = time.perf_counter()
    finally:
        remove_labelled(docker.from_env(), {'cloudify.deployment': run.name})
    return {'install': installed - started, 'uninstall': removed - uninstall_started,
            'check_drift': drifted - installed,
            'api_calls': counter.total(), 'calls': dict(counter.calls),
            'cpu_ms_per_operation': cpu.per_operation_ms()}


def run_floor(n: int, threads: int, directory: Path, files: bool = False) -> dict[str, Any]:
    """The local workflow's floor: the same graph, operations that do nothing.

    ``files``: kept in the ``cfy`` CLI's storage (``FileStorage``: a JSON file per
    node instance, read at every instance read, rewritten at every write) instead of
    the in-memory one, to measure what that storage costs a ``cfy`` run by itself."""
    if str(Path(__file__).parent) not in sys.path:
        sys.path.insert(0, str(Path(__file__).parent))  # where the workflow finds noop_operation
    storage_dir = Path(tempfile.mkdtemp(prefix='bench-storage-', dir=directory)) if files else None
    name = f'bench-floor-{n}-{time.time_ns()}'
    try:
        env = local.init_env(str(floor_blueprint(n, directory)), name=name, resolver=resolver(),
                             storage=local.FileStorage(str(storage_dir)) if storage_dir
                             else local.InMemoryStorage())
        with contextlib.redirect_stdout(io.StringIO()):
            started = time.perf_counter()
            env.execute('install', task_retries=0, task_retry_interval=0,
                        task_thread_pool_size=threads)
            installed = time.perf_counter()
            env.execute('uninstall', task_retries=0, task_retry_interval=0,
                        task_thread_pool_size=threads)
            removed = time.perf_counter()
    finally:
        if storage_dir:
            shutil.rmtree(storage_dir, ignore_errors=True)
    return {'install': installed - started, 'uninstall': removed - installed}


def run_cfy(n: int, threads: int, directory: Path) -> dict[str, Any]:
    bp = blueprint(n, directory)
    workdir = Path(tempfile.mkdtemp(prefix='bench-cfy-'))
    env = dict(os.environ, CFY_WORKDIR=str(workdir))
    cfy = str(Path(sys.executable).with_name('cfy'))
    blueprint_id = f'bench-cfy-{n}-{time.time_ns()}'

    def call(*args: str) -> float:
        started = time.perf_counter()
        subprocess.run([cfy, *args], env=env, cwd=workdir, check=True, timeout=1800,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - started

    try:
        call('init')
        config = workdir / '.cloudify' / 'config.yaml'
        config.write_text(config.read_text() + '\nimport_resolver:\n  parameters:\n'
                          f"    rules:\n    - {{'{TYPES_URL}': '{LOCAL_TYPES.as_uri()}'}}\n")
        pool = ['--task-thread-pool-size', str(threads), '--task-retries', '0']
        install = call('install', str(bp), '-b', blueprint_id, *pool)
        uninstall = call('uninstall', '-b', blueprint_id, *pool)
    finally:
        remove_labelled(docker.from_env(), {'cloudify.deployment': blueprint_id})
        shutil.rmtree(workdir, ignore_errors=True)
    return {'install': install, 'uninstall': uninstall}


def run_sdk(n: int, threads: int) -> dict[str, Any]:
    counter = Counter()

    def up(_: int) -> str:
        client = docker.DockerClient(version='auto')
        try:
            created = client.api.create_container(IMAGE, COMMAND, labels={BENCH_LABEL: 'sdk'})
            client.api.start(created['Id'])
            return created['Id']
        finally:
            client.close()

    def down(container_id: str) -> None:
        client = docker.DockerClient(version='auto')
        try:
            client.api.stop(container_id, timeout=5)
            client.api.remove_container(container_id)
        finally:
            client.close()

    try:
        with counter.counting(), concurrent.futures.ThreadPoolExecutor(threads) as pool:
            started = time.perf_counter()
            ids = list(pool.map(up, range(n)))
            installed = time.perf_counter()
            list(pool.map(down, ids))
            removed = time.perf_counter()
    finally:
        remove_labelled(docker.from_env(), {BENCH_LABEL: 'sdk'})
    return {'install': installed - started, 'uninstall': removed - installed,
            'api_calls': counter.total(), 'calls': dict(counter.calls)}


# ------------------------------------------------------------------ driving and reporting
def compile_plugin() -> None:
    """Byte-compile the plugin, as installing it (pip, the wagon) does: with
    ``PYTHONDONTWRITEBYTECODE`` set, every ``cfy`` process would otherwise compile
    the modules it imports from source (about 0.1 s a command)."""
    subprocess.run([sys.executable, '-m', 'compileall', '-q', str(REPO / 'docker_plugin')],
                   check=True, capture_output=True)


def benchmark(sizes: list[int], threads: int, repeats: int, with_cli: bool,
              progress: Callable[[str], None] = print) -> dict[str, Any]:
    """Run every size ``repeats`` times, the modes interleaved; keep each mode's best."""
    logging.disable(logging.CRITICAL)
    results: dict[str, Any] = {'plugin': f'{PACKAGE_NAME} {__version__}', 'threads': threads,
                               'repeats': repeats, 'sizes': {}}
    with tempfile.TemporaryDirectory(prefix='bench-') as tmp:
        directory = Path(tmp)
        for n in sizes:
            runs: dict[str, list[dict[str, Any]]] = {'sdk': [], 'local': [], 'cfy': []}
            for attempt in range(repeats):
                progress(f'N={n} run {attempt + 1}/{repeats}: raw SDK')
                runs['sdk'].append(run_sdk(n, threads))
                progress(f'N={n} run {attempt + 1}/{repeats}: local workflow')
                runs['local'].append(run_local(n, threads, directory))
                if with_cli:
                    progress(f'N={n} run {attempt + 1}/{repeats}: cfy CLI')
                    runs['cfy'].append(run_cfy(n, threads, directory))
            results['sizes'][n] = {mode: _best(samples) for mode, samples in runs.items()
                                   if samples}
            progress(f'N={n}: local workflow with operations that do nothing (its floor)')
            results['sizes'][n]['floor'] = _best([run_floor(n, threads, directory)
                                                  for _ in range(repeats)])
            if with_cli:
                progress(f'N={n}: the same in the cfy CLI\'s file storage')
                results['sizes'][n]['floor_files'] = _best(
                    [run_floor(n, threads, directory, files=True) for _ in range(repeats)])
        if with_cli:  # the CLI's own cost per command: start-up, parsing, its state files
            progress('cfy CLI with no container (its fixed cost)')
            results['cfy_fixed'] = _best([run_cfy(0, threads, directory)
                                          for _ in range(repeats)])
    logging.disable(logging.NOTSET)
    return results


def _best(samples: list[dict[str, Any]]) -> dict[str, Any]:
    best = dict(min(samples, key=lambda s: s['install'] + s['uninstall']))
    best['install_all'] = [round(s['install'], 3) for s in samples]
    best['uninstall_all'] = [round(s['uninstall'], 3) for s in samples]
    return best


def table(results: dict[str, Any]) -> str:
    head = (f"{'N':>4} {'mode':<6} {'install s':>9} {'ms/ctr':>7} {'x sdk':>6} "
            f"{'uninst s':>9} {'ms/ctr':>7} {'x sdk':>6} {'API calls/ctr':>14}")
    lines = [head, '-' * len(head)]
    for n, modes in results['sizes'].items():
        sdk = modes['sdk']
        for mode in ('sdk', 'local', 'cfy'):
            if mode not in modes:
                continue
            row = modes[mode]
            calls = f"{row['api_calls'] / n:.1f}" if 'api_calls' in row else 'n/a'
            lines.append(
                f"{n:>4} {mode:<6} {row['install']:>9.2f} {1000 * row['install'] / n:>7.0f} "
                f"{row['install'] / sdk['install']:>6.2f} {row['uninstall']:>9.2f} "
                f"{1000 * row['uninstall'] / n:>7.0f} {row['uninstall'] / sdk['uninstall']:>6.2f} "
                f'{calls:>14}')
    return '\n'.join(lines)


def fixed_cost(results: dict[str, Any]) -> str | None:
    """The cfy CLI's cost per command with no container, and the cfy rows beyond it."""
    fixed = results.get('cfy_fixed')
    if not fixed:
        return None

    def over(modes: dict[str, Any], step: str) -> str:
        return f"{(modes['cfy'][step] - fixed[step]) / modes['sdk'][step]:.2f}x"
    beyond = ', '.join(f"N={n}: {over(modes, 'install')} / {over(modes, 'uninstall')}"
                       for n, modes in results['sizes'].items() if 'cfy' in modes)
    return (f"cfy with no container (CLI start-up, blueprint parsing, deployment and state "
            f"files): install {fixed['install']:.2f} s, uninstall {fixed['uninstall']:.2f} s; "
            f"cfy beyond it, x sdk (install / uninstall): {beyond}")


def floor_cost(results: dict[str, Any]) -> str | None:
    """Cloudify's own task handling in the local workflow, and the local rows beyond it."""
    sizes = {n: modes for n, modes in results['sizes'].items() if 'floor' in modes}
    if not sizes:
        return None
    floors = ', '.join(f"N={n}: {modes['floor']['install']:.2f} s / "
                       f"{modes['floor']['uninstall']:.2f} s" for n, modes in sizes.items())
    beyond = ', '.join(
        f"N={n}: " + ' / '.join(
            f"{(modes['local'][step] - modes['floor'][step]) / modes['sdk'][step]:.2f}x"
            for step in ('install', 'uninstall'))
        for n, modes in sizes.items() if 'local' in modes)
    return (f"local workflow whose operations only read the node and write the instance "
            f"(Cloudify's own task handling), install / uninstall: {floors}; local beyond "
            f"it, x sdk (install / uninstall): {beyond}")


def cloudify_share(results: dict[str, Any]) -> str | None:
    """What ``cfy`` costs by itself: its fixed cost per command plus the floor graph in
    its file storage; and the cfy rows beyond both (the plugin's share in a cfy run)."""
    fixed = results.get('cfy_fixed')
    sizes = {n: modes for n, modes in results['sizes'].items()
             if 'floor_files' in modes and 'cfy' in modes}
    if not fixed or not sizes:
        return None

    def ratios(modes: dict[str, Any], beyond: bool) -> str:
        found = []
        for step in ('install', 'uninstall'):
            own = fixed[step] + modes['floor_files'][step]
            found.append((modes['cfy'][step] - own if beyond else own) / modes['sdk'][step])
        return ' / '.join(f'{ratio:.2f}x' for ratio in found)
    floors = ', '.join(f"N={n}: {modes['floor_files']['install']:.2f} s / "
                       f"{modes['floor_files']['uninstall']:.2f} s" for n, modes in sizes.items())
    own = ', '.join(f'N={n}: {ratios(modes, False)}' for n, modes in sizes.items())
    beyond = ', '.join(f'N={n}: {ratios(modes, True)}' for n, modes in sizes.items())
    return (f"the floor's workflow in the cfy CLI's file storage, install / uninstall: {floors}; "
            f"cfy's own share (no container's cost plus that floor), x sdk: {own}; "
            f"cfy beyond its own share, x sdk: {beyond}")


def paired(results: dict[str, Any]) -> str | None:
    """Each run's ratio to the SDK run of the same round, the median over the rounds:
    steadier than the table's best-of rows, which one lucky SDK run moves."""
    parts = []
    for n, modes in results['sizes'].items():
        sdk = modes['sdk']
        found = []
        for mode in ('local', 'cfy'):
            if mode not in modes:
                continue
            medians = [statistics.median(mine / theirs for mine, theirs in
                                         zip(modes[mode][f'{step}_all'], sdk[f'{step}_all']))
                       for step in ('install', 'uninstall')]
            found.append(f'{mode} {medians[0]:.2f} / {medians[1]:.2f}')
        if found:
            parts.append(f"N={n}: {', '.join(found)}")
    if not parts or results.get('repeats', 1) < 2:
        return None
    return (f"each run against the SDK run of its round, median of {results['repeats']} rounds, "
            f"x sdk (install / uninstall): {'; '.join(parts)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--sizes', default='1,10,50,100',
                        help='comma-separated container counts (default 1,10,50,100)')
    parser.add_argument('--threads', type=int, default=8,
                        help='task thread pool of the workflows and workers of the raw SDK')
    parser.add_argument('--repeats', type=int, default=1,
                        help='runs per size; the best of each mode is reported')
    parser.add_argument('--no-cli', action='store_true', help='skip the cfy CLI runs')
    parser.add_argument('--json', help='also write the results to this file')
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(',') if s.strip()]
    compile_plugin()
    results = benchmark(sizes, args.threads, args.repeats, not args.no_cli,
                        progress=lambda line: print(f'[bench] {line}', flush=True))
    print()
    print(f'{results["plugin"]}, threads {args.threads}, best of {args.repeats}; "x sdk" is '
          'the ratio to the raw '
          'docker SDK doing create+start / stop+remove with the same parallelism.')
    print('cfy times include the CLI start-up (about 0.3 s per command). The machine may be '
          'shared: compare rows of one run, not runs.')
    print(table(results))
    for line in (floor_cost(results), fixed_cost(results), cloudify_share(results),
                 paired(results)):
        if line:
            print(line)
    for n, modes in results['sizes'].items():
        if 'local' in modes and 'check_drift' in modes['local']['cpu_ms_per_operation']:
            local = modes['local']
            print(f"N={n}: check_drift over {n} containers: {local['check_drift']:.2f} s wall, "
                  f"{local['cpu_ms_per_operation']['check_drift']} ms of plugin CPU a "
                  'container (goal <= 10)')
        if 'local' in modes:
            print(f"N={n}: plugin CPU ms per operation {modes['local']['cpu_ms_per_operation']}; "
                  f"engine calls per container lifecycle: "
                  f"{ {k: round(v / n, 2) for k, v in sorted(modes['local']['calls'].items())} }")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))
        print(f'results written to {args.json}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
