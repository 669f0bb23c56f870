"""The same compose project three ways in one run, side by side:

1. ``cli``: ``docker compose up -d --wait`` and ``down -v --rmi local`` (the
   Docker Compose v2 binary the plugin uses, run directly);
2. ``node``: ``cloudify.nodes.docker.ComposeProject`` through a Cloudify local
   workflow (install, uninstall with remove_volumes), which runs the same
   binary plus the plugin's own work (``config``, labels, reading the result);
3. ``typed``: the blueprint ``compose-to-blueprint`` writes for the project
   (a node per network, volume, build and service) through a local workflow.

Each does the same work: build what the project builds, create networks and
volumes, start every service and wait until each is running or healthy; then
remove all of it. The modes run interleaved, ``--repeats`` times; the median
of each is reported with its ratio to ``cli`` (the goal for ``node`` is at
most 1.1x). No time is asserted anywhere.

    bash scripts/bench-compose.sh [--compose FILE] [--repeats 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import docker
import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / 'tests'))

from helpers.cleanup import remove_labelled  # noqa: E402
from helpers.cloudify_local import LocalRun  # noqa: E402

from docker_plugin.importer import cli as importer  # noqa: E402
from docker_plugin.resources.compose.binary import find_binary  # noqa: E402

WEBAPP = REPO / 'blueprints' / 'resources' / 'compose' / 'webapp' / 'compose.yaml'
# Variables the example needs (its DB_PASSWORD is required).
ENVIRONMENT = {'DB_PASSWORD': 'bench-password'}
MODES = ('cli', 'node', 'typed')


def node_blueprint(compose_file: Path, directory: Path) -> Path:
    path = directory / 'compose-node.yaml'
    path.write_text(f"""tosca_definitions_version: cloudify_dsl_1_5
imports:
  - http://cloudify.co/spec/cloudify/7.0.0/types.yaml
  - {REPO / 'plugin.yaml'}
inputs:
  project_name: {{type: string}}
node_templates:
  app:
    type: cloudify.nodes.docker.ComposeProject
    properties:
      compose_files: [{compose_file}]
      project_name: {{get_input: project_name}}
      secret_environment: {json.dumps(ENVIRONMENT)}
      remove_volumes: true
""")
    return path


def typed_blueprint(compose_file: Path, directory: Path) -> Path:
    """The importer's blueprint, written beside a copy of the project (its build contexts
    are then among the blueprint's resources, as for a user)."""
    copy = directory / 'typed'
    shutil.copytree(compose_file.parent, copy)
    out = copy / 'typed-blueprint.yaml'
    previous = {k: os.environ.get(k) for k in ENVIRONMENT}
    os.environ.update(ENVIRONMENT)
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            code = importer.main(['-f', str(copy / compose_file.name), '--plugin-yaml',
                                  str(REPO / 'plugin.yaml'), '-o', str(out)])
    finally:
        for key, value in previous.items():
            os.environ.pop(key) if value is None else os.environ.__setitem__(key, value)
    if code != 0:
        raise RuntimeError(f'compose-to-blueprint failed on {compose_file}')
    return out


def run_cli(compose_file: Path, name: str) -> dict[str, float]:
    binary = find_binary()
    env = {**os.environ, **ENVIRONMENT}
    base = [binary, '--ansi', 'never', '--progress', 'quiet', '-p', name, '-f',
            str(compose_file)]

    def timed(*args: str) -> float:
        started = time.perf_counter()
        subprocess.run([*base, *args], env=env, check=True, timeout=900,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - started

    try:
        up = timed('up', '--detach', '--wait')
        down = timed('down', '--volumes', '--rmi', 'local')
    finally:
        subprocess.run([*base, 'down', '--volumes', '--rmi', 'local', '-t', '0'], env=env,
                       timeout=300, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=False)
    return {'up': up, 'down': down}


def run_blueprint(blueprint: Path, name: str, inputs: dict[str, Any]) -> dict[str, float]:
    declared = yaml.safe_load(blueprint.read_text()).get('inputs') or {}
    given = {k: v for k, v in {'project_name': name, **inputs}.items() if k in declared}
    run = LocalRun(blueprint, name, given)
    quiet = io.StringIO()
    try:
        with contextlib.redirect_stdout(quiet):
            started = time.perf_counter()
            run.install()
            up = time.perf_counter() - started
            started = time.perf_counter()
            run.uninstall()
            down = time.perf_counter() - started
    finally:
        run.teardown()
        remove_labelled(docker.from_env(), {'cloudify.deployment': name})
    return {'up': up, 'down': down}


def benchmark(compose_file: Path = WEBAPP, repeats: int = 3,
              progress: Callable[[str], None] = print) -> dict[str, Any]:
    """Every mode ``repeats`` times, interleaved; the median and every sample of each."""
    logging.disable(logging.CRITICAL)
    samples: dict[str, list[dict[str, float]]] = {mode: [] for mode in MODES}
    names: list[str] = []
    try:
        with tempfile.TemporaryDirectory(prefix='bench-compose-') as tmp:
            directory = Path(tmp)
            node = node_blueprint(compose_file.resolve(), directory)
            typed = typed_blueprint(compose_file.resolve(), directory)
            for attempt in range(repeats):
                stamp = f'{os.getpid()}-{attempt}'
                names += [f'bench-{mode}-{stamp}' for mode in MODES]
                progress(f'run {attempt + 1}/{repeats}: compose CLI')
                samples['cli'].append(run_cli(compose_file, f'bench-cli-{stamp}'))
                progress(f'run {attempt + 1}/{repeats}: ComposeProject node')
                samples['node'].append(run_blueprint(node, f'bench-node-{stamp}', {}))
                progress(f'run {attempt + 1}/{repeats}: imported typed nodes')
                samples['typed'].append(run_blueprint(typed, f'bench-typed-{stamp}',
                                                      ENVIRONMENT))
    finally:
        logging.disable(logging.NOTSET)
    result: dict[str, Any] = {'compose_file': str(compose_file), 'repeats': repeats,
                              'names': names, 'modes': {}}
    for mode, runs in samples.items():
        result['modes'][mode] = {
            'up': statistics.median(r['up'] for r in runs),
            'down': statistics.median(r['down'] for r in runs),
            'up_all': [round(r['up'], 3) for r in runs],
            'down_all': [round(r['down'], 3) for r in runs]}
    return result


def table(result: dict[str, Any]) -> str:
    cli = result['modes']['cli']
    head = f"{'mode':<6} {'up s':>7} {'x cli':>6} {'down s':>7} {'x cli':>6}   samples (up / down)"
    lines = [head, '-' * len(head)]
    for mode in MODES:
        row = result['modes'][mode]
        lines.append(f"{mode:<6} {row['up']:>7.2f} {row['up'] / cli['up']:>6.2f} "
                     f"{row['down']:>7.2f} {row['down'] / cli['down']:>6.2f}   "
                     f"{row['up_all']} / {row['down_all']}")
    return '\n'.join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--compose', type=Path, default=WEBAPP,
                        help='compose file (default: the webapp example)')
    parser.add_argument('--repeats', type=int, default=3, help='runs per mode (median kept)')
    parser.add_argument('--json', help='also write the results to this file')
    args = parser.parse_args(argv)
    result = benchmark(args.compose, args.repeats,
                       progress=lambda line: print(f'[bench-compose] {line}', flush=True))
    print()
    print(f'{args.compose}: median of {args.repeats}; "x cli" is the ratio to docker compose '
          'up -d --wait / down -v --rmi local. The machine may be shared: compare rows of '
          'one run.')
    print(table(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
        print(f'results written to {args.json}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
