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
from pathlib import Path
from typing import Any, Callable, Iterable

from cloudify.exceptions import NonRecoverableError, RecoverableError
from helpers.fuzz_mode import fuzz_mode
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from docker_plugin import kinds
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
MODE = fuzz_mode()  # seeded (CI) or exploring: tests/helpers/fuzz_mode.py
EXAMPLES = MODE.examples
# Seeded: the same examples every run (derived from each test's code). Exploring: drawn
# from the session's seed (tests/conftest.py prints it), a failure printed with its
# @reproduce_failure blob.
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=not MODE.exploring,
                    database=None, print_blob=MODE.exploring,
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


# ------------------------------------------------------------------ from the registry
# Node kinds that are versioned objects of a swarm (Secret, Config): a new value is a new
# object. Their tables, operations and relationships come from docker_plugin.kinds.
VERSIONED = tuple(entry.kind for entry in kinds.NODES
                  if entry.update is kinds.UpdateStrategy.NEW_VERSION)


def _table_props(properties: Iterable[Any]) -> OptionTable:
    (props,) = [p for p in properties if isinstance(p, kinds.TableProps)]
    return kinds.table(props.table)


def table_of(kind: str) -> OptionTable:
    """The option table a node kind's properties are (its one table)."""
    return _table_props(kinds.node(kind).properties)


def operation(kind: str, name: str) -> Callable[..., Any]:
    """The function that implements lifecycle (or validation) operation ``name`` of node
    kind ``kind``."""
    entry = kinds.node(kind)
    for interface, op in entry.operations():
        if op.name == name and not interface.facade:
            return kinds.resolve(op.impl, entry.package)
    raise KeyError(f'{kind} has no operation {name}')


def actions(kind: str) -> dict[str, Callable[..., Any]]:
    """The operations of node kind ``kind``'s action interface, by name."""
    entry = kinds.node(kind)
    return {op.name: kinds.resolve(op.impl, entry.package)
            for interface, op in entry.operations() if interface.facade == 'actions'}


def uses(kind: str) -> tuple[str, OptionTable]:
    """The relationship type that leads to node kind ``kind``'s objects, and its table."""
    (rel,) = [r for r in kinds.RELATIONSHIPS if r.kind == kind]
    return rel.type_name, _table_props(rel.properties)


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


# Values in the grammars of container options whose checks are Custom (a shape alone
# would stop nearly every example at its first character): right, nearly right, and
# wrong in the ways users get them wrong, so that examples reach the engine.
_DEVICE_PATHS = st.sampled_from(['/dev/null', '/dev/nonexistent', 'dev/null', '', '/dev/null:rw'])
_PORT_TEXT = ['53/udp', '9010-9012', '9012-9010', '80/icmp', '9010-9011/sctp', '0', '65536',
              '80-', '-80', '1-65535x']
_PUBLISHED = ['8080:80', '127.0.0.1::80/udp', '[::1]:0:81', '9010-9011:9010-9011',
              '9010-9012:9010-9011', '8000-8001:80', '1.2.3.4:5:6:7', '[::1:80', ':80', '80:',
              'a:b', '0.0.0.0:0:53/sctp', '127.0.0.1:8080-8079:80']
_SIZES = ['20M', '1k', '0', '1.5g', 'fast', '', '1e3', '-1', 'unlimited', 'Unlimited', '64m']


def _rates(sizes: bool) -> st.SearchStrategy:
    rate = st.one_of(st.integers(-1, 2 ** 40), st.sampled_from(_SIZES)) if sizes else \
        st.one_of(st.integers(-1, 2 ** 40), st.sampled_from(['100', '20M']))
    return st.lists(st.fixed_dictionaries({'path': _DEVICE_PATHS, 'rate': rate}), max_size=2)


