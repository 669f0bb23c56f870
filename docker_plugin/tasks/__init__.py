"""The operations ``plugin.yaml`` names: the only package that imports ``cloudify``.

Each module holds the operations of one node type (or one part of one):
``container`` and ``container_teardown`` (the seed's lifecycle), ``container_state`` (check_status,
check_drift, update, pull), ``container_actions`` and ``container_commands``
(``docker.interfaces.container``), ``image``, ``network``, ``volume``. The
seed's names ``docker.docker_plugin.tasks.create / configure / run / stop /
delete`` stay importable from here.
"""

from __future__ import annotations

from typing import Any

__all__ = ['configure', 'create', 'delete', 'run', 'stop']
_SEED = {'create': 'container', 'configure': 'container', 'run': 'container',
         'stop': 'container_teardown', 'delete': 'container_teardown'}


def __getattr__(name: str) -> Any:
    """The seed's names, imported when asked for: every operation module lives in
    this package, so importing it must not load the container lifecycle for all."""
    if name in _SEED:
        import importlib
        return getattr(importlib.import_module(f'{__name__}.{_SEED[name]}'), name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
