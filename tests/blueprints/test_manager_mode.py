"""The manager-mode tier: operations run as a management worker runs them, confined.

A deployment is initialised with ``cfy init``; every operation is then one
``cfy executions start execute_operation``, a process of its own (as each is
on a manager), whose environment carries ``MGMTWORKER_HOME``: the signal a
management worker's own environment gives its operations, which no blueprint
can give. The blueprint's stored resources hold a symbolic link out of them
(planted after ``cfy init``, as an archive could bring one).

Refused, each naming its field: the manager host's engine (the default
socket, an explicit one, a loopback address), paths that climb out of the
blueprint, absolute paths, links out of it, a Dockerfile outside its
context, ``copy_from`` into the plugin's own virtualenv, a Secret's host
file, compose files, env files and what a compose file reads or builds
outside the blueprint. Allowed and working against the real engine: an
image built from the blueprint, a container, ``copy_to`` from the
blueprint and ``copy_from`` into the deployment's work directory, a
compose project; the local engine allowed by the operator's settings file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.cleanup import labelled_objects, remove_labelled
from helpers.cloudify_local import REPO, Cfy

pytestmark = [pytest.mark.engine, pytest.mark.blueprint]
BASE = 'docker-plugin/busybox:latest'
LIFECYCLE = 'cloudify.interfaces.lifecycle'
SOCKET = 'unix:///var/run/docker.sock'
NOTHING = {'containers': [], 'images': [], 'networks': [], 'volumes': []}


class Worker:
    """One blueprint deployed locally; each operation a process run as a worker's is."""

    def __init__(self, root: Path, name: str):
        self.root, self.name = root, name
        self.blueprint = root / 'bp'
        self.cfy = Cfy(root / 'cfy')
        self.cfy.workdir.mkdir()
        self.cfy.init()
        self.cfy('init', str(self.blueprint / 'blueprint.yaml'), '-b', name)
        local = self.cfy.workdir / '.cloudify' / 'profiles' / 'local'
        self.resources = local / 'blueprints' / name / 'resources'
        self.workdir = local / 'deployments' / name / 'workdir' / 'docker-plugin'
        (self.resources / 'link-out').symlink_to('/etc')
        self.settings = root / 'docker-plugin.yaml'  # the operator's; none yet
        self.cfy.env.update(MGMTWORKER_HOME=str(root / 'mgmtworker'),
                            DOCKER_PLUGIN_SETTINGS=str(self.settings))
        for name_ in ('DOCKER_PLUGIN_ALLOW_ENGINES', 'DOCKER_PLUGIN_ALLOW_READ',
                      'DOCKER_PLUGIN_ALLOW_WRITE', 'AGENT_WORK_DIR', 'DOCKER_HOST'):
            self.cfy.env.pop(name_, None)

    def op(self, node: str, operation: str, **kwargs):
        """One operation, in a process of its own."""
        params = {'operation': operation, 'node_ids': [node], 'operation_kwargs': kwargs,
                  'allow_kwargs_override': True}
        return self.cfy('executions', 'start', 'execute_operation', '-b', self.name, '-p',
                        json.dumps(params), check=False)

    def ok(self, node: str, operation: str, **kwargs) -> None:
        result = self.op(node, operation, **kwargs)
        assert result.returncode == 0, f'{operation}:\n{result.stdout[-3000:]}'

    def refused(self, node: str, operation: str, field: str, *words: str, **kwargs) -> str:
        """The operation fails, one line naming ``field`` first."""
        result = self.op(node, operation, **kwargs)
        text = result.stdout + result.stderr
        assert result.returncode != 0, f'{operation} {kwargs} was not refused:\n{text[-2000:]}'
        marker = f"-> {field}: "
        assert marker in text, f'{operation} {kwargs} does not name {field}:\n{text[-2000:]}'
        line = text[text.index(marker) + 3:].splitlines()[0]
        for word in words:
            assert word in line, line
        return line

    def allow_local_engine(self) -> None:
        """The operator allows the local engine in a root-owned settings file."""
        self.settings.write_text(f'allow_engines: [{SOCKET}]\n')
        os.chmod(self.settings, 0o644)


