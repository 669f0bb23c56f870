"""Whether to make an object or use one that exists, and what uninstall does with it.

Cloudify's vocabulary, on every node type the plugin defines (declared once
on ``cloudify.nodes.docker.Base`` in plugin.yaml); ``docker_plugin.adoption``
decides from these values.
"""

from __future__ import annotations

from typing import Any

from docker_plugin.options.base import Option, OptionTable
from docker_plugin.options.checks import FLAG

EXISTING = OptionTable('existing', [
    Option('use_external_resource', FLAG, 'existing', default=False,
           doc='use the existing object of that name (it must exist)'),
    Option('create_if_missing', FLAG, 'existing', default=False,
           doc='with use_external_resource: create it when it does not exist'),
    Option('use_if_exists', FLAG, 'existing', default=False,
           doc='adopt an existing object of that name instead of failing'),
    Option('modify_external_resource', FLAG, 'existing', default=False,
           doc='let update and check_drift change an adopted object (default: leave it as '
               'found)'),
    Option('delete_adopted', FLAG, 'existing', default=False,
           doc='remove an adopted object on uninstall (default: leave it)'),
    Option('retain', FLAG, 'existing', default=False,
           doc='keep the object on uninstall even though this deployment made it'),
])


def flags(values: dict[str, Any]) -> dict[str, bool]:
    """Each flag, validated (``values`` maps flag name to the input or property)."""
    return {name: EXISTING.options[name].check(value, name) if value is not None
            else EXISTING.options[name].default for name, value in values.items()}
