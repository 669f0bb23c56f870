"""A swarm: initialise it, join engines to it, take them out, look at its nodes,
rotate its join tokens and its unlock key.

Join tokens and the unlock key are secrets: every function that reads one
hands it (and, rotating, the one it replaces) to the caller's ``remember``
before anything else, so no log line, error or property can carry it;
nothing here logs.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Mapping, Sequence

from docker_plugin.errors import (
    NotFoundError,
    PluginError,
    StateError,
    TimeoutExpired,
    done,
    engine_call,
    found,
)
from docker_plugin.resources import waiting
from docker_plugin.resources.engine_api import EngineApi


def local_state(api: EngineApi) -> dict[str, Any]:
    """The engine's own view (``Info.Swarm``): LocalNodeState, NodeID, Cluster, ..."""
    with engine_call('read the engine\'s swarm state'):
        return api.info().get('Swarm') or {}


def engine_info(api: EngineApi) -> tuple[dict[str, Any], dict[str, Any]]:
    """(``GET /info``, ``GET /version``) of one engine."""
    with engine_call('describe the engine'):
        return api.info(), api.version()


def inspect(api: EngineApi) -> dict[str, Any] | None:
    """The swarm (``GET /swarm``, managers only), or None when not a manager of one."""
    try:
        with engine_call('inspect the swarm'):
            return api.inspect_swarm()
    except PluginError as exc:
        text = str(exc).lower()
        if 'not a swarm manager' in text or 'not part of a swarm' in text or \
                isinstance(exc, NotFoundError):
            return None
        raise


def init(api: EngineApi, options: Mapping[str, Any], spec: Mapping[str, Any]) -> str:
    """Initialise a swarm on this engine; returns the node id."""
    body: dict[str, Any] = {'ListenAddr': options.get('listen_addr') or '0.0.0.0:2377',
                            'ForceNewCluster': bool(options.get('force_new_cluster'))}
    for name, key in (('advertise_addr', 'AdvertiseAddr'), ('data_path_addr', 'DataPathAddr'),
                      ('data_path_port', 'DataPathPort'), ('default_addr_pool',
                                                           'DefaultAddrPool'),
                      ('subnet_size', 'SubnetSize')):
        if options.get(name) is not None:
            body[key] = options[name]
    if body.get('DefaultAddrPool') and 'SubnetSize' not in body:
        body['SubnetSize'] = 24
    if spec:
        body['Spec'] = dict(spec)
    with engine_call('initialise a swarm'):
        return api._result(api._post_json(api._url('/swarm/init'), data=body), True)


def spec_of(values: Mapping[str, Any]) -> dict[str, Any]:
    """The swarm ``Spec`` for the spec options that are set."""
    paths = {'task_history_retention_limit': 'Orchestration.TaskHistoryRetentionLimit',
             'dispatcher_heartbeat_period': 'Dispatcher.HeartbeatPeriod',
             'snapshot_interval': 'Raft.SnapshotInterval',
             'node_cert_expiry': 'CAConfig.NodeCertExpiry',
             'autolock_managers': 'EncryptionConfig.AutoLockManagers', 'labels': 'Labels'}
    spec: dict[str, Any] = {}
    for name, path in paths.items():
        if values.get(name) is None:
            continue
        *parents, leaf = path.split('.')
        node = spec
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = values[name]
    return spec


def join_token(api: EngineApi, role: str, remember: Callable[..., None]) -> str:
    """The token for ``role``, handed to ``remember`` (the secret filter) first."""
    info = inspect(api)
    if info is None:
        raise StateError('the swarm engine is not a manager of a swarm: no join token')
    tokens = info.get('JoinTokens') or {}
    remember(*tokens.values())
    return tokens['Manager' if role == 'manager' else 'Worker']


ROTATE_ATTEMPTS = 5  # a swarm update whose version moved meanwhile is read again


