"""Network and volume operations with a mock ctx and a fake engine.

The fake stands in for answers that cannot be arranged on a real engine at
will (which objects carry which labels, what is attached); the real-engine
behaviour is covered in tests/blueprints/test_stack.py and test_drift.py.
"""

from __future__ import annotations

import docker.errors
import pytest
from cloudify.exceptions import NonRecoverableError
from cloudify.state import current_ctx
from helpers.fakes import api_error, fake_api, fake_engine
from helpers.mock_ctx import node_ctx

from docker_plugin.tasks.network import lifecycle as network
from docker_plugin.tasks.volume import lifecycle as volume

NET_INFO = {'Id': 'n' * 64, 'Name': 'dep-net', 'Driver': 'bridge', 'Internal': True,
            'Labels': {'cloudify.deployment': 'dep', 'cloudify.node-instance': 'net_abc'},
            'IPAM': {'Config': [{'Subnet': '10.9.0.0/24', 'Gateway': '10.9.0.1'}]},
            'Containers': {}}


@pytest.fixture
def make_ctx():
    def make(properties=None, runtime=None, node='net'):
        return node_ctx('dep', properties, runtime, node=node, instance=f'{node}_abc')
    yield make
    current_ctx.clear()


def test_network_create_labels_it_and_records_it(make_ctx):
    api = fake_api()
    api.inspect_network.side_effect = [api_error(404, 'no such', docker.errors.NotFound),
                                       NET_INFO]
    api.create_network.return_value = {'Id': 'n' * 64}
    ctx = make_ctx({'name': 'dep-net', 'network_config': {'internal': True}})
    with fake_engine(api):
        network.create(ctx=ctx)
    kwargs = api.create_network.call_args.kwargs
    assert kwargs['internal'] is True and kwargs['labels']['cloudify.node-instance'] == 'net_abc'
    props = ctx.instance.runtime_properties
    assert (props['network_id'], props['subnets'], props['adopted']) == (
        'n' * 64, ['10.9.0.0/24'], False)


def test_a_network_the_engine_refuses_names_network_config(make_ctx):
    api = fake_api()
    api.inspect_network.side_effect = api_error(404, 'no such', docker.errors.NotFound)
    api.create_network.side_effect = api_error(400, 'invalid subnet: overlaps')
    with fake_engine(api), pytest.raises(NonRecoverableError,
                                         match=r'^network_config: the engine refused'):
        network.create(ctx=make_ctx({'network_config': {}}))


def test_a_strangers_network_is_not_taken(make_ctx):
    api = fake_api()
    api.inspect_network.return_value = {**NET_INFO, 'Labels': {}}
    with fake_engine(api), pytest.raises(NonRecoverableError, match=r'^name: network x already '
                                                                    'exists'):
        network.create(ctx=make_ctx({'name': 'x'}))
    api.create_network.assert_not_called()


def test_network_delete_also_removes_what_it_made_but_never_recorded(make_ctx):
    api = fake_api()
    api.networks.return_value = [{'Id': 'o' * 64, 'Name': 'orphan', 'Labels': {
        'cloudify.deployment': 'dep', 'cloudify.node': 'net',
        'cloudify.node-instance': 'net_abc'}}]
    api.inspect_network.side_effect = lambda ref: {**NET_INFO, 'Id': ref}
    ctx = make_ctx(runtime={'network_id': 'n' * 64, 'network_name': 'dep-net'})
    with fake_engine(api):
        network.delete(ctx=ctx)  # the recorded one, and what carries the instance's labels
    assert [c.args[0] for c in api.remove_network.call_args_list] == ['n' * 64, 'o' * 64]
    api.remove_network.reset_mock()
    ctx = make_ctx()  # create died before it could record the network
    with fake_engine(api):
        network.delete(ctx=ctx)
    assert [c.args[0] for c in api.remove_network.call_args_list] == ['o' * 64]
    filters = api.networks.call_args.kwargs['filters']['label']  # this instance's only
    assert sorted(filters) == ['cloudify.deployment=dep', 'cloudify.node-instance=net_abc',
                               'cloudify.node=net']
    assert 'network_id' not in ctx.instance.runtime_properties


