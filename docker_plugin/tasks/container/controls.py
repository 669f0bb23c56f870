"""Operations that drive a running container: ``docker.interfaces.container``.

Each validates its inputs with its table in ``options.actions`` before
touching the engine, enforces its own ``timeout``, and records a result
(exit code, message, data) in runtime properties under its own name,
bounded and redacted; the message and the action's output (a table, log
lines, an exec's stdout and stderr) go to the event stream too
(``context.report_action``). State-changing actions refresh the properties
that describe the container (name, state, ip, networks, ports).
"""

from __future__ import annotations

import time
from typing import Any, Callable, Mapping

from docker_plugin import records, results
from docker_plugin.errors import InvalidInputError, NotFoundError, StateError
from docker_plugin.options.actions import ACTIONS
from docker_plugin.options.base import Update
from docker_plugin.options.container import CONTAINER
from docker_plugin.options.units import approximate_size
from docker_plugin.resources.container import containers, controls, reports
from docker_plugin.resources.container import logs as container_logs
from docker_plugin.resources.container.probes import WaitSpec
from docker_plugin.resources.engine_api import EngineApi
from docker_plugin.results import count, table
from docker_plugin.tasks.container.readiness import wait_ready
from docker_plugin.tasks.context import (
    daemon_config,
    engine,
    learn_container_secrets,
    persist,
    report_action,
)
from docker_plugin.tasks.ctx import Ctx
from docker_plugin.tasks.operation import operation

CONTAINER_COLUMNS = (('name', 'NAME'), ('image', 'IMAGE'), ('state', 'STATE'),
                     ('status', 'STATUS'))
IMAGE_COLUMNS = (('id', 'ID'), ('tags', 'TAGS'), ('size', 'SIZE'))


class ActionRun:
    """One action: its validated inputs, client config, deadline, and its result."""

    def __init__(self, ctx: Ctx, name: str, kwargs: Mapping[str, Any]):
        self.ctx = ctx
        self.name = name
        inputs = {k: v for k, v in kwargs.items() if k != 'daemon_client'}
        self.inputs = ACTIONS[name].parse(inputs)
        self.timeout = float(self.inputs['timeout'])
        self.deadline = time.monotonic() + self.timeout
        config = daemon_config(ctx, kwargs)
        # No single engine call may outlive the action.
        self.config = records.replace(config, timeout=min(config.timeout, self.timeout + 5))
        self.container_id: str = ctx.instance.runtime_properties.get('container_id') or ''

    def run(self, body: Callable[[Any, str], tuple[str, Any]], refresh: bool = False,
            needs_container: bool = True, output: Callable[[Any], str] | None = None) -> Any:
        """Run ``body(api, container id) -> (message, data)``, keep its result and show
        it: the message, and ``output(data)`` below it when given (what a person reads
        of the action's output)."""
        if needs_container and not self.container_id:
            raise StateError('no container recorded for this instance')
        with engine(self.ctx, {}, self.config) as client:
            api = client.api
            if needs_container and self.ctx.instance.runtime_properties.get('secret_env_names'):
                learn_container_secrets(self.ctx, self._inspect(api))
            try:
                message, data = body(api, self.container_id)
            except NotFoundError:
                raise StateError(f'container {self.container_id} no longer exists') from None
            if refresh:
                persist(self.ctx, **reports.summarise(self._inspect(api)))
        exit_code = data.get('exit_code', 0) if isinstance(data, dict) else 0
        self.record(exit_code or 0, message, data, output(data) if output else '')
        # The raw data, for the operation's own decisions (an exit code, a marker in
        # stderr); what a person sees is what record kept (bounded, output masked).
        return data

    def _inspect(self, api: EngineApi) -> dict[str, Any]:
        info = containers.inspect(api, self.container_id)
        if info is None:
            raise StateError(f'container {self.container_id} no longer exists')
        return info

    def record(self, exit_code: int, message: str, data: Any, output: str = '') -> Any:
        """Keep the result and show it; returns its data as kept (bounded, output
        masked)."""
        return report_action(self.ctx, self.name, exit_code, message, data, output)


