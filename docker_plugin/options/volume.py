"""Every option of a volume, and of a container's mount of one, declared once.

``VOLUME`` holds keywords of the SDK's ``create_volume`` (read back from the
volume's inspect data); ``MOUNT`` the properties of
``cloudify.relationships.docker.mounts_volume``, which become the container's
``mounts`` (and are compared there). Volumes cannot change in place: a
drifted option would need a new volume, which loses its data, so ``update``
refuses it (see README).
"""

from __future__ import annotations

from docker_plugin.options.base import Compare, Option, OptionTable
from docker_plugin.options.checks import FLAG, TEXT_MAP, Text
from docker_plugin.options.container_values import LABELS

VOLUME = OptionTable('volume', [
    Option('driver', Text(non_empty=True, max_len=255), 'create', read='Driver',
           doc='volume driver (default local)'),
    Option('driver_opts', TEXT_MAP, 'create', read='Options', compare=Compare.SUPERSET,
           doc='driver options, e.g. type/device/o for local'),
    Option('labels', LABELS, 'create', read='Labels', compare=Compare.SUPERSET,
           doc='volume labels'),
])

MOUNT = OptionTable('mount', [
    Option('target', Text(pattern=r'/[^\x00]*', what='an absolute path in the container'),
           'mount', required=True, doc='path inside the container (required)'),
    Option('read_only', FLAG, 'mount', default=False, doc='mount read-only'),
    Option('subpath', Text(max_len=4096), 'mount', min_api=(1, 45),
           doc='mount only this path of the volume (API 1.45+)'),
    Option('no_copy', FLAG, 'mount', default=False,
           doc="don't copy the image's files into a new volume"),
])
