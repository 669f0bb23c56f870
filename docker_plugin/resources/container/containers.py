"""Containers: create, find, start, stop, remove, and re-create one that never ran."""

from __future__ import annotations

import contextlib
import time
from typing import Any, Callable, Mapping

from docker_plugin.errors import (
    NotFoundError,
    PluginError,
    RefusedError,
    StateError,
    TransientError,
    engine_call,
    found,
)
from docker_plugin.resources.container import spec as specs
from docker_plugin.resources.engine_api import EngineApi

NEVER = '0001-01-01T00:00:00Z'
NAME_TAKEN = 'is already in use'  # the engine refusing a create: the name is taken


def short(container_id: str) -> str:
    return container_id[:12]


def inspect(api: EngineApi, container_id: str) -> dict[str, Any] | None:
    """Inspect data, or None when the container does not exist."""
    return found(lambda: api.inspect_container(container_id),
                 f'inspect container {short(container_id)}')


def require(api: EngineApi, container_id: str) -> dict[str, Any]:
    """Inspect data of a container that must exist."""
    info = inspect(api, container_id)
    if info is None:
        raise StateError(f'container {short(container_id)} no longer exists; run heal or '
                         'reinstall this node')
    return info


def find_by_labels(api: EngineApi, labels: Mapping[str, str]) -> list[dict[str, Any]]:
    """Containers (running or not) carrying every given label; filtered by the engine."""
    filters = {'label': [f'{k}={v}' for k, v in labels.items()]}
    with engine_call('list containers by label'):
        return api.containers(all=True, filters=filters)


def create(api: EngineApi, image: str, spec: specs.ContainerSpec,
           labels: Mapping[str, str]) -> tuple[str, list[str]]:
    """Create a container: its id, and the engine's warnings (options it discarded).

    Raises:
        RefusedError: the engine refused the options (the message says why).
        NotFoundError: the image does not exist locally.
    """
    with engine_call(f'create container {spec.name} from {image}'):
        kwargs = specs.create_kwargs(api, spec, labels)  # the SDK may refuse, too
        result = api.create_container(image=image, name=spec.name, **kwargs)
    return result['Id'], list(result.get('Warnings') or [])


def never_started(info: Mapping[str, Any]) -> bool:
    return info['State'].get('StartedAt', NEVER) == NEVER and not info['State'].get('Running')


def recreate(api: EngineApi, info: Mapping[str, Any], host_options: Mapping[str, Any],
             on_created: Callable[[str], None]) -> str:
    """Create a never-started container again from its own inspect data.

    Used to apply ``container_start`` host options (the engine accepts a
    HostConfig only at create time), and to replace a container the engine
    holds in a broken state after a crash. It never ran, so nothing can be
    lost. Order, safe to resume at any point: rename the old one aside,
    create the new one under the old name, report its id (``on_created``
    persists it), then remove the old one.

    Returns:
        The new container's id.
    """
    old_id = info['Id']
    if not never_started(info):
        raise StateError(f'container {short(old_id)} has already run; its host options '
                         'can no longer change')
    name = info['Name'].lstrip('/')
    config = {k: v for k, v in info['Config'].items() if v not in (None, '', [], {})}
    if config.get('Hostname') == old_id[:12]:
        config.pop('Hostname')  # engine-made; the new container gets its own
    merged_host = {**info['HostConfig'], **specs.host_config(api, host_options)}
    mode = merged_host.get('NetworkMode', '')
    if mode == 'host' or mode.startswith('container:'):
        for key in ('Hostname', 'Domainname', 'MacAddress'):
            config.pop(key, None)
        if mode.startswith('container:'):
            config.pop('ExposedPorts', None)
    exposed = dict(config.get('ExposedPorts') or {})
    for port in host_options.get('port_bindings') or {}:
        exposed.setdefault(str(port) if '/' in str(port) else f'{port}/tcp', {})
    if exposed and not mode.startswith('container:'):
        config['ExposedPorts'] = exposed
    config['HostConfig'] = merged_host
    endpoints = (info.get('NetworkSettings') or {}).get('Networks') or {}
    if mode in endpoints:  # keep aliases and fixed addresses of the first network
        endpoint = endpoints[mode] or {}
        config['NetworkingConfig'] = {'EndpointsConfig': {mode: {
            key: endpoint[key] for key in ('Aliases', 'IPAMConfig', 'Links', 'DriverOpts')
            if endpoint.get(key)}}}
    aside = f'{name}-replaced-{old_id[:8]}'
    with engine_call(f'rename container {name} aside'):
        api.rename(old_id, aside)
    try:
        with engine_call(f'create container {name} again'):
            new_id = api.create_container_from_config(config, name)['Id']
    except PluginError:
        # Refused (or the engine went away): the old one gets its name back, so that the
        # instance's container keeps its name whatever the next attempt does.
        with contextlib.suppress(PluginError), engine_call(f'rename container {name} back'):
            api.rename(old_id, name)
        raise
    on_created(new_id)
    remove(api, old_id, v=True, force=True)  # it never ran: its anonymous volumes are empty
    return new_id


