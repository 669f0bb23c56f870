"""Actions that run things in a container or move files: exec, wait, copy_to, copy_from.

Part of ``docker.interfaces.container`` (see ``container_actions``): the same
validation by table, timeout and bounded, redacted result.
"""

from __future__ import annotations

from typing import Any

from docker_plugin.command_failures import exec_not_started
from docker_plugin.errors import InvalidInputError, StateError, TimeoutExpired
from docker_plugin.resources.container import archives, execs
from docker_plugin.resources.container.probes import WaitSpec
from docker_plugin.resources.engine_api import EngineApi
from docker_plugin.results import count, streams
from docker_plugin.tasks.confine import resource_path, write_directory
from docker_plugin.tasks.container.controls import ActionRun
from docker_plugin.tasks.container.readiness import wait_ready
from docker_plugin.tasks.context import is_local, record_result
from docker_plugin.tasks.ctx import Ctx
from docker_plugin.tasks.operation import operation


@operation
def exec_command(ctx: Ctx, **kwargs: Any) -> None:
    """Run ``command`` in the container (``user``, ``workdir``, ``environment``,
    ``privileged``); records exit code, stdout and stderr (each bounded). With
    ``expected_exit_code`` another code fails the operation. At its ``timeout``
    the command is stopped, and the result says how."""
    action = ActionRun(ctx, 'exec', kwargs)
    given = action.inputs
    command = given['command']

    def body(api: EngineApi, cid: str) -> tuple[str, Any]:
        try:
            done = execs.run(api, cid, command, action.deadline, user=given['user'] or '',
                             workdir=given['workdir'], environment=given['environment'],
                             privileged=given['privileged'], local_engine=is_local(action.config))
        except TimeoutExpired as exc:
            record_result(ctx, 'exec', -1, str(exc), {'exit_code': None, 'timed_out': True})
            raise
        return f'{command!r} exited with code {done.exit_code}', {
            'exit_code': done.exit_code, 'stdout': done.stdout, 'stderr': done.stderr}

    data = action.run(body, output=lambda data: streams(data['stdout'], data['stderr']))
    refused = exec_not_started(data['exit_code'], data['stdout'], data['stderr'],
                               [f for f in ('user', 'workdir') if given[f]],
                               given['expected_exit_code'])
    if refused is not None:
        raise refused
    expected = given['expected_exit_code']
    if expected is not None and data['exit_code'] != expected:
        stream = 'stderr' if data['stderr'].strip() or not data['stdout'].strip() else 'stdout'
        raise InvalidInputError('expected_exit_code', f'{command!r} exited with code '
                                f"{data['exit_code']}, expected {expected}; {stream}: "
                                f"{data[stream][-500:]!r}")


@operation
def wait(ctx: Ctx, **kwargs: Any) -> Any:
    """Wait for the container to exit (``expected_exit_code`` to check it); with
    ``async: true`` the wait polls through Cloudify's retries instead of holding a
    worker."""
    action = ActionRun(ctx, 'wait', kwargs)
    given = action.inputs
    if not action.container_id:
        raise StateError('no container recorded for this instance')
    spec = WaitSpec('exited', action.timeout, float(given['interval']),
                    exit_code=given['expected_exit_code'], run_async=given['async'])
    return wait_ready(ctx, action.config, action.container_id, spec, 'wait')


@operation
def copy_to(ctx: Ctx, **kwargs: Any) -> None:
    """Copy ``source`` (a local or blueprint-relative file or directory) into the
    container's ``destination`` directory."""
    action = ActionRun(ctx, 'copy_to', kwargs)
    source = resource_path(ctx, action.inputs['source'], 'source')
    destination = action.inputs['destination']

    def body(api: EngineApi, cid: str) -> tuple[str, Any]:
        archives.copy_to(api, cid, source, destination)
        return f'copied {source} into {destination}', {'source': source,
                                                       'destination': destination}

    action.run(body)


@operation
def copy_from(ctx: Ctx, **kwargs: Any) -> None:
    """Copy the container's ``source`` path into the local ``destination`` directory (on
    a manager: a directory of the deployment's work directory)."""
    action = ActionRun(ctx, 'copy_from', kwargs)
    given = action.inputs
    destination = write_directory(ctx, given['destination'], 'destination')

    def body(api: EngineApi, cid: str) -> tuple[str, Any]:
        files = archives.copy_from(api, cid, given['source'], destination,
                                   given['max_bytes'], action.deadline)
        return (f"copied {given['source']} to {destination} ({count(len(files), 'entry')})",
                {'files': files, 'destination': destination})

    action.run(body, output=lambda data: '\n'.join(data['files']))
