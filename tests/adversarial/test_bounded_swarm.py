"""Services whose tasks print tens of megabytes (in many lines, or in one), on the
three-engine lab: the service ``logs`` action keeps the end of the output in
bounded memory, and every message the plugin raises or logs about such a
service (a failed convergence quoting its tasks' errors and logs) stays a
few KB. The output is made inside the task (busybox ``yes``/``head``/``tr``)."""

from __future__ import annotations

import logging
import re
import time
from typing import Any

import pytest
from cloudify.exceptions import NonRecoverableError
from helpers.mock_ctx import node_ctx
from test_bounded_output import peak_rss, peak_rss_reset

from docker_plugin.errors import MAX_MESSAGE
from docker_plugin.tasks.service import commands as service_actions
from docker_plugin.tasks.service import lifecycle as service

pytestmark = [pytest.mark.engine, pytest.mark.bounded]
MB = 20 * 1024 * 1024
PRINTERS = {
    'many lines': f'yes 0123456789abcdefghijklmnopqrstuvwxyz | head -c {MB}',
    'one line': f"head -c {MB} /dev/zero | tr '\\0' x",
}
DONE = 'done-printing-zz'
RESULT_LIMIT = 80000  # the recorded logs (64 KB kept by default), serialised


@pytest.fixture
def printer(swarm, unique, caplog):
    """Services on the swarm whose single task runs a script; deleted after."""
    made: list[Any] = []
    caplog.set_level(logging.DEBUG)

    def make(script: str, then: str = 'sleep 300', converge: dict | None = None) -> Any:
        ctx = node_ctx(unique, node='svc', properties={
            'daemon_client': {**swarm.manager.daemon_client(), 'timeout': 60},
            'name': f'{unique}-{len(made)}', 'converge': converge or {'timeout': 60},
            'service_config': {
                'image': swarm.ref('app:v1'), 'endpoint_mode': 'dnsrr', 'replicas': 1,
                'stop_grace_period': '1s', 'restart_policy': {'condition': 'none'},
                'command': ['sh', '-c', f'{script}; echo; echo {DONE}; {then}']}})
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        service.delete(ctx=node_ctx(unique, node='svc', properties=dict(ctx.node.properties),
                                    runtime=dict(ctx.instance.runtime_properties)))
    too_long = [len(r.getMessage()) for r in caplog.records
                if len(r.getMessage()) > MAX_MESSAGE]
    assert not too_long, f'log records of {too_long} characters'


def _until_printed(swarm: Any, name: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        last = swarm.manager.docker('service', 'logs', '--raw', '--tail', '1', name,
                                    check=False, timeout=30)
        if DONE in last[-200:]:
            return
        time.sleep(1)
    raise AssertionError(f'service {name} did not finish printing')


@pytest.mark.parametrize('shape', sorted(PRINTERS))
def test_the_logs_action_keeps_the_end_in_bounded_memory(printer, swarm, shape):
    ctx = printer(PRINTERS[shape])
    service.create(ctx=ctx)
    service.start(ctx=ctx)
    _until_printed(swarm, ctx.node.properties['name'])
    peak_rss_reset()
    before = peak_rss()
    started = time.monotonic()
    text = service_actions.logs(ctx=ctx, tail=100000, timeout=120)
    took = time.monotonic() - started
    growth = peak_rss() - before
    record = ctx.instance.runtime_properties['logs']
    assert len(repr(record)) <= RESULT_LIMIT
    total, cut = record['data']['bytes'], record['data']['truncated_bytes']
    assert re.fullmatch(r'service \S+: \d+ log lines \(the last \d+ of \d+ bytes\)',
                        record['message']), record['message']
    # tail is in lines: 100000 short lines (3.7 MB), or every 16 KB piece of the long one
    assert total >= (0.9 * MB if shape == 'one line' else 3 * 10 ** 6), record['message']
    assert cut > 0 and len(text) <= 64000
    assert text.rstrip().endswith(DONE), text[-200:]  # the end is kept
    assert growth < 40 * 1024 * 1024, f'grew by {growth / 2 ** 20:.0f} MB'
    assert took < 120


@pytest.mark.parametrize('shape', sorted(PRINTERS))
def test_a_failed_convergence_quotes_a_bounded_tail(printer, shape, caplog):
    ctx = printer(PRINTERS[shape], then='exit 3', converge={'timeout': 60, 'log_lines': 200})
    service.create(ctx=ctx)
    started = time.monotonic()
    with pytest.raises(NonRecoverableError) as failure:
        service.start(ctx=ctx)
    message = str(failure.value)
    assert time.monotonic() - started < 30  # it cannot converge: no waiting it out
    assert 'restart policy (condition none) starts no other' in message, message[:500]
    assert 'exit code 3' in message, message[:500]
    assert len(message) <= MAX_MESSAGE
    assert DONE in message  # the end of the task's output is quoted
    assert len(repr(dict(ctx.instance.runtime_properties))) <= RESULT_LIMIT
