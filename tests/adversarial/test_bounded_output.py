"""Containers that print 50 MB (in many lines, or in one): every report, wait,
result and message stays small, and the process does not grow with the output.
``bench/memory.py`` prints the growth; here sizes are asserted."""

from __future__ import annotations

import logging
import time

import pytest
from cloudify.exceptions import NonRecoverableError
from cloudify.state import current_ctx
from helpers.memory import peak_rss, peak_rss_reset
from helpers.mock_ctx import node_ctx

from docker_plugin import tasks
from docker_plugin.errors import MAX_MESSAGE
from docker_plugin.tasks.container import commands as container_commands
from docker_plugin.tasks.container import controls as container_actions

pytestmark = [pytest.mark.engine, pytest.mark.bounded]
BASE = 'docker-plugin/busybox:latest'
MB50 = 50 * 1024 * 1024
PRINTERS = {
    'many lines': f'yes 0123456789abcdefghijklmnopqrstuvwxyz | head -c {MB50}',
    'one line': f"head -c {MB50} /dev/zero | tr '\\0' x",
}
RESULT_LIMIT = 20000  # a recorded result, serialised, with its envelope


@pytest.fixture
def printer(unique, labelled, caplog):
    made = []
    caplog.set_level(logging.DEBUG)

    def make(script, then='sleep 300', wait_for=None):
        ctx = node_ctx(unique, {
            'container_config': {'image': BASE, 'labels': labelled,
                                 'command': ['sh', '-c', f'{script}; {then}']},
            'container_stop': {'timeout': 0}, 'wait_for': wait_for or {}}, node='c')
        made.append(ctx)
        tasks.configure(ctx=ctx)
        return ctx

    yield make
    for ctx in made:
        current_ctx.set(ctx)
        tasks.delete(ctx=ctx)
    current_ctx.clear()
    assert all(len(r.getMessage()) <= MAX_MESSAGE for r in caplog.records)


def _until_printed(docker_client, ctx, timeout=60):
    cid = ctx.instance.runtime_properties['container_id']
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if docker_client.containers.get(cid).status == 'exited':
            return
        top = docker_client.containers.get(cid).top()['Processes']
        if [p[-1] for p in top] == ['sleep 300']:
            return
        time.sleep(0.3)
    raise AssertionError('the container did not finish printing')


@pytest.mark.parametrize('shape', sorted(PRINTERS))
def test_the_logs_action_keeps_the_end_in_bounded_memory(printer, docker_client, shape):
    ctx = printer(PRINTERS[shape])
    tasks.run(ctx=ctx)
    _until_printed(docker_client, ctx)
    peak_rss_reset()
    before = peak_rss()
    container_actions.logs(ctx=ctx, tail='all', timeout=120)
    growth = peak_rss() - before
    record = ctx.instance.runtime_properties['logs']
    assert len(repr(record)) <= RESULT_LIMIT
    assert record['data']['bytes'] >= 0.9 * MB50 and record['data']['truncated_bytes'] > 0
    assert record['data']['logs'].rstrip()[-1].isalnum()  # the end is kept
    assert growth < 40 * 1024 * 1024, f'grew by {growth / 2 ** 20:.0f} MB'


@pytest.mark.parametrize('shape', sorted(PRINTERS))
def test_an_exited_container_is_reported_briefly(printer, shape, caplog):
    ctx = printer(PRINTERS[shape], then='exit 3',
                  wait_for={'condition': 'exited', 'exit_code': 3, 'timeout': 60})
    tasks.run(ctx=ctx)
    record = ctx.instance.runtime_properties['start_wait']
    assert record['data']['exit_code'] == 3 and len(repr(record)) <= RESULT_LIMIT
    assert record['data']['logs'].rstrip()[-1].isalnum()
    reports = [r.getMessage() for r in caplog.records if 'is ready: exited' in r.getMessage()]
    assert reports and all(len(line) <= MAX_MESSAGE for line in reports)


@pytest.mark.parametrize('shape', sorted(PRINTERS))
def test_waits_quote_a_bounded_tail(printer, shape):
    ctx = printer(PRINTERS[shape], then='exit 1',
                  wait_for={'condition': 'exited', 'exit_code': 0, 'timeout': 60})
    with pytest.raises(NonRecoverableError) as failure:
        tasks.run(ctx=ctx)
    assert 'exited with code 1, expected 0' in str(failure.value)
    assert len(str(failure.value)) <= MAX_MESSAGE
    ctx = printer(PRINTERS[shape], wait_for={'condition': 'log', 'pattern': 'never-printed',
                                              'timeout': 4, 'interval': 1})
    with pytest.raises(NonRecoverableError) as failure:
        tasks.run(ctx=ctx)
    assert 'not ready after 4s' in str(failure.value)
    assert len(str(failure.value)) <= MAX_MESSAGE
    assert len(repr(dict(ctx.instance.runtime_properties))) <= RESULT_LIMIT * 2


@pytest.mark.parametrize('shape', sorted(PRINTERS))
def test_exec_output_is_bounded(printer, shape):
    ctx = printer('true')
    tasks.run(ctx=ctx)
    peak_rss_reset()
    before = peak_rss()
    container_commands.exec_command(ctx=ctx, command=['sh', '-c', PRINTERS[shape]], timeout=120)
    growth = peak_rss() - before
    record = ctx.instance.runtime_properties['exec']
    assert record['data']['exit_code'] == 0 and len(repr(record)) <= RESULT_LIMIT
    assert growth < 40 * 1024 * 1024, f'grew by {growth / 2 ** 20:.0f} MB'
