"""Convergence waits in service operations: held in this worker, or through retries.

Every operation that changes a service (start, update, scale, rollback, and a
Secret or Config moving its services) hands the change's baseline to
``converge``. Synchronously it polls until done; with ``converge.async`` it
looks once per Cloudify retry, the wait's state (deadline, baseline, when
convergence was first seen) kept in the ``_converge`` runtime property, so
the timeout and the monitor hold survive retries and a retried operation
never sends its change twice. A synchronous wait keeps it too: when the
engine cannot be reached for a moment (a RecoverableError), the operation's
retry resumes the same wait instead of finding nothing left to change.
"""

from __future__ import annotations

import datetime
import time
from typing import Any, Mapping

from docker_plugin.errors import PluginError
from docker_plugin.options.service import SERVICE_WAIT
from docker_plugin.options.service_values import batches
from docker_plugin.resources.swarm import convergence
from docker_plugin.resources.swarm.service_wait import WaitState, poll, wait
from docker_plugin.tasks.context import drop, persist, record_result, resolve_input

STATE_KEY = '_converge'
MIN_RETRY_AFTER = 1.0
RETRIES_FOR_TIMEOUT = 100  # async: the retry interval stretches so ~100 retries cover it


def options(ctx: Any, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    return SERVICE_WAIT.parse(resolve_input(ctx, kwargs, 'converge'), 'converge')


def default_timeout(spec: Mapping[str, Any], replicas: int | None = None) -> float:
    """120 s, plus for each update batch its delay, its monitor window and 30 s."""
    update = spec.get('UpdateConfig') or {}
    count = replicas if replicas is not None else int(
        ((spec.get('Mode') or {}).get('Replicated') or {}).get('Replicas') or 1)
    per_batch = ((update.get('Delay') or 0) / 1e9 + convergence.monitor_seconds(spec) + 30)
    return 120.0 + batches(count, int(update.get('Parallelism', 1) or 0)) * per_batch


def pending(ctx: Any, operation: str) -> WaitState | None:
    """The wait a previous try of this very operation left (a retry)."""
    data = ctx.instance.runtime_properties.get(STATE_KEY)
    retry = getattr(getattr(ctx, 'operation', None), 'retry_number', 0) or 0
    if isinstance(data, dict) and data.get('operation') == operation and retry > 0:
        return WaitState.of(data)
    return None


def begin(ctx: Any, operation: str, before: Mapping[str, Any] | None, spec: Mapping[str, Any],
          settings: Mapping[str, Any], expect_rollback: bool = False) -> WaitState:
    """Start a wait for the change just sent (``before``: the service just before it)."""
    timeout = settings.get('timeout') or default_timeout(spec)
    baseline = None if before is None else (
        (before.get('UpdateStatus') or {}).get('StartedAt') or '')
    state = WaitState(deadline=time.time() + float(timeout), baseline=baseline,
                      expect_rollback=expect_rollback)
    if settings.get('wait'):
        persist(ctx, **{STATE_KEY: {'operation': operation, **state.as_dict()}})
    return state


def converge(ctx: Any, api: Any, service_id: str, state: WaitState,
             settings: Mapping[str, Any], operation: str) -> Any:
    """Wait (or look once, asynchronously): the Outcome once converged; None when
    not waiting; Cloudify's retry request (for the operation to return) while waiting.

    Raises:
        ConvergenceFailed: paused or rolled back (the service is kept).
        TimeoutExpired: not converged in time (with the failing tasks' errors).
    """
    if not settings.get('wait'):
        return None
    log = ctx.logger.info
    try:
        if not settings.get('async'):
            outcome = wait(api, service_id, state, log, settings['interval'],
                           settings['log_lines'])
        else:
            outcome = poll(api, service_id, state, log, settings['log_lines'])
            if not outcome.done:
                persist(ctx, **{STATE_KEY: {'operation': operation, **state.as_dict()}})
                remaining = max(0.0, state.deadline - time.time())
                return ctx.operation.retry(
                    f'waiting for the service to converge: {state.last}',
                    retry_after=max(MIN_RETRY_AFTER, settings['interval'],
                                    remaining / RETRIES_FOR_TIMEOUT))
    except PluginError as exc:
        if exc.recoverable is not True:  # a passing fault: the retry resumes this wait
            drop(ctx, STATE_KEY)
        raise
    except BaseException:
        drop(ctx, STATE_KEY)
        raise
    drop(ctx, STATE_KEY)
    at = datetime.datetime.fromtimestamp(outcome.converged_at or time.time(),
                                         datetime.timezone.utc)
    record_result(ctx, 'converged', 0, f'converged: {outcome.look.describe()}', {
        'operation': operation, 'converged_at': at.isoformat(timespec='milliseconds'),
        'tasks': outcome.look.done})
    ctx.logger.info('Service converged: %s', outcome.look.describe())
    return outcome
