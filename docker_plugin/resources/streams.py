"""Streams from the engine: parsed, bounded in time and in memory, always closed.

Pull, push, build and import answer with a stream of JSON objects (sometimes
several in one chunk, or one split across chunks) and report failures
*inside* the stream with HTTP 200: ``decode`` yields every object and
``StreamConsumer`` turns ``error``/``errorDetail`` into a classified error,
logging one line per layer per status change. Logs, exec output and archives
are byte streams: ``Tail`` keeps only their bounded end.

Reading them within a deadline is ``resources.deadlines``.
"""

from __future__ import annotations

import collections
import json
import time
from typing import Any, Callable, Iterable, Iterator

from docker_plugin.errors import (
    PluginError,
    TransientError,
    classify_message,
)

Log = Callable[[str], None]
MAX_PENDING = 1024 * 1024  # bytes of an unfinished JSON object before the stream is refused


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
                if len(buffer) > MAX_PENDING:
                    raise TransientError('malformed engine stream: no JSON object in the '
                                         f'last {len(buffer)} characters') from None
                break  # incomplete object: wait for the next chunk
            buffer = buffer[end:]
            if isinstance(obj, dict):
                yield obj
    rest = buffer.strip()
    if rest:
        raise TransientError(f'truncated or malformed engine stream: {rest[:200]!r}')


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
        log: where progress lines go.
        heartbeat: seconds between "still working" lines on long transfers.
        tail: how many lines of build output an error quotes.
        failure: how an in-stream error no rule knows is classified (a
            build's is the Dockerfile's fault; a pull's may pass).
    """

    def __init__(self, action: str, log: Log, heartbeat: float = 15.0, tail: int = 15,
                 failure: type[PluginError] | None = None):
        self.action = action
        self.log = log
        self.heartbeat = heartbeat
        self.failure = failure
        self.objects = 0
        self.aux: list[dict[str, Any]] = []
        self.statuses: collections.deque[str] = collections.deque(maxlen=50)
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
            kwargs = {'default': self.failure} if self.failure else {}
            failure = classify_message(None, str(error).strip(), self.action, **kwargs)
            raise type(failure)(str(failure) + detail)
        if 'aux' in obj and isinstance(obj['aux'], dict) and len(self.aux) < 100:
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
            self.lines.append(line[:2000])
            if line.startswith('Step ') or line.startswith('Successfully'):
                self.log(f'{self.action}: {line[:500]}')

    def _on_status(self, obj: dict[str, Any]) -> None:
        status = str(obj['status']).strip()[:500]
        layer = obj.get('id')
        detail = obj.get('progressDetail') or {}
        if not layer:
            if status and (not self.statuses or self.statuses[-1] != status):
                self.log(f'{self.action}: {status}')
            self.statuses.append(status)
            return
        layer = str(layer)[:80]
        if detail.get('total') and len(self._layer_bytes) < 1000:
            self._layer_bytes[layer] = (int(detail.get('current') or 0), int(detail['total']))
        if self._layer_status.get(layer) != status and len(self._layer_status) < 1000:
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


class Tail:
    """Keeps the last ``limit`` bytes of a byte stream, whatever its size."""

    def __init__(self, limit: int):
        self.limit = limit
        self.total = 0
        self._parts: collections.deque[bytes] = collections.deque()
        self._kept = 0

    def add(self, data: bytes) -> None:
        if not data:
            return
        self.total += len(data)
        if len(data) >= self.limit:
            self._parts.clear()
            self._parts.append(data[-self.limit:])
            self._kept = self.limit
            return
        self._parts.append(data)
        self._kept += len(data)
        while self._kept - len(self._parts[0]) >= self.limit:
            self._kept -= len(self._parts.popleft())

    def text(self) -> str:
        data = b''.join(self._parts)[-self.limit:]
        return data.decode('utf-8', errors='replace')

    @property
    def truncated(self) -> int:
        return max(0, self.total - self.limit)
