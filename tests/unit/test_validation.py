"""Validation of a whole deployment (tasks/validation.py) over planned nodes made as the
local storage and the REST service give them (tasks/deployment.py), with a mock ctx and,
where host ports are looked at, a fake engine."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml
from cloudify.exceptions import NonRecoverableError, RecoverableError
from helpers.fakes import fake_api, fake_engine
from helpers.mock_ctx import node_ctx

from docker_plugin import kinds
from docker_plugin.errors import InvalidDeploymentError, Mistake
from docker_plugin.tasks import deployment, validation

REPO = Path(__file__).resolve().parents[2]
PLUGIN = yaml.safe_load((REPO / 'plugin.yaml').read_text())
BASE = 'docker-plugin/busybox:latest'
DOWN = {'base_url': 'tcp://127.0.0.1:9', 'version': '1.41', 'timeout': 2}


def _defaults(type_name: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    while type_name.startswith(kinds.PREFIX_NODE):
        declared = PLUGIN['node_types'][type_name]
        for name, prop in (declared.get('properties') or {}).items():
            found.setdefault(name, prop.get('default'))
        type_name = declared['derived_from']
    return found


def rel(short: str, to: str, **properties: Any) -> dict[str, Any]:
    entry = kinds.relationship(short)
    return {'type': entry.type_name, 'target_id': to, 'properties': properties,
            'type_hierarchy': ['cloudify.relationships.depends_on', entry.derived_from,
                               entry.type_name]}


def typed(node_id: str, kind: str, instances: int = 1, relationships: tuple = (),
          **properties: Any) -> dict[str, Any]:
    """A node of one of the plugin's types, as a plan holds it."""
    entry = kinds.node(kind)
    operations = {f'{interface.name}.{op.name}': {'operation': entry.path(interface, op),
                                                  'plugin': 'docker', 'inputs': {}}
                  for interface, op in entry.operations()}
    return {'id': node_id, 'type': entry.type_name,
            'type_hierarchy': ['cloudify.nodes.Root', kinds.type_name('base'), entry.type_name],
            'properties': {**_defaults(entry.type_name), **properties},
            'operations': operations, 'relationships': list(relationships),
            'number_of_instances': instances}


def seed(node_id: str, **operations: dict[str, Any]) -> dict[str, Any]:
    """A seed-style node: another type whose lifecycle maps the plugin's tasks."""
    paths = {'create': 'create', 'configure': 'configure', 'start': 'run', 'stop': 'stop',
             'delete': 'delete', 'validate': 'validate'}
    return {'id': node_id, 'type': 'cloudify.nodes.DBMS',
            'type_hierarchy': ['cloudify.nodes.Root', 'cloudify.nodes.DBMS'],
            'properties': {}, 'relationships': [], 'number_of_instances': 1,
            'operations': {
                (f'{kinds.VALIDATION}.create' if name == 'validate' else
                 f'{kinds.LIFECYCLE}.{name}'): {
                    'operation': f'docker_plugin.tasks.{paths[name]}', 'inputs': inputs}
                for name, inputs in operations.items()}}


def report(*nodes: dict[str, Any], deployment_id: str = 'dep') -> list[str]:
    """Validation's lines for these nodes (no engine: their engine is a closed port)."""
    ctx = node_ctx(deployment_id)
    planned = [deployment.planned(node) for node in nodes]
    found = validation.check(ctx, planned)
    return [mistake.line(1000) for mistake in found.mistakes]


def container(node_id: str, config: Any, **more: Any) -> dict[str, Any]:
    return typed(node_id, 'container', container_config=config, daemon_client=DOWN, **more)


# ------------------------------------------------------------------ the cases
def test_two_mistakes_in_two_nodes_are_named_at_once():
    lines = report(container('db', {'image': BASE, 'mem_limit': 'lots'}),
                   container('web', {'image': BASE}, wait_for={'condition': 'log'}))
    assert lines == ["db.container_config.mem_limit: expected bytes, or a size like '512m', "
                     "got 'lots'", 'web.wait_for.pattern: required for condition log']


