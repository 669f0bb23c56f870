"""The operations ``plugin.yaml`` names: the only package that imports ``cloudify``.

A package per node kind (``container``, ``image``, ``network``, ``volume``,
``compose``, ``swarm``, ``engine``, ``service``, ``secret``, ``config``) whose
``__init__`` (and ``actions``, for a kind's action interface) names its
operations, and what every kind shares: ``operation`` (the wrapper),
``context``, ``confine``, ``relationships``, ``lifecycle`` and ``waits``. The
seed's names ``docker.docker_plugin.tasks.create / configure / run / stop /
delete`` stay importable from here: the container's lifecycle.
"""

from __future__ import annotations

from typing import Any

__all__ = ['configure', 'create', 'delete', 'run', 'stop']


def __getattr__(name: str) -> Any:
    """The seed's names, imported when asked for (importing this package must not load
    the container lifecycle for every operation)."""
    if name in __all__:
        from docker_plugin.tasks.container import lifecycle
        return getattr(lifecycle, name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
