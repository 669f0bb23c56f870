"""The fault tier for ssh:// engines, on the real test host (tests/helpers/ssh_engine.py).

Passing trouble is retried (a ``RecoverableError`` that says the host is
unreachable), and the operation converges once it passes: sshd going down in
the middle of an operation, the host's network down, its engine stopped.
Mistakes a retry cannot fix fail at once, naming the ``daemon_client`` field:
a key the host refuses, a host key ``known_hosts`` does not hold or holds
another one for, a port nothing listens on. Nothing is left on the host: no
session, no container.
"""

from __future__ import annotations

import threading
import time

import pytest
from cloudify.exceptions import NonRecoverableError, RecoverableError
from helpers.mock_ctx import node_ctx
from helpers.ssh_engine import generate_key

from docker_plugin import tasks

pytestmark = [pytest.mark.engine, pytest.mark.fault]
BASE = 'docker-plugin/busybox:latest'
DEAF = "trap '' TERM; while true; do sleep 0.2; done"  # ignores SIGTERM: a stop waits


def _deadline_sessions(ssh_host, timeout: float = 10) -> int:
    deadline = time.monotonic() + timeout
    while len(ssh_host.sshd_pids()) > 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    return len(ssh_host.sshd_pids())


def _labelled(ssh_host, deployment: str) -> list[str]:
    return ssh_host.docker('ps', '-aq', '--filter',
                           f'label=cloudify.deployment={deployment}').split()


def test_sshd_going_down_mid_operation_is_retried_and_converges(ssh_host, unique):
    ctx = node_ctx(unique, {'daemon_client': ssh_host.daemon_client(),
                            'container_config': {'image': BASE, 'command': ['sh', '-c', DEAF]},
                            'container_stop': {'timeout': 8}})
    try:
        tasks.configure(ctx=ctx)
        tasks.run(ctx=ctx)
        killer = threading.Timer(2, ssh_host.kill_sshd)
        killer.start()
        started = time.monotonic()
        with pytest.raises(RecoverableError) as failure:
            tasks.stop(ctx=ctx)  # the engine needs 8 s to stop it; sshd goes after 2 s
        elapsed = time.monotonic() - started
        killer.join(30)
        assert elapsed < 7, f'the operation outlived its connection by {elapsed - 2:.1f} s'
        assert 'unreachable' in str(failure.value)
        ssh_host.start_sshd()
        tasks.stop(ctx=ctx)  # Cloudify's retry, once sshd is back
        state = ssh_host.docker('inspect', '--format', '{{.State.Status}}',
                                ctx.instance.runtime_properties['container_id'])
        assert state == 'exited'
    finally:
        if not ssh_host.sshd_pids():
            ssh_host.start_sshd()
        tasks.delete(ctx=ctx)
    assert _labelled(ssh_host, unique) == []
    assert _deadline_sessions(ssh_host) == 1


def test_the_hosts_network_down_is_retried_and_converges(ssh_host, unique):
    daemon = {**ssh_host.daemon_client(), 'ssh_timeout': 3}
    ctx = node_ctx(unique, {'daemon_client': daemon,
                            'container_config': {'image': BASE, 'command': ['sleep', '60']},
                            'container_stop': {'timeout': 0}})
    ssh_host.unplug()
    try:
        started = time.monotonic()
        with pytest.raises(RecoverableError, match='SSH host unreachable'):
            tasks.configure(ctx=ctx)
        assert time.monotonic() - started < 10  # ssh_timeout, not the engine's 60 s
    finally:
        ssh_host.plug()
    try:
        tasks.configure(ctx=ctx)  # the retry
        assert len(_labelled(ssh_host, unique)) == 1
    finally:
        tasks.delete(ctx=ctx)
    assert _labelled(ssh_host, unique) == []


def test_the_engine_stopped_on_the_host_is_retried(ssh_host, unique):
    """sshd answers, but `docker system dial-stdio` finds no engine there: the error
    quotes the host, and is passing."""
    ctx = node_ctx(unique, {'daemon_client': ssh_host.daemon_client(),
                            'container_config': {'image': BASE, 'command': ['sleep', '60']},
                            'container_stop': {'timeout': 0}})
    ssh_host.stop_engine()
    try:
        with pytest.raises(RecoverableError) as failure:
            tasks.configure(ctx=ctx)
        assert 'unreachable from there' in str(failure.value)
        assert '/var/run/docker.sock' in str(failure.value)  # what the host said
    finally:
        ssh_host.start_engine()
    try:
        tasks.configure(ctx=ctx)
        assert len(_labelled(ssh_host, unique)) == 1
    finally:
        tasks.delete(ctx=ctx)
    assert _deadline_sessions(ssh_host) == 1


def _mistakes(ssh_host) -> dict[str, tuple[dict, str, str]]:
    """name -> (daemon_client, the field named, what the message says)."""
    good = ssh_host.daemon_client()
    _, stranger = generate_key()
    return {
        'a key the host refuses': (
            {**good, 'ssh_key': ssh_host.outsider_key}, 'ssh_key', 'refused the key'),
        'a host key known_hosts does not hold': (
            {**good, 'known_hosts': ssh_host.known_hosts(2222)}, 'known_hosts',
            f'holds no key for {ssh_host.address}'),
        'a changed host key': (
            {**good, 'known_hosts': f'{ssh_host.address} {stranger}'}, 'known_hosts',
            'someone is in between'),
        'a port nothing listens on': (
            {**good, 'base_url': f'{good["base_url"]}:2223',
             'known_hosts': f'[{ssh_host.address}]:2223 {ssh_host.host_public}'}, 'base_url',
            'connection refused'),
    }


@pytest.mark.parametrize('mistake', ['a key the host refuses', 'a host key known_hosts does '
                                     'not hold', 'a changed host key',
                                     'a port nothing listens on'])
def test_mistakes_fail_at_once_naming_the_field(ssh_host, unique, mistake):
    daemon, field, says = _mistakes(ssh_host)[mistake]
    ctx = node_ctx(unique, {'daemon_client': daemon, 'container_config': {'image': BASE}})
    started = time.monotonic()
    with pytest.raises(NonRecoverableError) as failure:
        tasks.configure(ctx=ctx)
    assert time.monotonic() - started < 10
    message = str(failure.value)
    assert message.startswith(f'daemon_client.{field}: ') and says in message
    assert _labelled(ssh_host, unique) == [] and _deadline_sessions(ssh_host) == 1
