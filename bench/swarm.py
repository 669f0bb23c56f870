"""Swarm services through the plugin against the docker CLI, side by side, on one swarm.

On a real three-engine swarm built on this machine (tests/helpers/swarm.py:
engines in network namespaces of their own, a registry they share), each
round does the same steps twice, once with the docker CLI and once through
the plugin (a Cloudify local workflow, the deployment already parsed):

1. ``create``: N replicas from nothing to converged
   (``docker service create --detach=false`` / ``install``);
2. ``scale``: N to 3N (``docker service scale`` / the ``scale`` operation);
3. ``update``: a rolling update of N to a new image
   (``docker service update --detach=false --image`` / ``update``).

Both wait the same way (the CLI's algorithm, held for the same monitor
window), so the ratio is the plugin's overhead. The lag is how long after the
last task really reached ``running`` (its own timestamp, same clock) the
waiter noticed: the plugin records when it first saw convergence; for the CLI
it is its end minus the monitor hold. No time is asserted anywhere.

    bash scripts/bench-swarm.sh [--replicas 10] [--repeats 1] [--json out.json]
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / 'tests'))

from helpers.cloudify_local import TYPES_URL, LocalRun  # noqa: E402
from helpers.swarm import SwarmLab  # noqa: E402

COMMAND = ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1; done']
MONITOR = 2.0  # seconds: the hold both sides wait after convergence
PARALLELISM = 5
STEPS = ('create', 'scale', 'update')


def blueprint(directory: Path) -> Path:
    path = directory / 'bench-swarm.yaml'
    path.write_text(f"""tosca_definitions_version: cloudify_dsl_1_5
imports:
  - {TYPES_URL}
  - {REPO / 'plugin.yaml'}
inputs:
  manager: {{type: dict}}
  name: {{type: string}}
  service_config: {{type: dict}}
node_templates:
  svc:
    type: cloudify.nodes.docker.Service
    properties:
      daemon_client: {{ get_input: manager }}
      name: {{ get_input: name }}
      service_config: {{ get_input: service_config }}
