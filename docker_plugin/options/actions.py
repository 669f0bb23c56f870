"""The inputs of every container action (``docker.interfaces.container``), declared once.

Each action's table lists what ``execute_operation``'s ``operation_kwargs``
may hold; ``timeout`` (seconds, enforced by the plugin) and ``daemon_client``
are accepted by all of them.
"""

from __future__ import annotations

from typing import Any

from docker_plugin.options.base import Option, OptionTable
from docker_plugin.options.checks import (
    FLAG,
    AnyOf,
    Custom,
    Integer,
    ListOf,
    MapOf,
    Number,
    Text,
)
from docker_plugin.options.container import ABS_PATH, CONTAINER_NAME
from docker_plugin.options.container_values import COMMAND, ENVIRONMENT, SIGNAL
from docker_plugin.options.lifecycle import wait_for

DEFAULT_TIMEOUT = 60.0
FILTERS = MapOf(AnyOf(Text(), ListOf(Text()), FLAG), what='engine filters, e.g. '
                                                         '{label: [app=web]}')
LIMIT = Integer(1, 10000)
TAIL = AnyOf(Integer(0, 10 ** 7), Text(choices=('all',)), what="a number of lines or 'all'")
UNIX_TIME = Number(0, 10 ** 11, what='a unix time')
WAIT = Custom((dict,), wait_for, 'a readiness wait (see wait_for)')
STOP_GRACE = Integer(0, 10 ** 6, what='a whole number of seconds')
EXIT_CODE = Integer(-1, 255)


def _option(name: str, check: Any, doc: str, default: Any = None,
            required: bool = False) -> Option:
    return Option(name, check, 'input', default=default, required=required, doc=doc)


def _table(name: str, *options: Option) -> OptionTable:
    timeout = _option('timeout', Number(0, 10 ** 6, above=True, what='seconds'),
                      'seconds the action may take (enforced by the plugin)', DEFAULT_TIMEOUT)
    return OptionTable(name, [*options, timeout])


ACTIONS = {table.name: table for table in (
    _table('inspect'),
    _table('list_containers',
           _option('filters', FILTERS, 'engine filters, e.g. {label: [app=web]}', {}),
           _option('all', FLAG, 'stopped ones too', True),
           _option('limit', LIMIT, 'at most this many', 100)),
    _table('list_images',
           _option('name', Text(non_empty=True), 'repository name'),
           _option('filters', FILTERS, 'engine filters, e.g. {dangling: [true]}', {}),
           _option('limit', LIMIT, 'at most this many', 100)),
    _table('top'),
    _table('logs',
           _option('tail', TAIL, "lines from the end, or 'all'", 100),
           _option('since', UNIX_TIME, 'from this unix time'),
           _option('until', UNIX_TIME, 'up to this unix time'),
           _option('timestamps', FLAG, 'prefix each line with its time', False),
           _option('stdout', FLAG, 'include stdout', True),
           _option('stderr', FLAG, 'include stderr', True)),
    _table('stats'),
    _table('pause'),
    _table('unpause'),
    _table('kill', _option('signal', SIGNAL, 'signal to send', 'SIGKILL')),
    _table('rename', _option('name', CONTAINER_NAME, 'the new name', required=True)),
    _table('stop', _option('stop_timeout', STOP_GRACE, 'seconds before the engine kills it')),
    _table('start', _option('wait_for', WAIT, 'readiness wait after start')),
    _table('restart',
           _option('stop_timeout', STOP_GRACE, 'seconds before the engine kills it'),
           _option('wait_for', WAIT, 'readiness wait after the restart')),
    _table('update', _option('resources', Custom((dict,), lambda value, path: value,
                                                 'a dictionary of updatable options'),
                             'resources and restart policy to change in place', required=True)),
    _table('exec',
           _option('command', COMMAND, 'the command (string or list)', required=True),
           _option('user', Text(max_len=256), 'user to run as'),
           _option('workdir', ABS_PATH, 'working directory'),
           _option('environment', ENVIRONMENT, 'extra environment', {}),
           _option('privileged', FLAG, 'extended privileges', False),
           _option('expected_exit_code', EXIT_CODE, 'another exit code fails the operation')),
    _table('wait',
           _option('expected_exit_code', EXIT_CODE, 'the exit code expected', 0),
           _option('async', FLAG, 'poll through Cloudify retries', False),
           _option('interval', Number(0, 3600, above=True, what='seconds'),
                   'seconds between looks', 1.0)),
    _table('copy_to',
           _option('source', Text(non_empty=True), 'local or blueprint-relative path',
                   required=True),
           _option('destination', ABS_PATH, 'directory in the container', required=True)),
    _table('copy_from',
           _option('source', ABS_PATH, 'path in the container', required=True),
           _option('destination', Text(non_empty=True), 'local directory', required=True),
           _option('max_bytes', Integer(1, 2 ** 40), 'refuse archives larger than this',
                   64 * 1024 * 1024)),
)}
