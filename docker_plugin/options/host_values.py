"""Grammars of HostConfig values: binds, tmpfs, mounts, addresses, limits, devices.

Normalisers for ``checks.Custom``, like ``container_values``: what YAML gave
in, what the docker SDK expects out, ``InvalidInputError`` naming the path.
"""

from __future__ import annotations

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
from docker_plugin.options.units import ip_text


def _bad(path: str, why: str) -> Any:
    raise InvalidInputError(path, why)


# ------------------------------------------------------------------- files
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


def _mount(value: Any, path: str) -> dict[str, Any]:
    """A mount in the engine's own form (what inspect shows back)."""
    if isinstance(value, str):
        import docker.errors
        import docker.types
        try:
            return dict(docker.types.Mount.parse_mount_string(value))
        except docker.errors.DockerException as exc:
            raise InvalidInputError(path, str(exc)) from None
    fields = MOUNT_FIELDS(value, path)
    kind_ = fields.get('type', 'volume')
    mount: dict[str, Any] = {'Target': fields['target'], 'Source': fields.get('source', ''),
                             'Type': kind_, 'ReadOnly': fields.get('read_only', False)}
    if 'consistency' in fields:
        mount['Consistency'] = fields['consistency']
    if 'propagation' in fields:
        mount['BindOptions'] = {'Propagation': fields['propagation']}
    volume = {key: fields[name] for name, key in (('no_copy', 'NoCopy'), ('labels', 'Labels'),
                                                  ('driver_config', 'DriverConfig'))
              if name in fields}
    if volume:
        mount['VolumeOptions'] = volume
    tmpfs_options = {key: fields[name] for name, key in (('tmpfs_size', 'SizeBytes'),
                                                         ('tmpfs_mode', 'Mode')) if name in fields}
    if tmpfs_options:
        mount['TmpfsOptions'] = tmpfs_options
    return mount


MOUNT_FIELDS = Record({
    'target': Custom((str,), _container_path, 'an absolute path in the container'),
    'source': Text(), 'type': Text(choices=('bind', 'volume', 'tmpfs', 'npipe')),
    'read_only': Custom((bool,), lambda v, p: v, 'true or false'),
    'consistency': Text(choices=('default', 'consistent', 'cached', 'delegated')),
    'propagation': Text(choices=('private', 'rprivate', 'shared', 'rshared', 'slave',
                                 'rslave')),
    'no_copy': Custom((bool,), lambda v, p: v, 'true or false'),
    'labels': Custom((dict,), labels, 'a dictionary of labels'),
    'driver_config': Custom((dict,), lambda v, p: {
        k.capitalize(): x for k, x in Record({'name': Text(non_empty=True), 'options': Custom(
            (dict,), lambda o, q: {str(k): scalar_text(x, f'{q}.{k}') for k, x in o.items()},
            'a dictionary')}, required=('name',))(v, p).items()}, '{name, options}'),
    'tmpfs_size': Custom((int, str), lambda v, p: v if isinstance(v, int) and v >= 0
                         else _bad(p, 'expected bytes >= 0'), 'bytes'),
    'tmpfs_mode': Integer(0, 0o7777),
}, required=('target',))
MOUNTS = ListOf(Custom((dict, str), _mount, 'a mount: {target, source, type, read_only, ...}'))


# --------------------------------------------------------- network things
def extra_hosts(value: Any, path: str) -> list[str]:
    pairs = value.items() if isinstance(value, dict) else [
        (item.partition(':')[0] if isinstance(item, str) else None,
         item.partition(':')[2] if isinstance(item, str) else None) for item in value]
    out = []
    for index, (host, ip) in enumerate(pairs):
        sub = f'{path}.{host}' if isinstance(value, dict) else f'{path}[{index}]'
        if not isinstance(host, str) or not host or not isinstance(ip, str):
            raise InvalidInputError(sub[:200], "expected 'host:ip' or {host: ip}")
        if ip != 'host-gateway':
            ip_text(ip.strip('[]'), sub)
        out.append(f'{host}:{ip}')
    return out


EXTRA_HOSTS = Custom((dict, list), extra_hosts, "{host: ip} or ['host:ip']")


def links(value: Any, path: str) -> list[list[str]]:
    """Legacy links as [container, alias] pairs (what the SDK's create call takes:
    it spells them ``container:alias`` itself), sorted."""
    pairs = value.items() if isinstance(value, dict) else [
        (item.partition(':')[0], item.partition(':')[2] or item.partition(':')[0])
        if isinstance(item, str) else (None, None) for item in value]
    out = []
    for index, (name, alias) in enumerate(pairs):
        sub = f'{path}.{name}' if isinstance(value, dict) else f'{path}[{index}]'
        if not isinstance(name, str) or not name or not isinstance(alias, str) or not alias:
            raise InvalidInputError(sub[:200], "expected {container: alias} or "
                                               "['container:alias']")
        out.append([name, alias])
    return sorted(out)


LINKS = Custom((dict, list), links, "{container: alias} or ['container:alias']")
ULIMIT_NAMES = ('core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice',
                'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack')


def _ulimit(value: Any, path: str) -> dict[str, Any]:
    fields = Record({'name': Text(choices=ULIMIT_NAMES), 'soft': Integer(-1),
                     'hard': Integer(-1)}, required=('name',),
                    aliases={'Name': 'name', 'Soft': 'soft', 'Hard': 'hard'})(value, path)
    return {'Name': fields['name'], 'Soft': fields.get('soft', fields.get('hard', 0)),
            'Hard': fields.get('hard', fields.get('soft', 0))}


ULIMITS = ListOf(Custom((dict,), _ulimit, 'a ulimit: {name, soft, hard}'))


def _log_config(value: Any, path: str) -> dict[str, Any]:
    fields = Record({'type': Text(non_empty=True, max_len=256),
                     'config': Custom((dict,), labels, 'a dictionary of option: value')},
                    required=('type',))(value, path)
    return {'Type': fields['type'], 'Config': fields.get('config') or {}}


LOG_CONFIG = Custom((dict,), _log_config, 'a logging driver: {type, config}')


def _device_request(value: Any, path: str) -> dict[str, Any]:
    fields = Record({'driver': Text(), 'count': Integer(-1, 2 ** 31 - 1),
                     'device_ids': ListOf(Text()), 'capabilities': ListOf(ListOf(Text())),
                     'options': Custom((dict,), labels, 'a dictionary')})(value, path)
    names = {'driver': 'Driver', 'count': 'Count', 'device_ids': 'DeviceIDs',
             'capabilities': 'Capabilities', 'options': 'Options'}
    return {names[key]: item for key, item in fields.items()}


DEVICE_REQUESTS = ListOf(Custom((dict,), _device_request, 'a device request: {driver, count, '
                                                          'device_ids, capabilities, options}'))


def _throttle(key: str) -> Custom:
    def convert(value: Any, path: str) -> dict[str, Any]:
        fields = Record({'path': Text(non_empty=True), key: Integer(0)}, required=('path', key),
                        aliases={'Path': 'path', key.capitalize(): key})(value, path)
        return {'Path': fields['path'], key.capitalize(): fields[key]}
    return Custom((dict,), convert, f'{{path, {key}}}')


WEIGHT_DEVICES = ListOf(_throttle('weight'))
RATE_DEVICES = ListOf(_throttle('rate'))


def _text_or_number(value: Any, path: str) -> str:
    return scalar_text(value, path)


TEXT_OR_NUMBER = Custom((str, int), _text_or_number, 'a name or a number')
