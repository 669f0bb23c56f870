"""Operations that drive a running container: ``docker.interfaces.container``.

Each reads the container id from the instance's runtime properties, validates
its inputs before touching the engine, enforces its own ``timeout``, and
records a result (exit code, message, data) in runtime properties under its
own name. State-changing actions refresh the properties that describe the
container (name, state, ip, networks, ports).
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any, Callable

from docker_plugin import secrets, waits
from docker_plugin.cloudify_ops import (
    blueprint_path,
    daemon_config,
    docker_operation,
    drop,
    engine,
    persist,
    resolve_input,
)
from docker_plugin.errors import InvalidInputError, NotFoundError
from docker_plugin.options.container import CONTAINER
from docker_plugin.resources import actions, containers
from docker_plugin.results import result

DEFAULT_TIMEOUT = 60


def _number(kwargs: dict[str, Any], key: str, default: float | None,
            minimum: float = 0) -> float | None:
    value = kwargs.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
        raise InvalidInputError(key, f'expected a number >= {minimum:g}, got {value!r}')
    return value


def _text(kwargs: dict[str, Any], key: str, required: bool = False) -> str | None:
    value = kwargs.get(key)
    if value in (None, '') and not required:
        return None
    if not isinstance(value, str) or not value:
        raise InvalidInputError(key, 'required: a non-empty string' if required
                                else f'expected a string, got {type(value).__name__}')
    return value


def _flag(kwargs: dict[str, Any], key: str, default: bool) -> bool:
    value = kwargs.get(key, default)
    if not isinstance(value, bool):
        raise InvalidInputError(key, f'expected true or false, got {value!r}')
    return value


def _known(kwargs: dict[str, Any], *names: str) -> None:
    """Reject unknown inputs (anything but these, daemon_client and Cloudify's own)."""
    allowed = set(names) | {'daemon_client', 'timeout'}
    for key in kwargs:
        if key not in allowed and not key.startswith('_'):
            raise InvalidInputError(key, f'unknown input; this action takes '
                                         f'{", ".join(sorted(allowed))}')


class Action:
    """One action run: client, container id, deadline, and recording the result."""

    def __init__(self, ctx: Any, name: str, kwargs: dict[str, Any], timeout: float):
        self.ctx = ctx
        self.name = name
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout
        config = daemon_config(ctx, kwargs)
        # No single engine call may outlive the action.
        self.config = dataclasses.replace(config, timeout=min(config.timeout, timeout + 5))
        self.container_id = ctx.instance.runtime_properties.get('container_id')

    def run(self, body: Callable[[Any, str], tuple[str, Any]], refresh: bool = False,
            needs_container: bool = True) -> Any:
        if needs_container and not self.container_id:
            raise InvalidInputError('runtime_properties.container_id',
                                    'no container recorded for this instance')
        with engine(self.ctx, {}, self.config) as client:
            api = client.api
            try:
                message, data = body(api, self.container_id)
            except NotFoundError:
                raise InvalidInputError(
                    'container', f'container {self.container_id} no longer exists') from None
            if refresh:
                info = containers.inspect(api, self.container_id)
                if info is not None:
                    persist(self.ctx, **containers.summarise(info))
        exit_code = data.get('exit_code', 0) if isinstance(data, dict) else 0
        self.record(exit_code or 0, message, data)
        return data

    def record(self, exit_code: int, message: str, data: Any) -> None:
        persist(self.ctx, **{self.name: result(exit_code, message, data)})
        self.ctx.logger.info('%s: %s', self.name, secrets.redact(message))


def _action(ctx: Any, name: str, kwargs: dict[str, Any], default_timeout: float) -> Action:
    timeout = _number(kwargs, 'timeout', default_timeout, minimum=0.1)
    return Action(ctx, name, kwargs, timeout)


# ------------------------------------------------------------------ look
@docker_operation
def inspect(ctx: Any, **kwargs: Any) -> None:
    """Inspect: state, networks, ports, config (environment names only, no values)."""
    _known(kwargs)

    def body(api: Any, cid: str) -> tuple[str, Any]:
        info = containers.inspect(api, cid)
        if info is None:
            raise NotFoundError(cid)
        config = dict(info.get('Config') or {})
        config['Env'] = [entry.split('=', 1)[0] for entry in config.get('Env') or []]
        data = {**containers.summarise(info), 'status': info['State'],
                'config': {k: config.get(k) for k in ('Image', 'Cmd', 'Entrypoint', 'Env',
                                                      'Labels', 'WorkingDir', 'User')},
                'restart_policy': (info.get('HostConfig') or {}).get('RestartPolicy')}
        return f"container {data['container_name']} is {data['state']}", data

    _action(ctx, 'inspect', kwargs, DEFAULT_TIMEOUT).run(body, refresh=True)


@docker_operation
def list_containers(ctx: Any, **kwargs: Any) -> None:
    """Containers on the engine, with ``filters`` (e.g. {label: [k=v]}) and ``all``."""
    _known(kwargs, 'filters', 'all', 'limit')
    filters = kwargs.get('filters') or {}
    if not isinstance(filters, dict):
        raise InvalidInputError('filters', 'expected a dictionary, e.g. {label: [app=web]}')
    all_states = _flag(kwargs, 'all', True)
    limit = int(_number(kwargs, 'limit', 100, minimum=1))

    def body(api: Any, _: str) -> tuple[str, Any]:
        found = actions.list_containers(api, filters, all_states, limit)
        return f'{len(found)} containers', {'containers': found}

    _action(ctx, 'list_containers', kwargs, DEFAULT_TIMEOUT).run(body, needs_container=False)


@docker_operation
def list_images(ctx: Any, **kwargs: Any) -> None:
    """Images on the engine, by ``name`` and ``filters``."""
    _known(kwargs, 'name', 'filters', 'limit')
    filters = kwargs.get('filters') or {}
    if not isinstance(filters, dict):
        raise InvalidInputError('filters', 'expected a dictionary, e.g. {dangling: [true]}')
    name = _text(kwargs, 'name')
    limit = int(_number(kwargs, 'limit', 100, minimum=1))

    def body(api: Any, _: str) -> tuple[str, Any]:
        found = actions.list_images(api, name, filters, limit)
        return f'{len(found)} images', {'images': found}

    _action(ctx, 'list_images', kwargs, DEFAULT_TIMEOUT).run(body, needs_container=False)


@docker_operation
def top(ctx: Any, **kwargs: Any) -> None:
    """The process table."""
    _known(kwargs)

    def body(api: Any, cid: str) -> tuple[str, Any]:
        table = containers.top(api, cid)
        if table is None:
            raise InvalidInputError('container', f'container {cid} is not running: no '
                                                 'processes to list')
        return containers.format_top(table), {'titles': table.get('Titles'),
                                              'processes': table.get('Processes')}

    _action(ctx, 'top', kwargs, DEFAULT_TIMEOUT).run(body)


@docker_operation
def logs(ctx: Any, **kwargs: Any) -> None:
    """Logs: ``tail`` (lines or 'all'), ``since``/``until`` (unix time), ``timestamps``,
    ``stdout``, ``stderr``."""
    _known(kwargs, 'tail', 'since', 'until', 'timestamps', 'stdout', 'stderr')
    tail = kwargs.get('tail', 100)
    if tail != 'all' and (isinstance(tail, bool) or not isinstance(tail, int) or tail < 0):
        raise InvalidInputError('tail', "expected a number of lines or 'all'")
    since = _number(kwargs, 'since', None)
    until = _number(kwargs, 'until', None)
    options = {'timestamps': _flag(kwargs, 'timestamps', False),
               'stdout': _flag(kwargs, 'stdout', True), 'stderr': _flag(kwargs, 'stderr', True)}

    def body(api: Any, cid: str) -> tuple[str, Any]:
        text = actions.logs(api, cid, tail=tail, since=since, until=until, **options)
        lines = text.splitlines()
        return f'{len(lines)} lines of output', {'logs': text, 'lines': len(lines)}

    _action(ctx, 'logs', kwargs, DEFAULT_TIMEOUT).run(body)


@docker_operation
def stats(ctx: Any, **kwargs: Any) -> None:
    """A resource snapshot: CPU %, memory, network and block IO, processes."""
    _known(kwargs)

    def body(api: Any, cid: str) -> tuple[str, Any]:
        data = actions.stats(api, cid)
        return (f"cpu {data['cpu_percent']}%, memory {data['memory_usage']} of "
                f"{data['memory_limit']} bytes, {data['pids']} processes"), data

    _action(ctx, 'stats', kwargs, DEFAULT_TIMEOUT).run(body)


# ---------------------------------------------------------------- change state
def _state_action(ctx: Any, name: str, kwargs: dict[str, Any],
                  call: Callable[[Any, str], None], message: str) -> None:
    def body(api: Any, cid: str) -> tuple[str, Any]:
        call(api, cid)
        return message.format(cid=cid[:12]), {}

    _action(ctx, name, kwargs, DEFAULT_TIMEOUT).run(body, refresh=True)


@docker_operation
def pause(ctx: Any, **kwargs: Any) -> None:
    """Freeze every process of the container (a stopped one cannot be paused)."""
    _known(kwargs)
    _state_action(ctx, 'pause', kwargs, actions.pause, 'container {cid} paused')


@docker_operation
def unpause(ctx: Any, **kwargs: Any) -> None:
    """Thaw a paused container."""
    _known(kwargs)
    _state_action(ctx, 'unpause', kwargs, actions.unpause, 'container {cid} unpaused')


@docker_operation
def kill(ctx: Any, **kwargs: Any) -> None:
    """Send a signal (``signal``, default SIGKILL)."""
    _known(kwargs, 'signal')
    signal = kwargs.get('signal', 'SIGKILL')
    if isinstance(signal, bool) or not isinstance(signal, (str, int)) or signal == '':
        raise InvalidInputError('signal', 'expected a signal name like SIGHUP or a number')
    _state_action(ctx, 'kill', kwargs, lambda api, cid: actions.kill(api, cid, signal),
                  f'sent {signal} to container {{cid}}')


@docker_operation
def rename(ctx: Any, **kwargs: Any) -> None:
    """Give the container a new ``name``."""
    _known(kwargs, 'name')
    name = _text(kwargs, 'name', required=True)
    _state_action(ctx, 'rename', kwargs, lambda api, cid: actions.rename(api, cid, name),
                  f'container {{cid}} is now named {name}')


@docker_operation
def stop(ctx: Any, **kwargs: Any) -> None:
    """Stop (``timeout``: seconds before the engine kills it)."""
    _known(kwargs, 'stop_timeout')
    grace = _number(kwargs, 'stop_timeout', None)

    def call(api: Any, cid: str) -> None:
        containers.stop(api, cid, None if grace is None else int(grace))

    _state_action(ctx, 'stop', kwargs, call, 'container {cid} stopped')


def _wait_spec(ctx: Any, kwargs: dict[str, Any]) -> waits.WaitSpec | None:
    return waits.validate(resolve_input(ctx, kwargs, 'wait_for'))


@docker_operation
def start(ctx: Any, **kwargs: Any) -> Any:
    """Start, then wait as ``wait_for`` says (see the README's readiness waits)."""
    _known(kwargs, 'wait_for')
    spec = _wait_spec(ctx, kwargs)
    action = _action(ctx, 'start', kwargs, DEFAULT_TIMEOUT)
    action.run(lambda api, cid: (containers.start(api, cid) or f'container {cid[:12]} started',
                                 {}), refresh=True)
    if spec:
        return wait_ready(ctx, action.config, action.container_id, spec, 'start')
    return None


@docker_operation
def restart(ctx: Any, **kwargs: Any) -> Any:
    """Restart (``stop_timeout`` before killing), then wait as ``wait_for`` says."""
    _known(kwargs, 'stop_timeout', 'wait_for')
    grace = _number(kwargs, 'stop_timeout', None)
    spec = _wait_spec(ctx, kwargs)
    action = _action(ctx, 'restart', kwargs, DEFAULT_TIMEOUT)
    action.run(lambda api, cid: (actions.restart(api, cid, None if grace is None else int(grace))
                                 or f'container {cid[:12]} restarted', {}), refresh=True)
    if spec:
        return wait_ready(ctx, action.config, action.container_id, spec, 'restart')
    return None


@docker_operation
def update(ctx: Any, **kwargs: Any) -> None:
    """Change resources and restart policy in place (``resources``: a dict of the
    updatable options: cpu_shares, cpu_period, cpu_quota, cpuset_cpus, cpuset_mems,
    mem_limit, mem_reservation, memswap_limit, kernel_memory, blkio_weight,
    restart_policy)."""
    _known(kwargs, 'resources')
    options = CONTAINER.validate(kwargs.get('resources'), 'resources').get('host', {})
    fixed = [k for k in options if not CONTAINER.options[k].updatable]
    if fixed or not options:
        updatable = sorted(o.name for o in CONTAINER.options.values() if o.updatable)
        raise InvalidInputError(f'resources.{fixed[0]}' if fixed else 'resources',
                                f'cannot change in place; updatable: {", ".join(updatable)}')

    def body(api: Any, cid: str) -> tuple[str, Any]:
        warnings = actions.update(api, cid, options)
        return f'updated {", ".join(sorted(options))}', {'warnings': warnings}

    _action(ctx, 'update', kwargs, DEFAULT_TIMEOUT).run(body, refresh=True)


# ---------------------------------------------------------------- run things
@docker_operation
def exec_command(ctx: Any, **kwargs: Any) -> None:
    """Run ``command`` in the container (``user``, ``workdir``, ``environment``,
    ``privileged``); records exit code, stdout and stderr. With
    ``expected_exit_code`` another code fails the operation."""
    _known(kwargs, 'command', 'user', 'workdir', 'environment', 'privileged',
           'expected_exit_code')
    command = kwargs.get('command')
    if not command or not isinstance(command, (str, list)):
        raise InvalidInputError('command', 'required: a string or a list of arguments')
    user = _text(kwargs, 'user') or ''
    workdir = _text(kwargs, 'workdir')
    environment = kwargs.get('environment') or {}
    if not isinstance(environment, dict):
        raise InvalidInputError('environment', 'expected a dictionary of NAME: value')
    privileged = _flag(kwargs, 'privileged', False)
    expected = kwargs.get('expected_exit_code')
    if expected is not None and (isinstance(expected, bool) or not isinstance(expected, int)):
        raise InvalidInputError('expected_exit_code', 'expected an integer')
    action = _action(ctx, 'exec', kwargs, DEFAULT_TIMEOUT)

    def body(api: Any, cid: str) -> tuple[str, Any]:
        code, out, err = actions.exec_run(
            api, cid, command, action.deadline, user=user, workdir=workdir,
            environment={str(k): str(v) for k, v in environment.items()}, privileged=privileged)
        return f'{command!r} exited with code {code}', {'exit_code': code, 'stdout': out,
                                                        'stderr': err}

    data = action.run(body)
    if expected is not None and data['exit_code'] != expected:
        raise InvalidInputError('expected_exit_code', f'{command!r} exited with code '
                                f"{data['exit_code']}, expected {expected}; stderr: "
                                f"{data['stderr'][-500:]!r}")


@docker_operation
def wait(ctx: Any, **kwargs: Any) -> Any:
    """Wait for the container to exit (``expected_exit_code`` to check it); with
    ``async: true`` the wait polls through Cloudify's retries instead of holding a
    worker."""
    _known(kwargs, 'expected_exit_code', 'async', 'interval')
    raw = {'condition': 'exited', 'timeout': kwargs.get('timeout', DEFAULT_TIMEOUT),
           'exit_code': kwargs.get('expected_exit_code', 0),
           'async': kwargs.get('async', False), 'interval': kwargs.get('interval', 1)}
    spec = waits.validate(raw, 'wait')
    action = _action(ctx, 'wait', kwargs, spec.timeout)
    if not action.container_id:
        raise InvalidInputError('runtime_properties.container_id', 'no container recorded')
    return wait_ready(ctx, action.config, action.container_id, spec, 'wait')


@docker_operation
def copy_to(ctx: Any, **kwargs: Any) -> None:
    """Copy ``source`` (a local or blueprint-relative file or directory) into the
    container's ``destination`` directory."""
    _known(kwargs, 'source', 'destination')
    source = blueprint_path(ctx, _text(kwargs, 'source', required=True), 'source')
    destination = _text(kwargs, 'destination', required=True)

    def body(api: Any, cid: str) -> tuple[str, Any]:
        actions.copy_to(api, cid, source, destination)
        return f'copied {source} into {destination}', {'source': source,
                                                       'destination': destination}

    _action(ctx, 'copy_to', kwargs, DEFAULT_TIMEOUT).run(body)


@docker_operation
def copy_from(ctx: Any, **kwargs: Any) -> None:
    """Copy the container's ``source`` path into the local ``destination`` directory."""
    _known(kwargs, 'source', 'destination', 'max_bytes')
    source = _text(kwargs, 'source', required=True)
    destination = _text(kwargs, 'destination', required=True)
    max_bytes = int(_number(kwargs, 'max_bytes', 64 * 1024 * 1024, minimum=1))

    def body(api: Any, cid: str) -> tuple[str, Any]:
        files = actions.copy_from(api, cid, source, destination, max_bytes)
        return f'copied {source} to {destination} ({len(files)} entries)', {'files': files}

    _action(ctx, 'copy_from', kwargs, DEFAULT_TIMEOUT).run(body)


# ---------------------------------------------------------------- waiting
def wait_ready(ctx: Any, config: Any, container_id: str, spec: waits.WaitSpec,
               name: str) -> Any:
    """Wait in this worker, or (``async``) look once and hand back to Cloudify.

    Asynchronously the deadline lives in runtime properties, so the timeout
    holds across retries; each retry is one look.
    """
    record_key = f'{name}_wait' if name != 'wait' else 'wait'
    deadline_key = f'_{name}_deadline'
    with engine(ctx, {}, config) as client:
        api = client.api
        if not spec.run_async:
            seen = waits.wait(api, container_id, spec, ctx.logger.info)
        else:
            props = ctx.instance.runtime_properties
            deadline = props.get(deadline_key)
            if deadline is None:
                deadline = time.time() + spec.timeout
                persist(ctx, **{deadline_key: deadline})
            seen = waits.probe(api, container_id, spec)
            if not seen.done:
                if time.time() >= deadline:
                    drop(ctx, deadline_key)
                    raise actions.ActionTimeout(
                        f'container {container_id[:12]} was not ready after {spec.timeout:g}s: '
                        f'waited for it {spec.describe()}, last saw: {seen.seen}')
                return ctx.operation.retry(
                    f'waiting for container {container_id[:12]} {spec.describe()}: {seen.seen}',
                    retry_after=spec.interval)
            drop(ctx, deadline_key)
    data = {'condition': spec.condition, 'seen': seen.seen}
    if spec.condition == 'exited':
        data.update(exit_code=seen.exit_code, logs=seen.logs)
        persist(ctx, state='exited', exit_code=seen.exit_code)
    persist(ctx, **{record_key: result(0, f'ready: {seen.seen}', data)})
    ctx.logger.info('Container %s is ready: %s', container_id[:12], seen.seen)
    return None
