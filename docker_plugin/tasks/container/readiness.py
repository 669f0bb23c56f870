"""Readiness waits of a container's operations: the one resumable wait (``tasks.waits``)
with the container's probes (``resources.container.probes``) as its look."""

from __future__ import annotations

from typing import Any

from docker_plugin.client import DaemonClientConfig
from docker_plugin.options.lifecycle import wait_for
from docker_plugin.resources.container import probes
from docker_plugin.tasks import waits
from docker_plugin.tasks.confine import probe_guard
from docker_plugin.tasks.context import (
    engine,
    is_local,
    persist,
    record_result,
    resolve_input,
)
from docker_plugin.tasks.ctx import Ctx


def wait_spec(ctx: Ctx, kwargs: dict[str, Any], field: str = 'wait_for') -> probes.WaitSpec | None:
    values = wait_for(resolve_input(ctx, kwargs, 'wait_for'), field)
    return probes.WaitSpec.of(values) if values else None


def pending(ctx: Ctx, name: str) -> bool:
    """A retry of the operation whose readiness wait ``name`` is under way (polled
    through retries: the container is started already)."""
    return waits.active(ctx, name)


def wait_ready(ctx: Ctx, config: DaemonClientConfig, container_id: str,
               spec: probes.WaitSpec, name: str) -> Any:
    """Wait in this worker, or (``async``) look once and hand back to Cloudify: the one
    resumable wait (``tasks.waits``), so the timeout holds across retries.

    A container seen ending as the wait expects (``exited``, or ``ready`` and
    completed) is recorded as completed (``completed_exit_code``): ``check_status``
    then counts it healthy.
    """
    record_key = f'{name}_wait' if name != 'wait' else 'wait'
    host = None if is_local(config) else config.host
    guard = probe_guard(ctx, config)  # on a manager: never the manager's own host
    state = waits.resume(ctx, name) or waits.begin(ctx, name, spec.timeout)
    with engine(ctx, {}, config) as client:
        outcome = waits.run(ctx, name, state,
                            probes.look(client.api, container_id, spec, host, guard),
                            probes.describe(container_id, spec),
                            waits.Mode(poll=spec.run_async, interval=spec.interval),
                            probes.late(container_id, spec))
    if isinstance(outcome, waits.Retry):
        return outcome.request(ctx)
    seen = outcome.value
    data = {'condition': spec.condition, 'seen': seen.seen}
    if seen.exit_code is not None:  # it ran to completion (exited, or ready and completed)
        data.update(exit_code=seen.exit_code, logs=seen.logs)
        persist(ctx, state='exited', exit_code=seen.exit_code,
                completed_exit_code=seen.exit_code)
    record_result(ctx, record_key, 0, f'ready: {seen.seen}', data)
    ctx.logger.info('Container %s is ready: %s', container_id[:12], seen.seen)
    return None
