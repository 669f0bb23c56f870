"""Progress streams and engine-error classification (no engine)."""

from __future__ import annotations

import docker.errors
import pytest
import requests

from docker_plugin.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    TransientError,
    classify,
)
from docker_plugin.streams import StreamConsumer, decode


def test_decode_handles_any_chunking():
    chunks = [b'{"status":"a"}{"status":', b'"b"}\r\n  {"aux":{"ID":"x"}}', '\n{"s":1}',
              {'status': 'dict'}]
    assert list(decode(chunks)) == [{'status': 'a'}, {'status': 'b'}, {'aux': {'ID': 'x'}},
                                    {'s': 1}, {'status': 'dict'}]


def test_decode_rejects_a_truncated_stream():
    with pytest.raises(TransientError, match='truncated'):
        list(decode([b'{"status": "a"}{"stat']))


@pytest.mark.parametrize(('message', 'kind'), [
    ('unauthorized: authentication required', ConflictError),
    ('manifest unknown', NotFoundError),
    ('toomanyrequests: slow down', TransientError),
    ('received unexpected HTTP status: 503 Service Unavailable', TransientError),
    ('something odd', ConflictError),
])
def test_in_stream_errors_are_classified(message, kind):
    consumer = StreamConsumer('pull reg/app:1', lambda line: None)
    with pytest.raises(kind) as failure:
        consumer.consume([{'status': 'Pulling'}, {'errorDetail': {'message': message},
                                                  'error': message}])
    assert str(failure.value).startswith('pull reg/app:1: ')
    assert kind.recoverable == (kind is TransientError)


def test_build_error_quotes_the_output_tail():
    consumer = StreamConsumer('build x', lambda line: None)
    with pytest.raises(ConflictError) as failure:
        consumer.consume([{'stream': 'Step 1/2 : RUN false\n'}, {'stream': 'boom\n'},
                          {'error': "The command '/bin/sh -c false' returned a non-zero code: 1"}])
    assert 'non-zero code: 1' in str(failure.value) and 'boom' in str(failure.value)


def test_progress_is_one_line_per_layer_and_status():
    lines: list[str] = []
    consumer = StreamConsumer('pull app', lines.append)
    events = [{'status': 'Pulling from app'}]
    for layer in ('l1', 'l2'):
        events.append({'status': 'Pulling fs layer', 'id': layer})
        events += [{'status': 'Downloading', 'id': layer,
                    'progressDetail': {'current': i * 1000, 'total': 50000}} for i in range(50)]
        events += [{'status': 'Download complete', 'id': layer},
                   {'status': 'Pull complete', 'id': layer}]
    events += [{'status': 'Digest: sha256:abc'}, {'status': 'Digest: sha256:abc'}]
    consumer.consume(events)
    assert len(lines) == 1 + 2 * 4 + 1
    assert 'pull app: l1: Downloading (50.0 kB)' in lines


def _api_error(status, explanation, cls=docker.errors.APIError):
    response = requests.Response()
    response.status_code = status
    return cls('x', response=response, explanation=explanation)


@pytest.mark.parametrize(('exc', 'kind'), [
    (_api_error(404, 'No such container', docker.errors.NotFound), NotFoundError),
    (_api_error(500, 'internal error'), TransientError),
    (_api_error(500, 'driver failed: port is already allocated'), ConflictError),
    (_api_error(409, 'Conflict. The container name is already in use'), ConflictError),
    (_api_error(409, 'removal of container abc is already in progress'), TransientError),
    (_api_error(429, 'slow down'), TransientError),
    (_api_error(400, 'invalid mount config'), ConflictError),
    (requests.exceptions.ConnectionError('refused'), TransientError),
    (requests.exceptions.ReadTimeout('slow'), TransientError),
    (requests.exceptions.SSLError('certificate verify failed'), InvalidInputError),
    (docker.errors.DockerException('Error while fetching server API version: x'),
     TransientError),
])
def test_classify(exc, kind):
    assert type(classify(exc, 'act')) is kind


def test_ssl_failure_hidden_inside_a_docker_exception_is_permanent():
    try:
        try:
            raise requests.exceptions.SSLError('certificate verify failed')
        except requests.exceptions.SSLError as inner:
            raise docker.errors.DockerException('Error while fetching server API version') \
                from inner
    except docker.errors.DockerException as outer:
        assert isinstance(classify(outer, 'connect'), InvalidInputError)


def test_only_engine_errors_are_classified():
    with pytest.raises(TypeError):
        classify(ValueError('mine'), 'act')
