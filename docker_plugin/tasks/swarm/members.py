"""Engines joining and leaving a swarm: list items of the Swarm node, or
``cloudify.nodes.docker.Engine`` nodes with a ``member_of_swarm`` relationship.

A join reads the token from a manager (remembered as a secret at once),
joins the engine and sets the node's availability and labels; a leave
demotes a manager first (so the swarm keeps its quorum), makes the engine
leave, and removes its node from the swarm. An engine that cannot be
reached any more (a dead machine) is removed from the swarm by a manager.
"""

from __future__ import annotations

import time
from typing import Any, Mapping

from docker_plugin import kinds, secrets
from docker_plugin.errors import InvalidInputError, TransientError
from docker_plugin.options.swarm import MEMBER
from docker_plugin.resources.engine_api import EngineApi
from docker_plugin.resources.swarm import cluster as swarm
from docker_plugin.tasks.confine import client_config
from docker_plugin.tasks.container.spec import BASE_KEYS
from docker_plugin.tasks.context import engine
from docker_plugin.tasks.ctx import Ctx
from docker_plugin.tasks.operation import operation
from docker_plugin.tasks.relationships import own_properties

MEMBER_RELATIONSHIP = kinds.relationship('member_of_swarm').type_name
READY_TIMEOUT = 30  # seconds a joined node may take to be seen ready by the managers
CONFLICT_ATTEMPTS = 10  # writes of the Swarm node's nodes lost to concurrent joins


def join_member(ctx: Ctx, api: EngineApi, member: Mapping[str, Any], field: str,
                labels: Mapping[str, str]) -> tuple[str, bool]:
    """Join one engine (``member``: MEMBER options) to the swarm ``api`` manages.

    Returns (its node id, whether it was a member already). The node gets
    ``labels`` (the joining instance's), so a retried join after a crash knows
    the engine was joined by this instance, not found in the swarm.
    """
    config = client_config(ctx, member['daemon_client'], f'{field}.daemon_client')
    role = member['role']
    token = swarm.join_token(api, role, secrets.remember)
    addresses = swarm.manager_addresses(api)
    before = False
    with engine(ctx, {}, config) as client:
        state = swarm.local_state(client.api)
        if state.get('LocalNodeState') == 'active':
            node_id = state.get('NodeID', '')
            node = swarm.node(api, node_id)
            if node is None:
                raise InvalidInputError(field, f'engine {config.base_url} is in another swarm')
            found = (node.get('Spec') or {}).get('Labels') or {}
            before = not all(found.get(k) == v for k, v in labels.items())
            ctx.logger.info('Engine %s is already in the swarm (node %s%s)', config.base_url,
                            node_id[:12], '; kept there on uninstall' if before else '')
        else:
            node_id = swarm.join(client.api, addresses, token, member)
            ctx.logger.info('Engine %s joined the swarm as a %s (node %s)', config.base_url,
                            role, node_id[:12])
    swarm.update_node(api, node_id, availability=member.get('availability'),
                      labels={**(member.get('node_labels') or {}),
                              **({} if before else dict(labels))})
    if not swarm.wait_ready(api, node_id, READY_TIMEOUT):
        ctx.logger.warning('Swarm node %s (engine %s) is not ready after %ds: its engine may '
                           'not reach the managers', node_id[:12], config.base_url,
                           READY_TIMEOUT)
    return node_id, before


def engine_state(ctx: Ctx, member: Mapping[str, Any]) -> str:
    """The engine's own swarm state (``active``, ``inactive``, ...), as its Engine node
    records it; '' when it cannot be reached (a dead machine leaving)."""
    try:
        with engine(ctx, {}, client_config(ctx, member['daemon_client'])) as client:
            return str(swarm.local_state(client.api).get('LocalNodeState') or '')
    except TransientError:
        return ''


