"""SwarmNode and the Swarm node's key actions on the real three-engine lab.

A node is adopted, drained (a service's task moves to another engine and the
wait ends; a task pinned to the node is said to be unable to move), labelled,
changed by hand (drift) and put back (update), and given back as found on
delete; a worker is promoted and demoted, the last manager is not demoted; a
node is found through its engine (node_of_engine). Join tokens are rotated (the
old worker token no longer joins an engine) and the unlock key is read (masked
everywhere, in the file it was asked into). Each test leaves the lab formed as
it found it: one manager, two active workers without labels, no autolock.
"""

from __future__ import annotations

import json
import logging
import subprocess
import time

import pytest
from cloudify.exceptions import NonRecoverableError
from helpers.mock_ctx import Related, node_ctx

from docker_plugin import kinds
from docker_plugin.tasks import swarm_node
from docker_plugin.tasks.swarm import keys
from docker_plugin.tasks.swarm import lifecycle as swarm_tasks

pytestmark = [pytest.mark.engine]
LOOP = 'trap "exit 0" TERM; while true; do sleep 1; done'
ENGINE_RELATIONSHIP = kinds.relationship('node_of_engine').type_name


def _spec(engine, host: str) -> dict:
    return json.loads(engine.docker('node', 'inspect', host, '--format', '{{json .Spec}}'))


def _tasks(manager, service: str) -> dict[str, str]:
    """Running tasks of a service: name -> host name."""
    lines = manager.docker('service', 'ps', service, '--filter', 'desired-state=running',
                           '--format', '{{.Name}} {{.Node}} {{.CurrentState}}').splitlines()
    return {line.split()[0]: line.split()[1] for line in lines if ' Running ' in f' {line} '}


def _service(manager, name: str, unique: str, image: str, *args: str) -> None:
    manager.docker('service', 'create', '--detach', '--name', name, '--label',
                   f'cloudify.deployment={unique}', '--endpoint-mode', 'dnsrr',
                   '--stop-grace-period', '1s', *args, image, 'sh', '-c', LOOP)


def _until(check, what: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f'{what}: not within {timeout:g}s')


def _node_ctx(swarm, unique, **properties):
    return node_ctx(unique, node='swarm_node', properties={
        'daemon_client': swarm.manager.daemon_client(), **properties})


def _reset(swarm) -> None:
    """The lab as the tests expect it: workers active, unlabelled (after a failure too)."""
    for engine in swarm.engines[1:]:
        labels = _spec(swarm.manager, engine.name).get('Labels') or {}
        swarm.manager.docker('node', 'update', '--availability', 'active',
                             *(arg for key in labels for arg in ('--label-rm', key)),
                             engine.name, check=False)


def test_a_node_drains_its_tasks_move_and_it_is_given_back(swarm, unique, caplog):
    manager, target = swarm.manager, swarm.engines[2]
    image = swarm.ref('app:v1')
    _service(manager, f'{unique}-web', unique, image, '--replicas', '3',
             '--replicas-max-per-node', '2')
    _service(manager, f'{unique}-pinned', unique, image, '--constraint',
             f'node.hostname=={target.name}')
    _until(lambda: len(_tasks(manager, f'{unique}-web')) == 3 and
           _tasks(manager, f'{unique}-pinned'), 'services running')
    manager.docker('node', 'update', '--label-add', 'owner=ops', target.name)
    ctx = _node_ctx(swarm, unique, node=target.name, availability='drain',
                    labels={'zone': unique}, drain_wait={'timeout': 90, 'interval': 0.5})
    try:
        before = _tasks(manager, f'{unique}-web')
        started = time.monotonic()
        swarm_node.create(ctx=ctx)
        took = time.monotonic() - started
        props = ctx.instance.runtime_properties
        assert props['hostname'] == target.name and props['availability'] == 'drain'
        assert props['found']['availability'] == 'active'
        assert props['found']['labels'] == {'owner': 'ops'}
        after = _tasks(manager, f'{unique}-web')
        assert len(after) == 3 and target.name not in after.values()
        moved = [name for name, host in before.items() if host == target.name]
        assert moved, before  # spread: one of the three ran there
        assert sorted(props['drained']['data']['moved']) == sorted(moved)
        assert props['drained']['data']['cannot_move'][0].startswith(f'{unique}-pinned.1 (')
        assert 'no suitable node' in props['drained']['data']['cannot_move'][0]
        assert 'cannot move' in caplog.text and took < 60
        assert target.docker('ps', '-q', '--filter', 'label=com.docker.swarm.task') == ''
        assert _spec(manager, target.name)['Labels'] == {'owner': 'ops', 'zone': unique}
        swarm_node.check_status(ctx=ctx)
        assert swarm_node.check_drift(ctx=ctx) == []

        # Changed by hand: drift names both, update puts them back (labels allow more).
        manager.docker('node', 'update', '--availability', 'active', '--label-add',
                       f'zone={unique}-moved', '--label-add', 'extra=1', target.name)
        with pytest.raises(NonRecoverableError, match='its availability is active, not drain'):
            swarm_node.check_status(ctx=ctx)
        drift = {d['option']: (d['desired'], d['actual']) for d in
                 swarm_node.check_drift(ctx=ctx)}
        assert drift == {'availability': ('drain', 'active'),
                         'labels': ({'zone': unique}, {'owner': 'ops', 'extra': '1',
                                                       'zone': f'{unique}-moved'})}
        assert swarm_node.update(ctx=ctx) == []
        assert _spec(manager, target.name) == {
            'Labels': {'owner': 'ops', 'extra': '1', 'zone': unique}, 'Role': 'worker',
            'Availability': 'drain'}
        swarm_node.pull(ctx=ctx)

        # Uninstall gives back what the deployment set: active, its zone label gone.
        swarm_node.delete(ctx=ctx)
        assert _spec(manager, target.name) == {
            'Labels': {'owner': 'ops', 'extra': '1'}, 'Role': 'worker', 'Availability': 'active'}
        assert 'swarm_node_id' not in ctx.instance.runtime_properties
        assert manager.swarm_state() == 'active' and len(swarm.manager.docker(
            'node', 'ls', '-q').split()) == 3
    finally:
        _reset(swarm)


