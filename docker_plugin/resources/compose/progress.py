"""Compose's ``--progress json`` stream turned into readable events per service.

Compose writes one JSON object per line on stderr: ``{"id": "Container
app-web-1", "status": "Started"}``, ``{"error": true, "message": ...}`` or
``{"level": "warning", "msg": ...}``; image builds write on stdout, either
BuildKit's JSON (``vertexes``, ``logs``) or the classic builder's text. This
module never logs raw JSON: each object and status is said once, in words,
under the service it belongs to (``web: container app-web-1 started``);
pull progress per layer is dropped; build steps are said once each; the
tail of the build output is kept for an error message.
"""

from __future__ import annotations

import base64
import binascii
import collections
import json
import re
from typing import Callable

Emit = Callable[[str, str], None]  # (level: 'info'|'warning'|'debug', text)
# Intermediate statuses compose repeats; the final one is what a reader needs.
QUIET = {'Creating', 'Starting', 'Stopping', 'Removing', 'Recreate', 'Building', 'Pulling'}
NOISE = ('configured to build using Bake', 'COMPOSE_BAKE')
_STEP = re.compile(r'Step \d+/\d+ : ')
_VERTEX = re.compile(r'\[(?P<service>[^\] ]+)(?: (?P<step>[^\]]+))?\] (?P<what>.*)')
BUILD_TAIL_LINES = 40
BUILDKIT_OBJECTS = ('{"vertexes"', '{"logs"', '{"statuses"', '{"warnings"')


class Progress:
    """Reads compose's output lines; emits readable events; keeps errors."""

    def __init__(self, project: str, emit: Emit):
        self.project = project
        self.recent: collections.deque[str] = collections.deque(maxlen=3)  # for a timeout

        def say(level: str, text: str) -> None:
            if level != 'debug':
                self.recent.append(text)
            emit(level, text)
        self.emit = say
        self.errors: list[str] = []
        self.notices: list[str] = []
        self.build_tail: list[str] = []
        self.seen: set[tuple[str, str]] = set()
        self.created: set[str] = set()
        self.recreated: set[str] = set()
        self.building = ''

    # ------------------------------------------------------------------ input
    def feed(self, stream: str, line: str) -> None:
        text = line.strip()
        if not text:
            return
        obj = _json(text) if text.startswith('{') else None
        if stream == 'stdout':
            self._build(obj, text)
        elif obj is None:
            self.notices.append(text)
            self.emit('info', text)
        elif obj.get('error') is True:
            self.errors.append(str(obj.get('message', '')).strip() or 'compose failed')
        elif 'level' in obj and 'msg' in obj:
            message = str(obj['msg'])
            self.emit('debug' if any(n in message for n in NOISE) else
                      'warning' if obj['level'] in ('warning', 'error') else 'info', message)
        elif 'id' in obj and ('status' in obj or 'text' in obj):
            if str(obj.get('text', '')).lower() == 'error':  # {"text": "Error", "status": why}
                self.errors.append(f'{obj["id"]}: {obj.get("status", "failed")}')
                return
            self._status(str(obj['id']), str(obj.get('status') or obj.get('text')), obj)

    # ------------------------------------------------------------------ statuses
    def service_of(self, container: str) -> str | None:
        """``<project>-<service>-<n>`` -> service (None for a name compose was given)."""
        prefix = f'{self.project}-'
        if container.startswith(prefix):
            service, _, number = container[len(prefix):].rpartition('-')
            if service and number.isdigit():
                return service
        return None

    def _status(self, ident: str, status: str, obj: dict) -> None:
        if obj.get('parent_id'):  # a layer of a pull: only its failure matters
            if status.lower().startswith('error'):
                self.errors.append(f'{obj["parent_id"]}: {status}')
            return
        kind, _, name = ident.partition(' ')
        if not name:
            kind, name = 'Image', ident  # "web Built": the service's image
        if kind == 'Container':
            service = self.service_of(name)
            if status in ('Recreate', 'Recreated'):
                self.recreated.add(service or name)
            elif status == 'Created':
                self.created.add(service or name)
        if status.lower().startswith('error'):
            self.errors.append(f'{kind.lower()} {name}: {status}')
        if (status in QUIET and kind != 'Service') or (ident, status) in self.seen:
            self.recent.append(self.describe(kind, name, status))  # "app: image pulling"
            return
        self.seen.add((ident, status))
        extra = str(obj.get('text') or '') if 'status' in obj else ''
        self.emit('info', self.describe(kind, name, status, extra))

    def describe(self, kind: str, name: str, status: str, text: str = '') -> str:
        extra = f' ({text})' if text and text != status else ''
        if kind == 'Container':
            service = self.service_of(name)
            head = f'{service}: container {name}' if service else f'container {name}'
            return f'{head} {status.lower()}{extra}'
        if kind == 'Service':
            self.building = name if status == 'Building' else self.building
            return f'{name}: {"building image" if status == "Building" else status.lower()}'
        if kind == 'Image':
            return f'{name}: image {status.lower()}{extra}'
        return f'{kind.lower()} {name} {status.lower()}{extra}'

    # ------------------------------------------------------------------ builds
    def _build(self, obj: dict | None, text: str) -> None:
        if obj is None and text.startswith(BUILDKIT_OBJECTS):
            return  # a BuildKit object too long for one line, cut by the runner: not text
        if obj is None:  # the classic builder (or any other text)
            self._keep_build(text)
            if _STEP.match(text):
                who = f'{self.building}: ' if self.building else ''
                self.emit('info', f'{who}build {text}')
            return
        for vertex in obj.get('vertexes') or []:
            name = str(vertex.get('name', ''))
            if vertex.get('error'):
                self.errors.append(f'{name}: {vertex["error"]}')
            if vertex.get('started') and not vertex.get('completed') \
                    and ('vertex', name) not in self.seen and 'internal]' not in name:
                self.seen.add(('vertex', name))
                match = _VERTEX.fullmatch(name)
                if match:
                    step = f' {match["step"]}' if match['step'] else ''
                    self.emit('info', f'{match["service"]}: build{step} {match["what"]}')
        for log in obj.get('logs') or []:
            try:
                # Strictly: a cut line can still parse, its data holding the runner's mark.
                data = base64.b64decode(str(log.get('data', '')), validate=True).decode(
                    'utf-8', 'replace')
            except (binascii.Error, ValueError):
                continue
            for piece in data.splitlines():
                self._keep_build(piece)

    def _keep_build(self, text: str) -> None:
        self.build_tail.append(text[:2000])
        del self.build_tail[:-BUILD_TAIL_LINES]

    # ------------------------------------------------------------------ outcome
    def last_words(self) -> str:
        """The last few things compose said, in words (raw JSON never)."""
        return '\n'.join(dict.fromkeys(self.recent))

    def failure_text(self, fallback: str = '') -> str:
        """What went wrong, in compose's words (and a failed build's last lines)."""
        parts = list(dict.fromkeys(self.errors)) or [fallback.strip() or 'compose failed']
        text = '; '.join(parts)
        if self.build_tail and any(m in text.lower() for m in ('build', 'returned a non-zero',
                                                               'dockerfile', 'failed to solve')):
            text += '\nlast build output:\n' + '\n'.join(self.build_tail[-15:])
        return text


def _json(text: str) -> dict | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
