"""The secrets of a compose file: found before anything is mapped, each one named once.

``collect`` walks the normalised project (every service, network, volume,
secret, config and ``x-`` block) for what ``secret_spans`` calls a secret:
secret-named keys, URL passwords, secret flags and assignments in command
lines. A secret variable (``${DB_PASSWORD}``) is one secret under its own
name; a literal given under that name with the same value (an ``env_file``
beside the ``.env`` that interpolates the file) is the same secret. Equal
literal values are one secret, named after the most telling place where they
appear (a secret-named environment key, ``<service>_<KEY>``), so that values
the file keeps equal (a database's password and its client's) stay equal.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from docker_plugin import records
from docker_plugin.importer import secret_spans as spans


def as_dict(environment: Any) -> dict[str, Any]:
    """Compose's environment in either form (a list of NAME=value, or a dictionary)."""
    if isinstance(environment, Mapping):
        return dict(environment)
    out: dict[str, Any] = {}
    for item in environment or []:
        name, sep, value = str(item).partition('=')
        out[name] = value if sep else None
    return out


VARIABLE = re.compile(r'\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])[^}]*)?\}|\$([A-Za-z_]\w*)')


def variable_of(raw: Any) -> str | None:
    """The variable a raw value is made of, when it is exactly one (else None)."""
    if not isinstance(raw, str):
        return None
    match = VARIABLE.fullmatch(raw.strip())
    return (match.group(1) or match.group(3)) if match else None


@records.record
class Secret:
    value: str
    places: list[str] = records.field(default_factory=list)
    name: str = ''
    rank: int = 9  # how telling its best place is: 1 a secret-named environment key
    hint: str = ''
    variable: bool = False


class FileSecrets:
    """Every secret of one compose file, by value (literals) and by variable."""

    def __init__(self) -> None:
        self.literals: dict[str, Secret] = {}  # value -> secret
        self.variables: dict[str, Secret] = {}  # variable -> secret
        self.taken: set[str] = set()  # input names in use (secrets and other inputs)

    def lookup(self, value: str, hint: str) -> Secret:
        """The secret of a value (a literal first, then a variable's); a new one if unseen."""
        known = self.literals.get(value) or next(
            (s for s in self.variables.values() if s.value == value), None)
        if known is None:
            known = self.literals[value] = Secret(value, [hint], self.unique(hint), 3, hint)
        return known

    def values(self) -> list[str]:
        """Every secret value (literals, then variables')."""
        return [*self.literals, *(s.value for s in self.variables.values())]

    def unique(self, hint: str) -> str:
        """An input name from a hint, unused so far."""
        name = re.sub(r'[^A-Za-z0-9_-]+', '_', hint).strip('_') or 'secret'
        taken = self.taken | set(self.variables) | {s.name for s in self.literals.values()}
        while name in taken:
            name += '_'
        return name

    def collect(self, model: Mapping[str, Any], raw: Mapping[str, Any]) -> None:
        """Find every secret in the file, then name each (before anything is mapped)."""
        raw_services = raw.get('services') or {}
        for name, service in sorted((model.get('services') or {}).items()):
            raw_env = as_dict((raw_services.get(name) or {}).get('environment'))
            for key, value in sorted(as_dict(service.get('environment')).items()):
                self._entry(f'services.{name}.environment.{key}', key, value,
                            variable_of(raw_env.get(key)), f'{name}_{key}')
            rest = {k: v for k, v in service.items() if k != 'environment'}
            self._walk(rest, f'services.{name}', name, name)
        for kind in sorted(k for k in model if k != 'services'):
            items = model[kind]
            if isinstance(items, Mapping) and not kind.startswith('x-'):
                for key, item in sorted(items.items()):  # networks, volumes, secrets...
                    self._walk(item, f'{kind}.{key}', key, key)
            else:
                self._walk(items, kind, kind, kind)
        for value, secret in list(self.literals.items()):
            named = next((v for v in self.variables.values() if v.value == value and any(
                p.rsplit('.', 1)[-1] == v.name for p in secret.places)), None)
            if named is not None:  # the variable's own value, given again by name
                named.places += secret.places
                del self.literals[value]
        for secret in sorted(self.literals.values(), key=lambda s: (s.rank, s.places[0])):
            secret.name = self.unique(secret.hint)

    def _entry(self, place: str, key: str, value: Any, variable: str | None,
               hint: str) -> None:
        if value is None:
            return
        text = str(value)
        if (spans.secret_name(key) or (variable and spans.secret_name(variable))) and \
                not spans.not_secret(text, key):
            self._add(text, place, hint, 1, variable)
            return
        found = spans.named_in_text(text)
        for start, end, name in found:
            self._add(text[start:end], place, f'{hint}_{name or "password"}', 3, None)
        if found and variable:  # a variable that holds a secret is one as a whole
            self._add(text, place, hint, 1, variable)

    def _walk(self, value: Any, place: str, hint: str, owner: str, key: str | None = None,
              command: bool = False) -> None:
        """``hint``: a name from the path; ``owner``: the service or object it is in."""
        if isinstance(value, Mapping):
            for k, item in value.items():
                shell = k in ('command', 'entrypoint') or (k == 'test' and
                                                           place.endswith('healthcheck'))
                self._walk(item, f'{place}.{k}', f'{hint}_{k}', owner, str(k), shell)
        elif isinstance(value, list):
            found = dict(spans.in_command(value)) if command else {}
            for index, item in enumerate(value):
                for start, end, name in found.get(index, []):
                    self._add(item[start:end], f'{place}[{index}]',
                              f'{owner}_{name}' if name else f'{hint}_password', 3, None)
                if index not in found:
                    self._walk(item, f'{place}[{index}]', hint, owner)
        elif isinstance(value, str):
            whole = key is not None and (spans.secret_name(key) or (
                place.endswith('.content') and place.startswith('secrets.')))
            if whole and not spans.not_secret(value, key or ''):
                self._add(value, place, hint, 2, None)
                return
            for start, end, name in spans.named_in_text(value, command):
                self._add(value[start:end], place,
                          f'{owner}_{name}' if name else f'{hint}_password', 3, None)

    def _add(self, value: str, place: str, hint: str, rank: int,
             variable: str | None) -> None:
        if variable:
            secret = self.variables.setdefault(variable, Secret(value, name=variable,
                                                                variable=True))
        else:
            secret = self.literals.setdefault(value, Secret(value))
            if rank < secret.rank:
                secret.rank, secret.hint = rank, hint
        secret.places.append(place)
