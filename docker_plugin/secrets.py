"""Keeps secret values out of everything the plugin writes.

Code that handles a secret (a TLS key, a registry password, a secret
environment value) calls ``remember``; every message the operation layer
raises or logs passes through ``redact``. The registry is per thread, because
local runs execute operations on threads of one process.
"""

from __future__ import annotations

import threading
from typing import Any, Iterable

MASK = '******'
_MIN_LEN = 4  # shorter values would mask ordinary words
_local = threading.local()


def _values() -> set[str]:
    values = getattr(_local, 'values', None)
    if values is None:
        values = _local.values = set()
    return values


def remember(*values: Any) -> None:
    """Mark values as secret for the rest of this operation."""
    for value in values:
        if isinstance(value, str) and len(value) >= _MIN_LEN:
            _values().add(value)
            # PEM text may be quoted line by line.
            for line in value.splitlines():
                if len(line) >= 16 and not line.startswith('-----'):
                    _values().add(line)


def forget_all() -> None:
    _values().clear()


def redact(text: str, extra: Iterable[str] = ()) -> str:
    """``text`` with every remembered secret replaced by a mask."""
    for value in sorted(set(_values()) | set(extra), key=len, reverse=True):
        if value and value in text:
            text = text.replace(value, MASK)
    return text
