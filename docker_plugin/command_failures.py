"""Failures of the programs the plugin runs, classified: the compose binary (its
``{"error": true}`` messages) and commands exec'd in containers (a process the runtime
could not start). Engine API answers are classified in ``docker_plugin.errors``; what
compose passes on from the engine goes through the same rules (``classify_message``).
"""

from __future__ import annotations

from typing import Any, Iterable

from docker_plugin.errors import (
    InvalidInputError,
    PluginError,
    StateError,
    TransientError,
    classify_message,
)

COMPOSE_UNREACHABLE = ('cannot connect to the docker daemon', 'is the docker daemon running',
                       'error during connect')
# Network trouble between the engine and a registry (or anywhere else): passing.
COMPOSE_NETWORK = ('connection refused', 'no such host', 'i/o timeout', 'tls handshake timeout',
                   'connection reset', 'temporary failure in name resolution',
                   'toomanyrequests', 'too many requests')
# The client's own TLS material is wrong (compose reads it before any call): daemon_client.
COMPOSE_TLS = ('x509', 'certificate', 'context tls info', 'private key')
COMPOSE_UNHEALTHY = ('is unhealthy', 'not healthy after', 'exited (', 'dependency failed')


def classify_compose(message: str, action: str, field: str,
                     model_known: bool = False) -> PluginError:
    """One failure of the compose binary (its ``{"error": true}`` messages).

    Args:
        message: what compose said (already joined).
        action: what was being done, e.g. ``compose up``.
        field: the input that holds the project (``compose_files`` or ``definition``).
        model_known: the files were already read successfully. Before that
            (``config``, which never calls the engine) every refusal is about
            the files, and quotes compose.
    """
    lowered = message.lower()
    if any(m in lowered for m in COMPOSE_UNREACHABLE):
        return TransientError(f'{action}: Docker engine unreachable: {message}')
    if any(m in lowered for m in COMPOSE_NETWORK):
        return TransientError(f'{action}: network trouble (retried): {message}')
    if any(m in lowered for m in COMPOSE_TLS):
        return InvalidInputError('daemon_client', f'{action}: TLS handshake failed: {message}')
    if not model_known:
        return InvalidInputError(field, f'compose refused the project: {message}')
    if any(m in lowered for m in COMPOSE_UNHEALTHY):
        return StateError(f'{action}: {message}')
    return classify_message(None, message, action)


# An exec's process the runtime could not start (exit 126/127, its message the output), by
# the input to blame: the first marker found wins.
EXEC_NOT_STARTED = (('unable to find user', 'user'), ('unable to find group', 'user'),
                    ('chdir to cwd', 'workdir'),
                    ('oci runtime exec failed', 'command'), ('exec failed:', 'command'))


def exec_not_started(exit_code: Any, stdout: str, stderr: str, given: Iterable[str] = (),
                     expected: Any = None) -> InvalidInputError | None:
    """The input an exec's failure to start names (``user``, ``workdir``, ``command``).

    The runtime's reason can be lost on the way (under load the engine answered 126 and
    no output at all): a silent 126 is still a failure to start, blamed on the first of
    ``given`` (the inputs the user set among ``user`` and ``workdir``) or on ``command``,
    unless 126 is the very code ``expected``."""
    text = (stderr or '').strip() or (stdout or '').strip()
    last = text.splitlines()[-1].strip() if text and exit_code in (126, 127) else ''
    field = next((f for marker, f in EXEC_NOT_STARTED if marker in last.lower()), None)
    if field:
        return InvalidInputError(field, f'the engine could not run the command: {last}')
    if exit_code == 126 and not text and expected != 126:
        return InvalidInputError(next(iter(given), 'command'),
                                 'the engine could not run the command (exit code 126, the '
                                 'runtime gave no reason): check user, workdir and command')
    return None
