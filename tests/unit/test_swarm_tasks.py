"""Swarm operations with a mock ctx: bad input, the spec sent, secrets kept.

Bad input fails before any engine call (the engine given is one that does not
answer), naming the exact field. The fake engine stands in only where a real
one cannot be made to answer so on demand: an update out of sequence, an
engine that echoes a join token in its error.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from unittest import mock

import docker.errors
import pytest
from cloudify.exceptions import NonRecoverableError, RecoverableError
from cloudify.state import current_ctx
from helpers.fakes import FakeStreamResponse, api_error, fake_api, fake_engine, streaming_api
from helpers.mock_ctx import node_ctx

from docker_plugin.options.service import SERVICE
from docker_plugin.resources import drift
from docker_plugin.resources.swarm import service_spec, services
from docker_plugin.tasks import swarm_objects, waits
from docker_plugin.tasks.service import commands as service_actions
from docker_plugin.tasks.service import lifecycle as service
from docker_plugin.tasks.swarm import lifecycle as swarm

DOWN = {'base_url': 'tcp://127.0.0.1:9', 'version': '1.41', 'timeout': 1}
IMAGE = '10.0.0.1:5000/app:1'
DIGEST = 'sha256:' + 'a' * 64


@pytest.fixture
def make_ctx():
    def make(properties=None, runtime=None, node='svc', retry=0):
        return node_ctx('dep', properties, runtime, node=node, instance=f'{node}_abc',
                        retry=retry, max_retries=10)
    yield make
    current_ctx.clear()


@pytest.mark.parametrize(('op', 'kwargs', 'field'), [
    (service.create, {'service_config': {}}, 'service_config.image'),
    (service.create, {'service_config': {'image': 'Bad Image'}}, 'service_config.image'),
    (service.create, {'service_config': {'image': IMAGE, 'mode': 'global', 'replicas': 2}},
     'service_config.replicas'),
    (service.create, {'service_config': {'image': IMAGE, 'ports': ['80:x']}},
     'service_config.ports[0]'),
    (service.create, {'service_config': {'image': IMAGE, 'update_config': {
        'failure_action': 'explode'}}}, 'service_config.update_config.failure_action'),
    (service.create, {'service_config': {'image': IMAGE, 'rollback_config': {
        'failure_action': 'rollback'}}}, 'service_config.rollback_config.failure_action'),
    (service.create, {'service_config': {'image': IMAGE, 'placement': {
        'constraints': ['node.role']}}}, 'service_config.placement.constraints[0]'),
    (service.create, {'service_config': {'image': IMAGE, 'resources': {
        'limits': {'memory': 'lots'}}}}, 'service_config.resources.limits.memory'),
    # The swarm's floors: 4 MiB of memory, 0.001 CPUs (found by the fuzz tier).
    (service.create, {'service_config': {'image': IMAGE, 'resources': {
        'limits': {'memory': '1m'}}}}, 'service_config.resources.limits.memory'),
    (service.create, {'service_config': {'image': IMAGE, 'resources': {
        'reservations': {'cpus': 0.0001}}}}, 'service_config.resources.reservations.cpus'),
    # The swarm's rules across ports (found by the fuzz tier).
    (service.create, {'service_config': {'image': IMAGE, 'endpoint_mode': 'dnsrr',
                                         'ports': [{'target': 80, 'mode': 'host'}, '8080:80']}},
     'service_config.ports[1]'),
    (service.create, {'service_config': {'image': IMAGE, 'ports': ['8080:80', '8080:81']}},
     'service_config.ports[1]'),
    (service.create, {'service_config': {'image': IMAGE, 'secret_env': ['A=b']}},
     'service_config.secret_env'),
    (service.create, {'service_config': {'image': IMAGE, 'mode': 'replicated-job',
                                         'update_config': {}}}, 'service_config.update_config'),
    (service.create, {'service_config': {'image': IMAGE}, 'name': 'x' * 70}, 'name'),
    (service.start, {'converge': {'timeout': -1}}, 'converge.timeout'),
    (service_actions.scale, {'replicas': -1}, 'replicas'),
    (swarm.create, {'swarm_config': {'default_addr_pool': ['10.0.0.0']}},
     'swarm_config.default_addr_pool[0]'),
    (swarm.create, {'swarm_config': {'dispatcher_heartbeat_period': 'often'}},
     'swarm_config.dispatcher_heartbeat_period'),
    (swarm.create, {'workers': [{'advertise_addr': '10.0.0.2'}]}, 'workers[0].daemon_client'),
    (swarm.create, {'managers': [{'daemon_client': {'base_url': 'ftp://x'}}]},
     'managers[0].daemon_client.base_url'),
    (swarm_objects.secret_create, {}, 'data'),
    (swarm_objects.secret_create, {'data': 'x', 'file': '/etc/hostname'}, 'file'),
    (swarm_objects.secret_create, {'file': '/no/such/file'}, 'file'),
    (swarm_objects.config_create, {'file': '/'}, 'file'),
    (swarm_objects.secret_create, {'file': '/dev/zero'}, 'file'),  # never read without end
    (swarm_objects.config_create, {'data': 'x', 'templating': 'jinja'}, 'templating'),
])
def test_bad_input_fails_before_the_engine_naming_the_field(make_ctx, op, kwargs, field):
    runtime = {'service_id': 's' * 25}
    with pytest.raises(NonRecoverableError) as failure:
        op(ctx=make_ctx(runtime=runtime), daemon_client=DOWN, **kwargs)
    assert str(failure.value).startswith(f'{field}:'), str(failure.value)


def _spec(**values):
    parsed = SERVICE.parse({'image': IMAGE, **values}, 'service_config')
    return service_spec.ServiceSpec(name='web', values=parsed, networks=[{'Target': 'n1'}],
                                    secrets=[], configs=[], labels={'cloudify.node': 'svc'})


def test_the_spec_has_networks_in_the_task_template_and_every_update_setting():
    body = service_spec.build(_spec(hosts={'db': '10.0.0.9'}, env={'A': '1'},
                                    secret_env={'B': '2'}, update_config={'parallelism': 2}),
                              f'{IMAGE}@{DIGEST}')
    assert 'Networks' not in body and body['TaskTemplate']['Networks'] == [{'Target': 'n1'}]
    assert body['UpdateConfig'] == {'Parallelism': 2, 'Delay': 0, 'FailureAction': 'pause',
                                    'Monitor': 5 * 10 ** 9, 'MaxFailureRatio': 0,
                                    'Order': 'stop-first'}
    assert body['RollbackConfig']['FailureAction'] == 'pause'  # not the SDK's 'continue'
    container = body['TaskTemplate']['ContainerSpec']
    assert container['Hosts'] == ['10.0.0.9 db'] and container['Env'] == ['A=1', 'B=2']
    assert container['Image'] == f'{IMAGE}@{DIGEST}'
    assert body['Mode'] == {'Replicated': {'Replicas': 1}}
    job = service_spec.build(_spec(mode='replicated-job', replicas=4), IMAGE)
    assert job['Mode'] == {'ReplicatedJob': {'MaxConcurrent': 4, 'TotalCompletions': 4}}
    assert 'UpdateConfig' not in job


def test_a_failure_ratio_kept_as_a_32_bit_float_is_no_drift():
    """The engine answers 0.47273043 for 0.472730426784998 (found by the fuzz tier)."""
    spec = _spec(update_config={'max_failure_ratio': 0.472730426784998},
                 rollback_config={'max_failure_ratio': 0.1})
    body = service_spec.build(spec, f'{IMAGE}@{DIGEST}')
    kept = {**body, 'UpdateConfig': {**body['UpdateConfig'], 'MaxFailureRatio': 0.47273043},
            'RollbackConfig': {**body['RollbackConfig'], 'MaxFailureRatio': 0.1}}
    found = drift.differences(SERVICE, service_spec.declared(spec.values),
                              service_spec.desired_view(spec, f'{IMAGE}@{DIGEST}'),
                              service_spec.actual_view(kept, spec))
    assert found == []
    tiny = _spec(update_config={'max_failure_ratio': 1e-50})  # kept as 0, left out
    body = service_spec.build(tiny, f'{IMAGE}@{DIGEST}')
    left_out = {**body, 'UpdateConfig': {k: v for k, v in body['UpdateConfig'].items()
                                         if k != 'MaxFailureRatio'}}
    assert drift.differences(SERVICE, service_spec.declared(tiny.values),
                             service_spec.desired_view(tiny, f'{IMAGE}@{DIGEST}'),
                             service_spec.actual_view(left_out, tiny)) == []
    kept['UpdateConfig']['MaxFailureRatio'] = 0.5
    assert [d.option for d in drift.differences(
        SERVICE, service_spec.declared(spec.values),
        service_spec.desired_view(spec, f'{IMAGE}@{DIGEST}'),
        service_spec.actual_view(kept, spec))] == ['update_config']


def test_an_update_out_of_sequence_is_sent_again_with_the_new_version():
    api = fake_api()
    api._url.side_effect = lambda path, *args: path.format(*args)
    versions = iter([{'ID': 's1', 'Version': {'Index': 7}, 'Spec': {'Name': 'web'}},
                     {'ID': 's1', 'Version': {'Index': 9}, 'Spec': {'Name': 'web'}}])
    api._result.side_effect = lambda response, json=False: next(versions)
    api._raise_for_status.side_effect = [
        api_error(500, 'rpc error: code = Unknown desc = update out of sequence'), None]
    services.update(api, 's1', {'Name': 'web', 'Labels': {}}, sleep=lambda s: None)
    sent = [c.kwargs['params']['version'] for c in api._post_json.call_args_list]
    assert sent == [7, 9] and api._post_json.call_args.kwargs['data'] == {'Name': 'web',
                                                                          'Labels': {}}


def test_a_manual_rollback_asks_for_the_previous_spec():
    api = fake_api()
    api._url.side_effect = lambda path, *args: path.format(*args)
    api._result.return_value = {'ID': 's1', 'Version': {'Index': 3},
                                'Spec': {'Name': 'web', 'Mode': {}}}
    services.update(api, 's1', {}, rollback=True)
    call = api._post_json.call_args
    assert call.args[0] == '/services/s1/update'
    assert call.kwargs['params'] == {'version': 3, 'rollback': 'previous'}
    assert call.kwargs['data'] == {'Name': 'web', 'Mode': {}}


def test_delete_does_not_wait_for_tasks_on_a_down_node_and_names_them(make_ctx, caplog):
    """Found by the fault tier: a worker down made delete wait its whole minute for a
    task the manager cannot see end, then say nothing about it."""
    api = fake_api()
    api.services.return_value = []
    api.tasks.return_value = [
        {'ID': 'task-on-lost-node', 'ServiceID': 's1', 'NodeID': 'n2',
         'Status': {'State': 'running'}},
        {'ID': 'task-that-ended', 'ServiceID': 's1', 'NodeID': 'n1',
         'Status': {'State': 'shutdown'}}]
    api.nodes.return_value = [
        {'ID': 'n1', 'Description': {'Hostname': 'alive'}, 'Status': {'State': 'ready'}},
        {'ID': 'n2', 'Description': {'Hostname': 'lost'}, 'Status': {'State': 'down'}}]
    api._result.return_value = {'ID': 's1', 'Spec': {'Name': 'web'}}
    ctx = make_ctx(runtime={'service_id': 's1', 'service_name': 'web'})
    caplog.set_level(logging.INFO)
    with fake_engine(api):
        started = time.monotonic()
        service.delete(ctx=ctx, daemon_client=DOWN)
    assert time.monotonic() - started < 2
    api.remove_service.assert_called_once_with('s1')
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warned and 'task-on-lost on lost (down)' in warned[0], warned
    assert 'service_id' not in ctx.instance.runtime_properties


def test_wait_gone_is_bounded_and_says_what_still_runs():
    api = fake_api()
    api.tasks.return_value = [{'ID': 'stuck-task-id', 'ServiceID': 's1', 'NodeID': 'n1',
                               'Status': {'State': 'running'}}]
    api.nodes.return_value = [{'ID': 'n1', 'Description': {'Hostname': 'a'},
                               'Status': {'State': 'ready'}}]
    assert services.wait_gone(api, 's1', timeout=0.3, interval=0.1) == [
        'stuck-task-i on a (still running)']
    api.tasks.return_value = []
    assert services.wait_gone(api, 's1', timeout=0.3, interval=0.1) == []


def test_an_unknown_image_names_the_image_field(make_ctx):
    api = fake_api()
    api._url.side_effect = lambda path, *args: path.format(*args)
    api._get.side_effect = api_error(404, 'no such service', docker.errors.NotFound)
    api._result.side_effect = lambda response, json=False: response
    api.inspect_distribution.side_effect = api_error(404, 'manifest unknown',
                                                     docker.errors.NotFound)
    with fake_engine(api), pytest.raises(NonRecoverableError,
                                         match=r'^service_config.image: image .* its registry '
                                               r'has no such image'):
        service.create(ctx=make_ctx(), service_config={'image': IMAGE})
    api._post_json.assert_not_called()


def test_an_unreachable_engine_is_retried(make_ctx):
    with pytest.raises(RecoverableError):
        service.check_status(ctx=make_ctx(runtime={'service_id': 's1'}), daemon_client=DOWN)


def test_join_tokens_never_reach_logs_errors_or_properties(make_ctx, caplog):
    token = 'SWMTKN-1-' + 'x' * 50 + '-canarycanarycanary'
    manager = fake_api()
    manager.info.return_value = {'Swarm': {'LocalNodeState': 'active', 'NodeID': 'm1',
                                           'RemoteManagers': [{'Addr': '10.0.0.1:2377'}]}}
    manager.inspect_swarm.return_value = {'ID': 'sw', 'JoinTokens': {'Worker': token,
                                                                     'Manager': token + 'm'}}
    member = fake_api()
    member.info.return_value = {'Swarm': {'LocalNodeState': 'inactive'}}
    member._url.side_effect = lambda path, *args: path.format(*args)
    member._raise_for_status.side_effect = api_error(
        500, f'join failed: invalid join token {token} (rpc error)')

    ctx = make_ctx(runtime={'swarm_id': 'sw'}, node='swarm')
    with engines(manager, member), pytest.raises(NonRecoverableError) as failure, \
            caplog.at_level(logging.DEBUG):
        swarm.start(ctx=ctx, workers=[{'daemon_client': {'base_url': 'tcp://10.0.0.2:2375'}}])
    assert token not in str(failure.value) and '******' in str(failure.value)
    assert token not in caplog.text
    assert token not in repr(dict(ctx.instance.runtime_properties))


def test_a_service_masks_what_the_secrets_it_uses_hold(caplog):
    """Found by the swarm canary tier: the service logs action (and a failed update
    quoting its tasks' logs) showed a Secret's value its tasks printed."""
    from helpers.mock_ctx import Related, node_ctx
    value, config_value = 'canary-secret-' + 'q' * 20, 'plain-config-text-' + 'p' * 10
    related = [Related('cloudify.relationships.docker.uses_secret', 'tok', {'secret_id': 'x'},
                       {'target': 'tok'}, {'data': value}),
               Related('cloudify.relationships.docker.uses_config', 'page', {'config_id': 'y'},
                       {}, {'data': config_value})]
    ctx = node_ctx('dep', runtime={'service_id': 's1'}, related=related, node='svc')
    api = streaming_api(FakeStreamResponse([
        f'file={value}\nconfig={config_value}\n'.encode()], ))
    api._result.return_value = {'ID': 's1', 'Spec': {'Name': 'web', 'TaskTemplate': {
        'ContainerSpec': {'TTY': True}}}}
    caplog.set_level(logging.DEBUG)
    with fake_engine(api):
        text = service_actions.logs(ctx=ctx)
    assert value not in text and 'file=******' in text
    assert f'config={config_value}' in text  # a Config's value is not secret
    assert value not in caplog.text and value not in repr(dict(ctx.instance.runtime_properties))


@contextlib.contextmanager
def engines(*apis):
    """Each client the operation opens talks to the next fake engine."""
    queue = iter(apis)

    @contextlib.contextmanager
    def open_client(config):
        client = mock.MagicMock()
        client.api = next(queue)
        yield client
    with mock.patch('docker_plugin.tasks.context.open_client', open_client):
        yield


def test_a_secret_from_a_file_is_named_by_a_keyed_fingerprint_and_never_kept(make_ctx, tmp_path,
                                                                            caplog):
    value = 'file-canary-value-0123456789'
    path = tmp_path / 'secret.txt'
    path.write_text(value)
    api = fake_api()
    api.secrets.return_value = []
    api.create_secret.return_value = {'ID': 'sec1'}
    api.inspect_secret.return_value = {'ID': 'sec1', 'Spec': {'Name': 'x', 'Labels': {}}}
    ctx = make_ctx({'name': 'db-password', 'file': str(path)}, node='pw')
    with fake_engine(api), caplog.at_level(logging.DEBUG):
        swarm_objects.secret_create(ctx=ctx)
    name, data = api.create_secret.call_args.args
    key = ctx.instance.runtime_properties['_content_key']
    assert data == value.encode() and name.startswith('db-password-') and len(name) == 24
    assert name[len('db-password-'):] != hashlib.sha256(data).hexdigest()[:12]
    assert name == swarm_objects.swarm_objects.versioned_name('db-password', data, key)
    assert api.create_secret.call_args.kwargs['labels']['cloudify.node-instance'] == 'pw_abc'
    assert value not in caplog.text and value not in repr(dict(ctx.instance.runtime_properties))


def test_async_start_hands_back_to_cloudify_and_keeps_its_deadline(make_ctx):
    api = fake_api()
    api._url.side_effect = lambda path, *args: path.format(*args)
    info = {'ID': 's1', 'Version': {'Index': 1},
            'Spec': {'Name': 'web', 'Mode': {'Replicated': {'Replicas': 1}},
                     'UpdateConfig': {'Monitor': 1}}}  # a hold of 1 ns
    api._result.return_value = info
    api.nodes.return_value = []
    api.tasks.return_value = []
    ctx = make_ctx(runtime={'service_id': 's1'})
    with fake_engine(api):
        service.start(ctx=ctx, converge={'async': True, 'timeout': 30})
    assert ctx.operation._operation_retry is not None
    state = ctx.instance.runtime_properties[waits.key('start')]
    assert state['deadline'] > 0 and state['timeout'] == 30
    api.tasks.return_value = [{'ID': 't', 'Slot': 1, 'NodeID': 'n', 'DesiredState': 'running',
                               'Status': {'State': 'running'}}]
    for retry in (1, 2):  # converged, then held for the monitor window
        again = make_ctx(runtime=dict(ctx.instance.runtime_properties), retry=retry)
        with fake_engine(api):
            service.start(ctx=again, converge={'async': True, 'timeout': 30})
        ctx = again
    props = again.instance.runtime_properties
    assert waits.key('start') not in props and props['converged']['data']['tasks'] == 1


def test_a_wait_cut_by_a_passing_fault_is_resumed_not_sent_again(make_ctx):
    api = fake_api()
    api._url.side_effect = lambda path, *args: path.format(*args)
    info = {'ID': 's1', 'Version': {'Index': 1}, 'UpdateStatus': {'StartedAt': 'old'},
            'Spec': {'Name': 'web', 'Mode': {'Replicated': {'Replicas': 1}},
                     'UpdateConfig': {'Monitor': 1}}}
    api._result.return_value = info
    api.nodes.return_value = []
    api.tasks.side_effect = api_error(503, 'the manager is busy')
    ctx = make_ctx(runtime={'service_id': 's1', 'replicas': 1})
    with fake_engine(api), pytest.raises(RecoverableError):
        service_actions.scale(ctx=ctx, replicas=1)
    assert api._post_json.call_count == 1  # the scale was sent once
    assert ctx.instance.runtime_properties[waits.key('scale')]['data']['baseline'] == 'old'
    api.tasks.side_effect = None
    api.tasks.return_value = [{'ID': 't', 'Slot': 1, 'NodeID': 'n', 'DesiredState': 'running',
                               'Status': {'State': 'running'}}]
    again = make_ctx(runtime=dict(ctx.instance.runtime_properties), retry=1)
    with fake_engine(api):
        service_actions.scale(ctx=again, replicas=1)
    assert api._post_json.call_count == 1  # resumed: not sent again
    assert waits.key('scale') not in again.instance.runtime_properties


def _answers(api, by_path):
    """Low-level GETs answered by path (the service, its tasks, ...)."""
    api._url.side_effect = lambda path, *args: path.format(*args)
    api._get.side_effect = lambda url, **kwargs: by_path[url]
    api._result.side_effect = lambda response, json=False: response


GLOBAL = {'ID': 's1', 'Version': {'Index': 2}, 'Spec': {'Name': 'web', 'Mode': {'Global': {}}}}


def test_scaling_a_global_service_names_replicas(make_ctx):
    api = fake_api()
    _answers(api, {'/services/s1': GLOBAL})
    with fake_engine(api), pytest.raises(NonRecoverableError,
                                         match=r'^replicas: only a replicated service scales; '
                                               r'this one is global'):
        service_actions.scale(ctx=make_ctx(runtime={'service_id': 's1'}), replicas=3)
    api._post_json.assert_not_called()


def test_a_rollback_without_a_previous_spec_fails_at_once(make_ctx):
    api = fake_api()
    _answers(api, {'/services/s1': GLOBAL})
    with fake_engine(api), pytest.raises(NonRecoverableError,
                                         match='has no previous spec to roll back to'):
        service_actions.rollback(ctx=make_ctx(runtime={'service_id': 's1'}))
    api._post_json.assert_not_called()


@pytest.mark.parametrize(('network', 'problem'), [
    (None, 'no network app-net'),
    ({'Id': 'n' * 64, 'Name': 'app-net', 'Driver': 'bridge', 'Scope': 'local'},
     'network app-net is bridge (local scope): a service needs a swarm-scope (overlay) '
     'network'),
])
def test_a_service_network_must_exist_and_span_the_swarm(make_ctx, network, problem):
    api = fake_api()
    _answers(api, {'/services/app': api_error(404, 'no such service', docker.errors.NotFound)})
    api._get.side_effect = api_error(404, 'no such service', docker.errors.NotFound)
    api.inspect_distribution.return_value = {'Descriptor': {'digest': DIGEST}}
    if network is None:
        api.inspect_network.side_effect = api_error(404, 'not found', docker.errors.NotFound)
    else:
        api.inspect_network.return_value = network
    with fake_engine(api), pytest.raises(NonRecoverableError) as failure:
        service.create(ctx=make_ctx(), name='app',
                       service_config={'image': IMAGE, 'networks': ['app-net']})
    assert str(failure.value) == f'service_config.networks: {problem}'
    api._post_json.assert_not_called()


def test_a_worker_cannot_initialise_a_swarm(make_ctx):
    api = fake_api()
    api.info.return_value = {'Swarm': {'LocalNodeState': 'active', 'ControlAvailable': False}}
    with fake_engine(api), pytest.raises(NonRecoverableError,
                                         match=r'^daemon_client: the engine is a worker'):
        swarm.create(ctx=make_ctx(node='swarm'))


def test_a_worker_or_a_lone_engine_asked_for_swarm_objects_fails_at_once(make_ctx):
    api = fake_api()
    api._url.side_effect = lambda path, *args: path.format(*args)
    api._get.side_effect = api_error(
        503, 'This node is not a swarm manager. Worker nodes can\'t be used to view or modify '
             'cluster state. Please run this command on a manager node or promote the current '
             'node to a manager.')
    with fake_engine(api), pytest.raises(NonRecoverableError,
                                         match=r'daemon_client must be a manager of the swarm'):
        service.check_status(ctx=make_ctx(runtime={'service_id': 's1'}))
