"""One rule for a container that has done its work, against the real engine.

A container that exited 0 under a restart policy that will not start it again
(``no``, ``on-failure``) has completed (``resources.completion``). The Container
node's ``ready`` wait counts it done, and waits for a healthcheck its image
defines as ``docker compose up --wait`` does; ComposeProject's start does
better than ``up --wait``, which calls such a container a failure unless
another service waits for its completion. ``check_status`` counts it healthy too, but
not a container with a healthcheck (it serves: its exit is an outage).
"""

from __future__ import annotations

import io
import logging
import subprocess
import tempfile
import time

import pytest
import yaml
from cloudify.exceptions import NonRecoverableError
from cloudify.state import current_ctx
from helpers.cleanup import labelled_objects
from helpers.mock_ctx import node_ctx

from docker_plugin import tasks
from docker_plugin.resources.compose import binary as compose_binary
from docker_plugin.resources.container import probes
from docker_plugin.tasks.compose import lifecycle as compose
from docker_plugin.tasks.compose import lifecycle as compose_state
from docker_plugin.tasks.container import lifecycle as container_state

pytestmark = pytest.mark.engine
BASE = 'docker-plugin/busybox:latest'
LOOP = "trap 'exit 0' TERM; while true; do sleep 0.2; done"
NOTHING = {'containers': [], 'images': [], 'networks': [], 'volumes': []}


@pytest.fixture
def make_ctx(unique):
    def make(properties=None, node='c1'):
        return node_ctx(unique, properties, node=node, instance=f'{unique}_{node}')
    yield make
    current_ctx.clear()


@pytest.fixture
def healthy_image(docker_client, labelled, unique):
    """An image whose HEALTHCHECK passes once /tmp/ready exists (its command makes it
    after a second), or never when the container runs ``unhealthy``."""
    dockerfile = (f'FROM {BASE}\n'
                  'HEALTHCHECK --interval=1s --timeout=2s --retries=2 CMD test -f /tmp/ready\n'
                  f'CMD ["sh", "-c", "sleep 1; touch /tmp/ready; {LOOP}"]\n')
    tag = f'{unique}-health:1'
    docker_client.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=tag,
                               labels=labelled, rm=True)
    return tag


@pytest.fixture
def looks_after_exit(monkeypatch, docker_client):
    """The wait's first look comes once the job has exited (bounded, 30 s), as on a busy
    machine it may not: a look that still sees the job running takes the running path
    (``ready``: running, no healthcheck), which another test covers."""
    probe = probes.probe

    def after_exit(api, container_id, *args, **kwargs):
        deadline = time.monotonic() + 30
        while (docker_client.api.inspect_container(container_id)['State']['Running']
               and time.monotonic() < deadline):
            time.sleep(0.05)
        return probe(api, container_id, *args, **kwargs)
    monkeypatch.setattr(probes, 'probe', after_exit)
    return monkeypatch


def _lifecycle(ctx, **inputs):
    tasks.create(ctx=ctx, **inputs)
    tasks.configure(ctx=ctx, **inputs)
    tasks.run(ctx=ctx, **inputs)


def _teardown(ctx):
    tasks.stop(ctx=ctx)
    tasks.delete(ctx=ctx)


def test_ready_waits_for_the_healthcheck_of_the_image(make_ctx, docker_client, labelled,
                                                      healthy_image):
    ctx = make_ctx({'container_config': {'image': healthy_image, 'labels': labelled},
                    'wait_for': {'condition': 'ready', 'timeout': 30, 'interval': 0.2}})
    _lifecycle(ctx)
    props = ctx.instance.runtime_properties
    container = docker_client.containers.get(props['container_id'])
    assert container.attrs['State']['Health']['Status'] == 'healthy'
    assert props['start_wait']['data']['seen'] == 'health healthy'
    assert 'completed_exit_code' not in props
    container_state.check_status(ctx=ctx)
    _teardown(ctx)


