"""The result every action leaves behind: an exit code, a message and its data.

Kept in runtime properties under the action's name, bounded in size (long
text keeps its end, long lists their start) and cleaned of remembered secrets.
"""

from __future__ import annotations

import datetime
from typing import Any

from docker_plugin import secrets

MAX_TEXT = 8000
MAX_ITEMS = 200


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
