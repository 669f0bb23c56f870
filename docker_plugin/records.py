"""Records: the plugin's value classes (configs, specs, plans, results), declared as
dataclasses are, made without generating code.

A record is declared exactly like a dataclass: annotated fields in order, a default
after the name or ``field(default=, default_factory=, repr=, compare=)``. The
decorator reads them into a field table and gives the class shared methods that read
that table: ``__init__`` (positional or keyword, defaults, factories), ``__repr__``
(without the fields marked ``repr=False``: secrets), ``__eq__`` and, when frozen,
``__hash__``, ``__setattr__`` and ``__delattr__`` that refuse; ``order=True`` adds the
comparisons. ``fields``, ``replace`` and ``asdict`` are the module's own.

Why not ``dataclasses``: it compiles every class's ``__init__``, ``__repr__``,
``__eq__``, ``__hash__``, ``__setattr__`` and ``__delattr__`` with ``exec`` as the class
is made (about 0.45 ms a class on 2 cores), and importing it brings ``inspect``,
``ast`` and ``dis`` (3.4 ms). On a manager every operation is a fresh process
(issue 20): the two were 14 of the plugin's 26 ms of import. A record class costs tens
of microseconds to make; an instance costs under a microsecond more to build than a
dataclass's (0.9 against 0.5 for four fields), which no operation notices. Type
checkers see records as dataclasses (PEP 681's ``dataclass_transform``).
"""

from __future__ import annotations

import copy
import operator
import sys
from typing import TYPE_CHECKING, Any, Callable, Dict, Tuple, TypeVar, overload

if TYPE_CHECKING:
    from typing import dataclass_transform  # Python 3.11: type checkers only
else:
    def dataclass_transform(**_kwargs: Any) -> Callable[[Any], Any]:
        return lambda decorator: decorator

__all__ = ['MISSING', 'Field', 'FrozenRecordError', 'asdict', 'field', 'fields', 'record',
           'replace']

C = TypeVar('C', bound=type)
R = TypeVar('R')


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return 'MISSING'


MISSING: Any = _Missing()  # no default given


class FrozenRecordError(AttributeError):
    """An assignment to a frozen record (an ``AttributeError``, as a dataclass's is)."""


class Field:
    """One field of a record: its name, default or default factory, whether ``repr``
    shows it and whether equality (and order, and the hash) compares it."""

    __slots__ = ('compare', 'default', 'default_factory', 'name', 'repr')

    def __init__(self, default: Any = MISSING, default_factory: Any = MISSING,
                 repr: bool = True, compare: bool = True) -> None:
        if default is not MISSING and default_factory is not MISSING:
            raise ValueError('cannot give both default and default_factory')
        self.name = ''
        self.default = default
        self.default_factory = default_factory
        self.repr = repr
        self.compare = compare

    def __repr__(self) -> str:
        return f'Field(name={self.name!r})'


def field(*, default: Any = MISSING, default_factory: Callable[[], Any] = MISSING,
          repr: bool = True, compare: bool = True) -> Any:
    """A field's default, default factory (for a mutable default), ``repr`` and
    ``compare``, as ``dataclasses.field`` takes them."""
    return Field(default, default_factory, repr, compare)


class _Table:
    """A record class's fields, in order, their names and the names compared."""

    __slots__ = ('compared', 'fields', 'names')

    def __init__(self, fields: Tuple[Field, ...]):
        self.fields = fields
        self.names = tuple(f.name for f in fields)
        self.compared = tuple(f.name for f in fields if f.compare)


def _is_classvar(annotation: Any) -> bool:
    text = annotation if isinstance(annotation, str) else repr(annotation)
    return text.startswith(('ClassVar', 'typing.ClassVar', 't.ClassVar'))


def _own_annotations(cls: type) -> Dict[str, Any]:
    own = cls.__dict__.get('__annotations__')  # noqa: RUF063 - 3.9 and 3.10 keep them here
    if own is None and sys.version_info >= (3, 10):
        own = cls.__annotations__  # made on request (3.14); a class's own, never a base's
    return dict(own or {})


def _table(cls: type) -> _Table:
    found: Dict[str, Field] = {}
    for base in reversed(cls.__mro__[1:]):
        table = base.__dict__.get('__record__')
        if isinstance(table, _Table):
            found.update((f.name, f) for f in table.fields)
    for name, annotation in _own_annotations(cls).items():
        if _is_classvar(annotation):
            continue
        value = cls.__dict__.get(name, MISSING)
        made = value if isinstance(value, Field) else Field(default=value)
        made.name = name
        if made.default is not MISSING and type(made.default).__hash__ is None:
            raise ValueError(f'{cls.__name__}.{name}: a mutable default '
                             f'({type(made.default).__name__}); use default_factory')
        if made.default is MISSING:
            if isinstance(value, Field):
                delattr(cls, name)
        else:
            setattr(cls, name, made.default)
        found[name] = made  # a redeclared field keeps its base's place, as in dataclasses
    seen_default = ''
    for made in found.values():
        if made.default is MISSING and made.default_factory is MISSING:
            if seen_default:
                raise TypeError(f'{cls.__name__}: non-default field {made.name!r} follows '
                                f'default field {seen_default!r}')
        else:
            seen_default = made.name
    return _Table(tuple(found.values()))


