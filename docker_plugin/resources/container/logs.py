"""A container's output, streamed and bounded: memory never grows with it.

The engine sends logs as a stream (multiplexed stdout/stderr frames, or raw
bytes for a TTY); ``read`` keeps only the last ``max_bytes`` of it, so a
container that printed 50 MB (in many lines or in one) costs ``max_bytes``.
"""

from __future__ import annotations

import time
from typing import Any

from docker_plugin.errors import NotFoundError, PluginError, engine_call
from docker_plugin.resources.deadlines import guard, open_stream
from docker_plugin.resources.engine_api import EngineApi
from docker_plugin.resources.streams import Tail

MESSAGE_BYTES = 4000   # what an error or a report quotes
RESULT_BYTES = 64000   # what an action keeps


def read(api: EngineApi, container_id: str, tail: int | str = 'all', since: float | None = None,
         until: float | None = None, timestamps: bool = False, stdout: bool = True,
         stderr: bool = True, max_bytes: int = RESULT_BYTES, deadline: float | None = None,
         tty: bool | None = None) -> Tail:
    """The end of the container's output (at most ``max_bytes``), and its total size.

    Raises:
        NotFoundError: the container is gone.
        TimeoutExpired: not read by ``deadline``.
    """
    params: dict[str, Any] = {'stdout': int(stdout), 'stderr': int(stderr),
                              'timestamps': int(timestamps), 'follow': 0,
                              'tail': 'all' if tail == 'all' else int(tail)}
    if since:
        params['since'] = since
    if until:
        params['until'] = until
    action = f'read logs of container {container_id[:12]}'
    with engine_call(action):
        if tty is None:
            tty = bool((api.inspect_container(container_id).get('Config') or {}).get('Tty'))
        response = open_stream(api, 'get', '/containers/{0}/logs', container_id, params=params,
                               deadline=deadline, action=action)
    kept = Tail(max_bytes)
    with guard(api, response, action, deadline):
        chunks = (response.iter_content(65536, False) if tty
                  else api._multiplexed_response_stream_helper(response))
        for chunk in chunks:
            kept.add(chunk)
    return kept


def last_lines(api: EngineApi, container_id: str, lines: int = 20,
               max_bytes: int = MESSAGE_BYTES) -> str:
    """The last lines of output for a message ('' when they cannot be read)."""
    try:
        kept = read(api, container_id, tail=lines, max_bytes=max_bytes,
                    deadline=time.monotonic() + 30)
    except (NotFoundError, PluginError):
        return ''
    text = kept.text().rstrip()
    if kept.truncated:
        text = f'[{kept.truncated} earlier bytes not shown]\n{text}'
    return text
