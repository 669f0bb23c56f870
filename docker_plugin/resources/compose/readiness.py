"""Whether a compose project is ready: every container running, healthy where it has a
healthcheck, or completed.

The classification is the one ``docker compose up --wait`` makes, and better:
a container that exited 0 under a restart policy that will not start it again,
without a healthcheck in the file, has completed (``resources.completion``),
where compose calls it a failure unless another service waits for its
completion. ``settle`` polls the engine until the project is ready, fails at
once on a failed container, and at its deadline otherwise; ``check_status``
uses the same classification.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Iterable, Mapping, Sequence

from docker_plugin import records
from docker_plugin.errors import StateError
from docker_plugin.resources import completion, waiting
from docker_plugin.resources.compose.state import by_service, containers
from docker_plugin.resources.engine_api import EngineApi


def jobs(model: Mapping[str, Any]) -> list[str]:
    """Services another one waits for to complete: exited 0 is their success."""
    found = set()
    for service in (model.get('services') or {}).values():
        for name, dep in (service.get('depends_on') or {}).items():
            if (dep or {}).get('condition') == 'service_completed_successfully':
                found.add(name)
    return sorted(found)


def may_complete(model: Mapping[str, Any]) -> list[str]:
    """Services whose containers have done their work when they exit 0: the jobs others
    wait for, and every service whose restart policy will not start such a container
    again and whose file gives it no healthcheck (``resources.completion``)."""
    services = model.get('services') or {}
    found = set(jobs(model)) | {
        name for name, service in services.items() if isinstance(service, Mapping) and
        completion.compose_restart(service) in completion.NOT_RESTARTED and
        not completion.compose_healthcheck(service)}
    return sorted(found)


# What a container is, for readiness.
READY, COMPLETED, PENDING, FAILED = 'ready', 'completed', 'pending', 'failed'


def classify(item: Mapping[str, Any], can_complete: bool) -> str:
    """One container (``describe``): ready (running, healthy or without a healthcheck),
    completed (exited 0 and allowed to), pending (created, restarting, health starting)
    or failed (unhealthy, exited otherwise, dead...)."""
    state, health = item['state'], item['health']
    if state == 'running':
        if health in ('', 'healthy'):
            return READY
        return PENDING if health == 'starting' else FAILED
    if state == 'exited' and item['exit_code'] == 0 and can_complete:
        return COMPLETED
    return PENDING if state in ('created', 'restarting') else FAILED


def _words(service: str, item: Mapping[str, Any]) -> str:
    if item['state'] == 'running':
        return f'{service}: container {item["name"]} is {item["health"]}'
    code = f' ({item["exit_code"]})' if item['exit_code'] is not None else ''
    return f'{service}: container {item["name"]} is {item["state"]}{code}'


@records.record
class Readiness:
    """The project's containers against what ``up`` should have made."""

    missing: list[str] = records.field(default_factory=list)  # "web: 1 of 2 containers"
    failed: list[str] = records.field(default_factory=list)
    pending: list[str] = records.field(default_factory=list)
    completed: set[str] = records.field(default_factory=set)  # services
    unstarted: bool = False  # a container was created and never started

    @property
    def problems(self) -> list[str]:
        return self.missing + self.failed + self.pending

    @property
    def done(self) -> bool:
        return not self.problems


def readiness(summary: Mapping[str, Sequence[Mapping[str, Any]]], wanted: Mapping[str, int],
              can_complete: Iterable[str]) -> Readiness:
    """Each wanted service's containers, classified (``classify``)."""
    out = Readiness()
    can_complete = set(can_complete)
    for service, count in sorted(wanted.items()):
        have = summary.get(service, [])
        if len(have) < count:
            out.missing.append(f'{service}: {len(have)} of {count} containers exist')
        for item in have:
            kind = classify(item, service in can_complete)
            if kind == COMPLETED:
                out.completed.add(service)
            elif kind == FAILED:
                out.failed.append(_words(service, item))
            elif kind == PENDING:
                out.pending.append(_words(service, item))
                out.unstarted = out.unstarted or item['state'] == 'created'
    return out


def problems(summary: Mapping[str, Sequence[Mapping[str, Any]]], wanted: Mapping[str, int],
             job_names: Iterable[str]) -> list[str]:
    """Why the project is not healthy (empty: every service is running/healthy, or a job
    in ``job_names`` that completed)."""
    return readiness(summary, wanted, job_names).problems


def look(api: EngineApi, project: str, wanted: Mapping[str, int], can_complete: Iterable[str],
         emit: Callable[[str, str], None]) -> waiting.Look:
    """The project's readiness as a look of ``resources.waiting``: Done(the services
    seen completed) once every wanted container is ready or completed; each container
    said ready or completed once (``state.data['said']``).

    Raises (from the look):
        StateError: a container failed (unhealthy, or exited otherwise).
    """
    jobs = set(can_complete)

    def once(state: waiting.WaitState) -> waiting.Done[set[str]] | waiting.Pending:
        said = state.data.setdefault('said', [])
        summary = by_service(containers(api, project))
        now = readiness(summary, wanted, jobs)
        for service, items in summary.items():
            for item in items:
                kind = classify(item, service in jobs)
                line = f'{service}: container {item["name"]} ' + (
                    'completed (exited 0)' if kind == COMPLETED else
                    (item['health'] or 'running') if kind == READY else '')
                if kind in (READY, COMPLETED) and line not in said:
                    said.append(line)
                    emit('info', line)
        if now.failed:
            raise StateError(f'compose up: {"; ".join(now.failed)}')
        if now.done:
            return waiting.Done(now.completed)
        return waiting.Pending('; '.join(now.problems))
    return once


def late(timeout: float) -> waiting.Late:
    return lambda state: f'compose up: application not healthy after {int(timeout)}s: ' \
                         f'{state.seen}'


def settle(api: EngineApi, project: str, wanted: Mapping[str, int], can_complete: Iterable[str],
           timeout: float, deadline: float, emit: Callable[[str, str], None],
           clock: Callable[[], float] = time.monotonic,
           sleep: Callable[[float], None] = time.sleep,
           interval: float = 0.5) -> set[str]:
    """Wait here until every wanted container is ready or completed; returns the services
    seen completed. (Also after an ``up --wait`` that ended well: it has been seen to end
    at its timeout with a container still "starting"; what the engine says counts.)

    Raises:
        StateError: a container failed (unhealthy, exited otherwise).
        TimeoutExpired: ``deadline`` (a ``clock`` value) passed first; ``timeout`` is
            what the message says.
    """
    state = waiting.WaitState(deadline=deadline, timeout=timeout)
    return waiting.hold(look(api, project, wanted, can_complete, emit), state,
                        f'compose project {project} to be ready', interval, None, clock, sleep,
                        late(timeout)).value


def only_completed(api: EngineApi, project: str, wanted: Mapping[str, int],
                   can_complete: Iterable[str]) -> bool:
    """Whether a failed ``up --wait`` left only completed containers besides ready or
    still starting ones (every container made and started): the plugin then waits for
    the rest itself (``settle``)."""
    now = readiness(by_service(containers(api, project)), wanted, can_complete)
    return bool(now.completed) and not now.failed and not now.missing and not now.unstarted
