"""Declarative option tables: one per Docker object and per operation input.

Each table names every option a user may set, the check that validates it,
where it goes in the Engine API call, where inspect data shows it back, how
drift compares it, whether the engine can change it in place, and whether
its value is secret. Validation, the create call, drift and update all loop
over the tables; tasks never test option names one by one.
"""

from __future__ import annotations

from typing import Any, Callable

from docker_plugin.options.base import Compare, Option, OptionTable, Update, option_secrets
from docker_plugin.options.container import CONTAINER
from docker_plugin.options.daemon import DAEMON_CLIENT
from docker_plugin.options.image import IMAGE_NODE, IMAGE_PULL
from docker_plugin.options.service import SERVICE
from docker_plugin.options.swarm import member_secrets

__all__ = ['SECRET_INPUTS', 'Compare', 'Option', 'OptionTable', 'Update']


def _push_secrets(value: Any) -> list[str]:
    return option_secrets(IMAGE_NODE.options['push'], value)


def _text(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else []


# Operation inputs and node properties that can hold secrets: name -> finder.
SECRET_INPUTS: dict[str, Callable[[Any], list[str]]] = {
    'container_config': CONTAINER.secret_values,
    'container_start': CONTAINER.secret_values,
    'daemon_client': DAEMON_CLIENT.secret_values,
    'image_pull': IMAGE_PULL.secret_values,
    'push': _push_secrets,
    'service_config': SERVICE.secret_values,
    'managers': member_secrets,
    'workers': member_secrets,
    'data': _text,  # the value of a swarm secret or config
}
