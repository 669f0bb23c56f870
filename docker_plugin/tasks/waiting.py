"""Readiness waits in an operation: held in this worker, or polled through retries."""

from __future__ import annotations

import time
from typing import Any

from docker_plugin.client import DaemonClientConfig
from docker_plugin.errors import TimeoutExpired
from docker_plugin.options.lifecycle import wait_for
from docker_plugin.resources import probes
from docker_plugin.results import result
from docker_plugin.tasks.context import drop, engine, is_local, persist, resolve_input


def wait_spec(ctx: Any, kwargs: dict[str, Any], field: str = 'wait_for') -> probes.WaitSpec | None:
    values = wait_for(resolve_input(ctx, kwargs, 'wait_for'), field)
    return probes.WaitSpec.of(values) if values else None


def wait_ready(ctx: Any, config: DaemonClientConfig, container_id: str,
               spec: probes.WaitSpec, name: str) -> Any:
    """Wait in this worker, or (``async``) look once and hand back to Cloudify.

    Asynchronously the deadline lives in runtime properties, so the timeout
    holds across retries; each retry is one look. A container seen ending as
    the wait expects (``exited``, or ``ready`` and completed) is recorded as
    completed (``completed_exit_code``): ``check_status`` then counts it healthy.
    """
    record_key = f'{name}_wait' if name != 'wait' else 'wait'
    deadline_key = f'_{name}_deadline'
    host = None if is_local(config) else config.host
    with engine(ctx, {}, config) as client:
        api = client.api
        if not spec.run_async:
            seen = probes.wait(api, container_id, spec, ctx.logger.info, host)
        else:
            props = ctx.instance.runtime_properties
            deadline = props.get(deadline_key)
            if deadline is None:
                deadline = time.time() + spec.timeout
                persist(ctx, **{deadline_key: deadline})
            seen = probes.probe(api, container_id, spec, host)
            if not seen.done:
                if time.time() >= deadline:
                    drop(ctx, deadline_key)
                    raise TimeoutExpired(
                        f'container {container_id[:12]} was not ready after {spec.timeout:g}s: '
                        f'waited for it {spec.describe()}, last saw: {seen.seen}')
                return ctx.operation.retry(
                    f'waiting for container {container_id[:12]} {spec.describe()}: {seen.seen}',
                    retry_after=spec.interval)
            drop(ctx, deadline_key)
    data = {'condition': spec.condition, 'seen': seen.seen}
    if seen.exit_code is not None:  # it ran to completion (exited, or ready and completed)
        data.update(exit_code=seen.exit_code, logs=seen.logs)
        persist(ctx, state='exited', exit_code=seen.exit_code,
                completed_exit_code=seen.exit_code)
    persist(ctx, **{record_key: result(0, f'ready: {seen.seen}', data)})
    ctx.logger.info('Container %s is ready: %s', container_id[:12], seen.seen)
    return None
