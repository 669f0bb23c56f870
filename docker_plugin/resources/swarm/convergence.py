"""Has a service converged? One pure look at its spec, tasks and nodes.

The docker CLI's algorithm (``docker service create --detach=false``), for
the four modes, and stricter where the CLI is lenient:

* only tasks running the current spec count (the caller lists them with the
  engine's ``_up-to-date`` filter); tasks on nodes that are Down are ignored;
* replicated: each slot's task (the one with the lowest desired state, then
  the lowest observed state) must run, ``Replicas`` of them; global: every
  node with a current task runs it; replicated-job: ``TotalCompletions`` of
  this job iteration complete; global-job: every node's task of this
  iteration is complete;
* an update that is ``paused`` or ``rollback_paused`` fails, and so does
  one that ends in ``rollback_completed`` (the CLI reports success there);
  only the update this operation started counts (``baseline`` is the
  ``UpdateStatus.StartedAt`` seen before it), so an old failure does not
  fail a later scale;
* tasks that keep failing end a create or scale early, and so do tasks that
  ended under a restart policy of condition ``none`` (nothing starts others);
* the hold for the update's monitor window is the waiter's (this is one look).
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from docker_plugin import records

ORDER = {'new': 1, 'allocated': 2, 'pending': 3, 'assigned': 4, 'accepted': 5,
         'preparing': 6, 'ready': 7, 'starting': 8, 'running': 9, 'complete': 10,
         'shutdown': 11, 'failed': 12, 'rejected': 13}
RUNNING = ORDER['running']
DEFAULT_MONITOR = 5.0  # seconds, when the spec has no UpdateConfig.Monitor
MAX_PROBLEMS = 10

Task = Mapping[str, Any]


@records.record(frozen=True)
class Look:
    """What one look saw."""

    converged: bool
    done: int                 # tasks running (jobs: complete)
    wanted: int               # tasks that should
    mode: str
    failure: str = ''         # set when the service cannot converge any more
    rolling_back: bool = False
    problems: tuple[str, ...] = ()
    down_nodes: tuple[str, ...] = ()
    update: tuple[str, str] = ('', '')  # (state, message) of this operation's update

    def describe(self) -> str:
        verb = 'complete' if self.mode.endswith('job') else 'running'
        text = f'{self.done} of {self.wanted} tasks {verb}'
        if self.rolling_back:
            text += ' (rolling back)'
        if self.down_nodes:
            text += f'; nodes down: {", ".join(self.down_nodes)}'
        if self.problems:
            text += f'; {self.problems[0]}'
        return text


def mode_of(spec: Mapping[str, Any]) -> str:
    mode = spec.get('Mode') or {}
    for key, name in (('ReplicatedJob', 'replicated-job'), ('GlobalJob', 'global-job'),
                      ('Global', 'global'), ('Replicated', 'replicated')):
        if key in mode:
            return name
    return 'replicated'


def monitor_seconds(spec: Mapping[str, Any]) -> float:
    monitor = (spec.get('UpdateConfig') or {}).get('Monitor') or 0
    return monitor / 1e9 if monitor else DEFAULT_MONITOR


def update_state(service: Mapping[str, Any], baseline: str | None) -> tuple[str, str]:
    """(state, message) of the update this operation started ('' if none)."""
    status = service.get('UpdateStatus') or {}
    if not status or (baseline is not None and (status.get('StartedAt') or '') == baseline):
        return '', ''
    return str(status.get('State') or ''), str(status.get('Message') or '')


def _rank(task: Task) -> tuple[int, int]:
    return (ORDER.get(task.get('DesiredState') or '', 0),
            ORDER.get((task.get('Status') or {}).get('State') or '', 0))


def _pick(tasks: Iterable[Task], key: str) -> dict[Any, Task]:
    """One task per slot (or node): the lowest desired state, then the lowest state."""
    chosen: dict[Any, Task] = {}
    for task in tasks:
        if 0 in _rank(task):
            continue
        current = chosen.get(task.get(key))
        if current is None or _rank(task) < _rank(current):
            chosen[task.get(key)] = task
    return chosen


def _runs(task: Task) -> bool:
    return _rank(task)[0] <= RUNNING and (task.get('Status') or {}).get('State') == 'running'


def _complete(task: Task) -> bool:
    return (task.get('Status') or {}).get('State') == 'complete'


def _ended_for_good(spec: Mapping[str, Any], tasks: list[Task], wanted: int) -> int:
    """How many of the slots 1..wanted have a task that ended (failed, rejected or
    complete) under a restart policy of condition ``none``, which starts no other:
    the service cannot converge when any has."""
    policy = ((spec.get('TaskTemplate') or {}).get('RestartPolicy') or {}).get('Condition')
    if policy != 'none':
        return 0
    return sum(isinstance(slot, int) and 1 <= slot <= wanted and
               (t.get('Status') or {}).get('State') in ('failed', 'rejected', 'complete')
               for slot, t in _pick(tasks, 'Slot').items())


def problems(tasks: Iterable[Task], names: Mapping[str, str]) -> tuple[str, ...]:
    """Task errors worth a user's eye: '<node> slot N: failed: <error>'."""
    found = []
    for task in sorted(tasks, key=lambda t: (t.get('Status') or {}).get('Timestamp') or '',
                       reverse=True):
        status = task.get('Status') or {}
        error = status.get('Err') or ''
        if not error:
            continue
        where = names.get(task.get('NodeID') or '', '') or 'unassigned'
        slot = f' slot {task["Slot"]}' if task.get('Slot') else ''
        line = f'{where}{slot}: {status.get("State")}: {error}'[:500]
        if line not in found:
            found.append(line)
        if len(found) >= MAX_PROBLEMS:
            break
    return tuple(found)


