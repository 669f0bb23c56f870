"""The importer's blueprint against ComposeProject on the same compose file.

Both run ``blueprints/resources/compose/webapp`` side by side (two project
names): the same services (with the same replicas), networks (one internal)
and volumes, services that reach each other by name, Cloudify labels on
everything, and nothing left behind. The generated blueprint also installs
through the ``cfy`` CLI.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from helpers.cleanup import labelled_objects
from helpers.cloudify_local import REPO, Cfy

pytestmark = [pytest.mark.engine, pytest.mark.blueprint, pytest.mark.compose]
NOTHING = {'containers': [], 'images': [], 'networks': [], 'volumes': []}
WEBAPP = REPO / 'blueprints' / 'resources' / 'compose' / 'webapp'
STATUS = ['greeting: hello from compose', 'db: schema v3', 'cache: cached', 'token: 18 bytes']


def import_webapp(directory: Path) -> Path:
    """Run the console script as a user would, writing the blueprint beside the compose
    file (a copy of the example), so the build context is among its resources."""
    project = directory / 'webapp'
    shutil.copytree(WEBAPP, project)
    out = project / 'blueprint.yaml'
    script = Path(sys.executable).with_name('compose-to-blueprint')
    result = subprocess.run(
        [str(script), '-f', str(project / 'compose.yaml'), '--plugin-yaml',
         str(REPO / 'plugin.yaml'), '-o', str(out)],
        env=dict(os.environ, DB_PASSWORD='only-needed-to-import'), capture_output=True,
        text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert 'not mapped: services.toolbox: not imported' in result.stderr
    assert 'only-needed-to-import' not in out.read_text()
    return out


def _get(url: str) -> list[str]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode().splitlines()


def test_the_imported_blueprint_reaches_the_state_compose_project_reaches(
        local_run, docker_client, unique, tmp_path):
    blueprint = import_webapp(tmp_path)
    as_project = local_run('compose-project.yaml', {'project_name': f'{unique}-a',
                                                    'remove_volumes': True},
                           name=f'{unique}-a')
    typed = local_run(str(blueprint), {'project_name': f'{unique}-b',
                                       'DB_PASSWORD': 'typed-secret'}, name=f'{unique}-b')
    project_out = as_project.install()
    typed_out = typed.install()

    # The same services, with the same number of containers each.
    compose_services = {s: len(c) for s, c in project_out['services'].items()}
    typed_services = {node: len(typed.instances(node)) for node in compose_services}
    assert compose_services == typed_services == {'cache': 1, 'db': 1, 'migrate': 1,
                                                  'web': 1, 'worker': 2}
    # The same networks (the back one internal) and volume, named after each project.
    for prefix, deployment in ((f'{unique}-a', f'{unique}-a'), (f'{unique}-b', f'{unique}-b')):
        made = docker_client.networks.list(filters={'label': f'cloudify.deployment='
                                                              f'{deployment}'})
        assert sorted((n.name, n.attrs['Internal']) for n in made) == [
            (f'{prefix}_back', True), (f'{prefix}_front', False)]
        volumes = docker_client.volumes.list(filters={'label': f'cloudify.deployment='
                                                               f'{deployment}'})
        assert [v.name for v in volumes] == [f'{prefix}_dbdata']
    # The services reach each other by name in both, and say the same.
    (web,) = project_out['services']['web']
    binding = web['ports']['8080/tcp'][0]
    assert _get(f'http://127.0.0.1:{binding["host_port"]}/cgi-bin/status') == STATUS
    (binding,) = typed_out['web_ports']['8080/tcp']
    assert _get(f'http://127.0.0.1:{binding["host_port"]}/cgi-bin/status') == STATUS
    # The migration job ran to completion before the database started, in both.
    job = docker_client.containers.get(typed_out['migrate_container'])
    assert job.attrs['State']['ExitCode'] == 0 and job.status == 'exited'
    # Each service is its own node: its drift is checked per service.
    typed.operation('cloudify.interfaces.lifecycle.check_drift', node_ids=['web', 'db'])
    assert typed.props('web')['drift'] == [] and typed.props('db')['drift'] == []

    as_project.uninstall()
    typed.uninstall()
    for deployment in (f'{unique}-a', f'{unique}-b'):
        assert labelled_objects(docker_client, {'cloudify.deployment': deployment}) == NOTHING


def test_the_imported_blueprint_installs_with_the_cfy_cli(docker_client, unique, tmp_path):
    blueprint = import_webapp(tmp_path)
    cfy = Cfy(tmp_path)
    cfy.init()
    inputs = f'{{"project_name": "{unique}", "DB_PASSWORD": "cli-secret"}}'
    try:
        installed = cfy('install', str(blueprint), '-b', unique, '-i', inputs,
                        '--task-retries', '3', '--task-retry-interval', '1')
        assert "'install' workflow execution succeeded" in installed.stdout
        outputs = cfy.outputs(unique)
        (binding,) = outputs['web_ports']['8080/tcp']
        assert _get(f'http://127.0.0.1:{binding["host_port"]}/cgi-bin/status') == STATUS
        assert 'cli-secret' not in installed.stdout + installed.stderr
    finally:
        cfy('uninstall', '-b', unique, '--task-retries', '3', '--task-retry-interval', '1',
            check=False)
    assert labelled_objects(docker_client, {'cloudify.deployment': unique}) == NOTHING


SHARED_BUILD = """
name: shared
x-app: &app
  build: ./app
  image: ${IMAGE:-shared-sim}:latest
  command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"]
  stop_grace_period: 1s
