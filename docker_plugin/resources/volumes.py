"""Volumes: create, inspect, remove, and who uses them."""

from __future__ import annotations

from typing import Any, Mapping

from docker_plugin.errors import StateError, done, engine_call, found
from docker_plugin.resources.engine_api import EngineApi


def inspect(api: EngineApi, name: str) -> dict[str, Any] | None:
    return found(lambda: api.inspect_volume(name), f'inspect volume {name}')


def create(api: EngineApi, name: str, options: Mapping[str, Any],
           labels: Mapping[str, str]) -> dict[str, Any]:
    kwargs = dict(options)
    kwargs['labels'] = {**dict(kwargs.get('labels') or {}), **labels}
    with engine_call(f'create volume {name}'):
        return api.create_volume(name, **kwargs)


def find_by_labels(api: EngineApi, labels: Mapping[str, str]) -> list[dict[str, Any]]:
    with engine_call('list volumes by label'):
        found = api.volumes(filters={'label': [f'{k}={v}' for k, v in labels.items()]})
    return list((found or {}).get('Volumes') or [])


def users(api: EngineApi, name: str) -> list[dict[str, Any]]:
    """Containers (running or not) that mount the volume."""
    with engine_call(f'list containers using volume {name}'):
        return api.containers(all=True, filters={'volume': name})


def remove(api: EngineApi, name: str) -> bool:
    """Remove a volume nothing uses; False when already gone.

    Raises:
        StateError: containers still mount it (named in the message).
    """
    using = users(api, name)
    if using:
        names = sorted((c.get('Names') or [c['Id'][:12]])[0].lstrip('/') for c in using)
        raise StateError(f'volume {name} is still used by containers {", ".join(names)}; '
                         'remove them first, or set retain to keep the volume')
    return done(lambda: api.remove_volume(name), f'remove volume {name}')


def summarise(info: Mapping[str, Any]) -> dict[str, Any]:
    return {
        'volume_name': info['Name'],
        'driver': info.get('Driver', ''),
        'mountpoint': info.get('Mountpoint', ''),
    }
