"""The machinery shared by every option table.

An ``Option`` declares, once: the blueprint key (and the docker SDK keyword it
feeds, ``keyword``), the check that validates and normalises it, the section of
the engine call it goes into, where it is read back in inspect data (``read``)
and what the engine stores there for the validated value (``stored``: the
desired side of drift, worked out from the value itself, never from the SDK's
rendering of the create call), how the two compare (``compare``, with ``canon``
to bring both sides to one form), whether and how the engine changes it in
place (``update``), the range of Engine APIs that honour it (``min_api``,
``max_api``), whether its value is secret (``secret``) or only shown by name in
reports (``show_values``), how a report shows the engine's value in the units the
blueprint wrote it in (``units``: sizes, durations, CPUs), and one line of
documentation. Validation, the create call, drift and update are loops over these
tables.
"""

from __future__ import annotations

import enum
from typing import Any, Callable, Iterable, Iterator, Mapping

from docker_plugin import records
from docker_plugin.errors import InvalidInputError
from docker_plugin.options.checks import AnyOf, Check, ListOf, MapOf, Record, kind
from docker_plugin.options.units import Units


class Compare(enum.Enum):
    STRICT = 'strict'      # equal (after canon on both sides)
    SUPERSET = 'superset'  # the engine may add items or keys: every declared one must be there
    SET = 'set'            # lists whose order does not matter
    IGNORE = 'ignore'      # never compared (the option's doc says why)


class Update(enum.Enum):
    RECREATE = 'recreate'              # only a new object can have the new value
    UPDATE_CALL = 'update_container'   # the engine's update call changes it in place
    RENAME = 'rename'                  # the engine's rename call
    PAUSE = 'pause'                    # pause or unpause
    RECONNECT = 'reconnect'            # disconnect and connect again
    SERVICE = 'update_service'         # a service update (a rolling update of its tasks)
    SWARM = 'update_swarm'             # the swarm's settings, changed in place
    NEW_VERSION = 'new_version'        # an immutable object: a new one, users moved to it


@records.record(frozen=True)
class Option:
    name: str
    check: Check
    section: str
    read: str | None = None
    compare: Compare = Compare.STRICT
    canon: Callable[[Any], Any] | None = None
    update: Update = Update.RECREATE
    min_api: tuple[int, int] | None = None
    max_api: tuple[int, int] | None = None
    secret: bool = False
    show_values: bool = True
    default: Any = None
    required: bool = False
    doc: str = ''
    stored: Callable[[Any], Any] | None = None
    keyword: str | None = ''
    image_default: str | None = None
    units: Units | None = None

    @property
    def updatable(self) -> bool:
        return self.update is not Update.RECREATE

    @property
    def sdk_keyword(self) -> str | None:
        """The SDK keyword the value is given as ('' declares: the option's own name;
        None: not a keyword of the SDK's config call)."""
        return self.name if self.keyword == '' else self.keyword

    def engine_value(self, value: Any) -> Any:
        """The validated value as the engine stores it at ``read``."""
        return value if self.stored is None else self.stored(value)

    @property
    def collection(self) -> bool:
        """The value is a list or a dictionary (so 'more present' means something)."""
        return bool({list, tuple, dict} & set(self.check.types))

    def compared_as(self, mode: str | None) -> Compare:
        """The rule for a ``comparisons`` mode (None: the option's own rule).

        ``strict`` keeps order where the option's order matters and ignores it
        where it does not (a set, an environment); ``allow_more_present`` lets the
        engine hold more items or keys than declared.
        """
        if mode is None:
            return self.compare
        if mode == 'ignore':
            return Compare.IGNORE
        if mode == 'allow_more_present':
            return Compare.SUPERSET
        return Compare.SET if self.compare in (Compare.SET, Compare.SUPERSET) else Compare.STRICT


def api_tuple(version: str) -> tuple[int, int]:
    major, _, minor = str(version).partition('.')
    try:
        return int(major), int(minor.split('.')[0] or 0)
    except ValueError:
        return (0, 0)


