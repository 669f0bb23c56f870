"""Registry credentials: validated, kept secret, turned into the engine's auth_config.

An ``auth`` dict (``options.image.AUTH``) names one registry's credentials:
``username`` and ``password``, or an ``identity_token``; ``registry`` (the
server address) is taken from the image reference when not given. Values
usually come from Cloudify secrets (``{get_secret: registry_password}``); the
operation wrapper remembers them as secrets before the operation runs.
"""

from __future__ import annotations

from typing import Any, Mapping

from docker_plugin.errors import InvalidInputError

DEFAULT_REGISTRY = 'docker.io'


def registry_of(reference: str) -> str:
    """The registry host of an image reference (``docker.io`` when none is named)."""
    first, sep, _ = reference.partition('/')
    if sep and ('.' in first or ':' in first or first == 'localhost'):
        return first
    return DEFAULT_REGISTRY


def auth_config(values: Mapping[str, Any] | None, field: str,
                reference: str) -> dict[str, str] | None:
    """The engine's auth_config for ``reference`` from validated ``AUTH`` values
    (None: anonymous access).

    Raises:
        InvalidInputError: a username without a password, ... (never quoting a value).
    """
    if not values:
        return None
    if 'identity_token' in values:
        config = {'identitytoken': values['identity_token']}
    elif 'username' in values and 'password' in values:
        config = {'username': values['username'], 'password': values['password']}
    elif set(values) - {'registry', 'email'}:
        raise InvalidInputError(field, 'give username and password, or identity_token')
    else:
        return None
    config['serveraddress'] = values.get('registry') or registry_of(reference)
    return config
