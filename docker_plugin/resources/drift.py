"""Drift: where a Docker object differs from what its blueprint declares.

One loop over an option table: for every option the blueprint set, the
desired value is what the table says the engine stores for it
(``desired_view``: each option's ``stored`` form at its ``read`` path, worked
out from the declared value alone, never from how a create call was
rendered) and the actual value is read from inspect data at the same path;
both are brought to one form by the option's ``canon`` and compared by its
rule (``compare``, or the blueprint's ``comparisons``). Options the blueprint
did not set are never compared, so defaults the engine fills in are not drift.

A difference is shown in the blueprint's words: an option with ``units`` (a
size, a duration, CPUs) shows the declared value as the blueprint wrote it and
the engine's in the same units (``declared '64m', found '128m'``).
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from docker_plugin import records, secrets
from docker_plugin.options.base import Compare, Option, OptionTable, Update
from docker_plugin.plans import Plan

MISSING = object()


@records.record(frozen=True)
class Difference:
    option: str        # the blueprint option (or 'image', 'networks.<name>')
    path: str          # where in inspect data
    desired: Any
    actual: Any
    update: Update     # how it can be brought back
    plan: Plan | None = None  # what update does with it (tasks.lifecycle.plan gives one)

    @property
    def updatable(self) -> bool:
        return self.update is not Update.RECREATE

    def as_dict(self) -> dict[str, Any]:
        # Data (Cloudify stores it as the instance's configuration drift): never masked;
        # secret options hold no values here in the first place (see _shown).
        found = {'option': self.option, 'path': self.path, 'desired': self.desired,
                 'actual': self.actual, 'updatable': self.updatable, 'fix': self.update.value}
        return {**found, **(self.plan.as_dict() if self.plan is not None else {})}

    def describe(self) -> str:
        said = (f'{self.option} ({self.path}): declared {_short(self.desired)}, found '
                f'{_short(self.actual)}')
        return f'{said}; {self.plan.sentence()}' if self.plan is not None else said


def _short(value: Any) -> str:
    text = secrets.redact(repr(value))
    return text if len(text) <= 300 else text[:300] + '...'


def desired_view(table: OptionTable, values: Mapping[str, Any]) -> dict[str, Any]:
    """What the engine stores for the declared values, shaped like inspect data."""
    view: dict[str, Any] = {}
    for name, value in values.items():
        option = table.options.get(name)
        if option is None or option.read is None or value is None:
            continue
        set_path(view, option.read, option.engine_value(value))
    return view


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split('.')
    for part in parents:
        data = data.setdefault(part, {})
    data[last] = value


def get_path(data: Any, path: str) -> Any:
    """The value at a dotted path (``HostConfig.Memory``), or MISSING."""
    for part in path.split('.'):
        if not isinstance(data, Mapping) or part not in data:
            return MISSING
        data = data[part]
    return data


def _empty(value: Any) -> bool:
    return value is MISSING or value in (None, '', [], {})


def contains(desired: Any, actual: Any) -> bool:
    """SUPERSET: everything declared is there (the engine may add more).

    A key declared with no value (None) is not compared; one declared with an
    empty value ({} in ExposedPorts, '' for a label) must be present.
    """
    if desired is MISSING or desired is None:
        return True
    if isinstance(desired, Mapping):
        return isinstance(actual, Mapping) and all(
            value is None or (key in actual and contains(value, actual[key]))
            for key, value in desired.items())
    if isinstance(desired, (list, tuple)):
        items = list(actual) if isinstance(actual, (list, tuple)) else []
        return all(any(contains(d, a) for a in items) for d in desired)
    return desired == actual


def matches(option: Option, desired: Any, actual: Any, rule: Compare | None = None) -> bool:
    """Whether the engine holds what is declared, by ``rule`` (default: the option's)."""
    rule = rule or option.compare
    if option.canon is not None:  # inspect data that leaves a field out holds null there
        desired = desired if desired is MISSING else option.canon(desired)
        actual = option.canon(None if actual is MISSING else actual)
    if _empty(desired) and _empty(actual):
        return True  # nothing declared, nothing there (the engine leaves out what is empty)
    if rule is Compare.SUPERSET:
        return contains(desired, actual)
    if desired is MISSING:
        return True  # nothing declared to compare with
    if rule is Compare.SET and isinstance(desired, list) and isinstance(actual, list):
        return sorted(map(repr, desired)) == sorted(map(repr, actual))
    return desired == actual


def _shown(option: Option, value: Any) -> Any:
    """What a report may show: names only where the values are not to be shown. A
    value that is false, zero or empty is shown as it is; None is "not there"."""
    if value is MISSING:
        return None
    if option.show_values or option.secret:
        return None if option.secret else value
    if isinstance(value, list):
        return sorted({str(item).split('=', 1)[0] for item in value})
    if isinstance(value, Mapping):
        return sorted(value)
    return '(not shown)'


def differences(table: OptionTable, declared: Iterable[str], view: Mapping[str, Any],
                info: Mapping[str, Any], prefix: str = '',
                rules: Mapping[str, Compare] | None = None,
                written: Mapping[str, Any] | None = None) -> list[Difference]:
    """Every declared option of ``table`` whose value ``info`` does not have.

    Args:
        table: the object's option table.
        declared: names of the options the blueprint set.
        view: the desired state, shaped like ``info`` (``desired_view``).
        info: the object's inspect data (or the part the paths start from).
        prefix: prepended to each reported path.
        rules: the rule of each option when not its own (``OptionTable.rules``:
            the blueprint's ``comparisons``).
        written: the values as the blueprint wrote them, of options with units
            (``OptionTable.written``): what a difference shows.
    """
    found = []
    rules = rules or {}
    written = written or {}
    for name in declared:
        option = table.options.get(name)
        rule = rules.get(name, option.compare if option is not None else None)
        if option is None or option.read is None or rule is Compare.IGNORE:
            continue
        desired, actual = get_path(view, option.read), get_path(info, option.read)
        if matches(option, desired, actual, rule):
            continue
        if option.units is not None and option.show_values and not option.secret:
            found.append(Difference(option.name, prefix + option.read,
                                    *_in_units(option, desired, actual, written),
                                    option.update))
            continue
        if option.canon is not None:
            desired = desired if desired is MISSING else option.canon(desired)
            actual = actual if actual is MISSING else option.canon(actual)
        if not option.show_values:
            desired, actual = _missing_names(option, desired, actual)
        found.append(Difference(option.name, prefix + option.read, _shown(option, desired),
                                _shown(option, actual), option.update))
    return found


def _in_units(option: Option, desired: Any, actual: Any,
              written: Mapping[str, Any]) -> tuple[Any, Any]:
    """(declared, found) in the blueprint's words: the declared value as it was written
    (or the engine's, in the units a person would choose), the engine's in those units."""
    assert option.units is not None  # only options with units come here
    given = written.get(option.name)
    shown_desired = given if given is not None else \
        None if desired is MISSING else option.units.show(desired)
    return shown_desired, None if actual is MISSING else option.units.show(actual, given)


def _missing_names(option: Option, desired: Any, actual: Any) -> tuple[Any, Any]:
    """For values shown by name: the declared items that are absent or differ."""
    if isinstance(desired, list):
        have = set(actual) if isinstance(actual, list) else set()
        return [d for d in desired if d not in have], actual
    return desired, actual