def container_grammars(names: Iterable[str], modes: Iterable[str]) -> dict[str, Any]:
    """Strategies by container option name (``names``: the table's, for comparisons)."""
    names, modes = sorted(names), list(modes)
    return {
        'ports': st.lists(st.one_of(st.integers(-1, 70000), st.sampled_from(_PORT_TEXT)),
                          max_size=3),
        'port_bindings': st.one_of(
            st.lists(st.one_of(st.sampled_from(_PUBLISHED), st.integers(-1, 70000)),
                     max_size=3),
            st.dictionaries(st.one_of(st.integers(0, 70000), st.sampled_from(_PORT_TEXT)),
                            st.one_of(st.none(), st.integers(-1, 70000),
                                      st.sampled_from(['8000-8001', '127.0.0.1', '::1']),
                                      # one binding (['127.0.0.1']: any free port on it)
                                      # or [ip, port]
                                      st.lists(st.sampled_from(['127.0.0.1', 0, '9000-9001']),
                                               min_size=1, max_size=2)), max_size=3)),
        'cpus': st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                          st.integers(-2, 10), st.sampled_from([0.01, 1e-9, 0.5, 2.0, 1e6 + 1])),
        'memswap_limit': st.one_of(st.sampled_from(_SIZES), st.integers(-3, 2 ** 40)),
        'device_read_bps': _rates(True), 'device_write_bps': _rates(True),
        'device_read_iops': _rates(False), 'device_write_iops': _rates(False),
        'devices': st.lists(st.sampled_from(['/dev/null', '/dev/null:rw', '/dev/null:/dev/n:r',
                                             '/dev/null:wat', 'dev/null', '/dev/nonexistent',
                                             '/dev/null:/dev/n:rwm:x']), max_size=2),
        'mounts': st.lists(st.one_of(
            st.sampled_from(['/tmp:/b:ro', 'vol:/v', '/anon', '/tmp:/b:z', 'rel', ':/x',
                             '/tmp:/b:rw:x']),
            st.fixed_dictionaries({'target': st.sampled_from(['/t', 'rel', ''])}, optional={
                'type': st.sampled_from(['tmpfs', 'volume', 'bind', 'npipe', 'x']),
                'source': st.sampled_from(['', '/tmp', 'vol']),
                'tmpfs_size': st.one_of(st.sampled_from(_SIZES), st.integers(-1, 2 ** 40)),
                'tmpfs_mode': st.one_of(st.sampled_from(['1777', '999', '0700', '']),
                                        st.integers(-1, 0o10000)),
                'propagation': st.sampled_from(['rprivate', 'rshared', 'x']),
                'non_recursive': st.booleans(), 'no_copy': st.booleans()})), max_size=2),
        'env_file': st.one_of(st.sampled_from(['missing.env', '/nonexistent/x.env', '', 'dir/']),
                              st.lists(st.sampled_from(['a.env', '']), max_size=2)),
        'comparisons': st.dictionaries(
            st.one_of(st.sampled_from([*names, '*', 'image', 'networks', 'nope']),
                      st.integers()),
            st.one_of(st.sampled_from([*modes, 'sometimes', '']), GARBAGE), max_size=3),
    }


# Lines of an env file: right, and wrong as env files are (a name alone, NUL, no name).
ENV_LINES = st.one_of(
    st.builds(lambda n, v: f'{n}={v}', st.from_regex(r'[A-Z_][A-Z0-9_]{0,8}', fullmatch=True),
              st.text(max_size=20).filter(lambda v: '\n' not in v and '\r' not in v)),
    st.sampled_from(['# comment', '', 'NAME_ALONE', '=value', 'A\x00B=1', 'export A=1',
                     'A="quoted"', '  B = spaced  ', '\ufeffBOM=1', 'Ä=umlaut']),
    st.text(max_size=30))
ENV_FILES = st.one_of(st.lists(ENV_LINES, max_size=6).map('\n'.join).map(str.encode),
                      st.binary(max_size=40))


