"""Every option of a volume, declared once (keywords of the SDK's create_volume)."""

from __future__ import annotations

from docker_plugin.options.base import Option, OptionTable

VOLUME = OptionTable('volume', [
    Option('driver', (str,), 'create', doc='volume driver (default local)'),
    Option('driver_opts', (dict,), 'create', doc='driver options, e.g. type/device/o for local'),
    Option('labels', (dict,), 'create',
           normalise=lambda value, path: {str(k): str(v) for k, v in value.items()},
           doc='volume labels'),
])

# How a container mounts a volume (relationship properties).
MOUNT = OptionTable('mount', [
    Option('target', (str,), 'mount', doc='path inside the container (required)'),
    Option('read_only', (bool,), 'mount', doc='mount read-only'),
    Option('subpath', (str,), 'mount', doc='mount only this path of the volume (API 1.45+)'),
    Option('no_copy', (bool,), 'mount', doc="don't copy the image's files into a new volume"),
])