def record_nodes(api: EngineApi, instance: Any) -> list[dict[str, Any]]:
    """The Swarm node's ``nodes``, as its managers list them now, written to its
    ``instance`` (a relationship's target).

    Engines join (and leave) after the Swarm node started, several at once: each writes
    the list after its own join. So that the last write holds every join, each one
    refetches the instance, then reads the list, then writes; a version conflict (another
    join wrote in between) starts it again."""
    for attempt in range(CONFLICT_ATTEMPTS):
        refresh = getattr(instance, 'refresh', None)  # (the mock contexts have none)
        if refresh is not None:
            refresh(force=True)
        nodes = swarm.describe_nodes(swarm.nodes(api))
        instance.runtime_properties['nodes'] = nodes
        try:
            instance.update()
            return nodes
        except Exception as exc:  # a version conflict is tried again, nothing else
            if not _is_conflict(exc):
                raise
            time.sleep(0.1 * (attempt + 1))
    raise TransientError(f"the Swarm node's runtime properties changed under "
                         f'{CONFLICT_ATTEMPTS} writes of its nodes in a row')


def _is_conflict(exc: BaseException) -> bool:
    """A write of runtime properties lost to another (a manager's 409; local storage's
    StorageConflictError)."""
    return getattr(exc, 'status_code', None) == 409 or \
        type(exc).__name__ == 'StorageConflictError'


def leave_member(ctx: Ctx, api: EngineApi, member: Mapping[str, Any] | None, node_id: str,
                 role: str) -> None:
    """Take one engine out: demote, leave, remove its node (each step idempotent)."""
    if node_id and role == 'manager' and swarm.node(api, node_id) is not None:
        swarm.update_node(api, node_id, role='worker')
        swarm.wait_role(api, node_id, 'worker')
    if member is not None:
        config = client_config(ctx, member['daemon_client'])
        try:
            with engine(ctx, {}, config) as client:
                if swarm.leave(client.api):
                    ctx.logger.info('Engine %s left the swarm', config.base_url)
        except TransientError as exc:
            ctx.logger.warning('Engine %s cannot be reached (%s): a manager removes its node',
                               config.base_url, exc)
    # Forced: a node that just left (or died) may not show as down yet.
    if node_id:
        if swarm.remove_node(api, node_id):
            ctx.logger.info('Removed node %s from the swarm', node_id[:12])


# ---------------------------------------------------- member_of_swarm relationship
def _member(ctx: Ctx) -> dict[str, Any]:
    field = f'relationship to {ctx.target.node.id}'
    given = {k: v for k, v in own_properties(ctx, MEMBER_RELATIONSHIP).items()
             if v not in (None, '', {}, [])}
    values = MEMBER.parse(given, field, extra=BASE_KEYS)
    if values.get('daemon_client'):
        raise InvalidInputError(f'{field}.daemon_client', "the engine is the source node's "
                                                          'daemon_client')
    values['daemon_client'] = ctx.source.node.properties.get('daemon_client') or {}
    return values


@operation
def join(ctx: Ctx, **kwargs: Any) -> None:
    """Relationship establish (source side): the Engine node joins the Swarm node's swarm."""
    member = _member(ctx)
    labels = {'cloudify.deployment': str(ctx.deployment.id or ''),
              'cloudify.node-instance': str(ctx.source.instance.id or '')}
    with engine(ctx, kwargs, client_config(ctx, ctx.target.node.properties.get('daemon_client'))) \
            as client:
        node_id, before = join_member(ctx, client.api, member,
                                      f'relationship to {ctx.target.node.id}', labels)
        record_nodes(client.api, ctx.target.instance)
    props = ctx.source.instance.runtime_properties
    if not before:  # an engine that was a member already stays one on uninstall
        props['swarm_node_id'], props['swarm_role'] = node_id, member['role']
    # What the Engine's create recorded (before it joined) is out of date now.
    props['swarm_state'] = engine_state(ctx, member)
    ctx.source.instance.update()


@operation
def leave(ctx: Ctx, **kwargs: Any) -> None:
    """Relationship unlink (source side): the Engine node leaves the swarm."""
    member = _member(ctx)
    props = ctx.source.instance.runtime_properties
    node_id = props.get('swarm_node_id')
    if not node_id:
        return
    with engine(ctx, kwargs, client_config(ctx, ctx.target.node.properties.get('daemon_client'))) \
            as client:
        leave_member(ctx, client.api, member, node_id, props.get('swarm_role', ''))
        record_nodes(client.api, ctx.target.instance)
    for key in ('swarm_node_id', 'swarm_role'):
        props.pop(key, None)
    props['swarm_state'] = engine_state(ctx, member)
    ctx.source.instance.update()

