"""Drift of whole applications: connections, networks, volumes and images, by workflow."""

from __future__ import annotations

import pytest
from cloudify.exceptions import WorkflowFailed
from helpers.cleanup import labelled_objects

pytestmark = [pytest.mark.engine, pytest.mark.blueprint]
NOTHING = {'containers': [], 'images': [], 'networks': [], 'volumes': []}
CHECK = 'cloudify.interfaces.lifecycle.check_drift'
UPDATE = 'cloudify.interfaces.lifecycle.update'


def _drift(run, node):
    return {d['option'] for d in run.props(node)['drift']}


def test_connections_networks_and_volumes_drift_and_come_back(local_run, docker_client, unique,
                                                              capsys):
    run = local_run('stack.yaml', {'prefix': unique, 'token': f'token-{unique}'}, name=unique)
    run.install()
    web = docker_client.containers.get(f'{unique}-web')
    net = docker_client.networks.get(f'{unique}-net')
    for node in ('web', 'client', 'private_net', 'shared_data'):
        run.operation(CHECK, [node])
        assert run.props(node)['drift'] == [], node
    run.execute('check_status')
    run.execute('pull')  # every node type refreshes itself from the engine
    assert run.props('private_net')['network_name'] == f'{unique}-net'
    assert run.props('web')['state'] == 'running'

    # By hand: the web container loses its fixed address and one of its aliases.
    net.disconnect(web)
    net.connect(web, aliases=['web'])
    run.operation(CHECK, ['web'])
    assert _drift(run, 'web') == {'aliases', 'ipv4_address'}
    run.operation(UPDATE, ['web'])
    web.reload()
    endpoint = web.attrs['NetworkSettings']['Networks'][f'{unique}-net']
    assert {'web', 'www'} <= set(endpoint['Aliases'])
    assert endpoint['IPAddress'] == '10.213.47.10'
    run.operation(CHECK, ['web'])
    assert run.props('web')['drift'] == []

    # Declared options the objects do not have: drift, and update says why not.
    run.operation(CHECK, ['private_net'], network_config={'driver': 'bridge', 'internal': False})
    assert _drift(run, 'private_net') == {'internal'}
    with pytest.raises(WorkflowFailed):
        run.operation(UPDATE, ['private_net'],
                      network_config={'driver': 'bridge', 'internal': False})
    assert ('internal changed; the network must be created again, but containers '
            f'{unique}-client, {unique}-web use it') in capsys.readouterr().out
    run.operation(CHECK, ['shared_data'], volume_config={'labels': {'tier': 'gold'}})
    assert _drift(run, 'shared_data') == {'labels'}
    with pytest.raises(WorkflowFailed):
        run.operation(UPDATE, ['shared_data'], volume_config={'labels': {'tier': 'gold'}})
    assert 'making it again would lose its data' in capsys.readouterr().out
    run.uninstall()
    assert labelled_objects(docker_client, {'cloudify.deployment': unique}) == NOTHING