def _wait(action: ActionRun, key: str = 'wait_for') -> WaitSpec | None:
    values = action.inputs.get(key)
    return WaitSpec.of(values) if values else None


# ------------------------------------------------------------------ look
@operation
def inspect(ctx: Ctx, **kwargs: Any) -> None:
    """Inspect: state, networks, ports, config (environment names only, no values)."""
    def body(api: EngineApi, cid: str) -> tuple[str, Any]:
        data = reports.inspected(containers.require(api, cid))
        return f"container {data['container_name']} is {data['state']}", data

    ActionRun(ctx, 'inspect', kwargs).run(body, refresh=True, output=lambda data: '\n'.join(
        reports.describe(data)))


@operation
def list_containers(ctx: Ctx, **kwargs: Any) -> None:
    """Containers on the engine, with ``filters`` (e.g. {label: [k=v]}) and ``all``."""
    action = ActionRun(ctx, 'list_containers', kwargs)
    found_inputs = action.inputs

    def body(api: EngineApi, _: str) -> tuple[str, Any]:
        found = controls.list_containers(api, found_inputs['filters'], found_inputs['all'],
                                         found_inputs['limit'])
        return count(len(found), 'container'), {'containers': found}

    action.run(body, needs_container=False, output=lambda data: table(
        data['containers'], CONTAINER_COLUMNS))


@operation
def list_images(ctx: Ctx, **kwargs: Any) -> None:
    """Images on the engine, by ``name`` and ``filters``."""
    action = ActionRun(ctx, 'list_images', kwargs)
    given = action.inputs

    def body(api: EngineApi, _: str) -> tuple[str, Any]:
        found = controls.list_images(api, given['name'], given['filters'], given['limit'])
        return count(len(found), 'image'), {'images': found}

    action.run(body, needs_container=False, output=lambda data: table(
        [{**image, 'id': image['id'].split(':')[-1][:12], 'size': approximate_size(image['size'])}
         for image in data['images']], IMAGE_COLUMNS))


@operation
def top(ctx: Ctx, **kwargs: Any) -> None:
    """The process table."""
    def body(api: EngineApi, cid: str) -> tuple[str, Any]:
        found = containers.top(api, cid)
        if found is None:
            raise StateError(f'container {cid[:12]} is not running: no processes to list')
        processes = found.get('Processes') or []
        return count(len(processes), 'process'), {'titles': found.get('Titles'),
                                                  'processes': processes}

    ActionRun(ctx, 'top', kwargs).run(body, output=lambda data: reports.format_top(
        {'Titles': data['titles'], 'Processes': data['processes']}))


@operation
def logs(ctx: Ctx, **kwargs: Any) -> None:
    """Logs: ``tail`` (lines or 'all'), ``since``/``until`` (unix time), ``timestamps``,
    ``stdout``, ``stderr``; only the last 64 KB are kept, however much there is."""
    action = ActionRun(ctx, 'logs', kwargs)
    given = action.inputs

    def body(api: EngineApi, cid: str) -> tuple[str, Any]:
        kept = container_logs.read(api, cid, tail=given['tail'], since=given['since'],
                         until=given['until'], timestamps=given['timestamps'],
                         stdout=given['stdout'], stderr=given['stderr'],
                         deadline=action.deadline)
        return results.logs(kept.text(), kept.total)

    action.run(body, output=lambda data: data['logs'])


@operation
def stats(ctx: Ctx, **kwargs: Any) -> None:
    """A resource snapshot: CPU %, memory, network and block IO, processes."""
    def body(api: EngineApi, cid: str) -> tuple[str, Any]:
        data = controls.stats(api, cid)
        return (f"cpu {data['cpu_percent']}%, memory {approximate_size(data['memory_usage'])} "
                f"of {approximate_size(data['memory_limit'])}, "
                f"{count(data['pids'], 'process')}"), data

    ActionRun(ctx, 'stats', kwargs).run(body, output=lambda data: '\n'.join((
        f"network: {approximate_size(data['network_rx_bytes'])} received, "
        f"{approximate_size(data['network_tx_bytes'])} sent",
        f"block IO: {approximate_size(data['block_read_bytes'])} read, "
        f"{approximate_size(data['block_write_bytes'])} written")))


