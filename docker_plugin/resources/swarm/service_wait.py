"""Waiting for a service to converge, and saying why it did not.

``wait`` polls like the docker CLI (every ``interval``, 0.2 s by default):
one look (``convergence.look``) at the service, its up-to-date tasks and the
nodes; converged looks must hold for the update's monitor window (a task
failing inside it starts the window again); jobs need no hold. The loop is
bounded by its deadline and by a count. ``poll`` is one step of the same,
for waits held across Cloudify retries (its state is a small dict the
caller keeps). Failures keep the service and quote the failing tasks'
errors and the last lines of their logs.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any, Callable

from docker_plugin.errors import PluginError, StateError, TimeoutExpired
from docker_plugin.resources.swarm import convergence, service_logs, services

Log = Callable[[str], None]
REPORT_TASKS = 3
LOG_EVERY = 10.0  # seconds between progress lines that only repeat the count


def _progress(text: str) -> str:
    """The part of a progress line that is worth a new log line when it changes."""
    return text.split(';')[0]


class ConvergenceFailed(StateError):
    """The service cannot converge (paused, rolled back); it is kept as it is."""


@dataclasses.dataclass
class WaitState:
    """What a wait carries between looks (and, asynchronously, between retries)."""

    deadline: float                 # time.time() when the wait gives up
    baseline: str | None = None     # UpdateStatus.StartedAt before the change
    expect_rollback: bool = False
    converged_at: float | None = None  # time.time() of the first converged look in a row
    max_failures: int | None = 0    # see convergence.look
    cause: str = ''                 # why the engine paused or rolled back the update
    last: str = ''                  # the last progress line logged
    logged_at: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def of(cls, data: dict[str, Any]) -> WaitState:
        return cls(**{f.name: data.get(f.name) for f in dataclasses.fields(cls)
                      if f.name in data})


@dataclasses.dataclass(frozen=True)
class Outcome:
    done: bool
    look: convergence.Look
    converged_at: float | None  # when convergence was first seen (time.time())


def poll(api: Any, service_id: str, state: WaitState, log: Log, lines: int = 20,
         now: Callable[[], float] = time.time) -> Outcome:
    """One look; raises when the service failed or the deadline passed."""
    service = services.require(api, service_id)
    look = convergence.look(service, services.tasks(api, service_id, current_only=True),
                            services.nodes(api), state.baseline, state.expect_rollback,
                            state.max_failures)
    name = (service.get('Spec') or {}).get('Name', service_id)
    text = look.describe()
    at = now()
    if _progress(text) != _progress(state.last) or at - state.logged_at >= LOG_EVERY:
        log(f'Service {name}: {text}')
        state.logged_at = at
    state.last = text
    update_state, message = look.update
    if update_state in ('rollback_started', 'paused', 'rollback_paused') and message and \
            not state.cause:
        state.cause = message
    rolled_back = look.update[0] == 'rollback_completed' and not state.expect_rollback
    if look.failure and rolled_back and look.done != look.wanted and now() < state.deadline:
        return Outcome(False, look, None)  # fail once the previous spec runs again
    if look.failure:
        cause = f' ({state.cause})' if state.cause and state.cause not in look.failure else ''
        raise ConvergenceFailed(f'service {name}: {look.failure}{cause}\n'
                                f'{report(api, service, lines, state.cause)}')
    if not look.converged:
        if state.converged_at is not None:
            log(f'Service {name}: a task failed while holding; waiting again')
        state.converged_at = None
    else:
        if state.converged_at is None:
            state.converged_at = at
        hold = 0.0 if look.mode.endswith('job') else convergence.monitor_seconds(
            service.get('Spec') or {})
        if at - state.converged_at >= hold:
            return Outcome(True, look, state.converged_at)
    if at >= state.deadline:
        raise TimeoutExpired(f'service {name} did not converge in time: {text}\n'
                             f'{report(api, service, lines)}')
    return Outcome(False, look, state.converged_at)


def wait(api: Any, service_id: str, state: WaitState, log: Log, interval: float = 0.2,
         lines: int = 20, sleep: Callable[[float], None] = time.sleep,
         now: Callable[[], float] = time.time) -> Outcome:
    """Poll until converged (held for the monitor window), failed or out of time."""
    looks = int(max(0.0, state.deadline - now()) / max(interval, 0.01)) + 50
    for _ in range(looks):
        outcome = poll(api, service_id, state, log, lines, now)
        if outcome.done:
            return outcome
        sleep(max(0.0, min(interval, state.deadline - now())))
    raise TimeoutExpired(f'service {service_id[:25]} did not converge in {looks} looks: '
                         f'{state.last}')


def report(api: Any, service: dict[str, Any], lines: int = 20, cause: str = '') -> str:
    """The failing tasks' errors and last log lines ('' when none can be read); a task
    the engine named as the cause comes first."""
    try:
        found = services.ps(api, service['ID'], limit=50)
    except PluginError:
        return ''
    named = [t for t in found if t['id'] and t['id'] in cause]
    failing = named + [t for t in found if t not in named and (
        t['error'] or t['state'] in ('failed', 'rejected'))]
    if not failing:
        return ''
    out = ['failing tasks (newest first):']
    for task in failing[:REPORT_TASKS]:
        code = f', exit code {task["exit_code"]}' if task['exit_code'] is not None else ''
        error = task['error'] or ('ended before it was stopped' if task['state'] == 'complete'
                                  else '-')
        out.append(f'- task {task["id"][:12]} on {task["node"] or "no node"} (slot '
                   f'{task["slot"]}): {task["state"]}{code}: {error}')
        if lines:
            text = service_logs.read(api, 'tasks', task['id'], lines, max_bytes=4000,
                                     timeout=10, quiet=True).text().rstrip()
            if text:
                out += [f'    {line}' for line in text.splitlines()[-lines:]]
    return '\n'.join(out)