def _blueprint(root: Path, name: str) -> None:
    bp = root / 'bp'
    (bp / 'ctx').mkdir(parents=True)
    (bp / 'ctx' / 'hello.txt').write_text('hello from the blueprint\n')
    (bp / 'ctx' / 'Dockerfile').write_text(f'FROM {BASE}\nCOPY hello.txt /hello.txt\n')
    (bp / 'secret.txt').write_text('a value\n')
    (bp / 'compose').mkdir()
    (bp / 'compose' / 'compose.yaml').write_text(
        f'services:\n  app:\n    image: {BASE}\n    command: [sleep, "300"]\n'
        '    stop_grace_period: 0s\n')
    (bp / 'compose' / 'leak.yaml').write_text(
        f'services:\n  app:\n    image: {BASE}\n    env_file: /etc/passwd\n')
    (bp / 'compose' / 'build-out.yaml').write_text(
        'services:\n  app:\n    image: x\n    build: /etc\n')
    (bp / 'blueprint.yaml').write_text(f"""tosca_definitions_version: cloudify_dsl_1_5
imports:
  - http://cloudify.co/spec/cloudify/7.0.0/types.yaml
  - {REPO / 'plugin.yaml'}
node_templates:
  box:
    type: cloudify.nodes.docker.Container
    properties:
      container_config: {{image: '{BASE}', command: [sleep, '300']}}
      container_stop: {{timeout: 0}}
  built:
    type: cloudify.nodes.docker.Image
    properties:
      image_build: {{path: ctx, tag: '{name}/built:1'}}
  app:
    type: cloudify.nodes.docker.ComposeProject
    properties:
      compose_files: [compose/compose.yaml]
      project_name: {name}
      stop_timeout: 0
  secret:
    type: cloudify.nodes.docker.Secret
    properties: {{file: secret.txt}}
""")


@pytest.fixture
def worker(tmp_path, docker_client, unique):
    _blueprint(tmp_path, unique)
    run = Worker(tmp_path, unique)
    yield run
    remove_labelled(docker_client, {'cloudify.deployment': unique})


def test_the_manager_hosts_own_engine_is_refused(worker, docker_client, unique):
    create = f'{LIFECYCLE}.create'
    worker.refused('box', create, 'daemon_client.base_url', SOCKET, '(the default',
                   'allow_engines')
    worker.refused('box', create, 'daemon_client.base_url', "manager's own host",
                   daemon_client={'base_url': SOCKET})
    worker.refused('box', create, 'daemon_client.base_url', '127.0.0.1: a loopback address',
                   daemon_client={'base_url': 'tcp://127.0.0.1:2375'})
    worker.refused('box', create, 'daemon_client.host', 'loopback',
                   daemon_client={'host': 'localhost', 'port': 2375})
    worker.refused('app', create, 'daemon_client.base_url', SOCKET)
    # A settings file others could write allows nothing, and the refusal says why.
    worker.allow_local_engine()
    os.chmod(worker.settings, 0o666)
    worker.refused('box', create, 'daemon_client.base_url', 'was ignored: root must own it')
    assert labelled_objects(docker_client, {'cloudify.deployment': unique}) == NOTHING


@pytest.mark.compose
def test_paths_out_of_the_blueprint_are_refused(worker, docker_client, unique):
    worker.cfy.env['DOCKER_PLUGIN_ALLOW_ENGINES'] = SOCKET  # the engine is not the question
    create = f'{LIFECYCLE}.create'
    for path, words in (('../../../../../../etc', ['leads out of the blueprint']),
                        ('/etc', ["a path on the manager's own host"]),
                        ('link-out', ['symbolic link'])):
        worker.refused('built', create, 'image_build.path', repr(path), *words,
                       image_build={'path': path})
    worker.refused('built', create, 'image_build.dockerfile', 'leads out of the build context',
                   image_build={'path': 'ctx', 'dockerfile': '../secret.txt'})
    worker.refused('built', create, 'image_import.src', "manager's own host",
                   image_build={}, image_import={'src': '/etc/passwd'})
    copy_to = 'docker.interfaces.container.copy_to'
    for source in ('../../../../../../etc/passwd', '/etc/passwd', 'link-out/passwd'):
        worker.refused('box', copy_to, 'source', repr(source), source=source,
                       destination='/tmp')
    copy_from = 'docker.interfaces.container.copy_from'
    venv = str(Path(sys.prefix) / 'lib')
    worker.refused('box', copy_from, 'destination', "outside this deployment's work directory",
                   source='/etc', destination=venv)
    worker.refused('box', copy_from, 'destination', 'leads out of',
                   source='/etc', destination='../../../../../../../tmp')
    worker.refused('secret', 'cloudify.interfaces.lifecycle.create', 'file',
                   "'/etc/shadow' is a path on the manager's own host", file='/etc/shadow')
    worker.refused('app', create, 'compose_files[0]', 'leads out of the blueprint',
                   compose_files=['../../../../../../etc/compose.yaml'])
    worker.refused('app', create, 'env_files[0]', "manager's own host", env_files=['/etc/passwd'])
    worker.refused('app', create, 'compose_files', 'leak.yaml services.app.env_file',
                   compose_files=['compose/leak.yaml'])
    worker.refused('app', create, 'compose_files', 'services.app.build.context', "'/etc'",
                   compose_files=['compose/build-out.yaml'])
    worker.refused('app', create, 'compose_binary', 'remove compose_binary',
                   compose_binary='/bin/sh')
    worker.refused('app', create, 'environment.DOCKER_HOST', 'compose process itself',
                   environment={'DOCKER_HOST': SOCKET})
    assert labelled_objects(docker_client, {'cloudify.deployment': unique}) == NOTHING
    assert not (Path(sys.prefix) / 'lib' / 'etc').exists()