def test_a_string_for_container_config_is_blamed_on_it_alone():
    assert report(container('db', 'a string')) == [
        'db.container_config: expected a dictionary, got a string']


def test_any_free_port_on_an_address_is_accepted():
    assert report(container('db', {'image': BASE, 'port_bindings': {8080: ['127.0.0.1']}}),
                  container('web', {'image': BASE, 'port_bindings': {8080: ['127.0.0.1', None]}},
                            instances=3)) == []


def test_a_scaled_node_with_a_fixed_port_is_refused_before_the_engine():
    with fake_engine(fake_api()):
        lines = report(container('web', {'image': BASE, 'port_bindings': {
            8080: ['127.0.0.1', 18080]}}, instances=2))
    assert len(lines) == 1
    assert lines[0].startswith('web.container_config.port_bindings.8080/tcp: host port 18080 '
                               'is fixed, but the node has 2 instances')


def test_a_wait_needs_no_state_to_be_checked():
    lines = report(container('web', {'image': BASE}, wait_for={
        'condition': 'port', 'timeout': 'soon', 'pattern': '('}))
    assert lines == ["web.wait_for.pattern: not a regular expression: missing ), unterminated "
                     "subpattern at position 0", 'web.wait_for.timeout: expected seconds > 0 and '
                     '<= 1e+06, got a string']


def test_image_sources_need_no_state():
    lines = report(container('a', {}, image_pull={'repository': BASE},
                             image_build={'path': 'ctx'}),
                   container('b', {}),
                   container('c', {}, image_pull={'repository': BASE, 'policy': 'sometimes'}),
                   typed('i', 'image', daemon_client=DOWN),
                   container('d', {}, relationships=(rel('uses_image', 'i'),)))
    assert 'a.image_pull: give exactly one image source: image_build is given too' in lines
    assert any(line.startswith('b.container_config.image: required: no image source is given')
               for line in lines)
    assert any(line.startswith('c.image_pull.policy: expected one of') for line in lines)
    assert any(line.startswith('i.image_pull.repository: required') for line in lines)
    assert not any(line.startswith('d.') for line in lines)  # its image is the Image node's


# ------------------------------------------------------------------ across nodes
def test_two_nodes_claiming_one_name():
    lines = report(typed('n1', 'network', name='shared'), typed('n2', 'network', name='shared'),
                   typed('n3', 'network', name='shared', use_if_exists=True),
                   typed('v1', 'volume', name='shared'),
                   container('c1', {'image': BASE, 'name': 'web'}),
                   container('c2', {'image': BASE, 'name': 'web'}),
                   container('c3', {'image': BASE, 'name': 'web'}, instances=2))
    assert sorted(line.split(':')[0] for line in lines) == [
        'c1.container_config.name', 'c2.container_config.name', 'n1.name', 'n2.name']
    assert "n1.name: network name 'shared' is given by node n2 too" in lines[2]


def test_a_relationship_to_the_wrong_kind():
    lines = report(container('db', {'image': BASE}),
                   typed('net', 'network'),
                   container('web', {'image': BASE}, relationships=(
                       rel('connected_to_network', 'db'), rel('mounts_volume', 'net',
                                                              target='/data'),
                       rel('connected_to_network', 'net', aliases='web'))))
    assert lines == [
        'web, relationship to db: a cloudify.relationships.docker.connected_to_network must '
        'lead to a cloudify.nodes.docker.Network; db is a cloudify.nodes.docker.Container',
        'web, relationship to net: a cloudify.relationships.docker.mounts_volume must lead to '
        'a cloudify.nodes.docker.Volume; net is a cloudify.nodes.docker.Network',
        'web, relationship to net.aliases: expected a list of names, got a string']


