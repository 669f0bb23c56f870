"""Validation before anything is made, through Cloudify's local workflows and the ``cfy``
CLI: one install failure names every mistake of every node, and nothing exists
afterwards; host ports for a scaled node, each instance its own, reported as integers.

``files/validation.yaml``: a network, two typed containers (``web`` scalable) and a
seed-style node, every setting from inputs.
"""

from __future__ import annotations

import json
import random
import uuid

import pytest
from cloudify.exceptions import WorkflowFailed
from helpers.cleanup import labelled_objects
from helpers.cloudify_local import REPO

pytestmark = [pytest.mark.engine, pytest.mark.blueprint]
BLUEPRINT = '../tests/blueprints/files/validation.yaml'
BASE = 'docker-plugin/busybox:latest'
LOOP = ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.2; done']
NOTHING = {'containers': [], 'images': [], 'networks': [], 'volumes': []}


@pytest.fixture
def name():
    """This module's deployments and objects: dpv-<random>."""
    return f'dpv-{uuid.uuid4().hex[:8]}'


@pytest.fixture
def holder(docker_client, name):
    """A container (not of the deployment) holding a host port on 127.0.0.1."""
    container = docker_client.containers.run(
        BASE, LOOP, name=f'{name}-holder', detach=True, ports={'80/tcp': ('127.0.0.1', None)},
        labels={'docker-plugin-test': '1'})
    try:
        container.reload()
        yield container, int(container.ports['80/tcp'][0]['HostPort'])
    finally:
        container.remove(force=True)


def test_one_install_failure_names_every_mistake_before_anything_is_made(
        local_run, docker_client, name, holder, capsys):
    holder_container, taken = holder
    fixed = random.randint(20000, 29999)
    run = local_run(BLUEPRINT, {
        'prefix': name,
        'db_config': {'image': BASE, 'command': LOOP, 'mem_limit': 'lots'},
        'web_config': {'image': BASE, 'command': LOOP,
                       'port_bindings': {8080: ['127.0.0.1', fixed]}},
        'web_instances': 2,
        'wait_for': {'condition': 'log'},
        'seed_config': {'image': BASE, 'command': LOOP,
                        'port_bindings': {80: ['127.0.0.1', taken]}},
    }, name=name)
    for workflow in ('docker_validate', 'install'):  # the workflow alone, then install's
        with pytest.raises(WorkflowFailed) as failed:
            run.execute(workflow)
        text = f'{failed.value}\n{capsys.readouterr().out}'
        assert f'4 mistakes in deployment {name}, found by validation before anything is ' \
            'made' in text, workflow
        for line in (
                "db.container_config.mem_limit: expected bytes, or a size like '512m', got "
                "'lots'",
                f'web.container_config.port_bindings.8080/tcp: host port {fixed} is fixed, but '
                'the node has 2 instances',
                'web.wait_for.pattern: required for condition log',
                f'seed.container_config.port_bindings.80/tcp: host port {taken}/tcp is already '
                f'taken on the host of engine', f'container {holder_container.name}'):
            assert line in text, (workflow, line)
    # nothing was made: no object of the deployment, the network's name free, no id recorded
    assert labelled_objects(docker_client, {'cloudify.deployment': name}) == NOTHING
    assert docker_client.networks.list(names=[f'{name}-net']) == []
    for instance in run.instances():
        assert not {'container_id', 'network_id'} & set(instance.runtime_properties), \
            instance.node_id


def test_each_instance_of_a_scaled_node_gets_its_own_host_port(local_run, docker_client, name):
    low = random.randint(30000, 39000)
    run = local_run(BLUEPRINT, {
        'prefix': name,
        'db_config': {'image': BASE, 'command': LOOP,
                      'port_bindings': {80: ['127.0.0.1', f'{low}-{low + 9}']}},
        'web_config': {'image': BASE, 'command': LOOP, 'port_bindings': {8080: ['127.0.0.1']}},
        'web_instances': 2,
        'seed_config': {'image': BASE, 'command': LOOP},
    }, name=name)
    run.execute('docker_validate')  # nothing wrong: it passes, and makes nothing
    assert labelled_objects(docker_client, {'cloudify.deployment': name}) == NOTHING
    outputs = run.install()
    ports = outputs['host_ports']
    assert len(ports) == 2 and all(set(p) == {'8080/tcp'} for p in ports)
    numbers = [p['8080/tcp'] for p in ports]
    assert all(isinstance(n, int) and n > 0 for n in numbers) and len(set(numbers)) == 2
    for container_name, number in zip(outputs['names'], numbers):  # what the engine bound
        bound = docker_client.containers.get(container_name).ports['8080/tcp']
        assert int(bound[0]['HostPort']) == number
    (db_port,) = run.props('db')['host_ports'].values()
    assert low <= db_port <= low + 9  # one of the range, as an integer


def test_cfy_install_fails_once_naming_every_mistake(cfy, docker_client, name):
    fixed = random.randint(20000, 29999)
    inputs = {'prefix': name, 'web_instances': 3, 'wait_for': {'condition': 'port'},
              'db_config': {'image': BASE, 'command': LOOP, 'mem_limit': 'lots',
                            'nmae': name},
              'web_config': {'image': BASE, 'command': LOOP,
                             'port_bindings': {8080: ['127.0.0.1', fixed]}},
              'seed_config': {'image': BASE, 'command': LOOP}}
    blueprint = str(REPO / 'tests' / 'blueprints' / 'files' / 'validation.yaml')
    try:
        result = cfy('install', blueprint, '-b', name, '-i', json.dumps(inputs), check=False)
        text = result.stdout + result.stderr
        assert result.returncode != 0
        assert f'4 mistakes in deployment {name}, found by validation before anything is ' \
            'made' in text
        for field in ('db.container_config.mem_limit: ', 'db.container_config.nmae: ',
                      'web.container_config.port_bindings.8080/tcp: host port '
                      f'{fixed} is fixed, but the node has 3 instances',
                      'web.wait_for.port: '):
            assert field in text, field
        assert 'Traceback' not in text
        assert labelled_objects(docker_client, {'cloudify.deployment': name}) == NOTHING
    finally:
        cfy('uninstall', '-b', name, check=False)