def start(api: EngineApi, container_id: str) -> None:
    """Start; a container that is already running is left alone."""
    with engine_call(f'start container {short(container_id)}'):
        api.start(container_id)


STOPPED_NOW, NOT_RUNNING = 204, 304  # the engine's answers to a stop


def stop(api: EngineApi, container_id: str, timeout: int | None = None) -> int | None:
    """Stop; None when the container is gone, else what the engine did: ``STOPPED_NOW``
    (it ran and has exited now) or ``NOT_RUNNING`` (stopped already: nothing changed).

    The SDK's ``stop`` hides that answer; this is its request (the same endpoint, the
    same read timeout: the client's plus the stop's grace period, 10 s by default)."""
    params = {} if timeout is None else {'t': timeout}
    read_timeout = api.timeout
    if read_timeout is not None:
        read_timeout += 10 if timeout is None else timeout
    try:
        with engine_call(f'stop container {short(container_id)}'):
            response = api._post(api._url('/containers/{0}/stop', container_id), params=params,
                                 timeout=read_timeout)
            api._raise_for_status(response)
    except NotFoundError:
        return None
    return NOT_RUNNING if response.status_code == NOT_RUNNING else STOPPED_NOW


def remove(api: EngineApi, container_id: str, v: bool = False, link: bool = False,
           force: bool = False, removing_wait: float = 30.0) -> bool:
    """Remove; False when the container was already gone.

    A container the engine is already removing (``auto_remove`` once it stopped) is
    waited for, ``removing_wait`` seconds at most; still there then, the
    ``TransientError`` stands and Cloudify retries.
    """
    try:
        with engine_call(f'remove container {short(container_id)}'):
            api.remove_container(container_id, v=v, link=link, force=force)
    except NotFoundError:
        return False
    except TransientError as exc:
        if 'already in progress' not in str(exc) or not _gone(api, container_id, removing_wait):
            raise
        return False
    return True


def remove_stopping(api: EngineApi, container_id: str, timeout: int | None = None,
                    removing_wait: float = 30.0, **options: Any) -> bool:
    """Remove a container, stopping it first only if the engine refuses to remove it as
    it is (running or paused: one call for a stopped one, as most are at delete).

    ``options`` are ``remove``'s; ``force`` is not used on a running container, which
    is stopped with its grace period first. True when the container is gone now (removed
    by this call, or by a removal the engine had under way: ``auto_remove``); False when
    it was gone already.
    """
    try:
        with engine_call(f'remove container {short(container_id)}'):
            api.remove_container(container_id, v=options.get('v', False),
                                 link=options.get('link', False), force=False)
    except NotFoundError:
        return False
    except RefusedError:
        # Running or paused (the words differ between engine versions): stop, then remove.
        stop(api, container_id, timeout)
        remove(api, container_id, removing_wait=removing_wait, **options)
    except TransientError as exc:
        if 'already in progress' not in str(exc) or not _gone(api, container_id, removing_wait):
            raise
    return True


def _gone(api: EngineApi, container_id: str, timeout: float) -> bool:
    """Whether the container stops existing within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while inspect(api, container_id) is not None:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.2)
    return True


def top(api: EngineApi, container_id: str) -> dict[str, Any] | None:
    """The process table, or None when the container is not running."""
    try:
        with engine_call(f'list processes of container {short(container_id)}'):
            return api.top(container_id)
    except (NotFoundError, RefusedError, StateError):
        return None


def image_id(api: EngineApi, reference: str) -> str | None:
    """The id a local image reference points at now (None: not present)."""
    info = found(lambda: api.inspect_image(reference), f'inspect image {reference}')
    return None if info is None else info['Id']
