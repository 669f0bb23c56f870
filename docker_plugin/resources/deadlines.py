"""Reading streams from the engine within a deadline, and always closing them.

Every stream is opened by ``open_stream`` or ``sdk_stream``: the engine must
start answering before the operation's deadline, and once it has, there is no
read timeout (a registry may be silent for minutes while it finishes an
upload). It is read under ``guard``: a watchdog that shuts the socket down
when the deadline passes (so a silent stream cannot hang past it), turns
transport errors into classified ones, and closes the response on every path.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Any, Callable, Iterator

from docker_plugin.errors import (
    PluginError,
    RefusedError,
    TimeoutExpired,
    classify,
    is_engine_error,
)
from docker_plugin.resources.engine_api import EngineApi


def _header_timeout(deadline: float | None) -> float | None:
    """How long the engine may take to answer at all: what is left of the deadline."""
    return None if deadline is None else max(0.5, deadline - time.monotonic())


@contextlib.contextmanager
def _answer_within(deadline: float | None, action: str) -> Iterator[None]:
    """A request that got no answer before the deadline ran past its timeout."""
    try:
        yield
    except Exception as exc:
        late = deadline is not None and time.monotonic() >= deadline - 0.5
        if late and is_engine_error(exc) and 'timed out' in str(exc).lower():
            raise TimeoutExpired(f'{action}: no answer from the engine before its timeout') \
                from None
        raise


def open_stream(api: EngineApi, method: str, path: str, *args: Any, body: Any = None,
                deadline: float | None = None, action: str = '', **kwargs: Any) -> Any:
    """A streaming request: its answer must start before ``deadline``; what follows
    has no read timeout (``guard`` bounds it)."""
    url = api._url(path, *args)
    timeout = _header_timeout(deadline)
    with _answer_within(deadline, action or path):
        if body is not None:
            return api._post_json(url, data=body, stream=True, timeout=timeout, **kwargs)
        return getattr(api, f'_{method}')(url, stream=True, timeout=timeout, **kwargs)


def sdk_stream(api: EngineApi, call: Callable[..., Any], *args: Any, deadline: float | None = None,
               action: str = '', **kwargs: Any) -> tuple[Any, Any]:
    """Call an SDK method that answers with a stream: (the stream, its response).

    The SDK hides the response (so its socket cannot be bounded) and reads
    some streams under the client's read timeout; for the length of the call
    the client waits for the answer only until ``deadline`` and hands the
    response over.
    """
    captured: list[Any] = []
    helper, timeout = api._stream_helper, api.timeout

    def capture(response: Any, decode: bool = False) -> Any:
        captured.append(response)
        return helper(response, decode)

    api._stream_helper, api.timeout = capture, _header_timeout(deadline)
    if 'timeout' in kwargs:  # a keyword of the call itself (build): the same bound
        kwargs['timeout'] = api.timeout
    try:
        with _answer_within(deadline, action or getattr(call, '__name__', 'stream')):
            stream = call(*args, **kwargs)
    finally:
        del api._stream_helper
        api.timeout = timeout
    if not captured:
        raise RefusedError('the engine answered without a stream')
    return stream, captured[0]


def raw_socket(response: Any) -> Any:
    """The socket under a streaming response (plain, unix or TLS), or its SSH channel
    (an ssh:// engine: docker_plugin.ssh_transport)."""
    stream = response.raw._fp.fp
    channel = getattr(stream, 'channel', None)
    if channel is not None:
        return channel
    sock = stream.raw
    return getattr(sock, '_sock', sock)


def _shutdown(response: Any) -> None:
    sock = raw_socket(response)
    with contextlib.suppress(Exception):
        sock.shutdown(socket.SHUT_RDWR)
    if hasattr(sock, 'recv_exit_status'):  # an SSH channel: only closing wakes its reader
        with contextlib.suppress(Exception):
            sock.close()


@contextlib.contextmanager
def guard(api: EngineApi, response: Any, action: str, deadline: float | None) -> Iterator[None]:
    """Read ``response`` inside the block, bounded by ``deadline`` (monotonic).

    Raises:
        TimeoutExpired: the deadline passed (the socket was shut down).
        PluginError: the engine's status, or a transport error while reading,
            classified and naming ``action``.
    """
    fired = threading.Event()
    timer = None
    if deadline is not None:
        def fire() -> None:
            fired.set()
            _shutdown(response)
        timer = threading.Timer(max(0.0, deadline - time.monotonic()), fire)
        timer.daemon = True
        timer.start()
    timed_out = TimeoutExpired(f'{action}: not finished at its timeout; the transfer was '
                               'stopped')
    try:
        try:
            api._raise_for_status(response)
            with contextlib.suppress(Exception):
                raw_socket(response).settimeout(None)  # the deadline bounds it now
            yield
        except PluginError:
            if fired.is_set():
                raise timed_out from None
            raise
        except Exception as exc:
            if fired.is_set():
                raise timed_out from None
            if is_engine_error(exc):
                raise classify(exc, action) from None
            if isinstance(exc, (ValueError, UnicodeError)):
                raise RefusedError(f'{action}: unreadable answer from the engine: {exc}') \
                    from None
            raise
        if fired.is_set():
            raise timed_out
    finally:
        if timer is not None:
            timer.cancel()
        response.close()
