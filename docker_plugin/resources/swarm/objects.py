"""Swarm secrets and configs: immutable, so a new value is a new object.

Each object is named ``<name>-<fingerprint>``, the fingerprint an HMAC of
the value under a random key kept with the node instance
(``docker_plugin.fingerprints``: the name does not let anyone test guesses of
the value without that key). Creating the
same value again finds the same object; a changed value makes a new one;
old versions are removed once no service uses them. Values are never
returned, logged or put in an error.
"""

from __future__ import annotations

from typing import Any, Mapping

from docker_plugin.errors import (
    NotFoundError,
    PluginError,
    RefusedError,
    StateError,
    engine_call,
    found,
)
from docker_plugin.fingerprints import fingerprint
from docker_plugin.resources.engine_api import EngineApi


def versioned_name(name: str, data: bytes, key: str) -> str:
    return f'{name}-{fingerprint(data, key)}'


def _calls(api: EngineApi, kind: str) -> tuple[Any, Any, Any, Any]:
    if kind == 'secret':
        return api.create_secret, api.inspect_secret, api.remove_secret, api.secrets
    return api.create_config, api.inspect_config, api.remove_config, api.configs


def inspect(api: EngineApi, kind: str, name_or_id: str) -> dict[str, Any] | None:
    _, look, _, _ = _calls(api, kind)
    return found(lambda: look(name_or_id), f'inspect {kind} {name_or_id}')


def find(api: EngineApi, kind: str, name: str) -> dict[str, Any] | None:
    """The object with exactly this name (the engine's name filter matches prefixes)."""
    _, _, _, listing = _calls(api, kind)
    with engine_call(f'list {kind}s named {name}'):
        found = listing(filters={'name': [name]})
    return next((o for o in found if (o.get('Spec') or {}).get('Name') == name), None)


def find_by_labels(api: EngineApi, kind: str, labels: Mapping[str, str]) -> list[dict[str, Any]]:
    _, _, _, listing = _calls(api, kind)
    with engine_call(f'list {kind}s by label'):
        return listing(filters={'label': [f'{k}={v}' for k, v in labels.items()]})


def create(api: EngineApi, kind: str, name: str, data: bytes, labels: Mapping[str, str],
           options: Mapping[str, Any]) -> str:
    """Create the object (or find the one of that name); returns its id."""
    existing = find(api, kind, name)
    if existing is not None:
        return existing['ID']
    make, _, _, _ = _calls(api, kind)
    kwargs: dict[str, Any] = {'labels': dict(labels)}
    if kind == 'secret' and options.get('driver'):
        kwargs['driver'] = {'Name': options['driver']}
    if kind == 'config' and options.get('templating'):
        kwargs['templating'] = {'Name': options['templating']}
    try:
        with engine_call(f'create {kind} {name}'):
            answer = make(name, data, **kwargs)
    except RefusedError as exc:
        if 'already exists' not in str(exc).lower():
            raise
        found = find(api, kind, name)
        if found is None:
            raise
        return found['ID']
    return answer['ID'] if isinstance(answer, dict) else str(answer)


def users(api: EngineApi, kind: str, object_id: str) -> list[str]:
    """Names of the services whose spec refers to the object."""
    key = 'Secrets' if kind == 'secret' else 'Configs'
    with engine_call(f'list services using {kind} {object_id[:12]}'):
        found = api.services()
    names = []
    for service in found:
        container = ((service.get('Spec') or {}).get('TaskTemplate') or {}).get(
            'ContainerSpec') or {}
        if any(ref.get(f'{kind.capitalize()}ID') == object_id for ref in container.get(key) or []):
            names.append(str((service.get('Spec') or {}).get('Name') or service.get('ID', '')))
    return names


def remove(api: EngineApi, kind: str, object_id: str) -> bool:
    """Remove the object; False when already gone.

    Raises:
        StateError: a service still uses it (named).
    """
    _, _, drop, _ = _calls(api, kind)
    try:
        with engine_call(f'remove {kind} {object_id[:12]}'):
            drop(object_id)
    except NotFoundError:
        return False
    except (RefusedError, PluginError) as exc:
        if 'in use' not in str(exc).lower():
            raise
        raise StateError(f'{kind} {object_id[:12]} is still used by services '
                         f'{", ".join(users(api, kind, object_id)) or "(unknown)"}') from None
    return True


def summarise(kind: str, info: Mapping[str, Any]) -> dict[str, Any]:
    """Runtime properties of a secret or config (never its value)."""
    spec = info.get('Spec') or {}
    return {f'{kind}_id': info['ID'], f'{kind}_name': spec.get('Name', ''),
            'labels': dict(spec.get('Labels') or {})}
