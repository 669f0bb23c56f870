"""Convergence, one look at a time, and the wait around it (no engine, a fake clock).

The looks are the docker CLI's algorithm for the four modes, with its traps
closed: rollback_completed is a failure, down nodes are ignored, an old
update's status does not fail a later change.
"""

from __future__ import annotations

import pytest
from helpers.fakes import FakeStreamResponse

from docker_plugin.errors import TimeoutExpired
from docker_plugin.resources.swarm import convergence, service_wait

NODES = [{'ID': f'n{i}', 'Description': {'Hostname': f'host{i}'},
          'Status': {'State': 'ready'}} for i in range(3)]


def task(slot=1, state='running', desired='running', node='n0', err='', iteration=None,
         stamp='2026-01-01T00:00:00Z'):
    t = {'ID': f't{slot}{state}{node}', 'Slot': slot, 'NodeID': node, 'DesiredState': desired,
         'Status': {'State': state, 'Err': err, 'Timestamp': stamp}}
    if iteration is not None:
        t['JobIteration'] = {'Index': iteration}
    return t


def service(mode=None, update=None, monitor=None, job_iteration=None):
    spec = {'Name': 'web', 'Mode': mode or {'Replicated': {'Replicas': 2}}}
    if monitor is not None:
        spec['UpdateConfig'] = {'Monitor': monitor}
    out = {'ID': 's1', 'Spec': spec}
    if update:
        out['UpdateStatus'] = update
    if job_iteration is not None:
        out['JobStatus'] = {'JobIteration': {'Index': job_iteration}}
    return out


def test_replicated_counts_one_task_per_slot_the_lowest_desired_state():
    tasks = [task(1), task(2, 'running', 'shutdown'), task(2, 'starting')]
    look = convergence.look(service(), tasks, NODES)
    assert (look.converged, look.done, look.wanted) == (False, 1, 2)
    look = convergence.look(service(), [task(1), task(2, node='n1')], NODES)
    assert look.converged and look.describe() == '2 of 2 tasks running'


def test_tasks_on_down_nodes_do_not_count_and_the_nodes_are_named():
    nodes = [*NODES[:2], {**NODES[2], 'Status': {'State': 'down'}}]
    look = convergence.look(service(), [task(1), task(2, node='n2')], nodes)
    assert not look.converged and look.down_nodes == ('host2',)
    assert 'nodes down: host2' in look.describe()


def test_global_needs_every_node_with_a_task_and_waits_for_the_first_ones():
    mode = {'Global': {}}
    assert not convergence.look(service(mode), [], NODES).converged
    tasks = [task(0, node='n0'), task(0, 'preparing', node='n1')]
    look = convergence.look(service(mode), tasks, NODES)
    assert (look.done, look.wanted, look.converged) == (1, 2, False)


@pytest.mark.parametrize(('states', 'done'), [(['complete'] * 3, True),
                                              (['complete', 'complete', 'running'], False)])
def test_a_replicated_job_counts_completions_of_this_iteration(states, done):
    mode = {'ReplicatedJob': {'MaxConcurrent': 2, 'TotalCompletions': 3}}
    tasks = [task(i, s, 'complete', iteration=4) for i, s in enumerate(states)]
    tasks.append(task(9, 'complete', 'complete', iteration=3))  # an earlier run
    look = convergence.look(service(mode, job_iteration=4), tasks, NODES)
    assert look.converged is done and look.describe().endswith('tasks complete')


def test_a_global_job_is_done_when_every_nodes_task_completed():
    mode = {'GlobalJob': {}}
    tasks = [task(0, 'complete', node=n['ID'], iteration=1) for n in NODES]
    assert convergence.look(service(mode, job_iteration=1), tasks, NODES).converged
    tasks[0] = task(0, 'failed', node='n0', iteration=1, err='exit 1')
    assert not convergence.look(service(mode, job_iteration=1), tasks, NODES).converged


@pytest.mark.parametrize(('state', 'failure'), [
    ('paused', 'the update is paused: boom'),
    ('rollback_paused', 'the rollback is paused: boom'),
    ('rollback_completed', 'the update failed and the service was rolled back: boom'),
])
def test_paused_and_rolled_back_updates_are_failures(state, failure):
    update = {'State': state, 'StartedAt': 'new', 'Message': 'boom'}
    look = convergence.look(service(update=update), [task(1), task(2)], NODES, baseline='old')
    assert look.failure == failure and not look.converged


def test_only_this_operations_update_counts():
    update = {'State': 'rollback_completed', 'StartedAt': 'old', 'Message': 'x'}
    look = convergence.look(service(update=update), [task(1), task(2)], NODES, baseline='old')
    assert look.converged and not look.failure  # a scale after an old failed update


