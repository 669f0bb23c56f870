"""Progress streams, bounded tails and the classification rule (no engine)."""

from __future__ import annotations

import socket
import ssl
import threading
import time

import docker.errors
import pytest
import requests
import urllib3

from docker_plugin.errors import (
    MAX_MESSAGE,
    InvalidInputError,
    NotFoundError,
    PluginError,
    RefusedError,
    TimeoutExpired,
    TransientError,
    UnclassifiedError,
    bounded,
    classify,
)
from docker_plugin.resources.deadlines import guard
from docker_plugin.resources.streams import StreamConsumer, Tail, decode


def test_decode_handles_any_chunking():
    chunks = [b'{"status":"a"}{"status":', b'"b"}\r\n  {"aux":{"ID":"x"}}', '\n{"s":1}',
              {'status': 'dict'}]
    assert list(decode(chunks)) == [{'status': 'a'}, {'status': 'b'}, {'aux': {'ID': 'x'}},
                                    {'s': 1}, {'status': 'dict'}]


def test_decode_rejects_a_truncated_stream():
    with pytest.raises(TransientError, match='truncated'):
        list(decode([b'{"status": "a"}{"stat']))


def test_decode_refuses_garbage_without_end_instead_of_growing():
    with pytest.raises(TransientError, match='malformed'):
        list(decode(b'{"a": "' + b'x' * 65536 for _ in range(40)))


@pytest.mark.parametrize(('message', 'kind'), [
    ('unauthorized: authentication required', RefusedError),
    ('manifest unknown', NotFoundError),
    ('toomanyrequests: slow down', TransientError),
    ('received unexpected HTTP status: 503 Service Unavailable', TransientError),
    ('something odd', UnclassifiedError),
])
def test_in_stream_errors_are_classified(message, kind):
    consumer = StreamConsumer('pull reg/app:1', lambda line: None)
    with pytest.raises(kind) as failure:
        consumer.consume([{'status': 'Pulling'}, {'errorDetail': {'message': message},
                                                  'error': message}])
    assert str(failure.value).startswith('pull reg/app:1: ')


def test_build_error_quotes_the_output_tail_and_is_permanent():
    consumer = StreamConsumer('build x', lambda line: None, failure=RefusedError)
    with pytest.raises(RefusedError) as failure:
        consumer.consume([{'stream': 'Step 1/2 : RUN false\n'}, {'stream': 'boom\n'},
                          {'error': 'a step we do not know failed'}])
    assert 'step we do not know' in str(failure.value) and 'boom' in str(failure.value)


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


@pytest.mark.parametrize('sizes', [[10] * 1000, [5000], [3, 9000, 2], [4096, 4096, 1]])
def test_tail_keeps_only_the_end(sizes):
    tail, data = Tail(4096), b''
    for index, size in enumerate(sizes):
        chunk = bytes([65 + index % 26]) * size
        tail.add(chunk)
        data += chunk
    assert tail.text().encode() == data[-4096:]
    assert tail.total == len(data) and tail.truncated == max(0, len(data) - 4096)


def _api_error(status, explanation, cls=docker.errors.APIError):
    response = requests.Response()
    response.status_code = status
    return cls('x', response=response, explanation=explanation)


