"""docker_plugin.tasks.kept_nodes: a local run's operation reads its node once an
execution, on real Cloudify contexts (``CloudifyContext`` with a ``LocalEndpoint``)
whose storage counts the reads."""

from __future__ import annotations

from typing import Any

import pytest
from cloudify.context import CloudifyContext
from cloudify.exceptions import NonRecoverableError
from cloudify.mocks import MockCloudifyContext
from cloudify_rest_client.nodes import Node

from docker_plugin.tasks import kept_nodes, relationships
from docker_plugin.tasks.operation import operation

CONTAINER = ['cloudify.nodes.Root', 'cloudify.nodes.docker.Base',
             'cloudify.nodes.docker.Container']
NETWORK = ['cloudify.nodes.Root', 'cloudify.nodes.docker.Base', 'cloudify.nodes.docker.Network']
CONNECTED = 'cloudify.relationships.docker.connected_to_network'


class Storage:
    """The two nodes of a deployment, a fresh copy at every read, the reads counted."""

    def __init__(self) -> None:
        self.reads: list[str] = []
        self.instances = {'web': 2, 'net': 1}
        self.properties: dict[str, dict[str, Any]] = {
            'web': {'container_config': {'image': 'busybox', 'env': {'A': '1'}},
                    'daemon_client': {}},
            'net': {'network_config': {'driver': 'bridge'}, 'daemon_client': {}},
        }

    def get_node(self, node_id: str, evaluate_functions: bool = False) -> Node:
        self.reads.append(node_id)
        rels = [{'type': CONNECTED, 'target_id': 'net', 'properties': {'aliases': ['w']},
                 'type_hierarchy': ['cloudify.relationships.connected_to', CONNECTED]}] \
            if node_id == 'web' else []
        operations = {'cloudify.interfaces.lifecycle.create': {
            'operation': 'docker_plugin.tasks.create', 'plugin': 'docker', 'inputs': {}}}
        return Node({'id': node_id, 'type': (CONTAINER if node_id == 'web' else NETWORK)[-1],
                     'type_hierarchy': CONTAINER if node_id == 'web' else NETWORK,
                     'number_of_instances': self.instances[node_id],
                     'properties': dict(self.properties[node_id]), 'relationships': rels,
                     'operations': operations})


def context(storage: Storage, execution: str = 'e1', node: str = 'web',
            deployment: str = 'dep', **extra: Any) -> CloudifyContext:
    return CloudifyContext({'local': True, 'storage': storage, 'node_id': f'{node}_x1',
                            'node_name': node, 'deployment_id': deployment,
                            'execution_id': execution, **extra})


@pytest.fixture(autouse=True)
def _nothing_kept(monkeypatch):
    for name in ('MGMTWORKER_HOME', 'AGENT_WORK_DIR'):
        monkeypatch.delenv(name, raising=False)
    kept_nodes.forget_all()
    yield
    kept_nodes.forget_all()


def test_an_execution_reads_its_node_once_and_the_next_execution_again():
    storage = Storage()
    first = context(storage)
    assert first.node.properties['container_config']['image'] == 'busybox'
    kept_nodes.keep(first)
    for _ in range(5):
        ctx = kept_nodes.operation_context(context(storage))
        assert isinstance(ctx, kept_nodes.KeptContext)
        assert ctx.node.id == 'web' and ctx.node.type == CONTAINER[-1]
        assert ctx.node.type_hierarchy == CONTAINER
        assert dict(ctx.node.properties) == storage.properties['web']
        assert ctx.deployment.id == 'dep' and ctx.type == 'node-instance'  # the ctx's own
    assert storage.reads == ['web']
    later = kept_nodes.operation_context(context(storage, execution='e2'))
    assert not isinstance(later, kept_nodes.KeptContext)
    assert later.node.properties['daemon_client'] == {}
    assert storage.reads == ['web', 'web']
    other = kept_nodes.operation_context(context(storage, deployment='dep2'))
    assert not isinstance(other, kept_nodes.KeptContext)


def test_each_operation_gets_its_own_read_only_copy_of_the_properties():
    storage = Storage()
    first = context(storage)
    _ = first.node.properties
    kept_nodes.keep(first)
    one = kept_nodes.operation_context(context(storage))
    one.node.properties['container_config']['env']['A'] = 'changed'  # nested: a copy
    with pytest.raises(NonRecoverableError):
        one.node.properties['container_config'] = {}  # top level: read-only, as Cloudify's
    two = kept_nodes.operation_context(context(storage))
    assert two.node.properties['container_config']['env'] == {'A': '1'}
    kept_nodes.keep(one)  # a kept ctx is never kept again, changed or not
    three = kept_nodes.operation_context(context(storage))
    assert three.node.properties['container_config']['env'] == {'A': '1'}