def look(service: Mapping[str, Any], tasks: Sequence[Task], nodes: Sequence[Mapping[str, Any]],
         baseline: str | None = None, expect_rollback: bool = False,
         max_failures: int | None = None) -> Look:
    """One look at a service.

    Args:
        service: ``GET /services/{id}``.
        tasks: its tasks running the current spec (``_up-to-date=true``).
        nodes: ``GET /nodes``.
        baseline: ``UpdateStatus.StartedAt`` before this operation's change
            (None: every update status counts).
        expect_rollback: the operation is a rollback (``rollback_completed``
            is its success).
        max_failures: outside a rolling update (create, scale), give up when
            this many tasks of the current spec failed and none runs (0: the
            default, twice the tasks wanted and at least 5; None: never).
    """
    spec = service.get('Spec') or {}
    mode = mode_of(spec)
    names = {n.get('ID', ''): (n.get('Description') or {}).get('Hostname') or n.get('ID', '')[:12]
             for n in nodes}
    down = {n.get('ID', '') for n in nodes if (n.get('Status') or {}).get('State') == 'down'}
    down_names = tuple(sorted(names[n] for n in down))
    live = [t for t in tasks if not t.get('NodeID') or t.get('NodeID') not in down]
    state, message = update_state(service, baseline)
    failure = ''
    if state in ('paused', 'rollback_paused'):
        failure = f'the {"rollback" if "rollback" in state else "update"} is paused: ' \
                  f'{message or "a task failed"}'
    elif state == 'rollback_completed' and not expect_rollback:
        failure = f'the update failed and the service was rolled back: ' \
                  f'{message or "rollback completed"}'
    rolling_back = state.startswith('rollback') and not expect_rollback

    if mode == 'replicated':
        wanted = int(((spec.get('Mode') or {}).get('Replicated') or {}).get('Replicas') or 0)
        done = sum(_runs(t) for t in _pick(live, 'Slot').values())
    elif mode == 'global':
        by_node = _pick(live, 'NodeID')
        wanted, done = len(by_node), sum(_runs(t) for t in by_node.values())
        wanted = wanted or -1  # no task yet: the orchestrator has not made them
    else:
        iteration = ((service.get('JobStatus') or {}).get('JobIteration') or {}).get('Index')
        current = [t for t in live if (t.get('JobIteration') or {}).get('Index') == iteration]
        if mode == 'replicated-job':
            job = (spec.get('Mode') or {}).get('ReplicatedJob') or {}
            wanted = int(job.get('TotalCompletions') or 0)
            slots: dict[Any, Task] = {}
            for task in current:
                if ORDER.get((task.get('Status') or {}).get('State') or '', 0) == 0:
                    continue
                if task.get('Slot') not in slots or _rank(task)[1] < _rank(slots[task['Slot']])[1]:
                    slots[task.get('Slot')] = task
            done = sum(_complete(t) for t in slots.values())
        else:
            by_node = {}
            for task in current:
                node = task.get('NodeID')
                if node not in by_node or _rank(task)[1] < _rank(by_node[node])[1]:
                    by_node[node] = task
            wanted = len(by_node) or -1
            done = sum(_complete(t) for t in by_node.values())
    found = problems(live, names)
    failed = sum((t.get('Status') or {}).get('State') in ('failed', 'rejected') for t in live)
    budget = max(5, 2 * wanted) if max_failures == 0 else max_failures
    if not failure and not state and budget is not None and done == 0 and failed >= budget:
        failure = f'{failed} tasks failed and none runs: {found[0] if found else "?"}'
    ended = _ended_for_good(spec, live, wanted) if mode == 'replicated' else 0
    if not failure and not state and budget is not None and ended:
        failure = (f'{ended} of {wanted} tasks ended and the restart policy (condition '
                   f'none) starts no other: {found[0] if found else "?"}')
    converged = not failure and not rolling_back and done == wanted
    return Look(converged=converged, done=done, wanted=max(wanted, 0), mode=mode,
                failure=failure, rolling_back=rolling_back, problems=found,
                down_nodes=down_names, update=(state, message))
