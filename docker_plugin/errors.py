"""The plugin's own error classes and the one place engine errors are classified.

Resource code raises these; the task layer (``docker_plugin.cloudify_ops``)
turns them into Cloudify's ``NonRecoverableError`` / ``RecoverableError``.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import docker.errors
import requests.exceptions


class PluginError(Exception):
    """Root of every error the plugin raises on purpose."""

    #: True when running the operation again may succeed (Cloudify retries).
    recoverable = False


class InvalidInputError(PluginError):
    """A blueprint value is wrong: names the field and the problem."""

    def __init__(self, field: str, problem: str):
        self.field = field
        self.problem = problem
        super().__init__(f'{field}: {problem}')


class ConflictError(PluginError):
    """The engine refused because of state that retrying will not change."""


class NotFoundError(PluginError):
    """The object does not exist. Callers decide whether that is a failure."""


class TransientError(PluginError):
    """The engine is unreachable, slow, overloaded or busy: retry later."""

    recoverable = True


# Registry answers that no retry will change, however the engine relays them
# (inside a stream with HTTP 200, or as an HTTP 500 from a pull).
AUTH_MARKERS = ('unauthorized', 'authentication required', 'access to the resource is denied',
                'no basic auth credentials', 'incorrect username or password')
NOT_FOUND_MARKERS = ('manifest unknown', 'not found', 'does not exist', 'no such image',
                     'repository name not known', 'name unknown')

# Engine messages that arrive as HTTP 500 but will not go away on a retry.
_PERMANENT_500_MARKERS = (
    'port is already allocated',
    'address already in use',
    'executable file not found',
    'no such file or directory',
    'invalid reference format',
    'invalid argument',
    'permission denied',
)
# Engine messages that arrive as 4xx but describe a passing state.
_TRANSIENT_4XX_MARKERS = (
    'removal of container',
    'is already in progress',
    'toomanyrequests',
    'too many requests',
)


def engine_message(exc: docker.errors.APIError) -> str:
    """The engine's own explanation, without the SDK's URL decoration."""
    explanation = getattr(exc, 'explanation', None)
    if explanation:
        return str(explanation)
    return str(exc)


def classify(exc: BaseException, action: str) -> PluginError:
    """Turn an SDK or transport exception into a PluginError.

    Args:
        exc: what the docker SDK or requests raised.
        action: what we were doing, e.g. ``"start container web_1"``; it
            leads the message.

    Returns:
        The classified error (not raised).
    """
    if isinstance(exc, PluginError):
        return exc
    if isinstance(exc, docker.errors.NotFound):
        return NotFoundError(f'{action}: {engine_message(exc)}')
    if isinstance(exc, docker.errors.APIError):
        status = exc.status_code or 0
        message = engine_message(exc)
        lowered = message.lower()
        if any(m in lowered for m in AUTH_MARKERS):
            return ConflictError(f'{action}: access denied by the registry: {message}')
        if status >= 500 and any(m in lowered for m in NOT_FOUND_MARKERS):
            return NotFoundError(f'{action}: {message}')
        if status >= 500 and not any(m in lowered for m in _PERMANENT_500_MARKERS):
            return TransientError(f'{action}: engine error {status}: {message}')
        if status == 429 or any(m in lowered for m in _TRANSIENT_4XX_MARKERS):
            return TransientError(f'{action}: {message}')
        if status == 409:
            return ConflictError(f'{action}: {message}')
        return ConflictError(f'{action}: engine refused ({status}): {message}')
    ssl_error = _find_cause(exc, requests.exceptions.SSLError)
    if ssl_error is not None:
        # A certificate problem is configuration: retrying will not fix it.
        return InvalidInputError('daemon_client', f'{action}: TLS handshake failed: '
                                                  f'{_short(ssl_error)}')
    if isinstance(exc, (requests.exceptions.ConnectionError,
                        requests.exceptions.Timeout,
                        ConnectionError, TimeoutError)):
        return TransientError(f'{action}: Docker engine unreachable or slow: '
                              f'{_short(exc)}')
    if isinstance(exc, docker.errors.TLSParameterError):
        return InvalidInputError('daemon_client', _short(exc))
    if isinstance(exc, (docker.errors.InvalidArgument,
                        docker.errors.InvalidVersion,
                        docker.errors.InvalidRepository)):
        return ConflictError(f'{action}: {_short(exc)}')
    if isinstance(exc, docker.errors.DockerException):
        # The SDK wraps connection failures while negotiating the API version.
        text = str(exc)
        if 'Error while fetching server API version' in text or 'Connection' in text:
            return TransientError(f'{action}: Docker engine unreachable: {_short(exc)}')
        return ConflictError(f'{action}: {_short(exc)}')
    raise TypeError(f'not an engine error: {type(exc).__name__}') from exc


def _find_cause(exc: BaseException, kind: type) -> BaseException | None:
    """``exc`` or the first exception it was raised from that is a ``kind``."""
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 10:
        if isinstance(current, kind):
            return current
        current = current.__cause__ or current.__context__
        seen += 1
    return None


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 500 else text[:500] + '...'


ENGINE_ERRORS = (docker.errors.DockerException, requests.exceptions.RequestException,
                 ConnectionError, TimeoutError)


@contextlib.contextmanager
def engine_call(action: str) -> Iterator[None]:
    """Run a block of SDK calls; re-raise what fails as a classified PluginError."""
    try:
        yield
    except ENGINE_ERRORS as exc:
        raise classify(exc, action) from exc
