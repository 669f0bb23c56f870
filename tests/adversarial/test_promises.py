"""Promises kept against a real engine: permanent refusals fail at once, timeouts
hold whatever a command prints, archives never hold a container, paths are
named, and "ready" on a port means the application answers."""

from __future__ import annotations

import socket
import time

import pytest
from cloudify.exceptions import NonRecoverableError
from cloudify.state import current_ctx
from helpers.mock_ctx import node_ctx

from docker_plugin import tasks
from docker_plugin.tasks.container import commands as container_commands
from docker_plugin.tasks.container import controls as container_actions

pytestmark = pytest.mark.engine
BASE = 'docker-plugin/busybox:latest'


@pytest.fixture
def container(unique, labelled):
    """Install a container from a config; removed after the test."""
    made = []

    def make(config, wait_for=None):
        ctx = node_ctx(unique, {
            'container_config': {'image': BASE, 'labels': labelled, **config},
            'container_stop': {'timeout': 0}, 'wait_for': wait_for or {}}, node='c')
        made.append(ctx)
        tasks.configure(ctx=ctx)
        return ctx

    yield make
    for ctx in made:
        current_ctx.set(ctx)
        tasks.delete(ctx=ctx)
    current_ctx.clear()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def test_a_user_the_image_lacks_fails_at_once(container):
    ctx = container({'command': ['sleep', '30'], 'user': 'nobody2'})
    started = time.monotonic()
    with pytest.raises(NonRecoverableError) as failure:
        tasks.run(ctx=ctx)
    assert time.monotonic() - started < 10
    message = str(failure.value)
    assert message.startswith('container_config.user: the engine could not start the '
                              'container')
    assert 'nobody2' in message and len(message) <= 4000


def test_exec_that_prints_nothing_is_stopped_at_its_timeout(container, docker_client):
    ctx = container({'command': ['sleep', '300']})
    tasks.run(ctx=ctx)
    started = time.monotonic()
    with pytest.raises(NonRecoverableError) as failure:
        container_commands.exec_command(ctx=ctx, command=['sleep', '30'], timeout=2)
    assert time.monotonic() - started < 10
    assert 'still running at its timeout; its processes were killed' in str(failure.value)
    assert ctx.instance.runtime_properties['exec']['data']['timed_out'] is True
    running = docker_client.containers.get(ctx.instance.runtime_properties['container_id'])
    assert [p[-1] for p in running.top()['Processes']] == ['sleep 300']
    # And a command that finishes in time still reports normally.
    container_commands.exec_command(ctx=ctx, command='echo done', timeout=5)
    assert ctx.instance.runtime_properties['exec']['data']['stdout'] == 'done\n'


def test_copy_from_refused_by_size_leaves_the_container_usable(container, docker_client,
                                                               tmp_path):
    ctx = container({'command': ['sh', '-c', 'head -c 2000000 /dev/zero > /big; sleep 300']})
    tasks.run(ctx=ctx)
    cid = ctx.instance.runtime_properties['container_id']
    deadline = time.monotonic() + 20
    while docker_client.containers.get(cid).exec_run('test -s /big').exit_code != 0:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    with pytest.raises(NonRecoverableError, match=r'^max_bytes: /big is larger than 1000'):
        container_commands.copy_from(ctx=ctx, source='/big', destination=str(tmp_path),
                                     max_bytes=1000)
    # The engine holds no lock on the container: pausing it answers at once.
    started = time.monotonic()
    container_actions.pause(ctx=ctx, timeout=10)
    container_actions.unpause(ctx=ctx, timeout=10)
    assert time.monotonic() - started < 5


def test_paths_that_do_not_exist_are_named(container, tmp_path):
    ctx = container({'command': ['sleep', '300']})
    tasks.run(ctx=ctx)
    (tmp_path / 'f.txt').write_text('x')
    with pytest.raises(NonRecoverableError, match=r"^destination: '/no/such' does not exist"):
        container_commands.copy_to(ctx=ctx, source=str(tmp_path / 'f.txt'),
                                   destination='/no/such')
    with pytest.raises(NonRecoverableError, match=r"^source: '/no/such' does not exist"):
        container_commands.copy_from(ctx=ctx, source='/no/such', destination=str(tmp_path))


def test_a_port_is_ready_when_the_application_answers(container):
    port = _free_port()
    ctx = container({'command': ['sh', '-c', 'sleep 3; mkdir -p /www; exec httpd -f -p 80 -h '
                                             '/www'],
                     'port_bindings': {80: ['127.0.0.1', port]}},
                    wait_for={'condition': 'port', 'port': 80, 'timeout': 20, 'interval': 0.3})
    started = time.monotonic()
    tasks.run(ctx=ctx)
    # The engine's proxy accepted on the host port from the start; the wait held on.
    assert time.monotonic() - started >= 2.5
    assert 'accepted a connection' in ctx.instance.runtime_properties['start_wait']['message']


def test_a_port_nothing_listens_on_is_never_ready(container):
    port = _free_port()
    ctx = container({'command': ['sleep', '300'], 'port_bindings': {80: ['127.0.0.1', port]}},
                    wait_for={'condition': 'port', 'port': 80, 'timeout': 3, 'interval': 0.3})
    with pytest.raises(NonRecoverableError) as failure:
        tasks.run(ctx=ctx)
    assert 'not ready after 3s' in str(failure.value)
    assert 'closed the connection at once' in str(failure.value)