def test_a_fixed_port_taken_on_the_engine_host():
    api = fake_api()
    api.containers.return_value = [
        {'Id': 'c' * 64, 'Names': ['/theirs'], 'Labels': {'cloudify.deployment': 'other'},
         'Ports': [{'IP': '0.0.0.0', 'PublicPort': 18080, 'PrivatePort': 80, 'Type': 'tcp'}]},
        {'Id': 'd' * 64, 'Names': ['/ours'], 'Labels': {'cloudify.deployment': 'dep'},
         'Ports': [{'IP': '0.0.0.0', 'PublicPort': 18081, 'PrivatePort': 80, 'Type': 'tcp'}]}]
    ctx = node_ctx('dep')
    with fake_engine(api):
        found = validation.check(ctx, [deployment.planned(node) for node in (
            typed('a', 'container', container_config={'image': BASE, 'port_bindings': {
                80: 18080}}, daemon_client={**DOWN, 'version': 'auto'}),
            container('b', {'image': BASE, 'port_bindings': {80: 18081}}))])
    assert [mistake.line(1000) for mistake in found.mistakes] == [
        'a.container_config.port_bindings.80/tcp: host port 18080/tcp is already taken on the '
        'host of engine tcp://127.0.0.1:9: container theirs of deployment other']
    # the engine asked is another node's, perhaps: the instance validating records nothing
    assert found.engines == ('tcp://127.0.0.1:9',) and ctx.instance.runtime_properties == {}


def test_an_engine_that_does_not_answer_leaves_its_ports_unchecked():
    ctx = node_ctx('dep')
    planned = [deployment.planned(container('a', {'image': BASE,
                                                  'port_bindings': {80: 18080}}))]
    found = validation.check(ctx, planned)
    assert found.mistakes == () and found.engines == ()
    assert found.unchecked[0].startswith('tcp://127.0.0.1:9 (')


# ------------------------------------------------------------------ every kind
@pytest.mark.parametrize(('node', 'expected'), [
    (typed('n', 'network', network_config={'driver': 3}), 'n.network_config.driver: expected'),
    (typed('n', 'network', name='no/slash'), 'n.name: expected a name like my-net'),
    (typed('v', 'volume', volume_config={'nope': 1}), 'v.volume_config.nope: unknown option'),
    (typed('i', 'image', image_pull={'repository': BASE}, tags='x'), 'i.tags: expected'),
    (typed('i', 'image', image_pull={'repository': BASE}, push=[{'tag': 'x'}]),
     'i.push[0].repository: required'),
    (typed('p', 'compose', definition='services: {}', compose_files=['a.yaml']),
     'p.compose_files: give exactly one of compose_files and definition'),
    (typed('p', 'compose', timeout='long'), 'p.timeout: expected'),
    (typed('s', 'swarm', swarm_config={'snapshot_interval': 'x'}),
     's.swarm_config.snapshot_interval: expected'),
    (typed('s', 'swarm', managers=[{'nope': 1}]), 's.managers[0].nope: unknown option'),
    (typed('s', 'service', service_config={'image': BASE, 'mode': 'global', 'replicas': 2}),
     's.service_config.replicas: a global service runs one task per node'),
    (typed('s', 'service', service_config={}), 's.service_config.image: required'),
    (typed('s', 'service', service_config={'image': BASE}, converge={'timeout': 'x'}),
     's.converge.timeout: expected'),
    (typed('k', 'secret', data='x', file='f'), 'k.file: give data or file, not both'),
    (typed('k', 'config'), "k.data: required: the config's value (data) or a file"),
    (typed('w', 'swarm_node', availability='sometimes'), 'w.availability: expected one of'),
    (typed('w', 'swarm_node', create_if_missing=True), 'w.create_if_missing: a swarm node is'),
    (typed('w', 'swarm_node', drain_wait={'timeout': 'x'}), 'w.drain_wait.timeout: expected'),
    (typed('e', 'engine', daemon_client={'base_url': 'ftp://x'}), 'e.daemon_client.base_url'),
    (typed('e', 'engine', use_external_resource='yes'), 'e.use_external_resource: expected'),
])
def test_every_kind_is_held_to_what_its_operations_check(node, expected):
    lines = report(node)
    assert any(line.startswith(expected) for line in lines), lines


