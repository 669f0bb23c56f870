"""The value checks every option table is written in.

A check is a callable ``check(value, path) -> normalised value`` that raises
``InvalidInputError`` naming ``path`` and saying what it expected. Checks say
what they accept in ``expected`` (for messages, plugin.yaml and the README)
and which Python types they take in ``types`` (so ``AnyOf`` can pick one by
type, and the fuzz tier can generate wrong ones). Numbers are bounded to what
the Engine API can hold (int64), text never contains NUL, and digits are
ASCII digits only: ``str.isdigit`` accepts Unicode digits that ``int`` and
the engine refuse.
"""

from __future__ import annotations

import math
import re
from typing import Any, Callable, Iterable, Mapping

from docker_plugin.errors import InvalidInputError

INT64 = 2 ** 63 - 1
ASCII_DIGITS = re.compile(r'[0-9]+')


def kind(value: Any) -> str:
    """How a user reads a value's type in an error."""
    if value is None:
        return 'nothing (null)'
    if isinstance(value, bool):
        return 'a boolean'
    names = {str: 'a string', int: 'an integer', float: 'a number', list: 'a list',
             dict: 'a dictionary'}
    return names.get(type(value), type(value).__name__)


def ascii_int(text: str) -> int | None:
    """``int(text)`` for plain ASCII digits only; None otherwise."""
    return int(text) if ASCII_DIGITS.fullmatch(text) and len(text) <= 19 else None


class Check:
    """Base: subclasses set ``types``/``expected`` and implement ``convert``."""

    types: tuple[type, ...] = ()
    expected = 'a value'

    def __call__(self, value: Any, path: str) -> Any:
        if isinstance(value, bool) and bool not in self.types:
            self.fail(path, value)
        if not isinstance(value, self.types):
            self.fail(path, value)
        return self.convert(value, path)

    def convert(self, value: Any, path: str) -> Any:
        return value

    def fail(self, path: str, value: Any, why: str = '') -> None:
        raise InvalidInputError(path, why or f'expected {self.expected}, got {kind(value)}')


class Text(Check):
    types = (str,)

    def __init__(self, choices: Iterable[str] = (), pattern: str | None = None,
                 non_empty: bool = False, max_len: int = 65536, what: str = 'a string'):
        self.choices = tuple(choices)
        self.source = pattern
        self._pattern: re.Pattern[str] | None = None
        self.non_empty = non_empty  # a pattern that cannot match '' refuses it anyway
        self.max_len = max_len
        self.expected = f'one of {", ".join(self.choices)}' if self.choices else what

    @property
    def pattern(self) -> re.Pattern[str] | None:
        """Compiled when first used: operations load tables they mostly do not use."""
        if self._pattern is None and self.source:
            self._pattern = re.compile(self.source)
        return self._pattern

    def convert(self, value: str, path: str) -> str:
        if self.choices and value not in self.choices:
            self.fail(path, value, f'expected {self.expected}, got {value[:80]!r}')
        if '\x00' in value or len(value) > self.max_len:
            self.fail(path, value, f'expected {self.expected} (at most {self.max_len} '
                                   'characters, no NUL)')
        if self.non_empty and not value:
            self.fail(path, value, f'expected {self.expected}, got an empty string')
        if self.pattern and not self.pattern.fullmatch(value):
            self.fail(path, value, f'expected {self.expected}, got {value[:80]!r}')
        return value


class Integer(Check):
    types = (int,)

    def __init__(self, lo: int = -INT64 - 1, hi: int = INT64, what: str = 'an integer'):
        self.lo, self.hi = lo, hi
        self.expected = f'{what} from {lo} to {hi}' if (lo, hi) != (-INT64 - 1, INT64) else what

    def convert(self, value: int, path: str) -> int:
        if not self.lo <= value <= self.hi:
            self.fail(path, value, f'expected {self.expected}, got {_short_number(value)}')
        return value


class Number(Check):
    types = (int, float)

    def __init__(self, lo: float = 0.0, hi: float = 1e9, above: bool = False,
                 what: str = 'a number'):
        self.lo, self.hi, self.above = lo, hi, above
        self.expected = f'{what} {">" if above else ">="} {lo:g} and <= {hi:g}'

    def convert(self, value: float, path: str) -> float:
        if isinstance(value, float) and not math.isfinite(value):
            self.fail(path, value, f'expected {self.expected}, got {value}')
        low_ok = value > self.lo if self.above else value >= self.lo
        if not (low_ok and value <= self.hi):
            self.fail(path, value, f'expected {self.expected}, got {_short_number(value)}')
        return value


