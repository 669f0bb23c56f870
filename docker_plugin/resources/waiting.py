"""One way to wait: look until it is done, out of time or failed.

A wait is a *look*: a function of the wait's state that looks at the engine
once and answers ``Done(value)`` or ``Pending(seen)``, and raises when what it
waits for can no longer happen (a container that exited, a rollout the engine
rolled back). ``hold`` looks until done, sleeping between looks; ``once``
looks a single time (for a wait that goes on through Cloudify's retries).
Both enforce the state's deadline, a wall-clock time so that it holds across
the processes of an operation's retries, and say what was seen last when it
passes. The look keeps what it must remember between looks (a service's
update baseline, when convergence was first seen) in ``state.data``, which
must stay JSON-like: the task layer keeps the state in a runtime property.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Generic, TypeVar, Union

from docker_plugin import records
from docker_plugin.errors import TimeoutExpired

T = TypeVar('T')
# How often a wait that sees no change says so again (seconds).
QUIET_PROGRESS = 30.0


@records.record(frozen=True)
class Done(Generic[T]):
    """What was waited for happened; ``value`` is what the look found."""

    value: T


@records.record(frozen=True)
class Pending:
    """Not yet; ``seen`` says what the look saw, in words. ``gist``, when given, is
    the part of it whose change is worth a new progress line (else all of it)."""

    seen: str
    gist: str | None = None

    @property
    def progress(self) -> str:
        return self.seen if self.gist is None else self.gist


@records.record
class WaitState:
    """What a wait carries from look to look (and between retries)."""

    deadline: float                    # time.time() when the wait gives up
    timeout: float                     # the wait's whole length, for messages
    data: dict[str, Any] = records.field(default_factory=dict)  # the look's memory
    seen: str = ''                     # what the last look saw
    gist: str = ''                     # the part of it a new progress line needs changed
    said_at: float = 0.0               # time.time() of the last progress line

    def as_dict(self) -> dict[str, Any]:
        return records.asdict(self)

    @classmethod
    def of(cls, value: Any) -> WaitState | None:
        """The state kept in a runtime property, or None if that is not one."""
        if not isinstance(value, dict):
            return None
        try:
            return cls(deadline=float(value['deadline']), timeout=float(value['timeout']),
                       data=dict(value.get('data') or {}), seen=str(value.get('seen') or ''),
                       gist=str(value.get('gist') or ''),
                       said_at=float(value.get('said_at') or 0.0))
        except (KeyError, TypeError, ValueError):
            return None


Look = Callable[[WaitState], Union[Done[Any], Pending]]
Log = Callable[[str], None]
Late = Callable[[WaitState], str]  # the whole message when the deadline passed


def start(timeout: float, data: dict[str, Any] | None = None,
          clock: Callable[[], float] = time.time) -> WaitState:
    """A new wait of ``timeout`` seconds from now."""
    return WaitState(deadline=clock() + float(timeout), timeout=float(timeout),
                     data=dict(data or {}))


def once(look: Look, state: WaitState, what: str, log: Log | None = None,
         clock: Callable[[], float] = time.time, late: Late | None = None,
         quiet: float = QUIET_PROGRESS) -> Done[Any] | Pending:
    """Look once; a new sight is logged (and an unchanged one every ``quiet`` seconds).

    Raises:
        TimeoutExpired: still pending at the deadline (``late(state)`` says it, else
            a message that ends with what was seen last).
        PluginError: whatever the look raises (what is waited for cannot happen).
    """
    outcome = look(state)
    if isinstance(outcome, Done):
        return outcome
    now = clock()
    if log is not None and (outcome.progress != state.gist or now - state.said_at >= quiet):
        log(f'waiting for {what}: {outcome.seen}')
        state.said_at = now
    state.seen, state.gist = outcome.seen, outcome.progress
    if now >= state.deadline:
        raise TimeoutExpired(late(state) if late is not None else
                             f'{what}: not done after {state.timeout:g}s; last seen: '
                             f'{outcome.seen}')
    return outcome


def hold(look: Look, state: WaitState, what: str, interval: float, log: Log | None = None,
         clock: Callable[[], float] = time.time,
         sleep: Callable[[float], None] = time.sleep, late: Late | None = None,
         quiet: float = QUIET_PROGRESS) -> Done[Any]:
    """Look until done; between looks sleep ``interval`` (never past the deadline).

    The number of looks is bounded too (by the time left over the interval, plus
    a margin), so a clock that stands still cannot make it loop for ever.
    """
    looks = int(max(0.0, state.deadline - clock()) / max(interval, 0.01)) + 50
    for _ in range(looks):
        outcome = once(look, state, what, log, clock, late, quiet)
        if isinstance(outcome, Done):
            return outcome
        sleep(max(0.0, min(interval, state.deadline - clock())))
    raise TimeoutExpired(late(state) if late is not None else
                         f'{what}: not done after {looks} looks; last seen: {state.seen}')
