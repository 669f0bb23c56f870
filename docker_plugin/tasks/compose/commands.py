"""Actions on a running compose project: ``docker.interfaces.compose``.

``logs`` (the services' last lines), ``ps`` (every container with its state,
health, exit code and published ports) and ``exec`` (a command in a
service's container). Each validates its inputs with its table in
``options.compose``, enforces its ``timeout`` (the compose process is killed
after it), and records ``{exit_code, message, data, time}`` under its own
name in runtime properties, bounded and cleaned of secrets; the message and
the output (log lines, the container table, the command's stdout and stderr)
go to the event stream too (``context.report_action``), as a Container's do.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from docker_plugin import results
from docker_plugin.command_failures import classify_compose, exec_not_started
from docker_plugin.errors import InvalidInputError, StateError
from docker_plugin.options.base import OptionTable
from docker_plugin.options.compose import COMPOSE_EXEC, COMPOSE_LOGS, COMPOSE_PS
from docker_plugin.resources import published
from docker_plugin.tasks.compose import lifecycle
from docker_plugin.tasks.context import recorded, report_action
from docker_plugin.tasks.ctx import Ctx
from docker_plugin.tasks.operation import operation

NOT_INPUTS = ('daemon_client',)
PS_COLUMNS = (('service', 'SERVICE'), ('name', 'NAME'), ('state', 'STATE'),
              ('health', 'HEALTH'), ('exit_code', 'EXIT CODE'), ('published', 'PORTS'))


def _inputs(table: OptionTable, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    return table.parse({k: v for k, v in kwargs.items() if k not in NOT_INPUTS})


def _check_services(compose: Any, names: list[str], field: str = 'services') -> None:
    """Services the project does not have are refused naming the input (compose itself
    would say so too late, and in its own words)."""
    known = set(compose.model().get('services') or {})
    for index, name in enumerate(names):
        if name not in known:
            where = f'{field}[{index}]' if field == 'services' else field
            raise InvalidInputError(where, f'no service {name!r} in the project (it has '
                                           f'{", ".join(sorted(known)) or "none"})')


def _compose_error(stderr: str) -> str | None:
    """Compose's own failure (not the command's) in a text command's stderr."""
    for line in reversed(stderr.splitlines()):
        if line.startswith('{'):
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict) and value.get('error') is True:
                return str(value.get('message', 'compose failed'))
    return None


@operation
def logs(ctx: Ctx, **kwargs: Any) -> str:
    """The last ``tail`` lines of each service (``services``; default all)."""
    inputs = _inputs(COMPOSE_LOGS, kwargs)
    opts = lifecycle.options(ctx, {k: v for k, v in kwargs.items() if k == 'daemon_client'})
    recorded(ctx, 'project_name', 'compose project')
    command = ['logs', '--no-color', '--tail', str(inputs['tail'])]
    command += ['--timestamps'] if inputs['timestamps'] else []
    command += ['--since', inputs['since']] if inputs['since'] else []
    with lifecycle.project(ctx, kwargs, opts) as compose:
        _check_services(compose, inputs['services'])
        printed = compose.text('compose logs', [*command, *inputs['services']],
                               inputs['timeout'])
    code, out, err = printed.returncode, printed.tail('stdout'), printed.tail('stderr')
    failure = _compose_error(err)
    if code != 0 or failure:
        raise classify_compose(failure or err.strip() or f'exit code {code}', 'compose logs',
                               'services', model_known=True)
    message, data = results.logs(out, printed.sizes.get('stdout', len(out)))
    return report_action(ctx, 'logs', 0, message, data, out)['logs']


@operation
def ps(ctx: Ctx, **kwargs: Any) -> list[dict[str, Any]]:
    """Every container of the project: service, name, id, state, health, exit code, ports."""
    inputs = _inputs(COMPOSE_PS, kwargs)
    opts = lifecycle.options(ctx, {k: v for k, v in kwargs.items() if k == 'daemon_client'})
    recorded(ctx, 'project_name', 'compose project')
    with lifecycle.project(ctx, kwargs, opts) as compose:
        _check_services(compose, inputs['services'])
        rows = compose.ps(inputs['services'], timeout=inputs['timeout'])
    table = [{'service': r.get('Service', ''), 'name': r.get('Name', ''),
              'id': r.get('ID', ''), 'state': r.get('State', ''), 'health': r.get('Health', ''),
              'exit_code': r.get('ExitCode'), 'status': r.get('Status', ''),
              'ports': published.from_publishers(r.get('Publishers'))}
             for r in rows]
    states = ', '.join(f'{r["service"]}: {r["state"]}'
                       + (f' ({r["health"]})' if r['health'] else '') for r in table)
    shown = results.table([{**r, 'published': ', '.join(published.describe(r['ports']))}
                           for r in table], PS_COLUMNS)
    return report_action(ctx, 'ps', 0, results.count(len(table), 'container')
                         + (f': {states}' if states else ''), table, shown)


@operation
def exec_command(ctx: Ctx, **kwargs: Any) -> dict[str, Any]:
    """``exec`` a command in a service's container (``index``: which one)."""
    inputs = _inputs(COMPOSE_EXEC, kwargs)
    opts = lifecycle.options(ctx, {k: v for k, v in kwargs.items() if k == 'daemon_client'})
    recorded(ctx, 'project_name', 'compose project')
    command = ['exec', '--no-tty', '--index', str(inputs['index'])]
    if inputs['user']:
        command += ['--user', inputs['user']]
    if inputs['workdir']:
        command += ['--workdir', inputs['workdir']]
    if inputs['privileged']:
        command.append('--privileged')
    for key, value in (inputs['environment'] or {}).items():
        command += ['--env', f'{key}={value}']
    service = inputs['service']
    with lifecycle.project(ctx, kwargs, opts) as compose:
        _check_services(compose, [service], 'service')
        printed = compose.text('compose exec', [*command, service, *inputs['command']],
                               inputs['timeout'])
    code, out, err = printed.returncode, printed.tail('stdout'), printed.tail('stderr')
    failure = _compose_error(err)
    if failure and 'is not running container #' in failure:
        if inputs['index'] > 1:
            raise InvalidInputError('index', f'compose exec in {service}: {failure}')
        raise StateError(f'compose exec in {service}: {failure}')
    if failure:
        raise classify_compose(failure, f'compose exec in {service}', 'service',
                               model_known=True)
    expected = inputs['expected_exit_code']
    message = f'{inputs["command"]!r} exited with code {code} (in {service})'
    data = report_action(ctx, 'exec', code, message, {'exit_code': code, 'stdout': out,
                                                       'stderr': err}, results.streams(out, err))
    refused = exec_not_started(code, out, err,
                               [f for f in ('user', 'workdir') if inputs.get(f)], expected)
    if refused is not None:
        raise refused
    if expected != -1 and code != expected:
        said = (err.strip() and f'stderr: {err.strip()[-1000:]}') or \
            (out.strip() and f'stdout: {out.strip()[-1000:]}') or 'it printed nothing'
        raise InvalidInputError('expected_exit_code', f'{message}, expected {expected}; {said}')
    return data