class OptionTable:
    """A named set of options: validation, splitting by section, secrets, API checks."""

    def __init__(self, name: str, options: Iterable[Option],
                 aliases: Mapping[str, str] | None = None,
                 exclusive: Iterable[tuple[str, ...]] = ()):
        self.name = name
        self.aliases = dict(aliases or {})
        self.options: dict[str, Option] = {}
        for option in options:
            if option.name in self.options:
                raise ValueError(f'{name}: option {option.name} declared twice')
            self.options[option.name] = option
        # Options that say one thing two ways (cpus and nano_cpus): give one.
        self.exclusive = [tuple(group) for group in exclusive]
        for group in self.exclusive:
            unknown = set(group) - set(self.options)
            if unknown:
                raise ValueError(f'{name}: exclusive names unknown options {sorted(unknown)}')

    def __contains__(self, key: object) -> bool:
        return key in self.options

    def __iter__(self) -> Iterator[Option]:
        return iter(self.options.values())

    def names(self, section: str | None = None) -> list[str]:
        return [o.name for o in self if section in (None, o.section)]

    def validate(self, raw: Any, field: str, sections: Iterable[str] | None = None,
                 extra: Iterable[str] = (), complete: bool = True) -> dict[str, dict[str, Any]]:
        """Check a user dict and split it by section.

        Args:
            raw: the blueprint's dict (``None`` means empty).
            field: the input's name, leading every error's path ('' for
                top-level operation inputs).
            sections: sections allowed in this input (all when ``None``).
            extra: keys the caller handles itself; returned under ``'extra'``.
            complete: ``raw`` is the whole input, so what is required must be in it
                (False: a part of it, checked key by key: ``problems``).

        Returns:
            ``{section: {name: normalised value}}`` with an ``'extra'`` entry.

        Raises:
            InvalidInputError: an unknown key, or a value the option's check refuses.
        """
        if raw is None:
            raw = {}
        if not isinstance(raw, Mapping):
            raise InvalidInputError(field or self.name, f'expected a dictionary, got {kind(raw)}')
        allowed = None if sections is None else set(sections)
        extra = set(extra)
        out: dict[str, dict[str, Any]] = {'extra': {}}
        for key, value in raw.items():
            path = f'{field}.{key}' if field else str(key)
            if key in extra:
                out['extra'][key] = value
                continue
            option = self.options.get(self.aliases.get(key, key)) if isinstance(key, str) \
                else None
            if option is None or (allowed is not None and option.section not in allowed):
                raise InvalidInputError(path, self._unknown(key, option, allowed, extra))
            if value is None:
                continue
            out.setdefault(option.section, {})[option.name] = option.check(value, path)
        given = {name for section, found in out.items() if section != 'extra' for name in found}
        for group in self.exclusive:
            both = [name for name in group if name in given]
            if len(both) > 1:
                path = f'{field}.{both[1]}' if field else both[1]
                raise InvalidInputError(path, f'give {" or ".join(both)}, not both: they set '
                                              'the same thing')
        for option in self if complete else ():
            if option.required and (allowed is None or option.section in allowed) and \
                    out.get(option.section, {}).get(option.name) in (None, '', [], {}):
                path = f'{field}.{option.name}' if field else option.name
                raise InvalidInputError(path, f'required: {option.doc or option.check.expected}')
        return out

    def problems(self, raw: Any, field: str, sections: Iterable[str] | None = None,
                 extra: Iterable[str] = ()) -> list[InvalidInputError]:
        """Every mistake in a user dict (``validate`` stops at the first): each key on its
        own, then, when each is right, the whole (what spans keys: options given twice,
        required ones)."""
        if not isinstance(raw, Mapping):
            raw = {} if raw is None else raw
        if not isinstance(raw, Mapping):
            return _caught(lambda: self.validate(raw, field, sections, extra))
        sections = None if sections is None else tuple(sections)
        found: list[InvalidInputError] = []
        for key, value in raw.items():
            def one(key: Any = key, value: Any = value) -> Any:
                return self.validate({key: value}, field, sections, extra, complete=False)
            found += _caught(one)
        return found or _caught(lambda: self.validate(raw, field, sections, extra))

    def parse(self, raw: Any, field: str = '', extra: Iterable[str] = ()) -> dict[str, Any]:
        """Validate a flat dict; every option present, defaults filled in."""
        parts = self.validate(raw, field, extra=extra)
        values = {o.name: o.default for o in self}
        for section, found in parts.items():
            if section != 'extra':
                values.update(found)
        return values

    def _unknown(self, key: Any, option: Option | None, allowed: set[str] | None,
                 extra: set[str]) -> str:
        if option is not None:
            return f'not accepted here (it belongs in the {option.section} options)'
        known = sorted(extra | {o.name for o in self if allowed is None or o.section in allowed})
        import difflib  # only when a key is wrong
        hint = difflib.get_close_matches(str(key), known, n=1)
        if hint:
            return f'unknown option (did you mean {hint[0]!r}?)'
        listed = ', '.join(known) if len(known) <= 12 else ', '.join(known[:12]) + ', ...'
        return f'unknown option; known: {listed}'

    def comparable(self) -> list[str]:
        """Options drift compares (those with a place in inspect data and a rule)."""
        return [o.name for o in self if o.read and o.compare is not Compare.IGNORE]

    def rules(self, comparisons: Mapping[str, str] | None,
              declared: Iterable[str]) -> dict[str, Compare]:
        """The comparison rule of every declared option, after a blueprint's
        ``comparisons`` (validated by ``comparisons_check``): ``'*'`` first, then
        each option named."""
        comparisons = dict(comparisons or {})
        wildcard = comparisons.pop('*', None)
        comparable = set(self.comparable())
        out = {}
        for name in declared:
            option = self.options.get(name)
            if option is None or name not in comparable:
                continue
            out[name] = option.compared_as(comparisons.get(name, wildcard))
        return out

    def written(self, *raws: Any) -> dict[str, Any]:
        """What the blueprint wrote for each option that has ``units`` (a later dict
        wins), by option name: reports show the engine's values in those units. Never
        a secret option's (none has units)."""
        out: dict[str, Any] = {}
        for raw in raws:
            for key, value in (raw.items() if isinstance(raw, Mapping) else ()):
                option = self.options.get(self.aliases.get(key, key)) \
                    if isinstance(key, str) else None
                if option is not None and option.units is not None and not option.secret \
                        and value is not None:
                    out[option.name] = value
        return out

    def secret_values(self, raw: Any) -> list[str]:
        """Every secret string in a user dict, found by the table (never raises)."""
        found: list[str] = []
        if not isinstance(raw, Mapping):
            return found
        for key, value in raw.items():
            option = self.options.get(self.aliases.get(key, key)) if isinstance(key, str) \
                else None
            if option is not None:
                found += option_secrets(option, value)
        return found

    def check_api(self, values: Mapping[str, Any], api_version: str, field: str) -> None:
        """Refuse options this engine would silently ignore."""
        have = api_tuple(api_version)
        for name in values:
            option = self.options.get(name)
            if option is None:
                continue
            where = f'{field}.{name}' if field else name
            if option.min_api and have < option.min_api:
                need = '.'.join(map(str, option.min_api))
                raise InvalidInputError(where, f'needs Docker API {need} or newer; this engine '
                                               f'speaks {api_version}')
            if option.max_api and have > option.max_api:
                last = '.'.join(map(str, option.max_api))
                raise InvalidInputError(where, f'engines after Docker API {last} no longer take '
                                               f'it; this one speaks {api_version}')