def test_a_reading_is_kept_as_the_operation_found_it_not_as_it_left_it():
    """The wrapper keeps the node after learning its secrets, before the task runs: a
    task that changed its (nested) properties does not change the next operation's."""
    storage = Storage()
    seen = []

    @operation(common_inputs=False)
    def task(ctx: Any, **kwargs: Any) -> None:
        seen.append(dict(ctx.node.properties['container_config']['env']))
        ctx.node.properties['container_config']['env']['A'] = 'by the task'

    task(ctx=context(storage))
    task(ctx=context(storage))
    assert seen == [{'A': '1'}, {'A': '1'}]
    assert storage.reads == ['web']


def test_the_number_of_instances_and_what_is_not_kept_are_read_live():
    """Scaling changes a node's number of instances within an execution."""
    storage = Storage()
    first = context(storage)
    _ = first.node.properties
    kept_nodes.keep(first)
    storage.instances['web'] = 3
    ctx = kept_nodes.operation_context(context(storage))
    assert storage.reads == ['web']
    assert ctx.node.number_of_instances == 3
    assert storage.reads == ['web', 'web']


def test_a_node_not_read_is_not_read_to_be_kept():
    storage = Storage()
    kept_nodes.keep(context(storage))
    assert storage.reads == []
    assert not isinstance(kept_nodes.operation_context(context(storage)),
                          kept_nodes.KeptContext)


def test_a_relationship_target_is_read_once_and_its_plan_relationships_kept():
    storage = Storage()
    first = context(storage)
    net = context(storage, node='net').node  # a target's node context reads the same way
    assert kept_nodes.node_of(context(storage), net) is net  # not read yet: itself
    _ = net.properties
    kept_nodes.keep(context(storage), net)
    again = kept_nodes.node_of(context(storage), context(storage, node='net').node)
    assert isinstance(again, kept_nodes.KeptNode)
    assert again.properties['network_config'] == {'driver': 'bridge'}
    assert storage.reads == ['net']
    _ = first.node.properties
    kept_nodes.keep(first)
    ctx = kept_nodes.operation_context(context(storage))
    plan = relationships._plan_relationships(ctx)
    assert [(r['type'], r['target_id'], r['properties']) for r in plan] == \
        [(CONNECTED, 'net', {'aliases': ['w']})]
    assert storage.reads == ['net', 'web']


def test_nothing_is_kept_on_a_manager(monkeypatch):
    monkeypatch.setenv('MGMTWORKER_HOME', '/opt/mgmtworker')
    storage = Storage()
    first = context(storage)
    _ = first.node.properties
    kept_nodes.keep(first)
    ctx = context(storage)
    assert kept_nodes.operation_context(ctx) is ctx
    _ = ctx.node.properties
    assert storage.reads == ['web', 'web']


def test_nothing_is_kept_for_mock_contexts_relationships_or_without_an_execution():
    mock = MockCloudifyContext(node_id='web_x1', node_name='web', deployment_id='dep',
                               execution_id='e1', properties={'a': 1})
    _ = mock.node.properties
    kept_nodes.keep(mock)
    assert kept_nodes.operation_context(mock) is mock
    storage = Storage()
    related = context(storage, related={'node_id': 'net_x1', 'node_name': 'net',
                                        'is_target': True})
    assert related.type == 'relationship-instance'
    kept_nodes.keep(related)
    assert kept_nodes.operation_context(related) is related
    anonymous = context(storage, execution='')
    _ = anonymous.node.properties
    kept_nodes.keep(anonymous)
    assert kept_nodes.operation_context(context(storage, execution='')).node.properties
    assert storage.reads == ['web', 'web']  # read each time


def test_a_process_keeps_a_bounded_number_of_readings(monkeypatch):
    monkeypatch.setattr(kept_nodes, 'KEPT', 3)
    storage = Storage()
    for execution in ('e1', 'e2', 'e3', 'e4'):
        ctx = context(storage, execution=execution)
        _ = ctx.node.properties
        kept_nodes.keep(ctx)
    assert len(kept_nodes._KEPT) == 3
    assert not isinstance(kept_nodes.operation_context(context(storage, execution='e1')),
                          kept_nodes.KeptContext)  # the oldest went first
    assert isinstance(kept_nodes.operation_context(context(storage, execution='e4')),
                      kept_nodes.KeptContext)


def test_the_rest_of_the_plan_entry_is_the_executions_reading_read_only():
    """What the plugin reads of a node's plan entry besides its properties (the first
    install operation a seed-style node maps, its plan relationships) is the reading's."""
    from docker_plugin.tasks import deployment
    storage = Storage()
    first = context(storage)
    assert deployment.first_install_operation(first.node) == 'cloudify.interfaces.lifecycle.create'
    kept_nodes.keep(first)
    ctx = kept_nodes.operation_context(context(storage))
    assert deployment.first_install_operation(ctx.node) == 'cloudify.interfaces.lifecycle.create'
    plan = kept_nodes.plan_entry(ctx.node)
    assert 'properties' not in plan and plan['relationships'][0]['target_id'] == 'net'
    with pytest.raises(TypeError):
        plan['operations'] = {}  # type: ignore[index]
    assert storage.reads == ['web']