@pytest.mark.parametrize(('exc', 'kind'), [
    # Known transient: retried.
    (_api_error(409, 'removal of container abc is already in progress'), TransientError),
    (_api_error(429, 'slow down'), TransientError),
    (_api_error(502, 'bad gateway'), TransientError),
    (_api_error(503, 'busy'), TransientError),
    (_api_error(504, 'gateway timeout'), TransientError),
    (_api_error(500, 'daemon is shutting down'), TransientError),
    (_api_error(500, 'Get https://r/v2/: dial tcp: connection refused'), TransientError),
    (requests.exceptions.ConnectionError('refused'), TransientError),
    (requests.exceptions.ReadTimeout('slow'), TransientError),
    (urllib3.exceptions.ProtocolError('Connection broken: IncompleteRead'), TransientError),
    (ConnectionResetError('reset by peer'), TransientError),
    (requests.exceptions.SSLError(ssl.SSLEOFError(8, 'EOF occurred in violation of protocol')),
     TransientError),
    (docker.errors.DockerException('Error while fetching server API version: x'),
     TransientError),
    # Known permanent: fail at once.
    (_api_error(404, 'No such container', docker.errors.NotFound), NotFoundError),
    (_api_error(400, 'invalid mount config'), RefusedError),
    (_api_error(409, 'Conflict. The container name is already in use'), RefusedError),
    (_api_error(500, 'driver failed: port is already allocated'), RefusedError),
    (_api_error(500, 'unable to find user nobody2: no matching entries in passwd file'),
     RefusedError),
    (_api_error(500, 'OCI runtime create failed: runc create failed'), RefusedError),
    (_api_error(500, 'json: cannot unmarshal number into Go value of type string'),
     RefusedError),
    (requests.exceptions.SSLError('certificate verify failed: unable to get local issuer'),
     InvalidInputError),
    (docker.errors.InvalidArgument('bad mount'), RefusedError),
    (FileNotFoundError(2, 'No such file'), RefusedError),
    # Unclassified: a few retries, then permanent.
    (_api_error(500, 'something nobody has seen'), UnclassifiedError),
])
def test_the_classification_rule(exc, kind):
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


def test_messages_are_bounded_keeping_both_ends():
    text = 'field: ' + 'x' * 300000 + ' THE END'
    cut = bounded(text)
    assert len(cut) <= MAX_MESSAGE and cut.startswith('field: ') and cut.endswith('THE END')
    assert len(str(PluginError(text))) <= MAX_MESSAGE
    assert len(str(InvalidInputError('f', 'y' * 10 ** 6))) <= MAX_MESSAGE


class _SilentResponse:
    """A response whose socket never sends: what a stalled registry looks like."""

    def __init__(self):
        self.server, self.client = socket.socketpair()
        self.closed = False
        fp = type('fp', (), {'raw': self.client})()
        self.raw = type('raw', (), {'_fp': type('inner', (), {'fp': fp})()})()

    def read_forever(self):
        while True:
            data = self.client.recv(1024)
            if not data:
                return
            yield data

    def close(self):
        self.closed = True
        self.client.close()
        self.server.close()


class _Api:
    def _raise_for_status(self, response):
        return None


def test_guard_stops_a_silent_stream_at_its_deadline_and_closes_it():
    response = _SilentResponse()
    started = time.monotonic()
    with pytest.raises(TimeoutExpired, match='pull x: not finished at its timeout'), \
            guard(_Api(), response, 'pull x', time.monotonic() + 0.5):
        list(response.read_forever())
    assert 0.4 < time.monotonic() - started < 5
    assert response.closed


def test_guard_classifies_a_transport_error_while_reading():
    response = _SilentResponse()
    with pytest.raises(TransientError, match='push r/a:1: Docker engine unreachable'), \
            guard(_Api(), response, 'push r/a:1', None):
        raise urllib3.exceptions.ProtocolError('Connection broken')
    assert response.closed


def test_guard_closes_the_response_on_every_path():
    for failure in (None, InvalidInputError('max_bytes', 'too big')):
        response = _SilentResponse()
        try:
            with guard(_Api(), response, 'copy', time.monotonic() + 30):
                if failure:
                    raise failure
        except PluginError:
            pass
        assert response.closed
    assert not [t for t in threading.enumerate() if t.name.startswith('Timer') and t.is_alive()]


def test_a_device_driver_the_engine_lacks_is_permanent():
    """``device_requests: [{}]`` on an engine without that driver: a 500 no retry helps."""
    from docker_plugin.errors import classify_message
    found = classify_message(500, 'could not select device driver "" with capabilities: []',
                             'start container c1')
    assert isinstance(found, RefusedError)
