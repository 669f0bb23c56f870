"""HTTP to an ssh:// engine: each connection a ``docker system dial-stdio`` channel.

What ``docker -H ssh://user@host`` does: for each connection the host runs
``docker system dial-stdio``, which joins the SSH channel to its engine's
socket. The session is the plugin's own (``docker_plugin.ssh_session``);
docker-py's SSH adapter is never used: it reads ``~/.ssh`` (config, keys,
known_hosts), tries every key and agent it finds, and connects when built.
``attach`` replaces it on a client made for the ssh:// URL with
``use_ssh_client`` (which builds nothing until a request is made), and checks
that every request now goes through the plugin's adapter.

When the remote command fails (no docker CLI there, a user who may not use the
engine's socket, an engine that is down) the channel closes with an exit
status and what the host said on stderr: the error quotes it, naming
``daemon_client.base_url`` when the set-up is wrong, transient when the
engine is not answering. A session that drops (sshd stopped, host gone) is a
ConnectionError, transient like any lost engine connection.
"""

from __future__ import annotations

import http.client
import time
from typing import Any

import paramiko
import requests.adapters
import urllib3.connection
import urllib3.connectionpool

from docker_plugin.errors import (
    InvalidInputError,
    PluginError,
    RefusedError,
    TransientError,
    UnclassifiedError,
)

DIAL_STDIO = 'docker system dial-stdio'
FIELD = 'daemon_client'
EXIT_WAIT = 2.0  # seconds to wait for the host's exit status once an answer failed
# What dial-stdio says when the host's engine is not there now (stopped, restarting).
ENGINE_AWAY = ('cannot connect to the docker daemon', 'is the docker daemon running',
               'connect: no such file or directory', 'connect: connection refused')


class _DialStdio(urllib3.connection.HTTPConnection):
    """One HTTP connection: an SSH channel running ``docker system dial-stdio``."""

    def __init__(self, session: Any, where: str, timeout: Any):
        super().__init__('localhost', timeout=timeout)
        self.session, self.where = session, where
        self.channel: Any = None
        self._close_held: bool | None = None  # None: close at once; else one is waiting

    def connect(self) -> None:
        transport = self.session.get_transport()
        if transport is None or not transport.is_active():
            raise ConnectionResetError(f'the SSH session to {self.where} is closed')
        timeout = self.timeout if isinstance(self.timeout, (int, float)) else None
        try:
            channel = transport.open_session(timeout=timeout)
            channel.settimeout(timeout)
            channel.exec_command(DIAL_STDIO)
        except (paramiko.SSHException, EOFError) as exc:
            raise ConnectionAbortedError(f'no SSH channel to {self.where}: {exc}') from exc
        self.channel = self.sock = channel

    def getresponse(self) -> Any:
        # http.client closes the connection as soon as the answer fails: the channel
        # would go before the host's exit status arrives. Its close waits for ours.
        self._close_held = False
        try:
            return super().getresponse()
        except (http.client.HTTPException, OSError):
            failure = remote_failure(self.channel, self.where)
            if failure is not None:
                raise failure from None
            raise
        finally:
            held, self._close_held = self._close_held, None
            if held:
                self.close()

    def close(self) -> None:
        if self._close_held is not None:
            self._close_held = True
            return
        super().close()


def remote_failure(channel: Any, where: str) -> PluginError | None:
    """Why the host's ``docker system dial-stdio`` ended, if it did: None when it did
    not (the session dropped, or the engine answered and went away)."""
    if channel is None:
        return None
    deadline = time.monotonic() + EXIT_WAIT
    while not channel.exit_status_ready() and not channel.closed and \
            time.monotonic() < deadline:
        time.sleep(0.02)
    if not channel.exit_status_ready():
        return None
    status = channel.recv_exit_status()
    if status in (0, -1):
        return None  # -1: closed without an exit status, the session itself dropped
    said = b''
    while channel.recv_stderr_ready() and len(said) < 4096:
        said += channel.recv_stderr(4096)
    text = ' '.join(said.decode(errors='replace').split())[-1000:] or '(nothing on stderr)'
    lowered = text.lower()
    if status == 127 or ('not found' in lowered and 'docker' in lowered):
        return InvalidInputError(f'{FIELD}.base_url', f'{where} cannot run `{DIAL_STDIO}` (is '
                                                      f'the docker CLI installed there?): {text}')
    if 'permission denied' in lowered:
        return InvalidInputError(f'{FIELD}.base_url', f'the SSH user may not use the Docker '
                                                      f'engine on {where}: {text}')
    if any(m in lowered for m in ENGINE_AWAY):
        return TransientError(f'the Docker engine on {where} is unreachable from there: {text}')
    return UnclassifiedError(f'{where}: `{DIAL_STDIO}` exited with {status}: {text}')


class _Pool(urllib3.connectionpool.HTTPConnectionPool):
    """Connections to the one engine behind the session."""

    scheme = 'ssh'

    def __init__(self, session: Any, where: str, timeout: float, maxsize: int):
        super().__init__('localhost', timeout=timeout, maxsize=maxsize)
        self.session, self.where = session, where

    def _new_conn(self) -> _DialStdio:
        self.num_connections += 1
        return _DialStdio(self.session, self.where, self.timeout.connect_timeout)


class SSHAdapter(requests.adapters.HTTPAdapter):
    """requests' view of the engine behind an SSH session (which it closes)."""

    def __init__(self, session: Any, where: str, timeout: float, max_pool_size: int):
        self.session = session
        self.pool = _Pool(session, where, timeout, max_pool_size)
        super().__init__()

    def get_connection(self, url: str, proxies: Any = None) -> _Pool:
        return self.pool

    def get_connection_with_tls_context(self, request: Any, verify: Any, proxies: Any = None,
                                        cert: Any = None) -> _Pool:
        return self.pool

    def request_url(self, request: Any, proxies: Any) -> str:
        return request.path_url  # never through a proxy from the environment

    def close(self) -> None:
        super().close()
        self.pool.close()
        self.session.close()


def attach(api: Any, config: Any) -> None:
    """Connect to the engine's host and route ``api``'s requests through the session.

    Raises:
        InvalidInputError, TransientError: from ``ssh_session.connect``.
        RefusedError: this docker SDK routes ssh:// requests elsewhere.
    """
    from docker_plugin.ssh_session import connect, target
    session = connect(config)
    try:
        adapter = SSHAdapter(session, target(config)[3], config.timeout, config.max_pool_size)
        replaced = api.get_adapter(api.base_url)
        api.mount(api.base_url, adapter)
        api._custom_adapter = adapter
        if api.get_adapter(api._url('/_ping')) is not adapter:
            raise RefusedError('this docker SDK routes ssh:// requests where the plugin does not '
                               'expect: refusing to fall back to its own SSH transport')
        replaced.close()
    except BaseException:
        session.close()
        raise
