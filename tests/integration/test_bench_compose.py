"""The compose benchmark's code path still works (structure only: no time is asserted)."""

from __future__ import annotations

import importlib.util

import pytest
from helpers.cleanup import labelled_objects
from helpers.cloudify_local import REPO

pytestmark = [pytest.mark.engine, pytest.mark.blueprint, pytest.mark.compose]
TINY = """services:
  app:
    image: docker-plugin/busybox:latest
    command: [sh, -c, "trap 'exit 0' TERM; while true; do sleep 0.2; done"]
    healthcheck: {test: [CMD, "true"], interval: 1s}
    volumes: [data:/data]
volumes:
  data: {}
"""


def _bench():
    spec = importlib.util.spec_from_file_location('bench_compose', REPO / 'bench' / 'compose.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_one_tiny_project_three_ways(docker_client, tmp_path):
    bench = _bench()
    (tmp_path / 'project').mkdir()
    compose_file = tmp_path / 'project' / 'compose.yaml'
    compose_file.write_text(TINY)
    result = bench.benchmark(compose_file, repeats=1, progress=lambda _: None)
    assert set(result['modes']) == {'cli', 'node', 'typed'}
    for row in result['modes'].values():
        assert row['up'] > 0 and row['down'] > 0 and len(row['up_all']) == 1
    text = bench.table(result)
    assert 'x cli' in text and 'typed' in text
    # Nothing left: the node and typed runs by their deployment label, the CLI's by project.
    for name in result['names']:
        assert labelled_objects(docker_client, {'cloudify.deployment': name}) == {
            'containers': [], 'images': [], 'networks': [], 'volumes': []}
        assert docker_client.containers.list(
            all=True, filters={'label': f'com.docker.compose.project={name}'}) == []
        assert docker_client.volumes.list(
            filters={'label': f'com.docker.compose.project={name}'}) == []