def test_a_manual_rollback_succeeds_on_rollback_completed():
    update = {'State': 'rollback_completed', 'StartedAt': 'new'}
    look = convergence.look(service(update=update), [task(1), task(2)], NODES, baseline='old',
                            expect_rollback=True)
    assert look.converged and not look.failure
    started = {'State': 'rollback_started', 'StartedAt': 'new'}
    look = convergence.look(service(update=started), [task(1), task(2)], NODES, baseline='old')
    assert look.rolling_back and not look.converged


def test_tasks_that_keep_failing_end_a_create_early_with_their_error():
    failed = [task(i % 2 + 1, 'failed', 'shutdown', err='exit (3)', stamp=f'2026-01-0{i + 1}')
              for i in range(5)]
    look = convergence.look(service(), failed, NODES, max_failures=0)
    assert look.failure.startswith('5 tasks failed and none runs: host0 slot')
    assert convergence.look(service(), failed, NODES, max_failures=None).failure == ''


def test_tasks_that_ended_under_restart_condition_none_fail_at_once():
    """Found by the swarm bounded tier: such a service waited its whole timeout."""
    never = service()
    never['Spec']['TaskTemplate'] = {'RestartPolicy': {'Condition': 'none'}}
    ended = [task(1, 'failed', 'shutdown', err='exit (3)'), task(2, node='n1')]
    look = convergence.look(never, ended, NODES, max_failures=0)
    assert look.failure.startswith('1 of 2 tasks ended and the restart policy (condition '
                                   'none) starts no other: host0 slot 1: failed: exit (3)')
    both = [task(1, 'failed', 'shutdown', err='x'), task(2, 'failed', 'shutdown', node='n1')]
    assert convergence.look(never, both, NODES, max_failures=0).failure.startswith('2 of 2')
    # A slot scaled away, restarts allowed, or a rolling update: keep waiting.
    gone = [task(3, 'complete', 'shutdown'), task(1), task(2, node='n1')]
    assert convergence.look(never, gone, NODES, max_failures=0).converged
    assert convergence.look(service(), ended, NODES, max_failures=0).failure == ''
    assert convergence.look(never, ended, NODES, max_failures=None).failure == ''


class Clock:
    def __init__(self):
        self.now = 1000.0

    def time(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


class FakeSwarm:
    """Answers one service's inspect, tasks and nodes from a script of looks."""

    def __init__(self, looks, clock):
        self.looks, self.clock, self.calls = looks, clock, 0

    def _current(self):
        index = min(self.calls - 1, len(self.looks) - 1)
        return self.looks[index]

    def _result(self, value, json=False):
        return value

    def _url(self, path, *args):
        return path.format(*args)

    def _get(self, url, **kwargs):
        if url.endswith('/logs'):
            return FakeStreamResponse([b'the task said: no node for me\n'])
        self.calls += 1
        return self._current()[0]

    def _raise_for_status(self, response):
        return None

    def _multiplexed_response_stream_helper(self, response):
        return response.iter_content()

    def tasks(self, filters=None):
        return self._current()[1]

    def nodes(self):
        return NODES


def test_the_wait_holds_for_the_monitor_window_and_restarts_it_after_a_failure():
    clock = Clock()
    good = (service(monitor=2 * 10 ** 9), [task(1), task(2)])
    bad = (service(monitor=2 * 10 ** 9), [task(1), task(2, 'starting')])
    api = FakeSwarm([good] * 3 + [bad] + [good] * 30, clock)
    lines = []
    state = service_wait.begin(60, clock=clock.time)
    outcome = service_wait.wait(api, 's1', state, lines.append, interval=0.5,
                                sleep=clock.sleep, now=clock.time)
    assert outcome.converged_at == 1002.0  # after the failed look
    assert clock.now - outcome.converged_at >= 2.0
    assert 'Service web: a task failed while holding; waiting again' in lines


def test_the_wait_enforces_its_deadline_and_says_what_it_saw():
    clock = Clock()
    stuck = (service(), [task(1, 'pending', err='no suitable node (1 node not available)')])
    api = FakeSwarm([stuck], clock)
    state = service_wait.begin(5, clock=clock.time)
    with pytest.raises(TimeoutExpired, match=r'did not converge in time: 0 of 2 tasks running; '
                                             r'host0 slot 1: pending: no suitable node') as failed:
        service_wait.wait(api, 's1', state, lambda line: None, interval=0.2,
                          sleep=clock.sleep, now=clock.time)
    assert clock.now - 1000.0 <= 5.5
    assert 'the task said: no node for me' in str(failed.value)  # its last log lines
