"""The seed's example blueprint and its variants, installed through Cloudify
local workflows (``init_env``) against the real engine."""

from __future__ import annotations

import time
import urllib.request

import docker
import pytest
from cloudify.exceptions import WorkflowFailed
from helpers.cleanup import labelled_objects

pytestmark = [pytest.mark.engine, pytest.mark.blueprint]


def _free_port() -> int:
    import socket
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.mark.smoke
def test_seed_example_imports_from_url_and_runs_as_written(local_run, http_root, docker_client):
    _, base_url = http_root
    run = local_run('seed-example.yaml', {'image_url': f'{base_url}/rootfs.tar'})
    outputs = run.install()

    props = run.props('db_server')
    assert props['image_source'] == 'import'
    assert outputs['image_id'] == props['image_id'].strip() and props['image_id'].startswith(
        'sha256:')
    container = docker_client.containers.get(outputs['container_id'])
    assert container.attrs['Config']['Cmd'] == ['/bin/echo', 'hello']
    assert container.wait(timeout=30)['StatusCode'] == 0
    assert container.logs().strip() == b'hello'
    # Everything the plugin makes carries the Cloudify identity.
    assert container.labels['cloudify.deployment'] == run.name
    assert container.labels['cloudify.node'] == 'db_server'
    assert container.labels['cloudify.node-instance'] == run.instances('db_server')[0].id
    image_labels = docker_client.images.get(props['image_id']).labels
    assert image_labels['cloudify.deployment'] == run.name
    assert image_labels['cloudify.node'] == 'db_server'

    run.uninstall()
    with pytest.raises(docker.errors.NotFound):
        docker_client.containers.get(outputs['container_id'])
    assert 'container_id' not in run.props('db_server')
    # remove_image was not asked for: the imported image stays, recorded.
    docker_client.images.remove(props['image_id'])


@pytest.mark.smoke
def test_seed_example_with_image_build_removes_its_image(local_run, docker_client, unique):
    tag = f'docker-plugin-test/{unique}:1'
    run = local_run('seed-build.yaml', {'tag': tag})
    outputs = run.install()

    image = docker_client.images.get(tag)
    assert image.id == outputs['image_id']
    assert image.labels['cloudify.deployment'] == run.name
    container = docker_client.containers.get(outputs['container_id'])
    container.wait(timeout=30)
    assert container.logs().strip() == b'hello from a build argument'

    run.uninstall()
    with pytest.raises(docker.errors.ImageNotFound):
        docker_client.images.get(tag)
    assert labelled_objects(docker_client, {'cloudify.deployment': run.name}) == {
        'containers': [], 'images': [], 'networks': [], 'volumes': []}


def test_every_seed_option_is_applied(local_run, docker_client, unique, labelled, tmp_path):
    network = docker_client.networks.create(f'{unique}-net', labels=labelled)
    data = tmp_path / 'data'
    data.mkdir()
    port = _free_port()
    run = local_run('seed-options.yaml', {
        'tag': f'docker-plugin-test/{unique}-web:1', 'host_port': port, 'data_dir': str(data),
        'network_mode': network.name, 'stop_timeout': 1, 'greeting': f'hi {unique}',
    }, name=unique)
    outputs = run.install()

    container = docker_client.containers.get(outputs['container_id'])
    env = dict(item.split('=', 1) for item in container.attrs['Config']['Env'])
    assert env['GREETING'] == f'hi {unique}' and env['PORT'] == '8080'
    # container_start's host options reached the engine: network, binds, ports.
    assert container.attrs['HostConfig']['NetworkMode'] == network.name
    assert list(outputs['networks']) == [network.name]
    assert outputs['ip'] == outputs['networks'][network.name]['ip'] != ''
    assert outputs['ports'] == {'8080/tcp': [{'host_ip': '127.0.0.1', 'host_port': port}]}
    body = _get(f'http://127.0.0.1:{port}/')
    assert body.strip() == f'hi {unique}'
    assert (data / 'started').read_text().startswith('started as ')
    # Only one container for the instance: the never-started one was replaced.
    assert len(docker_client.containers.list(
        all=True, filters={'label': f'cloudify.deployment={run.name}'})) == 1

    started = time.monotonic()
    run.operation('cloudify.interfaces.lifecycle.stop')
    elapsed = time.monotonic() - started
    container.reload()
    # The process ignores SIGTERM: it saw TERM, then was killed after the 1 s
    # timeout (the engine default would have waited 10 s).
    assert (data / 'signals').read_text().strip().startswith('TERM')
    assert container.attrs['State']['ExitCode'] == 137
    assert elapsed < 8, f'stop took {elapsed:.1f}s: container_stop.timeout ignored'
    assert run.props('web')['state'] == 'exited'

    image_id = container.image.id
    run.uninstall()
    with pytest.raises(docker.errors.ImageNotFound):
        docker_client.images.get(image_id)


