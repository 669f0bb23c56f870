"""SwarmNode through Cloudify's local workflows, on the three-engine lab.

``blueprints/swarm-maintenance.yaml`` takes a worker out of the lab's swarm (a
service's task moves off it, the install waits for that), notices it set
active again by hand (check_drift), drains it again (update) and brings it
back on uninstall. ``files/swarm-nodes.yaml`` forms a swarm and declares its
nodes through their Engine nodes (node_of_engine): labels that place a
service, a paused worker promoted by ``update`` and given back, and every
engine out again after uninstall.
"""

from __future__ import annotations

import json
import time

import pytest

pytestmark = [pytest.mark.engine, pytest.mark.blueprint]
UPDATE = 'cloudify.interfaces.lifecycle.update'
DRIFT = 'cloudify.interfaces.lifecycle.check_drift'
LOOP = 'trap "exit 0" TERM; while true; do sleep 1; done'


def _spec(manager, host: str) -> dict:
    return json.loads(manager.docker('node', 'inspect', host, '--format', '{{json .Spec}}'))


def _hosts(manager, service: str) -> list[str]:
    """Hosts of a service's running tasks, once as many run as it wants (bounded)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        lines = manager.docker('service', 'ps', service, '--filter', 'desired-state=running',
                               '--format', '{{.Node}} {{.CurrentState}}').splitlines()
        if lines and all(' Running ' in f' {line} ' for line in lines):
            return sorted(line.split()[0] for line in lines)
        time.sleep(0.5)
    raise AssertionError(f'{service}: tasks not running within 60s')


def test_the_maintenance_blueprint_takes_a_node_out_and_back(local_run, swarm, unique):
    manager, target = swarm.manager, swarm.engines[2]
    service = f'{unique}-web'
    manager.docker('service', 'create', '--detach', '--name', service, '--label',
                   f'cloudify.deployment={unique}', '--mode', 'global', '--endpoint-mode',
                   'dnsrr', '--stop-grace-period', '1s', swarm.ref('app:v1'), 'sh', '-c', LOOP)
    assert target.name in _hosts(manager, service)
    run = local_run('swarm-maintenance.yaml', {'manager': manager.daemon_client(),
                                               'node': target.name,
                                               'labels': {'maintenance': unique},
                                               'timeout': 60}, name=unique)
    try:
        outputs = run.install()
        assert outputs['hostname'] == target.name and outputs['availability'] == 'drain'
        assert outputs['drained']['data']['stopped'] == [service]
        assert target.name not in _hosts(manager, service)
        assert _spec(manager, target.name) == {'Labels': {'maintenance': unique},
                                               'Role': 'worker', 'Availability': 'drain'}

        manager.docker('node', 'update', '--availability', 'active', target.name)
        run.operation(DRIFT, node_ids=['maintenance'])
        assert [(d['option'], d['actual']) for d in run.props('maintenance')['drift']] == [
            ('availability', 'active')]
        run.operation(UPDATE, node_ids=['maintenance'])
        assert run.props('maintenance')['drift'] == []
        assert _spec(manager, target.name)['Availability'] == 'drain'
        run.execute('pull')
        assert run.props('maintenance')['state'] == 'ready'
        run.uninstall()
        assert _spec(manager, target.name) == {'Labels': {}, 'Role': 'worker',
                                               'Availability': 'active'}
        assert [e.swarm_state() for e in swarm.engines] == ['active'] * 3
    finally:
        manager.docker('node', 'update', '--availability', 'active', '--label-rm',
                       'maintenance', target.name, check=False)


def test_a_blueprint_declares_its_nodes_through_their_engines(local_run, swarm_lab, unique):
    lab = swarm_lab
    lab.ensure_unformed()
    first, second, third = lab.engines
    run = local_run('../tests/blueprints/files/swarm-nodes.yaml', {
        'first': first.daemon_client(), 'first_address': first.address,
        'second': second.daemon_client(), 'second_address': second.address,
        'third': third.daemon_client(), 'third_address': third.address,
        'image': lab.ref('app:v1'), 'prefix': unique}, name=unique)
    outputs = run.install()
    assert outputs['nodes'] == [first.name, second.name, third.name]
    assert _hosts(first, f'{unique}-web') == [second.name, second.name]
    # Labels besides those the join set (which instance joined it) stay: allow more.
    labels = {e.name: _spec(first, e.name)['Labels'] for e in lab.engines}
    assert labels[first.name] == {'zone': 'control'}
    assert labels[second.name]['zone'] == 'web' and labels[third.name]['zone'] == 'batch'
    assert 'cloudify.node-instance' in labels[second.name]
    assert _spec(first, third.name)['Availability'] == 'pause'

    run.operation(UPDATE, node_ids=['third_node'], role='manager')
    assert run.props('third_node')['role'] == 'manager'
    assert first.docker('node', 'inspect', third.name, '--format',
                        '{{.ManagerStatus.Reachability}}') == 'reachable'
    run.operation('cloudify.interfaces.validation.check_status', node_ids=['third_node'])
    run.uninstall()
    assert [e.swarm_state() for e in lab.engines] == ['inactive'] * 3
