"""ssh:// engines against a real sshd: the plugin's tasks drive an engine that listens
only on a unix socket on its own test host (tests/helpers/ssh_engine.py), reached as
ssh://user@host with the key given as text, as from a Cloudify secret."""

from __future__ import annotations

import json
import threading
import time
import uuid

import pytest
from cloudify.exceptions import NonRecoverableError, RecoverableError
from cryptography.hazmat.primitives import serialization as ser
from cryptography.hazmat.primitives.asymmetric import rsa
from helpers.mock_ctx import node_ctx

from docker_plugin import tasks
from docker_plugin.client import open_client, resolve_config
from docker_plugin.tasks.container import commands as container_commands
from docker_plugin.tasks.container import controls as container_actions
from docker_plugin.tasks.image import lifecycle as image_tasks

pytestmark = pytest.mark.engine
BASE = 'docker-plugin/busybox:latest'


def _labelled(ssh_host, deployment: str) -> list[dict]:
    out = ssh_host.docker('ps', '-a', '--no-trunc', '--format', '{{json .}}', '--filter',
                          f'label=cloudify.deployment={deployment}')
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def _sessions_end(ssh_host, timeout: float = 10) -> list[int]:
    """The sshd processes left once clients closed: the listener only, within ``timeout``."""
    deadline = time.monotonic() + timeout
    while len(ssh_host.sshd_pids()) > 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    return ssh_host.sshd_pids()


def test_a_container_lifecycle_through_the_tasks_over_ssh(ssh_host, docker_client, unique):
    daemon = ssh_host.daemon_client()
    ctx = node_ctx(unique, {'daemon_client': daemon, 'container_stop': {'timeout': 0},
                            'container_config': {'image': BASE, 'command': [
                                'sh', '-c', 'echo started over ssh; sleep 300']}})
    try:
        tasks.create(ctx=ctx)
        tasks.configure(ctx=ctx)
        tasks.run(ctx=ctx)
        props = dict(ctx.instance.runtime_properties)
        assert props['state'] == 'running'
        assert props['ip'].startswith(ssh_host.subnet_prefix)  # the test host's bridge
        (found,) = _labelled(ssh_host, unique)  # by the engine's own socket, not over SSH
        assert found['ID'] == props['container_id']
        assert docker_client.containers.list(
            all=True, filters={'label': f'cloudify.deployment={unique}'}) == []
        container_commands.exec_command(ctx=ctx, command=['sh', '-c', 'echo $((6 * 7))'])
        assert ctx.instance.runtime_properties['exec']['data']['stdout'].strip() == '42'
        container_actions.logs(ctx=ctx, tail='all')
        assert 'started over ssh' in json.dumps(ctx.instance.runtime_properties['logs'])
        # A command past its timeout is stopped at it: the deadline closes the SSH channel
        # under the stream (a paramiko reader wakes only then).
        started = time.monotonic()
        with pytest.raises((NonRecoverableError, RecoverableError)):
            container_commands.exec_command(ctx=ctx, timeout=2, command=['sleep', '60'])
        assert time.monotonic() - started < 20
        tasks.stop(ctx=ctx)
        assert _labelled(ssh_host, unique)[0]['State'] == 'exited'
    finally:
        tasks.delete(ctx=ctx)
    assert _labelled(ssh_host, unique) == []
    assert len(_sessions_end(ssh_host)) == 1  # every operation closed its session


def test_an_image_is_imported_and_pulled_over_ssh(ssh_host, docker_client, rootfs_tar, unique):
    """A tarball on this host streamed to the engine through the channel, and a pull by
    that engine from a registry on its own host, reported back over SSH."""
    daemon = ssh_host.daemon_client()
    reference = ssh_host.start_registry(BASE) if ssh_host.registry is None else \
        '127.0.0.1:5000/dpt/base:1'
    repository = f'dpt-ssh/{unique}'
    imported = node_ctx(unique, {'daemon_client': daemon, 'image_import': {
        'src': str(rootfs_tar), 'repository': repository, 'tag': 'v1'}}, node='imported')
    pulled = node_ctx(unique, {'daemon_client': daemon, 'image_pull': {
        'repository': reference, 'policy': 'always'}}, node='pulled')
    try:
        image_tasks.create(ctx=imported)
        image_id = imported.instance.runtime_properties['image_id']
        assert ssh_host.docker('image', 'inspect', '--format', '{{.Id}}',
                               f'{repository}:v1') == image_id
        assert not docker_client.images.list(name=repository)  # not on this machine's engine
        image_tasks.create(ctx=pulled)
        digests = ssh_host.docker('image', 'inspect', '--format', '{{json .RepoDigests}}',
                                  reference)
        assert '127.0.0.1:5000/dpt/base@sha256:' in digests
        assert pulled.instance.runtime_properties['image_id'] == ssh_host.docker(
            'image', 'inspect', '--format', '{{.Id}}', reference)
    finally:
        image_tasks.delete(ctx=imported)
        image_tasks.delete(ctx=pulled)
    assert ssh_host.docker('image', 'ls', '-q', f'{repository}:v1') == ''