def test_ready_fails_at_once_on_an_unhealthy_image_healthcheck(make_ctx, labelled,
                                                               healthy_image):
    ctx = make_ctx({'container_config': {'image': healthy_image, 'labels': labelled,
                                         'command': ['sh', '-c', LOOP]},
                    'wait_for': {'condition': 'ready', 'timeout': 60, 'interval': 0.2}})
    started = time.monotonic()
    with pytest.raises(NonRecoverableError, match='is unhealthy while waiting for it to be '
                                                  'ready'):
        _lifecycle(ctx)
    assert time.monotonic() - started < 30
    _teardown(ctx)


@pytest.mark.parametrize('restart', [None, 'no', 'on-failure:2'])
def test_a_job_that_exits_0_has_completed_and_stays_healthy(make_ctx, labelled, restart,
                                                            looks_after_exit):
    config = {'image': BASE, 'labels': labelled, 'command': ['sh', '-c', 'echo seeded']}
    if restart:
        config['restart_policy'] = restart
    ctx = make_ctx({'container_config': config, 'wait_for': {'condition': 'ready',
                                                             'timeout': 30}})
    _lifecycle(ctx)
    props = ctx.instance.runtime_properties
    assert props['completed_exit_code'] == 0 and props['state'] == 'exited'
    assert props['start_wait']['data']['seen'] == 'completed (exited with code 0)'
    assert 'seeded' in props['start_wait']['data']['logs']
    container_state.check_status(ctx=ctx)  # a job that did its work is healthy
    _teardown(ctx)


def test_a_failed_job_and_a_server_stopped_by_hand_are_not_completed(
        make_ctx, docker_client, labelled, healthy_image, looks_after_exit):
    ctx = make_ctx({'container_config': {'image': BASE, 'labels': labelled,
                                         'command': ['sh', '-c', 'exit 3']},
                    'wait_for': {'condition': 'ready', 'timeout': 30}})
    with pytest.raises(NonRecoverableError, match=r'is exited \(exit code 3\) while waiting'):
        _lifecycle(ctx)
    _teardown(ctx)
    looks_after_exit.undo()  # the server below never exits by itself

    # A healthcheck (here the image's) says the container serves: its exit, even with 0
    # under restart no, is an outage.
    ctx = make_ctx({'container_config': {'image': healthy_image, 'labels': labelled},
                    'wait_for': {'condition': 'ready', 'timeout': 30, 'interval': 0.2}})
    _lifecycle(ctx)
    container_state.check_status(ctx=ctx)
    docker_client.containers.get(ctx.instance.runtime_properties['container_id']).stop(
        timeout=5)  # the trap makes it exit 0, as a job would
    with pytest.raises(NonRecoverableError, match=r'is exited \(0\)'):
        container_state.check_status(ctx=ctx)
    _teardown(ctx)


def test_a_job_that_finishes_after_the_wait_is_completed_too(make_ctx, docker_client, labelled):
    """A seed still running when its wait ends (ready: running) is healthy once it exits 0:
    the same rule, without the wait having seen it."""
    ctx = make_ctx({'container_config': {'image': BASE, 'labels': labelled,
                                         'command': ['sh', '-c', 'sleep 2; echo seeded']},
                    'wait_for': {'condition': 'ready', 'timeout': 30}})
    _lifecycle(ctx)
    props = ctx.instance.runtime_properties
    assert props['start_wait']['data']['seen'] == 'running (no healthcheck defined)'
    assert 'completed_exit_code' not in props
    container = docker_client.containers.get(props['container_id'])
    assert container.wait(timeout=30)['StatusCode'] == 0
    container_state.check_status(ctx=ctx)
    _teardown(ctx)


def test_a_job_under_restart_always_is_never_completed(make_ctx, labelled):
    ctx = make_ctx({'container_config': {'image': BASE, 'labels': labelled,
                                         'command': ['sh', '-c', 'sleep 0.3'],
                                         'restart_policy': 'always'},
                    'wait_for': {'condition': 'exited', 'timeout': 2, 'interval': 0.2}})
    with pytest.raises(NonRecoverableError, match='was not ready after 2s'):
        _lifecycle(ctx)  # the engine starts it again and again: it never stays exited
    _teardown(ctx)


