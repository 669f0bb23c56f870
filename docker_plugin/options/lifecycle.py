"""Options of stopping and removing a container, and of waiting for it.

``STOP`` and ``REMOVE`` are the seed's ``container_stop`` and
``container_remove`` (keywords of the SDK's ``stop`` and ``remove_container``,
plus ``remove_image``). ``WAIT_FOR`` is a readiness wait after start.
``UPDATE`` holds the inputs every kind's ``update`` takes besides its own
properties (``preview``), read by the shared lifecycle (``tasks/lifecycle.py``).
"""

from __future__ import annotations

import re
from typing import Any

from docker_plugin.errors import InvalidInputError
from docker_plugin.options.base import Option, OptionTable
from docker_plugin.options.checks import FLAG, Custom, Integer, Number, Text

STOP = OptionTable('container_stop', [
    Option('timeout', Integer(0, 10 ** 6, what='a whole number of seconds'), 'stop',
           doc='seconds before the engine kills the process'),
])

REMOVE = OptionTable('container_remove', [
    Option('v', FLAG, 'remove', default=False, doc='remove anonymous volumes too'),
    Option('link', FLAG, 'remove', default=False, doc='remove a legacy link'),
    Option('force', FLAG, 'remove', default=False, doc='kill a running container'),
    Option('remove_image', FLAG, 'plugin', default=False, doc='remove its image too'),
])

UPDATE = OptionTable('update', [
    Option('preview', FLAG, 'plan', default=False,
           doc='show what update would do with each drift entry (in place, recreate or '
               'refuse, and why) and change nothing'),
])

CONDITIONS = ('running', 'healthy', 'ready', 'log', 'port', 'exited')


def _regex(value: str, path: str) -> str:
    try:
        re.compile(value)
    except (re.error, RecursionError, OverflowError) as exc:
        raise InvalidInputError(path, f'not a regular expression: {exc}') from None
    return value


WAIT_FOR = OptionTable('wait_for', [
    Option('condition', Text(choices=CONDITIONS), 'wait', default='running',
           doc='running, healthy, ready (as docker compose up --wait, and a container that '
               'exited 0 under restart policy no or on-failure has completed), log, port or '
               'exited'),
    Option('timeout', Number(0, 10 ** 6, above=True, what='seconds'), 'wait', default=60.0,
           doc='seconds to wait (enforced by the plugin)'),
    Option('interval', Number(0, 3600, above=True, what='seconds'), 'wait', default=0.5,
           doc='seconds between looks'),
    Option('pattern', Custom((str,), _regex, 'a regular expression'), 'wait',
           doc='condition log: a regular expression a log line must match'),
    Option('port', Integer(1, 65535), 'wait', doc='condition port: the TCP port'),
    Option('exit_code', Integer(-1, 255), 'wait', default=0,
           doc='condition exited: the expected exit code'),
    Option('async', FLAG, 'wait', default=False,
           doc='poll through Cloudify retries instead of holding a worker'),
])
# What each condition needs beside itself.
NEEDS = {'log': 'pattern', 'port': 'port'}


def wait_for(raw: Any, field: str = 'wait_for') -> dict[str, Any] | None:
    """The validated wait, or None when nothing is to be waited for."""
    if raw in (None, {}):
        return None
    values = WAIT_FOR.parse(raw, field)
    needed = NEEDS.get(values['condition'])
    if needed and values.get(needed) in (None, ''):
        raise InvalidInputError(f'{field}.{needed}',
                                f'required for condition {values["condition"]}')
    return values