""")
    return path


def service_config(image: str, replicas: int, monitor_seconds: float) -> dict[str, Any]:
    monitor = f'{monitor_seconds:g}s'
    return {'image': image, 'replicas': replicas, 'command': COMMAND, 'endpoint_mode': 'dnsrr',
            'stop_grace_period': '1s',
            'update_config': {'parallelism': PARALLELISM, 'monitor': monitor},
            'rollback_config': {'parallelism': PARALLELISM, 'monitor': monitor}}


def _stamp(text: str) -> float:
    """An engine timestamp (RFC 3339, nanoseconds) as seconds since the epoch."""
    head, _, rest = text.rstrip('Z').partition('.')
    fraction = float(f'0.{rest}') if rest else 0.0
    parsed = datetime.datetime.fromisoformat(head).replace(tzinfo=datetime.timezone.utc)
    return parsed.timestamp() + fraction


def really_converged(lab: SwarmLab, name: str) -> float:
    """When the last task of the current spec reached running (engine clock)."""
    out = lab.manager.docker('service', 'ps', name, '--filter', 'desired-state=running',
                             '--no-trunc', '--format', '{{.ID}}')
    ids = out.split()
    stamps = lab.manager.docker('inspect', '--format', '{{json .Status.Timestamp}}', *ids)
    return max(_stamp(json.loads(s)) for s in stamps.split())


def _cli(lab: SwarmLab, *args: str) -> float:
    started = time.time()
    subprocess.run([*lab.manager.cli(), *args], check=True, capture_output=True, timeout=600)
    return time.time() - started


def cli_round(lab: SwarmLab, name: str, replicas: int, images: tuple[str, str],
              monitor: float) -> dict:
    out: dict[str, dict[str, float]] = {}
    flags = ['--endpoint-mode', 'dnsrr', '--stop-grace-period', '1s',
             '--update-parallelism', str(PARALLELISM), '--update-monitor', f'{monitor:g}s',
             '--rollback-parallelism', str(PARALLELISM), '--rollback-monitor', f'{monitor:g}s',
             '--update-failure-action', 'pause']
    steps: dict[str, Callable[[], float]] = {
        'create': lambda: _cli(lab, 'service', 'create', '--detach=false', '--quiet', '--name',
                               name, '--replicas', str(replicas), *flags, images[0], *COMMAND),
        'scale': lambda: _cli(lab, 'service', 'scale', '--detach=false', f'{name}={replicas * 3}'),
        'update': lambda: _cli(lab, 'service', 'update', '--detach=false', '--quiet', '--image',
                               images[1], name),
    }
    try:
        for step, run in steps.items():
            if step == 'update':
                _cli(lab, 'service', 'scale', '--detach=false', f'{name}={replicas}')
            seconds = run()
            ended = time.time()
            lag = ended - monitor - really_converged(lab, name)
            out[step] = {'seconds': seconds, 'lag_ms': lag * 1000}
    finally:
        subprocess.run([*lab.manager.cli(), 'service', 'rm', name], capture_output=True,
                       timeout=60)
    return out


def plugin_round(lab: SwarmLab, name: str, replicas: int, images: tuple[str, str],
                 directory: Path, monitor: float) -> dict:
    out: dict[str, dict[str, float]] = {}
    parse = time.time()
    run = LocalRun(blueprint(directory), name, {
        'manager': lab.manager.daemon_client(), 'name': name,
        'service_config': service_config(images[0], replicas, monitor)})
    parse = time.time() - parse
    steps: dict[str, Callable[[], Any]] = {
        'create': lambda: run.install(),
        'scale': lambda: run.operation('docker.interfaces.service.scale', node_ids=['svc'],
                                       replicas=replicas * 3),
        'update': lambda: run.operation('cloudify.interfaces.lifecycle.update',
                                        node_ids=['svc'],
                                        service_config=service_config(images[1], replicas,
                                                                      monitor)),
    }
    try:
        for step, call in steps.items():
            if step == 'update':  # back to N first, as the CLI round does (not timed)
                run.operation('docker.interfaces.service.scale', node_ids=['svc'],
                              replicas=replicas)
            started = time.time()
            call()
            seconds = time.time() - started
            seen = _stamp(run.props('svc')['converged']['data']['converged_at'].replace(
                '+00:00', 'Z'))
            out[step] = {'seconds': seconds, 'lag_ms': (seen - really_converged(lab, name)) * 1000}
        out['create']['parse_seconds'] = parse
    finally:
        run.teardown()
    return out


def benchmark(lab: SwarmLab, replicas: int, repeats: int, images: tuple[str, str],
              progress: Callable[[str], None] = print, monitor: float = MONITOR) -> dict[str, Any]:
    """Every step both ways, ``repeats`` times (alternating who goes first); the best kept."""
    rounds: dict[str, list[dict]] = {'cli': [], 'plugin': []}
    with tempfile.TemporaryDirectory(prefix='dpt-bench-swarm-') as tmp:
        for index in range(repeats):
            order = ('cli', 'plugin') if index % 2 == 0 else ('plugin', 'cli')
            for who in order:
                name = f'dpt-bench-{who}-{index}-{int(time.time()) % 100000}'
                progress(f'round {index + 1}/{repeats}: {who}')
                if who == 'cli':
                    rounds['cli'].append(cli_round(lab, name, replicas, images, monitor))
                else:
                    rounds['plugin'].append(plugin_round(lab, name, replicas, images,
                                                         Path(tmp), monitor))
    best = {who: {step: min((r[step] for r in results), key=lambda x: x['seconds'])
                  for step in STEPS} for who, results in rounds.items()}
    return {'replicas': replicas, 'repeats': repeats, 'monitor_seconds': monitor,
            'engines': len(lab.engines), 'best': best, 'rounds': rounds}


def table(results: dict[str, Any]) -> str:
    n = results['replicas']
    names = {'create': f'create {n} to converged', 'scale': f'scale {n} -> {3 * n}',
             'update': f'rolling update of {n}'}
    lines = [f'{results["engines"]} engines, monitor hold {results["monitor_seconds"]:g} s, '
             f'best of {results["repeats"]}',
             f'{"step":26} {"docker CLI s":>13} {"plugin s":>9} {"ratio":>6} '
             f'{"median ratio":>13} {"CLI lag ms":>11} {"plugin lag ms":>14}']
    for step in STEPS:
        cli, plugin = results['best']['cli'][step], results['best']['plugin'][step]
        median = statistics.median(r[step]['seconds'] for r in results['rounds']['plugin']) / \
            statistics.median(r[step]['seconds'] for r in results['rounds']['cli'])
        lines.append(f'{names[step]:26} {cli["seconds"]:13.2f} {plugin["seconds"]:9.2f} '
                     f'{plugin["seconds"] / cli["seconds"]:6.2f} {median:13.2f} '
                     f'{cli["lag_ms"]:11.0f} {plugin["lag_ms"]:14.0f}')
    parse = results['best']['plugin']['create'].get('parse_seconds')
    if parse is not None:
        lines.append(f'(plugin: parsing the blueprint and making the deployment, once: '
                     f'{parse:.2f} s, not in the create time)')
    return '\n'.join(lines)


def prepare(lab: SwarmLab) -> tuple[str, str]:
    """Two images in the lab's registry (the base one, and one that differs by a label),
    already pulled on every engine, so no round pays for the first pull."""
    lab.push('dpt/bench', 'v1')
    built = lab.build('bench-v2', 'LABEL bench=2')
    lab.push('dpt/bench', 'v2', built)
    images = lab.ref('bench:v1'), lab.ref('bench:v2')
    for engine in lab.engines:
        for image in images:
            engine.docker('pull', '-q', image, timeout=120)
    return images


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--replicas', type=int, default=10)
    parser.add_argument('--repeats', type=int, default=1)
    parser.add_argument('--json', help='also write the results to this file')
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix='dpt-swarm-bench-lab-') as workdir:
        lab = SwarmLab(Path(workdir), size=3)
        try:
            lab.up()
            lab.form()
            images = prepare(lab)
            results = benchmark(lab, args.replicas, args.repeats, images)
        finally:
            lab.clean()
    print(table(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == '__main__':
    sys.exit(main())
