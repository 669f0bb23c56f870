"""Grammars of container option values: commands, environments, labels, signals, ...

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
    Record,
    Text,
    ascii_int,
    scalar_text,
)
from docker_plugin.options.units import DURATION, DURATION_SHOWN, Fields


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


def env_list(value: dict[str, str]) -> list[str]:
    """An environment as the engine stores it (``Config.Env``)."""
    return [f'{name}={item}' for name, item in value.items()]


def env_file_text(text: str, path: str) -> dict[str, str]:
    """The variables of an env file, as ``docker run --env-file`` reads one.

    One ``NAME=value`` a line, the value as written (no quotes removed); blank
    lines and lines starting with ``#`` are skipped. A line with a name alone
    (which the docker CLI fills from the caller's environment: here, the
    worker's) is refused. Errors give the line's number, never its text: a
    value may be a secret.
    """
    env: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith('#'):
            continue
        name, sep, value = line.partition('=')
        if not sep or not name or '\x00' in line or not _ENV_NAME.fullmatch(name):
            raise InvalidInputError(path, f'line {number}: expected NAME=value (a name alone '
                                          "would take the worker's own environment)")
        env[name] = value
    return env


_PATH = Text(non_empty=True, max_len=4096, what='a path')


def env_files(value: Any, path: str) -> list[str]:
    if isinstance(value, str):
        return [_PATH(value, path)]
    return [_PATH(item, f'{path}[{index}]') for index, item in enumerate(value)]


ENV_FILES = Custom((str, list), env_files, 'a path (or a list of paths) of files of NAME=value '
                                           'lines, relative to the blueprint')
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


def signal_canon(value: Any) -> Any:
    """One name per signal: 'TERM', '15' and 'SIGTERM' are all 'SIGTERM'."""
    if not isinstance(value, str):
        return value
    text = value.upper()
    number = ascii_int(text)
    if number is not None:
        try:
            return signal.Signals(number).name
        except ValueError:
            return text
    return text if text.startswith('SIG') else f'SIG{text}'


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
HEALTHCHECK_SHOWN = Fields({'Interval': ('interval', DURATION_SHOWN),
                            'Timeout': ('timeout', DURATION_SHOWN),
                            'StartPeriod': ('start_period', DURATION_SHOWN),
                            'StartInterval': ('start_interval', DURATION_SHOWN)})


def stored_healthcheck(value: dict[str, Any]) -> dict[str, Any]:
    """A healthcheck as the engine stores it: a shell line's test is ['CMD-SHELL', line]."""
    test = value.get('Test')
    return {**value, 'Test': ['CMD-SHELL', test]} if isinstance(test, str) else value


