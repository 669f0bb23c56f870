"""A service's environment as blueprint inputs, plain values and secrets.

A value that was exactly one compose variable (``${DB_PASSWORD}``,
``${APP_GREETING:-hello}``) becomes a blueprint input of that name, with the
value compose resolved as its default. A value that looks secret (by its
variable's or its own name: password, secret, token, key, credential) is
never written into the blueprint: it goes to ``secret_environment`` from an
input without a default (or ``get_secret``), so it is masked everywhere.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

SECRET_NAME = re.compile(r'pass(word|wd)?|secret|token|api_?key|private|credential|auth',
                         re.IGNORECASE)
VARIABLE = re.compile(r'\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])[^}]*)?\}|\$([A-Za-z_]\w*)')


def as_dict(environment: Any) -> dict[str, Any]:
    """Compose's environment in either form (a list of NAME=value, or a dictionary)."""
    if isinstance(environment, Mapping):
        return dict(environment)
    out: dict[str, Any] = {}
    for item in environment or []:
        name, sep, value = str(item).partition('=')
        out[name] = value if sep else None
    return out


def variable_of(raw: Any) -> str | None:
    """The variable a raw value is made of, when it is exactly one (else None)."""
    if not isinstance(raw, str):
        return None
    match = VARIABLE.fullmatch(raw.strip())
    return (match.group(1) or match.group(3)) if match else None


class Inputs:
    """The blueprint's inputs, shared by every service."""

    def __init__(self, secrets_mode: str = 'inputs'):
        self.secrets_mode = secrets_mode
        self.inputs: dict[str, dict[str, Any]] = {}
        self.secret_values: dict[str, str] = {}  # name -> value seen (never written)

    def add(self, name: str, default: Any = None, description: str = '',
            secret: bool = False) -> dict[str, Any]:
        """``{get_input: name}`` (``get_secret`` for a secret in get_secret mode)."""
        if secret and self.secrets_mode == 'get_secret':
            return {'get_secret': name.lower()}
        entry = self.inputs.setdefault(name, {'type': 'string'})
        if description and 'description' not in entry:
            entry['description'] = description
        if not secret and default is not None and 'default' not in entry:
            entry['default'] = str(default)
        return {'get_input': name}

    def environment(self, service: str, resolved: Mapping[str, Any],
                    raw: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """(environment, secret_environment) of one service's container_config."""
        plain: dict[str, Any] = {}
        secret: dict[str, Any] = {}
        for name, value in resolved.items():
            if value is None:
                continue  # compose passes nothing for an unset variable
            variable = variable_of(raw.get(name))
            looks_secret = bool(SECRET_NAME.search(name) or
                                (variable and SECRET_NAME.search(variable)))
            if looks_secret:
                input_name = variable or f'{service}_{name}'
                self.secret_values[input_name] = str(value)
                origin = f'${{{variable}}}' if variable else f'a literal in service {service}'
                secret[name] = self.add(input_name, description=(
                    f'secret ({origin} in the compose file): not written here; give it as an '
                    'input or from get_secret'), secret=True)
            elif variable:
                plain[name] = self.add(variable, value, f'compose variable ${{{variable}}}')
            else:
                plain[name] = str(value)
        return plain, secret
