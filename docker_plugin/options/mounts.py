"""Grammars of what a container's file system gets from outside: binds, tmpfs, mounts.

Normalisers for ``checks.Custom`` (what YAML gave in, the engine's own form
out, ``InvalidInputError`` naming the path), and the ``canon`` that compares
each by what it means: a bind's modes in any order with read-write implied,
tmpfs sizes in bytes, every field of a mount.
"""

from __future__ import annotations

import json
import re
from typing import Any

from docker_plugin.errors import InvalidInputError
from docker_plugin.options.checks import (
    Custom,
    Integer,
    ListOf,
    Record,
    Text,
    kind,
    scalar_text,
)
from docker_plugin.options.container_values import labels
from docker_plugin.options.units import SIZE

_MODES = {'rw', 'ro', 'z', 'Z', 'shared', 'slave', 'private', 'rshared', 'rslave',
          'rprivate', 'nocopy', 'consistent', 'cached', 'delegated'}


def _container_path(text: Any, path: str) -> str:
    if not isinstance(text, str) or not text.startswith('/') or '\x00' in text:
        raise InvalidInputError(path, f'expected an absolute path in the container, got '
                                      f'{str(text)[:80]!r}')
    return text


def _modes(text: str, path: str) -> str:
    for mode in text.split(','):
        if mode not in _MODES:
            raise InvalidInputError(path, f'unknown mode {mode[:40]!r}; use rw, ro, z, Z, ...')
    return text


def binds(value: Any, path: str) -> list[str]:
    """Bind mounts as the engine's ``host:container[:mode]`` strings."""
    out = []
    if isinstance(value, list):
        for index, item in enumerate(value):
            sub = f'{path}[{index}]'
            parts = item.split(':') if isinstance(item, str) else []
            if len(parts) not in (2, 3) or not parts[0]:
                raise InvalidInputError(sub, "expected 'host_path:container_path[:ro]'")
            _container_path(parts[1], sub)
            if len(parts) == 3:
                _modes(parts[2], sub)
            out.append(item)
        return out
    for host_path, spec in value.items():
        sub = f'{path}.{host_path}'
        if not isinstance(host_path, str) or not host_path or '\x00' in host_path:
            raise InvalidInputError(sub[:200], 'expected a host path or a volume name')
        if isinstance(spec, str):
            spec = {'bind': spec}
        if not isinstance(spec, dict) or set(spec) - {'bind', 'mode', 'ro'}:
            raise InvalidInputError(sub, 'expected {bind: /container/path, mode: rw|ro}')
        bind = _container_path(spec.get('bind'), f'{sub}.bind')
        mode = spec.get('mode', 'ro' if spec.get('ro') is True else 'rw')
        if not isinstance(mode, str):
            raise InvalidInputError(f'{sub}.mode', f'expected rw or ro, got {kind(mode)}')
        out.append(f'{host_path}:{bind}:{_modes(mode, f"{sub}.mode")}')
    return out


BINDS = Custom((dict, list), binds, "bind mounts: {host: {bind, mode}} or ['host:ctr:ro']")


def binds_canon(value: Any) -> Any:
    """Binds compared by what they mean: 'D:/b', 'D:/b:rw' and {D: {bind: /b}} are one bind
    (read-write is the default); modes in any order."""
    if not isinstance(value, list):
        return value
    out = []
    for item in value:
        source, _, rest = str(item).partition(':')
        target, _, modes = rest.partition(':')
        out.append((source, target, tuple(sorted(set(filter(None, modes.split(','))) - {'rw'}))))
    return sorted(out)


def tmpfs(value: Any, path: str) -> dict[str, str]:
    if isinstance(value, list):
        out = {}
        for index, item in enumerate(value):
            if not isinstance(item, str):
                raise InvalidInputError(f'{path}[{index}]', f"expected '/path[:options]', got "
                                                            f'{kind(item)}')
            target, _, options = item.partition(':')
            out[_container_path(target, f'{path}[{index}]')] = options
        return out
    return {_container_path(k, f'{path}.{k}'[:200]): scalar_text(v or '', f'{path}.{k}')
            for k, v in value.items()}


TMPFS = Custom((dict, list), tmpfs, "tmpfs mounts: {/path: 'size=64m'} or ['/path:size=64m']")


def _tmpfs_option(text: str) -> str:
    name, sep, value = text.partition('=')
    if sep and name == 'size':
        try:
            return f'size={SIZE(value, name)}'
        except InvalidInputError:
            return text
    if sep and name == 'mode' and re.fullmatch(r'[0-7]{1,4}', value):
        return f'mode={int(value, 8):o}'
    return text


def tmpfs_canon(value: Any) -> Any:
    """tmpfs options compared by what they mean: in any order, sizes in bytes."""
    if not isinstance(value, dict):
        return value
    return {path: sorted({_tmpfs_option(o) for o in str(options or '').split(',') if o})
            for path, options in value.items()}