def test_an_adopted_network_is_kept(make_ctx):
    api = fake_api()
    ctx = make_ctx(runtime={'network_id': 'n' * 64, 'network_name': 'theirs',
                            'adopted': True})
    with fake_engine(api):
        network.delete(ctx=ctx)
    api.remove_network.assert_not_called()


def test_network_update_recreates_only_an_unused_network(make_ctx):
    api = fake_api()
    api.inspect_network.return_value = {**NET_INFO, 'Internal': False}
    api.create_network.return_value = {'Id': 'm' * 64}
    ctx = make_ctx({'network_config': {'internal': True}},
                   runtime={'network_id': 'n' * 64, 'network_name': 'dep-net'})
    with fake_engine(api):
        network.update(ctx=ctx)
    api.remove_network.assert_called_once_with('n' * 64)
    assert api.create_network.call_args.kwargs['internal'] is True
    api.containers.return_value = [{'Id': 'c' * 64, 'Names': ['/user']}]
    with fake_engine(api), pytest.raises(NonRecoverableError, match='containers user use it'):
        network.update(ctx=ctx)


def test_volume_update_refuses_drift_and_delete_keeps_retained(make_ctx):
    api = fake_api()
    api.inspect_volume.return_value = {'Name': 'v', 'Driver': 'local', 'Labels': {}}
    ctx = make_ctx({'volume_config': {'labels': {'tier': 'gold'}}, 'retain': True},
                   runtime={'volume_name': 'v'}, node='vol')
    with fake_engine(api), pytest.raises(NonRecoverableError, match='labels changed'):
        volume.update(ctx=ctx)
    with fake_engine(api):
        assert volume.check_drift(ctx=ctx)[0]['option'] == 'labels'
        volume.delete(ctx=ctx)
    api.remove_volume.assert_not_called()
    assert 'volume_name' not in ctx.instance.runtime_properties


@pytest.mark.parametrize(('op', 'kwargs', 'field'), [
    (network.create, {'network_config': {'driver': 5}}, 'network_config.driver'),
    (network.create, {'network_config': {'ipam': {'config': [{'subnet': 'x'}]}}},
     'network_config.ipam.config[0].subnet'),
    (network.create, {'name': 'bad name'}, 'name'),
    (network.create, {'use_if_exists': 'yes'}, 'use_if_exists'),
    (volume.create, {'volume_config': {'driver_opts': {'o': [1]}}}, 'volume_config.driver_opts.o'),
    (volume.create, {'volume_config': 'x'}, 'volume_config'),
])
def test_bad_input_fails_before_the_engine(make_ctx, op, kwargs, field):
    down = {'base_url': 'tcp://127.0.0.1:9', 'version': '1.41', 'timeout': 1}
    with pytest.raises(NonRecoverableError) as failure:
        op(ctx=make_ctx(), daemon_client=down, **kwargs)
    assert str(failure.value).startswith(f'{field}:'), str(failure.value)


def test_what_0_2_0_recorded_as_adopted_stays_adopted(make_ctx):
    """An upgraded plugin reads the adoption 0.2.0 recorded (``network_adopted``): it never
    removes what a deployment made before the upgrade adopted."""
    api = fake_api()
    ctx = make_ctx(runtime={'network_id': 'n' * 64, 'network_name': 'theirs',
                            'network_adopted': True})
    with fake_engine(api):
        network.delete(ctx=ctx)
    api.remove_network.assert_not_called()
    assert 'network_adopted' not in ctx.instance.runtime_properties


def test_a_create_that_died_before_recording_reuses_what_it_made(make_ctx):
    """Found again by this instance's labels, whatever its name: reused, not made twice,
    and recorded as made (not adopted)."""
    api = fake_api()
    api.networks.return_value = [NET_INFO]
    ctx = make_ctx({'name': 'another-name'})
    with fake_engine(api):
        network.create(ctx=ctx)
    api.create_network.assert_not_called()
    props = ctx.instance.runtime_properties
    assert (props['network_id'], props['adopted']) == ('n' * 64, False)


def test_retain_keeps_even_what_was_never_recorded(make_ctx):
    api = fake_api()
    api.volumes.return_value = {'Volumes': [{'Name': 'made-before-a-crash'}]}
    ctx = make_ctx({'retain': True}, node='vol')
    with fake_engine(api):
        volume.delete(ctx=ctx)
    api.remove_volume.assert_not_called()
