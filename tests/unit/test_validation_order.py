"""Every operation validates its inputs before it looks at state or at the engine.

A bad input must be reported as that input, whatever the instance has recorded: not
as "no container recorded ... configure must run first" (what an operation that
reads state first says when it runs out of order) and not as an unreachable engine.
Found mechanically, for every operation of plugin.yaml and every input it takes (its
node type's properties, an action's inputs): each input in turn gets a value no check
accepts, the engine is a closed port, and the operation runs twice: with nothing
recorded, and with a made-up id recorded for everything. When the second run names
the input, so must the first. But the lifecycle's stop or delete of an instance that
made nothing (``tasks.operation.TEARDOWN``) needs neither the engine nor its settings
(``daemon_client``): it finishes; the other inputs every node type shares (the
existing-resource flags) it may leave unread.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
import yaml
from cloudify.exceptions import NonRecoverableError, RecoverableError
from helpers.mock_ctx import node_ctx

from docker_plugin import kinds
from docker_plugin.options.actions import ACTIONS
from docker_plugin.options.compose import COMPOSE_EXEC, COMPOSE_LOGS, COMPOSE_PS
from docker_plugin.options.service import LOGS, SCALE, SERVICE_WAIT
from docker_plugin.tasks.operation import TEARDOWN

REPO = Path(__file__).resolve().parents[2]
PLUGIN = yaml.safe_load((REPO / 'plugin.yaml').read_text())
DOWN = {'base_url': 'tcp://127.0.0.1:9', 'version': '1.41', 'timeout': 2}
# What operations record, made up (the engine at DOWN never answers about them).
RECORDED = {key: 'f' * 64 for key in ('container_id', 'image_id', 'network_id', 'service_id',
                                      'swarm_id', 'secret_id', 'config_id', 'node_id')}
RECORDED.update(volume_name='dpt-volume', project_name='dpt-project', image='dpt/image:1',
                container_name='dpt-container', network_name='dpt-network',
                swarm_role='manager', swarm_state='active')
# Inputs of the actions beside the node's properties, by interface and operation.
ACTION_INPUTS = {
    'docker.interfaces.container': {name: table.names() for name, table in ACTIONS.items()},
    'docker.interfaces.service': {'scale': [*SCALE.names(), *SERVICE_WAIT.names()],
                                  'rollback': SERVICE_WAIT.names(), 'logs': LOGS.names(),
                                  'ps': []},
    'docker.interfaces.compose': {'logs': COMPOSE_LOGS.names(), 'ps': COMPOSE_PS.names(),
                                  'exec': COMPOSE_EXEC.names()},
}
NESTED = {'no_such_option_xyz': {'deep': {'deeper': 1}}}
# Valid values of the actions' required inputs, so that a missing one does not hide how
# an operation orders the others.
REQUIRED = {'name': 'dpt-renamed', 'resources': {'mem_limit': '64m'}, 'command': 'true',
            'source': '/etc/hostname', 'destination': '/tmp', 'service': 'web',
            'replicas': 1}


def _properties(node_type: str) -> dict[str, Any]:
    """The node type's properties with their defaults, Base's included."""
    found: dict[str, Any] = {}
    while node_type.startswith('cloudify.nodes.docker.'):
        declared = PLUGIN['node_types'][node_type]
        for name, prop in (declared.get('properties') or {}).items():
            found.setdefault(name, prop.get('default'))
        node_type = declared['derived_from']
    return found


def _bad(default: Any) -> Any:
    """A value of the wrong shape for a property with this default."""
    if isinstance(default, bool):
        return 'maybe'
    if isinstance(default, (int, float)):
        return 'many'
    if isinstance(default, list):
        return [NESTED]
    if isinstance(default, dict):
        return NESTED
    return NESTED  # a string property (or one without default) given a dictionary


def _marks(node_type: str, field: str) -> Any:
    """A ComposeProject's definition that passes its shape check is compose's to read."""
    compose = node_type == kinds.type_name('compose') and field == 'definition'
    return pytest.mark.compose if compose else ()


def _cases() -> list[Any]:
    cases = []
    for node_type, declared in sorted(PLUGIN['node_types'].items()):
        for interface, operations in (declared.get('interfaces') or {}).items():
            for name, op in operations.items():
                mapping = op['implementation'] if isinstance(op, dict) else op
                action = ACTION_INPUTS.get(interface, {}).get(name, [])
                required = tuple(i for i in action if i in REQUIRED)
                cases += [pytest.param(node_type, f'{interface}.{name}', mapping, field,
                                       required, marks=_marks(node_type, field))
                          for field in dict.fromkeys([*_properties(node_type), *action])]
    return cases


def _run(mapping: str, node_type: str, field: str, runtime: dict[str, Any],
         required: tuple[str, ...], operation_name: str) -> str:
    """The operation's outcome as text: its error message, or 'done'."""
    module, function = mapping.split('.', 1)[1].rsplit('.', 1)
    operation = getattr(importlib.import_module(module), function)
    defaults = _properties(node_type)
    properties = {**defaults, 'daemon_client': DOWN}
    inputs = {**{name: REQUIRED[name] for name in required},
              field: _bad(defaults.get(field, {}))}
    ctx = node_ctx('dpt-order', properties=properties, runtime=dict(runtime), node='n',
                   operation=operation_name)
    ctx._context['type_hierarchy'] = [node_type]
    try:
        operation(ctx=ctx, **inputs)
    except (NonRecoverableError, RecoverableError) as exc:
        return str(exc)
    return 'done'


# The inputs every node type has, which every operation checks first (check_common_inputs).
SHARED = frozenset(PLUGIN['node_types']['cloudify.nodes.docker.Base']['properties'])


def _names(message: str, field: str) -> bool:
    return any(message.startswith(f'{field}{sep}') for sep in (':', '.', '['))


@pytest.mark.parametrize(('node_type', 'operation', 'mapping', 'field', 'required'),
                         _cases(), ids=lambda v: v.rsplit('.', 1)[-1] if isinstance(v, str)
                         else '')
def test_inputs_are_validated_before_state(node_type, operation, mapping, field, required):
    with_state = _run(mapping, node_type, field, RECORDED, required, operation)
    if not _names(with_state, field):
        return  # this operation does not read the input (or reads it after the engine)
    without = _run(mapping, node_type, field, {}, required, operation)
    if operation in TEARDOWN and field == 'daemon_client':
        assert without == 'done', f'{operation} of nothing made needs {field}: {without[:300]}'
        return
    if operation in TEARDOWN and field in SHARED and without == 'done':
        return  # a flag the task reads only when there is something to decide about
    assert _names(without, field), \
        f'{operation} reads {field} only after state: {without[:300]}'