def _init(self: Any, *args: Any, **kwargs: Any) -> None:
    table: _Table = type(self).__record__
    if len(args) > len(table.names):
        raise TypeError(f'{type(self).__name__}() takes {len(table.names)} positional '
                        f'arguments but {len(args)} were given')
    setter = object.__setattr__
    for name, value in zip(table.names, args):
        setter(self, name, value)
    for made in table.fields[len(args):]:
        name = made.name
        if name in kwargs:
            value = kwargs.pop(name)
        elif made.default is not MISSING:
            value = made.default
        elif made.default_factory is not MISSING:
            value = made.default_factory()
        else:
            raise TypeError(f'{type(self).__name__}() missing required argument: {name!r}')
        setter(self, name, value)
    if kwargs:
        name = next(iter(kwargs))
        if name in table.names:
            raise TypeError(f'{type(self).__name__}() got multiple values for argument '
                            f'{name!r}')
        raise TypeError(f'{type(self).__name__}() got an unexpected keyword argument '
                        f'{name!r}')


def _values(self: Any) -> Tuple[Any, ...]:
    return tuple(getattr(self, name) for name in type(self).__record__.compared)


def _repr(self: Any) -> str:
    shown = ', '.join(f'{f.name}={getattr(self, f.name)!r}'
                      for f in type(self).__record__.fields if f.repr)
    return f'{type(self).__qualname__}({shown})'


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return _values(self) == _values(other)


def _hash(self: Any) -> int:
    return hash(_values(self))


def _compare(test: Callable[[Tuple[Any, ...], Tuple[Any, ...]], bool]) -> Callable[..., Any]:
    def compare(self: Any, other: Any) -> Any:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return test(_values(self), _values(other))
    return compare


def _refuse_set(self: Any, name: str, value: Any) -> None:
    raise FrozenRecordError(f'cannot assign to field {name!r}')


def _refuse_delete(self: Any, name: str) -> None:
    raise FrozenRecordError(f'cannot delete field {name!r}')


def _make(cls: C, frozen: bool, eq: bool, order: bool) -> C:
    table = _table(cls)
    own = cls.__dict__
    methods: Dict[str, Any] = {'__record__': table, '__init__': _init, '__repr__': _repr,
                               '__match_args__': table.names}
    if eq:
        methods['__eq__'] = _eq
        methods['__hash__'] = _hash if frozen else None
    if order:
        if not eq:
            raise ValueError('order=True needs eq=True')
        methods.update(__lt__=_compare(operator.lt), __le__=_compare(operator.le),
                       __gt__=_compare(operator.gt), __ge__=_compare(operator.ge))
    if frozen:
        methods.update(__setattr__=_refuse_set, __delattr__=_refuse_delete)
    for name, method in methods.items():
        if name in own and name not in ('__record__', '__hash__'):
            raise TypeError(f'{cls.__name__} defines {name}, which a record makes')
        setattr(cls, name, method)
    return cls


@overload
def record(cls: C, /) -> C: ...


@overload
def record(*, frozen: bool = False, eq: bool = True, order: bool = False
           ) -> Callable[[C], C]: ...


@dataclass_transform(field_specifiers=(field,))
def record(cls: Any = None, /, *, frozen: bool = False, eq: bool = True,
           order: bool = False) -> Any:
    """Make ``cls`` a record: ``@record`` or ``@record(frozen=True, eq=..., order=...)``,
    as ``dataclasses.dataclass`` takes them."""
    if cls is None:
        return lambda made: _make(made, frozen, eq, order)
    return _make(cls, frozen, eq, order)


def _table_of(value: Any) -> _Table:
    table = getattr(value, '__record__', None)
    if not isinstance(table, _Table):
        raise TypeError(f'not a record: {type(value).__name__}')
    return table


def fields(value: Any) -> Tuple[Field, ...]:
    """A record's (or a record class's) fields, in order."""
    return _table_of(value).fields


def replace(value: R, **changes: Any) -> R:
    """A copy of the record ``value`` with ``changes`` made (it may be frozen)."""
    table = _table_of(value)
    unknown = next((name for name in changes if name not in table.names), None)
    if unknown is not None:
        raise TypeError(f'{type(value).__name__} has no field {unknown!r}')
    kept = {name: getattr(value, name) for name in table.names if name not in changes}
    return type(value)(**kept, **changes)


def asdict(value: Any) -> Dict[str, Any]:
    """The record's fields as a dict, a deep copy (records inside become dicts too)."""
    return {name: _plain(getattr(value, name)) for name in _table_of(value).names}


def _plain(value: Any) -> Any:
    if isinstance(getattr(value, '__record__', None), _Table):
        return asdict(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(item) for item in value)
    if isinstance(value, dict):
        return {_plain(key): _plain(item) for key, item in value.items()}
    return copy.deepcopy(value)
