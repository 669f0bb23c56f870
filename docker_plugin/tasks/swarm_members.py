"""Engines joining and leaving a swarm: list items of the Swarm node, or
``cloudify.nodes.docker.Engine`` nodes with a ``member_of_swarm`` relationship.

A join reads the token from a manager (remembered as a secret at once),
joins the engine and sets the node's availability and labels; a leave
demotes a manager first (so the swarm keeps its quorum), makes the engine
leave, and removes its node from the swarm. An engine that cannot be
reached any more (a dead machine) is removed from the swarm by a manager.
"""

from __future__ import annotations

from typing import Any, Mapping

from docker_plugin import secrets
from docker_plugin.errors import InvalidInputError, TransientError
from docker_plugin.options.swarm import MEMBER
from docker_plugin.resources import swarm
from docker_plugin.tasks.confine import client_config
from docker_plugin.tasks.context import drop, engine, persist
from docker_plugin.tasks.operation import operation
from docker_plugin.tasks.relationships import own_properties
from docker_plugin.tasks.specs import BASE_KEYS

MEMBER_RELATIONSHIP = 'cloudify.relationships.docker.member_of_swarm'


def join_member(ctx: Any, api: Any, member: Mapping[str, Any], field: str,
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
    return node_id, before


def leave_member(ctx: Any, api: Any, member: Mapping[str, Any] | None, node_id: str,
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
def _member(ctx: Any) -> dict[str, Any]:
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
def join(ctx: Any, **kwargs: Any) -> None:
    """Relationship establish (source side): the Engine node joins the Swarm node's swarm."""
    member = _member(ctx)
    labels = {'cloudify.deployment': str(ctx.deployment.id or ''),
              'cloudify.node-instance': str(ctx.source.instance.id or '')}
    with engine(ctx, kwargs, client_config(ctx, ctx.target.node.properties.get('daemon_client'))) \
            as client:
        node_id, before = join_member(ctx, client.api, member,
                                      f'relationship to {ctx.target.node.id}', labels)
    props = ctx.source.instance.runtime_properties
    if not before:  # an engine that was a member already stays one on uninstall
        props['swarm_node_id'], props['swarm_role'] = node_id, member['role']
    ctx.source.instance.update()


@operation
def leave(ctx: Any, **kwargs: Any) -> None:
    """Relationship unlink (source side): the Engine node leaves the swarm."""
    props = ctx.source.instance.runtime_properties
    node_id = props.get('swarm_node_id')
    if not node_id:
        return
    with engine(ctx, kwargs, client_config(ctx, ctx.target.node.properties.get('daemon_client'))) \
            as client:
        leave_member(ctx, client.api, _member(ctx), node_id, props.get('swarm_role', ''))
    for key in ('swarm_node_id', 'swarm_role'):
        props.pop(key, None)
    ctx.source.instance.update()


# -------------------------------------------------------------------- Engine node
@operation
def describe_engine(ctx: Any, **kwargs: Any) -> None:
    """Engine node create and check_status: the engine answers; its name, version and
    swarm state are kept."""
    with engine(ctx, kwargs) as client:
        info, version = swarm.engine_info(client.api)
    state = info.get('Swarm') or {}
    persist(ctx, engine_name=info.get('Name', ''),
            engine_version=version.get('Version', ''),
            api_version=version.get('ApiVersion', ''),
            swarm_state=state.get('LocalNodeState', ''))
    ctx.logger.info('Engine %s: Docker %s, swarm %s', info.get('Name', ''),
                    version.get('Version', ''), state.get('LocalNodeState', ''))


@operation
def forget_engine(ctx: Any, **kwargs: Any) -> None:
    """Engine node delete: nothing to remove; its runtime properties go."""
    drop(ctx, 'engine_name', 'engine_version', 'api_version', 'swarm_state')

