"""The SwarmNode kind without an engine: its option table, what it sends and gives back,
the drain look, refusing to demote the last manager.

A small fake swarm stands in for the managers' API (nodes, tasks, services): the
drain's stages and a swarm with one manager cannot be had on demand from a real one.
``tests/integration/test_swarm_nodes.py`` does the same on the three-engine lab.
"""

from __future__ import annotations

import copy
from typing import Any

import docker.errors
import pytest
from cloudify.exceptions import NonRecoverableError
from helpers.fakes import api_error, fake_engine
from helpers.mock_ctx import node_ctx

from docker_plugin.errors import InvalidInputError, StateError
from docker_plugin.options.base import Compare
from docker_plugin.options.swarm import NODE_DRAIN, SWARM_NODE
from docker_plugin.resources import drift, waiting
from docker_plugin.resources.swarm import nodes
from docker_plugin.tasks import swarm_node, waits

DOWN = {'base_url': 'tcp://127.0.0.1:9', 'version': '1.41', 'timeout': 1}


def _node(node_id: str, host: str, role: str = 'worker', availability: str = 'active',
          labels: dict | None = None, state: str = 'ready') -> dict[str, Any]:
    info = {'ID': node_id, 'Version': {'Index': 1},
            'Description': {'Hostname': host, 'Engine': {'EngineVersion': '20.10'}},
            'Spec': {'Role': role, 'Availability': availability, 'Labels': labels or {}},
            'Status': {'State': state, 'Addr': '10.0.0.1'}}
    if role == 'manager':
        info['ManagerStatus'] = {'Reachability': 'reachable', 'Leader': True}
    return info


class FakeSwarm:
    """The managers' API over nodes, services and tasks held in memory."""

    api_version = '1.41'

    def __init__(self, *found: dict[str, Any], talks_to: str = 'm1'):
        self.found = {n['ID']: n for n in found}
        self.services: dict[str, dict] = {}
        self.task_list: list[dict] = []
        self.talks_to = talks_to
        self.updates: list[tuple[str, dict]] = []
        self.looked = 0  # node inspections: a drain's look starts with one
        self.on_look = lambda looked: None  # what the orchestrator does meanwhile

    def nodes(self, filters=None):
        return copy.deepcopy(list(self.found.values()))

    def inspect_node(self, node_id):
        self.looked += 1
        self.on_look(self.looked)
        if node_id not in self.found:
            raise api_error(404, f'node {node_id} not found', docker.errors.NotFound)
        return copy.deepcopy(self.found[node_id])

    def update_node(self, node_id, version, node_spec):
        node = self.found[node_id]
        assert version == node['Version']['Index']
        node['Spec'] = copy.deepcopy(node_spec)
        node['Version']['Index'] += 1
        if node_spec['Role'] == 'manager':
            node['ManagerStatus'] = {'Reachability': 'reachable'}
        else:
            node.pop('ManagerStatus', None)
        self.updates.append((node_id, copy.deepcopy(node_spec)))

    def info(self):
        return {'Swarm': {'NodeID': self.talks_to, 'LocalNodeState': 'active'}}

    def tasks(self, filters=None):
        filters = filters or {}
        return [copy.deepcopy(t) for t in self.task_list
                if all(t.get({'node': 'NodeID', 'service': 'ServiceID'}[k]) == v
                       for k, v in filters.items())]

    def inspect_service(self, service_id):
        if service_id not in self.services:
            raise api_error(404, f'service {service_id} not found', docker.errors.NotFound)
        return copy.deepcopy(self.services[service_id])

    # -- what a drain does, stage by stage
    def service(self, service_id: str, name: str, mode: str = 'replicated',
                replicas: int = 3) -> None:
        spec_mode = {'Replicated': {'Replicas': replicas}} if mode == 'replicated' else \
            {'Global': {}}
        self.services[service_id] = {'ID': service_id, 'Spec': {'Name': name,
                                                                'Mode': spec_mode}}

    def task(self, task_id: str, service_id: str, node_id: str, slot: int | None,
             state: str = 'running', desired: str = 'running', err: str = '') -> dict:
        task = {'ID': task_id, 'ServiceID': service_id, 'NodeID': node_id, 'Slot': slot,
                'DesiredState': desired, 'Status': {'State': state, 'Err': err}}
        self.task_list.append(task)
        return task


