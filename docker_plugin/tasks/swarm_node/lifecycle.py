"""Operations of ``cloudify.nodes.docker.SwarmNode``: one node of a swarm, adopted.

The node is one of the swarm the operation's engine manages (the Swarm node's
manager through ``in_swarm``, or ``daemon_client``), found by ``node`` (its
host name or id) or, without one, as the engine of the Engine node it is
related to by ``node_of_engine``. It is always adopted: never made, never
removed from its swarm (engines join and leave through the Swarm node and
``member_of_swarm``).

``create`` records the node as it was found (``found``), then gives it the
declared availability, role and labels, through the option table
(``options.swarm.SWARM_NODE``) that drift and ``update`` use too; what the
deployment set is kept (``applied``). ``delete`` gives back what the
deployment set wherever the node still holds it (a value someone changed
since stays theirs), so a node drained for maintenance is active again after
uninstall; ``retain`` leaves it as it is. A drain waits (``drain_wait``, the
one resumable wait: held, or ``async`` through Cloudify's retries) until no
task runs on the node and each replicated task that ran there runs elsewhere,
or cannot (said, not waited for). Demoting the last reachable manager, or the
manager the operation talks to, is refused naming ``role``.
"""

from __future__ import annotations

from typing import Any, Mapping

from docker_plugin import kinds
from docker_plugin.errors import InvalidInputError, RefusedError, StateError
from docker_plugin.options.base import Compare
from docker_plugin.options.swarm import NODE_DRAIN, SWARM_NODE
from docker_plugin.resources import drift
from docker_plugin.resources.engine_api import EngineApi
from docker_plugin.resources.swarm import cluster, nodes
from docker_plugin.resources.waiting import WaitState
from docker_plugin.tasks import lifecycle as objects
from docker_plugin.tasks import waits
from docker_plugin.tasks.confine import client_config
from docker_plugin.tasks.context import (
    engine,
    existing_flags,
    persist,
    record_result,
    recorded,
    resolve_input,
)
from docker_plugin.tasks.ctx import Ctx
from docker_plugin.tasks.kept_nodes import node_of
from docker_plugin.tasks.operation import operation
from docker_plugin.tasks.relationships import related

ENGINE_RELATIONSHIP = kinds.relationship('node_of_engine').type_name
# Seconds a role change may take: a node promoted again soon after a demotion is
# reachable as a manager only after about 30 s (Docker 20.10).
ROLE_TIMEOUT = 120


def _kept(api: EngineApi, info: Mapping[str, Any]) -> bool:
    """A swarm node is never removed by this kind (it was adopted, always)."""
    return False


OBJECTS = objects.Objects(
    kinds.node('swarm_node'), inspect=nodes.inspect, find_by_labels=lambda api, labels: [],
    remove=_kept, summarise=nodes.summarise, ident=lambda info: str(info.get('ID', '')))


