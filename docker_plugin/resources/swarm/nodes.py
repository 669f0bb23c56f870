"""One node of a swarm: find it, change its spec, watch its tasks move off it.

A node is found by its id, its host name or a unique prefix of its id, as the
docker CLI finds one. Its spec (availability, role, labels) is changed whole
by the node update call, the version read just before (a version that moved
is read again). A drain is watched by a *look* (``resources.waiting``): the
node's tasks stop there, and each replicated task that ran there runs again
elsewhere, or cannot (no other node suits it: said, not waited for). What a
node was found as and what a deployment set on it decide what is given back
(``restoring``). Nothing here logs.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Mapping, Sequence

from docker_plugin.errors import NotFoundError, PluginError, StateError, engine_call, found
from docker_plugin.resources import waiting
from docker_plugin.resources.engine_api import EngineApi
from docker_plugin.resources.swarm import cluster

# A task in one of these states was handed to its node and holds (or is about to hold)
# the node's resources. Before (new, allocated, pending) it is not on the node yet: a
# global service's task for a drained node stays pending, never to run there.
ON_NODE = ('assigned', 'accepted', 'preparing', 'ready', 'starting', 'running')
# The parts of a node's spec a deployment declares, by their spec field.
FIELDS = {'availability': 'Availability', 'role': 'Role'}
MIN_PREFIX = 4  # an id prefix shorter than this is not taken for an id
# What a node update may meet that passes by itself: another update came first; a
# manager just promoted is not in the Raft membership yet.
PASSING = ('out of sequence', "can't find manager in raft memberlist")


def inspect(api: EngineApi, node_id: str) -> dict[str, Any] | None:
    """The node (``GET /nodes/<id>``), or None when the swarm has no such node."""
    return cluster.node(api, node_id)


def require(api: EngineApi, node_id: str) -> dict[str, Any]:
    info = inspect(api, node_id)
    if info is None:
        raise NotFoundError(f'swarm node {node_id[:12]} no longer exists')
    return info


def hostname(info: Mapping[str, Any]) -> str:
    return str((info.get('Description') or {}).get('Hostname') or '')


def matching(nodes: Sequence[Mapping[str, Any]], ref: str) -> list[Mapping[str, Any]]:
    """The nodes ``ref`` names, as the docker CLI reads it: the id, else the host name
    (of those that are not down, when some are: an engine that joined again leaves its
    old node behind, down), else a unique prefix of the id."""
    exact = [n for n in nodes if n.get('ID') == ref]
    if exact:
        return exact
    named = [n for n in nodes if hostname(n) == ref]
    if len(named) > 1:
        up = [n for n in named if (n.get('Status') or {}).get('State') != 'down']
        named = up or named
    if named:
        return named
    if len(ref) < MIN_PREFIX:
        return []
    return [n for n in nodes if str(n.get('ID') or '').startswith(ref)]


def summarise(info: Mapping[str, Any]) -> dict[str, Any]:
    """What a SwarmNode records of its node."""
    spec = info.get('Spec') or {}
    return {'swarm_node_id': info.get('ID', ''), 'hostname': hostname(info),
            'role': spec.get('Role', ''), 'availability': spec.get('Availability', ''),
            'labels': dict(spec.get('Labels') or {}),
            'state': (info.get('Status') or {}).get('State', ''),
            'address': (info.get('Status') or {}).get('Addr', ''),
            'leader': bool((info.get('ManagerStatus') or {}).get('Leader')),
            'engine_version': ((info.get('Description') or {}).get('Engine') or {}).get(
                'EngineVersion', '')}


def as_found(info: Mapping[str, Any]) -> dict[str, Any]:
    """The parts of the spec a deployment may change, as they are now."""
    spec = info.get('Spec') or {}
    return {'availability': spec.get('Availability', ''), 'role': spec.get('Role', ''),
            'labels': dict(spec.get('Labels') or {})}


def wanted_spec(spec: Mapping[str, Any], declared: Mapping[str, Any],
                strict_labels: bool) -> dict[str, Any]:
    """The spec the node gets for the declared values: labels merged into what is there
    (``strict_labels``: exactly the declared ones)."""
    out = dict(spec)
    for name, field in FIELDS.items():
        if declared.get(name):
            out[field] = declared[name]
    if declared.get('labels') is not None:
        labels = dict(declared['labels'])
        out['Labels'] = labels if strict_labels else {**(spec.get('Labels') or {}), **labels}
    return out


def applied(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """What a change set, from the spec before and after it: the fields it changed and,
    for labels, each label it set or removed (removed: None)."""
    out: dict[str, Any] = {}
    for name, field in FIELDS.items():
        if before.get(field) != after.get(field):
            out[name] = after.get(field)
    old, new = before.get('Labels') or {}, after.get('Labels') or {}
    labels = {key: new.get(key) for key in {*old, *new} if old.get(key) != new.get(key)}
    if labels:
        out['labels'] = labels
    return out


def merge_applied(earlier: Mapping[str, Any], later: Mapping[str, Any]) -> dict[str, Any]:
    """What a deployment set over two changes (the later wins, label by label)."""
    out = {**earlier, **{k: v for k, v in later.items() if k != 'labels'}}
    labels = {**(earlier.get('labels') or {}), **(later.get('labels') or {})}
    if labels:
        out['labels'] = labels
    return out


def restoring(found_as: Mapping[str, Any], set_by_us: Mapping[str, Any],
              spec: Mapping[str, Any]) -> dict[str, Any]:
    """The spec that gives back what a deployment changed (``set_by_us``, as
    ``applied`` says it) to what the node was found as, where the node still holds
    what the deployment set: a value changed since by someone else stays theirs."""
    out = dict(spec)
    for name, field in FIELDS.items():
        if name in set_by_us and spec.get(field) == set_by_us[name] and \
                found_as.get(name) and found_as[name] != set_by_us[name]:
            out[field] = found_as[name]
    labels = dict(spec.get('Labels') or {})
    before = found_as.get('labels') or {}
    for key, value in (set_by_us.get('labels') or {}).items():
        if labels.get(key) != value:
            continue  # changed since: someone else's now
        if key in before:
            labels[key] = before[key]
        else:
            labels.pop(key, None)
    if labels != (spec.get('Labels') or {}):
        out['Labels'] = labels
    return out


def set_spec(api: EngineApi, node_id: str, change: Callable[[Mapping[str, Any]], dict[str, Any]],
             attempts: int = 5) -> tuple[dict[str, Any], dict[str, Any]]:
    """Give the node the spec ``change`` makes of its current one; returns (the node as
    it was just before, the spec it has now). A version that moved (another update
    came first), or a manager just promoted and not yet in the Raft membership, is
    read again, up to ``attempts`` times."""
    attempt = 0
    while True:
        info = require(api, node_id)
        wanted = change(info['Spec'])
        if wanted == info['Spec']:
            return info, wanted
        try:
            with engine_call(f'update swarm node {node_id[:12]}'):
                api.update_node(node_id, info['Version']['Index'], wanted)
            return info, wanted
        except PluginError as exc:
            attempt += 1
            if not any(m in str(exc).lower() for m in PASSING) or attempt >= attempts:
                raise
            time.sleep(0.2 * attempt)


def other_managers(nodes: Sequence[Mapping[str, Any]], node_id: str) -> list[str]:
    """Host names of the managers, besides ``node_id``, that the others reach."""
    return [hostname(n) or str(n.get('ID', ''))[:12] for n in nodes
            if n.get('ID') != node_id and (n.get('Spec') or {}).get('Role') == 'manager'
            and (n.get('ManagerStatus') or {}).get('Reachability') == 'reachable']


# ------------------------------------------------------------------ draining
def _tasks(api: EngineApi, filters: Mapping[str, Any], action: str) -> list[dict[str, Any]]:
    with engine_call(action):
        return api.tasks(filters=dict(filters))


def _service(api: EngineApi, service_id: str) -> dict[str, Any] | None:
    return found(lambda: api.inspect_service(service_id), f'inspect service {service_id[:12]}')


def _mode(spec: Mapping[str, Any]) -> str:
    mode = spec.get('Mode') or {}
    for key, name in (('Replicated', 'replicated'), ('Global', 'global'),
                      ('ReplicatedJob', 'replicated-job'), ('GlobalJob', 'global-job')):
        if key in mode:
            return name
    return 'replicated'


def _live(task: Mapping[str, Any]) -> bool:
    return (task.get('Status') or {}).get('State') in ON_NODE


def drain_baseline(api: EngineApi, node_id: str) -> dict[str, Any]:
    """What runs on the node before a drain: its live tasks by service, each with its
    name, mode and (replicated services) the slots to be run elsewhere."""
    services: dict[str, dict[str, Any]] = {}
    for task in _tasks(api, {'node': node_id}, f'list the tasks of node {node_id[:12]}'):
        if not _live(task) or task.get('DesiredState') not in ('running', 'complete'):
            continue
        service_id = str(task.get('ServiceID') or '')
        entry = services.get(service_id)
        if entry is None:
            info = _service(api, service_id) or {}
            spec = info.get('Spec') or {}
            entry = services[service_id] = {'name': spec.get('Name') or service_id[:12],
                                            'mode': _mode(spec), 'slots': []}
        if entry['mode'] in ('replicated', 'replicated-job') and task.get('Slot'):
            entry['slots'].append(int(task['Slot']))
    return {'node': node_id, 'services': services}


def _slot_state(tasks: Sequence[Mapping[str, Any]], slot: int, node_id: str) -> tuple[str, str]:
    """('moved' | 'stuck' | 'pending', what was seen) for one slot of a replicated
    service that ran on the node being drained."""
    elsewhere = [t for t in tasks if t.get('Slot') == slot and t.get('NodeID') != node_id
                 and t.get('DesiredState') in ('running', 'complete')]
    states = [(t.get('Status') or {}) for t in elsewhere]
    if any(s.get('State') in ('running', 'complete') for s in states):
        return 'moved', ''
    for status in states:
        if status.get('State') == 'pending' and status.get('Err'):
            return 'stuck', str(status['Err'])
    seen = ', '.join(sorted({str(s.get('State')) for s in states})) or 'not scheduled yet'
    return 'pending', seen


def drain_look(api: EngineApi, baseline: Mapping[str, Any]) -> waiting.Look:
    """A look that is done when no task runs on the node any more and every replicated
    task that ran there runs elsewhere, or cannot (Done's value says which)."""
    node_id = str(baseline['node'])
    services: Mapping[str, Mapping[str, Any]] = baseline.get('services') or {}

    def look(state: waiting.WaitState) -> waiting.Done[dict[str, Any]] | waiting.Pending:
        info = inspect(api, node_id)
        if info is None:
            raise StateError(f'swarm node {node_id[:12]} left the swarm while it was '
                             'draining')
        down = (info.get('Status') or {}).get('State') == 'down'
        on_node = [] if down else [
            t for t in _tasks(api, {'node': node_id}, f'list the tasks of node {node_id[:12]}')
            if _live(t)]
        moved: list[str] = []
        stuck: list[str] = []
        waiting_for: list[str] = []
        for service_id, entry in services.items():
            slots = entry.get('slots') or []
            if not slots:
                continue
            service = _service(api, service_id)
            if service is None:
                moved += [f'{entry["name"]}.{slot}' for slot in slots]  # removed meanwhile
                continue
            replicas = ((service.get('Spec') or {}).get('Mode') or {}).get(
                'Replicated', {}).get('Replicas')
            tasks = _tasks(api, {'service': service_id},
                           f'list the tasks of service {entry["name"]}')
            for slot in slots:
                name = f'{entry["name"]}.{slot}'
                if isinstance(replicas, int) and slot > replicas:
                    moved.append(name)  # scaled down meanwhile: nothing to run elsewhere
                    continue
                outcome, seen = _slot_state(tasks, slot, node_id)
                {'moved': moved, 'stuck': stuck, 'pending': waiting_for}[outcome].append(
                    f'{name} ({seen})' if seen else name)
        if on_node or waiting_for:
            parts = []
            if on_node:
                parts.append(f'{len(on_node)} tasks still on the node: ' + ', '.join(
                    sorted(_task_name(t, services) for t in on_node)[:10]))
            if waiting_for:
                parts.append('to start elsewhere: ' + ', '.join(waiting_for[:10]))
            return waiting.Pending('; '.join(parts))
        stopped = sorted(entry['name'] for entry in services.values()
                         if entry.get('mode') in ('global', 'global-job'))
        return waiting.Done({'moved': moved, 'stopped': stopped, 'cannot_move': stuck,
                             'node_down': down})

    return look


def _task_name(task: Mapping[str, Any], services: Mapping[str, Mapping[str, Any]]) -> str:
    service_id = str(task.get('ServiceID') or '')
    name = (services.get(service_id) or {}).get('name') or service_id[:12]
    state = (task.get('Status') or {}).get('State')
    return f'{name}.{task.get("Slot") or str(task.get("ID", ""))[:12]} {state}'


def describe_drain(value: Mapping[str, Any]) -> str:
    """Done's value of a drain, in words."""
    parts = [f'{len(value.get("moved") or [])} tasks run elsewhere']
    if value.get('stopped'):
        parts.append(f'global services stopped there: {", ".join(value["stopped"])}')
    if value.get('cannot_move'):
        parts.append('cannot move (no other node suits them, they wait for one): ' +
                     '; '.join(value['cannot_move']))
    if value.get('node_down'):
        parts.append('the node is down: its tasks were not waited for')
    return '; '.join(parts)
