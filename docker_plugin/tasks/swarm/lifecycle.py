"""Operations of ``cloudify.nodes.docker.Swarm``: initialise or adopt, join, leave.

The node's ``daemon_client`` is the first manager. ``create`` initialises a
swarm there (or adopts the one it is in, with the existing-resource flags);
``start`` joins the engines of ``managers`` and ``workers``; ``delete`` takes
them out again (a manager is demoted first, so the swarm keeps its quorum)
and, unless the swarm was adopted or is retained, leaves it last. Join
tokens are remembered as secrets the moment they are read and never kept.
"""

from __future__ import annotations

from typing import Any, Mapping

from docker_plugin import kinds
from docker_plugin.errors import InvalidInputError, StateError
from docker_plugin.options.swarm import SWARM, members
from docker_plugin.resources import drift
from docker_plugin.resources.engine_api import EngineApi
from docker_plugin.resources.swarm import cluster as swarm
from docker_plugin.tasks import lifecycle as objects
from docker_plugin.tasks.context import (
    engine,
    existing_flags,
    instance_labels,
    persist,
    recorded,
    resolve_input,
    resource_labels,
)
from docker_plugin.tasks.ctx import Ctx
from docker_plugin.tasks.operation import operation
from docker_plugin.tasks.swarm.members import join_member, leave_member


def _managed(api: EngineApi, swarm_id: str) -> dict[str, Any] | None:
    """The swarm the engine manages, if it is ``swarm_id``."""
    info = swarm.inspect(api)
    return info if info is not None and info.get('ID') == swarm_id else None


# A swarm is known by the engine that manages it (one at most), not found by labels; what
# this deployment made, it leaves with force (its last manager) when it is deleted.
OBJECTS = objects.Objects(
    kinds.node('swarm'), inspect=_managed, find_by_labels=lambda api, labels: [],
    remove=lambda api, info: swarm.leave(api, force=True),
    summarise=lambda info: {'swarm_id': info.get('ID', '')}, ident=lambda info: info['ID'])


def options(ctx: Ctx, kwargs: Any) -> dict[str, dict[str, Any]]:
    return SWARM.validate(resolve_input(ctx, kwargs, 'swarm_config'), 'swarm_config')


def joining(ctx: Ctx, kwargs: Any) -> list[dict[str, Any]]:
    return [*members(resolve_input(ctx, kwargs, 'managers', []), 'managers', 'manager'),
            *members(resolve_input(ctx, kwargs, 'workers', []), 'workers', 'worker')]


@operation
def create(ctx: Ctx, **kwargs: Any) -> None:
    """Initialise a swarm on the engine, or adopt the swarm it is in."""
    declared = options(ctx, kwargs)
    flags = existing_flags(ctx, kwargs)
    joining(ctx, kwargs)  # bad lists fail before anything changes
    with engine(ctx, kwargs) as client:
        api = client.api
        SWARM.check_api({**declared.get('init', {}), **declared.get('spec', {})},
                        api.api_version, 'swarm_config')
        state = swarm.local_state(api)
        if state.get('LocalNodeState') == 'active' and not state.get('ControlAvailable'):
            raise InvalidInputError('daemon_client', 'the engine is a worker of a swarm: give '
                                                     'a manager')
        current = swarm.inspect(api)
        known = ctx.instance.runtime_properties.get('swarm_id')
        if current is not None and current.get('ID') == known:
            ctx.logger.info('Swarm %s already present; nothing to do', known)
            return
        spec = swarm.spec_of(declared.get('spec', {}))
        spec['Labels'] = {**(spec.get('Labels') or {}), **resource_labels(ctx)}

        def make() -> dict[str, Any]:
            swarm.init(api, declared.get('init', {}), spec)
            return swarm.inspect(api) or {}

        info, adopted = objects.ensure(ctx, 'swarm', 'on this engine', flags, current, make,
                                       field='daemon_client', table=SWARM,
                                       given={**declared.get('init', {}),
                                              **declared.get('spec', {})})
        objects.record(ctx, OBJECTS, info, adopted)
        state = swarm.local_state(api)
        persist(ctx, swarm_node_id=state.get('NodeID', ''),
                manager_addresses=swarm.manager_addresses(api))


@operation
def start(ctx: Ctx, **kwargs: Any) -> None:
    """Join the engines of ``managers`` and ``workers`` (each once; kept in ``joined``)."""
    props = ctx.instance.runtime_properties
    joined = list(props.get('joined') or [])
    with engine(ctx, kwargs) as client:
        for index, member in enumerate(joining(ctx, kwargs)):
            if any(j.get('index') == index for j in joined):
                continue
            node_id, before = join_member(ctx, client.api, member, f'{member["role"]}s',
                                          instance_labels(ctx))
            joined.append({'index': index, 'role': member['role'], 'node_id': node_id,
                           'member_before': before})
            persist(ctx, joined=joined)
        nodes = swarm.describe_nodes(swarm.nodes(client.api))
    persist(ctx, nodes=nodes)
    ctx.logger.info('Swarm %s: %d nodes', str(props.get('swarm_id', ''))[:12], len(nodes))


