"""Declarative option tables: one per Docker object and per operation input.

Each table names every option a user may set, the check that validates it,
where it goes in the Engine API call, where inspect data shows it back, how
drift compares it, whether the engine can change it in place, and whether
its value is secret. Validation, the create call, drift and update all loop
over the tables; tasks never test option names one by one.

Nothing is imported here: an operation loads only the tables it uses.
"""

from __future__ import annotations

import importlib
from typing import Any

# Operation inputs and node properties that can hold secrets, and the finder
# (module, attribute path) that picks the secret values out of each.
SECRET_INPUTS: dict[str, tuple[str, str]] = {
    'container_config': ('docker_plugin.options.container', 'CONTAINER.secret_values'),
    'container_start': ('docker_plugin.options.container', 'CONTAINER.secret_values'),
    'daemon_client': ('docker_plugin.options.daemon', 'DAEMON_CLIENT.secret_values'),
    'image_pull': ('docker_plugin.options.image', 'IMAGE_PULL.secret_values'),
    'push': ('docker_plugin.options.image', 'push_secrets'),
    # ComposeProject: interpolation variables whose values are secret.
    'secret_environment': ('docker_plugin.options.compose', 'secret_values'),
    'service_config': ('docker_plugin.options.service', 'SERVICE.secret_values'),
    'managers': ('docker_plugin.options.swarm', 'member_secrets'),
    'workers': ('docker_plugin.options.swarm', 'member_secrets'),
    # Secret and Config nodes: the value itself.
    'data': ('docker_plugin.options.swarm', 'data_secrets'),
}


def secret_values(name: str, value: Any) -> list[str]:
    """The secret strings in the input or property ``name`` (never raises on bad input)."""
    module, path = SECRET_INPUTS[name]
    found: Any = importlib.import_module(module)
    for part in path.split('.'):
        found = getattr(found, part)
    return found(value)
