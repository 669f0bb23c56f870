"""Strategies and the invariant of the fuzz tier.

Inputs are generated from the option tables themselves: their keys (and
typos of them, and unknown keys) with values that are wrong types, Unicode
digits, huge, negative, NaN or infinite numbers and nested garbage, mixed
with plausible values. The invariant for every example: the operation
accepts (and the engine accepts), or raises a ``NonRecoverableError`` whose
message names the field and is at most 4 KB; never another exception type,
never a ``RecoverableError`` (except "engine unreachable" where the test
points the operation at a closed port on purpose, after validation passed).
"""

from __future__ import annotations

import collections
import json
import os
from pathlib import Path
from typing import Any, Callable, Iterable

from cloudify.exceptions import NonRecoverableError, RecoverableError
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from docker_plugin.options.base import OptionTable
from docker_plugin.options.checks import (
    AnyOf,
    Check,
    Flag,
    Integer,
    ListOf,
    MapOf,
    Number,
    Record,
    Text,
)

REPORT = Path(__file__).resolve().parents[2] / '.cache' / 'fuzz-report.json'
EXAMPLES = int(os.environ.get('DOCKER_PLUGIN_FUZZ_EXAMPLES', '120'))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))
TRICKY = ['８０', '１.４１', '٣', '²', '0', '-1', '1e309', '', ' ', '\x00', 'all', 'host',
          'sha256:', 'on-failure:３', '/abs', 'rel/path', '10' * 20, 'NaN', '-0', 'tcp://',
          '0.0.0.0', '::', 'SIGKILL', 'yes', '1.5s', '512m', '${X}', '../../etc', 'a' * 300]
NUMBERS = st.one_of(st.integers(-2 ** 70, 2 ** 70), st.sampled_from([10 ** 30, -10 ** 30, 2 ** 63,
                                                                    -1, 0, 65536, 1 << 31]),
                    st.floats(allow_nan=True, allow_infinity=True))
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, st.text(max_size=10),
                    st.sampled_from(TRICKY))
GARBAGE = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                       | st.dictionaries(st.one_of(st.text(max_size=6), st.sampled_from(TRICKY),
                                                   st.integers()), inner, max_size=3),
                       max_leaves=6)


# Paths a blueprint could give on a manager: pieces that climb, links out, home
# directories, interpolation, NUL, look-alikes; and anchors the test replaces with real
# places (@OUT: outside the blueprint, @BP: the blueprint itself, @PREFIX: the venv),
# and the blueprint's own files (which must pass).
PATH_PARTS = ['..', '.', '', 'ctx', 'out', 'escape', 'secret.txt', 'compose', 'Dockerfile',
              'canary.env', '~', '~root', '$HOME', '${X}', '\x00', ' ', '%2e%2e', '..\\..',
              '...', 'ｅｔｃ', 'passwd']
PATH_ANCHORS = ['@OUT', '@OUT/canary.env', '@OUT/canary.yaml', '@BP', '@BP/secret.txt',
                '@PREFIX/lib', '/etc/passwd', '/proc/self/environ', '/dev/zero', '/', '//etc',
                'ctx', 'ctx/Dockerfile', 'secret.txt', 'compose', 'compose/canary.env',
                'ctx/escape', 'out/passwd', 'Dockerfile', 'canary.env', '../ctx']


def paths() -> st.SearchStrategy:
    """Path strings: joined pieces (maybe absolute), anchors, anchors with pieces, text."""
    joined = st.lists(st.sampled_from(PATH_PARTS), min_size=1, max_size=6).map('/'.join)
    return st.one_of(joined, joined.map(lambda p: '/' + p), st.sampled_from(PATH_ANCHORS),
                     st.tuples(st.sampled_from(PATH_ANCHORS), joined).map('/'.join),
                     st.text(max_size=8))


# Engine addresses of this host in their many spellings (never a name DNS would be
# asked about: only numbers, and names /etc/hosts holds).
LOCAL_ENGINES = ['unix:///var/run/docker.sock', 'unix://var/run/docker.sock',
                 'unix:///run/docker.sock', 'unix:///tmp/x.sock', 'tcp://127.0.0.1:2375',
                 'tcp://127.1:2375', 'tcp://2130706433:2375', 'tcp://0x7f000001:2375',
                 'tcp://0.0.0.0:2375', 'tcp://localhost:2375', 'tcp://LOCALHOST:2376',
                 'https://[::1]:2376', 'tcp://[::ffff:127.0.0.1]:2375', 'tcp://[::]:2375',
                 'tcp://127.0.0.2:9', 'http://127.0.0.1:9/', 'https://127.0.0.1:9']