@pytest.mark.parametrize('kind', [e.kind for e in kinds.NODES if e.kind != 'base'])
def test_a_kind_as_its_type_declares_it_has_no_mistake_but_what_it_must_be_given(kind):
    """Defaults alone: only what is required is asked for (no false alarms)."""
    lines = report(typed('n', kind, daemon_client=DOWN))
    required = {'container': 'n.container_config.image: required',
                'image': 'n.image_pull.repository: required',
                'compose': 'n.compose_files: give exactly one',
                'service': 'n.service_config.image: required',
                'secret': 'n.data: required', 'config': 'n.data: required'}
    assert [line[:len(required[kind])] for line in lines] == \
        ([required[kind]] if kind in required else [])


# ------------------------------------------------------------------ seed style
def test_a_seed_nodes_operation_inputs_are_validated():
    lines = report(seed('db', create={'image_import': {'src': 'http://x/r.tar', 'nope': 1}},
                        configure={'container_config': 'a string'},
                        start={'container_start': {'port_bindings': {80: 'x'}}},
                        stop={'container_stop': {'timeout': -1}},
                        delete={'container_stop': {'timeout': -1}}))
    assert lines == [
        'db.container_config: expected a dictionary, got a string (input of configure)',
        "db.container_start.port_bindings.80: expected a port number from 0 to 65535, got 'x' "
        '(input of start)',
        'db.container_stop.timeout: expected a whole number of seconds from 0 to 1000000, got '
        '-1 (input of stop)',
        'db.image_import.nope: unknown option; known: changes, repository, src, tag, timeout '
        '(input of create)']


def test_a_seed_node_is_held_only_to_the_operations_it_maps():
    assert report(seed('db', configure={'container_config': {'image': BASE}},
                       start={'wait_for': {'condition': 'running'}})) == []
    assert report(seed('db', configure={'container_config': {'image': BASE}},
                       start={'wait_for': {'condition': 'log'}})) == [
        'db.wait_for.pattern: required for condition log']


def test_what_is_known_only_when_an_operation_runs_is_left_out():
    lines = report(container('db', {'image': BASE, 'user': {'get_secret': 'db_user'},
                                    'mem_limit': 'lots'},
                             wait_for={'get_attribute': ['SELF', 'x']}),
                   seed('s', configure={'container_config': {'get_secret': 'c'}}))
    assert lines == ["db.container_config.mem_limit: expected bytes, or a size like '512m', "
                     "got 'lots'"]


# ------------------------------------------------------------------ the plan
def test_a_plan_node_as_the_storage_and_the_rest_service_give_it():
    node = deployment.planned({
        'id': 'db', 'type': 'cloudify.nodes.DBMS', 'number_of_instances': 2,
        'planned_number_of_instances': 3,
        'type_hierarchy': ['cloudify.nodes.Root', 'cloudify.nodes.DBMS'],
        'properties': {'a': {'get_secret': 's'}, 'b': 1},
        'operations': {
            'create': {'operation': 'docker_plugin.tasks.create', 'inputs': {'x': 1}},
            f'{kinds.LIFECYCLE}.create': {'operation': 'docker_plugin.tasks.create',
                                          'inputs': {'image_pull': {'repository': 'r'}}},
            f'{kinds.LIFECYCLE}.configure': {'operation': 'docker_plugin.tasks.configure',
                                             'inputs': {'image_pull': {'repository': 'other'},
                                                        'daemon_client': None}},
            f'{kinds.LIFECYCLE}.start': {'operation': 'scripts.start', 'inputs': {}},
            f'{kinds.LIFECYCLE}.stop': {'operation': '', 'inputs': {}}},
        'relationships': [{'type': 't', 'target_id': 'n', 'properties': {}}]})
    assert node.instances == 3 and node.properties == {'b': 1}
    assert [op.name for op in node.operations] == [f'{kinds.LIFECYCLE}.create',
                                                   f'{kinds.LIFECYCLE}.configure']
    assert [entry.kind for entry in node.plugin_kinds()] == ['container']
    assert node.inputs() == {'image_pull': {'repository': 'r'}}
    assert node.given('image_pull') == [({'repository': 'r'}, 'create'),
                                        ({'repository': 'other'}, 'configure')]
    assert node.runs(kinds.node('container'), 'lifecycle:create')
    assert not node.runs(kinds.node('container'), 'lifecycle:run')
    assert node.relationships[0].type_hierarchy == ('t',)


