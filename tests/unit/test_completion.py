"""The completion rule and the compose readiness built on it, without an engine."""

from __future__ import annotations

import pytest

from docker_plugin.errors import StateError, TimeoutExpired
from docker_plugin.resources import completion
from docker_plugin.resources.compose import readiness as compose_readiness


@pytest.mark.parametrize(('service', 'policy'), [
    ({}, 'no'),
    ({'restart': 'no'}, 'no'),
    ({'restart': 'on-failure:3'}, 'on-failure'),
    ({'restart': 'unless-stopped'}, 'unless-stopped'),
    ({'deploy': {'restart_policy': {}}}, 'always'),
    ({'deploy': {'restart_policy': {'condition': 'none'}}}, 'no'),
    ({'deploy': {'restart_policy': {'condition': 'on-failure', 'max_attempts': 2}}},
     'on-failure'),
    ({'restart': 'always', 'deploy': {'restart_policy': {'condition': 'none'}}}, 'always'),
])
def test_the_restart_policy_compose_gives(service, policy):
    assert completion.compose_restart(service) == policy


@pytest.mark.parametrize(('status', 'code', 'policy', 'done'), [
    ('exited', 0, 'no', True), ('exited', 0, '', True), ('exited', 0, None, True),
    ('exited', 0, 'on-failure:5', True), ('exited', 0, 'always', False),
    ('exited', 0, 'unless-stopped', False), ('exited', 2, 'no', False),
    ('running', 0, 'no', False), ('created', 0, 'no', False), ('dead', 0, 'no', False),
])
def test_completed(status, code, policy, done):
    assert completion.completed(status, code, policy) is done
    assert completion.completed(status, code, policy, healthcheck=True) is False
    assert completion.container_restart({'HostConfig': {'RestartPolicy': {
        'Name': policy}}}) == completion.policy_name(policy)


def _item(name, state='running', health='', exit_code=None):
    return {'name': name, 'state': state, 'health': health, 'exit_code': exit_code}


def test_may_complete_is_the_jobs_and_every_service_not_restarted_after_exit_0():
    model = {'services': {
        'db': {'restart': 'always'},
        'init': {'restart': 'always'},  # another waits for its completion: compose's job
        'seed': {'restart': 'no'},
        'web': {'depends_on': {'init': {'condition': 'service_completed_successfully'}},
                'restart': 'unless-stopped'},
        'cron': {},
        'server': {'healthcheck': {'test': ['CMD', 'true']}},  # it serves: exit is an outage
        'quiet': {'healthcheck': {'test': ['NONE']}}}}
    assert compose_readiness.jobs(model) == ['init']
    assert compose_readiness.may_complete(model) == ['cron', 'init', 'quiet', 'seed']


def test_readiness_classifies_each_container():
    summary = {'web': [_item('p-web-1', health='healthy'), _item('p-web-2', health='starting')],
               'seed': [_item('p-seed-1', 'exited', exit_code=0)],
               'api': [_item('p-api-1', 'exited', exit_code=0)],
               'job': [_item('p-job-1', 'created')]}
    now = compose_readiness.readiness(summary, {'web': 3, 'seed': 1, 'api': 1, 'job': 1},
                                  ['seed'])
    assert now.completed == {'seed'}
    assert now.missing == ['web: 2 of 3 containers exist']
    assert now.failed == ['api: container p-api-1 is exited (0)']
    assert now.pending == ['job: container p-job-1 is created',
                           'web: container p-web-2 is starting']
    assert now.unstarted and not now.done
    assert compose_readiness.problems(summary, {'seed': 1}, ['seed']) == []


class _Engine:
    """``containers`` answers in turn (the last one again and again)."""

    def __init__(self, *answers):
        self.answers = list(answers)

    def containers(self, all, filters):
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


def _listed(service, state, status):
    return {'Id': service, 'Names': [f'/p-{service}-1'], 'State': state, 'Status': status,
            'Labels': {'com.docker.compose.service': service,
                       'com.docker.compose.container-number': '1'}}


class _Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_settle_waits_for_the_rest_and_says_each_once():
    api = _Engine([_listed('web', 'running', 'Up 1 second (health: starting)'),
                   _listed('seed', 'exited', 'Exited (0) 1 second ago')],
                  [_listed('web', 'running', 'Up 2 seconds (healthy)'),
                   _listed('seed', 'exited', 'Exited (0) 2 seconds ago')])
    said, clock = [], _Clock()
    done = compose_readiness.settle(api, 'p', {'web': 1, 'seed': 1}, ['seed'], 10, 10,
                                lambda level, text: said.append(text), clock, clock.sleep)
    assert done == {'seed'}
    assert said == ['seed: container p-seed-1 completed (exited 0)',
                    'web: container p-web-1 healthy']


def test_settle_fails_at_once_on_a_failure_and_at_its_deadline_otherwise():
    clock = _Clock()
    api = _Engine([_listed('web', 'running', 'Up (unhealthy)')])
    with pytest.raises(StateError, match='compose up: web: container p-web-1 is unhealthy'):
        compose_readiness.settle(api, 'p', {'web': 1}, [], 10, 10, lambda *a: None, clock,
                             clock.sleep)
    assert clock.now == 0
    api = _Engine([_listed('web', 'running', 'Up (health: starting)')])
    with pytest.raises(TimeoutExpired, match='application not healthy after 3s: web: '
                                             'container p-web-1 is starting'):
        compose_readiness.settle(api, 'p', {'web': 1}, [], 3, 3, lambda *a: None, clock,
                             clock.sleep)
    assert clock.now == pytest.approx(3)


@pytest.mark.parametrize(('test', 'has'), [
    (['CMD', 'true'], True), ('curl -f x', True), (['CMD-SHELL', 'x'], True),
    (['NONE'], False), ([], False), (None, False), ('', False)])
def test_what_counts_as_a_healthcheck(test, has):
    assert completion.has_healthcheck(test) is has
    assert completion.container_healthcheck({'Config': {'Healthcheck': {'Test': test}}}) is has
    assert completion.compose_healthcheck({'healthcheck': {'test': test}}) is has
    assert completion.compose_healthcheck({'healthcheck': {'test': test, 'disable': True}}) \
        is False
