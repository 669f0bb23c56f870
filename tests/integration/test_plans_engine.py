"""Drift in the user's words and update's preview, against the real engine (issue 19,
item 5): a container and a compose project, each changed the way a local user changes a
property (the changed value given to the operation as an input), each drift entry saying
what update will do, a preview that changes nothing, then the update itself."""

from __future__ import annotations

import logging
import uuid

import pytest
from cloudify.exceptions import NonRecoverableError
from cloudify.state import current_ctx
from helpers.cleanup import labelled_objects, remove_labelled
from helpers.mock_ctx import node_ctx

from docker_plugin import tasks
from docker_plugin.tasks.compose import lifecycle as compose
from docker_plugin.tasks.container import lifecycle as container_tasks

pytestmark = pytest.mark.engine
BASE = 'docker-plugin/busybox:latest'
NOTHING = {'containers': [], 'images': [], 'networks': [], 'volumes': []}
LOOP = ['sh', '-c', "trap 'exit 0' TERM; while true; do sleep 0.2; done"]


@pytest.fixture
def deployment(docker_client):
    name = f'dpd-{uuid.uuid4().hex[:8]}'
    yield name
    current_ctx.clear()
    remove_labelled(docker_client, {'cloudify.deployment': name})


def _said(caplog) -> str:
    return '\n'.join(record.getMessage() for record in caplog.records)


def test_container_drift_says_what_update_does_and_the_preview_changes_nothing(
        deployment, docker_client, caplog):
    config = {'image': BASE, 'command': LOOP, 'name': deployment, 'mem_limit': '64m'}
    ctx = node_ctx(deployment, {'container_config': config, 'container_stop': {'timeout': 0},
                                'container_remove': {'force': True}},
                   node='c', instance=f'{deployment}_c')
    tasks.configure(ctx=ctx)
    tasks.run(ctx=ctx)
    props = ctx.instance.runtime_properties
    container_id = props['container_id']
    try:
        # The changed property, given as update's input: declared as written, found alike.
        larger = {**config, 'mem_limit': '96m'}
        (entry,) = container_tasks.check_drift(ctx=ctx, container_config=larger)
        assert (entry['option'], entry['desired'], entry['actual']) == ('mem_limit', '96m',
                                                                        '64m')
        assert (entry['action'], entry['plan']) == (
            'in_place', "update changes it in place: the engine's update call")
        recorded = list(props['drift'])

        # Preview: the plan, said in the event stream; the container is as it was.
        caplog.clear()
        with caplog.at_level(logging.INFO):
            shown = container_tasks.update(ctx=ctx, container_config=larger, preview=True)
        assert shown == [entry]
        said = _said(caplog)
        assert f'Update preview of the container {deployment} (nothing changed): 1 in place' \
            in said
        assert "mem_limit (HostConfig.Memory): declared '96m', found '64m'; update changes " \
            'it in place' in said
        assert docker_client.api.inspect_container(container_id)['HostConfig']['Memory'] == \
            64 * 1024 ** 2
        assert props['drift'] == recorded  # a preview records nothing

        # One option only a new container can take: the preview says update would fail,
        # and why, in the words update then fails with; nothing is applied.
        moved = {**larger, 'working_dir': '/tmp'}
        caplog.clear()
        with caplog.at_level(logging.INFO):
            planned = container_tasks.update(ctx=ctx, container_config=moved, preview=True)
        assert {e['option']: e['action'] for e in planned} == {'mem_limit': 'refuse',
                                                              'working_dir': 'refuse'}
        said = _said(caplog)
        assert '2 refused' in said
        reason = said.split('update would fail: ', 1)[1].splitlines()[0]
        assert reason.startswith('working_dir changed: only a new container can take it')
        with pytest.raises(NonRecoverableError) as refused:
            container_tasks.update(ctx=ctx, container_config=moved)
        assert str(refused.value).startswith(reason)
        assert docker_client.api.inspect_container(container_id)['HostConfig']['Memory'] == \
            64 * 1024 ** 2

        # The update itself: in place, the same container, no drift left.
        assert container_tasks.update(ctx=ctx, container_config=larger) == []
        assert props['container_id'] == container_id
        assert docker_client.api.inspect_container(container_id)['HostConfig']['Memory'] == \
            96 * 1024 ** 2
        assert container_tasks.check_drift(ctx=ctx, container_config=larger) == []
    finally:
        tasks.delete(ctx=ctx)
    assert labelled_objects(docker_client, {'cloudify.deployment': deployment}) == NOTHING


@pytest.mark.compose
def test_compose_drift_names_service_and_key_and_the_preview_changes_nothing(
        deployment, docker_client, caplog):
    canary = f'canary-{deployment}'

    def project(mode: str, token: str) -> dict:
        return {'secret_environment': {'TOKEN': token}, 'stop_timeout': 0, 'definition': {
            'services': {'app': {'image': BASE, 'command': LOOP,
                                 'environment': {'MODE': mode, 'TOKEN': '${TOKEN}'}}}}}

    ctx = node_ctx(deployment, project('one', canary), node='app',
                   instance=f'{deployment}_app')
    compose.create(ctx=ctx)
    compose.start(ctx=ctx)
    props = ctx.instance.runtime_properties
    (app,) = props['services']['app']
    try:
        assert compose.check_drift(ctx=ctx) == []
        # The changed files, given as inputs: a value and an interpolated secret.
        changed = project('two', canary + '-new')
        found = compose.check_drift(ctx=ctx, **changed)
        assert [(e['option'], e['desired'], e['actual'], e['action']) for e in found] == [
            ('services.app.environment.MODE', 'changed in the files', 'as at the last up',
             'recreate'),
            ('services.app.environment.TOKEN', 'changed in the files', 'as at the last up',
             'recreate')]
        assert {e['plan'] for e in found} == {
            "update makes it again: compose up makes the service's containers again"}
        caplog.clear()
        with caplog.at_level(logging.DEBUG):
            shown = compose.update(ctx=ctx, preview=True, **changed)
        assert shown == found
        said = _said(caplog)
        assert 'Update preview of the compose project' in said and '2 made again' in said
        assert canary not in said and canary not in repr(dict(props))
        # Nothing changed: the same container, with the old environment.
        assert docker_client.containers.get(app['id']).attrs['Config']['Env'].count(
            'MODE=one') == 1

        assert compose.update(ctx=ctx, **changed) == []
        (again,) = props['services']['app']
        assert again['id'] != app['id']
        assert 'MODE=two' in docker_client.containers.get(again['id']).attrs['Config']['Env']
        assert compose.check_drift(ctx=ctx, **changed) == []
    finally:
        compose.delete(ctx=ctx, **project('one', canary))
    assert labelled_objects(docker_client, {'cloudify.deployment': deployment}) == NOTHING