@pytest.fixture
def fake():
    swarm = FakeSwarm(_node('m1', 'manager-1', 'manager'), _node('w1', 'worker-1'),
                      _node('w2', 'worker-2', labels={'zone': 'a', 'kept': 'x'}))
    with fake_engine(swarm):
        yield swarm


def _ctx(properties: dict | None = None, runtime: dict | None = None, retry: int = 0):
    return node_ctx('dep', properties={'daemon_client': DOWN, **(properties or {})},
                    runtime=runtime, node='swarm_node', retry=retry)


# ------------------------------------------------------------------ the table
@pytest.mark.parametrize(('raw', 'field'), [
    ({'availability': 'off'}, 'availability'),
    ({'role': 'leader'}, 'role'),
    ({'labels': {'': 'x'}}, 'labels.'),
    ({'node': 'bad name!'}, 'node'),
    ({'comparisons': {'node': 'strict'}}, 'comparisons.node'),
    ({'comparisons': {'role': 'allow_more_present'}}, 'comparisons.role'),
    ({'avail': 'drain'}, 'avail'),
])
def test_the_table_names_the_field_of_a_bad_value(raw, field):
    with pytest.raises(InvalidInputError) as failure:
        SWARM_NODE.validate(raw, '')
    assert failure.value.field == field


@pytest.mark.parametrize(('raw', 'field'), [
    ({'timeout': 0}, 'drain_wait.timeout'), ({'async': 'yes'}, 'drain_wait.async'),
    ({'interval': 600}, 'drain_wait.interval')])
def test_the_drain_wait_names_its_field(raw, field):
    with pytest.raises(InvalidInputError) as failure:
        NODE_DRAIN.parse(raw, 'drain_wait')
    assert failure.value.field == field


def test_labels_allow_more_present_unless_strict():
    declared = {'labels': {'zone': 'a'}}
    info = {'Spec': {'Availability': 'active', 'Role': 'worker',
                     'Labels': {'zone': 'a', 'added-by': 'someone'}}}

    def found(rules=None):
        return drift.differences(SWARM_NODE, declared, drift.desired_view(SWARM_NODE, declared),
                                 info, rules=rules)
    assert found() == []
    strict = SWARM_NODE.rules({'labels': 'strict'}, declared)
    assert strict == {'labels': Compare.SET}
    [difference] = found(strict)
    assert (difference.option, difference.path, difference.updatable) == \
        ('labels', 'Spec.Labels', True)
    assert SWARM_NODE.rules({'labels': 'ignore'}, declared) == {'labels': Compare.IGNORE}
    assert found(SWARM_NODE.rules({'labels': 'ignore'}, declared)) == []


def test_availability_and_role_compare_strictly_and_update_in_place():
    declared = {'availability': 'drain', 'role': 'manager'}
    info = {'Spec': {'Availability': 'active', 'Role': 'worker'}}
    found = drift.differences(SWARM_NODE, declared, drift.desired_view(SWARM_NODE, declared),
                              info)
    assert {(d.option, d.desired, d.actual) for d in found} == {
        ('availability', 'drain', 'active'), ('role', 'manager', 'worker')}
    assert all(d.updatable for d in found)


# ------------------------------------------------------------------ pure helpers
def test_a_node_is_found_by_id_host_name_or_unique_prefix():
    listed = [_node('abcd1234', 'web'), _node('abce9999', 'db'),
              _node('old00000', 'db', state='down')]
    assert [n['ID'] for n in nodes.matching(listed, 'abcd1234')] == ['abcd1234']
    assert [n['ID'] for n in nodes.matching(listed, 'db')] == ['abce9999']  # not the old one
    assert [n['ID'] for n in nodes.matching(listed, 'abcd')] == ['abcd1234']
    assert len(nodes.matching(listed, 'abc0')) == 0
    assert len(nodes.matching(listed, 'abc')) == 0  # too short for an id
    assert len(nodes.matching(listed, 'abc' + 'e')) == 1
    assert len(nodes.matching([_node('a1111', 'x'), _node('a1112', 'x')], 'x')) == 2


