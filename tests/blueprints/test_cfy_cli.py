"""The demo blueprint through the ``cfy`` CLI itself, as a user runs it."""

from __future__ import annotations

import json
import socket
import urllib.request
import uuid

import pytest
from helpers.cleanup import labelled_objects
from helpers.cloudify_local import REPO

pytestmark = [pytest.mark.engine, pytest.mark.blueprint]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def test_demo_installs_serves_and_uninstalls_with_cfy(cfy, docker_client, unique):
    port = _free_port()
    blueprint = str(REPO / 'blueprints' / 'demo.yaml')
    inputs = f'{{"host_port": {port}, "greeting": "cli {unique}"}}'
    try:
        installed = cfy('install', blueprint, '-b', unique, '-i', inputs,
                        '--task-retries', '3', '--task-retry-interval', '1')
        assert "'install' workflow execution succeeded" in installed.stdout
        outputs = cfy.outputs(unique)
        assert outputs['url'] == f'http://127.0.0.1:{port}/'
        assert outputs['state'] == 'running'
        assert outputs['container_name'] == 'docker-plugin-demo-web'
        with urllib.request.urlopen(outputs['url'], timeout=5) as response:
            assert response.read().decode().strip() == f'cli {unique}'
        container = docker_client.containers.get(outputs['container_id'])
        assert container.labels['cloudify.deployment'] == unique
        assert container.attrs['HostConfig']['RestartPolicy'] == {
            'Name': 'on-failure', 'MaximumRetryCount': 2}
        # The run task logged the id, the interfaces, the ports and the main process
        # (from the inspect it made anyway: the top action lists them all).
        for text in (outputs['container_id'], 'network bridge: ',
                     f'port 8080/tcp -> 127.0.0.1:{port}', 'Main process: /serve.sh (PID '):
            assert text in installed.stdout
        # Actions through the plugin's convenience workflow and execute_operation
        # (whose default budget is no retries), read back with node-instances.
        cfy('executions', 'start', 'docker_exec', '-b', unique, '-p',
            '{"operation_kwargs": {"command": ["cat", "/www/index.html"]}}')
        cfy('executions', 'start', 'execute_operation', '-b', unique, '-p',
            '{"operation": "docker.interfaces.container.pause", "node_ids": ["web"]}')
        (instance,) = cfy.node_instances(unique)
        props = instance['runtime_properties']
        assert props['exec']['data']['stdout'].strip() == f'cli {unique}'
        assert props['pause']['exit_code'] == 0 and props['state'] == 'paused'
    finally:
        cfy('uninstall', '-b', unique, '--task-retries', '3', '--task-retry-interval', '1',
            check=False)
    assert labelled_objects(docker_client, {'cloudify.deployment': unique}) == {
        'containers': [], 'images': [], 'networks': [], 'volumes': []}


def test_a_local_user_applies_a_changed_property_previewed_first(cfy, docker_client):
    # README "Day two": the changed value as an operation input of check_drift and update,
    # the preview first; the commands as a user types them.
    deployment = f'dpd-{uuid.uuid4().hex[:8]}'
    blueprint = str(REPO / 'tests' / 'blueprints' / 'files' / 'one-container.yaml')
    config = {'image': 'docker-plugin/busybox:latest', 'name': deployment, 'mem_limit': '64m',
              'command': ['sleep', '300']}
    changed = {**config, 'mem_limit': '96m'}

    def run(operation: str, **inputs) -> str:
        parameters = {'operation': f'cloudify.interfaces.lifecycle.{operation}',
                      'node_ids': ['c'],
                      'operation_kwargs': {'container_config': changed, **inputs}}
        return cfy('executions', 'start', 'execute_operation', '-b', deployment,
                   '-p', json.dumps(parameters)).stdout

    def memory() -> int:
        return docker_client.containers.get(deployment).attrs['HostConfig']['Memory']

    try:
        cfy('install', blueprint, '-b', deployment, '-i',
            json.dumps({'container_config': config}))
        assert "declared '96m', found '64m'; update changes it in place" in run('check_drift')
        shown = run('update', preview=True)
        assert f'Update preview of the container {deployment} (nothing changed): 1 in place' \
            in shown
        assert memory() == 64 * 1024 ** 2
        run('update')
        assert memory() == 96 * 1024 ** 2
        (instance,) = cfy.node_instances(deployment)
        assert instance['runtime_properties']['drift'] == []
    finally:
        cfy('uninstall', '-b', deployment, check=False)
    assert labelled_objects(docker_client, {'cloudify.deployment': deployment}) == {
        'containers': [], 'images': [], 'networks': [], 'volumes': []}