@st.composite
def table_dicts(draw: Any, table: OptionTable, max_size: int = 3,
                grammars: dict[str, Any] | None = None) -> dict[Any, Any]:
    """A dict of up to ``max_size`` keys of the table (or typos, or unknown keys), each
    with a plausible value for its option (from ``grammars`` where it has one) or
    garbage."""
    names = table.names()
    grammars = grammars or {}
    out: dict[Any, Any] = {}
    for _ in range(draw(st.integers(0, max_size))):
        kind = draw(st.sampled_from(['known', 'known', 'known', 'typo', 'unknown']))
        if kind == 'known':
            name = draw(st.sampled_from(names))
            likely = grammars[name] if name in grammars else plausible(
                table.options[name].check)
            out[name] = draw(st.one_of(likely, GARBAGE))
        elif kind == 'typo':
            out[draw(st.sampled_from(typos(names)))] = draw(GARBAGE)
        else:
            out[draw(st.one_of(st.text(min_size=1, max_size=8), st.integers()))] = draw(GARBAGE)
    return out


@st.composite
def known_options(draw: Any, table: OptionTable, names: Iterable[str], max_size: int = 3,
                  grammars: dict[str, Any] | None = None) -> dict[str, Any]:
    """Up to ``max_size`` of ``names``, each with a plausible value (no typos, no
    garbage): most of these pass validation and reach the engine."""
    grammars = grammars or {}
    chosen = draw(st.lists(st.sampled_from(sorted(names)), max_size=max_size, unique=True))
    return {name: draw(grammars[name] if name in grammars else plausible(
        table.options[name].check)) for name in chosen}


def anything_but_a_dict() -> st.SearchStrategy:
    return st.one_of(SCALARS, st.lists(SCALARS, max_size=3))


# field: / field.sub / field[0] / field key 'k' / field (a file it names): ...
# The one refusal whose words point at nothing: runc failing without a reason (a
# negative oom_score_adj where the engine lacks the privilege). With one option given
# that the runtime applies the plugin names it (tests/unit/test_refusals.py); with
# several, nothing in the answer tells them apart and it names the input.
REASONLESS = "can't get final child's PID from pipe"
SEPARATORS = (':', '.', '[', ' key ', ' (')


def fields_of(name: str, raw: Any, table: OptionTable | None = None) -> tuple[str, ...]:
    """The fields an error about input ``name`` given ``raw`` may name: a key it was
    given (``name.key``, or deeper) or a required option of ``table`` it lacks; the
    input itself when ``raw`` is not a dict (``name`` '' for operation inputs, which
    are their own fields)."""
    if not isinstance(raw, dict):
        return (name,)
    keys = [*raw, *(o.name for o in table or () if o.required and o.name not in raw)]
    return tuple(f'{name}.{key}' if name else str(key) for key in keys) or (name,)


def names_a_field(message: str, fields: tuple[str, ...]) -> bool:
    """``message`` opens with one of ``fields``, whole (``field:``, ``field.sub``,
    ``field[0]``, ``field key 'k'``, ``field (path)``): ``container_config.cap_add`` does not name
    ``container_config.cap``."""
    return any(message.startswith(f'{field}{sep}') for field in fields for sep in SEPARATORS)


class Outcomes:
    """Counts by input and outcome, written to .cache/fuzz-report.json for the summary."""

    def __init__(self) -> None:
        self.counts: dict[str, collections.Counter[str]] = collections.defaultdict(
            collections.Counter)

    def check(self, name: str, fields: tuple[str, ...], call: Callable[[], Any],
              engine_down: bool = False, reasonless: str = '') -> str:
        """Run one example and assert the invariant; returns the outcome.

        ``reasonless``: the input a refusal without a reason (``REASONLESS``) may name
        whole, when the example gave several options that could have caused it."""
        try:
            call()
        except NonRecoverableError as exc:
            message = str(exc)
            assert len(message) <= 4096, f'{len(message)} characters'
            excused = (reasonless,) if reasonless and REASONLESS in message else ()
            assert names_a_field(message, fields + excused), \
                f'does not name one of {fields}: {message[:300]}'
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
