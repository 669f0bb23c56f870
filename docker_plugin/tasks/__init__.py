"""The operations ``plugin.yaml`` names: the only package that imports ``cloudify``.

A package per node kind (``container``, ``image``, ``network``, ``volume``,
``compose``, ``swarm``, ``engine``, ``service``, ``secret``, ``config``) whose
``__init__`` (and ``actions``, for a kind's action interface) names its
operations, and what every kind shares: ``operation`` (the wrapper),
``context``, ``confine``, ``relationships``, ``lifecycle`` and ``waits``. The
seed's names ``docker.docker_plugin.tasks.create / configure / run / stop /
delete`` stay importable from here: the container's lifecycle; and ``validate``,
the whole deployment's validation, which a seed-style node may map to its
``cloudify.interfaces.validation.create`` (``docker_plugin.kinds.SEED``).
"""

from __future__ import annotations

from typing import Any

from docker_plugin.kinds import SEED, SEED_VALIDATE

__all__ = [*SEED, SEED_VALIDATE]


def __getattr__(name: str) -> Any:
    """The seed's names, imported when asked for (importing this package must not load
    the container lifecycle for every operation)."""
    if name in SEED:
        from docker_plugin.tasks.container import lifecycle
        return getattr(lifecycle, name)
    if name == SEED_VALIDATE:
        from docker_plugin.tasks.validation import validate
        return validate
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
