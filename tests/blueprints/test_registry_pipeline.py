"""Build -> push -> pull -> run across nodes, against a registry with auth."""

from __future__ import annotations

import json
import socket
import urllib.request

import docker
import pytest
from cloudify.exceptions import WorkflowFailed
from helpers.cleanup import labelled_objects

pytestmark = [pytest.mark.engine, pytest.mark.blueprint]
NOTHING = {'containers': [], 'images': [], 'networks': [], 'volumes': []}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _inputs(registry, unique, **extra):
    return {'registry': registry.address, 'username': registry.username,
            'password': registry.password, 'repository': f'pipeline/{unique}',
            'host_port': _free_port(), 'container_name': f'{unique}-web', **extra}


def test_build_push_pull_run(local_run, registry, docker_client, unique, capsys):
    before = {i.id for i in docker_client.images.list()}
    inputs = _inputs(registry, unique)
    run = local_run('registry-pipeline.yaml', inputs, name=unique)
    outputs = run.install()
    reference = f'{registry.address}/pipeline/{unique}:1'
    (pushed,) = outputs['pushed']
    assert pushed['reference'] == reference
    assert outputs['pulled_digest'] == pushed['digest']
    assert outputs['running_image'] == reference
    with urllib.request.urlopen(outputs['url'], timeout=5) as response:
        assert response.read().decode().strip() == 'pulled from the registry'
    props = json.dumps([dict(i.runtime_properties) for i in run.instances()])
    assert registry.password not in props

    run.uninstall()
    events = capsys.readouterr().out
    assert registry.password not in events
    assert 'Pushed ' + reference in events
    with pytest.raises(docker.errors.ImageNotFound):
        docker_client.images.get(reference)
    assert {i.id for i in docker_client.images.list()} == before  # only what existed before
    assert labelled_objects(docker_client, {'cloudify.deployment': unique}) == NOTHING


def test_wrong_password_fails_at_once_without_the_secret(local_run, registry, unique, capsys):
    wrong = 'definitely-Wrong-pw'
    run = local_run('registry-pipeline.yaml', _inputs(registry, unique, password=wrong),
                    name=unique)
    with pytest.raises(WorkflowFailed):
        run.install(retries=5)
    events = capsys.readouterr().out
    assert f'push {registry.address}/pipeline/{unique}:1: access denied by the registry' \
        in events
    assert 'Task rescheduled' not in events  # permanent: no retries spent
    assert wrong not in events
