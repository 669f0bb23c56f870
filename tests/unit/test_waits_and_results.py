"""Readiness waits with a fake clock, result bounding, and safe archive extraction."""

from __future__ import annotations

import io
import tarfile
from unittest import mock

import pytest
from helpers.fakes import FakeStreamResponse, streaming_api

from docker_plugin import results, secrets
from docker_plugin.errors import InvalidInputError, RefusedError, StateError, TimeoutExpired
from docker_plugin.options.lifecycle import wait_for
from docker_plugin.resources.container import archives, probes


@pytest.mark.parametrize(('raw', 'field'), [
    ({'condition': 'soon'}, 'wait_for.condition'),
    ({'condition': 'log'}, 'wait_for.pattern'),
    ({'condition': 'log', 'pattern': '('}, 'wait_for.pattern'),
    ({'condition': 'port'}, 'wait_for.port'),
    ({'condition': 'port', 'port': 0}, 'wait_for.port'),
    ({'condition': 'port', 'port': '８０'}, 'wait_for.port'),
    ({'timeout': 0}, 'wait_for.timeout'),
    ({'timeout': float('nan')}, 'wait_for.timeout'),
    ({'timeout': 10 ** 30}, 'wait_for.timeout'),
    ({'interval': 'x'}, 'wait_for.interval'),
    ({'exit_code': '0'}, 'wait_for.exit_code'),
    ({'async': 'yes'}, 'wait_for.async'),
    ({'color': 'red'}, 'wait_for.color'),
])
def test_bad_wait_specs_name_the_field(raw, field):
    with pytest.raises(InvalidInputError) as failure:
        wait_for(raw)
    assert str(failure.value).startswith(f'{field}:')


def test_nothing_to_wait_for():
    assert wait_for({}) is None and wait_for(None) is None


def spec_of(raw):
    return probes.WaitSpec.of(wait_for(raw))


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_wait_polls_until_ready_and_logs_changes_only():
    spec = spec_of({'condition': 'healthy', 'timeout': 10, 'interval': 1})
    seen = iter([probes.Observation(False, 'health starting')] * 3
                + [probes.Observation(True, 'health healthy')])
    clock, lines = FakeClock(), []
    with mock.patch.object(probes, 'probe', lambda *a: next(seen)):
        result = probes.wait(None, 'c' * 64, spec, lines.append, None, clock, clock.sleep)
    assert result.seen == 'health healthy' and clock.now == 3
    assert len(lines) == 1 and 'health starting' in lines[0]


def test_wait_times_out_at_the_given_time_saying_what_it_saw():
    spec = spec_of({'condition': 'port', 'port': 80, 'timeout': 5, 'interval': 2})
    clock = FakeClock()
    with mock.patch.object(probes, 'probe', lambda *a: probes.Observation(False, 'refused')), \
            pytest.raises(TimeoutExpired) as failure:
        probes.wait(None, 'c' * 64, spec, lambda line: None, None, clock, clock.sleep)
    assert clock.now == 5
    assert 'not ready after 5s' in str(failure.value) and 'last saw: refused' in str(failure.value)
    assert 'accept TCP connections on port 80' in str(failure.value)


def test_probe_fails_fast_when_the_container_died():
    api = mock.MagicMock()
    api.inspect_container.return_value = {'Id': 'c' * 64, 'State': {
        'Running': False, 'Status': 'exited', 'ExitCode': 3}}
    spec = spec_of({'condition': 'log', 'pattern': 'x'})
    with mock.patch.object(probes.logs, 'last_lines', return_value='last words'), \
            pytest.raises(StateError, match=r'(?s)exit code 3.*last words'):
        probes.probe(api, 'c' * 64, spec, None)


def test_results_are_bounded_and_redacted():
    secrets.remember('topsecretvalue')
    try:
        record = results.result(0, 'ok topsecretvalue', {
            'logs': 'x' * 20000, 'items': list(range(500))})
    finally:
        secrets.forget_all()
    assert 'topsecretvalue' not in record['message']
    assert len(record['data']['logs']) < 9000 and record['data']['logs'].endswith('x')
    assert record['data']['logs'].startswith('[12000 earlier characters truncated]')
    assert record['data']['items'][-1] == '[300 more items truncated]'


def _tar(*members):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode='w') as tar:
        for name, kind, target in members:
            info = tarfile.TarInfo(name)
            if kind == 'sym':
                info.type, info.linkname = tarfile.SYMTYPE, target
                tar.addfile(info)
            else:
                data = b'data'
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.mark.parametrize('members', [
    [('../escape.txt', 'file', None)],
    [('/abs.txt', 'file', None)],
    [('d/link', 'sym', '/etc/passwd')],
    [('d/link', 'sym', '../../outside')],
])
def test_copy_from_refuses_members_that_escape(tmp_path, members):
    response = FakeStreamResponse([_tar(*members)])
    with pytest.raises(RefusedError, match='refusing'):
        archives.copy_from(streaming_api(response), 'c' * 64, '/x', str(tmp_path / 'dest'),
                           10 ** 6)
    assert not (tmp_path / 'escape.txt').exists() and response.closed


def test_copy_from_extracts_inside_and_bounds_the_size(tmp_path):
    response = FakeStreamResponse([_tar(('d/f.txt', 'file', None), ('d/ok', 'sym', 'f.txt'))])
    files = archives.copy_from(streaming_api(response), 'c' * 64, '/d', str(tmp_path), 10 ** 6)
    assert files == ['d/f.txt', 'd/ok'] and (tmp_path / 'd' / 'f.txt').read_bytes() == b'data'
    big = FakeStreamResponse([b'x' * 100] * 5)
    with pytest.raises(InvalidInputError, match='max_bytes'):
        archives.copy_from(streaming_api(big), 'c' * 64, '/d', str(tmp_path), 10)
    # Refused by size, the answer is closed at once (an open one holds the container).
    assert big.closed
