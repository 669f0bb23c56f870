"""The machinery shared by every option table."""

from __future__ import annotations

import dataclasses
import difflib
from typing import Any, Callable, Iterable, Mapping

from docker_plugin.errors import InvalidInputError

# Names for the accepted Python types, as a user reads them in an error.
TYPE_NAMES = {
    str: 'a string', int: 'an integer', float: 'a number', bool: 'true or false',
    list: 'a list', dict: 'a dictionary',
}


@dataclasses.dataclass(frozen=True)
class Option:
    """One user-settable option.

    Attributes:
        name: the key in the blueprint dict (the docker SDK's keyword name).
        types: accepted Python types after YAML parsing.
        section: where the value goes, e.g. ``create`` (the create call) or
            ``host`` (the HostConfig); tables define their own sections.
        updatable: the engine can change it on a live object.
        normalise: turns a YAML value into what the SDK expects.
        secret: the value must never be logged or stored.
        doc: one line for plugin.yaml and the README.
    """

    name: str
    types: tuple[type, ...]
    section: str
    updatable: bool = False
    normalise: Callable[[Any, str], Any] | None = None
    secret: bool = False
    doc: str = ''


class OptionTable:
    """A named set of options with validation and splitting by section."""

    def __init__(self, name: str, options: Iterable[Option]):
        self.name = name
        self.options: dict[str, Option] = {}
        for option in options:
            if option.name in self.options:
                raise ValueError(f'{name}: option {option.name} declared twice')
            self.options[option.name] = option

    def __contains__(self, key: str) -> bool:
        return key in self.options

    def names(self, section: str | None = None) -> list[str]:
        return [o.name for o in self.options.values() if section in (None, o.section)]

    def validate(self, raw: Mapping[str, Any] | None, field: str,
                 sections: Iterable[str] | None = None,
                 extra: Iterable[str] = ()) -> dict[str, dict[str, Any]]:
        """Check a user dict and split it by section.

        Args:
            raw: the blueprint's dict (``None`` means empty).
            field: the input's name, used in error messages.
            sections: sections allowed in this input (all when ``None``).
            extra: keys the caller handles itself; returned under ``'extra'``.

        Returns:
            ``{section: {name: normalised value}}`` with an ``'extra'`` entry.

        Raises:
            InvalidInputError: an unknown key or a value of the wrong type.
        """
        if raw is None:
            raw = {}
        if not isinstance(raw, Mapping):
            raise InvalidInputError(field, f'expected a dictionary, got {type(raw).__name__}')
        allowed = None if sections is None else set(sections)
        extra = set(extra)
        out: dict[str, dict[str, Any]] = {'extra': {}}
        for key, value in raw.items():
            path = f'{field}.{key}'
            if key in extra:
                out['extra'][key] = value
                continue
            option = self.options.get(key)
            if option is None or (allowed is not None and option.section not in allowed):
                known = sorted(extra | {o.name for o in self.options.values()
                                        if allowed is None or o.section in allowed})
                hint = difflib.get_close_matches(str(key), known, n=1)
                why = f'unknown option (did you mean {hint[0]!r}?)' if hint else 'unknown option'
                if option is not None:
                    why = f'not accepted here (it belongs in the {option.section} options)'
                raise InvalidInputError(path, why)
            if value is None:
                continue
            out.setdefault(option.section, {})[key] = check_value(option, value, path)
        return out


def check_value(option: Option, value: Any, path: str) -> Any:
    """Type-check and normalise one value."""
    if isinstance(value, bool) and bool not in option.types:
        raise InvalidInputError(path, f'expected {_describe(option.types)}, got a boolean')
    if not isinstance(value, option.types):
        raise InvalidInputError(
            path, f'expected {_describe(option.types)}, got {type(value).__name__}')
    if option.normalise is not None:
        value = option.normalise(value, path)
    return value


def _describe(types: tuple[type, ...]) -> str:
    names = [TYPE_NAMES.get(t, t.__name__) for t in types if t is not float or int not in types]
    return ' or '.join(dict.fromkeys(names))
