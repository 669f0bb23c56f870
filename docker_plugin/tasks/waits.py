"""The one resumable wait of every operation that waits.

An operation that changed something and must see it take hold (a container
ready, a service converged, a swarm node's role, a compose project healthy)
waits through ``run``: held in this worker (sleeping between looks) or, with
``poll``, one look per Cloudify retry so no worker is held. Either way the
wait's state (its deadline and what the look remembers) is kept in one
runtime property, ``_wait_<name>``, for as long as it lasts: a retry of the
same operation resumes it (``resume``), so its timeout holds across retries
and a retried operation never sends its change twice; a held wait broken by
passing engine trouble resumes the same way. The state goes when the wait
ends, whatever the end.

    state = waits.resume(ctx, 'update')
    if state is None:
        ...send the change...
        state = waits.begin(ctx, 'update', timeout, {'baseline': ...})
    outcome = waits.run(ctx, 'update', state, look, 'service web to converge', mode)
    if isinstance(outcome, waits.Retry):
        return outcome.request(ctx)
    outcome.value  # what the look found
"""

from __future__ import annotations

import time
from typing import Any, Union

from docker_plugin import records
from docker_plugin.errors import PluginError
from docker_plugin.resources import waiting
from docker_plugin.resources.waiting import Done, Look, WaitState
from docker_plugin.tasks.context import drop, persist
from docker_plugin.tasks.ctx import Ctx

PREFIX = '_wait_'
MIN_RETRY_AFTER = 1.0
RETRIES_PER_WAIT = 100  # polling: the retry interval stretches so ~100 retries cover it


@records.record(frozen=True)
class Mode:
    """How to wait: hold the worker, or ``poll`` through Cloudify's retries; ``quiet``:
    seconds between progress lines that say nothing new."""

    poll: bool = False
    interval: float = 0.5
    quiet: float = waiting.QUIET_PROGRESS


@records.record(frozen=True)
class Retry:
    """Not done yet, and waiting through retries: the operation returns ``request``."""

    message: str
    after: float

    def request(self, ctx: Ctx) -> Any:
        return ctx.operation.retry(self.message, retry_after=self.after)


Outcome = Union[Done[Any], Retry]


def key(name: str) -> str:
    """The runtime property that holds the wait ``name``."""
    return f'{PREFIX}{name}'


def resume(ctx: Ctx, name: str) -> WaitState | None:
    """The wait a previous try of this very operation left, if this is a retry."""
    retry = getattr(getattr(ctx, 'operation', None), 'retry_number', 0) or 0
    if not retry:
        return None
    return WaitState.of(ctx.instance.runtime_properties.get(key(name)))


def begin(ctx: Ctx, name: str, timeout: float, data: dict[str, Any] | None = None) -> WaitState:
    """Start the wait ``name`` now (kept at once, so a retry finds it)."""
    state = waiting.start(timeout, data)
    persist(ctx, **{key(name): state.as_dict()})
    return state


def active(ctx: Ctx, name: str) -> bool:
    """This is a retry of an operation whose wait ``name`` is under way."""
    return resume(ctx, name) is not None


def unfinished(ctx: Ctx, name: str) -> bool:
    """The wait ``name`` goes on through Cloudify's retries (``run`` just answered
    ``Retry``): its state is kept until it ends, whatever the end."""
    return key(name) in ctx.instance.runtime_properties


def abandon(ctx: Ctx, name: str) -> None:
    """End the wait ``name`` before it ran (what it waits for failed to begin)."""
    drop(ctx, key(name))


def run(ctx: Ctx, name: str, state: WaitState, look: Look, what: str,
        mode: Mode = Mode(), late: waiting.Late | None = None) -> Outcome:
    """Wait as ``mode`` says: ``Done`` when it happened, ``Retry`` while polling.

    Raises:
        TimeoutExpired: not done by the deadline.
        PluginError: what the look raised (the wait is over, unless the trouble
            is passing: then a retry of the operation resumes it).
    """
    try:
        if mode.poll:
            outcome = waiting.once(look, state, what, ctx.logger.info, late=late,
                                   quiet=mode.quiet)
            if not isinstance(outcome, Done):
                persist(ctx, **{key(name): state.as_dict()})
                left = max(0.0, state.deadline - time.time())
                return Retry(f'waiting for {what}: {outcome.seen}',
                             max(MIN_RETRY_AFTER, mode.interval, left / RETRIES_PER_WAIT))
        else:
            outcome = waiting.hold(look, state, what, mode.interval, ctx.logger.info,
                                   late=late, quiet=mode.quiet)
    except PluginError as exc:
        if exc.recoverable is True:  # passing trouble: the operation's retry resumes
            persist(ctx, **{key(name): state.as_dict()})
        else:
            drop(ctx, key(name))
        raise
    except BaseException:
        drop(ctx, key(name))
        raise
    drop(ctx, key(name))
    return outcome
