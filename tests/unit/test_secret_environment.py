"""secret_environment values never reach what the plugin writes.

The engine cannot be made to echo an environment value in an error on
demand, so this uses a fake API whose create call fails with a message that
contains the secret (an error path that cannot be produced for real).
"""

from __future__ import annotations

import logging

import docker.errors
import pytest
from cloudify.exceptions import NonRecoverableError
from cloudify.state import current_ctx
from helpers.fakes import api_error, fake_api, fake_engine
from helpers.mock_ctx import node_ctx

from docker_plugin import tasks

SECRET = 'hunter2-but-longer-0xDEADBEEF'


@pytest.fixture
def ctx():
    context = node_ctx('dep', runtime={'image': 'docker-plugin/busybox:latest'}, node='c1',
                       instance='c1_abc', operation='configure')
    yield context
    current_ctx.clear()


def test_secret_values_are_masked_in_errors_logs_and_runtime_properties(ctx, caplog):
    api = fake_api()
    api.inspect_container.side_effect = docker.errors.NotFound('no such container')
    api.create_container.side_effect = api_error(
        400, f'invalid environment value API_KEY={SECRET} for container')
    caplog.set_level(logging.DEBUG)
    with fake_engine(api), pytest.raises(NonRecoverableError) as failure:
        tasks.configure(ctx=ctx, container_config={
            'name': 'c', 'environment': {'PLAIN': 'visible'},
            'secret_environment': {'API_KEY': SECRET}})

    # The engine was given the value...
    env = api.create_container.call_args.kwargs['environment']
    assert env == {'PLAIN': 'visible', 'API_KEY': SECRET}
    # ...and nothing the plugin wrote holds it.
    assert SECRET not in str(failure.value) and '******' in str(failure.value)
    assert SECRET not in repr(dict(ctx.instance.runtime_properties))
    assert all(SECRET not in record.getMessage() for record in caplog.records)
    # The SDK's exception (which holds the secret) is not chained into the report.
    assert failure.value.__cause__ is None and failure.value.__suppress_context__ is True


def test_secret_environment_must_be_a_mapping(ctx):
    with pytest.raises(NonRecoverableError, match=r'container_config\.secret_environment'):
        tasks.configure(ctx=ctx, container_config={'secret_environment': ['A=b']})
