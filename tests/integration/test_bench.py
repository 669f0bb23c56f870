"""The benchmark's code path still works (structure only: no time is asserted)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from docker_plugin import PACKAGE_NAME, __version__

pytestmark = pytest.mark.engine
REPO = Path(__file__).resolve().parents[2]


def _bench():
    spec = importlib.util.spec_from_file_location('bench_run', REPO / 'bench' / 'run.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_one_container_three_ways(docker_client):
    bench = _bench()
    results = bench.benchmark([1], threads=2, repeats=2, with_cli=True, progress=lambda _: None)
    assert results['plugin'] == f'{PACKAGE_NAME} {__version__}'  # what was measured
    row = results['sizes'][1]
    assert set(row) == {'sdk', 'local', 'cfy', 'floor', 'floor_files'}
    for mode in row.values():
        assert mode['install'] > 0 and mode['uninstall'] > 0
    # Counted, not guessed: the SDK's create, start, stop and remove are all seen.
    assert {'POST /containers/create', 'POST /containers/{id}/start',
            'POST /containers/{id}/stop', 'DELETE /containers/{id}'} <= set(row['sdk']['calls'])
    assert row['local']['calls']['POST /containers/create'] == 1
    assert set(row['local']['cpu_ms_per_operation']) == set(bench.OPERATIONS)
    text = bench.table(results)
    assert 'local' in text and 'cfy' in text and 'API calls/ctr' in text
    assert results['cfy_fixed']['install'] > 0  # the CLI's own cost, measured apart
    assert bench.fixed_cost(results).startswith('cfy with no container')
    assert 'N=1: ' in bench.fixed_cost(results)
    assert set(results['sizes'][1]['floor']) >= {'install', 'uninstall'}
    assert bench.floor_cost(results).startswith('local workflow whose operations only read')
    # cfy's own share: its fixed cost plus the floor in its file storage, written there.
    assert len(row['floor_files']['install_all']) == 2
    share = bench.cloudify_share(results)
    assert "cfy's own share" in share and share.count('N=1: ') == 3
    own = (results['cfy_fixed']['install'] + row['floor_files']['install']) / row['sdk']['install']
    assert f'{own:.2f}x' in share
    # Each round's ratio, paired with its own SDK run (two rounds: the median of two).
    pairs = [c / s for c, s in zip(row['cfy']['install_all'], row['sdk']['install_all'])]
    assert f'cfy {(pairs[0] + pairs[1]) / 2:.2f} / ' in bench.paired(results)
    assert docker_client.containers.list(all=True, filters={'label': bench.BENCH_LABEL}) == []


def _script(name):
    spec = importlib.util.spec_from_file_location(f'bench_{name}', REPO / 'bench' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_startup_benchmark_reaches_the_first_engine_request():
    startup = _script('startup')
    for name in startup.OPERATIONS:
        found = startup.measure(str(REPO / '.venv' / 'bin' / 'python'), name)
        assert found['first_request'] > 0 and found['plugin_import'] > 0, name


def test_the_startup_benchmark_runs_a_lifecycle_as_five_processes_each_way(
        tmp_path, docker_client, unique):
    startup = _script('startup')
    found = startup.lifecycle(str(REPO / '.venv' / 'bin' / 'python'), unique, tmp_path)
    assert found['plugin'] > found['dispatch'] > 0 and found['sdk'] > 0
    assert docker_client.containers.list(
        all=True, filters={'label': f'cloudify.deployment={unique}'}) == []  # both removed


def test_the_memory_benchmark_measures_growth():
    memory = _script('memory')
    assert memory.peak_growth(lambda: bytearray(30 * 2 ** 20)) >= 25


def test_the_swarm_benchmark_runs_both_ways_on_one_swarm(swarm):
    bench = _script('swarm')
    images = (swarm.ref('app:v1'), swarm.ref('app:v2'))
    results = bench.benchmark(swarm, replicas=1, repeats=1, images=images,
                              progress=lambda _: None, monitor=0.5)
    for who in ('cli', 'plugin'):
        assert set(results['best'][who]) == set(bench.STEPS)
        for step in results['best'][who].values():
            assert step['seconds'] > 0 and -5000 < step['lag_ms'] < 60000
    text = bench.table(results)
    assert 'create 1 to converged' in text and 'rolling update of 1' in text
    assert swarm.manager.docker('service', 'ls', '-q') == ''  # both rounds cleaned up
