"""A fake engine for error paths a real one cannot be made to produce on demand."""

from __future__ import annotations

import contextlib
from typing import Iterator
from unittest import mock

import docker.errors
import requests


def api_error(status: int, explanation: str,
              cls: type = docker.errors.APIError) -> docker.errors.APIError:
    """An SDK error as the engine would cause it."""
    response = requests.Response()
    response.status_code = status
    return cls('fake', response=response, explanation=explanation)


def fake_api() -> mock.MagicMock:
    api = mock.MagicMock()
    api.api_version = '1.41'
    api.containers.return_value = []
    return api


@contextlib.contextmanager
def fake_engine(api: mock.MagicMock, module: str = 'docker_plugin.tasks.context') -> Iterator:
    """Make every operation talk to ``api`` instead of an engine."""
    @contextlib.contextmanager
    def open_client(config):
        client = mock.MagicMock()
        client.api = api
        yield client
    with mock.patch(f'{module}.open_client', open_client):
        yield api


class FakeStreamResponse:
    """A streaming HTTP answer for the archive and log paths: chunks, then the end."""

    def __init__(self, chunks, status: int = 200):
        self.chunks = list(chunks)
        self.status = status
        self.closed = False

    def iter_content(self, size=1, decode=False):
        yield from self.chunks

    def close(self):
        self.closed = True


def streaming_api(response: FakeStreamResponse) -> mock.MagicMock:
    """A fake API whose streaming requests answer with ``response``."""
    api = fake_api()
    api._url.side_effect = lambda path, *args: path.format(*args)
    api._get.return_value = response
    api._raise_for_status.return_value = None
    return api
