"""Secret canaries for ssh:// engines: the private key (an encrypted one, and a plain one)
and its passphrase, through every container operation and action on the real test
host, the failures that involve them, and a whole blueprint run by local workflows.

Every log record at every level (paramiko's, the SDK's and urllib3's too), every
event a workflow prints, every runtime property and every exception text is
searched, and every file in the temporary directory, /dev/shm and ~/.ssh: zero
hits. The key is read in memory only, so no file may ever hold it.
"""

from __future__ import annotations

import logging
import os
import tempfile
import uuid
from pathlib import Path

import pytest
from cloudify.exceptions import WorkflowFailed
from cryptography.hazmat.primitives import serialization as ser
from cryptography.hazmat.primitives.asymmetric import ed25519
from helpers.cloudify_local import TYPES_URL, LocalRun
from helpers.leftovers import files_holding
from helpers.mock_ctx import node_ctx
from test_secret_canaries import Sightings

from docker_plugin import tasks
from docker_plugin.tasks.container import commands as container_commands
from docker_plugin.tasks.container import controls as container_actions
from docker_plugin.tasks.container import lifecycle as container_state

pytestmark = [pytest.mark.engine, pytest.mark.canary]
REPO = Path(__file__).resolve().parents[2]
BASE = 'docker-plugin/busybox:latest'
ROOTS = [r for r in (tempfile.gettempdir(), '/dev/shm', os.path.expanduser('~/.ssh'))
         if os.path.isdir(r)]


@pytest.fixture
def sightings(caplog):
    caplog.set_level(logging.DEBUG)
    for name in ('urllib3', 'docker', 'requests', 'paramiko', 'docker_plugin'):
        logging.getLogger(name).setLevel(logging.DEBUG)
    return Sightings(caplog)


def _lines(key_text: str) -> list[str]:
    return [line for line in key_text.splitlines() if line and not line.startswith('-----')]


@pytest.fixture
def encrypted_key(ssh_host):
    """A key of the test user's, encrypted: (its text, its passphrase)."""
    key = ed25519.Ed25519PrivateKey.generate()
    passphrase = f'canary-pass-{uuid.uuid4().hex}'
    ssh_host.authorize(key.public_key().public_bytes(ser.Encoding.OpenSSH,
                                                     ser.PublicFormat.OpenSSH).decode())
    text = key.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.OpenSSH,
                             ser.BestAvailableEncryption(passphrase.encode())).decode()
    return text, passphrase


def _assert_nowhere(sightings, *canaries):
    sightings.assert_unseen(*canaries)
    for canary in canaries:
        assert files_holding(canary, ROOTS) == [], 'a file holds a secret'


def test_the_key_and_its_passphrase_through_every_operation(sightings, unique, ssh_host,
                                                            encrypted_key):
    text, passphrase = encrypted_key
    daemon = {**ssh_host.daemon_client(), 'ssh_key': text, 'ssh_key_passphrase': passphrase}
    ctx = node_ctx(unique, {'daemon_client': daemon, 'container_stop': {'timeout': 0},
                            'container_config': {'image': BASE, 'command': [
                                'sh', '-c', 'echo up; sleep 300']}})
    try:
        tasks.create(ctx=ctx)
        tasks.configure(ctx=ctx)
        tasks.run(ctx=ctx)
        container_state.check_status(ctx=ctx)
        container_state.check_drift(ctx=ctx)
        container_actions.inspect(ctx=ctx)
        container_actions.logs(ctx=ctx, tail='all')
        container_commands.exec_command(ctx=ctx, command='true')
        # Failures around the key: a wrong passphrase, a key the host refuses (the other
        # user's: a canary too), and a host key that changed.
        sightings.error(tasks.configure, ctx=ctx, daemon_client={
            **daemon, 'ssh_key_passphrase': passphrase[::-1]})
        sightings.error(tasks.configure, ctx=ctx, daemon_client={
            **daemon, 'ssh_key': ssh_host.outsider_key, 'ssh_key_passphrase': None})
        sightings.error(tasks.configure, ctx=ctx, daemon_client={
            **daemon, 'known_hosts': ssh_host.known_hosts(2222)})
        sightings.props(ctx)
        tasks.stop(ctx=ctx)
    finally:
        tasks.delete(ctx=ctx)
    sightings.props(ctx)
    logged = '\n'.join(r.getMessage() for r in sightings.caplog.records)
    assert 'paramiko' in {r.name.split('.')[0] for r in sightings.caplog.records}, \
        "paramiko's own debug log was not searched"
    assert 'daemon_client.ssh_key_passphrase' in '\n'.join(sightings.texts) and logged
    _assert_nowhere(sightings, passphrase, *_lines(text), *_lines(ssh_host.outsider_key))


def test_events_of_a_whole_blueprint_over_ssh(sightings, unique, tmp_path, capsys, ssh_host,
                                              docker_client):
    """install, an action, a failing action and uninstall through local workflows, the
    key given as an input (as get_secret would give it): every event printed."""
    blueprint = tmp_path / 'ssh.yaml'
    blueprint.write_text(f"""tosca_definitions_version: cloudify_dsl_1_5
imports:
  - {TYPES_URL}
  - {REPO / 'plugin.yaml'}
inputs:
  engine_ssh_key: {{type: string}}
  known_hosts: {{type: string}}
  url: {{type: string}}
node_templates:
  app:
    type: cloudify.nodes.docker.Container
    properties:
      daemon_client:
        base_url: {{get_input: url}}
        ssh_key: {{get_input: engine_ssh_key}}
        known_hosts: {{get_input: known_hosts}}
      container_config:
        image: {BASE}
        command: [sh, -c, 'echo up over ssh; sleep 300']
      container_stop: {{timeout: 0}}
""")
    daemon = ssh_host.daemon_client()
    run = LocalRun(blueprint, unique, {'engine_ssh_key': daemon['ssh_key'],
                                       'known_hosts': daemon['known_hosts'],
                                       'url': daemon['base_url']})
    try:
        run.install()
        assert run.props('app')['state'] == 'running'
        run.operation('docker.interfaces.container.logs', tail='all')
        with pytest.raises(WorkflowFailed) as failure:
            run.operation('docker.interfaces.container.exec', expected_exit_code=0,
                          command=['sh', '-c', 'exit 3'])
        sightings.texts.append(str(failure.value))
        sightings.texts.append(str([dict(i.runtime_properties) for i in run.instances('app')]))
        run.uninstall()
    finally:
        run.teardown()
    events = capsys.readouterr().out
    sightings.texts.append(events)
    assert 'exited with code 3' in events and 'Removed container' in events  # to search
    assert ssh_host.docker('ps', '-aq', '--filter', f'label=cloudify.deployment={unique}') == ''
    assert docker_client.containers.list(
        all=True, filters={'label': f'cloudify.deployment={unique}'}) == []
    _assert_nowhere(sightings, *_lines(daemon['ssh_key']))
