"""Results a person reads: counts, tables and output in the event stream, one port shape.

What an action shows in the event stream is its message and the end of its output,
bounded and masked (``results.shown``); what it keeps is the structured result. Every
kind says counts the same way, shows logs in one shape and ports as integers.
"""

from __future__ import annotations

import logging

import pytest
from cloudify.mocks import MockCloudifyContext
from cloudify.state import current_ctx

from docker_plugin import results, secrets
from docker_plugin.resources import published
from docker_plugin.resources.compose import state as compose_state
from docker_plugin.resources.container import reports
from docker_plugin.tasks.context import report_action


@pytest.mark.parametrize(('number', 'noun', 'said'), [
    (1, 'log line', '1 log line'), (2, 'log line', '2 log lines'), (0, 'container', '0 containers'),
    (1, 'process', '1 process'), (3, 'process', '3 processes'), (2, 'entry', '2 entries'),
    (2, 'key', '2 keys'), (5, 'retry', '5 retries'), (1, 'task', '1 task'),
])
def test_counts_are_said_with_their_plural(number, noun, said):
    assert results.count(number, noun) == said


def test_shown_output_keeps_the_end_says_what_it_left_out_and_masks():
    secrets.remember('hunter2-secret')
    try:
        text = '\n'.join(f'line {i} hunter2-secret' for i in range(200))
        shown = results.shown(text, 'logs')
    finally:
        secrets.forget_all()
    lines = shown.splitlines()
    assert lines[0] == ('  [140 earlier lines not shown (the runtime property logs keeps '
                        'more)]')
    assert lines[-1] == '  line 199 ******' and len(lines) == results.SHOWN_LINES + 1
    assert 'hunter2' not in shown and len(shown) <= results.SHOWN_CHARS + 200


def test_one_long_line_shows_its_end_within_the_bound():
    shown = results.shown('x' * 10_000 + 'THE END')
    assert shown.endswith('THE END') and len(shown) < results.SHOWN_CHARS + 100
    assert shown.splitlines()[0] == '  [the start of the line not shown]'
    assert results.shown('a\nb\n') == '  a\n  b'  # short output: all of it, indented


def test_tables_align_their_columns_and_show_nothing_as_a_dash():
    text = results.table([{'name': 'web', 'state': 'running', 'ports': [80, 443]},
                          {'name': 'database', 'state': '', 'ports': []}],
                         [('name', 'NAME'), ('state', 'STATE'), ('ports', 'PORTS')])
    assert text.splitlines() == ['NAME      STATE    PORTS',
                                 'web       running  80 443',
                                 'database  -        -']


def test_logs_of_every_kind_have_one_shape():
    message, data = results.logs('a\nb\n', 4)
    assert message == '2 log lines'
    assert data == {'logs': 'a\nb\n', 'lines': 2, 'bytes': 4, 'truncated_bytes': 0}
    message, data = results.logs('z\n', 1000)
    assert message == '1 log line (the last 2 of 1000 bytes)' and data['truncated_bytes'] == 998
    assert results.streams('out\n', '') == 'stdout:\n  out\nstderr:\n  (nothing)'


def test_top_and_inspect_read_as_tables_and_lines():
    table = {'Titles': ['PID', 'CMD'], 'Processes': [['1', 'sleep 300'], ['27', 'sh']]}
    assert reports.format_top(table).splitlines() == ['PID  CMD', '1    sleep 300', '27   sh']
    info = {'Id': 'c' * 64, 'Name': '/web', 'Image': 'sha256:' + 'a' * 64,
            'State': {'Status': 'running'},
            'Config': {'Image': 'busybox', 'Cmd': ['sleep', '300'], 'Env': ['B=2', 'A=secret']},
            'HostConfig': {'RestartPolicy': {'Name': 'on-failure', 'MaximumRetryCount': 3}},
            'NetworkSettings': {'Ports': {'80/tcp': [{'HostIp': '127.0.0.1',
                                                      'HostPort': '8080'}]}, 'Networks': {}}}
    lines = reports.describe(reports.inspected(info))
    assert lines == ['state: running', 'image: busybox (sha256:aaaaaaaaaaaa)',
                     'command: sleep 300', 'no network interfaces',
                     'port 80/tcp -> 127.0.0.1:8080',
                     'restart policy: on-failure (at most 3 retries)', 'environment: A, B']
    assert 'secret' not in '\n'.join(lines)


def test_ports_are_integers_in_one_shape_for_containers_and_compose():
    by_inspect = published.from_inspect({'80/tcp': [{'HostIp': '127.0.0.1', 'HostPort': '8080'}],
                                         '81/tcp': None})
    by_list = published.from_list([{'IP': '127.0.0.1', 'PrivatePort': 80, 'PublicPort': 8080,
                                    'Type': 'tcp'}, {'PrivatePort': 81, 'Type': 'tcp'}])
    by_ps = published.from_publishers([
        {'URL': '127.0.0.1', 'TargetPort': 80, 'PublishedPort': 8080, 'Protocol': 'tcp'},
        {'URL': '', 'TargetPort': 81, 'PublishedPort': 0, 'Protocol': 'tcp'}])
    expected = {'80/tcp': [{'host_ip': '127.0.0.1', 'host_port': 8080}], '81/tcp': None}
    assert by_inspect == by_list == by_ps == expected
    assert reports.summarise({'Id': 'c', 'NetworkSettings': {'Ports': {
        '80/tcp': [{'HostIp': '', 'HostPort': '32768'}]}}})['ports'] == {
        '80/tcp': [{'host_ip': '', 'host_port': 32768}]}
    container = {'Id': 'c', 'Names': ['/p-web-1'], 'Labels': {compose_state.SERVICE: 'web'},
                 'Ports': [{'IP': '0.0.0.0', 'PrivatePort': 80, 'PublicPort': 8080,
                            'Type': 'tcp'}]}
    assert compose_state.describe(container)['ports'] == {
        '80/tcp': [{'host_ip': '0.0.0.0', 'host_port': 8080}]}
    assert published.describe(expected) == ['port 80/tcp -> 127.0.0.1:8080',
                                            'port 81/tcp: exposed, not published']


@pytest.fixture
def ctx():
    made = MockCloudifyContext(node_id='web_abc', node_name='web', deployment_id='dep',
                               properties={}, runtime_properties={})
    current_ctx.set(made)
    yield made
    current_ctx.clear()


def test_an_action_result_is_kept_and_shown_masked(ctx, caplog):
    secrets.remember('pa55word-canary')
    ctx.logger.addFilter(secrets.FILTER)
    try:
        with caplog.at_level(logging.INFO):
            kept = report_action(ctx, 'exec', 3, "['env'] exited with code 3",
                                 {'exit_code': 3, 'stdout': 'PW=pa55word-canary\n',
                                  'stderr': ''},
                                 results.streams('PW=pa55word-canary\n', ''))
    finally:
        ctx.logger.removeFilter(secrets.FILTER)
        secrets.forget_all()
    record = caplog.records[-1]
    assert record.levelno == logging.WARNING  # a result whose exit code is not 0
    assert record.getMessage() == ("exec: ['env'] exited with code 3\n  stdout:\n"
                                   '    PW=******\n  stderr:\n    (nothing)')
    assert kept['stdout'] == 'PW=******\n'  # the kept output is masked too
    assert ctx.instance.runtime_properties['exec']['data'] == kept