def typos(names: Iterable[str]) -> list[str]:
    out = []
    for name in names:
        out += [name[:-1], name + 's', name.replace('_', '-'), name.upper()]
    return [t for t in out if t]


def plausible(check: Check) -> st.SearchStrategy:
    """Values of the types a check takes (valid ones by its pattern, where it has one),
    so that examples get past the type checks and reach the engine."""
    if isinstance(check, Flag):
        return st.booleans()
    if isinstance(check, Integer):
        return st.one_of(st.integers(max(check.lo, -2 ** 40), min(check.hi, 2 ** 40)),
                         st.sampled_from([check.lo - 1, check.hi + 1]))
    if isinstance(check, Number):
        return st.floats(min_value=-1, max_value=min(check.hi * 2, 1e12))
    if isinstance(check, Text):
        options = [st.text(max_size=12), st.sampled_from(TRICKY)]
        if check.choices:
            options.append(st.sampled_from(check.choices))
        if check.pattern is not None:
            options.append(st.from_regex(check.pattern, fullmatch=True).filter(
                lambda v: len(v) <= 200))
        return st.one_of(*options)
    if isinstance(check, ListOf):
        return st.lists(plausible(check.item), max_size=3)
    if isinstance(check, MapOf):
        return st.dictionaries(st.text(min_size=1, max_size=8), plausible(check.value),
                               max_size=3)
    if isinstance(check, Record):
        return st.fixed_dictionaries({}, optional={k: plausible(c) for k, c in
                                                   check.fields.items()})
    if isinstance(check, AnyOf):
        return st.one_of(*(plausible(a) for a in check.alternatives))
    by_type = {str: st.one_of(st.text(max_size=12), st.sampled_from(TRICKY)),
               int: st.integers(-10, 70000), float: st.floats(allow_nan=False),
               bool: st.booleans(), list: st.lists(SCALARS, max_size=3),
               dict: st.dictionaries(st.text(max_size=6), SCALARS, max_size=3)}
    return st.one_of(*(by_type[t] for t in check.types if t in by_type))


@st.composite
def table_dicts(draw: Any, table: OptionTable, max_size: int = 3) -> dict[Any, Any]:
    """A dict of up to ``max_size`` keys of the table (or typos, or unknown keys), each
    with a plausible value for its option or garbage."""
    names = table.names()
    out: dict[Any, Any] = {}
    for _ in range(draw(st.integers(0, max_size))):
        kind = draw(st.sampled_from(['known', 'known', 'known', 'typo', 'unknown']))
        if kind == 'known':
            name = draw(st.sampled_from(names))
            out[name] = draw(st.one_of(plausible(table.options[name].check), GARBAGE))
        elif kind == 'typo':
            out[draw(st.sampled_from(typos(names)))] = draw(GARBAGE)
        else:
            out[draw(st.one_of(st.text(min_size=1, max_size=8), st.integers()))] = draw(GARBAGE)
    return out


def anything_but_a_dict() -> st.SearchStrategy:
    return st.one_of(SCALARS, st.lists(SCALARS, max_size=3))


class Outcomes:
    """Counts by input and outcome, written to .cache/fuzz-report.json for the summary."""

    def __init__(self) -> None:
        self.counts: dict[str, collections.Counter[str]] = collections.defaultdict(
            collections.Counter)

    def check(self, name: str, fields: tuple[str, ...], call: Callable[[], Any],
              engine_down: bool = False) -> str:
        """Run one example and assert the invariant; returns the outcome."""
        try:
            call()
        except NonRecoverableError as exc:
            message = str(exc)
            assert len(message) <= 4096, f'{len(message)} characters'
            assert message.startswith(fields), f'does not name {fields}: {message[:300]}'
            outcome = 'refused by the engine' if 'the engine' in message[:160] \
                else 'refused before the engine'
        except RecoverableError as exc:
            assert engine_down and 'unreachable' in str(exc), \
                f'retried: {str(exc)[:300]}'
            outcome = 'accepted (engine down on purpose)'
        except Exception as exc:  # the invariant: nothing else ever escapes
            raise AssertionError(f'escaped as {type(exc).__name__}: {str(exc)[:300]}') from exc
        else:
            outcome = 'accepted'
        self.counts[name][outcome] += 1
        return outcome

    def save(self) -> None:
        """Add this module's counts to the session's report (several modules fuzz;
        tests/conftest.py removes the last session's report when a session starts)."""
        REPORT.parent.mkdir(parents=True, exist_ok=True)
        found = json.loads(REPORT.read_text()) if REPORT.exists() else {}
        for name, outcomes in self.counts.items():
            merged = collections.Counter(found.get(name, {}))
            merged.update(outcomes)
            found[name] = dict(merged)
        REPORT.write_text(json.dumps(found, indent=2, sort_keys=True))
