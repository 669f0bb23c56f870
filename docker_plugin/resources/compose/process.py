"""Run one command under a deadline, with bounded memory, line by line.

Both pipes are read as they fill (no deadlock on a chatty child); each
complete line goes to a callback, and only a bounded tail of each stream is
kept, so memory does not grow with the output. A line longer than
``MAX_LINE`` is cut in its middle: its start and its end are kept (the end
is what a failing command says last). ``keep`` keeps one stream whole instead (a JSON answer,
whose lines are never cut), up to ``max_keep`` characters. Past the deadline
the whole process group is killed and ``TimeoutExpired`` says what the
command printed last.
"""

from __future__ import annotations

import collections
import contextlib
import os
import selectors
import signal
import subprocess
import time
from typing import Callable, Iterable, Mapping

from docker_plugin import records
from docker_plugin.errors import InvalidInputError, RefusedError, TimeoutExpired

MAX_LINE = 64 * 1024
TAIL_CHARS = 16 * 1024
MAX_KEEP = 32 * 1024 * 1024
CHUNK = 64 * 1024

LineHandler = Callable[[str, str], None]


@records.record
class Outcome:
    returncode: int
    kept: str  # the whole ``keep`` stream ('' when none was kept)
    tails: dict[str, str]  # the last TAIL_CHARS characters of each stream
    sizes: dict[str, int] = records.field(default_factory=dict)  # bytes of each stream

    def tail(self, stream: str = 'stderr') -> str:
        return self.tails.get(stream, '')


class _Tail:
    """The last ``limit`` characters of a stream (its oldest line cut at the front)."""

    def __init__(self, limit: int):
        self.limit = limit
        self.lines: collections.deque[str] = collections.deque()
        self.size = 0

    def add(self, line: str) -> None:
        self.lines.append(line)
        self.size += len(line) + 1
        while self.size > self.limit and len(self.lines) > 1:
            excess, first = self.size - self.limit, self.lines[0]
            if len(first) + 1 <= excess:
                self.size -= len(self.lines.popleft()) + 1
            else:  # keep the end of a long line before a short one
                self.lines[0] = first[excess:]
                self.size -= excess

    def text(self) -> str:
        return '\n'.join(self.lines)[-self.limit:]