class Flag(Check):
    types = (bool,)
    expected = 'true or false'


class ListOf(Check):
    types = (list, tuple)

    def __init__(self, item: Check, max_items: int = 10000, what: str | None = None):
        self.item = item
        self.max_items = max_items
        self.expected = what or f'a list of {item.expected}'

    def convert(self, value: list, path: str) -> list:
        if len(value) > self.max_items:
            self.fail(path, value, f'expected at most {self.max_items} items')
        return [self.item(v, f'{path}[{i}]') for i, v in enumerate(value)]


class MapOf(Check):
    types = (dict,)

    def __init__(self, value: Check, key: Check | None = None, what: str | None = None):
        self.value = value
        self.key = key or Text(non_empty=True, max_len=4096, what='a name')
        self.expected = what or f'a dictionary of {self.value.expected}'

    def convert(self, value: dict, path: str) -> dict:
        out = {}
        for k, v in value.items():
            sub = f'{path}.{k}'
            out[self.key(k, f'{path} key {k!r}'[:200])] = self.value(v, sub)
        return out


class Record(Check):
    """A dictionary with known keys, each with its own check."""

    types = (dict,)

    def __init__(self, fields: Mapping[str, Check], required: Iterable[str] = (),
                 aliases: Mapping[str, str] | None = None, secret: Iterable[str] = (),
                 what: str | None = None):
        self.fields = dict(fields)
        self.required = tuple(required)
        self.aliases = dict(aliases or {})
        self.secret = frozenset(secret)
        self.expected = what or f'a dictionary of {", ".join(self.fields)}'

    def convert(self, value: dict, path: str) -> dict:
        out = {}
        for key, item in value.items():
            name = self.aliases.get(key, key)
            check = self.fields.get(name) if isinstance(name, str) else None
            if check is None:
                raise InvalidInputError(f'{path}.{key}', f'unknown key; known: '
                                                         f'{", ".join(self.fields)}')
            if item is not None:
                out[name] = check(item, f'{path}.{key}')
        for name in self.required:
            if out.get(name) in (None, ''):
                raise InvalidInputError(f'{path}.{name}', 'required')
        return out


class AnyOf(Check):
    """The first alternative whose types match the value decides."""

    def __init__(self, *alternatives: Check, what: str | None = None):
        self.alternatives = alternatives
        self.types = tuple(t for a in alternatives for t in a.types)
        self.expected = what or ' or '.join(a.expected for a in alternatives)

    def __call__(self, value: Any, path: str) -> Any:
        for alternative in self.alternatives:
            if isinstance(value, alternative.types) and (
                    not isinstance(value, bool) or bool in alternative.types):
                return alternative(value, path)
        self.fail(path, value)
        return None  # never reached


class Custom(Check):
    """A normaliser of its own, for values with a grammar (ports, sizes, ...)."""

    def __init__(self, types: tuple[type, ...], convert: Callable[[Any, str], Any],
                 expected: str):
        self.types = types
        self._convert = convert
        self.expected = expected

    def convert(self, value: Any, path: str) -> Any:
        return self._convert(value, path)


def _short_number(value: float) -> str:
    text = repr(value)
    return text if len(text) <= 24 else f'{text[:10]}...({len(text)} digits)'


TEXT = Text()
NAME = Text(non_empty=True, max_len=4096, what='a non-empty string')
FLAG = Flag()
NON_NEGATIVE = Integer(0, INT64, what='a whole number >= 0')
SECONDS = Number(0, 10 ** 7, what='seconds')
TEXT_LIST = ListOf(Text())
TEXT_MAP = MapOf(Text())


def scalar_text(value: Any, path: str) -> str:
    """A YAML scalar as the text a container sees (true/false for booleans)."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidInputError(path, f'expected a string or a number, got {value}')
    if not isinstance(value, (str, int, float)):
        raise InvalidInputError(path, f'values must be strings, numbers or booleans, got '
                                      f'{kind(value)}')
    text = str(value)
    if '\x00' in text:
        raise InvalidInputError(path, 'values must not contain NUL characters')
    return text


SCALAR_MAP = MapOf(Custom((str, int, float, bool), scalar_text,
                          'a string, number or boolean'),
                   what='a dictionary of NAME: value')