SEEDED = {
    'services': {
        'web': {'image': BASE, 'command': ['sh', '-c', f'sleep 2; touch /tmp/up; {LOOP}'],
                'healthcheck': {'test': ['CMD', 'test', '-f', '/tmp/up'], 'interval': '1s',
                                'retries': 30}},
        # Nothing waits for the seed: compose up --wait calls its exit 0 a failure.
        'seed': {'image': BASE, 'command': ['sh', '-c', 'echo seeded'], 'restart': 'no',
                 'profiles': ['seed'],
                 'depends_on': {'web': {'condition': 'service_started'}}},
    }}


@pytest.mark.compose
def test_compose_up_wait_fails_on_a_finished_seed_and_the_project_node_does_not(
        make_ctx, docker_client, unique, tmp_path, caplog):
    # Compose itself, on the same file: "container ...-seed-1 exited (0)".
    (tmp_path / 'compose.yaml').write_text(yaml.safe_dump(SEEDED))
    argv = [compose_binary.find_binary(), '-p', f'{unique}-cli', '--project-directory',
            str(tmp_path), '-f', str(tmp_path / 'compose.yaml'), '--profile', 'seed']
    env = {'PATH': '/usr/bin:/bin', 'HOME': tempfile.gettempdir()}
    try:
        cli = subprocess.run([*argv, 'up', '-d', '--wait', '--wait-timeout', '60'], env=env,
                             capture_output=True, text=True, timeout=120, check=False)
    finally:
        subprocess.run([*argv, 'down', '-t', '0'], env=env, capture_output=True, timeout=120,
                       check=False)
    assert cli.returncode != 0 and f'{unique}-cli-seed-1 exited (0)' in cli.stderr

    ctx = make_ctx({'definition': SEEDED, 'profiles': ['seed'], 'project_name': unique,
                    'wait_timeout': 60, 'stop_timeout': 0}, node='app')
    compose.create(ctx=ctx)
    caplog.set_level(logging.INFO)
    compose.start(ctx=ctx)
    logged = '\n'.join(r.getMessage() for r in caplog.records)
    assert 'compose up counts a container that exited 0 as a failure' in logged
    assert f'seed: container {unique}-seed-1 completed (exited 0)' in logged
    props = ctx.instance.runtime_properties
    (seed,) = props['services']['seed']
    (web,) = props['services']['web']
    assert (seed['state'], seed['exit_code']) == ('exited', 0)
    assert (web['state'], web['health']) == ('running', 'healthy')  # waited for, to the end
    assert props['jobs'] == ['seed']
    compose_state.check_status(ctx=ctx)

    # A server that exits 0 later (stopped by hand) was not a job: check_status says so.
    docker_client.containers.get(web['id']).stop(timeout=5)
    with pytest.raises(NonRecoverableError, match=rf'web: container {unique}-web-1 is exited '
                                                  r'\(0\)'):
        compose_state.check_status(ctx=ctx)
    compose.delete(ctx=ctx)
    assert labelled_objects(docker_client, {'cloudify.deployment': unique}) == NOTHING


@pytest.mark.compose
def test_a_seed_that_fails_still_fails_the_project_in_compose_words(make_ctx, docker_client,
                                                                    unique):
    failing = yaml.safe_load(yaml.safe_dump(SEEDED))
    failing['services']['seed']['command'] = ['sh', '-c', 'exit 4']
    ctx = make_ctx({'definition': failing, 'profiles': ['seed'], 'project_name': unique,
                    'wait_timeout': 60, 'stop_timeout': 0}, node='app')
    compose.create(ctx=ctx)
    with pytest.raises(NonRecoverableError, match=rf'{unique}-seed-1 exited \(4\)'):
        compose.start(ctx=ctx)
    compose.delete(ctx=ctx)
    assert labelled_objects(docker_client, {'cloudify.deployment': unique}) == NOTHING

