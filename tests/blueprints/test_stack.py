"""Whole applications: networks, volumes, relationships, many instances, adoption."""

from __future__ import annotations

import json
import time

import docker
import pytest
from cloudify.exceptions import WorkflowFailed
from helpers.cleanup import labelled_objects

pytestmark = [pytest.mark.engine, pytest.mark.blueprint]
NOTHING = {'containers': [], 'images': [], 'networks': [], 'volumes': []}


def _wait_for_log(container, *texts: str, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while True:
        logs = container.logs().decode()
        if all(t in logs for t in texts) or time.monotonic() > deadline:
            return logs
        time.sleep(0.25)


def _stack(local_run, unique, **inputs):
    return local_run('stack.yaml', {'prefix': unique, 'token': f'token-{unique}', **inputs},
                     name=unique)


@pytest.mark.smoke
def test_stack_talks_by_alias_and_shares_the_volume(local_run, docker_client, unique, capsys):
    secret = f'secret-{unique}-value'
    run = _stack(local_run, unique, api_key=secret)
    outputs = run.install()

    assert outputs['network'] == f'{unique}-net' and outputs['volume'] == f'{unique}-data'
    assert outputs['subnets'] == ['10.213.47.0/24']
    assert outputs['web_ip'] == '10.213.47.10'  # the fixed address from the relationship
    assert {'web', 'www'} <= set(outputs['web_networks'][f'{unique}-net']['aliases'])
    network = docker_client.networks.get(f'{unique}-net')
    assert network.attrs['Internal'] is True
    assert network.attrs['Labels']['cloudify.deployment'] == unique
    client = docker_client.containers.get(f'{unique}-client')
    # Only the private network: not also the default bridge.
    assert list(client.attrs['NetworkSettings']['Networks']) == [f'{unique}-net']
    mounts = {m['Destination']: m for m in client.attrs['Mounts']}
    assert mounts['/data']['Name'] == f'{unique}-data' and mounts['/data']['RW'] is False
    # Install waited for the client's report, and the outputs show it.
    assert outputs['client_saw'] == (f"logged 'via alias web: token-{unique}\\n"
                                     f"from the volume: token-{unique}'")
    logs = _wait_for_log(client, 'via alias web:', 'from the volume:')
    assert f'via alias web: token-{unique}' in logs
    assert f'from the volume: token-{unique}' in logs

    # The secret reached the container, and nothing the plugin wrote.
    web = docker_client.containers.get(f'{unique}-web')
    assert f'API_KEY={secret}' in web.attrs['Config']['Env']
    props = json.dumps([dict(i.runtime_properties) for i in run.instances()])
    assert secret not in props

    run.uninstall()
    events = capsys.readouterr().out
    assert secret not in events
    assert f'Disconnected container {client.id} from network {unique}-net' in events
    assert labelled_objects(docker_client, {'cloudify.deployment': unique}) == NOTHING
    with pytest.raises(docker.errors.NotFound):
        docker_client.volumes.get(f'{unique}-data')


def test_second_deployment_adopts_and_leaves_network_and_volume(local_run, docker_client,
                                                                unique):
    first = _stack(local_run, unique)
    first.install()
    second = local_run('stack-adopt.yaml', {'prefix': unique, 'reader_name': f'{unique}-reader'},
                       name=f'{unique}-b')
    outputs = second.install()
    assert outputs['network_adopted'] is True and outputs['volume_adopted'] is True
    # Cloudify's own mark of an adopted resource, beside the plugin's.
    for node in ('existing_net', 'existing_data'):
        props = second.props(node)
        assert props['__cloudify_tagged_external_resource'] is True, node
    reader = docker_client.containers.get(f'{unique}-reader')
    logs = _wait_for_log(reader, 'adopted network', 'adopted volume')
    assert f'adopted network, alias www: token-{unique}' in logs
    assert f'adopted volume: token-{unique}' in logs

    second.uninstall()
    with pytest.raises(docker.errors.NotFound):
        docker_client.containers.get(f'{unique}-reader')
    docker_client.networks.get(f'{unique}-net')  # still there
    docker_client.volumes.get(f'{unique}-data')
    docker_client.containers.get(f'{unique}-web')
    first.uninstall()
    assert labelled_objects(docker_client, {'cloudify.deployment': unique}) == NOTHING


def test_three_instances_get_their_own_names_and_reach_each_other(local_run, docker_client,
                                                                  unique):
    run = local_run('peers.yaml', {'prefix': unique, 'instances': 3}, name=unique)
    outputs = run.install()
    names = sorted(outputs['names'])
    assert len(set(names)) == 3 and all(n.startswith(f'{unique}-') for n in names)
    suffixes = sorted(i.id.split('_')[-1] for i in run.instances('peer'))
    assert names == sorted(f'{unique}-{s}' for s in suffixes)
    for name in names:
        container = docker_client.containers.get(name)
        for other in names:
            code, out = container.exec_run(['ping', '-c', '1', '-W', '2', other])
            assert code == 0, out
        code, out = container.exec_run(['nslookup', 'peer'])
        assert code == 0 and sum(ip in out.decode() for ip in outputs['addresses']) == 3, out
    run.uninstall()
    assert labelled_objects(docker_client, {'cloudify.deployment': unique}) == NOTHING


def test_network_and_volume_in_use_elsewhere_are_not_removed(local_run, docker_client, unique,
                                                             capsys):
    run = _stack(local_run, unique)
    run.install()
    foreign = docker_client.containers.create(
        'docker-plugin/busybox:latest', ['sleep', '60'], name=f'{unique}-foreign',
        labels={'docker-plugin-test': unique}, network=f'{unique}-net',
        volumes={f'{unique}-data': {'bind': '/x', 'mode': 'ro'}})
    try:
        with pytest.raises(WorkflowFailed):
            run.uninstall()
        events = capsys.readouterr().out
        # The workflow stops at the first refusal; either may come first.
        assert (f'network {unique}-net is still used by containers {unique}-foreign' in events
                or f'volume {unique}-data is still used by containers {unique}-foreign'
                in events), events[-2000:]
        docker_client.networks.get(f'{unique}-net')
        docker_client.volumes.get(f'{unique}-data')
    finally:
        foreign.remove(force=True)
    run.installed = True
    run.uninstall()
    assert labelled_objects(docker_client, {'cloudify.deployment': unique}) == NOTHING


def test_retained_volume_keeps_its_data(local_run, docker_client, unique):
    run = _stack(local_run, unique, retain_data=True)
    run.install()
    _wait_for_log(docker_client.containers.get(f'{unique}-client'), 'from the volume:')
    run.uninstall()
    volume = docker_client.volumes.get(f'{unique}-data')
    try:
        out = docker_client.containers.run(
            'docker-plugin/busybox:latest', ['cat', '/v/index.html'], remove=True,
            volumes={volume.name: {'bind': '/v', 'mode': 'ro'}})
        assert out.decode().strip() == f'token-{unique}'
    finally:
        volume.remove()
