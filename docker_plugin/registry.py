"""Registry credentials: validated, kept secret, turned into the engine's auth_config.

An ``auth`` dict names one registry's credentials: ``username`` and
``password``, or an ``identity_token``; ``registry`` (the server address) is
taken from the image reference when not given. Values usually come from
Cloudify secrets (``{get_secret: registry_password}``); they are remembered as
secrets at once, so no message the operation writes can contain them.
"""

from __future__ import annotations

from typing import Any, Mapping

from docker_plugin import secrets
from docker_plugin.errors import InvalidInputError

_KEYS = {'username', 'password', 'identity_token', 'registry', 'email'}
_ALIASES = {'identitytoken': 'identity_token', 'serveraddress': 'registry',
            'server_address': 'registry'}
DEFAULT_REGISTRY = 'docker.io'


def registry_of(reference: str) -> str:
    """The registry host of an image reference (``docker.io`` when none is named)."""
    first, sep, _ = reference.partition('/')
    if sep and ('.' in first or ':' in first or first == 'localhost'):
        return first
    return DEFAULT_REGISTRY


def auth_config(raw: Mapping[str, Any] | None, field: str,
                reference: str) -> dict[str, str] | None:
    """The engine's auth_config for ``reference``, or None for anonymous access.

    Raises:
        InvalidInputError: unknown keys, a username without a password, ...
            (never quoting a value).
    """
    if not raw:
        return None
    if not isinstance(raw, Mapping):
        raise InvalidInputError(field, 'expected a dictionary of username, password, '
                                       'identity_token, registry')
    values: dict[str, str] = {}
    for key, value in raw.items():
        name = _ALIASES.get(key, key)
        if name not in _KEYS:
            raise InvalidInputError(f'{field}.{key}', 'unknown key; use username, password, '
                                                      'identity_token, registry')
        if value in (None, ''):
            continue
        if not isinstance(value, str):
            raise InvalidInputError(f'{field}.{key}', 'expected a string')
        values[name] = value
    secrets.remember(values.get('password'), values.get('identity_token'))
    if 'identity_token' in values:
        config = {'identitytoken': values['identity_token']}
    elif 'username' in values and 'password' in values:
        config = {'username': values['username'], 'password': values['password']}
    elif values.keys() - {'registry'}:
        raise InvalidInputError(field, 'give username and password, or identity_token')
    else:
        return None
    config['serveraddress'] = values.get('registry') or registry_of(reference)
    return config