@pytest.mark.compose
def test_the_allowed_forms_work_against_the_engine(worker, docker_client, unique):
    worker.allow_local_engine()
    worker.ok('built', f'{LIFECYCLE}.create')
    built = docker_client.images.get(f'{unique}/built:1')
    assert built.labels['cloudify.deployment'] == unique
    for step in ('create', 'configure', 'start'):
        worker.ok('box', f'{LIFECYCLE}.{step}')
    (box,) = docker_client.containers.list(filters={'label': f'cloudify.deployment={unique}'})
    worker.ok('box', 'docker.interfaces.container.copy_to', source='secret.txt',
              destination='/tmp')
    assert box.exec_run(['cat', '/tmp/secret.txt']).output == b'a value\n'
    worker.ok('box', 'docker.interfaces.container.copy_from', source='/etc/hostname',
              destination='out')
    assert (worker.workdir / 'out' / 'hostname').read_text().strip() == box.id[:12]
    assert oct(worker.workdir.stat().st_mode)[-3:] == '700'
    worker.ok('app', f'{LIFECYCLE}.create')
    worker.ok('app', f'{LIFECYCLE}.start')
    (app,) = docker_client.containers.list(filters={'label': f'com.docker.compose.project='
                                                             f'{unique}'})
    assert app.status == 'running' and app.labels['cloudify.deployment'] == unique
    worker.ok('app', f'{LIFECYCLE}.delete')
    worker.ok('box', f'{LIFECYCLE}.delete')
    worker.ok('built', f'{LIFECYCLE}.delete')
    assert labelled_objects(docker_client, {'cloudify.deployment': unique}) == NOTHING


def test_a_remote_engine_over_tls_is_the_manager_way(worker, remote_tls_engine, unique):
    """No settings at all: an engine of another host, its certificates as PEM text (from
    secrets, in a real blueprint) or as files of the blueprint; never files of the host."""
    daemon = remote_tls_engine.daemon_client()
    (worker.resources / 'tls').mkdir()
    (worker.resources / 'tls' / 'ca.pem').write_text(daemon['ca_cert'])
    on_host = str(remote_tls_engine.pki.ca_cert)
    # (the value itself is masked: certificate settings are secrets)
    worker.refused('box', f'{LIFECYCLE}.create', 'daemon_client.ca_cert',
                   "is a path on the manager's own host", 'give the PEM text',
                   daemon_client={**daemon, 'ca_cert': on_host})
    try:
        worker.ok('box', f'{LIFECYCLE}.create', daemon_client=daemon)
        worker.ok('box', f'{LIFECYCLE}.configure',
                  daemon_client={**daemon, 'ca_cert': 'tls/ca.pem'})
        worker.ok('box', f'{LIFECYCLE}.start', daemon_client=daemon)
        listed = subprocess.run([*remote_tls_engine.cli(), 'ps', '-q', '--filter',
                                 f'label=cloudify.deployment={unique}'],
                                capture_output=True, text=True, timeout=60, check=True)
        assert len(listed.stdout.split()) == 1
        worker.ok('box', f'{LIFECYCLE}.delete', daemon_client=daemon)
    finally:
        left = subprocess.run([*remote_tls_engine.cli(), 'ps', '-aq', '--filter',
                               f'label=cloudify.deployment={unique}'],
                              capture_output=True, text=True, timeout=60).stdout.split()
        if left:
            subprocess.run([*remote_tls_engine.cli(), 'rm', '-f', *left], timeout=60)
    assert not left