def _update_swarm(api: EngineApi, remember: Callable[..., None], action: str,
                  **rotate: bool) -> dict[str, Any]:
    """The swarm update call with its current spec and ``rotate`` flags; returns the swarm
    as it was just before (its tokens remembered)."""
    attempt = 0
    while True:
        info = inspect(api)
        if info is None:
            raise StateError('the engine is not a manager of a swarm')
        remember(*(info.get('JoinTokens') or {}).values())
        try:
            with engine_call(action):
                api.update_swarm(info['Version']['Index'], swarm_spec=info.get('Spec') or {},
                                 **rotate)
            return info
        except PluginError as exc:
            attempt += 1
            if 'out of sequence' not in str(exc).lower() or attempt >= ROTATE_ATTEMPTS:
                raise
            time.sleep(0.2)


def rotate_join_tokens(api: EngineApi, roles: tuple[str, ...],
                       remember: Callable[..., None]) -> list[str]:
    """New join tokens for ``roles`` (``worker``, ``manager``): the old ones stop working.
    Returns the roles whose token changed (every token, old and new, remembered)."""
    before = _update_swarm(api, remember, 'rotate the join tokens',
                           rotate_worker_token='worker' in roles,
                           rotate_manager_token='manager' in roles)
    after = inspect(api) or {}
    new = after.get('JoinTokens') or {}
    remember(*new.values())
    old = before.get('JoinTokens') or {}
    return [role for role in ('worker', 'manager')
            if role in roles and old.get(role.capitalize()) != new.get(role.capitalize())]


def autolocked(api: EngineApi) -> bool:
    """Whether the swarm locks its managers at restart (so it has an unlock key)."""
    info = inspect(api)
    if info is None:
        raise StateError('the engine is not a manager of a swarm')
    return bool(((info.get('Spec') or {}).get('EncryptionConfig') or {}).get(
        'AutoLockManagers'))


def unlock_key(api: EngineApi, remember: Callable[..., None], rotate: bool = False) -> str:
    """The swarm's unlock key, remembered before it is returned (``rotate``: a new one
    first, the old one remembered too).

    Raises:
        StateError: the swarm does not lock its managers, so it has no unlock key.
    """
    def read() -> str:
        with engine_call('read the unlock key'):
            key = str((api.get_unlock_key() or {}).get('UnlockKey') or '')
        remember(key)
        return key

    if not autolocked(api):
        raise StateError('the swarm does not lock its managers (autolock_managers is off): '
                         'it has no unlock key')
    if not rotate:
        return read()
    old = read()
    _update_swarm(api, remember, 'rotate the unlock key', rotate_manager_unlock_key=True)
    new = read()
    if not new or new == old:
        raise StateError('the swarm kept its unlock key: the rotation did not take')
    return new


def manager_addresses(api: EngineApi) -> list[str]:
    """Addresses (host:port) of the swarm's managers, from a manager's own view."""
    state = local_state(api)
    found = [m['Addr'] for m in state.get('RemoteManagers') or [] if m.get('Addr')]
    if not found and state.get('NodeAddr'):
        found = [f'{state["NodeAddr"]}:2377']
    return found


def join(api: EngineApi, managers: list[str], token: str, member: Mapping[str, Any]) -> str:
    """Join this engine to the swarm; returns its node id (already joined: its id)."""
    state = local_state(api)
    if state.get('LocalNodeState') == 'active':
        return state.get('NodeID', '')
    body = {'RemoteAddrs': managers, 'JoinToken': token,
            'ListenAddr': member.get('listen_addr') or '0.0.0.0:2377'}
    for name, key in (('advertise_addr', 'AdvertiseAddr'), ('data_path_addr', 'DataPathAddr')):
        if member.get(name):
            body[key] = member[name]
    with engine_call('join the swarm'):
        response = api._post_json(api._url('/swarm/join'), data=body)
        api._raise_for_status(response)
    return local_state(api).get('NodeID', '')


def leave(api: EngineApi, force: bool = False) -> bool:
    """Leave the swarm; False when the engine was in none."""
    if local_state(api).get('LocalNodeState') in ('inactive', None, ''):
        return False
    with engine_call('leave the swarm'):
        response = api._post(api._url('/swarm/leave'), params={'force': force})
        if response.status_code == 503 and 'not part of a swarm' in response.text:
            return False
        api._raise_for_status(response)
    return True