def _mount_string(text: str, path: str) -> dict[str, Any]:
    """'source:/target[:ro|rw]' (a path source is a bind, a name a volume) or '/target'
    (an anonymous volume)."""
    parts = text.split(':')
    if len(parts) == 1:
        return {'target': _container_path(text, path), 'type': 'volume'}
    if len(parts) > 3 or not parts[0] or (len(parts) == 3 and parts[2] not in ('ro', 'rw')):
        raise InvalidInputError(path, "expected 'source:/target[:ro]' or '/target' (other modes "
                                      'go in the dictionary form, or in binds)')
    return {'source': parts[0], 'target': _container_path(parts[1], path),
            'type': 'bind' if parts[0].startswith('/') else 'volume',
            'read_only': len(parts) == 3 and parts[2] == 'ro'}


def _mount(value: Any, path: str) -> dict[str, Any]:
    """A mount in the engine's own form (what inspect shows back)."""
    fields = _mount_string(value, path) if isinstance(value, str) else MOUNT_FIELDS(value, path)
    kind_ = fields.get('type', 'volume')
    mount: dict[str, Any] = {'Target': fields['target'], 'Source': fields.get('source', ''),
                             'Type': kind_, 'ReadOnly': fields.get('read_only', False)}
    if 'consistency' in fields:
        mount['Consistency'] = fields['consistency']
    bind = {key: fields[name] for name, key in (('propagation', 'Propagation'),
                                                ('non_recursive', 'NonRecursive'))
            if name in fields}
    if bind:
        mount['BindOptions'] = bind
    volume = {key: fields[name] for name, key in (('no_copy', 'NoCopy'), ('labels', 'Labels'),
                                                  ('driver_config', 'DriverConfig'))
              if name in fields}
    if volume:
        mount['VolumeOptions'] = volume
    tmpfs_options = {key: fields[name] for name, key in (('tmpfs_size', 'SizeBytes'),
                                                         ('tmpfs_mode', 'Mode')) if name in fields}
    if tmpfs_options:
        mount['TmpfsOptions'] = tmpfs_options
    for key, kinds in (('BindOptions', ('bind',)), ('VolumeOptions', ('volume',)),
                       ('TmpfsOptions', ('tmpfs',))):
        if key in mount and kind_ not in kinds:
            raise InvalidInputError(path, f'{key} fields are for a {kinds[0]} mount, this one '
                                          f'is a {kind_} mount')
    return mount


def _octal_mode(value: Any, path: str) -> int:
    """A file mode: 1023 (YAML's 0o1777) or the text '1777' (octal, as chmod reads it)."""
    if isinstance(value, str):
        if not re.fullmatch(r'[0-7]{1,4}', value):
            raise InvalidInputError(path, f"expected an octal mode like '1777', got "
                                          f'{value[:20]!r}')
        return int(value, 8)
    return Integer(0, 0o7777)(value, path)


MOUNT_FIELDS = Record({
    'target': Custom((str,), _container_path, 'an absolute path in the container'),
    'source': Text(), 'type': Text(choices=('bind', 'volume', 'tmpfs', 'npipe')),
    'read_only': Custom((bool,), lambda v, p: v, 'true or false'),
    'consistency': Text(choices=('default', 'consistent', 'cached', 'delegated')),
    'propagation': Text(choices=('private', 'rprivate', 'shared', 'rshared', 'slave',
                                 'rslave')),
    'non_recursive': Custom((bool,), lambda v, p: v, 'true or false'),
    'no_copy': Custom((bool,), lambda v, p: v, 'true or false'),
    'labels': Custom((dict,), labels, 'a dictionary of labels'),
    'driver_config': Custom((dict,), lambda v, p: {
        k.capitalize(): x for k, x in Record({'name': Text(non_empty=True), 'options': Custom(
            (dict,), lambda o, q: {str(k): scalar_text(x, f'{q}.{k}') for k, x in o.items()},
            'a dictionary')}, required=('name',))(v, p).items()}, '{name, options}'),
    'tmpfs_size': SIZE,
    'tmpfs_mode': Custom((int, str), _octal_mode, "a mode like '1777' (octal)"),
}, required=('target',))
MOUNTS = ListOf(Custom((dict, str), _mount, 'a mount: {target, source, type, read_only, ...} '
                                            "or 'source:/target[:ro]'"))


def _no_defaults(value: Any) -> Any:
    """A mount's fields without the empty, false and zero ones the engine leaves out."""
    if isinstance(value, dict):
        out = {k: _no_defaults(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, '', False, 0, {}, [])}
    return value


def mounts_canon(value: Any) -> Any:
    """Mounts compared field by field (every option of each mount), in any order; the
    engine's defaults (volume type, no source, consistency 'default') left out."""
    if not isinstance(value, list):
        return value
    out = []
    for mount in value:
        if not isinstance(mount, dict):
            continue
        fields = _no_defaults(mount)
        fields['Type'] = mount.get('Type') or 'volume'
        if fields.get('Consistency') == 'default':
            del fields['Consistency']
        out.append(fields)
    return sorted(out, key=lambda m: json.dumps(m, sort_keys=True, default=str))
