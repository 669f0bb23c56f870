"""The result every action leaves behind, and how a person reads it.

The result (an exit code, a message and its data) is kept in runtime
properties under the action's name, bounded in size (long text keeps its end,
long lists their start) and cleaned of remembered secrets. What a person
reads in the event stream is the message and the action's output (an exec's
stdout and stderr, log lines, a process or container table), shown by
``shown``: its end, a few thousand characters at most, masked. One
vocabulary for every kind: counts said with ``count`` (``1 log line``,
``2 log lines``), tables aligned by ``table``.
"""

from __future__ import annotations

import datetime
import textwrap
from typing import Any, Iterable, Mapping, Sequence

from docker_plugin import secrets

MAX_TEXT = 8000
MAX_ITEMS = 200
# What one event shows of an action's output (the record keeps up to MAX_TEXT): under
# the bound every log record has (secrets.RedactingFilter), with room for the message.
SHOWN_CHARS = 3000
SHOWN_LINES = 60
IRREGULAR = {'process': 'processes', 'entry': 'entries', 'is': 'are'}


def bounded(value: Any, max_text: int = MAX_TEXT, max_items: int = MAX_ITEMS) -> Any:
    """A copy of ``value`` small enough for a runtime property."""
    if isinstance(value, str):
        value = secrets.redact(value)
        if len(value) > max_text:
            cut = len(value) - max_text
            return f'[{cut} earlier characters truncated]\n' + value[-max_text:]
        return value
    if isinstance(value, dict):
        return {str(k): bounded(v, max_text, max_items) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        items = [bounded(v, max_text, max_items) for v in list(value)[:max_items]]
        if len(value) > max_items:
            items.append(f'[{len(value) - max_items} more items truncated]')
        return items
    return value


def result(exit_code: int, message: str, data: Any = None) -> dict[str, Any]:
    """A result record, bounded."""
    return bounded({
        'exit_code': exit_code,
        'message': message,
        'data': data if data is not None else {},
        'time': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
    })


def count(number: int, noun: str) -> str:
    """``1 log line``, ``2 log lines``, ``0 containers``, ``3 processes``: the last word
    of ``noun`` takes the plural unless ``number`` is one."""
    if number == 1:
        return f'{number} {noun}'
    head, _, last = noun.rpartition(' ')
    plural = IRREGULAR.get(last) or (last[:-1] + 'ies' if last.endswith('y') and
                                     last[-2:-1] not in 'aeiou' else last + 's')
    return f'{number} {head + " " if head else ""}{plural}'


def logs(text: str, total_bytes: int) -> tuple[str, dict[str, Any]]:
    """Every kind's logs in one shape: the message (``12 log lines``, and how many of
    how many bytes when the start was left out) and the data ``{logs, lines, bytes,
    truncated_bytes}`` (``text``: the end of ``total_bytes`` of output)."""
    lines = len(text.splitlines())
    kept = len(text.encode('utf-8', 'replace'))
    cut = max(0, total_bytes - kept)
    note = f' (the last {kept} of {total_bytes} bytes)' if cut else ''
    return count(lines, 'log line') + note, {'logs': text, 'lines': lines,
                                             'bytes': total_bytes, 'truncated_bytes': cut}


def streams(stdout: str, stderr: str) -> str:
    """A command's output as a person reads it: its stdout, then its stderr, each under
    its name (a stream that printed nothing is said to be empty)."""
    return '\n'.join(f'{name}:\n' + textwrap.indent(text.rstrip('\n') or '(nothing)', '  ',
                                                  lambda line: True)
                     for name, text in (('stdout', stdout), ('stderr', stderr)))


def shown(text: str, where: str = '') -> str:
    """The end of an action's output as an event shows it: at most ``SHOWN_LINES``
    lines and ``SHOWN_CHARS`` characters, each line indented, secrets masked; what is
    left out is said, and ``where`` the whole (bounded) output is kept."""
    text = secrets.redact(text.rstrip('\n'))
    lines = text.split('\n') if text else []
    kept: list[str] = []
    room = SHOWN_CHARS
    cut = False
    for line in reversed(lines[-SHOWN_LINES:]):
        if len(line) + 3 > room:
            if not kept:  # one line longer than the bound: its end
                kept.append(line[-(room - 3):])
                cut = True
            break
        kept.append(line)
        room -= len(line) + 3
    kept.reverse()
    left = len(lines) - len(kept)
    out = [f'  {line}' for line in kept]
    if left or cut:
        what = count(left, 'earlier line') if left else 'the start of the line'
        place = f' (the runtime property {where} keeps more)' if where else ''
        out.insert(0, f'  [{what}{" and the start of the last" if left and cut else ""} not '
                      f'shown{place}]')
    return '\n'.join(out)


def table(rows: Iterable[Mapping[str, Any]], columns: Sequence[tuple[str, str]]) -> str:
    """``rows`` as an aligned text table: ``columns`` are (key, title) pairs; a missing
    or empty value shows as ``-``."""
    grid = [[title for _, title in columns]]
    for row in rows:
        grid.append([_cell(row.get(key)) for key, _ in columns])
    widths = [max(len(line[i]) for line in grid) for i in range(len(columns))]
    return '\n'.join('  '.join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip()
                     for line in grid)


def _cell(value: Any) -> str:
    if value is None or value == '' or value == []:
        return '-'
    if isinstance(value, (list, tuple)):
        return ' '.join(str(item) for item in value)
    return str(value).replace('\n', ' ')
