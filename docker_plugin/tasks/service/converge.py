"""Convergence waits in service operations: held in this worker, or through retries.

Every operation that changes a service (start, update, scale, rollback, and a
Secret or Config moving its services) hands the change's baseline to
``converge``: the one resumable wait (``tasks.waits``) with the service's
look (``resources.swarm.service_wait``). Synchronously it polls until done;
with ``converge.async`` it looks once per Cloudify retry, the wait's state
(deadline, baseline, when convergence was first seen) kept in the wait's
runtime property, so the timeout and the monitor hold survive retries and a
retried operation never sends its change twice. A synchronous wait keeps it
too: when the engine cannot be reached for a moment (a RecoverableError), the
operation's retry resumes the same wait instead of finding nothing left to
change.
"""

from __future__ import annotations

import datetime
import time
from typing import Any, Mapping

from docker_plugin.options.service import SERVICE_WAIT
from docker_plugin.options.service_values import batches
from docker_plugin.resources.engine_api import EngineApi
from docker_plugin.resources.swarm import convergence, service_wait
from docker_plugin.resources.waiting import Done, WaitState
from docker_plugin.tasks import waits
from docker_plugin.tasks.context import persist, record_result, resolve_input
from docker_plugin.tasks.ctx import Ctx


def options(ctx: Ctx, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    return SERVICE_WAIT.parse(resolve_input(ctx, kwargs, 'converge'), 'converge')


def default_timeout(spec: Mapping[str, Any], replicas: int | None = None) -> float:
    """120 s, plus for each update batch its delay, its monitor window and 30 s."""
    update = spec.get('UpdateConfig') or {}
    count = replicas if replicas is not None else int(
        ((spec.get('Mode') or {}).get('Replicated') or {}).get('Replicas') or 1)
    per_batch = ((update.get('Delay') or 0) / 1e9 + convergence.monitor_seconds(spec) + 30)
    return 120.0 + batches(count, int(update.get('Parallelism', 1) or 0)) * per_batch


def pending(ctx: Ctx, operation: str) -> WaitState | None:
    """The wait a previous try of this very operation left (a retry)."""
    return waits.resume(ctx, operation)


def begin(ctx: Ctx, operation: str, before: Mapping[str, Any] | None, spec: Mapping[str, Any],
          settings: Mapping[str, Any], expect_rollback: bool = False) -> WaitState:
    """Start a wait for the change just sent (``before``: the service just before it)."""
    timeout = settings.get('timeout') or default_timeout(spec)
    baseline = None if before is None else (
        (before.get('UpdateStatus') or {}).get('StartedAt') or '')
    state = service_wait.begin(timeout, baseline, expect_rollback)
    if settings.get('wait'):
        persist(ctx, **{waits.key(operation): state.as_dict()})
    return state


def converge(ctx: Ctx, api: EngineApi, service_id: str, state: WaitState,
             settings: Mapping[str, Any], operation: str) -> Done[Any] | waits.Retry | None:
    """Wait (or look once, asynchronously): Done(Converged) once converged; None when
    not waiting; a ``waits.Retry`` (for the operation to return) while polling.

    Raises:
        ConvergenceFailed: paused or rolled back (the service is kept).
        TimeoutExpired: not converged in time (with the failing tasks' errors).
    """
    if not settings.get('wait'):
        return None
    log = ctx.logger.info
    outcome = waits.run(
        ctx, operation, state, service_wait.look(api, service_id, log, settings['log_lines']),
        service_wait.describe(state, service_id),
        waits.Mode(poll=bool(settings.get('async')), interval=settings['interval'],
                   quiet=service_wait.LOG_EVERY),
        service_wait.late(api, service_id, settings['log_lines']))
    if isinstance(outcome, waits.Retry):
        return outcome
    converged = outcome.value
    at = datetime.datetime.fromtimestamp(converged.converged_at or time.time(),
                                         datetime.timezone.utc)
    record_result(ctx, 'converged', 0, f'converged: {converged.look.describe()}', {
        'operation': operation, 'converged_at': at.isoformat(timespec='milliseconds'),
        'tasks': converged.look.done})
    ctx.logger.info('Service converged: %s', converged.look.describe())
    return outcome
