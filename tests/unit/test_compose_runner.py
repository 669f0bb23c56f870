"""The compose runner without an engine: the binary, the process, progress, errors, labels.

The process tests run small shell commands in place of compose (deadlines,
bounded memory, long lines); the binary tests run the real compose binary
on files that compose itself refuses, and show that the ``docker-compose``
wrapper on PATH would have called the same failures a success.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest

from docker_plugin.command_failures import classify_compose
from docker_plugin.errors import (
    InvalidInputError,
    NotFoundError,
    RefusedError,
    StateError,
    TimeoutExpired,
    TransientError,
)
from docker_plugin.options.compose import default_project_name
from docker_plugin.resources.compose import binary as compose_binary
from docker_plugin.resources.compose import process as compose_process
from docker_plugin.resources.compose.progress import Progress
from docker_plugin.resources.compose.project import label_override

ENV = {'PATH': os.environ.get('PATH', '/usr/bin:/bin')}
WRAPPER = Path(sys.executable).with_name('docker-compose')


def _sh(script: str) -> list[str]:
    return ['/bin/sh', '-c', script]


# ------------------------------------------------------------------ the process
def test_a_command_past_its_deadline_is_killed_with_what_it_printed_last():
    started = time.monotonic()
    with pytest.raises(TimeoutExpired) as failure:
        compose_process.run(_sh('echo waiting for db >&2; sleep 30 & wait'), ENV, 0.5,
                            'compose up')
    assert time.monotonic() - started < 5
    assert 'compose up: did not finish within 0.5 s and was killed' in str(failure.value)
    assert 'waiting for db' in str(failure.value)
    out = subprocess.run(['pgrep', '-f', 'sleep 30 & wait'], capture_output=True, text=True)
    assert out.stdout.strip() == ''  # the whole process group went


def test_memory_does_not_grow_with_the_output():
    lines = []
    tracemalloc.start()
    try:
        outcome = compose_process.run(
            _sh('i=0; while [ $i -lt 20 ]; do head -c 2000000 /dev/zero | tr "\\0" x; '
                'echo; i=$((i+1)); done; yes line | head -n 200000'), ENV, 60, 'logs',
            on_line=lambda stream, line: lines.append(len(line)))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # 40 MB of text went by; the runner kept tails and cut long lines.
    assert outcome.returncode == 0 and len(lines) == 200020
    assert compose_process.MAX_LINE <= max(lines) < compose_process.MAX_LINE + 100
    assert len(outcome.tail('stdout')) <= compose_process.TAIL_CHARS
    assert peak < 8 * 1024 * 1024, peak


@pytest.mark.parametrize('size', [compose_process.MAX_LINE + 1, 3_000_000])
def test_a_cut_line_keeps_its_start_and_its_end(size):
    # Found by the compose bounded tier: a cut line used to lose its end, where a failing
    # command says what went wrong.
    lines = []
    outcome = compose_process.run(
        _sh(f'printf start; head -c {size} /dev/zero | tr "\\0" x; echo the-end; echo next'),
        ENV, 30, 'exec', on_line=lambda stream, line: lines.append(line))
    assert lines[-1] == 'next' and len(lines) == 2
    assert lines[0].startswith('startxxx') and lines[0].endswith('xxxthe-end')
    assert f'[... {size + 5 + 7 - compose_process.MAX_LINE} bytes cut ...]' in lines[0]
    assert outcome.tail('stdout').endswith('the-end\nnext')


def test_a_kept_stream_is_whole_but_bounded():
    outcome = compose_process.run(_sh('echo \'{"a": 1}\'; echo noise >&2'), ENV, 10, 'config',
                                  keep='stdout')
    assert json.loads(outcome.kept) == {'a': 1} and outcome.tail('stderr') == 'noise'
    with pytest.raises(RefusedError, match='more than 1000 characters'):
        compose_process.run(_sh('yes | head -n 5000'), ENV, 10, 'config', keep='stdout',
                            max_keep=1000)


@pytest.mark.compose
def test_a_missing_program_names_compose_binary():
    with pytest.raises(InvalidInputError, match=r'^compose_binary: cannot run /nonexistent'):
        compose_process.run(['/nonexistent/docker-compose'], ENV, 5, 'compose up')


# ------------------------------------------------------------------ the binary
def test_the_real_binary_is_found_never_the_wrapper_that_always_exits_0(tmp_path):
    found = compose_binary.find_binary()
    assert not compose_binary.is_wrapper(found)
    with open(found, 'rb') as handle:
        assert handle.read(4) == b'\x7fELF'
    assert WRAPPER.is_file() and compose_binary.is_wrapper(str(WRAPPER))
    with pytest.raises(InvalidInputError, match=r'^compose_binary: .*is a script'):
        compose_binary.find_binary(str(WRAPPER))
    with pytest.raises(InvalidInputError, match=r'^compose_binary: .*not an executable'):
        compose_binary.find_binary(str(tmp_path / 'nothing'))


@pytest.mark.compose
def test_failures_fail_with_the_binary_and_would_pass_with_the_wrapper(tmp_path):
    bad = tmp_path / 'compose.yaml'
    bad.write_text('services:\n  a:\n    image: x\n    colour: red\n')
    argv = ['-f', str(bad), 'config']
    wrapped = subprocess.run([str(WRAPPER), *argv], capture_output=True, text=True, timeout=60)
    assert wrapped.returncode == 0  # the trap: the wrapper hides the failure
    real = compose_process.run([compose_binary.find_binary(), *argv], ENV, 60, 'config')
    assert real.returncode != 0 and "additional properties 'colour'" in real.tail('stderr')


# ------------------------------------------------------------------ progress
def _progress(*lines: tuple[str, str]) -> tuple[Progress, list[tuple[str, str]]]:
    said: list[tuple[str, str]] = []
    progress = Progress('shop', lambda level, text: said.append((level, text)))
    for stream, line in lines:
        progress.feed(stream, line)
    return progress, said


def test_progress_is_read_as_events_per_service_never_raw_json():
    progress, said = _progress(
        ('stderr', '{"level":"warning","msg":"Docker Compose is configured to build using '
                   'Bake, but buildx isn\'t installed"}'),
        ('stderr', '{"id":"Service web","status":"Building"}'),
        ('stdout', 'Step 2/4 : RUN make'),
        ('stderr', '{"id":"web","status":"Built"}'),
        ('stderr', '{"id":"Network shop_back","status":"Creating"}'),
        ('stderr', '{"id":"Network shop_back","status":"Created"}'),
        ('stderr', '{"id":"abc123","parent_id":"Image redis","status":"Downloading",'
                   '"current":1,"total":9}'),
        ('stderr', '{"id":"Container shop-db-1","status":"Created"}'),
        ('stderr', '{"id":"Container shop-db-1","status":"Healthy"}'),
        ('stderr', '{"id":"Container shop-db-1","status":"Healthy"}'),
        ('stderr', '{"id":"Container shop-web-1","status":"Recreated"}'),
        ('stderr', '{"id":"Container legacy","status":"Started"}'),
        ('stdout', '{"vertexes":[{"name":"[api 2/3] RUN make","started":"t"}]}'),
    )
    texts = [text for _, text in said]
    assert texts == [
        "Docker Compose is configured to build using Bake, but buildx isn't installed",
        'web: building image', 'web: build Step 2/4 : RUN make', 'web: image built',
        'network shop_back created', 'db: container shop-db-1 created',
        'db: container shop-db-1 healthy', 'web: container shop-web-1 recreated',
        'container legacy started', 'api: build 2/3 RUN make']
    assert said[0][0] == 'debug'  # the builder notice is noise
    assert not any(t.startswith('{') for t in texts)
    assert progress.recreated == {'web'} and progress.created == {'db'}
    assert progress.errors == []


def test_errors_are_kept_with_the_failed_build_output():
    progress, _ = _progress(
        ('stdout', 'Step 2/3 : RUN exit 7'), ('stdout', ' ---> Running in 6fd5'),
        ('stderr', '{"error":true,"message":"The command \'/bin/sh -c exit 7\' returned a '
                   'non-zero code: 7"}'))
    text = progress.failure_text()
    assert text.startswith("The command '/bin/sh -c exit 7' returned a non-zero code: 7")
    assert 'last build output:\nStep 2/3 : RUN exit 7' in text


@pytest.mark.parametrize(('message', 'kind', 'field'), [
    ("validating /p/compose.yaml: services.a additional properties 'colour' not allowed",
     InvalidInputError, 'definition'),
    ('error while interpolating services.a.image: required variable IMG is missing a value',
     InvalidInputError, 'definition'),
    ('failed to parse /p/compose.yaml: yaml: line 1: did not find expected node content',
     InvalidInputError, 'definition'),
    ("unable to get image 'x': Cannot connect to the Docker daemon at tcp://127.0.0.1:9. Is "
     'the docker daemon running?', TransientError, None),
    ('container shop-db-1 is unhealthy', StateError, None),
    ('application not healthy after 2s', StateError, None),
    ('container shop-job-1 exited (3)', StateError, None),
    ('Error response from daemon: No such image: nosuch.invalid/x:1', NotFoundError, None),
    ('invalid containerPort: 80800', InvalidInputError, 'definition'),
    ('tls: failed to verify certificate: x509: certificate signed by unknown authority',
     InvalidInputError, 'daemon_client'),
    # A client key compose cannot use: found by the canary tier, once blamed on the files.
    ('Failed to initialize: failed to retrieve context tls info: tls: failed to parse private '
     'key', InvalidInputError, 'daemon_client'),
    ('Failed to initialize: failed to retrieve context tls info: tls: private key does not '
     'match public key', InvalidInputError, 'daemon_client'),
])
def test_compose_failures_are_classified(message, kind, field):
    # Before the files were read, everything but the engine is about the files.
    error = classify_compose(message, 'compose up', 'definition', model_known=kind is not
                             InvalidInputError or field == 'daemon_client')
    assert type(error) is kind
    assert message in str(error)
    if field:
        assert str(error).startswith(f'{field}:')


def test_after_the_files_read_well_a_refusal_is_not_blamed_on_them():
    error = classify_compose('service "web" has neither an image nor a build context '
                             'specified: invalid compose project', 'compose up',
                             'compose_files', model_known=True)
    assert not isinstance(error, InvalidInputError)


# ------------------------------------------------------------------ labels and names
def test_the_override_labels_everything_the_project_owns():
    model = {'services': {'web': {'build': {'context': '/x'}, 'environment': {'A': 'a$$b'}},
                          'db': {'image': 'db'}},
             'networks': {'front': {}, 'shared': {'external': True, 'name': 'shared'}},
             'volumes': {'data': {}}}
    text = label_override(model, {'cloudify.deployment': 'd'})
    assert text.count('!reset []') == 2
    data = json.loads(text.replace('!reset []', 'null'))
    labels = {'cloudify.deployment': 'd'}
    assert data['services']['web'] == {'labels': labels, 'build': {'labels': labels},
                                       'env_file': None, 'environment': {'A': 'a$$b'}}
    assert data['services']['db']['labels'] == labels
    assert data['networks'] == {'front': {'labels': labels}}  # not the external one
    assert data['volumes'] == {'data': {'labels': labels}}


@pytest.mark.parametrize(('deployment', 'instance', 'name'), [
    ('shop', 'app_x1y2', 'shop-app_x1y2'),
    ('My.Deployment', 'App_X', 'my-deployment-app_x'),
    ('_x', 'y', 'x-y'),
    ('d' * 80, 'i', 'd' * 63),
])
def test_default_project_names_are_valid_for_compose(deployment, instance, name):
    assert default_project_name(deployment, instance) == name


def test_a_module_named_compose_elsewhere_does_not_hide_the_binary(tmp_path, monkeypatch):
    (tmp_path / 'compose.py').write_text('# bench/compose.py, say\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv(compose_binary.ENV, raising=False)
    found = compose_binary.find_binary()
    assert found.endswith(os.path.join('compose', 'docker-compose'))
    assert not compose_binary.is_wrapper(found)


def test_long_compose_messages_are_bounded_keeping_their_end():
    message = 'x' * 100000 + ' the real cause'
    error = classify_compose(message, 'compose up', 'compose_files', model_known=True)
    assert len(str(error)) <= 4000 and str(error).endswith('the real cause')


def test_pull_progress_in_its_text_form_is_read_too():
    progress, said = _progress(
        ('stderr', '{"id":"web","text":"Skipped - No image to be pulled"}'),
        ('stderr', '{"id":"db","text":"Pulling"}'),
        ('stderr', '{"id":"db","text":"Error","status":"Get \\"https://registry-1.docker.io'
                   '/v2/\\": dial tcp: lookup registry-1.docker.io: no such host"}'))
    assert [text for _, text in said] == ['web: image skipped - no image to be pulled']
    assert progress.errors == ['db: Get "https://registry-1.docker.io/v2/": dial tcp: lookup '
                               'registry-1.docker.io: no such host']
    error = classify_compose(progress.failure_text(), 'compose pull', 'compose_files',
                             model_known=True)
    assert isinstance(error, TransientError) and 'network trouble' in str(error)


def test_a_failed_buildkit_step_is_the_projects_fault_and_quotes_no_cut_json():
    # Found by the compose bounded tier: BuildKit's failure was retried as unclassified, and
    # its log objects too long for one line (cut by the runner) were quoted as raw JSON.
    progress, _ = _progress(
        ('stdout', '{"logs":[{"vertex":"sha256:1","stream":1,"data":"eHh4 [... 9 bytes cut'),
        ('stdout', 'step output'),
        ('stderr', '{"error":true,"message":"failed to solve: executor failed running '
                   '[/bin/sh -c exit 7]: exit code: 7"}'))
    assert progress.build_tail == ['step output']
    error = classify_compose(progress.failure_text(), 'compose up', 'definition',
                             model_known=True)
    assert isinstance(error, RefusedError) and str(error).endswith('step output')
    # BuildKit's newer wording of a failed step is the project's fault too
    newer = classify_compose('failed to solve: process "/bin/sh -c exit 7" did not complete '
                             'successfully: exit code: 7', 'compose up', 'definition',
                             model_known=True)
    assert isinstance(newer, RefusedError), repr(newer)


def test_a_timeout_says_what_compose_was_doing_in_words():
    # Found by the compose fault tier: a pull killed at its deadline quoted compose's raw
    # JSON ({"id":"app","text":"Pulling"}); a quiet status counts as what it was doing.
    progress, said = _progress(('stderr', '{"id":"app","text":"Pulling"}'),
                               ('stderr', 'plain words from compose'))
    assert progress.last_words() == 'app: image pulling\nplain words from compose'
    assert said == [('info', 'plain words from compose')]
    message = compose_process.expired_message('compose pull', 6, progress.last_words())
    assert message == ('compose pull: did not finish within 6 s and was killed; it printed '
                       'last:\napp: image pulling\nplain words from compose')
