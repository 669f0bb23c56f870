"""Container actions and the operation wrapper, with a mock ctx.

Inputs are checked by their tables before any engine call (shown by pointing
daemon_client at a closed port); error paths an engine cannot be made to
produce on demand use a fake API.
"""

from __future__ import annotations

import docker.errors
import pytest
from cloudify.exceptions import NonRecoverableError, RecoverableError
from cloudify.state import current_ctx
from helpers.fakes import api_error, fake_api, fake_engine
from helpers.mock_ctx import node_ctx

from docker_plugin.tasks.container import commands as container_commands
from docker_plugin.tasks.container import controls as container_actions
from docker_plugin.tasks.container import lifecycle as container_state

DOWN = {'base_url': 'tcp://127.0.0.1:9', 'version': '1.41', 'timeout': 1}
RUNNING = {'Id': 'c' * 64, 'Name': '/web', 'Image': 'sha256:i', 'State': {
    'Status': 'running', 'Running': True}, 'Config': {'Env': ['A=1']},
    'NetworkSettings': {'Networks': {}}}


@pytest.fixture
def make_ctx():
    def make(runtime=None, retry=0):
        return node_ctx('dep', runtime={'container_id': 'c' * 64, **(runtime or {})},
                        node='web', instance='web_abc', retry=retry, max_retries=10)
    yield make
    current_ctx.clear()


@pytest.mark.parametrize(('op', 'kwargs', 'field'), [
    (container_actions.logs, {'tail': -1}, 'tail'),
    (container_actions.logs, {'tail': 'some'}, 'tail'),
    (container_actions.logs, {'since': float('nan')}, 'since'),
    (container_actions.kill, {'signal': 'SIGNOPE'}, 'signal'),
    (container_actions.rename, {}, 'name'),
    (container_actions.rename, {'name': '../x'}, 'name'),
    (container_actions.stop, {'stop_timeout': -2}, 'stop_timeout'),
    (container_actions.start, {'wait_for': {'condition': 'log'}}, 'wait_for.pattern'),
    (container_actions.list_containers, {'filters': [1]}, 'filters'),
    (container_actions.list_containers, {'limit': 0}, 'limit'),
    (container_actions.inspect, {'colour': 'red'}, 'colour'),
    (container_actions.inspect, {'timeout': 0}, 'timeout'),
    (container_actions.update, {'resources': {'command': 'x'}}, 'resources.command'),
    (container_actions.update, {'resources': {}}, 'resources'),
    (container_actions.update, {'resources': {'paused': True}}, 'resources.paused'),
    (container_actions.update, {'resources': {'cpu_shares': 0}}, 'resources.cpu_shares'),
    (container_actions.update, {'resources': {'cpus': 1, 'nano_cpus': 1}}, 'resources.nano_cpus'),
    (container_commands.exec_command, {}, 'command'),
    (container_commands.exec_command, {'command': 'ls', 'workdir': 'rel'}, 'workdir'),
    (container_commands.exec_command, {'command': 'ls', 'expected_exit_code': 1.5},
     'expected_exit_code'),
    (container_commands.copy_from, {'source': 'rel', 'destination': '/tmp/x'}, 'source'),
    (container_commands.copy_to, {'source': '/x', 'destination': 5}, 'destination'),
    (container_commands.wait, {'interval': 0}, 'interval'),
])
def test_inputs_are_checked_before_the_engine(make_ctx, op, kwargs, field):
    with pytest.raises(NonRecoverableError) as failure:
        op(ctx=make_ctx(), daemon_client=DOWN, **kwargs)
    assert str(failure.value).startswith(f'{field}:'), str(failure.value)


def test_the_update_action_sends_the_engines_own_body(make_ctx):
    """Every value as the engine stores it, zeros the engine applies included (the SDK's
    update_container drops them and has no keyword for pids_limit or nano_cpus)."""
    api = fake_api()
    api._result.return_value = {'Warnings': None}
    api.inspect_container.return_value = {'Id': 'c' * 64, 'Name': '/c', 'State': {}}
    with fake_engine(api):
        container_actions.update(ctx=make_ctx(), resources={
            'cpus': 0.5, 'pids_limit': 0, 'memswap_limit': 'unlimited', 'cpu_rt_runtime': 10})
    body = api._post_json.call_args.kwargs['data']
    assert body == {'NanoCpus': 500_000_000, 'PidsLimit': 0, 'MemorySwap': -1,
                    'CpuRealtimeRuntime': 10}
    api.update_container.assert_not_called()


def test_an_action_on_a_gone_container_is_permanent(make_ctx):
    api = fake_api()
    api.pause.side_effect = api_error(404, 'No such container', docker.errors.NotFound)
    with fake_engine(api), pytest.raises(NonRecoverableError, match='no longer exists'):
        container_actions.pause(ctx=make_ctx())


def test_an_action_records_a_bounded_redacted_result(make_ctx):
    api = fake_api()
    api.inspect_container.return_value = RUNNING
    api.top.return_value = {'Titles': ['PID', 'CMD'], 'Processes': [['1', 'x' * 20000]]}
    ctx = make_ctx()
    with fake_engine(api):
        container_actions.top(ctx=ctx)
    record = ctx.instance.runtime_properties['top']
    assert record['exit_code'] == 0 and len(record['message']) < 9000


def test_unclassified_failures_are_retried_a_few_times_then_permanent(make_ctx):
    api = fake_api()
    api.inspect_container.return_value = RUNNING
    api.pause.side_effect = api_error(500, 'something nobody has seen')
    with fake_engine(api), pytest.raises(RecoverableError, match='retry 1 of 3'):
        container_actions.pause(ctx=make_ctx(retry=0))
    with fake_engine(api), pytest.raises(NonRecoverableError,
                                         match='still failing after 3 retries'):
        container_actions.pause(ctx=make_ctx(retry=3))


def test_a_bug_is_one_permanent_line_not_a_traceback(make_ctx, monkeypatch):
    def broken(*args, **kwargs):
        raise KeyError('unexpected')
    monkeypatch.setattr(container_actions.reports, 'summarise', broken)
    api = fake_api()
    api.inspect_container.return_value = RUNNING
    with fake_engine(api), pytest.raises(NonRecoverableError) as failure:
        container_actions.inspect(ctx=make_ctx())
    assert str(failure.value) == "inspect failed: KeyError: 'unexpected'"
    assert failure.value.__cause__ is None


def test_check_status_names_the_state(make_ctx):
    api = fake_api()
    api.inspect_container.return_value = {**RUNNING, 'State': {
        'Status': 'running', 'Running': True, 'Health': {'Status': 'unhealthy'}}}
    with fake_engine(api), pytest.raises(NonRecoverableError,
                                         match='is running and unhealthy'):
        container_state.check_status(ctx=make_ctx())
