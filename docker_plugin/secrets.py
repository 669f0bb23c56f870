"""Masks secret values in text a person reads; never in data.

The operation wrapper learns an operation's secrets before its first log
line (from the inputs and node properties the option tables mark secret,
and from the names of secret environment variables kept on the instance).
Text a person reads passes through ``redact``: every log record and event,
every exception message, and an action's output (``results``). Data the
plugin reads back (runtime properties, drift entries, what an operation
returns) is never masked: a secret that is also a word of a name (a password
``postgres`` beside a service ``postgres``) would corrupt the name. Secret
values stay out of data by construction instead: secret inputs are recorded
by name, never by value. The set is per thread: local runs execute
operations on threads of one process.

The masking rule: a value of 4 or more characters is masked wherever it
appears; a shorter one (1-3 characters) is masked where it stands as a whole
word (between characters that are not letters or digits), so a one-letter
secret does not blank every ``a`` of a log line. PEM text is also masked line
by line, as some tools quote it.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any, Iterable

MASK = '******'
WHOLE_WORD_BELOW = 4
_local = threading.local()


def _values() -> set[str]:
    values = getattr(_local, 'values', None)
    if values is None:
        values = _local.values = set()
        _local.pattern = None
    return values


def remember(*values: Any) -> None:
    """Mark values as secret for the rest of this operation."""
    known = _values()
    for value in values:
        if not isinstance(value, str) or not value.strip():
            continue
        known.add(value)
        for line in value.splitlines():
            if len(line) >= 16 and not line.startswith('-----'):
                known.add(line)
        _local.pattern = None


def forget_all() -> None:
    _values().clear()
    _local.pattern = None


def known() -> frozenset[str]:
    return frozenset(_values())


def _pattern() -> re.Pattern[str] | None:
    values = _values()
    if not values:
        return None
    if _local.pattern is None:
        parts = []
        for value in sorted(values, key=len, reverse=True):
            escaped = re.escape(value)
            if len(value) < WHOLE_WORD_BELOW:
                escaped = rf'(?<![^\W_]){escaped}(?![^\W_])'
            parts.append(escaped)
        _local.pattern = re.compile('|'.join(parts))
    return _local.pattern


def redact(text: str, extra: Iterable[str] = ()) -> str:
    """``text`` with every remembered secret (and ``extra``) replaced by a mask."""
    extra = [e for e in extra if isinstance(e, str) and e]
    if extra:
        for value in sorted(extra, key=len, reverse=True):
            text = text.replace(value, MASK)
    pattern = _pattern()
    if pattern is None or not text:
        return text
    return pattern.sub(MASK, text)


class RedactingFilter(logging.Filter):
    """Formats each record once, redacted and bounded, so no handler sees a secret."""

    def __init__(self, limit: int = 4000):
        super().__init__()
        self.limit = limit

    def filter(self, record: logging.LogRecord) -> bool:
        if not _values() and not isinstance(record.msg, str):
            return True
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string must not break logging
            message = str(record.msg)
        from docker_plugin.errors import bounded
        record.msg = bounded(redact(message), self.limit)
        record.args = ()
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


FILTER = RedactingFilter()
_factory_lock = threading.Lock()


def guard_every_logger() -> None:
    """Redact every log record made on a thread that knows secrets.

    Logger filters do not reach child loggers (``urllib3.connectionpool``,
    ``docker.auth``, ...), so the record factory does it, once per process:
    a record is formatted and redacted as it is made, only on threads whose
    operation has remembered secrets; other records are left as they are.
    """
    with _factory_lock:
        previous = logging.getLogRecordFactory()
        if getattr(previous, 'docker_plugin_redacts', False):
            return

        def make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            if _values():
                try:
                    message = record.getMessage()
                except Exception:  # noqa: BLE001 - a bad format string must not break logging
                    message = str(record.msg)
                record.msg, record.args = redact(message), ()
            return record

        make_record.docker_plugin_redacts = True  # type: ignore[attr-defined]
        logging.setLogRecordFactory(make_record)