@operation
def delete(ctx: Ctx, **kwargs: Any) -> None:
    """The joined engines leave (managers demoted first); then this engine leaves,
    unless the swarm was adopted (and not delete_adopted) or is retained."""
    props = ctx.instance.runtime_properties
    flags = existing_flags(ctx, kwargs)
    listed = joining(ctx, kwargs)
    with objects.engine_to_clean(ctx, kwargs) as client:
        if client is None:
            objects.forget(ctx, OBJECTS)
            return
        api = client.api
        joined = list(props.get('joined') or [])
        for entry in reversed(joined):
            index = entry.get('index')
            member = listed[index] if isinstance(index, int) and index < len(listed) else None
            if not entry.get('member_before'):  # engines found in the swarm stay in it
                leave_member(ctx, api, member, entry.get('node_id', ''), entry.get('role', ''))
            joined.remove(entry)
            persist(ctx, joined=joined)
        if props.get('swarm_id') and not objects.keeps(ctx, OBJECTS, flags):
            # This deployment made the swarm: its last manager leaves with force.
            if swarm.leave(api, force=True):
                ctx.logger.info('The engine left swarm %s', props['swarm_id'][:12])
    objects.forget(ctx, OBJECTS)


@operation
def check_status(ctx: Ctx, **kwargs: Any) -> None:
    """Healthy when the engine manages the recorded swarm and no node is down."""
    swarm_id = recorded(ctx, 'swarm_id', 'swarm')
    with engine(ctx, kwargs) as client:
        info = swarm.inspect(client.api)
        if info is None or info.get('ID') != swarm_id:
            raise StateError(f'the engine no longer manages swarm {swarm_id[:12]}')
        nodes = swarm.describe_nodes(swarm.nodes(client.api))
    persist(ctx, nodes=nodes)
    down = [f'{n["hostname"]} ({n["id"][:12]})' for n in nodes if n['state'] != 'ready']
    if down:
        raise StateError(f'swarm {swarm_id[:12]}: nodes not ready: {", ".join(down)}')
    ctx.logger.info('Swarm %s: %d nodes ready (%d managers)', swarm_id[:12], len(nodes),
                    sum(n['role'] == 'manager' for n in nodes))


def _spec_drift(ctx: Ctx, kwargs: Any, api: EngineApi) -> tuple[dict, list]:
    swarm_id = recorded(ctx, 'swarm_id', 'swarm')
    info = swarm.inspect(api)
    if info is None or info.get('ID') != swarm_id:
        raise StateError(f'the engine no longer manages swarm {swarm_id[:12]}')
    declared = options(ctx, kwargs).get('spec', {})
    view = swarm.spec_of(declared)
    written = SWARM.written(resolve_input(ctx, kwargs, 'swarm_config'))
    return info, objects.plan(ctx, kwargs, OBJECTS, drift.differences(
        SWARM, declared, view, info.get('Spec') or {}, written=written))


def _plan(ctx: Ctx, kwargs: Mapping[str, Any]) -> list:
    with engine(ctx, kwargs) as client:
        return _spec_drift(ctx, kwargs, client.api)[1]


@operation
def check_drift(ctx: Ctx, **kwargs: Any) -> list[dict[str, Any]]:
    """Where the swarm's settings differ from ``swarm_config``, each with what update does
    with it (kept in ``drift``)."""
    return objects.record_drift(ctx, 'swarm', _plan(ctx, kwargs))


@operation
@objects.preview(OBJECTS, _plan)
def update(ctx: Ctx, **kwargs: Any) -> list[dict[str, Any]]:
    """Apply drifted swarm settings in place (the swarm update call); an adopted swarm
    changes only with modify_external_resource. ``preview: true``: the plan only."""
    with engine(ctx, kwargs) as client:
        api = client.api
        info, found = _spec_drift(ctx, kwargs, api)
        objects.refuse(found)
        if found:
            spec = _merge(info.get('Spec') or {},
                          swarm.spec_of(options(ctx, kwargs).get('spec', {})))
            swarm.update_spec(api, info['Version']['Index'], spec)
            ctx.logger.info('Swarm settings updated: %s', ', '.join(d.option for d in found))
            _, found = _spec_drift(ctx, kwargs, api)
    return objects.record_drift(ctx, 'swarm', found)


@operation
def pull(ctx: Ctx, **kwargs: Any) -> None:
    """``cloudify.interfaces.lifecycle.pull``: refresh the runtime properties (nodes,
    manager addresses, this engine's node id) from the manager."""
    swarm_id = recorded(ctx, 'swarm_id', 'swarm')
    with engine(ctx, kwargs) as client:
        api = client.api
        info = swarm.inspect(api)
        if info is None or info.get('ID') != swarm_id:
            raise StateError(f'the engine no longer manages swarm {swarm_id[:12]}')
        state = swarm.local_state(api)
        nodes = swarm.describe_nodes(swarm.nodes(api))
        persist(ctx, swarm_node_id=state.get('NodeID', ''), nodes=nodes,
                manager_addresses=swarm.manager_addresses(api))
    ctx.logger.info('Swarm %s refreshed from the engine: %d nodes', swarm_id[:12], len(nodes))


def _merge(current: dict[str, Any], wanted: dict[str, Any]) -> dict[str, Any]:
    out = dict(current)
    for key, value in wanted.items():
        out[key] = _merge(out.get(key) or {}, value) if isinstance(value, dict) else value
    return out
