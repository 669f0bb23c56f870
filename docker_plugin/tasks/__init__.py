"""The operations ``plugin.yaml`` names: the only package that imports ``cloudify``.

Each module holds the operations of one node type (or one part of one):
``container`` and ``container_teardown`` (the seed's lifecycle), ``container_state`` (check_status,
check_drift, update, pull), ``container_actions`` and ``container_commands``
(``docker.interfaces.container``), ``image``, ``network``, ``volume``. The
seed's names ``docker.docker_plugin.tasks.create / configure / run / stop /
delete`` stay importable from here.
"""

from docker_plugin.tasks.container import configure, create, run
from docker_plugin.tasks.container_teardown import delete, stop

__all__ = ['configure', 'create', 'delete', 'run', 'stop']
