"""Waiting for a service to converge, and saying why it did not.

The wait is the one of ``resources.waiting`` with ``look`` as its look: one
look (``convergence.look``) at the service, its up-to-date tasks and the
nodes; converged looks must hold for the update's monitor window (a task
failing inside it starts the window again); jobs need no hold. ``wait`` polls
like the docker CLI (every ``interval``, 0.2 s by default) in this process;
the task layer (``tasks.service.converge``) runs the same look held or
through Cloudify's retries. Failures keep the service and quote the failing
tasks' errors and the last lines of their logs.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from docker_plugin import records
from docker_plugin.errors import PluginError, StateError
from docker_plugin.resources import waiting
from docker_plugin.resources.engine_api import EngineApi
from docker_plugin.resources.swarm import convergence, service_logs, services

Log = Callable[[str], None]
REPORT_TASKS = 3
LOG_EVERY = 10.0  # seconds between progress lines that only repeat the count


def _progress(text: str) -> str:
    """The part of a progress line that is worth a new log line when it changes."""
    return text.split(';')[0]


class ConvergenceFailed(StateError):
    """The service cannot converge (paused, rolled back); it is kept as it is."""


@records.record(frozen=True)
class Converged:
    """What a finished convergence wait found."""

    look: convergence.Look
    converged_at: float | None  # when convergence was first seen (time.time())


def begin(timeout: float, baseline: str | None = None, expect_rollback: bool = False,
          clock: Callable[[], float] = time.time) -> waiting.WaitState:
    """A convergence wait's state: ``baseline`` is the service's ``UpdateStatus.StartedAt``
    just before the change (None: no update to wait for), kept with what the looks learn
    (when convergence was first seen, why the engine paused or rolled back)."""
    return waiting.start(timeout, {'baseline': baseline, 'expect_rollback': expect_rollback,
                                   'converged_at': None, 'max_failures': 0, 'cause': ''},
                         clock=clock)


def look(api: EngineApi, service_id: str, log: Log, lines: int = 20,
         now: Callable[[], float] = time.time) -> waiting.Look:
    """The convergence wait as a look of ``resources.waiting``: Done(Converged) once
    the service runs its spec everywhere and has held it for the monitor window.

    Raises (from the look):
        ConvergenceFailed: paused or rolled back (the service is kept).
    """
    def once(state: waiting.WaitState) -> waiting.Done[Converged] | waiting.Pending:
        data = state.data
        service = services.require(api, service_id)
        seen = convergence.look(service, services.tasks(api, service_id, current_only=True),
                                services.nodes(api), data.get('baseline'),
                                bool(data.get('expect_rollback')), data.get('max_failures'))
        name = (service.get('Spec') or {}).get('Name', service_id)
        data['name'] = name
        text = seen.describe()
        at = now()
        update_state, message = seen.update
        if update_state in ('rollback_started', 'paused', 'rollback_paused') and message and \
                not data.get('cause'):
            data['cause'] = message
        cause = data.get('cause') or ''
        rolled_back = seen.update[0] == 'rollback_completed' and not data.get('expect_rollback')
        if seen.failure and rolled_back and seen.done != seen.wanted and at < state.deadline:
            return waiting.Pending(text, _progress(text))  # fail once the previous spec runs
        if seen.failure:
            because = f' ({cause})' if cause and cause not in seen.failure else ''
            raise ConvergenceFailed(f'service {name}: {seen.failure}{because}\n'
                                    f'{report(api, service, lines, cause)}')
        if not seen.converged:
            if data.get('converged_at') is not None:
                log(f'Service {name}: a task failed while holding; waiting again')
            data['converged_at'] = None
        else:
            if data.get('converged_at') is None:
                data['converged_at'] = at
            hold = 0.0 if seen.mode.endswith('job') else convergence.monitor_seconds(
                service.get('Spec') or {})
            if at - data['converged_at'] >= hold:
                return waiting.Done(Converged(seen, data['converged_at']))
        return waiting.Pending(text, _progress(text))
    return once


def late(api: EngineApi, service_id: str, lines: int = 20) -> waiting.Late:
    """What a convergence wait says when its deadline passed: what it saw, and the
    failing tasks' errors and last log lines."""
    return lambda state: (f'service {state.data.get("name") or service_id[:25]} did not '
                          f'converge in time: {state.seen}\n'
                          f'{report(api, {"ID": service_id}, lines)}').rstrip()


def describe(state: waiting.WaitState, service_id: str) -> str:
    return f'service {state.data.get("name") or service_id[:25]} to converge'


def wait(api: EngineApi, service_id: str, state: waiting.WaitState, log: Log, interval: float = 0.2,
         lines: int = 20, sleep: Callable[[float], None] = time.sleep,
         now: Callable[[], float] = time.time) -> Converged:
    """Poll like the docker CLI until converged (held for the monitor window), failed
    or out of time (held here; the task layer's resumable wait uses ``look``)."""
    return waiting.hold(look(api, service_id, log, lines, now), state,
                        describe(state, service_id), interval, log, now, sleep,
                        late(api, service_id, lines), LOG_EVERY).value


def report(api: EngineApi, service: dict[str, Any], lines: int = 20, cause: str = '') -> str:
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
