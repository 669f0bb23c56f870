"""The ``pull`` workflow on every swarm node type, against the real three-engine lab.

Changes made behind the plugin's back (a node drained, a service scaled and
given a label by the CLI) show in the runtime properties after ``pull``; a
service removed by hand makes ``pull`` fail naming it. The swarm is the
lab's (adopted, kept); everything else is removed on uninstall.
"""

from __future__ import annotations

import pytest
from cloudify.exceptions import WorkflowFailed

pytestmark = [pytest.mark.engine, pytest.mark.blueprint]
BLUEPRINT = '../tests/blueprints/files/swarm-pull.yaml'


def _deploy(local_run, swarm, unique):
    return local_run(BLUEPRINT, {'manager': swarm.manager.daemon_client(),
                                 'worker': swarm.engines[2].daemon_client(), 'name': unique,
                                 'image': swarm.ref('app:v1')}, name=unique)


def test_pull_refreshes_every_swarm_node_from_the_engines(local_run, swarm, unique):
    run = _deploy(local_run, swarm, unique)
    run.install()
    manager, worker = swarm.manager, swarm.engines[2]
    before = {node: run.props(node) for node in ('swarm', 'worker', 'token', 'page', 'svc')}
    assert before['svc']['service_name'] == unique

    worker_node = worker.docker('info', '--format', '{{.Swarm.NodeID}}')
    manager.docker('node', 'update', '--availability', 'drain', worker_node)
    try:
        manager.docker('service', 'scale', '--detach', f'{unique}=2')
        run.execute('pull')
        after = {node: run.props(node) for node in before}
    finally:
        manager.docker('node', 'update', '--availability', 'active', worker_node)

    drained = [n for n in after['swarm']['nodes'] if n['id'] == worker_node]
    assert [n['availability'] for n in drained] == ['drain']
    assert after['swarm']['swarm_id'] == before['swarm']['swarm_id']
    assert after['swarm']['manager_addresses']
    assert after['worker']['swarm_state'] == 'active' and after['worker']['engine_version']
    assert after['svc']['service_version'] > before['svc']['service_version']
    assert after['svc']['status']['desired'] == 2
    assert 'replicas' not in after['svc']  # a pull reports; it does not adopt the change
    for node, kind in (('token', 'secret'), ('page', 'config')):
        assert after[node][f'{kind}_id'] == before[node][f'{kind}_id']
        assert after[node]['labels']['cloudify.deployment'] == unique
    assert after['token']['labels']['role'] == 'token'

    run.uninstall()
    assert manager.docker('service', 'ls', '-q', '--filter', f'name={unique}') == ''
    assert manager.swarm_state() == 'active'  # adopted: kept


def test_pull_of_a_service_removed_by_hand_names_it(local_run, swarm, unique, capsys):
    run = _deploy(local_run, swarm, unique)
    run.install()
    swarm.manager.docker('service', 'rm', unique)
    with pytest.raises(WorkflowFailed):
        run.execute('pull', parameters={'node_ids': ['svc']})
    assert f'service {unique} no longer exists' in capsys.readouterr().out
    run.uninstall()
