"""Swarm services: create, inspect, update, roll back, remove; tasks and nodes.

The spec is sent as the engine's own JSON (built by ``service_spec``), not
through the SDK's keyword helpers: the SDK defaults ``failure_action`` to
``continue`` (the engine and the CLI use ``pause``), writes networks where
current engines ignore them, and has no manual rollback. The update call
retries "update out of sequence" (the version moves during a rolling
update) by reading the version again, a bounded number of times.
"""

from __future__ import annotations

import time
from typing import Any, Mapping, Sequence

from docker_plugin.errors import NotFoundError, PluginError, RefusedError, done, engine_call, found
from docker_plugin.resources.engine_api import EngineApi

OUT_OF_SEQUENCE = 'update out of sequence'
UPDATE_ATTEMPTS = 5


def _headers(auth: Mapping[str, Any] | None) -> dict[str, str]:
    """``X-Registry-Auth`` for an engine auth_config (``registry.auth_config``)."""
    if not auth:
        return {}
    import docker.auth
    return {'X-Registry-Auth': docker.auth.encode_header(dict(auth))}


def inspect(api: EngineApi, name_or_id: str) -> dict[str, Any] | None:
    """The service (``GET /services/{id}``), or None when it does not exist."""
    return found(lambda: api._result(api._get(api._url('/services/{0}', name_or_id)), True),
                 f'inspect service {name_or_id}')


def require(api: EngineApi, name_or_id: str) -> dict[str, Any]:
    info = inspect(api, name_or_id)
    if info is None:
        raise NotFoundError(f'service {name_or_id} no longer exists')
    return info


def create(api: EngineApi, spec: Mapping[str, Any], auth: Mapping[str, Any] | None = None) -> str:
    """Create a service from an engine spec; returns its id."""
    with engine_call(f'create service {spec.get("Name")}'):
        answer = api._result(api._post_json(api._url('/services/create'), data=dict(spec),
                                            headers=_headers(auth)), True)
    return answer['ID']


def update(api: EngineApi, service_id: str, spec: Mapping[str, Any],
           auth: Mapping[str, Any] | None = None, rollback: bool = False,
           sleep: Any = time.sleep) -> dict[str, Any]:
    """Send a new spec (or, with ``rollback``, ask for the previous one).

    Returns the service as it was just before the call (its ``UpdateStatus``
    is the baseline a convergence wait compares with).

    Raises:
        RefusedError: the engine refused the spec.
        NotFoundError: the service is gone.
    """
    action = f'{"roll back" if rollback else "update"} service {service_id[:25]}'
    for attempt in range(UPDATE_ATTEMPTS):
        before = require(api, service_id)
        params: dict[str, Any] = {'version': before['Version']['Index']}
        body = dict(before['Spec']) if rollback else dict(spec)
        if rollback:
            params['rollback'] = 'previous'
        elif not auth:
            params['registryAuthFrom'] = 'spec'
        try:
            with engine_call(action):
                response = api._post_json(api._url('/services/{0}/update', before['ID']),
                                          data=body, params=params, headers=_headers(auth))
                api._raise_for_status(response)
            return before
        except PluginError as exc:
            if OUT_OF_SEQUENCE not in str(exc).lower() or attempt == UPDATE_ATTEMPTS - 1:
                raise
            sleep(0.2 * (attempt + 1))
    raise RefusedError(f'{action}: {OUT_OF_SEQUENCE} after {UPDATE_ATTEMPTS} attempts')


def remove(api: EngineApi, service_id: str) -> bool:
    """Remove a service; False when it was already gone."""
    return done(lambda: api.remove_service(service_id), f'remove service {service_id[:25]}')


def find_by_labels(api: EngineApi, labels: Mapping[str, str]) -> list[dict[str, Any]]:
    with engine_call('list services by label'):
        return api.services(filters={'label': [f'{k}={v}' for k, v in labels.items()]})


def tasks(api: EngineApi, service_id: str, current_only: bool = False) -> list[dict[str, Any]]:
    """The service's tasks (``current_only``: those running its current spec)."""
    filters: dict[str, Any] = {'service': [service_id]}
    if current_only:
        filters['_up-to-date'] = ['true']
    with engine_call(f'list tasks of service {service_id[:25]}'):
        return api.tasks(filters=filters)


def nodes(api: EngineApi) -> list[dict[str, Any]]:
    with engine_call('list swarm nodes'):
        return api.nodes()