def test_an_async_drain_waits_through_retries(swarm, unique):
    manager, target = swarm.manager, swarm.engines[1]
    _service(manager, f'{unique}-web', unique, swarm.ref('app:v1'), '--mode', 'global')
    _until(lambda: len(_tasks(manager, f'{unique}-web')) == 3, 'global service running')
    properties = {'node': target.name, 'availability': 'drain',
                  'drain_wait': {'async': True, 'timeout': 60}}
    ctx = _node_ctx(swarm, unique, **properties)
    try:
        swarm_node.create(ctx=ctx)
        retries = 0
        while ctx.operation._operation_retry is not None:
            retries += 1
            assert retries < 120
            time.sleep(0.5)
            ctx = node_ctx(unique, node='swarm_node', retry=retries,
                           runtime=dict(ctx.instance.runtime_properties),
                           properties=dict(ctx.node.properties))
            swarm_node.create(ctx=ctx)
        assert retries >= 1  # it did wait through a retry
        assert ctx.instance.runtime_properties['drained']['data']['stopped'] == [
            f'{unique}-web']
        assert target.name not in _tasks(manager, f'{unique}-web').values()
        swarm_node.delete(ctx=ctx)
        assert _spec(manager, target.name)['Availability'] == 'active'
    finally:
        _reset(swarm)


def test_a_worker_is_promoted_and_demoted_and_the_last_manager_is_not(swarm, unique):
    manager, worker = swarm.manager, swarm.engines[1]
    promoted = _node_ctx(swarm, unique, node=worker.name, role='manager')
    try:
        swarm_node.create(ctx=promoted)
        status = manager.docker('node', 'inspect', worker.name, '--format',
                                '{{.Spec.Role}} {{.ManagerStatus.Reachability}}')
        assert status == 'manager reachable'
        swarm_node.check_status(ctx=promoted)

        # Two managers now, but the first is the one the operation talks to.
        first = _node_ctx(swarm, unique, node=manager.name, role='worker')
        with pytest.raises(NonRecoverableError, match=f'^role: node {manager.name} is the '
                                                      'manager this operation talks to'):
            swarm_node.create(ctx=first)
        swarm_node.delete(ctx=first)  # it set nothing, so it gives nothing back

        swarm_node.delete(ctx=promoted)  # given back: a worker again
        assert _spec(manager, worker.name)['Role'] == 'worker'
        last = _node_ctx(swarm, unique, node=manager.name, role='worker')
        with pytest.raises(NonRecoverableError, match=f'^role: node {manager.name} is the '
                                                      'last reachable manager'):
            swarm_node.create(ctx=last)
        assert _spec(manager, manager.name)['Role'] == 'manager'
    finally:
        manager.docker('node', 'demote', worker.name, check=False)
        swarm.wait_nodes_ready(3)


