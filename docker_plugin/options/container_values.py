"""Grammars of container option values: ports, bindings, binds, signals, ...

Each function is a normaliser for ``checks.Custom``: it takes what YAML
gave (the types are already checked), returns what the docker SDK expects,
and raises ``InvalidInputError`` naming the exact path. Nothing here lets a
value through that makes the SDK raise or the engine answer "cannot
unmarshal".
"""

from __future__ import annotations

import re
import shlex
import signal
from typing import Any

from docker_plugin.errors import InvalidInputError
from docker_plugin.options.checks import (
    Custom,
    Integer,
    ListOf,
    Record,
    Text,
    ascii_int,
    kind,
    scalar_text,
)
from docker_plugin.options.units import DURATION, ip_text

PROTOCOLS = ('tcp', 'udp', 'sctp')


# ------------------------------------------------------------- commands, env
def command(value: Any, path: str) -> list[str]:
    """A command as a list of arguments (a string is split as a shell would)."""
    if isinstance(value, str):
        if '\x00' in value:
            raise InvalidInputError(path, 'must not contain NUL characters')
        try:
            return shlex.split(value)
        except ValueError as exc:
            raise InvalidInputError(path, f'cannot split into arguments: {exc}') from None
    return [scalar_text(item, f'{path}[{i}]') for i, item in enumerate(value)]


COMMAND = Custom((str, list), command, 'a command string or a list of arguments')
_ENV_NAME = re.compile(r'[^=\x00]+')


def environment(value: Any, path: str) -> dict[str, str]:
    """``{NAME: value}`` or ``['NAME=value', ...]`` -> ``{NAME: 'value'}``."""
    env: dict[str, str] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not _ENV_NAME.fullmatch(key):
                raise InvalidInputError(f'{path}.{key}'[:200], 'names must be non-empty text '
                                                               "without '='")
            if item is not None:
                env[key] = scalar_text(item, f'{path}.{key}')
        return env
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item or item.startswith('=') or '\x00' in item:
            raise InvalidInputError(f'{path}[{index}]', "expected 'NAME=value'")
        key, _, val = item.partition('=')
        env[key] = val
    return env


ENVIRONMENT = Custom((dict, list), environment, "a dictionary of NAME: value or a list of "
                                                "'NAME=value'")
SECRET_ENVIRONMENT = Custom((dict,), environment, 'a dictionary of NAME: secret value')


def labels(value: Any, path: str) -> dict[str, str]:
    if isinstance(value, list):
        out = {}
        for i, item in enumerate(value):
            name = scalar_text(item, f'{path}[{i}]')
            key, _, val = name.partition('=')
            if not key:
                raise InvalidInputError(f'{path}[{i}]', 'a label needs a name')
            out[key] = val
        return out
    out = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key:
            raise InvalidInputError(f'{path}.{key}'[:200], 'label names must be non-empty text')
        out[key] = scalar_text(item, f'{path}.{key}') if item is not None else ''
    return out


LABELS = Custom((dict, list), labels, 'a dictionary of name: value (or a list of names)')


# ------------------------------------------------------------------- ports
def port_number(text: str, path: str, allow_zero: bool = False) -> int:
    number = ascii_int(text)
    if number is None or not (0 if allow_zero else 1) <= number <= 65535:
        raise InvalidInputError(path, f'expected a port number from {0 if allow_zero else 1} '
                                      f'to 65535, got {text[:40]!r}')
    return number


