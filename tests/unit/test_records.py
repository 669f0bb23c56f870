"""docker_plugin.records behaves as the dataclasses it replaces (issue 20: they cost half
the plugin's import in every operation's fresh process).

The same declaration is made a dataclass and a record; hypothesis then calls both
with the same arguments (positional, keyword, missing, extra, repeated) and compares
what they build or refuse, their repr, equality, hash, order, ``replace`` and
``asdict``.
"""

from __future__ import annotations

import dataclasses
import pickle
import sys
from typing import Any, ClassVar, Generic, TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from docker_plugin import records

NAMES = ['host', 'port', 'web', 'postgres', 'labels', 'timeout']
T = TypeVar('T')

# a field: (has a default, the default or factory, shown by repr, compared)
FIELD = st.tuples(st.sampled_from(['none', 'value', 'factory']),
                  st.one_of(st.integers(-3, 3), st.text(max_size=3), st.none()),
                  st.booleans(), st.booleans())


@st.composite
def declarations(draw: Any) -> list[tuple[str, str, Any, bool, bool]]:
    """Fields in order: those without a default first, as both require."""
    names = draw(st.lists(st.sampled_from(NAMES), unique=True, max_size=5))
    made = [(name, *draw(FIELD)) for name in names]
    return sorted(made, key=lambda f: f[1] != 'none')


def _both(fields: list[tuple[str, str, Any, bool, bool]], frozen: bool,
          order: bool = False) -> tuple[type, type]:
    def body(make_field: Any) -> dict[str, Any]:
        namespace: dict[str, Any] = {'__annotations__': {n: 'Any' for n, *_ in fields}}
        for name, kind, value, shown, compared in fields:
            if kind == 'value':
                namespace[name] = make_field(default=value, repr=shown, compare=compared)
            elif kind == 'factory':
                namespace[name] = make_field(default_factory=lambda v=value: [v], repr=shown,
                                             compare=compared)
            else:
                namespace[name] = make_field(repr=shown, compare=compared)
        return namespace
    plain = dataclasses.dataclass(frozen=frozen, order=order)(
        type('Made', (), body(dataclasses.field)))
    made = records.record(frozen=frozen, order=order)(type('Made', (), body(records.field)))
    return plain, made