def test_what_a_deployment_set_is_given_back_where_the_node_still_holds_it():
    found_as = {'availability': 'active', 'role': 'worker', 'labels': {'zone': 'a', 'old': '1'}}
    before = {'Availability': 'active', 'Role': 'worker', 'Labels': {'zone': 'a', 'old': '1'}}
    after = nodes.wanted_spec(before, {'availability': 'drain', 'labels': {'zone': 'b',
                                                                           'new': '2'}}, False)
    assert after['Labels'] == {'zone': 'b', 'old': '1', 'new': '2'}
    set_by_us = nodes.applied(before, after)
    assert set_by_us == {'availability': 'drain', 'labels': {'zone': 'b', 'new': '2'}}
    assert nodes.restoring(found_as, set_by_us, after) == before
    # someone changed availability and a label since: theirs stays
    changed = {**after, 'Availability': 'pause', 'Labels': {**after['Labels'], 'new': 'mine'}}
    back = nodes.restoring(found_as, set_by_us, changed)
    assert back['Availability'] == 'pause'
    assert back['Labels'] == {'zone': 'a', 'old': '1', 'new': 'mine'}
    # strict labels removed one: it comes back
    strict = nodes.wanted_spec(before, {'labels': {'zone': 'a'}}, True)
    removed = nodes.applied(before, strict)
    assert removed == {'labels': {'old': None}}
    assert nodes.restoring(found_as, removed, strict)['Labels'] == {'zone': 'a', 'old': '1'}
    # two changes: the later wins, label by label
    assert nodes.merge_applied({'role': 'manager', 'labels': {'a': '1'}},
                               {'labels': {'b': None}}) == {'role': 'manager',
                                                            'labels': {'a': '1', 'b': None}}


# ------------------------------------------------------------------ the drain look
def _look(fake: FakeSwarm, node_id: str = 'w2'):
    baseline = nodes.drain_baseline(fake, node_id)
    return baseline, nodes.drain_look(fake, baseline), waiting.start(60)


def test_the_drain_waits_until_the_tasks_run_elsewhere(fake):
    fake.service('s1', 'web')
    fake.service('g1', 'agent', mode='global')
    fake.task('t1', 's1', 'w1', 1)
    moving = fake.task('t2', 's1', 'w2', 2)
    agent = fake.task('t3', 'g1', 'w2', None)
    fake.task('old', 's1', 'w2', 3, state='shutdown', desired='shutdown')
    baseline, look, state = _look(fake)
    assert baseline['services'] == {'s1': {'name': 'web', 'mode': 'replicated', 'slots': [2]},
                                    'g1': {'name': 'agent', 'mode': 'global', 'slots': []}}
    seen = look(state)
    assert isinstance(seen, waiting.Pending)
    assert '2 tasks still on the node' in seen.seen and 'web.2 (not scheduled yet)' in seen.seen
    # the orchestrator shuts them down there and schedules slot 2 elsewhere
    moving['DesiredState'] = agent['DesiredState'] = 'shutdown'
    moving['Status']['State'] = agent['Status']['State'] = 'shutdown'
    replacement = fake.task('t4', 's1', 'm1', 2, state='preparing')
    # the global orchestrator's next task for the node stays pending: it is not on it
    fake.task('t5', 'g1', 'w2', None, state='pending')
    seen = look(state)
    assert isinstance(seen, waiting.Pending) and seen.seen == \
        'to start elsewhere: web.2 (preparing)'
    replacement['Status']['State'] = 'running'
    done = look(state)
    assert done == waiting.Done({'moved': ['web.2'], 'stopped': ['agent'], 'cannot_move': [],
                                 'node_down': False})
    assert nodes.describe_drain(done.value) == \
        '1 tasks run elsewhere; global services stopped there: agent'


def test_what_cannot_move_is_said_not_waited_for(fake):
    fake.service('s1', 'pinned', replicas=1)
    pinned = fake.task('t1', 's1', 'w2', 1)
    _, look, state = _look(fake)
    pinned['DesiredState'], pinned['Status']['State'] = 'shutdown', 'shutdown'
    fake.task('t2', 's1', '', 1, state='pending',
              err='no suitable node (scheduling constraints not satisfied on 3 nodes)')
    done = look(state)
    assert isinstance(done, waiting.Done)
    assert done.value['cannot_move'] == [
        'pinned.1 (no suitable node (scheduling constraints not satisfied on 3 nodes))']
    assert 'cannot move' in nodes.describe_drain(done.value)


def test_a_service_removed_or_scaled_down_meanwhile_has_nothing_to_move(fake):
    fake.service('s1', 'gone')
    fake.service('s2', 'smaller', replicas=3)
    first = fake.task('t1', 's1', 'w2', 1)
    second = fake.task('t2', 's2', 'w2', 3)
    _, look, state = _look(fake)
    for task in (first, second):
        task['DesiredState'], task['Status']['State'] = 'shutdown', 'shutdown'
    del fake.services['s1']
    fake.services['s2']['Spec']['Mode']['Replicated']['Replicas'] = 2
    assert look(state) == waiting.Done({'moved': ['gone.1', 'smaller.3'], 'stopped': [],
                                        'cannot_move': [], 'node_down': False})