def port_spec(value: Any, path: str) -> int | str:
    """A container port: 80, '80', '53/udp' -> 80 or '53/udp'."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InvalidInputError(path, f"expected a port like 80 or '53/udp', got {kind(value)}")
    number, _, proto = str(value).partition('/')
    if proto not in ('', *PROTOCOLS):
        raise InvalidInputError(path, f"expected a port like 80 or '53/udp', got {value!r}"[:200])
    port = port_number(number, path)
    return port if not proto or (proto == 'tcp' and isinstance(value, int)) else f'{port}/{proto}'


PORTS = ListOf(Custom((int, str), port_spec, "a port like 80 or '53/udp'"))


def _host_port(value: Any, path: str) -> int | str | None:
    if value is None or value == '':
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InvalidInputError(path, f'expected a host port number, got {kind(value)}')
    low, sep, high = str(value).partition('-')
    if sep:
        first, last = port_number(low, path), port_number(high, path)
        if first > last:
            raise InvalidInputError(path, f'a port range must go up, got {value!r}')
        return f'{first}-{last}'
    return port_number(low, path, allow_zero=True)


def _binding(value: Any, path: str) -> Any:
    """One binding: a host port, ``[ip, port]``, ``{host_ip, host_port}``, or None."""
    if value is None:
        return None
    if isinstance(value, dict):
        unknown = set(value) - {'host_ip', 'host_port', 'HostIp', 'HostPort'}
        if unknown:
            raise InvalidInputError(path, f'unknown keys {sorted(map(str, unknown))}; use '
                                          'host_ip, host_port')
        ip = ip_text(value.get('host_ip', value.get('HostIp', '')), f'{path}.host_ip')
        port = _host_port(value.get('host_port', value.get('HostPort')), f'{path}.host_port')
        return (ip,) if port is None else (ip, port)
    if _is_ip_pair(value):
        ip = ip_text(value[0], f'{path}[0]')
        port = _host_port(value[1], f'{path}[1]')
        return (ip,) if port is None else (ip, port)
    return _host_port(value, path)


def _is_ip_pair(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and isinstance(value[0], str) \
        and ascii_int(value[0].split('-')[0]) is None


def port_bindings(value: Any, path: str) -> dict[Any, Any]:
    """``{container_port: binding or [bindings]}`` in YAML-friendly forms."""
    out: dict[Any, Any] = {}
    for key, binding in value.items():
        sub = f'{path}.{key}'
        port = port_spec(key, sub)
        if isinstance(binding, list) and not _is_ip_pair(binding):
            out[port] = [_binding(b, f'{sub}[{i}]') for i, b in enumerate(binding)]
        else:
            out[port] = _binding(binding, sub)
    return out


PORT_BINDINGS = Custom((dict,), port_bindings, 'a dictionary of container port: host port, '
                                               '[ip, port] or a list of them')


# ---------------------------------------------------------------- signals
_SIGNALS = {s.name for s in signal.Signals} | {s.name[3:] for s in signal.Signals}
_RT = re.compile(r'(SIG)?RTM(IN|AX)([+-][0-9]{1,2})?')


def signal_name(value: Any, path: str) -> str:
    text = str(value).upper() if not isinstance(value, bool) else ''
    number = ascii_int(text)
    if (number is not None and 1 <= number <= 64) or text in _SIGNALS or _RT.fullmatch(text):
        return text
    raise InvalidInputError(path, f'expected a signal like SIGTERM, TERM or 15, got '
                                  f'{str(value)[:40]!r}')


SIGNAL = Custom((str, int), signal_name, 'a signal like SIGTERM, TERM or 15')


# ----------------------------------------------------------- restart, health
RESTART_NAMES = ('no', 'always', 'unless-stopped', 'on-failure')


def restart_policy(value: Any, path: str) -> dict[str, Any]:
    if isinstance(value, str):
        name, sep, count = value.partition(':')
        retries = ascii_int(count) if sep else 0
        if retries is None:
            raise InvalidInputError(path, f'expected name[:count], got {value[:40]!r}')
        value = {'name': name, 'maximum_retry_count': retries}
    fields = Record({'name': Text(choices=RESTART_NAMES),
                     'maximum_retry_count': Integer(0, 2 ** 31 - 1)},
                    aliases={'Name': 'name', 'MaximumRetryCount': 'maximum_retry_count'},
                    required=('name',))(value, path)
    retries = fields.get('maximum_retry_count', 0)
    if retries and fields['name'] != 'on-failure':
        raise InvalidInputError(path, 'maximum_retry_count goes with on-failure only')
    return {'Name': fields['name'], 'MaximumRetryCount': retries}


RESTART_POLICY = Custom((dict, str), restart_policy, "a restart policy: 'on-failure:3' or "
                                                     '{name, maximum_retry_count}')


def _health_duration(value: Any, path: str) -> int:
    nanoseconds = DURATION(value, path)
    if 0 < nanoseconds < 10 ** 6:
        raise InvalidInputError(path, 'must be 0 or at least 1ms')
    return nanoseconds


def healthcheck(value: Any, path: str) -> dict[str, Any]:
    duration = Custom((int, str), _health_duration, "a duration like '5s' (or nanoseconds)")
    fields = Record({'test': Custom((str, list), _health_test, "['CMD', ...] or a shell line"),
                     'interval': duration, 'timeout': duration, 'start_period': duration,
                     'retries': Integer(0, 2 ** 31 - 1)}, required=('test',))(value, path)
    names = {'test': 'Test', 'interval': 'Interval', 'timeout': 'Timeout',
             'start_period': 'StartPeriod', 'retries': 'Retries'}
    return {names[key]: item for key, item in fields.items()}


def _health_test(value: Any, path: str) -> Any:
    if isinstance(value, str):
        return value
    items = [scalar_text(v, f'{path}[{i}]') for i, v in enumerate(value)]
    if not items or items[0] not in ('NONE', 'CMD', 'CMD-SHELL'):
        raise InvalidInputError(path, "a list must start with NONE, CMD or CMD-SHELL")
    return items


HEALTHCHECK = Custom((dict,), healthcheck, 'a healthcheck: test, interval, timeout, retries, '
                                           'start_period')


