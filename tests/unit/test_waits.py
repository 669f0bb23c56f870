"""The one resumable wait: looks, deadlines, progress, and its state across retries."""

from __future__ import annotations

import pytest
from helpers.mock_ctx import node_ctx

from docker_plugin.errors import StateError, TimeoutExpired, TransientError
from docker_plugin.resources import waiting
from docker_plugin.resources.waiting import Done, Pending
from docker_plugin.tasks import waits


class Clock:
    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def counting(done_at: int, value: str = 'ok'):
    """A look that is done on its ``done_at``-th call; says how many it made."""
    calls = []

    def look(state):
        calls.append(state.seen)
        if len(calls) >= done_at:
            return Done(value)
        return Pending(f'{len(calls)} of {done_at}')
    return look, calls


def test_hold_looks_until_done_sleeping_between_looks():
    clock = Clock()
    look, calls = counting(3)
    state = waiting.start(10, clock=clock)
    said = []
    assert waiting.hold(look, state, 'x', 0.5, said.append, clock, clock.sleep) == Done('ok')
    assert len(calls) == 3 and clock.now == 1001.0
    assert said == ['waiting for x: 1 of 3', 'waiting for x: 2 of 3']


def test_an_unchanged_sight_is_said_again_only_every_so_often():
    clock = Clock()
    state = waiting.start(100, clock=clock)
    said = []
    for _ in range(10):
        waiting.once(lambda s: Pending('same'), state, 'x', said.append, clock)
        clock.sleep(5)
    assert said == ['waiting for x: same'] * 2  # at 0 s and after 30 s


def test_the_deadline_ends_the_wait_with_what_was_seen_last():
    clock = Clock()
    state = waiting.start(2, clock=clock)
    with pytest.raises(TimeoutExpired, match=r'x: not done after 2s; last seen: still 1'):
        waiting.hold(lambda s: Pending('still 1'), state, 'x', 0.5, None, clock, clock.sleep)
    assert clock.now == 1002.0


def test_a_clock_that_stands_still_cannot_hold_for_ever():
    frozen = Clock()
    state = waiting.start(1, clock=frozen)
    with pytest.raises(TimeoutExpired, match='looks'):
        waiting.hold(lambda s: Pending('p'), state, 'x', 0.5, None, frozen, lambda s: None)


def test_a_look_that_fails_ends_the_wait():
    def look(state):
        raise StateError('container exited (1)')
    with pytest.raises(StateError):
        waiting.hold(look, waiting.start(10), 'x', 0.01)


def test_the_state_round_trips_through_a_runtime_property():
    state = waiting.start(30, {'baseline': 'b'})
    state.seen = 'half'
    assert waiting.WaitState.of(state.as_dict()) == state
    assert waiting.WaitState.of({'deadline': 'soon'}) is None
    assert waiting.WaitState.of('nonsense') is None


def test_polling_keeps_the_state_and_a_retry_resumes_it():
    ctx = node_ctx('dep')
    look, _ = counting(2, 'ready')
    state = waits.begin(ctx, 'start', 60, {'n': 1})
    outcome = waits.run(ctx, 'start', state, look, 'web', waits.Mode(poll=True, interval=2))
    assert isinstance(outcome, waits.Retry) and outcome.after >= 2
    assert outcome.message == 'waiting for web: 1 of 2'
    kept = ctx.instance.runtime_properties[waits.key('start')]
    assert kept['data'] == {'n': 1} and kept['seen'] == '1 of 2'

    retry = node_ctx('dep', runtime=dict(ctx.instance.runtime_properties), retry=1)
    resumed = waits.resume(retry, 'start')
    assert resumed is not None and resumed.deadline == state.deadline
    outcome = waits.run(retry, 'start', resumed, look, 'web', waits.Mode(poll=True))
    assert outcome == Done('ready')
    assert waits.key('start') not in retry.instance.runtime_properties


def test_a_first_try_never_resumes_an_old_wait():
    ctx = node_ctx('dep', runtime={waits.key('start'): waiting.start(5).as_dict()})
    assert waits.resume(ctx, 'start') is None


def test_passing_trouble_keeps_the_wait_for_the_retry_and_a_failure_drops_it():
    ctx = node_ctx('dep')
    state = waits.begin(ctx, 'update', 60)

    def flaky(state):
        raise TransientError('engine restarting')
    with pytest.raises(TransientError):
        waits.run(ctx, 'update', state, flaky, 'svc')
    assert waits.key('update') in ctx.instance.runtime_properties

    def broken(state):
        raise StateError('rolled back')
    with pytest.raises(StateError):
        waits.run(ctx, 'update', state, broken, 'svc')
    assert waits.key('update') not in ctx.instance.runtime_properties


def test_holding_returns_done_and_drops_the_state():
    ctx = node_ctx('dep')
    look, _ = counting(1, 42)
    state = waits.begin(ctx, 'scale', 5)
    assert waits.run(ctx, 'scale', state, look, 'svc', waits.Mode(interval=0.01)) == Done(42)
    assert waits.key('scale') not in ctx.instance.runtime_properties