def nodes(api: EngineApi) -> list[dict[str, Any]]:
    with engine_call('list swarm nodes'):
        return api.nodes()


def update_spec(api: EngineApi, version: int, spec: Mapping[str, Any]) -> None:
    """Change the swarm's settings in place (join tokens are not rotated)."""
    with engine_call('update the swarm settings'):
        api.update_swarm(version, swarm_spec=dict(spec))


def node(api: EngineApi, node_id: str) -> dict[str, Any] | None:
    return found(lambda: api.inspect_node(node_id), f'inspect swarm node {node_id[:12]}')


def update_node(api: EngineApi, node_id: str, role: str | None = None,
                availability: str | None = None, labels: Mapping[str, str] | None = None,
                attempts: int = 5) -> None:
    """Change a node's role, availability or labels (retrying a moved version)."""
    for attempt in range(attempts):
        info = node(api, node_id)
        if info is None:
            raise NotFoundError(f'swarm node {node_id[:12]} no longer exists')
        spec = dict(info['Spec'])
        if role:
            spec['Role'] = role
        if availability:
            spec['Availability'] = availability
        if labels:
            spec['Labels'] = {**(spec.get('Labels') or {}), **labels}
        if spec == info['Spec']:
            return
        try:
            with engine_call(f'update swarm node {node_id[:12]}'):
                api.update_node(node_id, info['Version']['Index'], spec)
            return
        except PluginError as exc:
            if 'out of sequence' not in str(exc).lower() or attempt == attempts - 1:
                raise
            time.sleep(0.2)


def remove_node(api: EngineApi, node_id: str) -> bool:
    """Remove a node that left (or is down); False when it is already gone."""
    return done(lambda: api.remove_node(node_id, force=True),
                f'remove swarm node {node_id[:12]}')


def wait_role(api: EngineApi, node_id: str, role: str, timeout: float = 30,
              interval: float = 0.2) -> None:
    """Until the node's role (as managers see it) is ``role`` (a node gone counts): a
    promoted node is a manager once the others reach it (until then it is not in the
    Raft membership, and demoting it again fails).

    Raises:
        TimeoutExpired: not by ``timeout``.
    """
    def look(state: waiting.WaitState) -> waiting.Done[None] | waiting.Pending:
        info = node(api, node_id)
        reachability = ((info or {}).get('ManagerStatus') or {}).get('Reachability')
        if info is None or ((info.get('Spec') or {}).get('Role') == role and (
                reachability == 'reachable' if role == 'manager' else not reachability)):
            return waiting.Done(None)
        return waiting.Pending(f'role {(info.get("Spec") or {}).get("Role")}, '
                               f'{reachability or "no manager status"}')
    waiting.hold(look, waiting.start(timeout), f'swarm node {node_id[:12]} to be a {role}',
                 interval, late=lambda state: f'swarm node {node_id[:12]} did not become a '
                                              f'{role} within {timeout:g}s')


def wait_ready(api: EngineApi, node_id: str, timeout: float = 30, interval: float = 0.25) -> bool:
    """Until managers see the node ``ready`` (a joined node is ``unknown`` until its first
    heartbeat); False when it is not by ``timeout``."""
    def look(state: waiting.WaitState) -> waiting.Done[None] | waiting.Pending:
        info = node(api, node_id)
        status = ((info or {}).get('Status') or {}).get('State')
        return waiting.Done(None) if status == 'ready' else waiting.Pending(f'{status}')
    try:
        waiting.hold(look, waiting.start(timeout), f'swarm node {node_id[:12]} to be ready',
                     interval)
    except TimeoutExpired:
        return False
    return True


def describe_nodes(found: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Nodes as runtime properties: id, host name, role, state, availability, address."""
    return [{'id': n.get('ID', ''), 'hostname': (n.get('Description') or {}).get('Hostname', ''),
             'role': (n.get('Spec') or {}).get('Role', ''),
             'state': (n.get('Status') or {}).get('State', ''),
             'availability': (n.get('Spec') or {}).get('Availability', ''),
             'address': (n.get('Status') or {}).get('Addr', ''),
             'leader': bool((n.get('ManagerStatus') or {}).get('Leader'))} for n in found]