services:
  init: {<<: *app, command: ["true"]}
  web: {<<: *app, depends_on: {init: {condition: service_completed_successfully}}}
  worker: {<<: *app}
  scheduler: {<<: *app}
  cron-a: {build: ./app, command: ["sleep", "3600"], stop_grace_period: 1s}
  cron-b: {build: ./app, command: ["sleep", "3600"], stop_grace_period: 1s}
"""


def test_services_sharing_a_built_image_install_and_uninstall_cleanly(local_run, docker_client,
                                                                      unique, tmp_path):
    """Airflow-like: several services build and run one image (issue 17: one Image node
    each, and uninstall failed with 'image is still used by containers (409)')."""
    project = tmp_path / 'shared'
    (project / 'app').mkdir(parents=True)
    (project / 'app' / 'Dockerfile').write_text('FROM docker-plugin/busybox:latest\n')
    (project / 'compose.yaml').write_text(SHARED_BUILD)
    out = project / 'blueprint.yaml'
    script = Path(sys.executable).with_name('compose-to-blueprint')
    result = subprocess.run([str(script), '-f', str(project / 'compose.yaml'), '--plugin-yaml',
                             str(REPO / 'plugin.yaml'), '-o', str(out)],
                            env=dict(os.environ, IMAGE=f'{unique}-sim'), capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    run = local_run(str(out), {'project_name': unique}, name=unique)
    run.install()
    made = {c.labels['cloudify.node']: c for c in docker_client.containers.list(
        all=True, filters={'label': f'cloudify.deployment={unique}'})}
    assert sorted(made) == ['cron-a', 'cron-b', 'init', 'scheduler', 'web', 'worker']
    shared = {made[n].image.id for n in ('init', 'web', 'worker', 'scheduler')}
    assert len(shared) == 1 and f'{unique}-sim:latest' in made['web'].image.tags
    assert made['cron-a'].image.id == made['cron-b'].image.id  # one build, a tag each
    assert {f'{unique}-cron-a:latest', f'{unique}-cron-b:latest'} <= \
        set(made['cron-a'].image.tags)
    built = docker_client.images.list(filters={'label': f'cloudify.deployment={unique}'})
    assert len(built) == 2
    run.uninstall()  # the Image nodes go after every container that uses them
    assert labelled_objects(docker_client, {'cloudify.deployment': unique}) == NOTHING


HEALTH_FROM_THE_IMAGE = """
services:
  server:
    image: ${IMAGE}
    healthcheck:
      disable: false
    stop_grace_period: 1s
  seed:
    image: docker-plugin/busybox:latest
    command: ["sh", "-c", "sleep 1; echo seeded"]
    restart: "no"
    depends_on: [server]
"""


def test_an_image_healthcheck_and_a_seed_are_waited_for_as_up_wait_would(
        local_run, docker_client, unique, tmp_path, labelled):
    """Immich-like: the healthcheck is the image's alone (``disable: false``): install ends
    once it says healthy. And a seed nobody waits for completes (exit 0, restart no): the
    install succeeds where ``up --wait`` fails, and check_status counts it healthy."""
    dockerfile = ('FROM docker-plugin/busybox:latest\n'
                  'HEALTHCHECK --interval=1s --retries=30 CMD test -f /tmp/ready\n'
                  'CMD ["sh", "-c", "sleep 4; touch /tmp/ready; trap \'exit 0\' TERM; '
                  'while true; do sleep 0.2; done"]\n')
    image = f'{unique}-health:1'
    built, _ = docker_client.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=image,
                                          labels=labelled, rm=True)
    project = tmp_path / 'health'
    project.mkdir()
    (project / 'compose.yaml').write_text(HEALTH_FROM_THE_IMAGE)
    out = project / 'blueprint.yaml'
    script = Path(sys.executable).with_name('compose-to-blueprint')
    result = subprocess.run([str(script), '-f', str(project / 'compose.yaml'), '--plugin-yaml',
                             str(REPO / 'plugin.yaml'), '-o', str(out)],
                            env=dict(os.environ, IMAGE=image), capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert 'done: services.server: no healthcheck test in the file: waits until healthy' in \
        result.stderr
    run = local_run(str(out), {'project_name': unique}, name=unique)
    run.install()
    server = docker_client.containers.get(run.outputs()['server_container'])
    assert server.attrs['State']['Health']['Status'] == 'healthy'  # waited for, not later
    seed = docker_client.containers.get(run.outputs()['seed_container'])
    assert seed.wait(timeout=30)['StatusCode'] == 0  # ready saw it running, or completed
    run.execute('check_status')  # the completed seed is healthy, the server too
    run.uninstall()
    # The image was there before: its Image node keeps it (the labelled fixture removes it).
    assert labelled_objects(docker_client, {'cloudify.deployment': unique}) == {
        **NOTHING, 'images': [built.id]}
