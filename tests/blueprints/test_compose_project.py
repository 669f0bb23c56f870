"""``cloudify.nodes.docker.ComposeProject`` on a real engine, through local workflows.

The project is ``blueprints/resources/compose/webapp``: a built web front end
that reaches a database and a cache by name, a migration job, two workers,
a debug toolbox behind a profile, two networks (one internal), a named
volume, env interpolation with defaults, an env file and a file secret.
"""

from __future__ import annotations

import json
import time
import urllib.request

import pytest
from cloudify.exceptions import WorkflowFailed
from helpers.cleanup import labelled_objects, remove_labelled

pytestmark = [pytest.mark.engine, pytest.mark.blueprint, pytest.mark.compose]
NOTHING = {'containers': [], 'images': [], 'networks': [], 'volumes': []}
SERVICES = {'cache', 'db', 'migrate', 'web', 'worker'}


def _project(local_run, unique, **inputs):
    return local_run('compose-project.yaml', {'project_name': unique, **inputs}, name=unique)


def _status_page(outputs) -> str:
    (web,) = outputs['services']['web']
    (binding,) = web['ports']['8080/tcp']
    url = f'http://{binding["host_ip"]}:{binding["host_port"]}/cgi-bin/status'
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()


@pytest.mark.smoke
def test_the_project_runs_labelled_reachable_and_leaves_nothing(local_run, docker_client,
                                                                unique, capsys):
    canary = f'canary-{unique}-pw'
    run = _project(local_run, unique, db_password=canary, remove_volumes=True)
    outputs = run.install()

    services = outputs['services']
    assert set(services) == SERVICES
    assert len(services['worker']) == 2  # deploy.replicas
    assert services['web'][0]['health'] == 'healthy' and services['db'][0]['health'] == \
        'healthy'
    assert services['migrate'][0]['state'] == 'exited'
    assert services['migrate'][0]['exit_code'] == 0
    assert outputs['networks'] == [f'{unique}_back', f'{unique}_front']
    assert outputs['volumes'] == [f'{unique}_dbdata']
    assert set(services['web'][0]['networks']) == {f'{unique}_back', f'{unique}_front'}
    # The web front end reaches the database and the cache by their service names.
    assert _status_page(outputs).splitlines() == [
        'greeting: hello from compose', 'db: schema v3', 'cache: cached', 'token: 18 bytes']
    # Everything compose made carries the Cloudify labels.
    (instance,) = run.instances('app')
    labels = {'cloudify.deployment': unique, 'cloudify.node-instance': instance.id}
    made = labelled_objects(docker_client, labels)
    assert len(made['containers']) == 6 and len(made['networks']) == 2
    assert len(made['volumes']) == 1 and len(made['images']) == 1  # the built web image
    assert docker_client.networks.get(f'{unique}_back').attrs['Internal'] is True

    run.operation('cloudify.interfaces.validation.check_status')
    run.operation('cloudify.interfaces.lifecycle.check_drift')
    assert run.props('app')['drift'] == []
    run.operation('docker.interfaces.compose.exec', service='web',
                  command=['sh', '-c', 'echo "pw=$DB_PASSWORD"'])
    run.operation('docker.interfaces.compose.ps')
    run.operation('docker.interfaces.compose.logs', tail=5, services=['worker'])
    props = run.props('app')
    assert props['exec']['exit_code'] == 0 and props['exec']['data']['stdout'] == 'pw=******'
    assert [r['service'] for r in props['ps']['data']].count('worker') == 2
    assert props['logs']['data']['logs'].count(' ready') == 2  # one line from each worker
    run.operation('cloudify.interfaces.lifecycle.pull')  # nothing to pull; properties again
    assert set(run.props('app')['services']) == SERVICES
    started = time.monotonic()
    with pytest.raises(WorkflowFailed):  # an action's own timeout holds
        run.operation('docker.interfaces.compose.exec', service='worker', index=2,
                      command=['sleep', '30'], timeout=1)
    assert time.monotonic() - started < 10

    run.uninstall()
    events = capsys.readouterr().out
    assert 'web: container' in events and 'db: container' in events and '{"id"' not in events
    # The secret reached the container and nothing the plugin wrote.
    assert canary not in events
    assert canary not in json.dumps([dict(i.runtime_properties) for i in run.instances()])
    assert labelled_objects(docker_client, {'cloudify.deployment': unique}) == NOTHING


