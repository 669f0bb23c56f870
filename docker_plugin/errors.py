"""The plugin's error classes, and the one place failures are classified.

Resource code raises these; the task layer (``docker_plugin.tasks.operation``)
turns them into Cloudify's errors. The rule, in this order:

1. **Known transient** (Cloudify retries): the engine or registry cannot be
   reached or is busy: connection refused/reset/aborted, read timeouts, an
   EOF or reset during a TLS handshake, HTTP 429/502/503/504, "removal of
   container ... is already in progress", a daemon shutting down, registry
   rate limits.
2. **Known permanent** (fails at once): the answer describes the request or
   the object: HTTP 400 and other 4xx, 404 of the object, 409 conflicts, and
   500s about the runtime, OCI, the configuration, a user, a file, a port
   ("cannot unmarshal", "unable to find user", "executable file not found",
   "port is already allocated", ...), a certificate that does not verify.
3. **Unclassified** (anything else, e.g. an unknown 500): a small bounded
   retry budget (``UNCLASSIFIED_RETRIES``), and the final message says it
   was retried.
"""

from __future__ import annotations

import contextlib
import errno
import socket
import ssl
from typing import Any, Callable, Iterable, Iterator, TypeVar

import requests.exceptions
import urllib3.exceptions

from docker_plugin import records

T = TypeVar('T')
MAX_MESSAGE = 4000
MAX_LINES_TEXT = 3000  # the lines of an InvalidDeploymentError, all told
UNCLASSIFIED_RETRIES = 3


class PluginError(Exception):
    """Root of every error the plugin raises on purpose."""

    #: True: retry freely; False: fail now; None: retry a few times (unclassified).
    recoverable: bool | None = False
    #: The engine's or registry's own words, when it answered (without the plugin's
    #: account of what it was doing): what ``options.refusals.blame`` reads.
    detail: str = ''

    def __init__(self, message: str, detail: str = ''):
        super().__init__(bounded(message))
        self.detail = detail


class InvalidInputError(PluginError):
    """A blueprint value is wrong: names the field and the problem."""

    def __init__(self, field: str, problem: str):
        self.field = field
        self.problem = problem
        super().__init__(f'{field}: {problem}')


@records.record(frozen=True, order=True)
class Mistake:
    """One thing validation found wrong, on one node (``field``: the input, property or
    relationship it is about; its path inside, as the option tables write it)."""

    node: str
    field: str
    problem: str

    @classmethod
    def of(cls, node: str, exc: InvalidInputError, where: str = '') -> Mistake:
        """``exc`` on ``node``; ``where``: the operation whose input it is."""
        return cls(node, exc.field, f'{exc.problem} (input of {where})' if where
                   else exc.problem)

    def line(self, limit: int = 300) -> str:
        joiner = ', ' if self.field.startswith('relationship') else '.'
        where = f'{self.node}{joiner}{self.field}' if self.field else self.node
        return bounded(f'{where}: {self.problem}', limit).replace('\n', ' ')


class InvalidDeploymentError(PluginError):
    """Every mistake validation found in a deployment, in one failure: a line each,
    naming its node and field, the whole bounded (``MAX_LINES_TEXT``)."""

    def __init__(self, deployment: str, mistakes: Iterable[Mistake]):
        self.mistakes = sorted(set(mistakes))
        count = len(self.mistakes)
        lines: list[str] = []
        for index, mistake in enumerate(self.mistakes):
            line = mistake.line()
            if sum(map(len, lines)) + len(line) > MAX_LINES_TEXT:
                lines.append(f'... and {count - index} more')
                break
            lines.append(line)
        super().__init__(f'{count} mistake{"s" if count != 1 else ""} in deployment '
                         f'{deployment}, found by validation before anything is made:\n  '
                         + '\n  '.join(lines))


class RefusedError(PluginError):
    """The engine or a registry refused, for a reason a retry will not change."""


class StateError(PluginError):
    """The object is not in a state the operation needs (gone, in use, drifted)."""


class NotFoundError(PluginError):
    """The object does not exist. Callers decide whether that is a failure."""


class TransientError(PluginError):
    """The engine is unreachable, slow, overloaded or busy: retry later."""

    recoverable = True