def test_a_node_is_found_through_its_engine_and_strict_labels_are_exact(swarm, unique):
    manager, engine = swarm.manager, swarm.engines[1]
    manager.docker('node', 'update', '--label-add', 'other=1', engine.name)
    related = [Related(ENGINE_RELATIONSHIP, 'engine', {},
                       target_properties={'daemon_client': engine.daemon_client()})]
    ctx = node_ctx(unique, node='swarm_node', related=related, properties={
        'daemon_client': manager.daemon_client(), 'labels': {'zone': 'b'},
        'comparisons': {'labels': 'strict'}})
    try:
        swarm_node.create(ctx=ctx)
        node_id = engine.docker('info', '--format', '{{.Swarm.NodeID}}')
        assert ctx.instance.runtime_properties['swarm_node_id'] == node_id
        assert _spec(manager, engine.name)['Labels'] == {'zone': 'b'}
        manager.docker('node', 'update', '--label-add', 'late=1', engine.name)
        [drift] = swarm_node.check_drift(ctx=ctx)
        assert drift['actual'] == {'zone': 'b', 'late': '1'}
        swarm_node.update(ctx=ctx)
        assert _spec(manager, engine.name)['Labels'] == {'zone': 'b'}
        swarm_node.delete(ctx=ctx)  # the removed label comes back; the one set goes
        assert _spec(manager, engine.name)['Labels'] == {'other': '1'}
    finally:
        _reset(swarm)


def _adopted_swarm(swarm, unique):
    ctx = node_ctx(unique, node='swarm', properties={
        'daemon_client': swarm.manager.daemon_client(), 'use_external_resource': True})
    swarm_tasks.create(ctx=ctx)
    return ctx


def test_rotated_join_tokens_stop_working(swarm, unique, caplog):
    caplog.set_level(logging.DEBUG)
    manager, leaver = swarm.manager, swarm.engines[2]
    old = {role: manager.docker('swarm', 'join-token', '-q', role)
           for role in ('worker', 'manager')}
    ctx = _adopted_swarm(swarm, unique)
    assert keys.rotate_join_tokens(ctx=ctx, role='worker') == {'roles': ['worker']}
    new = {role: manager.docker('swarm', 'join-token', '-q', role)
           for role in ('worker', 'manager')}
    assert new['worker'] != old['worker'] and new['manager'] == old['manager']
    assert keys.rotate_join_tokens(ctx=ctx) == {'roles': ['worker', 'manager']}
    newest = {role: manager.docker('swarm', 'join-token', '-q', role)
              for role in ('worker', 'manager')}
    assert newest['manager'] != old['manager']

    # The old worker token no longer lets an engine in; the current one does.
    old_node = leaver.docker('info', '--format', '{{.Swarm.NodeID}}')
    leaver.docker('swarm', 'leave', '--force')
    try:
        refused = subprocess.run(
            [*leaver.cli(), 'swarm', 'join', '--token', old['worker'], '--advertise-addr',
             leaver.address, f'{manager.address}:2377'], capture_output=True, text=True,
            timeout=60)
        assert refused.returncode != 0 and leaver.swarm_state() == 'inactive'
    finally:
        leaver.docker('swarm', 'join', '--token', newest['worker'], '--advertise-addr',
                      leaver.address, f'{manager.address}:2377')
        manager.docker('node', 'rm', '--force', old_node, check=False)
        swarm.wait_nodes_ready(3)
    seen = caplog.text + json.dumps(dict(ctx.instance.runtime_properties))
    for token in (*old.values(), *new.values(), *newest.values()):
        assert token not in seen
    swarm_tasks.delete(ctx=ctx)
    assert manager.swarm_state() == 'active'


def test_the_unlock_key_goes_into_the_file_asked_for_and_nowhere_else(swarm, unique,
                                                                      tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    manager = swarm.manager
    ctx = _adopted_swarm(swarm, unique)
    target = tmp_path / 'unlock.key'
    with pytest.raises(NonRecoverableError, match='autolock_managers is off'):
        keys.unlock_key(ctx=ctx, file=str(target))
    manager.docker('swarm', 'update', '--autolock=true')
    try:
        assert keys.unlock_key(ctx=ctx, file=str(target)) == {
            'secret': None, 'file': str(target), 'rotated': False}
        first = manager.docker('swarm', 'unlock-key', '-q')
        assert target.read_text() == first + '\n'
        assert oct(target.stat().st_mode & 0o777) == '0o600'
        keys.unlock_key(ctx=ctx, file=str(target), rotate=True)
        second = manager.docker('swarm', 'unlock-key', '-q')
        assert second != first and target.read_text() == second + '\n'
        results = ctx.instance.runtime_properties['unlock_key_stored']
        assert results['message'] == (f'a new unlock key (the old one no longer works) '
                                      f'stored in file {target}')
    finally:
        manager.docker('swarm', 'update', '--autolock=false')
    seen = caplog.text + json.dumps(dict(ctx.instance.runtime_properties))
    assert first not in seen and second not in seen and 'SWMKEY' not in seen
    swarm_tasks.delete(ctx=ctx)