# ---------------------------------------------------------------- change state
def _state_action(ctx: Ctx, name: str, kwargs: Mapping[str, Any],
                  call: Callable[[Any, str, Mapping[str, Any]], object],
                  message: str) -> ActionRun:
    action = ActionRun(ctx, name, kwargs)

    def body(api: EngineApi, cid: str) -> tuple[str, Any]:
        call(api, cid, action.inputs)
        return message.format(cid=cid[:12], **action.inputs), {}

    action.run(body, refresh=True)
    return action


@operation
def pause(ctx: Ctx, **kwargs: Any) -> None:
    """Freeze every process of the container (a stopped one cannot be paused)."""
    _state_action(ctx, 'pause', kwargs, lambda api, cid, _: controls.pause(api, cid),
                  'container {cid} paused')


@operation
def unpause(ctx: Ctx, **kwargs: Any) -> None:
    """Thaw a paused container."""
    _state_action(ctx, 'unpause', kwargs, lambda api, cid, _: controls.unpause(api, cid),
                  'container {cid} unpaused')


@operation
def kill(ctx: Ctx, **kwargs: Any) -> None:
    """Send a signal (``signal``, default SIGKILL)."""
    _state_action(ctx, 'kill', kwargs, lambda api, cid, i: controls.kill(api, cid, i['signal']),
                  'sent {signal} to container {cid}')


@operation
def rename(ctx: Ctx, **kwargs: Any) -> None:
    """Give the container a new ``name``."""
    _state_action(ctx, 'rename', kwargs, lambda api, cid, i: controls.rename(api, cid, i['name']),
                  'container {cid} is now named {name}')


@operation
def stop(ctx: Ctx, **kwargs: Any) -> None:
    """Stop (``stop_timeout``: seconds before the engine kills it)."""
    _state_action(ctx, 'stop', kwargs,
                  lambda api, cid, i: containers.stop(api, cid, i['stop_timeout']),
                  'container {cid} stopped')


@operation
def start(ctx: Ctx, **kwargs: Any) -> Any:
    """Start, then wait as ``wait_for`` says (see the README's readiness waits)."""
    action = _state_action(ctx, 'start', kwargs,
                           lambda api, cid, _: containers.start(api, cid),
                           'container {cid} started')
    spec = _wait(action)
    return wait_ready(ctx, action.config, action.container_id, spec, 'start') if spec else None


@operation
def restart(ctx: Ctx, **kwargs: Any) -> Any:
    """Restart (``stop_timeout`` before killing), then wait as ``wait_for`` says."""
    action = _state_action(ctx, 'restart', kwargs,
                           lambda api, cid, i: controls.restart(api, cid, i['stop_timeout']),
                           'container {cid} restarted')
    spec = _wait(action)
    return wait_ready(ctx, action.config, action.container_id, spec, 'restart') if spec else None


@operation
def update(ctx: Ctx, **kwargs: Any) -> None:
    """Change resources and restart policy in place (``resources``: a dict of the
    options the engine's update call takes)."""
    action = ActionRun(ctx, 'update', kwargs)
    parts = CONTAINER.validate(action.inputs['resources'], 'resources')
    options = {name: value for section, found in parts.items() if section != 'extra'
               for name, value in found.items()}
    fixed = [k for k in options if CONTAINER.options[k].update is not Update.UPDATE_CALL]
    if fixed or not options:
        updatable = sorted(o.name for o in CONTAINER if o.update is Update.UPDATE_CALL)
        raise InvalidInputError(f'resources.{fixed[0]}' if fixed else 'resources',
                                f'cannot change in place; updatable: {", ".join(updatable)}')
    zero = [k for k in options if not controls.applies_in_place(k, options[k])]
    if zero:
        raise InvalidInputError(f'resources.{zero[0]}', "the engine's update call leaves a "
                                                        'zero (or empty) value as it was: it '
                                                        'needs a new container')

    def body(api: EngineApi, cid: str) -> tuple[str, Any]:
        warnings = controls.update(api, cid, controls.update_body(options))
        return f'updated {", ".join(sorted(options))}', {'warnings': warnings}

    action.run(body, refresh=True)
