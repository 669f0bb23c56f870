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

    # Declared options the objects do not have: drift, each entry saying what update does;
    # the preview says update would fail, and why, and changes nothing; update then fails
    # in the same words.
    public = {'driver': 'bridge', 'internal': False}
    run.operation(CHECK, ['private_net'], network_config=public)
    assert _drift(run, 'private_net') == {'internal'}
    reason = (f'the network must be made again, but containers {unique}-client, {unique}-web '
              'use it: remove them first (or reinstall)')
    why = f'internal changed: {reason}'
    (entry,) = run.props('private_net')['drift']
    assert entry['action'] == 'refuse'
    assert entry['plan'] == f'update refuses: {reason} (on its own: the network made ' \
        'again with its declared options (while nothing is attached to it))'
    network_id = docker_client.networks.get(f'{unique}-net').id
    capsys.readouterr()
    run.operation(UPDATE, ['private_net'], network_config=public, preview=True)
    shown = capsys.readouterr().out
    assert 'Update preview of the network' in shown and f'update would fail: {why}' in shown
    assert docker_client.networks.get(f'{unique}-net').id == network_id
    with pytest.raises(WorkflowFailed):
        run.operation(UPDATE, ['private_net'], network_config=public)
    assert why in capsys.readouterr().out
    run.operation(CHECK, ['shared_data'], volume_config={'labels': {'tier': 'gold'}})
    assert _drift(run, 'shared_data') == {'labels'}
    with pytest.raises(WorkflowFailed):
        run.operation(UPDATE, ['shared_data'], volume_config={'labels': {'tier': 'gold'}})
    assert 'labels changed: a volume made again would lose its data' in capsys.readouterr().out
    run.uninstall()
    assert labelled_objects(docker_client, {'cloudify.deployment': unique}) == NOTHING