def test_intrinsic_functions_are_found_wherever_they_are():
    assert deployment.unresolved({'a': [1, {'concat': ['x', 'y']}]})
    assert deployment.unresolved({'get_attribute': ['SELF', 'ip']})
    assert not deployment.unresolved({'a': {'get': 1, 'more': 2}})
    assert deployment.known({'a': {'b': {'get_secret': 's'}, 'c': 1}, 'd': {'get_input': 'x'},
                             'e': [{'get_sys': ['deployment', 'id']}], 'f': 2}) == \
        {'a': {'c': 1}, 'f': 2}


class _Pages:
    """The REST client's nodes.list: pages of at most two items."""

    def __init__(self, items):
        self.items = items
        self.calls = []

    def list(self, _offset=0, _size=1000, **filters):
        self.calls.append((_offset, filters))
        page = mock.MagicMock()
        chunk = self.items[_offset:_offset + 2]
        page.__iter__.return_value = iter(chunk)
        page.__len__.return_value = len(chunk)
        page.metadata.pagination.total = len(self.items)
        return page


def test_on_a_manager_every_page_of_nodes_is_read(monkeypatch):
    from cloudify import manager
    from cloudify.endpoint import ManagerEndpoint
    nodes = _Pages([typed(f'n{i}', 'network') for i in range(5)])
    client = mock.MagicMock()
    client.nodes = nodes
    monkeypatch.setattr(manager, 'get_rest_client', lambda *a, **k: client)
    ctx = node_ctx('dep-on-manager')
    ctx._endpoint = ManagerEndpoint(ctx)
    found = deployment.read(ctx)
    assert [node.id for node in found] == ['n0', 'n1', 'n2', 'n3', 'n4']
    assert nodes.calls == [(0, {'deployment_id': 'dep-on-manager'}),
                           (2, {'deployment_id': 'dep-on-manager'}),
                           (4, {'deployment_id': 'dep-on-manager'})]


def test_a_context_without_a_deployment_has_its_own_node():
    ctx = node_ctx('dep', properties={'network_config': {'driver': 3}})
    ctx.node._type = kinds.type_name('network')
    assert deployment.read(ctx) is None
    with pytest.raises(NonRecoverableError, match=r'  n\.network_config\.driver: expected'):
        validation.validate(ctx=ctx)


def test_the_first_install_operation_a_seed_node_maps():
    def node(plan):
        holder = mock.MagicMock()
        holder._node = plan
        return holder
    mapped = seed('db', configure={}, start={})
    assert deployment.first_install_operation(node(mapped)) == f'{kinds.LIFECYCLE}.configure'
    mapped = seed('db', create={}, configure={})
    assert deployment.first_install_operation(node(mapped)) == f'{kinds.LIFECYCLE}.create'
    assert deployment.first_install_operation(node(seed('db', validate={}, create={}))) is None
    assert deployment.first_install_operation(node({'operations': {}})) is None


