"""Secrets that are common words, also used as names: everything installs, nothing is masked
in data, and the value still never shows where it is a secret.

A password ``postgres`` beside a service called ``postgres`` is the most common compose
file there is. Masking is for text a person reads (log lines, events, errors, action
output); runtime properties, drift and what an operation returns are data the plugin and
Cloudify read back, so a secret that is also a word of a name must leave them intact.
Each test runs a whole cycle (install, check_status, check_drift, update, an action,
uninstall) through Cloudify local workflows, then checks three things:

* every step succeeded, and the names recorded are the real ones (not ``******``);
* nothing the deployment made is left behind;
* the secret never shows as a value: not as ``NAME=value`` in any event, log line or
  runtime property, and an action that prints it shows the mask.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cloudify.exceptions import WorkflowFailed
from helpers.cleanup import labelled_objects
from helpers.cloudify_local import TYPES_URL, LocalRun
from helpers.registry import run_registry

pytestmark = [pytest.mark.engine, pytest.mark.canary, pytest.mark.blueprint]
REPO = Path(__file__).resolve().parents[2]
BASE = 'docker-plugin/busybox:latest'
NOTHING = {'containers': [], 'images': [], 'networks': [], 'volumes': []}
LOOP = "trap 'exit 0' TERM; while true; do sleep 0.2; done"
MASK = '******'


def _blueprint(path: Path, inputs: str, nodes: str) -> Path:
    path.write_text(f"""tosca_definitions_version: cloudify_dsl_1_5
imports:
  - {TYPES_URL}
  - {REPO / 'plugin.yaml'}
inputs:
{inputs}
node_templates:
{nodes}""")
    return path


def _storage(run: LocalRun) -> str:
    return json.dumps([dict(i.runtime_properties) for i in run.instances()], default=str)


def _never_as_value(text: str, pairs: dict[str, str]) -> None:
    """No ``NAME=value`` / ``"NAME": "value"`` of a secret anywhere in ``text``."""
    for name, value in pairs.items():
        for shown in (f'{name}={value}', f'"{name}": "{value}"', f"'{name}': '{value}'"):
            assert shown not in text, f'{shown!r} shows the secret'


def test_a_container_whose_secrets_are_words_of_its_names(unique, tmp_path, capsys,
                                                          docker_client):
    """Secrets ``web`` and ``abc`` (a 3-letter word), in a container, image, network and
    volume whose names hold both words."""
    context = tmp_path / 'ctx'
    context.mkdir()
    (context / 'Dockerfile').write_text(f'FROM {BASE}\nLABEL made-for=web-abc\n')
    name = f'{unique}-web-abc'
    config = {'name': name, 'command': ['sh', '-c', LOOP],
              'environment': {'ROLE': 'web'},
              'secret_environment': {'WEB_PASSWORD': {'get_input': 'web_password'},
                                     'PIN': {'get_input': 'pin'}}}
    blueprint = _blueprint(tmp_path / 'bp.yaml', """  web_password: {type: string}
  pin: {type: string}
""", f"""  abc_net:
    type: cloudify.nodes.docker.Network
    properties: {{name: {unique}-abc-net}}
  web_data:
    type: cloudify.nodes.docker.Volume
    properties: {{name: {unique}-web-data}}
  web:
    type: cloudify.nodes.docker.Container
    properties:
      image_build: {{path: {context}, tag: '{unique}-web/abc:web'}}
      container_config: {json.dumps(config)}
      container_stop: {{timeout: 0}}
      container_remove: {{remove_image: true}}
    relationships:
      - {{type: cloudify.relationships.docker.connected_to_network, target: abc_net}}
      - {{type: cloudify.relationships.docker.mounts_volume, target: web_data,
          properties: {{target: /data}}}}