def _caught(check: Callable[[], Any]) -> list[InvalidInputError]:
    try:
        check()
    except InvalidInputError as exc:
        return [exc]
    return []


def option_secrets(option: Option, value: Any) -> list[str]:
    """The secret strings of one option's value."""
    found: list[str] = []
    if option.secret:
        _strings(value, found)
    else:
        check_secrets(option.check, value, found)
    return found


def check_secrets(check: Check, value: Any, found: list[str]) -> None:
    """Walk a value along its check, collecting the fields a Record marks secret."""
    if isinstance(check, Record) and isinstance(value, Mapping):
        for key, item in value.items():
            name = check.aliases.get(key, key)
            if name in check.secret:
                _strings(item, found)
            elif name in check.fields:
                check_secrets(check.fields[name], item, found)
    elif isinstance(check, ListOf) and isinstance(value, (list, tuple)):
        for item in value:
            check_secrets(check.item, item, found)
    elif isinstance(check, MapOf) and isinstance(value, Mapping):
        for item in value.values():
            check_secrets(check.value, item, found)
    elif isinstance(check, AnyOf):
        for alternative in check.alternatives:
            check_secrets(alternative, value, found)


def _strings(value: Any, found: list[str]) -> None:
    if isinstance(value, str):
        found.append(value)
    elif isinstance(value, Mapping):
        for item in value.values():
            _strings(item, found)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _strings(item, found)