# ------------------------------------------------------------------ once per execution
def test_an_execution_validates_once_and_its_instances_take_the_outcome(monkeypatch):
    calls = []
    started = threading.Event()

    def slow_check(ctx, nodes):
        calls.append(ctx)
        started.set()
        return validation.Report((), 1)
    monkeypatch.setattr(validation, 'check', slow_check)
    nodes = [deployment.planned(typed('n', 'network'))]
    ctx = node_ctx('dep-once')
    ctx._execution_id = 'exec-1'
    outcomes = []
    threads = [threading.Thread(target=lambda: outcomes.append(validation.validated(ctx, nodes)))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(calls) == 1 and len(outcomes) == 8
    assert sum(1 for outcome in outcomes if not outcome.reused) == 1
    ctx._execution_id = 'exec-2'
    validation.validated(ctx, nodes)
    assert len(calls) == 2


def test_the_validations_that_start_at_once_read_the_deployment_once(monkeypatch):
    """A local workflow starts its first instances' validations together: the first reads
    the deployment and makes the report, the others wait for it and read nothing (each
    read is the whole deployment: with cfy, a parse of its plan file)."""
    reads = []
    gate = threading.Event()
    nodes = [deployment.planned(typed('n', 'network'))]

    def read(ctx):
        reads.append(ctx)
        gate.wait(5)  # the others start while the first reads
        return nodes
    monkeypatch.setattr(deployment, 'read', read)
    monkeypatch.setattr(validation, 'check', lambda ctx, nodes: validation.Report((), 1))
    ctx = node_ctx('dep-read-once')
    ctx._execution_id = 'exec-read-once'
    failures = []

    def run():
        try:
            validation.validate(ctx=ctx)
        except Exception as exc:
            failures.append(exc)
    threads = [threading.Thread(target=run) for _ in range(6)]
    for thread in threads:
        thread.start()
    time.sleep(0.2)
    gate.set()
    for thread in threads:
        thread.join(timeout=10)
    assert not failures and len(reads) == 1


def test_a_validation_that_raises_keeps_no_lock_beyond_the_bound(monkeypatch):
    """An execution whose check raised made no report, so nothing trims its lock with the
    reports: the locks are bounded by themselves, and the next validation of such an
    execution reads and checks again."""
    def broken(ctx, nodes):
        raise OSError('the engine went away')
    monkeypatch.setattr(deployment, 'read', lambda ctx: [deployment.planned(
        typed('n', 'network'))])
    monkeypatch.setattr(validation, 'check', broken)
    ctx = node_ctx('dep-raising')
    for number in range(validation.LOCKS + 20):
        ctx._execution_id = f'exec-raising-{number}'
        with pytest.raises(RecoverableError, match='the engine went away'):
            validation.validate(ctx=ctx)
        assert len(validation._locks) <= validation.LOCKS
    assert ('dep-raising', f'exec-raising-{validation.LOCKS + 19}') in validation._locks
    assert ('dep-raising', 'exec-raising-0') not in validation._locks
    checked = []
    monkeypatch.setattr(validation, 'check',
                        lambda ctx, nodes: checked.append(nodes) or validation.Report((), 1))
    validation.validate(ctx=ctx)  # the same execution again: read and checked this time
    assert len(checked) == 1


def test_one_failure_names_every_mistake_and_masks_secrets():
    secret = 'Sup3rSecretPassword9x'
    ctx = node_ctx('dep-secret')
    nodes = [deployment.planned(container('db', {'image': BASE, 'mem_limit': 'lots',
                                                 'secret_environment': {'PW': secret}})),
             deployment.planned(container('web', {'image': BASE, 'port_bindings': {
                 8080: ['127.0.0.1', secret]}}, wait_for={'condition': 'nope'}))]
    with mock.patch.object(deployment, 'read', return_value=nodes):
        with pytest.raises(NonRecoverableError) as failure:
            validation.validate(ctx=ctx)
    text = str(failure.value)
    assert text.startswith('3 mistakes in deployment dep-secret')
    assert 'db.container_config.mem_limit' in text and 'web.wait_for.condition' in text
    assert "web.container_config.port_bindings.8080[1]: expected a port number from 0 to " \
        "65535, got '******'" in text
    assert secret not in text


def test_later_validations_of_a_clean_execution_read_nothing_again():
    """Each instance's validation after the first of an execution takes its report; a
    clean one without reading the deployment again (on a manager: REST calls), one with
    mistakes after reading it, to mask what the text quotes."""
    secret = 'postgres'  # a common word, also a name
    clean = [deployment.planned(container('db', {'image': BASE}))]
    ctx = node_ctx('dep-reads')
    ctx._execution_id = 'exec-reads'
    with mock.patch.object(deployment, 'read', return_value=clean) as read:
        for _ in range(5):
            validation.validate(ctx=ctx)
    assert read.call_count == 1
    bad = [deployment.planned(container('db', {'image': BASE, 'mem_limit': secret,
                                              'secret_environment': {'PW': secret}}))]
    ctx = node_ctx('dep-reads-bad')
    ctx._execution_id = 'exec-reads-bad'
    with mock.patch.object(deployment, 'read', return_value=bad) as read:
        for _ in range(3):
            with pytest.raises(NonRecoverableError) as failure:
                validation.validate(ctx=ctx)
            assert 'db.container_config.mem_limit' in str(failure.value)
            assert secret not in str(failure.value)
    assert read.call_count == 3


def test_what_validation_concludes(caplog):
    ctx = node_ctx('d')
    with pytest.raises(InvalidDeploymentError, match=r'^1 mistake in deployment d,'):
        validation.conclude(ctx, validation.Report((Mistake('a', 'b', 'c'),), 1))
    with caplog.at_level('INFO'):
        validation.conclude(ctx, validation.Report((), 2, ('unix:///x.sock',),
                                                   ('tcp://10.0.0.9:2376 (refused)',)))
    said = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert ('INFO', 'Validated 2 nodes of deployment d: no mistakes; host ports looked at on '
                    'unix:///x.sock') in said
    assert ('WARNING', 'Host ports not looked at on engine tcp://10.0.0.9:2376 (refused)') in said


# ------------------------------------------------------------------ seed style, at install
def _seed_ctx(operation: str, plan: dict[str, Any], runtime: dict[str, Any] | None = None):
    from cloudify.mocks import MockCloudifyContext
    from cloudify.state import current_ctx
    ctx = MockCloudifyContext(node_id='db', node_name='db', node_type='cloudify.nodes.DBMS',
                              deployment_id='dep-seed', blueprint_id='bp', properties={},
                              runtime_properties=runtime or {}, operation={
                                  'name': operation, 'retry_number': 0, 'max_retries': 0})
    ctx.node._get_node_if_needed = lambda: None
    ctx.node._node = plan
    current_ctx.set(ctx)
    return ctx


def test_a_seed_nodes_first_install_operation_validates_the_deployment_first():
    from docker_plugin import tasks
    plan = seed('db', configure={'container_config': 'a string'}, start={})
    nodes = [deployment.planned(plan),
             deployment.planned(container('web', {'image': BASE, 'mem_limit': 'lots'}))]
    ctx = _seed_ctx(f'{kinds.LIFECYCLE}.configure', plan)
    with mock.patch.object(deployment, 'read', return_value=nodes) as read:
        with pytest.raises(NonRecoverableError) as failure:
            tasks.configure(ctx=ctx, container_config='a string', daemon_client=DOWN)
    assert read.call_count == 1
    assert str(failure.value).splitlines()[1:] == [
        '  db.container_config: expected a dictionary, got a string (input of configure)',
        "  web.container_config.mem_limit: expected bytes, or a size like '512m', got 'lots'"]
    # A later operation of the same node does not validate again: the first did.
    ctx = _seed_ctx(f'{kinds.LIFECYCLE}.start', plan)
    with mock.patch.object(deployment, 'read', return_value=nodes) as read:
        with pytest.raises(NonRecoverableError, match='no container recorded'):
            tasks.run(ctx=ctx, daemon_client=DOWN)
    assert read.call_count == 0


def test_a_seed_node_that_maps_validation_is_validated_by_it_alone():
    from docker_plugin import tasks
    plan = seed('db', validate={}, configure={'container_config': {'image': BASE}})
    ctx = _seed_ctx(f'{kinds.LIFECYCLE}.configure', plan, {'container_id': 'c' * 64})
    with mock.patch.object(deployment, 'read') as read, fake_engine(fake_api()) as api:
        api.inspect_container.return_value = {'Id': 'c' * 64, 'Name': '/x', 'State': {}}
        tasks.configure(ctx=ctx, container_config={'image': BASE}, daemon_client=DOWN)
    assert read.call_count == 0 and api.create_container.call_count == 0
    assert callable(tasks.validate) and tasks.validate is validation.validate