# ------------------------------------------------------------------ inputs
def declared_spec(ctx: Ctx, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The node's options (each an input, else the property of that name), validated."""
    raw = {}
    for option in SWARM_NODE:
        value = kwargs.get(option.name)
        if value is None:
            value = ctx.node.properties.get(option.name)
        if value not in (None, ''):
            raw[option.name] = value
    parts = SWARM_NODE.validate(raw, '')
    return {name: value for section, found in parts.items() if section != 'extra'
            for name, value in found.items()}


def _rules(declared: Mapping[str, Any]) -> dict[str, Compare]:
    return SWARM_NODE.rules(declared.get('comparisons'), declared)


def _strict_labels(declared: Mapping[str, Any]) -> bool:
    """``comparisons: {labels: strict}``: the node's labels are exactly the declared ones."""
    return _rules(declared).get('labels') in (Compare.SET, Compare.STRICT)


def drain_settings(ctx: Ctx, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    return NODE_DRAIN.parse(resolve_input(ctx, kwargs, 'drain_wait'), 'drain_wait')


def flags(ctx: Ctx, kwargs: Mapping[str, Any]) -> None:
    """The existing-resource flags a swarm node takes (it is always adopted)."""
    _check_flags(existing_flags(ctx, kwargs))


def _check_flags(flags: Mapping[str, bool]) -> None:
    for name in ('create_if_missing', 'delete_adopted'):
        if flags[name]:
            raise InvalidInputError(name, 'a swarm node is adopted, never made or removed: '
                                          'engines join and leave through the Swarm node '
                                          '(managers, workers) or member_of_swarm')


# ------------------------------------------------------------------ finding it
def _engine_node_id(ctx: Ctx) -> tuple[str, str]:
    """(node id, field) of the Engine node this one is related to by node_of_engine."""
    linked = related(ctx, ENGINE_RELATIONSHIP)
    if not linked:
        raise InvalidInputError('node', "required: the node's host name or id, or a "
                                        'node_of_engine relationship to its Engine node')
    if len(linked) > 1:
        raise InvalidInputError(f'relationship to {linked[1][0].target.node.id}',
                                'a swarm node is one engine: give one node_of_engine '
                                'relationship')
    relationship, _ = linked[0]
    target = node_of(ctx, relationship.target.node)
    field = f'{target.id}.daemon_client'
    config = client_config(ctx, target.properties.get('daemon_client') or {}, field)
    with engine(ctx, {}, config) as client:
        state = cluster.local_state(client.api)
    if state.get('LocalNodeState') != 'active' or not state.get('NodeID'):
        raise StateError(f'the engine of {target.id} ({config.base_url}) is not in a swarm '
                         f'(its swarm state: {state.get("LocalNodeState") or "inactive"})')
    return str(state['NodeID']), f'relationship to {target.id}'


def _find(ctx: Ctx, api: EngineApi, declared: Mapping[str, Any]) -> dict[str, Any]:
    """The node the blueprint names, in the swarm the engine manages."""
    ref, field = declared.get('node'), 'node'
    if not ref:
        ref, field = _engine_node_id(ctx)
    listed = cluster.nodes(api)
    matches = nodes.matching(listed, ref)
    if not matches:
        known = ', '.join(sorted(nodes.hostname(n) or str(n.get('ID'))[:12] for n in listed))
        where = 'its engine is in another swarm' if field != 'node' else f'its nodes: {known}'
        raise InvalidInputError(field, f'no node of the swarm is {ref[:80]!r} ({where})')
    if len(matches) > 1:
        ids = ', '.join(sorted(str(n.get('ID'))[:12] for n in matches))
        raise InvalidInputError(field, f'{ref[:80]!r} names several nodes ({ids}): give the '
                                       'node id')
    return nodes.require(api, str(matches[0]['ID']))


def _node_name(info: Mapping[str, Any]) -> str:
    return nodes.hostname(info) or str(info.get('ID', ''))[:12]


# ------------------------------------------------------------------ changing it
def _may_demote(api: EngineApi, info: Mapping[str, Any]) -> str:
    """Why the node may not be demoted ('' when it may)."""
    node_id, name = str(info['ID']), _node_name(info)
    if not nodes.other_managers(cluster.nodes(api), node_id):
        return (f'node {name} is the last reachable manager of the swarm: demoting it would '
                'leave the swarm without one (promote another node first)')
    if cluster.local_state(api).get('NodeID') == node_id:
        return (f'node {name} is the manager this operation talks to: demoting it would cut '
                'the plugin off (give daemon_client another manager to demote it)')
    return ''


def _converge(ctx: Ctx, api: EngineApi, info: Mapping[str, Any], declared: Mapping[str, Any],
              settings: Mapping[str, Any], operation_name: str,
              state: WaitState | None) -> Any:
    """Give the node the declared spec and wait for what that takes (a role to change,
    a drain to move the node's tasks). A retry of the same operation (``state``: its
    wait) sends the spec again if it was not sent, then goes on waiting. Returns the
    operation's retry request while an ``async`` drain waits, else None."""
    node_id, name = str(info['ID']), _node_name(info)
    strict = _strict_labels(declared)
    spec = info.get('Spec') or {}
    wanted = nodes.wanted_spec(spec, declared, strict)
    if wanted.get('Role') == 'worker' and spec.get('Role') == 'manager':
        why = _may_demote(api, info)
        if why:
            raise InvalidInputError('role', why)
    drains = wanted.get('Availability') == 'drain' and spec.get('Availability') != 'drain'
    if state is None and drains and settings['wait']:
        # Kept before the drain is sent: a retry finds it and sends what was not sent.
        state = waits.begin(ctx, operation_name, settings['timeout'],
                            {'baseline': nodes.drain_baseline(api, node_id)})
    try:
        before, now = nodes.set_spec(
            api, node_id, lambda current: nodes.wanted_spec(current, declared, strict))
    except RefusedError as exc:
        waits.abandon(ctx, operation_name)  # nothing was sent: there is nothing to wait for
        given = {k: v for k, v in declared.items() if SWARM_NODE.options[k].section == 'spec'}
        raise objects.refused(exc, f'the engine refused the spec of swarm node {name}',
                              SWARM_NODE, {'': given}, next(iter(given), 'node')) from None
    done = nodes.applied(before['Spec'], now)
    if done:
        props = ctx.instance.runtime_properties
        persist(ctx, applied=nodes.merge_applied(props.get('applied') or {}, done))
        ctx.logger.info('Swarm node %s: %s', name, _said(done))
    if 'role' in done:
        cluster.wait_role(api, node_id, done['role'], ROLE_TIMEOUT)
    if state is not None:
        outcome = waits.run(
            ctx, operation_name, state, nodes.drain_look(api, state.data['baseline']),
            f'swarm node {name} to drain',
            waits.Mode(poll=bool(settings['async']), interval=settings['interval']))
        if isinstance(outcome, waits.Retry):
            return outcome.request(ctx)
        said = nodes.describe_drain(outcome.value)
        record_result(ctx, 'drained', 0, f'node {name} drained: {said}', outcome.value)
        log = ctx.logger.warning if outcome.value.get('cannot_move') else ctx.logger.info
        log('Swarm node %s drained: %s', name, said)
    persist(ctx, **nodes.summarise(nodes.require(api, node_id)))
    return None


def _said(done: Mapping[str, Any]) -> str:
    parts = [f'{name} {value}' for name, value in done.items() if name != 'labels']
    labels = done.get('labels') or {}
    if labels:
        parts.append('labels ' + ', '.join(f'{k}={v}' if v is not None else f'-{k}'
                                          for k, v in sorted(labels.items())))
    return '; '.join(parts)


# ------------------------------------------------------------------ operations
@operation
def create(ctx: Ctx, **kwargs: Any) -> Any:
    """Adopt the node, record it as found, and give it the declared availability, role
    and labels (a drain waits for its tasks to move)."""
    declared = declared_spec(ctx, kwargs)
    settings = drain_settings(ctx, kwargs)
    _check_flags(existing_flags(ctx, kwargs))
    with engine(ctx, kwargs) as client:
        api = client.api
        state = waits.resume(ctx, 'create')
        info = objects.present(ctx, api, OBJECTS) or _find(ctx, api, declared)
        props = ctx.instance.runtime_properties
        if 'found' not in props:  # as it was before this deployment changed anything
            persist(ctx, found=nodes.as_found(info))
        objects.record(ctx, OBJECTS, info, True)
        ctx.logger.info('Adopted swarm node %s (%s, %s, %s)', _node_name(info),
                        str(info['ID'])[:12], (info.get('Spec') or {}).get('Role'),
                        (info.get('Spec') or {}).get('Availability'))
        return _converge(ctx, api, info, declared, settings, 'create', state)


@operation
def delete(ctx: Ctx, **kwargs: Any) -> None:
    """Give back what the deployment set on the node, wherever it still holds it (unless
    ``retain``); the node stays in its swarm."""
    props = ctx.instance.runtime_properties
    node_id, set_by_us = props.get('swarm_node_id'), props.get('applied') or {}
    if node_id and set_by_us and existing_flags(ctx, kwargs)['retain']:
        ctx.logger.info('Keeping swarm node %s as it is: retain is set',
                        objects.shown(ctx, OBJECTS))
    elif node_id and set_by_us:
        with engine(ctx, kwargs) as client:
            _give_back(ctx, client.api, node_id, props.get('found') or {}, set_by_us)
    objects.forget(ctx, OBJECTS)


def _give_back(ctx: Ctx, api: EngineApi, node_id: str, found_as: Mapping[str, Any],
               set_by_us: Mapping[str, Any]) -> None:
    info = nodes.inspect(api, node_id)
    if info is None:
        ctx.logger.info('Swarm node %s is no longer in the swarm: nothing to give back',
                        node_id[:12])
        return
    keep_role = False
    back = nodes.restoring(found_as, set_by_us, info['Spec'])
    if back.get('Role') == 'worker' and info['Spec'].get('Role') == 'manager':
        why = _may_demote(api, info)
        if why:
            ctx.logger.warning('Swarm node %s stays a manager: %s', _node_name(info), why)
            keep_role = True

    def change(spec: Mapping[str, Any]) -> dict[str, Any]:
        out = nodes.restoring(found_as, set_by_us, spec)
        if keep_role:
            out['Role'] = spec.get('Role')
        return out

    before, now = nodes.set_spec(api, node_id, change)
    given = nodes.applied(before['Spec'], now)
    if given:
        ctx.logger.info('Swarm node %s given back as found: %s', _node_name(info),
                        _said(given))
        if 'role' in given:
            cluster.wait_role(api, node_id, given['role'], ROLE_TIMEOUT)
    else:
        ctx.logger.info('Swarm node %s: nothing to give back (what this deployment set was '
                        'changed since)', _node_name(info))


@operation
def check_status(ctx: Ctx, **kwargs: Any) -> None:
    """Healthy when the node is in the swarm, ready, has the declared availability and
    role, and (a manager) is reachable by the other managers."""
    declared = declared_spec(ctx, kwargs)
    with engine(ctx, kwargs) as client:
        info = objects.require(ctx, client.api, OBJECTS)
    persist(ctx, **nodes.summarise(info))
    name, spec = _node_name(info), info.get('Spec') or {}
    problems = []
    status = (info.get('Status') or {}).get('State')
    if status != 'ready':
        problems.append(f'it is {status}')
    for option, field in nodes.FIELDS.items():
        if declared.get(option) and spec.get(field) != declared[option]:
            problems.append(f'its {option} is {spec.get(field)}, not {declared[option]}')
    reachability = (info.get('ManagerStatus') or {}).get('Reachability')
    if spec.get('Role') == 'manager' and reachability != 'reachable':
        problems.append(f'as a manager it is {reachability or "not reachable"}')
    if problems:
        raise StateError(f'swarm node {name}: {"; ".join(problems)}')
    ctx.logger.info('Swarm node %s is ready (%s, %s)', name, spec.get('Role'),
                    spec.get('Availability'))


def _drift(ctx: Ctx, api: EngineApi, declared: Mapping[str, Any]) -> tuple[objects.Info, list]:
    """(inspect, the differences each with what update does with it: a node is always
    adopted, and update changes it all the same)."""
    info = objects.require(ctx, api, OBJECTS)
    found = drift.differences(SWARM_NODE, declared, drift.desired_view(SWARM_NODE, declared),
                              info, rules=_rules(declared))
    return info, objects.planned(OBJECTS.kind.update, OBJECTS.word, found)


def _plan(ctx: Ctx, kwargs: Mapping[str, Any]) -> list:
    declared = declared_spec(ctx, kwargs)
    with engine(ctx, kwargs) as client:
        return _drift(ctx, client.api, declared)[1]


@operation
def check_drift(ctx: Ctx, **kwargs: Any) -> list[dict[str, Any]]:
    """Where the node differs from its declared availability, role and labels, each with
    what update does with it (kept in ``drift``)."""
    return objects.record_drift(ctx, OBJECTS.word, _plan(ctx, kwargs))


@operation
@objects.preview(OBJECTS, _plan)
def update(ctx: Ctx, **kwargs: Any) -> Any:
    """Give the node its declared spec again where it drifted, in place (a drain waits
    for its tasks to move). ``preview: true``: the plan only."""
    declared = declared_spec(ctx, kwargs)
    settings = drain_settings(ctx, kwargs)
    recorded(ctx, 'swarm_node_id', 'swarm node')
    with engine(ctx, kwargs) as client:
        api = client.api
        state = waits.resume(ctx, 'update')
        info, found = _drift(ctx, api, declared)
        if found or state is not None:
            request = _converge(ctx, api, info, declared, settings, 'update', state)
            if request is not None:
                return request
            _, found = _drift(ctx, api, declared)
    return objects.record_drift(ctx, OBJECTS.word, found)


@operation
def pull(ctx: Ctx, **kwargs: Any) -> None:
    """``cloudify.interfaces.lifecycle.pull``: the node's runtime properties again."""
    objects.refresh(ctx, kwargs, OBJECTS)

