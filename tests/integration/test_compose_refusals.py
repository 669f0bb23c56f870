"""ComposeProject on the real engine: what the compose adversarial tiers found, pinned.

What the engine refuses while compose makes the project names the project's
field; every failure of an action names the action input to blame (a
service the project lacks, a container index past the last one, a user the
image lacks, a working directory or command the runtime cannot use, an exit
code other than the expected one); and ``delete`` leaves nothing behind even
when a container shows up after ``down`` (as one whose creation was in
flight when a failed ``up`` ended does, under load).
"""

from __future__ import annotations

import pytest
from cloudify.exceptions import NonRecoverableError
from cloudify.state import current_ctx
from helpers.cleanup import labelled_objects, remove_labelled
from helpers.mock_ctx import node_ctx

from docker_plugin import tasks
from docker_plugin.resources.compose import project as compose_project
from docker_plugin.tasks.compose import commands as compose_actions
from docker_plugin.tasks.compose import lifecycle as compose
from docker_plugin.tasks.container import commands as container_commands

pytestmark = pytest.mark.engine
BASE = 'docker-plugin/busybox:latest'
LOOP = ['sh', '-c', "trap 'exit 0' TERM; while true; do sleep 0.2; done"]
SERVICE = {'image': BASE, 'command': LOOP, 'pull_policy': 'never'}
NOTHING = {'containers': [], 'images': [], 'networks': [], 'volumes': []}


@pytest.fixture
def project(docker_client, unique):
    """Make ComposeProject contexts of this test's deployment; nothing is left after."""
    made = []

    def make(definition, **properties):
        ctx = node_ctx(unique, {'definition': definition, 'stop_timeout': 0, 'pull': 'never',
                                **properties}, node='app')
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        current_ctx.set(ctx)
        compose.delete(ctx=ctx, remove_images='none')
    try:
        assert labelled_objects(docker_client, {'cloudify.deployment': unique}) == NOTHING
    finally:
        remove_labelled(docker_client, {'cloudify.deployment': unique})


@pytest.mark.compose
def test_what_the_engine_refuses_in_up_names_the_definition(project):
    # Found by the fuzz: "compose up: engine refused: ... invalid CapAdd" named no field.
    ctx = project({'services': {'app': {**SERVICE, 'cap_add': ['NOPE']}}})
    compose.create(ctx=ctx)
    with pytest.raises(NonRecoverableError, match=r'^definition: the engine refused the '
                                                  r'project: compose up: .*CAP_NOPE'):
        compose.start(ctx=ctx)


@pytest.fixture
def running(project):
    ctx = project({'services': {'app': SERVICE, 'side': SERVICE}}, scale={'app': 2})
    compose.create(ctx=ctx)
    compose.start(ctx=ctx)
    return ctx


@pytest.mark.parametrize(('inputs', 'opening'), [
    ({'service': 'nope', 'command': 'true'}, "service: no service 'nope' in the project"),
    ({'service': 'app', 'index': 5, 'command': 'true'},
     'index: compose exec in app: service "app" is not running container #5'),
    ({'service': 'app', 'user': 'nobody2', 'command': 'true'},
     'user: the engine could not run the command: unable to find user nobody2'),
    ({'service': 'app', 'workdir': '/nonexistent', 'command': 'true'},
     'workdir: the engine could not run the command: OCI runtime exec failed'),
    ({'service': 'side', 'command': ['nonexistent-command']},
     'command: the engine could not run the command: OCI runtime exec failed'),
    ({'service': 'app', 'command': ['sh', '-c', 'echo why; exit 3']},
     "expected_exit_code: ['sh', '-c', 'echo why; exit 3'] exited with code 3 (in app), "
     'expected 0; stdout: why'),
])
@pytest.mark.compose
def test_exec_failures_name_the_input(running, inputs, opening):
    # Found by the fuzz: "['true'] exited with code 126 (in app), expected 0; stderr: " (the
    # runtime's reason was on stdout), "compose exec in nope: service "nope" is not running
    # container #1".
    with pytest.raises(NonRecoverableError) as failure:
        compose_actions.exec_command(ctx=running, **inputs)
    assert str(failure.value).startswith(opening), str(failure.value)


@pytest.mark.compose
@pytest.mark.parametrize('action', [compose_actions.logs, compose_actions.ps])
def test_logs_and_ps_of_a_service_the_project_lacks_name_it(running, action):
    with pytest.raises(NonRecoverableError, match=r"^services\[1\]: no service 'nope'"):
        action(ctx=running, services=['app', 'nope'])


def test_a_container_exec_the_runtime_could_not_start_names_the_input(unique, labelled):
    """The same in a Container node's exec, which used to record exit code 126 as done."""
    ctx = node_ctx(unique, {'container_config': {'image': BASE, 'command': ['sleep', '60'],
                                                 'labels': labelled},
                            'container_stop': {'timeout': 0}}, node='c')
    try:
        tasks.configure(ctx=ctx)
        tasks.run(ctx=ctx)
        with pytest.raises(NonRecoverableError, match=r'^command: the engine could not run'):
            container_commands.exec_command(ctx=ctx, command=['nonexistent-command'])
        # The runtime's reason, or (under load the engine can lose it) its silent 126.
        with pytest.raises(NonRecoverableError, match=r'^user: the engine could not run the '
                                                      r'command(: unable to find user nobody2|'
                                                      r' \(exit code 126, the runtime gave '
                                                      r'no reason\))'):
            container_commands.exec_command(ctx=ctx, command='true', user='nobody2')
        with pytest.raises(NonRecoverableError, match=r'^expected_exit_code: .* exited with '
                                                      r"code 3, expected 0; stdout: 'why\\n'"):
            container_commands.exec_command(ctx=ctx, command=['sh', '-c', 'echo why; exit 3'],
                                            expected_exit_code=0)
    finally:
        tasks.delete(ctx=ctx)


@pytest.mark.compose
def test_delete_takes_down_a_container_that_appears_after_down(project, docker_client,
                                                               unique, monkeypatch):
    # Found by the fuzz, under load: after a failed up, a container compose had asked for
    # was created by the engine after compose exited, and down (already done) missed it.
    ctx = project({'services': {'app': SERVICE}})
    compose.create(ctx=ctx)
    compose.start(ctx=ctx)
    name = ctx.instance.runtime_properties['project_name']
    (app,) = ctx.instance.runtime_properties['services']['app']
    labels = docker_client.containers.get(app['id']).labels  # as compose labels its own
    original, stragglers = compose_project.Compose.down, []

    def down_then_a_straggler(self, options):
        progress = original(self, options)
        if not stragglers:  # what the engine finishes creating just after down
            stragglers.append(docker_client.containers.create(
                BASE, LOOP, labels={**labels, 'com.docker.compose.container-number': '9'},
                name=f'{name}-app-9'))
        return progress

    monkeypatch.setattr(compose_project.Compose, 'down', down_then_a_straggler)
    compose.delete(ctx=ctx, remove_images='none')
    assert stragglers
    assert labelled_objects(docker_client, {'cloudify.deployment': unique}) == NOTHING


@pytest.mark.compose
def test_a_project_with_no_service_is_refused_in_create(project):
    # Found by the fuzz: 'services: {}' was accepted by create and retried by every up.
    for definition in ('services: {}', {'services': {'a': {**SERVICE, 'profiles': ['p']}}}):
        ctx = project(definition)
        with pytest.raises(NonRecoverableError, match=r'^definition: the project has no '
                                                      r'service to run'):
            compose.create(ctx=ctx)