def node_names(found: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    return {n.get('ID', ''): (n.get('Description') or {}).get('Hostname') or n.get('ID', '')[:12]
            for n in found}


def ps(api: EngineApi, service_id: str, limit: int = 200) -> list[dict[str, Any]]:
    """Tasks as a user reads them: newest first, with node names."""
    names = node_names(nodes(api))
    found = sorted(tasks(api, service_id), reverse=True,
                   key=lambda t: (t.get('Status') or {}).get('Timestamp') or '')
    rows = []
    for task in found[:limit]:
        status = task.get('Status') or {}
        rows.append({
            'id': task.get('ID', ''), 'slot': task.get('Slot'),
            'node': names.get(task.get('NodeID') or '', task.get('NodeID') or ''),
            'desired_state': task.get('DesiredState', ''), 'state': status.get('State', ''),
            'since': status.get('Timestamp', ''), 'error': status.get('Err', ''),
            'exit_code': (status.get('ContainerStatus') or {}).get('ExitCode'),
            'image': ((task.get('Spec') or {}).get('ContainerSpec') or {}).get('Image', ''),
        })
    return rows


def summarise(info: Mapping[str, Any]) -> dict[str, Any]:
    """Runtime properties describing a service."""
    spec = info.get('Spec') or {}
    endpoint = info.get('Endpoint') or {}
    return {
        'service_id': info['ID'],
        'service_name': spec.get('Name', ''),
        'image': ((spec.get('TaskTemplate') or {}).get('ContainerSpec') or {}).get('Image', ''),
        'service_version': (info.get('Version') or {}).get('Index'),
        'ports': [{'target': p.get('TargetPort'), 'published': p.get('PublishedPort'),
                   'protocol': p.get('Protocol'), 'mode': p.get('PublishMode')}
                  for p in endpoint.get('Ports') or (spec.get('EndpointSpec') or {}).get(
                      'Ports') or []],
        'virtual_ips': [v.get('Addr', '') for v in endpoint.get('VirtualIPs') or []],
    }


def pin_image(api: EngineApi, image: str, auth: Mapping[str, Any] | None = None) -> str:
    """``image`` pinned to the digest its registry serves now (``repo:tag@sha256:...``).

    The manager asks the registry (``GET /distribution/{name}/json``), as the
    docker CLI does, so a moved tag rolls out. An image given by digest is
    returned as it is.

    Raises:
        RefusedError: the registry does not know the image, or denies access.
        TransientError: the registry cannot be reached.
    """
    if '@' in image:
        return image
    from docker_plugin.resources.images import registry_digest
    digest = registry_digest(api, image, auth)
    if not digest:
        raise RefusedError(f'image {image}: its registry has no such image or tag')
    return f'{image}@{digest}'


def status(api: EngineApi, service_id: str) -> dict[str, Any]:
    """Desired against running (jobs: complete) tasks, per node; nodes that are down."""
    from docker_plugin.resources.swarm.convergence import mode_of
    info = require(api, service_id)
    spec = info.get('Spec') or {}
    found = nodes(api)
    names = node_names(found)
    down = {n.get('ID') for n in found if (n.get('Status') or {}).get('State') == 'down'}
    listed = tasks(api, service_id)
    mode = mode_of(spec)
    done_state = 'complete' if mode.endswith('job') else 'running'
    counted = [t for t in listed if t.get('NodeID') not in down and
               (t.get('Status') or {}).get('State') == done_state and
               (mode.endswith('job') or t.get('DesiredState') == 'running')]
    if mode == 'replicated':
        desired = int(((spec.get('Mode') or {}).get('Replicated') or {}).get('Replicas') or 0)
    elif mode == 'replicated-job':
        desired = int(((spec.get('Mode') or {}).get('ReplicatedJob') or {}).get(
            'TotalCompletions') or 0)
    else:
        desired = len({t.get('NodeID') for t in listed
                       if t.get('DesiredState') in ('running', 'complete') and t.get('NodeID')})
    by_node: dict[str, int] = {}
    for task in counted:
        node = names.get(task.get('NodeID') or '', '')
        by_node[node] = by_node.get(node, 0) + 1
    lost = sorted({names.get(t.get('NodeID') or '', '') for t in listed
                   if t.get('NodeID') in down})
    return {'name': spec.get('Name', ''), 'mode': mode, 'desired': desired,
            'running': len(counted), 'by_node': by_node, 'down_nodes': lost}


def wait_gone(api: EngineApi, service_id: str, timeout: float = 60.0,
              interval: float = 0.25) -> list[str]:
    """After removal: until the service's tasks are gone (their containers too), so its
    networks, secrets and configs can go next.

    A task on a node that is down is not waited for: the manager cannot see it
    end (its node removes it when it comes back). Returns the tasks not seen to
    end ('<task id> on <node> (down)', or '... (still <state>)' when the time
    ran out); empty when every task ended."""
    done = ('complete', 'shutdown', 'failed', 'rejected', 'orphaned', 'remove')

    def left() -> tuple[list[str], list[str]]:
        # A removed service cannot be a task filter any more: all tasks, filtered here;
        # a task that ended has no container on a network any more.
        with engine_call('list swarm tasks'):
            found = [t for t in api.tasks() if t.get('ServiceID') == service_id and
                     (t.get('Status') or {}).get('State') not in done]
        if not found:
            return [], []
        listed = nodes(api)
        names = node_names(listed)
        down = {n.get('ID') for n in listed if (n.get('Status') or {}).get('State') == 'down'}
        unseen = [f'{t.get("ID", "")[:12]} on {names.get(t.get("NodeID") or "", "?")} (down)'
                  for t in found if t.get('NodeID') in down]
        waiting = [f'{t.get("ID", "")[:12]} on {names.get(t.get("NodeID") or "", "no node")} '
                   f'(still {(t.get("Status") or {}).get("State")})'
                   for t in found if t.get('NodeID') not in down]
        return unseen, waiting

    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / interval) + 1):
        unseen, waiting = left()
        if not waiting or time.monotonic() >= deadline:
            return unseen + waiting
        time.sleep(interval)
    return unseen + waiting
