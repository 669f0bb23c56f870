"""JSON progress streams (pull, push, build, import): parsed, never scraped.

The engine answers these calls with a stream of JSON objects, sometimes several
in one chunk or one split across chunks, and reports failures *inside* the
stream with HTTP 200. ``decode`` yields every object; ``StreamConsumer`` turns
``error``/``errorDetail`` into a classified PluginError and reports progress as
one line per layer per status change (plus a heartbeat on long transfers).
"""

from __future__ import annotations

import collections
import json
import time
from typing import Any, Callable, Iterable, Iterator

from docker_plugin.errors import (
    AUTH_MARKERS,
    NOT_FOUND_MARKERS,
    ConflictError,
    NotFoundError,
    PluginError,
    TransientError,
)

Log = Callable[[str], None]

_TRANSIENT_MARKERS = (
    'toomanyrequests', 'too many requests', 'rate limit', 'timeout', 'timed out',
    'connection reset', 'connection refused', 'unexpected eof', 'temporary failure',
    'service unavailable', 'bad gateway', 'internal server error', 'i/o timeout',
    '502', '503', '504',
)
def decode(chunks: Iterable[Any]) -> Iterator[dict[str, Any]]:
    """Yield every JSON object from chunks of bytes, text or already-decoded dicts."""
    decoder = json.JSONDecoder()
    buffer = ''
    for chunk in chunks:
        if isinstance(chunk, dict):
            yield chunk
            continue
        if isinstance(chunk, bytes):
            chunk = chunk.decode('utf-8', errors='replace')
        buffer += chunk
        while True:
            buffer = buffer.lstrip()
            if not buffer:
                break
            try:
                obj, end = decoder.raw_decode(buffer)
            except json.JSONDecodeError:
                break  # incomplete object: wait for the next chunk
            buffer = buffer[end:]
            if isinstance(obj, dict):
                yield obj
    rest = buffer.strip()
    if rest:
        raise TransientError(f'truncated or malformed engine stream: {rest[:200]!r}')


def classify_stream_error(message: str, action: str) -> PluginError:
    """Map an in-stream error message to a PluginError (recoverable or not)."""
    lowered = message.lower()
    if any(m in lowered for m in AUTH_MARKERS):
        return ConflictError(f'{action}: access denied by the registry: {message}')
    if any(m in lowered for m in NOT_FOUND_MARKERS):
        return NotFoundError(f'{action}: {message}')
    if any(m in lowered for m in _TRANSIENT_MARKERS):
        return TransientError(f'{action}: {message}')
    return ConflictError(f'{action}: {message}')


def _size(num: float | None) -> str:
    if not num:
        return '?'
    for unit in ('B', 'kB', 'MB', 'GB'):
        if num < 1000 or unit == 'GB':
            return f'{num:.0f} {unit}' if unit == 'B' else f'{num:.1f} {unit}'
        num /= 1000.0
    return f'{num:.1f} GB'


class StreamConsumer:
    """Reads a progress stream to the end, logging readably.

    Args:
        action: what is happening, e.g. ``"pull 127.0.0.1:5000/app:1"``; it
            leads every message and error.
        log: where progress lines go (``ctx.logger.info`` in tasks).
        heartbeat: seconds between "still working" lines on long transfers.
        tail: how many lines of build output an error quotes.
    """

    def __init__(self, action: str, log: Log, heartbeat: float = 15.0, tail: int = 15):
        self.action = action
        self.log = log
        self.heartbeat = heartbeat
        self.objects = 0
        self.aux: list[dict[str, Any]] = []
        self.statuses: list[str] = []
        self.lines: collections.deque[str] = collections.deque(maxlen=tail)
        self._layer_status: dict[str, str] = {}
        self._layer_bytes: dict[str, tuple[int, int]] = {}
        self._last_beat = time.monotonic()

    def consume(self, chunks: Iterable[Any]) -> StreamConsumer:
        """Read every object; raise the classified error found in the stream."""
        for obj in decode(chunks):
            self.objects += 1
            self._handle(obj)
        return self

    def _handle(self, obj: dict[str, Any]) -> None:
        error = obj.get('error') or (obj.get('errorDetail') or {}).get('message')
        if error:
            detail = ''
            if self.lines:
                detail = '\n--- last output ---\n' + '\n'.join(self.lines)
            failure = classify_stream_error(str(error).strip(), self.action)
            failure.args = (str(failure) + detail,)
            raise failure
        if 'aux' in obj and isinstance(obj['aux'], dict):
            self.aux.append(obj['aux'])
        if 'stream' in obj:
            self._on_build_output(str(obj['stream']))
        if 'status' in obj:
            self._on_status(obj)

    def _on_build_output(self, text: str) -> None:
        for line in text.splitlines():
            line = line.rstrip()
            if not line:
                continue
            self.lines.append(line)
            if line.startswith('Step ') or line.startswith('Successfully'):
                self.log(f'{self.action}: {line}')

    def _on_status(self, obj: dict[str, Any]) -> None:
        status = str(obj['status']).strip()
        layer = obj.get('id')
        detail = obj.get('progressDetail') or {}
        if not layer:
            self.statuses.append(status)
            if status and (not self.statuses[:-1] or self.statuses[-2] != status):
                self.log(f'{self.action}: {status}')
            return
        if detail.get('total'):
            self._layer_bytes[layer] = (int(detail.get('current') or 0), int(detail['total']))
        if self._layer_status.get(layer) != status:
            self._layer_status[layer] = status
            size = ''
            if layer in self._layer_bytes and status not in ('Pull complete', 'Pushed'):
                size = f' ({_size(self._layer_bytes[layer][1])})'
            self.log(f'{self.action}: {layer}: {status}{size}')
        self._maybe_heartbeat()

    def _maybe_heartbeat(self) -> None:
        now = time.monotonic()
        if now - self._last_beat < self.heartbeat or not self._layer_bytes:
            return
        self._last_beat = now
        done = sum(c for c, _ in self._layer_bytes.values())
        total = sum(t for _, t in self._layer_bytes.values())
        self.log(f'{self.action}: {_size(done)} of {_size(total)} transferred '
                 f'({len(self._layer_bytes)} layers)')