def test_another_port_a_hashed_known_hosts_line_and_an_encrypted_rsa_key(ssh_host):
    """What users bring: sshd on a port of its own, a hashed known_hosts (as
    HashKnownHosts writes it), an RSA key in PEM encrypted with a passphrase."""
    import paramiko
    key = rsa.generate_private_key(65537, 3072)
    passphrase = f'pass {uuid.uuid4().hex}'
    ssh_host.authorize(key.public_key().public_bytes(ser.Encoding.OpenSSH,
                                                     ser.PublicFormat.OpenSSH).decode())
    text = key.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.TraditionalOpenSSL,
                             ser.BestAvailableEncryption(passphrase.encode())).decode()
    hashed = paramiko.HostKeys.hash_host(f'[{ssh_host.address}]:2222')
    daemon = {**ssh_host.daemon_client(port=2222), 'ssh_key': text,
              'ssh_key_passphrase': passphrase, 'version': '1.41',
              'known_hosts': f'# from ssh-keyscan -H\n{hashed} {ssh_host.host_public}\n'}
    with open_client(resolve_config(daemon, {})) as engine:
        assert engine.info()['DockerRootDir'] == str(ssh_host.workdir / 'data')
        assert engine.api.api_version == '1.41'


def test_a_user_the_engine_does_not_allow_is_told_so_at_once(ssh_host, unique):
    """sshd lets the user in, but the engine's socket does not: the error quotes the
    host and names base_url (no retry can fix it). Fifteen times: the host's exit status
    arrives after the connection has failed, and must still be read."""
    daemon = ssh_host.daemon_client(user=ssh_host.outsider, key=ssh_host.outsider_key)
    ctx = node_ctx(unique, {'daemon_client': daemon, 'container_config': {'image': BASE}})
    for _ in range(15):
        with pytest.raises(NonRecoverableError) as failure:
            tasks.configure(ctx=ctx)
        message = str(failure.value)
        assert message.startswith('daemon_client.base_url: the SSH user may not use the '
                                  f'Docker engine on {ssh_host.outsider}@{ssh_host.address}:22')
        assert 'permission denied' in message
    assert len(_sessions_end(ssh_host)) == 1


def test_operations_on_threads_share_nothing_but_the_host(ssh_host, unique):
    """Local workflows run operations on threads of one process: each opens its own
    session, and the first of them loads paramiko for all."""
    errors: list[str] = []
    versions: list[str] = []
    barrier = threading.Barrier(6)

    def ask() -> None:
        barrier.wait()
        try:
            with open_client(resolve_config(ssh_host.daemon_client(), {})) as engine:
                versions.append(engine.version()['ApiVersion'])
        except Exception as exc:
            errors.append(repr(exc))
    threads = [threading.Thread(target=ask) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors and len(versions) == 6 and len(set(versions)) == 1
    assert len(_sessions_end(ssh_host)) == 1


def test_a_host_whose_owner_was_killed_is_reaped_by_the_next(docker_client, tmp_path):
    """The test host outlives a SIGKILLed test run (its daemons are sessions of their
    own); the next host made reaps it: processes, namespace, link, cgroups, files."""
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    from helpers.ssh_engine import SSHEngine, comm, owner_file, reap_stale
    code = ('import sys, time; sys.path.insert(0, sys.argv[1]); '
            'from helpers.ssh_engine import SSHEngine, _free_tag; '
            'tag = _free_tag(); SSHEngine(__import__("pathlib").Path(sys.argv[2]), tag).up('
            f'{BASE!r}); print(tag, flush=True); time.sleep(600)')
    tests = str(Path(__file__).resolve().parents[1])
    owner = subprocess.Popen([sys.executable, '-c', code, tests, str(tmp_path / 'host')],
                             stdout=subprocess.PIPE, text=True)
    try:
        tag = int(owner.stdout.readline())
        host = SSHEngine(tmp_path / 'host', tag)
        assert len(_sessions_end(host)) == 1 and owner_file(tag).exists()
        daemons = [pid for pid in host._in_namespace()
                   if comm(pid) in ('dockerd', 'containerd', 'sshd')]
        assert len(daemons) == 3, daemons
    finally:
        owner.send_signal(signal.SIGKILL)
        owner.wait(timeout=30)
    assert all(os.path.exists(f'/proc/{pid}') for pid in daemons)  # it outlived its owner
    assert tag in reap_stale()
    assert not os.path.exists(f'/var/run/netns/dpt-ssh-{tag}') and not owner_file(tag).exists()
    assert not any(os.path.exists(f'/proc/{pid}') and _state(pid) != 'Z' for pid in daemons)
    assert subprocess.run(['ip', 'link', 'show', f'dpk{tag}h'], capture_output=True,
                          timeout=30).returncode != 0
    assert not list(Path('/sys/fs/cgroup').glob(f'*/dpt-ssh-{tag}'))
    assert not (tmp_path / 'host' / 'data').exists()


def _state(pid: int) -> str:
    try:
        with open(f'/proc/{pid}/stat') as handle:
            return handle.read().rpartition(')')[2].split()[0]
    except OSError:
        return 'gone'