def test_drift_is_found_and_update_recreates_only_what_changed(local_run, docker_client,
                                                               unique, capsys):
    run = _project(local_run, unique, remove_volumes=True)
    run.install()
    before = {c.name: c.id for c in docker_client.containers.list(
        all=True, filters={'label': f'com.docker.compose.project={unique}'})}

    # A changed interpolation variable changes only the web service: drift names the
    # service and the keys it reaches (a build argument and an environment entry), and
    # what update does; the preview says so and changes nothing.
    changed = {'environment': {'APP_GREETING': 'changed'}}
    run.operation('cloudify.interfaces.lifecycle.check_drift', **changed)
    drift = run.props('app')['drift']
    again = "update makes it again: compose up makes the service's containers again"
    assert [(d['option'], d['desired'], d['actual'], d['plan']) for d in drift] == [
        ('services.web.build.args', 'changed in the files', 'as at the last up', again),
        ('services.web.environment.APP_GREETING', 'changed in the files', 'as at the last up',
         again)]
    capsys.readouterr()
    run.operation('cloudify.interfaces.lifecycle.update', preview=True, **changed)
    shown = capsys.readouterr().out
    assert f'Update preview of the compose project {unique} (nothing changed): 2 made again' \
        in shown
    assert {c.name: c.id for c in docker_client.containers.list(
        all=True, filters={'label': f'com.docker.compose.project={unique}'})} == before
    run.operation('cloudify.interfaces.lifecycle.update', **changed)
    after = {c.name: c.id for c in docker_client.containers.list(
        all=True, filters={'label': f'com.docker.compose.project={unique}'})}
    assert {n for n in before if before[n] != after.get(n)} == {f'{unique}-web-1'}
    assert run.props('app')['drift'] == []

    # Changed behind Cloudify's back: a worker removed, another killed. (Stopped, it would
    # exit 0: under restart "no", without a healthcheck, that is a job that completed.)
    docker_client.containers.get(f'{unique}-worker-2').remove(force=True)
    docker_client.containers.get(f'{unique}-worker-1').kill()
    docker_client.containers.get(f'{unique}-worker-1').wait(timeout=30)
    with pytest.raises(WorkflowFailed):
        run.operation('cloudify.interfaces.validation.check_status')
    assert (f'is not healthy: worker: 1 of 2 containers exist; worker: container '
            f'{unique}-worker-1 is exited (137)') in capsys.readouterr().out
    run.operation('cloudify.interfaces.lifecycle.check_drift', **changed)
    assert run.props('app')['drift'] == [{
        'option': 'services.worker', 'path': 'containers', 'desired': 2, 'actual': 1,
        'updatable': False, 'fix': 'recreate', 'action': 'recreate',
        'plan': 'update makes it again: compose up makes the missing containers'}]
    run.operation('cloudify.interfaces.lifecycle.update', **changed)
    run.operation('cloudify.interfaces.validation.check_status')

    # The compose actions through their convenience workflows: the result kept, and shown
    # in the event stream (the ps table, the exec's output).
    capsys.readouterr()
    run.execute('docker_compose_ps', parameters={'operation_kwargs': {'services': ['db']}})
    shown = capsys.readouterr().out
    (row,) = run.props('app')['ps']['data']
    assert (row['service'], row['state']) == ('db', 'running')
    assert 'ps: 1 container: db: running' in shown and f'{unique}-db-1' in shown
    run.execute('docker_compose_exec', parameters={'operation_kwargs': {
        'service': 'worker', 'index': 2, 'command': ['echo', f'hello {unique}']}})
    assert run.props('app')['exec']['data']['stdout'].strip() == f'hello {unique}'
    assert f'hello {unique}' in capsys.readouterr().out
    run.uninstall()
    assert labelled_objects(docker_client, {'cloudify.deployment': unique}) == NOTHING


def test_uninstall_keeps_the_data_by_default_and_profiles_add_services(local_run,
                                                                       docker_client, unique):
    run = _project(local_run, unique, profiles=['debug'])
    outputs = run.install()
    assert set(outputs['services']) == SERVICES | {'toolbox'}
    run.uninstall()
    try:
        left = labelled_objects(docker_client, {'cloudify.deployment': unique})
        assert left == {**NOTHING, 'volumes': [f'{unique}_dbdata']}
    finally:
        remove_labelled(docker_client, {'cloudify.deployment': unique})


def test_an_unhealthy_service_fails_install_with_compose_words(local_run, docker_client,
                                                               unique, capsys):
    run = local_run('compose-inline.yaml', {'project_name': unique, 'health_command': 'false'},
                    name=unique)
    with pytest.raises(WorkflowFailed):
        run.install()
    events = capsys.readouterr().out
    assert f'compose up: container {unique}-app-1 is unhealthy' in events
    run.installed = True
    run.uninstall()
    assert labelled_objects(docker_client, {'cloudify.deployment': unique}) == NOTHING
