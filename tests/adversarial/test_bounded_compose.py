"""ComposeProject against tens of megabytes of output: a service that prints 50 MB
(in many lines, or in one), an ``exec`` that prints as much and fails, and an
``up`` whose build prints as much and fails. Every result, message and log
record stays small and keeps the end; the worker (where the runner reads
compose's pipes) does not grow with the output."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from cloudify.exceptions import NonRecoverableError
from cloudify.state import current_ctx
from helpers.memory import peak_rss, peak_rss_reset
from helpers.mock_ctx import node_ctx

from docker_plugin.errors import MAX_MESSAGE
from docker_plugin.tasks.compose import commands as compose_actions
from docker_plugin.tasks.compose import lifecycle as compose

pytestmark = [pytest.mark.engine, pytest.mark.bounded, pytest.mark.compose]
BASE = 'docker-plugin/busybox:latest'
MB50 = 50 * 1024 * 1024
PRINTERS = {
    'many lines': f'yes 0123456789abcdefghijklmnopqrstuvwxyz | head -c {MB50}; echo the-end',
    'one line': f"head -c {MB50} /dev/zero | tr '\\0' x; echo the-end",
}
RESULT_LIMIT = 20000  # a recorded result, serialised, with its envelope
GROWTH_LIMIT = 40 * 1024 * 1024


@pytest.fixture
def project(unique, caplog, docker_client):
    """Make (create and start) compose projects; ``down`` each one after the test."""
    made: list[Any] = []
    caplog.set_level(logging.DEBUG)

    def make(properties: dict[str, Any], start: bool = True) -> Any:
        ctx = node_ctx(unique, {'stop_timeout': 0, **properties}, node='app')
        made.append(ctx)
        compose.create(ctx=ctx)
        if start:
            compose.start(ctx=ctx)
        return ctx

    yield make
    for ctx in made:
        current_ctx.set(ctx)
        compose.delete(ctx=ctx)
    current_ctx.clear()
    assert docker_client.containers.list(
        all=True, filters={'label': f'cloudify.deployment={unique}'}) == []
    assert all(len(r.getMessage()) <= MAX_MESSAGE for r in caplog.records)


def _service(script: str) -> dict[str, Any]:
    return {'services': {'app': {'image': BASE, 'command': ['sh', '-c', script]}}}


def _until_printed(docker_client: Any, ctx: Any, timeout: float = 90) -> None:
    (app,) = ctx.instance.runtime_properties['services']['app']
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        top = docker_client.containers.get(app['id']).top()['Processes']
        if [p[-1] for p in top] == ['sleep 300']:
            return
        time.sleep(0.3)
    raise AssertionError('the service did not finish printing')


@pytest.mark.parametrize('shape', sorted(PRINTERS))
def test_the_logs_action_keeps_the_end_in_bounded_memory(project, docker_client, shape):
    ctx = project({'definition': _service(f'{PRINTERS[shape]}; exec sleep 300')})
    _until_printed(docker_client, ctx)
    peak_rss_reset()
    before = peak_rss()
    compose_actions.logs(ctx=ctx, tail='all', timeout=120)
    growth = peak_rss() - before
    record = ctx.instance.runtime_properties['logs']
    assert len(repr(record)) <= RESULT_LIMIT
    assert record['data']['logs'].rstrip().endswith('the-end')  # the end is kept
    assert growth < GROWTH_LIMIT, f'grew by {growth / 2 ** 20:.0f} MB'


@pytest.mark.parametrize('shape', sorted(PRINTERS))
def test_a_failing_exec_that_prints_a_lot_is_reported_briefly(project, shape):
    ctx = project({'definition': _service('exec sleep 300')})
    for stream in ('', ' >&2'):
        peak_rss_reset()
        before = peak_rss()
        with pytest.raises(NonRecoverableError) as failure:
            compose_actions.exec_command(
                ctx=ctx, service='app', expected_exit_code=0, timeout=120,
                command=['sh', '-c', f'({PRINTERS[shape]}){stream}; exit 3'])
        growth = peak_rss() - before
        message = str(failure.value)
        assert 'exited with code 3 (in app), expected 0' in message
        assert message.rstrip().endswith('the-end')
        assert len(message) <= MAX_MESSAGE
        record = ctx.instance.runtime_properties['exec']
        assert record['data']['exit_code'] == 3 and len(repr(record)) <= RESULT_LIMIT
        assert growth < GROWTH_LIMIT, f'grew by {growth / 2 ** 20:.0f} MB'


def _remove_build_leftovers(docker_client: Any, marker: str) -> None:
    for container in docker_client.containers.list(all=True, filters={'status': 'exited'}):
        if marker in ' '.join(container.attrs['Config'].get('Cmd') or []):
            container.remove(force=True)


@pytest.mark.parametrize('builder', ['buildkit', 'classic'])
@pytest.mark.parametrize('shape', sorted(PRINTERS))
def test_a_failing_up_whose_build_prints_a_lot_is_reported_briefly(project, tmp_path, shape,
                                                                   builder, unique,
                                                                   docker_client, request):
    """BuildKit clips a step's output itself; the classic builder streams all 50 MB
    (and leaves the failed step's container, unlabelled: removed here by its marker)."""
    (tmp_path / 'Dockerfile').write_text(
        f'FROM {BASE}\nRUN {PRINTERS[shape]}; echo build-failed-here; exit 7 # {unique}\n')
    request.addfinalizer(lambda: _remove_build_leftovers(docker_client, unique))
    definition = {'services': {'app': {'build': {'context': str(tmp_path)},
                                       'command': ['sleep', '300']}}}
    environment = {'DOCKER_BUILDKIT': '0' if builder == 'classic' else '1'}
    ctx = project({'definition': definition, 'timeout': 240, 'environment': environment},
                  start=False)
    peak_rss_reset()
    before = peak_rss()
    with pytest.raises(NonRecoverableError) as failure:
        compose.start(ctx=ctx)
    growth = peak_rss() - before
    message = str(failure.value)
    assert len(message) <= MAX_MESSAGE, len(message)
    assert 'exit code: 7' in message or 'returned a non-zero code: 7' in message, message
    assert growth < GROWTH_LIMIT, f'grew by {growth / 2 ** 20:.0f} MB'
    assert message.startswith('definition: ') and '\ufffd' not in message, message
    if builder == 'classic':  # all of it went by: the end is quoted
        assert message.rstrip().endswith('build-failed-here'), message[-300:]