""")
    run = LocalRun(blueprint, unique, {'web_password': 'web', 'pin': 'abc'})
    try:
        run.install()
        props = run.props('web')
        assert props['container_name'] == name
        assert props['image'] == f'{unique}-web/abc:web'
        assert f'{unique}-abc-net' in props['networks']
        assert run.props('abc_net')['network_name'] == f'{unique}-abc-net'
        assert run.props('web_data')['volume_name'] == f'{unique}-web-data'
        assert props['secret_env_names'] == ['PIN', 'WEB_PASSWORD']

        run.execute('check_status')
        run.operation('cloudify.interfaces.lifecycle.check_drift', node_ids=['web'])
        assert run.props('web')['drift'] == []
        # Operation inputs are not evaluated (no get_input) and Cloudify prints them: the
        # secret environment stays the node's property, the rest is given again.
        changed = {**config, 'cpu_shares': 512, 'labels': {'tier': 'web'}}
        changed.pop('secret_environment')
        with pytest.raises(WorkflowFailed):  # not in place: refused, naming it
            run.operation('cloudify.interfaces.lifecycle.update', node_ids=['web'],
                          container_config=changed)
        refused = capsys.readouterr().out
        assert 'labels changed: only a new container can take it' in refused
        changed.pop('labels')
        run.operation('cloudify.interfaces.lifecycle.update', node_ids=['web'],
                      container_config=changed)
        assert run.props('web')['drift'] == []
        assert docker_client.containers.get(name).attrs['HostConfig']['CpuShares'] == 512
        run.operation('docker.interfaces.container.exec', node_ids=['web'],
                      command=['sh', '-c', 'echo "pass=$WEB_PASSWORD pin=$PIN role=$ROLE"'])
        shown = run.props('web')['exec']['data']['stdout']
        assert shown.strip() == f'pass={MASK} pin={MASK} role={MASK}'  # output: masked
        storage = _storage(run)
        run.uninstall()
    finally:
        run.teardown()
    events = refused + capsys.readouterr().out
    _never_as_value(events + storage, {'WEB_PASSWORD': 'web', 'PIN': 'abc'})
    assert labelled_objects(docker_client, {'cloudify.deployment': unique}) == NOTHING
    assert docker_client.images.list(name=f'{unique}-web/abc') == []


@pytest.mark.compose
def test_a_compose_project_whose_password_is_its_service_name(unique, tmp_path, capsys,
                                                              docker_client):
    """``DB_PASSWORD=postgres`` beside a service called ``postgres``: it starts, its
    status and drift are right, update and uninstall work and leave nothing."""
    project = f'{unique}-postgres'
    definition = {
        'services': {
            'postgres': {'image': BASE, 'command': ['sh', '-c', LOOP],
                         'environment': {'POSTGRES_PASSWORD': '${DB_PASSWORD}',
                                         'POSTGRES_USER': 'postgres'},
                         'volumes': ['pgdata:/var/lib/postgresql/data'],
                         'healthcheck': {'test': ['CMD', 'true'], 'interval': '1s',
                                         'retries': 30}},
            'web': {'image': BASE, 'command': ['sh', '-c', LOOP],
                    'depends_on': {'postgres': {'condition': 'service_healthy'}},
                    'environment': {'DATABASE_URL':
                                    'postgres://postgres:${DB_PASSWORD}@postgres/postgres'}}},
        'volumes': {'pgdata': {}}}
    blueprint = _blueprint(tmp_path / 'bp.yaml', """  db_password: {type: string}
  scale_web: {type: integer, default: 1}
""", f"""  app:
    type: cloudify.nodes.docker.ComposeProject
    properties:
      project_name: {project}
      stop_timeout: 0
      remove_volumes: true
      secret_environment: {{DB_PASSWORD: {{get_input: db_password}}}}
      definition: {json.dumps(definition)}
""")
    run = LocalRun(blueprint, unique, {'db_password': 'postgres'})
    try:
        run.install()
        props = run.props('app')
        assert props['project_name'] == project
        assert props['expected'] == {'postgres': 1, 'web': 1}
        assert sorted(props['services']) == ['postgres', 'web']
        assert props['services']['postgres'][0]['name'] == f'{project}-postgres-1'
        run.execute('check_status')
        run.operation('cloudify.interfaces.lifecycle.check_drift', node_ids=['app'])
        assert run.props('app')['drift'] == []
        run.operation('cloudify.interfaces.lifecycle.update', node_ids=['app'],
                      scale={'web': 2})
        assert run.props('app')['expected'] == {'postgres': 1, 'web': 2}
        run.operation('docker.interfaces.compose.exec', node_ids=['app'], service='web',
                      command=['sh', '-c', 'echo "url=$DATABASE_URL"'])
        stdout = run.props('app')['exec']['data']['stdout']
        assert stdout.strip() == f'url={MASK}://{MASK}:{MASK}@{MASK}/{MASK}'
        storage = _storage(run)
        run.uninstall()
    finally:
        run.teardown()
    events = capsys.readouterr().out
    _never_as_value(events + storage, {'POSTGRES_PASSWORD': 'postgres',
                                       'DB_PASSWORD': 'postgres'})
    assert docker_client.containers.list(
        all=True, filters={'label': f'com.docker.compose.project={project}'}) == []
    assert docker_client.networks.list(
        filters={'label': f'com.docker.compose.project={project}'}) == []
    assert docker_client.volumes.list(
        filters={'label': f'com.docker.compose.project={project}'}) == []


@pytest.mark.compose
def test_an_imported_blueprint_whose_password_is_its_project_name(unique, tmp_path, capsys,
                                                                  docker_client):
    """Airflow's default password is ``airflow``, and its images and containers are
    ``<project>-airflow-...``: the imported blueprint installs, updates and uninstalls."""
    directory = tmp_path / 'airflow'
    (directory / 'image').mkdir(parents=True)
    (directory / 'image' / 'Dockerfile').write_text(f'FROM {BASE}\nENV AIRFLOW_HOME=/opt\n')
    (directory / 'compose.yaml').write_text(f"""x-airflow-common: &airflow-common
  build: ./image
  image: {unique}-airflow-sim:latest
  environment: &airflow-common-env
    AIRFLOW__CORE__EXECUTOR: LocalExecutor
    _AIRFLOW_WWW_USER_USERNAME: airflow
    _AIRFLOW_WWW_USER_PASSWORD: ${{AIRFLOW_PASSWORD}}
