"""Secret canaries for ComposeProject: a ``secret_environment`` value, a value in an
env file and the TLS key of a remote engine, through every operation and
action, a failing ``up`` and a failing ``exec`` that quote the secret.

Every log record at every level (the SDK's and urllib3's too), every runtime
property, every exception text and every file left in the temporary
directory (but the tests' own) is searched: zero hits. The directories the
plugin makes for compose (the project directory of an inline definition,
the certificate directory of links) must be gone after each operation.

What the plugin cannot know is secret, it cannot mask: a value read from an
env file is only interpolated by compose; if a container prints it, the
``logs`` action shows it. The env-file canary is therefore checked where the
plugin itself could copy it (the model, the label override, drift, runtime
properties, the project directory), not in what a container prints.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import uuid
from pathlib import Path
from typing import Any

import pytest
from cloudify.exceptions import NonRecoverableError, RecoverableError, WorkflowFailed
from helpers.cloudify_local import TYPES_URL, LocalRun
from helpers.leftovers import files_holding
from helpers.mock_ctx import node_ctx
from helpers.tls import make_pki

from docker_plugin.resources.compose import process as compose_process
from docker_plugin.resources.compose.project import inline_directory
from docker_plugin.tasks.compose import commands as compose_actions
from docker_plugin.tasks.compose import lifecycle as compose
from docker_plugin.tasks.compose import lifecycle as compose_state

pytestmark = [pytest.mark.engine, pytest.mark.canary, pytest.mark.compose]
REPO = Path(__file__).resolve().parents[2]
BASE = 'docker-plugin/busybox:latest'
LOOP = "trap 'exit 0' TERM; while true; do sleep 0.2; done"


class Sightings:
    """Everything the plugin wrote, to be searched for canaries."""

    def __init__(self, caplog: Any, own: Path):
        self.caplog = caplog
        self.own = own  # the tests' own temporary files (the env file, the PKI)
        self.texts: list[str] = []

    def error(self, call: Any, *args: Any, **kwargs: Any) -> str:
        """Run a call that must fail; keep its message."""
        with pytest.raises((NonRecoverableError, RecoverableError)) as failure:
            call(*args, **kwargs)
        self.texts.append(str(failure.value))
        return str(failure.value)

    def props(self, ctx: Any) -> None:
        self.texts.append(json.dumps(dict(ctx.instance.runtime_properties), default=str))

    def logged(self) -> str:
        return '\n'.join(f'{r.name} {r.levelname} {r.getMessage()} {r.exc_text or ""}'
                         for r in self.caplog.records)

    def assert_unseen(self, *canaries: str) -> None:
        everything = '\n'.join([self.logged(), *self.texts])
        assert self.caplog.records, 'nothing was logged: the search would prove nothing'
        for canary in canaries:
            for piece in {canary, canary[:24], canary[-24:]}:
                assert piece not in everything, f'{piece!r} leaked'
            assert self.files_holding(canary) == [], 'a file left behind holds a secret'

    def files_holding(self, canary: str) -> list[str]:
        """Files in the temporary directory and ~/.docker (not the tests' own) holding it."""
        return files_holding(canary, (tempfile.gettempdir(), os.path.expanduser('~/.docker')),
                             skip=[self.own])


@pytest.fixture
def sightings(caplog, tmp_path_factory):
    caplog.set_level(logging.DEBUG)
    for name in ('urllib3', 'docker', 'requests'):
        logging.getLogger(name).setLevel(logging.DEBUG)
    return Sightings(caplog, tmp_path_factory.getbasetemp())


@pytest.fixture
def cert_dirs(monkeypatch):
    """Every certificate directory and project directory compose was given, to check
    that each is gone after its operation."""
    seen: list[str] = []
    real_run = compose_process.run

    def spy(argv: list[str], env: Any, *args: Any, **kwargs: Any) -> Any:
        if env.get('DOCKER_CERT_PATH'):
            seen.append(env['DOCKER_CERT_PATH'])
        if '--project-directory' in argv:
            seen.append(argv[argv.index('--project-directory') + 1])
        return real_run(argv, env, *args, **kwargs)

    monkeypatch.setattr(compose_process, 'run', spy)
    return seen


def _ctx(unique: str, properties: dict[str, Any]) -> Any:
    return node_ctx(unique, properties, node='app')


def _gone(directories: list[str]) -> None:
    assert directories, 'compose was never run'
    left = [d for d in set(directories) if os.path.exists(d)]
    assert left == [], f'left behind: {left}'


def test_secret_environment_and_an_env_file_through_everything(sightings, cert_dirs, unique,
                                                               tmp_path, docker_client):
    canary = f'canary-env-{uuid.uuid4().hex}'  # also a valid image tag
    changed = f'canary-new-{uuid.uuid4().hex}'
    in_file = f'canary-file-{uuid.uuid4().hex}'
    env_file = tmp_path / 'secrets.env'
    env_file.write_text(f'FILE_SECRET={in_file}\n')
    definition = {'services': {'app': {
        'image': BASE, 'environment': {'TOKEN': '${TOKEN}', 'FILE_SECRET': '${FILE_SECRET}'},
        'command': ['sh', '-c', f'echo "token=$$TOKEN"; {LOOP}']}}}
    ctx = _ctx(unique, {'definition': definition, 'secret_environment': {'TOKEN': canary},
                        'env_files': [str(env_file)], 'stop_timeout': 0})
    project_dir = None
    try:
        compose.create(ctx=ctx)
        project_dir = inline_directory(ctx.instance.runtime_properties['project_name'])
        compose.start(ctx=ctx)
        compose_state.check_status(ctx=ctx)
        assert compose_state.check_drift(ctx=ctx) == []
        drift = compose_state.update(ctx=ctx, secret_environment={'TOKEN': changed})
        assert drift == []
        compose_state.check_drift(ctx=ctx)  # the old value again: drifted
        compose.start(ctx=ctx)
        compose_state.pull(ctx=ctx)
        compose_actions.ps(ctx=ctx)
        logs = compose_actions.logs(ctx=ctx, tail='all')
        assert 'token=******' in logs and canary not in logs
        out = compose_actions.exec_command(ctx=ctx, service='app',
                                           command=['sh', '-c', 'echo "$TOKEN"; echo $TOKEN >&2'])
        assert out['stdout'].strip() == '******' and out['stderr'].strip() == '******'
        message = sightings.error(compose_actions.exec_command, ctx=ctx, service='app',
                                  expected_exit_code=0,
                                  command=['sh', '-c', 'echo "no: $TOKEN" >&2; exit 3'])
        assert 'no: ******' in message
        sightings.error(compose_actions.exec_command, ctx=ctx, service='app', timeout=1,
                        command=['sh', '-c', 'echo "$TOKEN"; sleep 20'])
        # An up that fails quoting the secret (an image tag made of it).
        failing = {'services': {'app': {**definition['services']['app'],
                                        'image': 'docker-plugin/busybox:${TOKEN}'}}}
        message = sightings.error(compose.start, ctx=ctx, definition=failing, pull='never')
        assert 'busybox:******' in message, message
        sightings.props(ctx)
        compose.stop(ctx=ctx)
    finally:
        compose.delete(ctx=ctx)
    sightings.props(ctx)
    assert docker_client.containers.list(
        all=True, filters={'label': f'cloudify.deployment={unique}'}) == []
    _gone(cert_dirs)
    assert project_dir and not os.path.exists(project_dir)
    sightings.assert_unseen(canary, changed)
    # The env file's value: never copied by the plugin (its own records and files).
    everything = '\n'.join([sightings.logged(), *sightings.texts])
    assert in_file not in everything and sightings.files_holding(in_file) == []


def test_the_tls_key_of_a_remote_engine(sightings, cert_dirs, unique, remote_tls_engine,
                                        tmp_path):
    daemon = remote_tls_engine.daemon_client()
    key_lines = [line for line in daemon['client_key'].splitlines() if '-----' not in line]
    definition = {'services': {'app': {'image': BASE, 'command': ['sh', '-c', LOOP]}}}
    ctx = _ctx(unique, {'daemon_client': daemon, 'definition': definition, 'stop_timeout': 0})
    try:
        compose.create(ctx=ctx)
        compose.start(ctx=ctx)
        compose_state.check_status(ctx=ctx)
        compose_state.check_drift(ctx=ctx)
        compose_state.update(ctx=ctx)
        compose_state.pull(ctx=ctx)
        compose_actions.ps(ctx=ctx)
        compose_actions.logs(ctx=ctx)
        compose_actions.exec_command(ctx=ctx, service='app', command=['true'])
        sightings.error(compose_actions.exec_command, ctx=ctx, service='app',
                        command=['sh', '-c', 'exit 3'], expected_exit_code=0)
        # A key compose cannot parse, and a valid key of another client: refused naming
        # daemon_client, quoting no key.
        (tmp_path / 'other').mkdir()
        other_key = make_pki(tmp_path / 'other').client_key.read_text()
        broken = {**daemon, 'client_key': daemon['client_key'].replace(key_lines[3],
                                                                        key_lines[4])}
        for bad in (broken, {**daemon, 'client_key': other_key}):
            for call in (compose.start, compose_actions.ps):
                message = sightings.error(call, ctx=ctx, daemon_client=bad)
                assert message.startswith('daemon_client:'), message
        sightings.props(ctx)
        compose.stop(ctx=ctx)
    finally:
        compose.delete(ctx=ctx)
    sightings.props(ctx)
    _gone(cert_dirs)
    assert not [n for n in os.listdir(tempfile.gettempdir())
                if n.startswith('docker-plugin-certs-')]
    sightings.assert_unseen(*key_lines[1:-1])


def test_events_of_a_whole_blueprint(sightings, unique, tmp_path, capsys, docker_client):
    """install, the actions and uninstall through local workflows: every event printed."""
    canary = f'canary-bp-{uuid.uuid4().hex}'
    blueprint = tmp_path / 'canary.yaml'
    blueprint.write_text(f"""tosca_definitions_version: cloudify_dsl_1_5
imports:
  - {TYPES_URL}
  - {REPO / 'plugin.yaml'}
inputs:
  token: {{type: string}}
node_templates:
  app:
    type: cloudify.nodes.docker.ComposeProject
    properties:
      stop_timeout: 0
      secret_environment: {{TOKEN: {{get_input: token}}}}
      definition:
        services:
          app:
            image: {BASE}
            environment: {{TOKEN: '${{TOKEN}}'}}
            command: {json.dumps(['sh', '-c', f'echo "token=$$TOKEN"; {LOOP}'])}
""")
    run = LocalRun(blueprint, unique, {'token': canary})
    try:
        run.install()
        run.operation('docker.interfaces.compose.logs', tail='all')
        run.operation('docker.interfaces.compose.exec', service='app',
                      command=['sh', '-c', 'echo "said $TOKEN"'])
        with pytest.raises(WorkflowFailed) as failure:
            run.operation('docker.interfaces.compose.exec', service='app', expected_exit_code=0,
                          command=['sh', '-c', 'echo "failed $TOKEN" >&2; exit 5'])
        sightings.texts.append(str(failure.value))
        sightings.texts.append(json.dumps([dict(i.runtime_properties)
                                           for i in run.instances('app')], default=str))
        run.uninstall()
    finally:
        run.teardown()
    events = capsys.readouterr().out
    sightings.texts.append(events)
    assert 'token=******' in events and 'said ******' in events and 'failed ******' in events
    assert docker_client.containers.list(
        all=True, filters={'label': f'cloudify.deployment={unique}'}) == []
    sightings.assert_unseen(canary)
