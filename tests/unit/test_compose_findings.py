"""What the compose adversarial tiers found, pinned without an engine.

Each test is the smallest form of an example ``tests/adversarial/
test_fuzz_compose.py`` (or a probe next to it) broke the invariant with: an
input the option tables let through and compose or the process refused in
words that named no field, a traceback, or a document that took compose
minutes and gigabytes to read.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from docker_plugin.command_failures import exec_not_started
from docker_plugin.errors import (
    InvalidInputError,
    RefusedError,
    TimeoutExpired,
    classify_message,
)
from docker_plugin.importer import cli
from docker_plugin.options.compose import COMPOSE_LOGS, COMPOSE_PROJECT
from docker_plugin.options.container_values import COMMAND
from docker_plugin.resources.compose import binary as compose_binary
from docker_plugin.resources.compose import process as compose_process
from docker_plugin.resources.compose.engine import EngineEnv
from docker_plugin.resources.compose.project import Compose, ProjectSpec
from docker_plugin.resources.compose.state import check_selection
from docker_plugin.yaml_expansion import check_expansion, expanded_nodes

REPO = Path(__file__).resolve().parents[2]
ENV = {'PATH': os.environ.get('PATH', '/usr/bin:/bin')}
# Nine aliases of nine aliases ... of nine: ten lines, 387 million nodes once expanded.
BOMB = '\n'.join(['a: &a [x, x, x, x, x, x, x, x, x]'] + [
    f'{chr(98 + i)}: &{chr(98 + i)} [' + ', '.join([f'*{chr(97 + i)}'] * 9) + ']'
    for i in range(8)] + ['services: {app: {image: x, labels: [*i]}}'])


# ------------------------------------------------------------------ inputs
@pytest.mark.parametrize('since', ['10m', '1h30m', '-5m', '1.5h', '0', '1700000000',
                                   '1700000000.5', '2024-01-02', '2024-01-02T10:00',
                                   '2024-01-02T10:00:00Z', '2024-01-02T10:00:00.123+02:00', ''])
def test_logs_since_takes_what_compose_takes(since):
    assert COMPOSE_LOGS.parse({'since': since})['since'] == since


@pytest.mark.parametrize('since', ['garbage', '2024-01-02 10:00', '1e3', '10M', '5d',
                                   '2024-13-45', '2024-02-30', '٣m', '2562048h',
                                   '2024-01-02T10:00:00+99:99'])
def test_logs_since_that_compose_would_refuse_is_refused_naming_it(since):
    # Found: "compose logs: engine refused: invalid value for "since": ..." named no input.
    with pytest.raises(InvalidInputError, match=r'^since: '):
        COMPOSE_LOGS.parse({'since': since})


@pytest.mark.parametrize('name', ['environment', 'secret_environment'])
def test_interpolation_variable_names_cannot_hold_an_equals_sign(name):
    # Found: "create failed: ValueError: illegal environment variable name" (a traceback's
    # worth of nothing: the names go into compose's own environment).
    with pytest.raises(InvalidInputError, match=rf"^{name} key 'A=B'"):
        COMPOSE_PROJECT.parse({name: {'A=B': 'x'}})
    assert COMPOSE_PROJECT.parse({name: {'A_B': 'x=y'}})[name] == {'A_B': 'x=y'}


def test_a_command_string_with_nul_is_refused():
    # Found: compose exec with command '\x00': "exec_command failed: ValueError: embedded
    # null byte" (a list item with NUL was refused already; a string was not).
    with pytest.raises(InvalidInputError, match=r'^command: must not contain NUL'):
        COMMAND('echo \x00', 'command')


def test_a_project_with_no_service_to_run_is_refused_naming_its_field():
    # Found: definition 'services: {}' was created, then every up was "compose up: engine
    # error: no service selected (not a known failure: retry 1 of 3)".
    with pytest.raises(InvalidInputError, match=r'^definition: the project has no service'):
        check_selection({'name': 'p', 'services': {}}, {'services': [], 'scale': {}},
                        'definition')


# ------------------------------------------------------------------ classification
@pytest.mark.parametrize(('stdout', 'field'), [
    ('OCI runtime exec failed: exec failed: unable to start container process: exec: '
     '"nonexist": executable file not found in $PATH: unknown\r\n', 'command'),
    ('unable to find user nobody2: no matching entries in passwd file\r\n', 'user'),
    ('OCI runtime exec failed: exec failed: unable to start container process: chdir to cwd '
     '("/nonexist") set in config.json failed: no such file or directory: unknown', 'workdir'),
])
def test_an_exec_the_runtime_could_not_start_names_the_input(stdout, field):
    # Found: compose exec said "app: true exited 126, expected 0; stderr: " (the runtime's
    # reason is on stdout); a container's exec recorded 126 as a success.
    refused = exec_not_started(126, stdout, '')
    assert isinstance(refused, InvalidInputError) and refused.field == field
    assert str(refused).startswith(f'{field}: the engine could not run the command: ')
    assert stdout.strip() in str(refused)


@pytest.mark.parametrize(('code', 'stdout', 'stderr'), [
    (126, 'my script says: exec failed: nothing', 'but it ran'),
    (3, 'OCI runtime exec failed: ...', ''),
    (0, '', ''),
    (127, 'sh: nonexist: not found', ''),
])
def test_a_command_that_ran_and_failed_is_not_a_refusal(code, stdout, stderr):
    assert exec_not_started(code, stdout, stderr) is None


@pytest.mark.parametrize(('given', 'field'), [((), 'command'), (['user'], 'user'),
                                               (['workdir'], 'workdir')])
def test_a_silent_126_is_a_failure_to_start_naming_what_was_given(given, field):
    # Found under load: an exec as an unknown user answered 126 with no output at all
    # (the runtime's reason lost), and was recorded as a command that ran.
    refused = exec_not_started(126, '', '', given)
    assert isinstance(refused, InvalidInputError) and refused.field == field
    assert 'the runtime gave no reason' in str(refused)
    assert exec_not_started(126, '', '', given, expected=126) is None


def test_the_memory_limit_a_swap_limit_needs_is_a_permanent_refusal():
    # Found: memswap_limit without mem_limit: "compose up: engine error: ... (not a known
    # failure: retry 1 of 3)".
    message = ('container x-app-1: Error response from daemon: You should always set the '
               'Memory limit when using Memoryswap limit, see usage')
    assert isinstance(classify_message(None, message, 'compose up'), RefusedError)


# ------------------------------------------------------------------ reading the project
def test_a_kept_answer_is_never_cut_at_the_line_limit():
    # Found: a definition with a 200,000-character label: "compose config: the answer is
    # not JSON" (the JSON line had been cut at 64 KB).
    script = 'import json; print(json.dumps({"v": "x" * 200000}))'
    outcome = compose_process.run([sys.executable, '-c', script], ENV, 30, 'compose config',
                                  keep='stdout')
    assert len(outcome.kept) == len('{"v": ""}') + 200000
    with pytest.raises(RefusedError, match='printed more than 1000 characters'):
        compose_process.run([sys.executable, '-c', script], ENV, 30, 'compose config',
                            keep='stdout', max_keep=1000)
    # A stream that is not kept still cuts its lines (its tail stays small).
    outcome = compose_process.run([sys.executable, '-c', script], ENV, 30, 'compose up')
    assert len(outcome.tail('stdout')) <= compose_process.TAIL_CHARS


def test_yaml_aliases_that_would_expand_to_millions_of_nodes_are_refused():
    # Found: this definition kept compose config busy until the 120 s timeout (five million
    # nodes took 2.6 GB and 112 s by hand).
    assert expanded_nodes(BOMB) > 100_000
    with pytest.raises(InvalidInputError, match=r'^definition: the YAML expands to more than'):
        check_expansion(BOMB, 'definition')
    with pytest.raises(InvalidInputError, match=r'^definition: the YAML is nested too deeply'):
        check_expansion('[' * 5000 + ']' * 5000, 'definition')
    webapp = (REPO / 'blueprints/resources/compose/webapp/compose.yaml').read_text()
    assert expanded_nodes(webapp) < 1000
    check_expansion(webapp, 'compose_files')
    assert expanded_nodes('{') is None  # not YAML: compose says why


def _fake_compose(tmp_path: Path, script: str) -> str:
    path = tmp_path / 'fake-compose'
    path.write_text(f'#!/bin/sh\n{script}\n')
    path.chmod(0o755)
    return str(path)


def test_a_definition_compose_cannot_read_in_time_is_blamed_on_the_definition(tmp_path):
    spec = ProjectSpec(name='p', binary=_fake_compose(tmp_path, 'sleep 30'),
                       definition='services: {}', timeout=0.5, field='definition')
    engine = EngineEnv(dict(ENV), lambda text, name: str(tmp_path / name))
    compose = Compose(spec, engine, lambda level, text: None)
    with pytest.raises(InvalidInputError, match=r'^definition: compose could not read the '
                                                r'project in time: compose config: did not'):
        compose.model()
    compose._model = {'services': {'a': {}}}  # once read, a slow command is only slow
    with pytest.raises(TimeoutExpired, match=r'^compose up: did not finish within 0.5 s'):
        compose.call('compose up', ['up'])


@pytest.mark.compose
def test_a_compose_binary_that_is_not_compose_is_refused_naming_it(tmp_path):
    # Found: compose_binary 'yes' or 'ls' failed blaming the definition ("compose refused
    # the project: /usr/bin/ls: unrecognized option '--progress'"), /bin/true with
    # "compose config: the answer is not JSON".
    for binary in ('/bin/true', '/bin/false', 'ls', _fake_compose(tmp_path, 'yes 2.1')):
        target = binary if binary.startswith('/') else f'/usr/bin/{binary}'
        if not os.path.exists(target):
            continue
        with pytest.raises(InvalidInputError, match=r'^compose_binary: .* is not a Docker '
                                                    r'Compose v2 binary'):
            compose_binary.verify(target)
    compose_binary.verify(compose_binary.find_binary())  # the real one answers v2.x


# ------------------------------------------------------------------ the importer
@pytest.mark.compose
def test_the_importer_says_compose_s_refusal_in_one_line(tmp_path, capsys):
    # Found: a compose file '[]': compose's two-line message went to stderr as two lines.
    (tmp_path / 'compose.yaml').write_text('[]\n')
    code = cli.main(['-f', str(tmp_path / 'compose.yaml'), '-o', str(tmp_path / 'b.yaml')])
    error = capsys.readouterr().err.strip()
    assert code == 2 and '\n' not in error
    assert error.startswith('compose-to-blueprint: compose file: compose refused the project')
    assert 'cannot unmarshal' in error


@pytest.mark.compose
def test_the_importer_says_an_unwritable_output_in_one_line(tmp_path, capsys):
    (tmp_path / 'compose.yaml').write_text('services: {app: {image: x}}\n')
    code = cli.main(['-f', str(tmp_path / 'compose.yaml'), '-o',
                     str(tmp_path / 'no' / 'such' / 'b.yaml')])
    error = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and error[-1].startswith('compose-to-blueprint: cannot write ')
    assert 'Traceback' not in '\n'.join(error)


def test_the_importer_refuses_an_alias_bomb_at_once(tmp_path, capsys):
    (tmp_path / 'compose.yaml').write_text(BOMB)
    code = cli.main(['-f', str(tmp_path / 'compose.yaml'), '-o', str(tmp_path / 'b.yaml')])
    assert code == 2
    assert 'compose file: the YAML expands to more than' in capsys.readouterr().err


def test_a_silent_or_absent_engine_is_named(tmp_path):
    """compose_engine.silence says why an engine does not answer (the fault tier shows
    None for one that does, and the retry it leads to)."""
    import socket
    import threading

    from docker_plugin.client import resolve_config
    from docker_plugin.resources.compose.engine import silence

    absent = resolve_config({'docker_host': f'unix://{tmp_path}/no.sock', 'timeout': 1})
    assert 'unreachable' in silence(absent).lower()

    mute = socket.socket(socket.AF_UNIX)  # accepts, never answers
    mute.bind(str(tmp_path / 'mute.sock'))
    mute.listen(4)
    held: list[socket.socket] = []
    threading.Thread(target=lambda: held.append(mute.accept()[0]), daemon=True).start()
    try:
        silent = resolve_config({'docker_host': f'unix://{tmp_path}/mute.sock', 'timeout': 1})
        assert silence(silent)
    finally:
        mute.close()
        for conn in held:
            conn.close()