def test_a_node_that_is_down_is_not_waited_for_and_one_that_left_fails(fake):
    fake.service('s1', 'web')
    fake.task('t1', 's1', 'w2', 1)
    _, look, state = _look(fake)
    fake.found['w2']['Status']['State'] = 'down'
    fake.task('t2', 's1', 'w1', 1)
    done = look(state)
    assert isinstance(done, waiting.Done) and done.value['node_down'] is True
    del fake.found['w2']
    with pytest.raises(StateError, match='left the swarm'):
        look(state)


# ------------------------------------------------------------------ operations
def test_create_adopts_records_and_applies(fake):
    ctx = _ctx({'node': 'worker-2', 'labels': {'zone': 'b'}, 'role': 'manager'})
    swarm_node.create(ctx=ctx)
    props = ctx.instance.runtime_properties
    assert props['swarm_node_id'] == 'w2' and props['hostname'] == 'worker-2'
    assert props['adopted'] is True
    assert props['found'] == {'availability': 'active', 'role': 'worker',
                              'labels': {'zone': 'a', 'kept': 'x'}}
    assert props['applied'] == {'role': 'manager', 'labels': {'zone': 'b'}}
    assert fake.found['w2']['Spec'] == {'Role': 'manager', 'Availability': 'active',
                                        'Labels': {'zone': 'b', 'kept': 'x'}}
    assert swarm_node.check_drift(ctx=ctx) == []
    swarm_node.check_status(ctx=ctx)
    # a change by hand, seen by drift, put back by update
    fake.found['w2']['Spec']['Labels']['zone'] = 'c'
    [difference] = swarm_node.check_drift(ctx=ctx)
    assert (difference['option'], difference['desired'], difference['actual']) == (
        'labels', {'zone': 'b'}, {'zone': 'c', 'kept': 'x'})
    assert swarm_node.update(ctx=ctx) == []
    assert fake.found['w2']['Spec']['Labels'] == {'zone': 'b', 'kept': 'x'}
    # delete gives back what the deployment set (a manager demoted: another is left)
    swarm_node.delete(ctx=ctx)
    assert fake.found['w2']['Spec'] == {'Role': 'worker', 'Availability': 'active',
                                        'Labels': {'zone': 'a', 'kept': 'x'}}
    assert not {'swarm_node_id', 'found', 'applied', 'adopted'} & set(props)


def test_delete_with_retain_leaves_the_node_as_it_is(fake):
    ctx = _ctx({'node': 'w1', 'availability': 'pause', 'retain': True})
    swarm_node.create(ctx=ctx)
    swarm_node.delete(ctx=ctx)
    assert fake.found['w1']['Spec']['Availability'] == 'pause'


def test_a_node_is_never_made_or_removed(fake):
    for flag in ('create_if_missing', 'delete_adopted'):
        with pytest.raises(NonRecoverableError, match=f'^{flag}: a swarm node is adopted'):
            swarm_node.create(ctx=_ctx({'node': 'w1', flag: True}))
    with pytest.raises(NonRecoverableError, match=r"^node: no node of the swarm is 'nope'"):
        swarm_node.create(ctx=_ctx({'node': 'nope'}))
    with pytest.raises(NonRecoverableError, match=r'^node: required'):
        swarm_node.create(ctx=_ctx())
    assert fake.updates == []


def test_the_last_manager_is_never_demoted(fake):
    ctx = _ctx({'node': 'manager-1', 'role': 'worker'})
    with pytest.raises(NonRecoverableError,
                       match=r'^role: node manager-1 is the last reachable manager'):
        swarm_node.create(ctx=ctx)
    assert fake.updates == []


def test_the_manager_the_operation_talks_to_is_not_demoted(fake):
    fake.found['w1'] = _node('w1', 'worker-1', 'manager')
    with pytest.raises(NonRecoverableError, match=r'^role: node manager-1 is the manager this '
                                                  r'operation talks to'):
        swarm_node.create(ctx=_ctx({'node': 'm1', 'role': 'worker'}))
    assert fake.updates == []
    ctx = _ctx({'node': 'w1', 'role': 'worker'})
    swarm_node.create(ctx=ctx)  # another manager is left, and it is not the one talked to
    assert fake.found['w1']['Spec']['Role'] == 'worker'


