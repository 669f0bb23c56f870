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
def fake_engine(api: mock.MagicMock, module: str = 'docker_plugin.cloudify_ops') -> Iterator:
    """Make every operation talk to ``api`` instead of an engine."""
    @contextlib.contextmanager
    def open_client(config):
        client = mock.MagicMock()
        client.api = api
        yield client
    with mock.patch(f'{module}.open_client', open_client):
        yield api
