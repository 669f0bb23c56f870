"""Drift: where a container differs from what its blueprint declares.

Driven by the option table: each option the user set is rendered into the
engine's create body by the SDK itself, which says which body keys it owns;
only those keys are compared with the container's inspect data, by a rule
per key (lists and maps the engine extends, like the environment or labels,
only need to contain what was declared). The table's ``updatable`` flag says
whether the engine can apply a difference in place.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Mapping

from docker_plugin import secrets
from docker_plugin.options.container import CONTAINER

# Body keys whose value the engine may extend: declared items must be present.
_SUPERSET_KEYS = {'Labels', 'ExposedPorts', 'Volumes'}
# Keys that never drift meaningfully once the container exists.
_IGNORED_KEYS = {'NetworkingConfig', 'HostConfig', 'Image'}


@dataclasses.dataclass(frozen=True)
class Difference:
    option: str
    key: str
    desired: Any
    actual: Any
    updatable: bool

    def as_dict(self) -> dict[str, Any]:
        return {'option': self.option, 'key': self.key, 'desired': self.desired,
                'actual': self.actual, 'updatable': self.updatable}


def _owned_keys(render: Callable[..., Mapping[str, Any]], options: Mapping[str, Any],
                base: Mapping[str, Any]) -> dict[str, str]:
    """Body key -> the option that sets it, found by rendering each option alone."""
    baseline = dict(render(**base))
    owners = {}
    for name, value in options.items():
        rendered = dict(render(**{**base, name: value}))
        for key, item in rendered.items():
            if baseline.get(key) != item:
                owners[key] = name
    return owners


def _normal(key: str, value: Any) -> Any:
    if key == 'NetworkMode' and value in ('default', None, ''):
        return 'bridge'
    if key == 'Binds' and value:
        return sorted(value)
    if isinstance(value, dict):
        return {k: _normal(k, v) for k, v in value.items()}
    return value


def _matches(key: str, desired: Any, actual: Any) -> bool:
    desired, actual = _normal(key, desired), _normal(key, actual)
    if key == 'Env':
        return set(desired or []) <= set(actual or [])
    if key in _SUPERSET_KEYS:
        return all((actual or {}).get(k) == v for k, v in (desired or {}).items())
    if key == 'Mounts':
        have = {(m.get('Target'), m.get('Source'), m.get('Type'), bool(m.get('ReadOnly')))
                for m in actual or []}
        return all((m.get('Target'), m.get('Source'), m.get('Type'), bool(m.get('ReadOnly')))
                   in have for m in desired or [])
    return desired == actual


def _shown(key: str, desired: Any, actual: Any) -> tuple[Any, Any]:
    """What a report may show: environment names only, never values."""
    if key == 'Env':
        names = sorted(e.split('=', 1)[0] for e in set(desired or []) - set(actual or []))
        return [f'{n}=(differs or missing)' for n in names], '(values not shown)'
    return (secrets.redact(repr(desired)) if isinstance(desired, str) else desired,
            secrets.redact(repr(actual)) if isinstance(actual, str) else actual)


def differences(api: Any, image: str, create: Mapping[str, Any], host: Mapping[str, Any],
                info: Mapping[str, Any]) -> list[Difference]:
    """Every declared option whose value the container does not have."""
    create = {k: v for k, v in create.items()
              if k not in ('image', 'name', 'detach', 'networking_config')}
    found = []
    base = {'image': image, 'command': None}
    owners = _owned_keys(api.create_container_config, create, base)
    desired = dict(api.create_container_config(**{**base, **create}))
    actual_config = info.get('Config') or {}
    for key, option in sorted(owners.items()):
        if key in _IGNORED_KEYS or _matches(key, desired.get(key), actual_config.get(key)):
            continue
        shown = _shown(key, desired.get(key), actual_config.get(key))
        found.append(Difference(option, f'Config.{key}', *shown, updatable=False))
    owners = _owned_keys(api.create_host_config, host, {})
    desired = dict(api.create_host_config(**host))
    actual_host = info.get('HostConfig') or {}
    for key, option in sorted(owners.items()):
        if _matches(key, desired.get(key), actual_host.get(key)):
            continue
        shown = _shown(key, desired.get(key), actual_host.get(key))
        found.append(Difference(option, f'HostConfig.{key}', *shown,
                                updatable=CONTAINER.options[option].updatable))
    return found