class UnreachableError(TransientError):
    """No engine answers at the address: the connection itself failed (refused, no such
    socket file, a host name that does not resolve, no route, no answer to connect).

    Retried like any passing trouble, but only within ``daemon_client.unreachable_timeout``
    from the first failure (``docker_plugin.tasks.operation``); then permanent, naming the
    field that holds the address. ``reason`` says what failed in a few words; ``field``,
    ``address``, ``note`` and ``budget`` are filled in where the engine's configuration is
    known (``docker_plugin.tasks.context.engine``).
    """

    def __init__(self, message: str, reason: str = ''):
        super().__init__(message)
        self.reason = reason or 'no answer'
        self.field = ''
        self.address = ''
        self.note = ''
        self.budget: float | None = None

    def locate(self, field: str, address: str, note: str, budget: float) -> UnreachableError:
        """Say where the address came from and how long to keep trying it."""
        if not self.field:
            self.field, self.address, self.note, self.budget = field, address, note, budget
        return self


class UnclassifiedError(PluginError):
    """An engine failure no rule knows: retried a few times, then permanent."""

    recoverable = None


class TimeoutExpired(PluginError):
    """An operation or wait ran past its own timeout; the message says what it saw."""


def bounded(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` cut to ``limit`` characters, keeping its start and its end."""
    if len(text) <= limit:
        return text
    head = limit // 4
    tail = limit - head - 60
    return f'{text[:head]}\n[... {len(text) - head - tail} characters cut ...]\n{text[-tail:]}'


# ------------------------------------------------------------- the markers
# Lower-case fragments of engine and registry messages.
AUTH_MARKERS = ('unauthorized', 'authentication required', 'access to the resource is denied',
                'no basic auth credentials', 'incorrect username or password', 'denied:')
NOT_FOUND_MARKERS = ('manifest unknown', 'not found', 'does not exist', 'no such image',
                     'repository name not known', 'name unknown')
TRANSIENT_MARKERS = (
    'removal of container', 'is already in progress', 'toomanyrequests', 'too many requests',
    'rate limit', 'daemon is shutting down', 'shutting down', 'connection reset',
    'connection refused', 'broken pipe', 'i/o timeout', 'tls handshake timeout',
    'temporary failure', 'service unavailable', 'bad gateway', 'gateway timeout',
    'unexpected eof', 'try again', 'context deadline exceeded', 'client.timeout exceeded',
)
PERMANENT_MARKERS = (
    'oci runtime', 'runc', 'cannot unmarshal', 'invalid', 'unable to find user',
    'no matching entries in passwd', 'executable file not found', 'no such file or directory',
    'not a directory', 'permission denied', 'port is already allocated',
    'address already in use', 'already exists', 'conflict', 'not supported', 'unknown',
    'cannot', 'must be', 'is not', 'exceeds', 'too long', 'out of range', 'bad ',
    'malformed', 'required', 'not allowed', 'forbidden', 'exec format error',
    'starting container process caused', 'returned a non-zero code', 'dockerfile parse error',
    'wrong number of', 'failed to parse', 'minimum', 'maximum', 'range of', 'incorrect',
    'was found but', 'should always set', 'must not be', 'unable to find group',
    'could not select device driver',
    'no matching entries in group',
    # A BuildKit build step that failed (the classic builder's 'returned a non-zero code').
    'executor failed running', 'did not complete successfully',
)
# Messages that look permanent by the markers above but are known to pass.
TRANSIENT_OVERRIDES = ('removal of container', 'is already in progress')
# The runtime refusing to start a process: permanent, though it may say "not found".
RUNTIME_MARKERS = ('oci runtime', 'executable file not found', 'starting container process',
                   'exec format error', 'unable to find user', 'unable to find group')
# Answered with 503, yet no retry helps: the engine is not (a manager) in a swarm, so
# daemon_client points at the wrong engine (or the request asks a swarm of a lone one).
SWARM_ROLE_MARKERS = ('not a swarm manager', 'not part of a swarm')
# Answers about how the engine is reached, not about the request: daemon_client is wrong
# (the marker, the field to name, what to do).
DAEMON_CLIENT_MARKERS = (
    ('client sent an http request to an https server', 'daemon_client.tls',
     'the engine speaks TLS: set tls (and ca_cert, client_cert, client_key as it requires)'),
)
_TRANSIENT_STATUS = (408, 429, 502, 503, 504)


def classify_message(status: int | None, message: str, action: str,
                     default: type[PluginError] = UnclassifiedError) -> PluginError:
    """One engine or registry answer (HTTP status, or None inside a stream)."""
    error = _classify_message(status, message, action, default)
    error.detail = error.detail or message
    return error


def _classify_message(status: int | None, message: str, action: str,
                      default: type[PluginError]) -> PluginError:
    lowered = message.lower()
    text = f'{action}: {message}'
    if any(m in lowered for m in TRANSIENT_OVERRIDES):
        return TransientError(text)
    for marker, field, fix in DAEMON_CLIENT_MARKERS:
        if marker in lowered:
            return InvalidInputError(field, f'{action}: {fix}; the engine said: {message}')
    if any(m in lowered for m in SWARM_ROLE_MARKERS):
        return InvalidInputError('daemon_client', f'{action}: the engine cannot do this: '
                                                  f'{message} (daemon_client must be a '
                                                  'manager of the swarm)')
    if any(m in lowered for m in AUTH_MARKERS):
        return RefusedError(f'{action}: access denied by the registry: {message}')
    if status in _TRANSIENT_STATUS or any(m in lowered for m in TRANSIENT_MARKERS):
        return TransientError(f'{action}: {message}' if status is None
                              else f'{action}: engine answered {status}: {message}')
    if status != 404 and any(m in lowered for m in RUNTIME_MARKERS):
        return RefusedError(f'{action}: engine refused{f" ({status})" if status else ""}: '
                            f'{message}')
    if status == 404 or any(m in lowered for m in NOT_FOUND_MARKERS):
        return NotFoundError(text)
    if status is not None and 400 <= status < 500:
        return RefusedError(f'{action}: engine refused ({status}): {message}')
    if any(m in lowered for m in PERMANENT_MARKERS):
        return RefusedError(f'{action}: engine refused{f" ({status})" if status else ""}: '
                            f'{message}')
    if default is UnclassifiedError:
        return UnclassifiedError(f'{action}: engine error{f" {status}" if status else ""}: '
                                 f'{message}')
    return default(text)


def engine_message(exc: Any) -> str:
    """The engine's own explanation, without the SDK's URL decoration."""
    return str(getattr(exc, 'explanation', None) or exc)


# TLS failures that mean the configuration is wrong (not a passing condition).
_TLS_PERMANENT = ('certificate', 'unknown ca', 'bad certificate', 'hostname', 'wrong version',
                  'handshake failure', 'no shared cipher', 'unsupported protocol',
                  'key values mismatch', 'pem lib', 'no start line')
# Raised by local file access, not by the network: a retry will not help.
_LOCAL_FILE_ERRORS = (FileNotFoundError, PermissionError, IsADirectoryError,
                      NotADirectoryError, FileExistsError)
_TRANSPORT_ERRORS = (
    requests.exceptions.ConnectionError, requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError, urllib3.exceptions.HTTPError,
    ConnectionError, TimeoutError, socket.timeout, OSError,
)


def classify(exc: BaseException, action: str) -> PluginError:
    """Turn an SDK, transport or stream exception into a PluginError (not raised)."""
    import docker.errors  # here, not at import time: operations start faster
    if isinstance(exc, PluginError):
        return exc
    if isinstance(exc.__cause__, PluginError):
        return exc.__cause__  # wrapped by the SDK: the SSH transport's own
    if isinstance(exc, docker.errors.NotFound):
        return NotFoundError(f'{action}: {engine_message(exc)}', engine_message(exc))
    if isinstance(exc, docker.errors.APIError):
        return classify_message(exc.status_code or 0, engine_message(exc), action)
    tls = _find_cause(exc, (ssl.SSLError, requests.exceptions.SSLError))
    if tls is not None:
        text = _short(tls)
        if any(m in text.lower() for m in _TLS_PERMANENT):
            return InvalidInputError('daemon_client', f'{action}: TLS handshake failed: {text}')
        return TransientError(f'{action}: TLS connection broken (engine restarting?): {text}')
    if isinstance(exc, docker.errors.TLSParameterError):
        return InvalidInputError('daemon_client', _short(exc))
    if isinstance(exc, _LOCAL_FILE_ERRORS):
        return RefusedError(f'{action}: {_short(exc)}')
    if isinstance(exc, _TRANSPORT_ERRORS):
        reason = connection_failure(exc)
        if reason:
            return UnreachableError(f'{action}: Docker engine unreachable ({reason})', reason)
        return TransientError(f'{action}: Docker engine unreachable or slow: {_short(exc)}')
    if isinstance(exc, (docker.errors.InvalidArgument, docker.errors.InvalidVersion,
                        docker.errors.InvalidRepository, docker.errors.InvalidConfigFile)):
        return RefusedError(f'{action}: {_short(exc)}')
    if isinstance(exc, docker.errors.DockerException):
        text = str(exc)
        if VERSION_FETCH in text and exc.__cause__ is not None:
            return _negotiation(classify(exc.__cause__, action), action)
        if VERSION_FETCH in text or 'Connection' in text:
            return TransientError(f'{action}: Docker engine unreachable: {_short(exc)}')
        return UnclassifiedError(f'{action}: {_short(exc)}')
    raise TypeError(f'not an engine error: {type(exc).__name__}') from exc


VERSION_FETCH = 'Error while fetching server API version'

# What failed to connect, by the exception found in a transport failure's chain (first
# match wins): the connection itself never opened, so no engine is there to answer.
_CONNECT_FAILURES: tuple[tuple[type[BaseException], str], ...] = (
    (ConnectionRefusedError, 'connection refused'),
    (FileNotFoundError, 'no such socket file'),
    (socket.gaierror, 'the host name does not resolve'),
    (requests.exceptions.ConnectTimeout, 'no answer to connect'),
    (urllib3.exceptions.ConnectTimeoutError, 'no answer to connect'),
    (urllib3.exceptions.NewConnectionError, 'the connection failed'),
)
_UNREACHABLE_ERRNOS = {errno.EHOSTUNREACH: 'no route to the host',
                       errno.ENETUNREACH: 'no route to the network',
                       errno.ECONNREFUSED: 'connection refused',
                       errno.ENOENT: 'no such socket file'}


def connection_failure(exc: BaseException) -> str:
    """What kept a connection from opening, in a few words; '' when it opened (a reset, a
    read timeout: the engine was there) or the failure is not about connecting."""
    seen: list[BaseException] = []
    pending = [exc]
    while pending and len(seen) < 20:
        current = pending.pop(0)
        if current in seen:
            continue
        seen.append(current)
        pending.extend(e for e in (current.__cause__, current.__context__,
                                   getattr(current, 'reason', None), *current.args)
                       if isinstance(e, BaseException))
    for kind, reason in _CONNECT_FAILURES:
        if any(isinstance(e, kind) for e in seen):
            if kind is urllib3.exceptions.NewConnectionError:
                number = next((e.errno for e in seen if isinstance(e, OSError) and
                               e.errno in _UNREACHABLE_ERRNOS), None)
                return _UNREACHABLE_ERRNOS.get(number, reason) if number else \
                    _errno_in_text(seen) or reason
            return reason
    return ''


def _errno_in_text(seen: list[BaseException]) -> str:
    """urllib3 keeps only the text of the socket error it wrapped."""
    for e in seen:
        text = str(e)
        for number, reason in _UNREACHABLE_ERRNOS.items():
            if f'[Errno {number}]' in text:
                return reason
    return ''


def _negotiation(found: PluginError, action: str) -> PluginError:
    """The first request (``/version``, negotiating the API version) failed with
    ``found``: unless that is passing trouble, what answers at daemon_client's address
    is not a Docker engine, or not as daemon_client says to talk to it."""
    if found.recoverable is not False or isinstance(found, InvalidInputError):
        return found
    return InvalidInputError('daemon_client', f'{action}: what answers there is not a Docker '
                                              f'engine as daemon_client describes it: {found}')


def _find_cause(exc: BaseException, kinds: tuple[type, ...]) -> BaseException | None:
    """``exc`` or the first exception it was raised from that is one of ``kinds``."""
    current: BaseException | None = exc
    for _ in range(10):
        if current is None:
            return None
        if isinstance(current, kinds):
            return current
        current = current.__cause__ or current.__context__
    return None


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 500 else text[:500] + '...'


_TRANSPORT_BASES = (requests.exceptions.RequestException, urllib3.exceptions.HTTPError,
                    ConnectionError, TimeoutError, OSError, ssl.SSLError)


def is_engine_error(exc: BaseException) -> bool:
    """Whether ``classify`` knows this exception (the SDK's, or a transport's)."""
    if isinstance(exc, _TRANSPORT_BASES):
        return True
    import sys
    errors = sys.modules.get('docker.errors')
    return errors is not None and isinstance(exc, errors.DockerException)


@contextlib.contextmanager
def engine_call(action: str) -> Iterator[None]:
    """Run a block of SDK calls; re-raise what fails as a classified PluginError."""
    try:
        yield
    except PluginError:
        raise
    except Exception as exc:
        if not is_engine_error(exc):
            raise
        raise classify(exc, action) from exc


def found(call: Callable[[], T], action: str) -> T | None:
    """``call()``'s answer, or None when the engine says there is no such object: for
    a look-up, not-found is an outcome (other failures are classified and raised)."""
    try:
        with engine_call(action):
            return call()
    except NotFoundError:
        return None


def done(call: Callable[[], Any], action: str) -> bool:
    """Run a removal: True when it removed, False when the object was already gone."""
    try:
        with engine_call(action):
            call()
    except NotFoundError:
        return False
    return True