def test_a_drain_holds_until_its_tasks_moved(fake):
    fake.service('s1', 'web')
    task = fake.task('t1', 's1', 'w2', 1)
    stages = []

    def orchestrate(looked):
        if fake.found['w2']['Spec']['Availability'] != 'drain':
            return
        stages.append(looked)
        task['DesiredState'], task['Status']['State'] = 'shutdown', 'shutdown'
        if len(stages) == 3:
            fake.task('t2', 's1', 'w1', 1)
    fake.on_look = orchestrate
    ctx = _ctx({'node': 'worker-2', 'availability': 'drain',
                'drain_wait': {'interval': 0.05, 'timeout': 30}})
    swarm_node.create(ctx=ctx)
    props = ctx.instance.runtime_properties
    assert props['availability'] == 'drain' and len(stages) >= 3
    assert props['drained']['data']['moved'] == ['web.1']
    assert props['drained']['message'] == 'node worker-2 drained: 1 tasks run elsewhere'
    assert waits.key('create') not in props


def test_an_async_drain_hands_back_to_cloudify_and_a_retry_resumes_it(fake):
    fake.service('s1', 'web')
    task = fake.task('t1', 's1', 'w2', 1)
    properties = {'node': 'w2', 'availability': 'drain', 'drain_wait': {'async': True}}
    ctx = _ctx(properties)
    swarm_node.create(ctx=ctx)
    assert ctx.operation._operation_retry is not None
    kept = ctx.instance.runtime_properties[waits.key('create')]
    assert kept['data']['baseline']['services']['s1']['slots'] == [1]
    assert fake.found['w2']['Spec']['Availability'] == 'drain'
    sent = len(fake.updates)
    task['DesiredState'], task['Status']['State'] = 'shutdown', 'shutdown'
    fake.task('t2', 's1', 'm1', 1)
    again = _ctx(properties, runtime=dict(ctx.instance.runtime_properties), retry=1)
    swarm_node.create(ctx=again)
    assert again.operation._operation_retry is None
    assert len(fake.updates) == sent  # the change is not sent twice
    assert again.instance.runtime_properties['drained']['data']['moved'] == ['web.1']
    assert waits.key('create') not in again.instance.runtime_properties


def test_a_drain_that_does_not_end_in_time_says_what_it_saw(fake):
    fake.service('s1', 'web')
    fake.task('t1', 's1', 'w2', 1)  # never shut down
    ctx = _ctx({'node': 'w2', 'availability': 'drain',
                'drain_wait': {'timeout': 0.2, 'interval': 0.05}})
    with pytest.raises(NonRecoverableError, match=r'swarm node worker-2 to drain: not done '
                                                  r'after 0.2s; last seen: 1 tasks still on '
                                                  r'the node: web.1 running'):
        swarm_node.create(ctx=ctx)
    assert waits.key('create') not in ctx.instance.runtime_properties


def test_check_status_names_what_is_wrong(fake):
    ctx = _ctx({'node': 'w1', 'availability': 'active'})
    swarm_node.create(ctx=ctx)
    fake.found['w1']['Status']['State'] = 'down'
    fake.found['w1']['Spec']['Availability'] = 'pause'
    with pytest.raises(NonRecoverableError, match=r'^swarm node worker-1: it is down; its '
                                                  r'availability is pause, not active$'):
        swarm_node.check_status(ctx=ctx)
    del fake.found['w1']
    with pytest.raises(NonRecoverableError, match='no longer exists'):
        swarm_node.check_status(ctx=ctx)


def test_what_the_engine_refuses_names_the_option(fake):
    def refuse(node_id, version, node_spec):
        raise api_error(400, 'invalid label: key must not be empty')
    fake.update_node = refuse
    with pytest.raises(NonRecoverableError, match=r'^labels: the engine refused the spec of '
                                                  r'swarm node worker-1: .*invalid label'):
        swarm_node.create(ctx=_ctx({'node': 'w1', 'labels': {'zone': 'a'}}))
    ctx = _ctx({'node': 'w1', 'availability': 'drain', 'labels': {'zone': 'a'}})
    with pytest.raises(NonRecoverableError, match=r'^labels: the engine refused'):
        swarm_node.create(ctx=ctx)
    assert waits.key('create') not in ctx.instance.runtime_properties  # no drain to wait for
