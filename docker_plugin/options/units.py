"""Grammars shared by several tables: addresses, sizes and durations; and how the sizes,
durations and CPUs the engine keeps are shown to a person, as a blueprint writes them."""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Mapping

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


# ------------------------------------------------------------ as a person reads them
# The engine keeps sizes in bytes, durations in nanoseconds and CPUs in billionths; a
# report shows each as the blueprint wrote it (``written``), or as a person would.
_SIZE_ORDER = ('t', 'g', 'm', 'k')
_SINGLE_DURATION = re.compile(r'([0-9]+)(ns|us|µs|ms|s|m|h)')


def size_text(number: Any, written: Any = None) -> Any:
    """Bytes in the unit ``written`` uses, spelled as it spells it (``'64m'`` shows
    134217728 as ``'128m'``, ``'64MB'`` as ``'128MB'``; a size written in bytes stays a
    number); in another unit when that one does not hold it exactly; with nothing
    written, in the largest unit that holds it exactly (``'64m'``, or the number)."""
    if not isinstance(number, int) or isinstance(number, bool) or number < 0:
        return number
    if isinstance(written, int) and not isinstance(written, bool):
        return number
    match = _SIZE.fullmatch(written.strip()) if isinstance(written, str) else None
    suffix = written.strip()[match.end(1):].strip() if match else ''
    factor = _SIZE_UNITS[match.group(2).lower()] if match else 1
    if factor > 1 and number * 1000 % factor == 0:  # whole, or to three decimals ('1.5g')
        return f'{number / factor:.3f}'.rstrip('0').rstrip('.') + suffix
    upper = suffix[:1].isupper()
    byte = suffix[-1] if len(suffix) > 1 else ''  # 'mb', 'MB': the b goes with any unit
    for letter in _SIZE_ORDER:
        if number and number % _SIZE_UNITS[letter] == 0:
            return f'{number // _SIZE_UNITS[letter]}{letter.upper() if upper else letter}{byte}'
    return f'{number}{"B" if upper else "b"}' if match else number


def approximate_size(number: Any) -> str:
    """A measured size for a person (``1.5m``, ``512k``, ``12b``), in the units
    blueprints write sizes in; three significant digits."""
    if not isinstance(number, (int, float)) or isinstance(number, bool):
        return str(number)
    for letter in _SIZE_ORDER:
        factor = _SIZE_UNITS[letter]
        if abs(number) >= factor:
            return f'{number / factor:.3g}{letter}'
    return f'{number:g}b'


def duration_text(nanoseconds: Any, written: Any = None) -> Any:
    """Nanoseconds as ``written`` says them: in its one unit when that holds the value
    exactly (``'30s'`` shows 90 s as ``'90s'``), else as Go writes durations
    (``'1m30s'``, ``'1.5s'``, ``'250ms'``); a duration written in nanoseconds stays a
    number."""
    if not isinstance(nanoseconds, int) or isinstance(nanoseconds, bool) or nanoseconds < 0:
        return nanoseconds
    if isinstance(written, int) and not isinstance(written, bool):
        return nanoseconds
    single = _SINGLE_DURATION.fullmatch(written.strip()) if isinstance(written, str) else None
    if single is not None:
        factor = _NS[single.group(2)]
        if nanoseconds % factor == 0:
            return f'{nanoseconds // factor}{single.group(2)}'
    return go_duration(nanoseconds)


def go_duration(nanoseconds: int) -> str:
    """``'1h2m3.5s'``, ``'250ms'``, ``'0s'``: Go's way, without its zero units."""
    if nanoseconds == 0:
        return '0s'
    if nanoseconds < 10 ** 9:
        for unit, factor in (('ms', 10 ** 6), ('us', 10 ** 3)):
            if nanoseconds >= factor:
                return _decimal(nanoseconds, factor) + unit
        return f'{nanoseconds}ns'
    hours, rest = divmod(nanoseconds, 3600 * 10 ** 9)
    minutes, rest = divmod(rest, 60 * 10 ** 9)
    return (f'{hours}h' if hours else '') + (f'{minutes}m' if minutes else '') + \
        (_decimal(rest, 10 ** 9) + 's' if rest else '')


def _decimal(number: int, factor: int) -> str:
    whole, part = divmod(number, factor)
    digits = str(part).rjust(len(str(factor)) - 1, '0').rstrip('0')
    return f'{whole}.{digits}' if digits else str(whole)


def cpus_number(nano_cpus: Any, written: Any = None) -> Any:
    """The engine's billionths of a CPU as the number of CPUs a blueprint writes (1.5)."""
    if not isinstance(nano_cpus, int) or isinstance(nano_cpus, bool):
        return nano_cpus
    whole, part = divmod(nano_cpus, 10 ** 9)
    return whole if not part else nano_cpus / 10 ** 9


class Units:
    """How a person reads an option's value as the engine keeps it: ``show(value,
    written)`` gives it in the units the blueprint wrote it in (``written``: the value as
    written, or None when unknown). Declared beside an option (``Option.units``) where
    the engine's units are not the blueprint's."""

    def show(self, value: Any, written: Any = None) -> Any:
        raise NotImplementedError


class Scalar(Units):
    """One number: a size, a duration, CPUs."""

    def __init__(self, shown: Any):
        self.shown = shown

    def show(self, value: Any, written: Any = None) -> Any:
        return self.shown(value, written)


class Fields(Units):
    """A dictionary the engine keeps under its own keys: each shown under the key a
    blueprint writes (``fields``: engine key -> (blueprint key, its Units or None); a key
    not listed is written in snake case: ``FailureAction`` -> ``failure_action``)."""

    def __init__(self, fields: Mapping[str, tuple[str, Units | None]]):
        self.fields = dict(fields)

    def show(self, value: Any, written: Any = None) -> Any:
        if not isinstance(value, Mapping):
            return value
        written = written if isinstance(written, Mapping) else {}
        out = {}
        for key, item in value.items():
            name, units = self.fields.get(key, (snake_case(str(key)), None))
            out[name] = item if units is None else units.show(item, written.get(name))
        return out


class Items(Units):
    """A list whose items have units (a list written as long as it is kept gives each
    item its written counterpart)."""

    def __init__(self, item: Units):
        self.item = item

    def show(self, value: Any, written: Any = None) -> Any:
        if not isinstance(value, list):
            return value
        pairs = written if isinstance(written, list) and len(written) == len(value) else \
            [None] * len(value)
        return [self.item.show(item, given) for item, given in zip(value, pairs)]


def snake_case(name: str) -> str:
    """``StartPeriod`` -> ``start_period``, ``MaxFailureRatio`` -> ``max_failure_ratio``."""
    return re.sub(r'(?<=[a-z0-9])(?=[A-Z])', '_', name).lower()


def _unlimited_size(number: Any, written: Any = None) -> Any:
    if number == -1:
        return 'unlimited' if written == 'unlimited' else -1
    return size_text(number, written)


SIZE_SHOWN = Scalar(size_text)
SWAP_SHOWN = Scalar(_unlimited_size)       # a size, or -1 written 'unlimited'
DURATION_SHOWN = Scalar(duration_text)
CPUS_SHOWN = Scalar(cpus_number)
