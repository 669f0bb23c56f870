"""Logs of a whole service (every task, on every node) or of one task, bounded.

The manager gathers them from the nodes (``GET /services/{id}/logs``,
``GET /tasks/{id}/logs``) as multiplexed frames (raw bytes with a TTY);
only the last ``max_bytes`` are kept, and the read stops at its deadline.
"""

from __future__ import annotations

import time
from typing import Any

from docker_plugin.errors import PluginError, engine_call
from docker_plugin.resources.deadlines import guard, open_stream
from docker_plugin.resources.engine_api import EngineApi
from docker_plugin.resources.streams import Tail


def read(api: EngineApi, kind: str, object_id: str, tail: int | str = 100, since: int | None = None,
         timestamps: bool = False, max_bytes: int = 64000, timeout: float = 30,
         tty: bool = False, quiet: bool = False) -> Tail:
    """The end of a service's (``kind`` 'services') or task's ('tasks') output.

    Args:
        quiet: return an empty Tail instead of raising (for failure reports).
    """
    params: dict[str, Any] = {'stdout': 1, 'stderr': 1, 'tail': tail,
                              'timestamps': int(timestamps), 'details': 0}
    if since:
        params['since'] = since
    action = f'read logs of {kind[:-1]} {object_id[:25]}'
    kept = Tail(max_bytes)
    try:
        with engine_call(action):
            response = open_stream(api, 'get', f'/{kind}/{{0}}/logs', object_id, params=params)
        with guard(api, response, action, time.monotonic() + timeout):
            chunks = (response.iter_content(65536, False) if tty
                      else api._multiplexed_response_stream_helper(response))
            for chunk in chunks:
                kept.add(chunk)
    except PluginError:
        if not quiet:
            raise
    return kept
