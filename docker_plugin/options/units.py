"""Grammars shared by several tables: addresses, sizes and durations."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from docker_plugin.errors import InvalidInputError
from docker_plugin.options.checks import INT64, Custom, kind


def ip_text(value: Any, path: str, allow_empty: bool = True) -> str:
    """An IPv4 or IPv6 address (or '' when allowed)."""
    if not isinstance(value, str) or (not value and not allow_empty):
        raise InvalidInputError(path, f'expected an IP address, got {kind(value)}')
    if value:
        try:
            ipaddress.ip_address(value)
        except ValueError:
            raise InvalidInputError(path, f'expected an IP address, got {value[:60]!r}') from None
    return value


IP = Custom((str,), lambda value, path: ip_text(value, path, allow_empty=False),
            'an IP address')

_SIZE = re.compile(r'([0-9]+(?:\.[0-9]+)?)\s*([bkmgt]?)b?', re.IGNORECASE)
_SIZE_UNITS = {'': 1, 'b': 1, 'k': 1024, 'm': 1024 ** 2, 'g': 1024 ** 3, 't': 1024 ** 4}


def _size(value: Any, path: str) -> int:
    if isinstance(value, int):
        number = value
    else:
        match = _SIZE.fullmatch(value.strip())
        if not match:
            raise InvalidInputError(path, f"expected bytes, or a size like '512m', got "
                                          f'{value[:40]!r}')
        number = int(float(match.group(1)) * _SIZE_UNITS[match.group(2).lower()])
    if not 0 <= number <= INT64:
        raise InvalidInputError(path, f'expected a size from 0 to {INT64} bytes')
    return number


SIZE = Custom((int, str), _size, "bytes, or a size like '512m'")

_DURATION = re.compile(r'(?:([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h))+')
_DURATION_PART = re.compile(r'([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)')
_NS = {'ns': 1, 'us': 10 ** 3, 'µs': 10 ** 3, 'ms': 10 ** 6, 's': 10 ** 9, 'm': 60 * 10 ** 9,
       'h': 3600 * 10 ** 9}


def _duration(value: Any, path: str) -> int:
    if isinstance(value, int):
        number = value
    else:
        if not _DURATION.fullmatch(value.strip()):
            raise InvalidInputError(path, f"expected nanoseconds, or a duration like '30s' "
                                          f"or '1m30s', got {value[:40]!r}")
        number = int(sum(float(n) * _NS[u] for n, u in _DURATION_PART.findall(value)))
    if not 0 <= number <= INT64:
        raise InvalidInputError(path, 'expected a duration from 0 to about 292 years')
    return number


DURATION = Custom((int, str), _duration, "nanoseconds, or a duration like '30s'")