class _Stream:
    def __init__(self, name: str, on_line: LineHandler | None, keep: bool, max_keep: int,
                 tail_chars: int):
        self.name, self.on_line, self.keep, self.max_keep = name, on_line, keep, max_keep
        # A kept stream is an answer (JSON): its lines are never cut, only bounded as a whole.
        self.max_line = max_keep if keep else MAX_LINE
        self.partial = bytearray()  # grows in place: a long line is not copied per chunk
        self.cut_head: bytes | None = None  # the start of a line being cut
        self.cut_bytes = 0  # how much of it was dropped so far
        self.kept: list[str] = []
        self.kept_size = 0
        self.tail = _Tail(tail_chars)
        self.received = 0  # bytes, all told

    def feed(self, data: bytes) -> None:
        self.received += len(data)
        self._feed(data)

    def _feed(self, data: bytes) -> None:
        head, newline, rest = data.partition(b'\n')
        self.partial += head
        if newline:
            complete = [bytes(self.partial), *rest.split(b'\n')]
            self.partial = bytearray(complete.pop())
            for raw in complete:
                self._raw_line(raw)
        if len(self.partial) > self.max_line:  # a line without end yet: cut it here
            if self.keep:
                self._too_much()
            half = self.max_line // 2
            if self.cut_head is None:
                self.cut_head = bytes(self.partial[:half])
                self.cut_bytes -= half
            # Only the last half is kept as the line goes on: the end survives.
            self.cut_bytes += len(self.partial) - half
            del self.partial[:-half]

    def _raw_line(self, raw: bytes) -> None:
        if self.cut_head is not None:  # the end of a line that was cut
            self.cut_bytes += max(len(raw) - self.max_line // 2, 0)
            self._line(_decode(self.cut_head) + f' [... {self.cut_bytes} bytes cut ...] '
                       + _decode(raw[-(self.max_line // 2):]))
            self.cut_head, self.cut_bytes = None, 0
        elif len(raw) > self.max_line:  # a whole long line within one read
            if self.keep:
                self._too_much()
            self.cut_head, self.cut_bytes = raw[:self.max_line // 2], -(self.max_line // 2)
            self._raw_line(raw)  # as the end of a cut line: its last half is kept
        else:
            self._line(_decode(raw))

    def close(self) -> None:
        if self.partial or self.cut_head is not None:
            self._raw_line(bytes(self.partial))
            self.partial = bytearray()

    def _too_much(self) -> None:
        raise RefusedError(f'the command printed more than {self.max_keep} characters')

    def _line(self, line: str) -> None:
        if self.keep:
            self.kept_size += len(line) + 1
            if self.kept_size > self.max_keep:
                self._too_much()
            self.kept.append(line)
        self.tail.add(line)
        if self.on_line is not None:
            self.on_line(self.name, line)


def _decode(raw: bytes) -> str:
    return raw.decode('utf-8', 'replace').rstrip('\r')


def run(argv: list[str], env: Mapping[str, str], timeout: float, action: str,
        on_line: LineHandler | None = None, keep: str | None = None,
        max_keep: int = MAX_KEEP, pass_fds: Iterable[int] = (), cwd: str | None = None,
        tail_chars: int = TAIL_CHARS) -> Outcome:
    """Run ``argv`` to its end or its deadline.

    Args:
        argv: the program and its arguments.
        env: the child's whole environment.
        timeout: seconds before the process group is killed.
        action: what the command does, for messages.
        on_line: called with ``('stdout'|'stderr', line)`` for each line.
        keep: ``'stdout'`` or ``'stderr'`` to keep that stream whole.
        pass_fds: descriptors the child inherits (in-memory files).

    Raises:
        TimeoutExpired: the deadline passed (the process group was killed).
        InvalidInputError: the program cannot be started.
    """
    deadline = time.monotonic() + timeout
    try:
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, env=dict(env), cwd=cwd,
                                   pass_fds=tuple(pass_fds), start_new_session=True)
    except OSError as exc:
        raise InvalidInputError('compose_binary', f'cannot run {argv[0]}: {exc.strerror or exc}'
                                ) from None
    streams = {'stdout': _Stream('stdout', on_line, keep == 'stdout', max_keep, tail_chars),
               'stderr': _Stream('stderr', on_line, keep == 'stderr', max_keep, tail_chars)}
    try:
        _pump(process, streams, deadline, timeout, action)
        remaining = deadline - time.monotonic()
        try:
            returncode = process.wait(timeout=max(remaining, 0.01))
        except subprocess.TimeoutExpired:
            _expired(process, streams, timeout, action)
    finally:
        _kill(process)
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
    kept = '\n'.join(streams[keep].kept) if keep else ''
    return Outcome(returncode, kept, {n: s.tail.text() for n, s in streams.items()},
                   {n: s.received for n, s in streams.items()})


def _pump(process: subprocess.Popen, streams: dict[str, _Stream], deadline: float,
          timeout: float, action: str) -> None:
    assert process.stdout is not None and process.stderr is not None  # both are pipes
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ, streams['stdout'])
        selector.register(process.stderr, selectors.EVENT_READ, streams['stderr'])
        while selector.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                _expired(process, streams, timeout, action)
            for key, _ in selector.select(timeout=min(remaining, 1.0)):
                data = os.read(key.fd, CHUNK)
                if data:
                    key.data.feed(data)
                else:
                    key.data.close()
                    selector.unregister(key.fileobj)


def _expired(process: subprocess.Popen, streams: dict[str, _Stream], timeout: float,
             action: str) -> None:
    _kill(process)
    last = (streams['stderr'].tail.text() or streams['stdout'].tail.text()).strip()
    raise TimeoutExpired(expired_message(action, timeout, '\n'.join(last.splitlines()[-5:])))


def expired_message(action: str, timeout: float, last: str = '') -> str:
    """What a command killed at its deadline says (``last``: what it printed last)."""
    return (f'{action}: did not finish within {timeout:g} s and was killed'
            + (f'; it printed last:\n{last}' if last else ''))


def _kill(process: subprocess.Popen) -> None:
    """Kill the process and everything it started (its own session)."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)
