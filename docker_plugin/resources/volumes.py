"""Volumes: create, inspect, remove, and who uses them."""

from __future__ import annotations

from typing import Any, Mapping

import docker

from docker_plugin.errors import ConflictError, NotFoundError, engine_call


def inspect(api: docker.APIClient, name: str) -> dict[str, Any] | None:
    try:
        with engine_call(f'inspect volume {name}'):
            return api.inspect_volume(name)
    except NotFoundError:
        return None


def create(api: docker.APIClient, name: str, options: Mapping[str, Any],
           labels: Mapping[str, str]) -> dict[str, Any]:
    kwargs = dict(options)
    kwargs['labels'] = {**dict(kwargs.get('labels') or {}), **labels}
    with engine_call(f'create volume {name}'):
        return api.create_volume(name, **kwargs)


def users(api: docker.APIClient, name: str) -> list[dict[str, Any]]:
    """Containers (running or not) that mount the volume."""
    with engine_call(f'list containers using volume {name}'):
        return api.containers(all=True, filters={'volume': name})


def remove(api: docker.APIClient, name: str) -> bool:
    """Remove a volume nothing uses; False when already gone.

    Raises:
        ConflictError: containers still mount it (named in the message).
    """
    using = users(api, name)
    if using:
        names = sorted((c.get('Names') or [c['Id'][:12]])[0].lstrip('/') for c in using)
        raise ConflictError(f'volume {name} is still used by containers {", ".join(names)}; '
                            'remove them first, or set retain to keep the volume')
    try:
        with engine_call(f'remove volume {name}'):
            api.remove_volume(name)
    except NotFoundError:
        return False
    return True


def summarise(info: Mapping[str, Any]) -> dict[str, Any]:
    return {
        'volume_name': info['Name'],
        'driver': info.get('Driver', ''),
        'mountpoint': info.get('Mountpoint', ''),
    }
