"""The importer's corpus: real-world compose files round-trip through compose-to-blueprint.

For each project of ``tests/corpus/compose`` (Airflow, NetBox, Immich, the voting
app with and without its seed, two from docker/awesome-compose): ``docker compose
up --wait`` on the files gives the state to reach (where compose itself cannot
reach it, the ComposeProject node gives it, and compose's failure is asserted),
then the blueprint ``compose-to-blueprint`` writes for the same files is installed
through a Cloudify local workflow and must reach the same state: the same
services with the same containers, each running, healthy or completed as compose
left it, with the same image, command, environment, healthcheck, mounts, ports,
networks and restart policy, and the same networks and volumes; its pages answer.
Every secret input is given a value other than the file's (except values an
application has in its own code), so an occurrence left unwired would show. Then
uninstall leaves nothing labelled, and compose's own ``down`` nothing of its run.

The images are stand-ins built under the real names (``helpers/corpus.py``).
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from cloudify.exceptions import WorkflowFailed
from helpers import corpus
from helpers.cleanup import labelled_objects
from helpers.cloudify_local import REPO

from docker_plugin.importer import cli
from docker_plugin.importer.blueprint import Builder
from docker_plugin.importer.secret_spans import distinctive
from docker_plugin.importer.source import read

pytestmark = [pytest.mark.engine, pytest.mark.blueprint, pytest.mark.compose]
PROJECTS = corpus.projects()
NOTHING = {'containers': [], 'images': [], 'networks': [], 'volumes': []}
ENVIRONMENT = {'PATH': '/usr/local/bin:/usr/bin:/bin'}  # what compose interpolates with
COMPOSE = ('com.docker.compose.project', 'com.docker.compose.service')
# What a Cloudify local run logs when a runtime property it reads back was masked (issue
# 17, item 1): an image reference with a secret that is also a name in it, made ******.
MASKED_REFERENCE = re.compile(r'from \S*\*{6}\S*: engine refused \(400\): invalid reference '
                              r'format')


@pytest.fixture(scope='module')
def standins(docker_client):
    session = uuid.uuid4().hex[:8]
    try:
        corpus.build_standins(docker_client, session)
    except corpus.Unavailable as exc:
        corpus.remove_standins(docker_client, session)
        pytest.skip(str(exc))
    yield
    corpus.remove_standins(docker_client, session)


def _get(port: int, path: str, text: str, seconds: float = 60) -> str:
    """The page, once it holds ``text``: a service without a healthcheck is "running"
    for compose before it serves (compose's --wait and ours alike), so look a while."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f'http://127.0.0.1:{port}{path}', timeout=10) as answer:
                page = answer.read().decode(errors='replace')
        except OSError as exc:
            page = f'({exc})'
        if text in page or time.monotonic() > deadline:
            return page
        time.sleep(1)


def _pages(case: dict[str, Any], docker_client: Any, label: str, service_label: str) -> None:
    for service, (port, path, text) in (case.get('pages') or {}).items():
        host_port = corpus.published(docker_client, label, service_label, service, port)
        assert text in _get(host_port, path, text), f'{service}: {path}'


def _compose_reference(case: dict[str, Any], directory: Path, project: str,
                       docker_client: Any) -> dict[str, Any]:
    """What ``docker compose up --wait`` reaches, then ``down`` leaves nothing of it."""
    files, profiles = case['files'], case.get('profiles', [])
    label = f'{COMPOSE[0]}={project}'
    try:
        up = corpus.compose(directory, project, files, profiles, 'up', '--detach', '--wait',
                            '--wait-timeout', '300', '--pull', 'never')
        assert up.returncode == 0, up.stderr[-4000:]
        state = corpus.project_state(docker_client, label, COMPOSE[1], project)
        _pages(case, docker_client, label, COMPOSE[1])
    finally:
        down = corpus.compose(directory, project, files, profiles, 'down', '--volumes',
                              '--rmi', 'local', '--timeout', '5')
    assert down.returncode == 0, down.stderr[-2000:]
    assert labelled_objects(docker_client, {COMPOSE[0]: project}) == NOTHING
    return state


def _node_reference(case: dict[str, Any], directory: Path, project: str, docker_client: Any,
                    local_run: Any) -> dict[str, Any]:
    """Where compose cannot reach the state (it says so), the ComposeProject node does."""
    files, profiles = case['files'], case.get('profiles', [])
    try:
        up = corpus.compose(directory, f'{project}-cli', files, profiles, 'up', '--detach',
                            '--wait', '--wait-timeout', '300', '--pull', 'never')
    finally:
        corpus.compose(directory, f'{project}-cli', files, profiles, 'down', '--volumes',
                       '--rmi', 'local', '--timeout', '5')
    assert up.returncode != 0 and case['cli_fails'] in up.stderr, up.stderr[-2000:]
    blueprint = directory / 'compose-project.yaml'
    blueprint.write_text(json.dumps({
        'tosca_definitions_version': 'cloudify_dsl_1_5',
        'imports': ['http://cloudify.co/spec/cloudify/7.0.0/types.yaml',
                    str(REPO / 'plugin.yaml')],
        'node_templates': {'app': {'type': 'cloudify.nodes.docker.ComposeProject',
                                   'properties': {
                                       'compose_files': [str(directory / f) for f in files],
                                       'project_name': project, 'profiles': profiles,
                                       'pull': 'never', 'remove_volumes': True,
                                       'stop_timeout': 5}}}}))
    run = local_run(str(blueprint), {}, name=project)
    run.install()
    label = f'{COMPOSE[0]}={project}'
    state = corpus.project_state(docker_client, label, COMPOSE[1], project)
    _pages(case, docker_client, label, COMPOSE[1])
    run.uninstall()
    assert labelled_objects(docker_client, {'cloudify.deployment': project}) == NOTHING
    return state


def _import(case: dict[str, Any], directory: Path) -> tuple[Path, Any, str]:
    """compose-to-blueprint, as a user runs it beside the compose file."""
    source = read([str(directory / f) for f in case['files']], ENVIRONMENT,
                  profiles=case.get('profiles', []))
    result = Builder(source, str(directory), wait_timeout=300).build()
    text = cli.render(source, result, str(REPO / 'plugin.yaml'))
    blueprint = directory / 'blueprint.yaml'
    blueprint.write_text(text)
    return blueprint, result, text


@pytest.mark.parametrize('name', sorted(PROJECTS))
def test_the_imported_blueprint_reaches_what_compose_reaches(name, standins, docker_client,
                                                             unique, tmp_path, local_run,
                                                             capsys):
    case = PROJECTS[name]
    directory = corpus.copy_project(name, case, tmp_path)
    if case.get('reference', 'cli') == 'cli':
        reference = _compose_reference(case, directory, f'{unique}-c', docker_client)
    else:
        reference = _node_reference(case, directory, f'{unique}-n', docker_client, local_run)

    blueprint, result, text = _import(case, directory)
    for value in result.secret_values.values():
        assert not distinctive(value) or value not in text
    kept = set(case.get('fixed_secrets') or [])
    given = {input_name: value if value in kept else f'{value}-{unique[4:]}'
             for input_name, value in result.secret_values.items()}
    unmask = {given[n]: v for n, v in result.secret_values.items() if given[n] != v}
    project = f'{unique}-b'
    run = local_run(str(blueprint), {'project_name': project, **given}, name=project)
    try:
        run.install()
    except WorkflowFailed:
        events = capsys.readouterr().out
        if case.get('blocked') and MASKED_REFERENCE.search(events):
            pytest.xfail(case['blocked'])
        raise
    label = f'cloudify.deployment={project}'
    # A job that completed in the reference may still be running when install ends
    # (ready is "running" for it then, as for compose): it must complete, with 0.
    jobs = {s for s, made in reference['services'].items()
            if all((c['state'], c['exit_code']) == ('exited', 0) for c in made)}
    corpus.wait_until_exited(docker_client, label, 'cloudify.node', jobs, seconds=120)
    imported = corpus.project_state(docker_client, label, 'cloudify.node', project, unmask)
    _pages(case, docker_client, label, 'cloudify.node')
    run.uninstall()
    assert labelled_objects(docker_client, {'cloudify.deployment': project}) == NOTHING

    containers = {n for n, node in yaml.safe_load(text)['node_templates'].items()
                  if node['type'] == 'cloudify.nodes.docker.Container'}
    assert set(reference['services']) == containers  # every service ran, in both
    assert imported['services'].keys() == reference['services'].keys()
    for service, containers in reference['services'].items():
        assert imported['services'][service] == containers, service
    assert imported['networks'] == reference['networks']
    assert imported['volumes'] == reference['volumes']
    assert not case.get('blocked'), f'{name} installs now: remove "blocked" from corpus.yaml'