def _build(cls: type, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    try:
        return cls(*args, **kwargs)
    except TypeError:
        return TypeError


def _hash(value: Any) -> Any:
    try:
        return hash(value)
    except TypeError:  # a list inside, in a record as in a dataclass
        return TypeError


def _state(value: Any) -> Any:
    return value if value is TypeError else dict(vars(value))


CALLS = st.tuples(st.lists(st.integers(0, 9), max_size=6),
                  st.dictionaries(st.sampled_from([*NAMES, 'unknown']), st.integers(0, 9),
                                  max_size=4))


@settings(max_examples=300, deadline=None)
@given(declarations(), CALLS, st.booleans())
def test_a_record_is_built_and_refused_as_its_dataclass_is(fields, call, frozen):
    plain, made = _both(fields, frozen)
    args, kwargs = tuple(call[0]), call[1]
    want, got = _build(plain, args, kwargs), _build(made, args, kwargs)
    assert _state(got) == _state(want)
    if want is TypeError:
        return
    assert repr(got) == repr(want)
    assert records.asdict(got) == dataclasses.asdict(want)
    twin = made(*args, **kwargs)
    assert got == twin and not got != twin
    assert (got == made(*args, **kwargs)) == (want == plain(*args, **kwargs))
    if frozen:
        assert _hash(got) == _hash(twin) and (_hash(got) is TypeError) == (_hash(want) is TypeError)
        for name in [f[0] for f in fields][:1]:
            with pytest.raises(AttributeError):
                setattr(got, name, 1)
            with pytest.raises(AttributeError):
                delattr(got, name)
    else:
        with pytest.raises(TypeError):
            hash(got)
    for name, *_ in fields[:2]:
        changed_want = dataclasses.replace(want, **{name: 'changed'})
        changed_got = records.replace(got, **{name: 'changed'})
        assert _state(changed_got) == _state(changed_want)
        assert _state(got) == _state(_build(made, args, kwargs))  # the original is untouched


@settings(max_examples=100, deadline=None)
@given(declarations(), st.lists(st.lists(st.integers(0, 2), min_size=6, max_size=6),
                                min_size=2, max_size=5))
def test_ordered_records_sort_as_their_dataclasses_do(fields, rows):
    plain, made = _both([(n, 'none', None, True, c) for n, _k, _v, _s, c in fields], True,
                        order=True)
    width = len(fields)
    want = sorted(plain(*row[:width]) for row in rows)
    got = sorted(made(*row[:width]) for row in rows)
    assert [_state(g) for g in got] == [_state(w) for w in want]


@records.record(frozen=True)
class Credentials:
    """A record with secret fields, as the daemon client's is."""

    username: str
    password: str = records.field(default='', repr=False)
    labels: dict[str, str] = records.field(default_factory=dict)


def test_a_field_marked_repr_false_is_never_shown_even_when_its_value_is_a_common_word():
    made = Credentials('postgres', 'web')
    assert repr(made) == "Credentials(username='postgres', labels={})"
    assert 'web' not in repr(records.replace(made, labels={'app': 'db'}))
    assert [f.name for f in records.fields(made) if not f.repr] == ['password']


def test_a_frozen_record_refuses_changes_and_replace_makes_a_new_one():
    made = Credentials('postgres')
    with pytest.raises(records.FrozenRecordError, match="'username'"):
        made.username = 'other'  # type: ignore[misc]
    changed = records.replace(made, password='x')
    assert changed.password == 'x' and made.password == ''
    with pytest.raises(TypeError, match="no field 'secret'"):
        records.replace(made, secret='x')
    assert made.labels is not Credentials('x').labels  # a factory's value per instance


def test_declarations_a_dataclass_refuses_are_refused():
    with pytest.raises(ValueError, match='mutable default'):
        records.record(type('Bad', (), {'__annotations__': {'items': 'list'}, 'items': []}))
    with pytest.raises(TypeError, match="non-default field 'b' follows default field 'a'"):
        records.record(type('Bad', (), {'__annotations__': {'a': 'int', 'b': 'int'}, 'a': 1}))
    with pytest.raises(TypeError, match='defines __init__'):
        records.record(type('Bad', (), {'__annotations__': {'a': 'int'},
                                        '__init__': lambda self: None}))
    with pytest.raises(ValueError, match='both default and default_factory'):
        records.field(default=1, default_factory=list)
    with pytest.raises(TypeError, match='not a record'):
        records.replace(object())


@records.record(frozen=True)
class Base:
    """A record another extends."""

    name: str
    size: int = 0


@records.record(frozen=True)
class Extended(Base):
    """Its fields follow the base's, as a dataclass's do."""

    kind: str = 'plain'


@records.record(frozen=True)
class Boxed(Generic[T]):
    """A generic record (``resources.waiting.Done``)."""

    value: T


def test_inheritance_generic_bases_pickling_and_class_variables():
    assert [f.name for f in records.fields(Extended)] == ['name', 'size', 'kind']
    assert Extended('a', 1, 'b') == Extended(name='a', size=1, kind='b')
    assert Extended('a') != Base('a')  # another class is never equal, as in dataclasses
    assert Boxed[int](3).value == 3 and Boxed(3) == Boxed(3)
    assert pickle.loads(pickle.dumps(Extended('a', 2))) == Extended('a', 2)
    assert Extended.__match_args__ == ('name', 'size', 'kind')

    @records.record(frozen=True)
    class Redeclared(Base):
        name: str = 'default'  # keeps its place before size, as a dataclass's does

    assert [f.name for f in records.fields(Redeclared)] == ['name', 'size']
    assert Redeclared('a', 2) == Redeclared(name='a', size=2) and Redeclared().name == 'default'

    @records.record
    class WithClassVar:
        shared: ClassVar[int] = 3  # the string 'ClassVar[int]', as in every module here
        own: int = 1

    assert [f.name for f in records.fields(WithClassVar)] == ['own']
    assert WithClassVar().own == 1 and WithClassVar.shared == 3


def test_the_operations_import_path_makes_no_dataclass():
    """What the records are for: the container operations' import loads neither
    ``dataclasses`` nor ``inspect`` (a fresh interpreter, as on a manager)."""
    import subprocess
    code = ('import sys, importlib; importlib.import_module("docker_plugin.tasks").create; '
            'print(sorted(m for m in ("dataclasses", "inspect", "ast", "dis") '
            'if m in sys.modules))')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         check=True, timeout=60).stdout.strip()
    assert out == '[]'
