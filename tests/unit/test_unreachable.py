"""An engine that does not answer at all: classified as unreachable (the connection never
opened), retried within ``daemon_client.unreachable_timeout`` from the first failure,
then a permanent failure naming the field that holds the address.

The connections here are real (a closed port on 127.0.0.1, a socket path that does not
exist): no engine is needed. The whole-blueprint cases, through ``cfy``, are in
tests/adversarial/test_faults_reruns.py.
"""

from __future__ import annotations

import socket
import time
from unittest import mock

import pytest
from cloudify.exceptions import NonRecoverableError, RecoverableError
from cloudify.state import current_ctx
from helpers.mock_ctx import node_ctx

from docker_plugin.client import open_client, resolve_config
from docker_plugin.errors import InvalidInputError, PluginError, UnreachableError
from docker_plugin.tasks.network import lifecycle as network
from docker_plugin.tasks.operation import RETRY_AFTER


def closed_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.fixture
def make_ctx():
    def make(retry=0, runtime=None, execution='ex1'):
        ctx = node_ctx('dep', {}, runtime if runtime is not None else {}, node='net',
                       instance='net_abc', retry=retry, max_retries=-1,
                       operation='cloudify.interfaces.lifecycle.create')
        ctx._execution_id = execution
        return ctx
    yield make
    current_ctx.clear()


@pytest.mark.parametrize(('address', 'reason'), [
    (lambda tmp: f'tcp://127.0.0.1:{closed_port()}', 'connection refused'),
    (lambda tmp: f'unix://{tmp}/docker.sock', 'no such socket file'),
])
def test_a_connection_that_never_opens_is_unreachable(tmp_path, address, reason):
    config = resolve_config({'base_url': address(tmp_path), 'timeout': 5})
    with pytest.raises(PluginError) as failure, open_client(config):
        pass
    assert isinstance(failure.value, UnreachableError)
    assert failure.value.reason == reason
    assert str(failure.value).endswith(f'Docker engine unreachable ({reason})')


def test_the_first_failure_is_kept_and_the_budget_ends_the_retries(make_ctx):
    address = f'tcp://127.0.0.1:{closed_port()}'
    ctx = make_ctx()
    with pytest.raises(RecoverableError) as failure:
        network.create(ctx=ctx, daemon_client={'base_url': address})
    message = str(failure.value)
    assert 'Docker engine unreachable (connection refused)' in message
    assert f'[daemon_client.base_url: {address}; tried 1 time in 0s' in message
    assert 'until 30s after the first failure (daemon_client.unreachable_timeout)' in message
    kept = dict(ctx.instance.runtime_properties['_unreachable'])
    assert (kept['operation'], kept['execution'], kept['tries']) == (
        'cloudify.interfaces.lifecycle.create', 'ex1', 1)

    # Cloudify retries, 20 s later: still within the budget.
    ctx = make_ctx(retry=1, runtime={'_unreachable': {**kept, 'since': time.time() - 20}})
    with pytest.raises(RecoverableError, match='tried 2 times in 20s') as failure:
        network.create(ctx=ctx, daemon_client={'base_url': address})
    assert failure.value.retry_after <= RETRY_AFTER

    # 31 s after the first failure: permanent, naming the field, the address, the tries.
    ctx = make_ctx(retry=2, runtime={'_unreachable': {**kept, 'tries': 2,
                                                      'since': time.time() - 31}})
    with pytest.raises(NonRecoverableError) as failure:
        network.create(ctx=ctx, daemon_client={'base_url': address})
    assert str(failure.value) == (
        f'daemon_client.base_url: the Docker engine at {address} is unreachable (connection '
        'refused); tried 3 times in 31s, and daemon_client.unreachable_timeout is 30s: '
        'correct the address or start the engine, then run the workflow again')


def test_a_record_of_another_operation_or_execution_starts_anew(make_ctx):
    address = f'tcp://127.0.0.1:{closed_port()}'
    old = {'operation': 'cloudify.interfaces.lifecycle.create', 'execution': 'ex0',
           'since': time.time() - 500, 'tries': 9}
    ctx = make_ctx(retry=3, runtime={'_unreachable': old})
    with pytest.raises(RecoverableError, match='tried 1 time in 0s'):
        network.create(ctx=ctx, daemon_client={'base_url': address})


def test_the_budget_and_the_field_are_the_blueprints(make_ctx, tmp_path):
    ctx = make_ctx()
    with pytest.raises(NonRecoverableError) as failure:
        network.create(ctx=ctx, daemon_client={'host': '127.0.0.1', 'port': closed_port(),
                                               'unreachable_timeout': 0})
    assert str(failure.value).startswith('daemon_client.host: the Docker engine at '
                                         'tcp://127.0.0.1:')
    with mock.patch.dict('os.environ', {'DOCKER_HOST': f'unix://{tmp_path}/d.sock'}), \
            pytest.raises(RecoverableError) as failure:
        network.create(ctx=make_ctx(), daemon_client={})
    assert f'[daemon_client.base_url (not set: DOCKER_HOST gave it): unix://{tmp_path}/d.sock' \
        in str(failure.value)
    with pytest.raises(InvalidInputError, match=r'daemon_client\.unreachable_timeout'):
        resolve_config({'unreachable_timeout': -1})


def test_reaching_the_engine_again_forgets_the_first_failure(make_ctx):
    ctx = make_ctx(retry=1, runtime={'_unreachable': {'operation': 'x', 'since': 1.0,
                                                      'tries': 1},
                                     'network_id': 'n' * 64})
    api = mock.MagicMock()
    api.inspect_network.return_value = {'Id': 'n' * 64, 'Name': 'x'}
    from helpers.fakes import fake_engine
    with fake_engine(api):
        network.check_status(ctx=ctx)
    assert '_unreachable' not in ctx.instance.runtime_properties


def test_an_engine_gone_after_its_version_was_recorded_is_named_the_same(make_ctx):
    """With ``_engine_api`` recorded nothing is asked at connect: the first call in the
    block finds the engine gone, and the failure still names the field and the budget."""
    address = f'tcp://127.0.0.1:{closed_port()}'
    ctx = make_ctx(runtime={'_engine_api': {'base_url': address, 'version': '1.41'},
                            '_engine_reached': True})
    with pytest.raises(RecoverableError) as failure:
        network.create(ctx=ctx, daemon_client={'base_url': address})
    assert f'[daemon_client.base_url: {address}; tried 1 time' in str(failure.value)


def test_a_block_that_finds_no_engine_does_not_record_reaching_it(make_ctx):
    """A fixed API version asks nothing at connect: only a block that ends other than
    unreachable says the engine was reached."""
    address = f'tcp://127.0.0.1:{closed_port()}'
    ctx = make_ctx()
    with pytest.raises(RecoverableError, match='unreachable'):
        network.create(ctx=ctx, daemon_client={'base_url': address, 'version': '1.41'})
    assert '_engine_reached' not in ctx.instance.runtime_properties
    assert '_engine_api' not in ctx.instance.runtime_properties