def _get(url: str) -> str:
    deadline = time.monotonic() + 10
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_bad_input_fails_at_once_naming_the_field(local_run, docker_client, capsys):
    run = local_run('seed-example.yaml', {'image_url': '/nonexistent/rootfs.tar'})
    started = time.monotonic()
    with pytest.raises(WorkflowFailed) as failure:
        run.install(retries=5)
    assert 'docker_plugin.tasks.create' in str(failure.value)
    events = capsys.readouterr().out
    # the seed's first install operation validates the deployment before it makes anything
    assert (f"Task failed 'docker_plugin.tasks.create' -> 1 mistake in deployment {run.name}, "
            'found by validation before anything is made:\n  db_server.image_import.src: '
            "'/nonexistent/rootfs.tar' is neither an http(s) URL nor a readable file") in events
    assert 'Task rescheduled' not in events
    # NonRecoverableError: no retries were spent (each would cost a task round).
    assert time.monotonic() - started < 20
    assert labelled_objects(docker_client, {'cloudify.deployment': run.name})['containers'] == []


def test_reinstall_steps_converge_without_duplicates(local_run, docker_client, http_root):
    _, base_url = http_root
    run = local_run('seed-example.yaml', {'image_url': f'{base_url}/rootfs.tar'})
    run.install()
    first = run.props('db_server')['container_id']
    # Run every install operation again, as a resumed or retried execution would.
    for op in ('create', 'configure', 'start'):
        run.operation(f'cloudify.interfaces.lifecycle.{op}')
    assert run.props('db_server')['container_id'] == first
    # Even with the id lost (a crash right after the engine answered), the
    # container made for this instance is found by label, not made twice.
    instance = run.instances('db_server')[0]
    storage = run.env.storage
    stored = storage.get_node_instance(instance.id)
    stored.runtime_properties.pop('container_id')
    storage.update_node_instance(instance.id, runtime_properties=stored.runtime_properties,
                                 version=stored.version)
    run.operation('cloudify.interfaces.lifecycle.configure')
    assert run.props('db_server')['container_id'] == first
    found = docker_client.containers.list(
        all=True, filters={'label': f'cloudify.deployment={run.name}'})
    assert [c.id for c in found] == [first]
    image = run.props('db_server')['image_id']
    run.uninstall()
    # Already gone is success: a second uninstall converges too.
    run.installed = True
    run.uninstall()
    docker_client.images.remove(image)


def test_check_status_and_heal_replace_a_removed_container(local_run, docker_client, unique):
    run = local_run('peers.yaml', {'prefix': unique, 'instances': 2}, name=unique)
    run.install()
    run.execute('check_status')
    victim, survivor = sorted(run.instances('peer'), key=lambda i: i.id)
    victim_id = victim.runtime_properties['container_id']
    docker_client.containers.get(victim_id).remove(force=True)
    with pytest.raises(WorkflowFailed):
        run.execute('check_status')
    run.execute('heal', parameters={'node_instance_id': victim.id})
    healed = {i.id: i.runtime_properties for i in run.instances('peer')}
    assert healed[victim.id]['container_id'] != victim_id
    assert docker_client.containers.get(healed[victim.id]['container_id']).status == 'running'
    assert healed[survivor.id]['container_id'] == survivor.runtime_properties['container_id']
    run.execute('check_status')
    run.uninstall()
