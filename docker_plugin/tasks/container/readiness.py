"""Readiness waits in an operation: held in this worker, or polled through retries."""

from __future__ import annotations

import time
from typing import Any

from docker_plugin.client import DaemonClientConfig
from docker_plugin.errors import TimeoutExpired
from docker_plugin.options.lifecycle import wait_for
from docker_plugin.resources.container import probes
from docker_plugin.tasks.confine import probe_guard
from docker_plugin.tasks.context import (
    drop,
    engine,
    is_local,
    persist,
    record_result,
    resolve_input,
)


def wait_spec(ctx: Any, kwargs: dict[str, Any], field: str = 'wait_for') -> probes.WaitSpec | None:
    values = wait_for(resolve_input(ctx, kwargs, 'wait_for'), field)
    return probes.WaitSpec.of(values) if values else None


def _deadline_key(name: str) -> str:
    return f'_{name}_deadline'


def pending(ctx: Any, name: str) -> bool:
    """An asynchronous wait of ``name`` is under way (its deadline is recorded until it
    ends, ready or not)."""
    return ctx.instance.runtime_properties.get(_deadline_key(name)) is not None


def wait_ready(ctx: Any, config: DaemonClientConfig, container_id: str,
               spec: probes.WaitSpec, name: str) -> Any:
    """Wait in this worker, or (``async``) look once and hand back to Cloudify.

    Asynchronously the deadline lives in runtime properties, so the timeout
    holds across retries; each retry is one look. A container seen ending as
    the wait expects (``exited``, or ``ready`` and completed) is recorded as
    completed (``completed_exit_code``): ``check_status`` then counts it healthy.
    """
    record_key = f'{name}_wait' if name != 'wait' else 'wait'
    deadline_key = _deadline_key(name)
    host = None if is_local(config) else config.host
    guard = probe_guard(ctx, config)  # on a manager: never the manager's own host
    with engine(ctx, {}, config) as client:
        api = client.api
        if not spec.run_async:
            seen = probes.wait(api, container_id, spec, ctx.logger.info, host, guard=guard)
        else:
            props = ctx.instance.runtime_properties
            deadline = props.get(deadline_key)
            if deadline is None:
                deadline = time.time() + spec.timeout
                persist(ctx, **{deadline_key: deadline})
            seen = probes.probe(api, container_id, spec, host, guard)
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
    record_result(ctx, record_key, 0, f'ready: {seen.seen}', data)
    ctx.logger.info('Container %s is ready: %s', container_id[:12], seen.seen)
    return None