services:
  airflow-init:
    <<: *airflow-common
    command: ["sh", "-c", "echo init airflow; exit 0"]
    restart: "no"
  airflow-webserver:
    <<: *airflow-common
    command: ["sh", "-c", "{LOOP}"]
    depends_on:
      airflow-init: {{condition: service_completed_successfully}}
""")
    out = directory / 'blueprint.yaml'
    script = Path(sys.executable).with_name('compose-to-blueprint')
    imported = subprocess.run(
        [str(script), '-f', str(directory / 'compose.yaml'), '--plugin-yaml',
         str(REPO / 'plugin.yaml'), '-o', str(out)],
        env=dict(os.environ, AIRFLOW_PASSWORD='airflow'), capture_output=True, text=True,
        timeout=120, cwd=directory)
    assert imported.returncode == 0, imported.stderr
    assert '_AIRFLOW_WWW_USER_PASSWORD: airflow' not in out.read_text()
    project = f'{unique}-airflow'
    run = LocalRun(out, unique, {'project_name': project, 'AIRFLOW_PASSWORD': 'airflow'})
    try:
        run.install()
        (web,) = run.instances('airflow-webserver')
        name = web.runtime_properties['container_name']
        assert name.startswith(project) and MASK not in name
        assert docker_client.containers.get(name).status == 'running'
        images = {i.runtime_properties.get('image') for i in run.instances()} - {None}
        assert images and all(MASK not in i for i in images)
        run.execute('check_status')
        run.operation('cloudify.interfaces.lifecycle.check_drift',
                      node_ids=['airflow-webserver'])
        assert run.props('airflow-webserver')['drift'] == []
        storage = _storage(run)
        run.uninstall()
    finally:
        run.teardown()
    events = capsys.readouterr().out
    _never_as_value(events + storage, {'_AIRFLOW_WWW_USER_PASSWORD': 'airflow',
                                       'AIRFLOW_PASSWORD': 'airflow'})
    assert labelled_objects(docker_client, {'cloudify.deployment': unique}) == NOTHING


def test_a_registry_password_equal_to_the_repository_name(unique, tmp_path, capsys,
                                                          docker_client):
    """An Image pushed as ``<registry>/web:web`` with the password ``web``: the pushed
    reference is recorded as it is, and install and uninstall both work."""
    with run_registry(tmp_path / 'registry', username='web', password='web') as registry:
        repository = f'{registry.address}/web'
        blueprint = _blueprint(tmp_path / 'bp.yaml', """  password: {type: string}
""", f"""  web:
    type: cloudify.nodes.docker.Image
    properties:
      image_import: {{src: {REPO / '.cache' / 'busybox-rootfs.tar'},
                      repository: {unique}-web, tag: web}}
      push:
        repository: {repository}
        tag: web
        auth: {{username: web, password: {{get_input: password}}}}
""")
        run = LocalRun(blueprint, unique, {'password': 'web'})
        try:
            run.install()
            props = run.props('web')
            (pushed,) = props['pushed']
            assert pushed['reference'] == f'{repository}:web'
            assert props['image'] == f'{unique}-web:web'
            run.execute('check_status')
            storage = _storage(run)
            run.uninstall()
        finally:
            run.teardown()
    events = capsys.readouterr().out
    _never_as_value(events + storage, {'password': 'web'})
    assert docker_client.images.list(name=f'{unique}-web') == []
    assert docker_client.images.list(name=repository) == []


def test_what_is_recorded_does_not_depend_on_the_secret(unique, tmp_path, docker_client):
    """Runtime properties are data: with the secret ``admin`` everywhere a name holds it,
    every recorded name and reference equals the one recorded with a secret no name holds."""
    def cycle(secret: str, name: str) -> dict[str, Any]:
        config = {'name': f'{name}-admin', 'command': ['sh', '-c', LOOP],
                  'secret_environment': {'ADMIN_TOKEN': {'get_input': 'token'}}}
        blueprint = _blueprint(tmp_path / f'{name}.yaml', """  token: {type: string}
""", f"""  admin:
    type: cloudify.nodes.docker.Container
    properties:
      image_pull: {{repository: {BASE.split(':')[0]}, tag: latest, policy: never}}
      container_config: {json.dumps(config)}
      container_stop: {{timeout: 0}}
""")
        run = LocalRun(blueprint, name, {'token': secret})
        try:
            run.install()
            run.operation('cloudify.interfaces.lifecycle.pull', node_ids=['admin'])
            props = run.props('admin')
            run.uninstall()
        finally:
            run.teardown()
        assert labelled_objects(docker_client, {'cloudify.deployment': name}) == NOTHING
        return props

    with_word = cycle('admin', f'{unique}-a')
    with_canary = cycle(f'canary-{unique}', f'{unique}-b')
    assert with_word['container_name'] == f'{unique}-a-admin'
    for key in ('image', 'image_source', 'state', 'exit_code', 'ports', 'secret_env_names'):
        assert with_word[key] == with_canary[key], key
