"""Grammars of HostConfig values: addresses, devices, limits, logging, security.

Normalisers for ``checks.Custom``, like ``container_values``: what YAML gave
in, what the docker SDK expects out, ``InvalidInputError`` naming the path;
and the ``canon`` of each value whose engine form can be written several ways
that mean one thing (device permissions, security options, unlimited pids).
Binds, tmpfs and mounts are in ``mounts``.
"""

from __future__ import annotations

import re
from typing import Any

from docker_plugin.errors import InvalidInputError
from docker_plugin.options.checks import (
    Custom,
    Integer,
    ListOf,
    Number,
    Record,
    Text,
    scalar_text,
)
from docker_plugin.options.container_values import labels
from docker_plugin.options.units import SIZE, SIZE_SHOWN, Fields, Items, ip_text


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


_PERMISSIONS = re.compile(r'[rwm]{1,3}')


def _device(value: Any, path: str) -> dict[str, str]:
    """'/dev/x', '/dev/x:/dev/y', '/dev/x:rw' or '/dev/x:/dev/y:rwm' as the engine keeps
    it ({PathOnHost, PathInContainer, CgroupPermissions}: same path, rwm by default)."""
    parts = value.split(':')
    if len(parts) == 2 and _PERMISSIONS.fullmatch(parts[1]):
        parts = [parts[0], parts[0], parts[1]]
    if not 1 <= len(parts) <= 3 or not all(p.startswith('/') for p in parts[:2]) or \
            '\x00' in value or (len(parts) == 3 and not _PERMISSIONS.fullmatch(parts[2])):
        raise InvalidInputError(path, f"expected '/dev/x[:/dev/y][:rwm]', got {value[:80]!r}")
    return {'PathOnHost': parts[0], 'PathInContainer': parts[1] if len(parts) > 1 else parts[0],
            'CgroupPermissions': parts[2] if len(parts) > 2 else 'rwm'}


DEVICES = ListOf(Custom((str,), _device, "a device: '/dev/x[:/dev/y][:rwm]'"))


def devices_canon(value: Any) -> Any:
    if isinstance(value, list):
        return sorted((d.get('PathOnHost'), d.get('PathInContainer'),
                       ''.join(sorted(d.get('CgroupPermissions') or '')))
                      for d in value if isinstance(d, dict))
    return value


def security_canon(value: Any) -> Any:
    """Security options by meaning: 'label:disable' is 'label=disable', and
    'no-new-privileges' is 'no-new-privileges=true' (as the engine reads them)."""
    if not isinstance(value, list):
        return value
    out = set()
    for item in value:
        text = str(item)
        split = min((i for i in (text.find('='), text.find(':')) if i >= 0), default=-1)
        name, option = (text, '') if split < 0 else (text[:split], text[split + 1:])
        if name == 'no-new-privileges':
            option = option or 'true'
        out.add(f'{name}={option}' if option else name)
    return sorted(out)


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


def _throttle(key: str, check: Any, what: str) -> Custom:
    def convert(value: Any, path: str) -> dict[str, Any]:
        fields = Record({'path': Text(non_empty=True), key: check}, required=('path', key),
                        aliases={'Path': 'path', key.capitalize(): key})(value, path)
        return {'Path': fields['path'], key.capitalize(): fields[key]}
    return Custom((dict,), convert, f'{{path, {key}: {what}}}')


WEIGHT_DEVICES = ListOf(_throttle('weight', Integer(10, 1000), 'from 10 to 1000'))
BYTE_RATE_DEVICES = ListOf(_throttle('rate', SIZE, "bytes per second, or a size like '20m'"))
BYTE_RATES_SHOWN = Items(Fields({'Rate': ('rate', SIZE_SHOWN)}))
IO_RATE_DEVICES = ListOf(_throttle('rate', Integer(0), 'operations per second'))


def throttle_canon(value: Any) -> Any:
    if isinstance(value, list):
        return sorted(tuple(sorted(d.items())) for d in value if isinstance(d, dict))
    return value


def _nano_cpus(value: Any, path: str) -> int:
    """CPUs as a number (1.5) -> the engine's NanoCpus."""
    number = Number(0, 10 ** 6, above=True, what='a number of CPUs')(value, path)
    nano = round(number * 10 ** 9)
    if nano < 1:
        raise InvalidInputError(path, f'expected at least 1e-9 CPUs, got {number!r}')
    return nano


CPUS = Custom((int, float), _nano_cpus, 'a number of CPUs, e.g. 1.5 (> 0)')


def _memory_swap(value: Any, path: str) -> int:
    if value in ('unlimited', -1):
        return -1
    return SIZE(value, path)


MEMORY_SWAP = Custom((int, str), _memory_swap, "bytes, a size like '1g', or 'unlimited' (-1)")


def _shm_size(value: Any, path: str) -> int:
    size = SIZE(value, path)
    if size == 0:
        raise InvalidInputError(path, "0 makes the engine choose its default (64m): leave "
                                      'shm_size out for that, or give a size')
    return size


SHM_SIZE = Custom((int, str), _shm_size, "a size like '64m' (more than 0)")


def pids_canon(value: Any) -> Any:
    """Unlimited is written 0 or -1, and kept as 0, -1 or nothing: all one."""
    return 0 if value is None or (isinstance(value, int) and value <= 0) else value


def _text_or_number(value: Any, path: str) -> str:
    return scalar_text(value, path)


TEXT_OR_NUMBER = Custom((str, int), _text_or_number, 'a name or a number')


def _group(value: Any, path: str) -> str:
    text = scalar_text(value, path)
    if not text or ':' in text or text != text.strip():
        raise InvalidInputError(path, f'expected a group name or number, got {text[:40]!r}')
    return text


GROUP = Custom((str, int), _group, 'a group name or number')
