"""Operations of ``cloudify.nodes.docker.Engine``: an engine a blueprint names (to join it
to a swarm through ``member_of_swarm``, or to describe it). Nothing is made or removed:
``create``, ``pull`` and ``check_status`` describe it (it answers; its name, version
and swarm state are kept), ``delete`` forgets it."""

from __future__ import annotations

from typing import Any

from docker_plugin.resources.swarm import cluster as swarm
from docker_plugin.tasks.context import drop, engine, persist
from docker_plugin.tasks.ctx import Ctx
from docker_plugin.tasks.operation import operation


@operation
def describe(ctx: Ctx, **kwargs: Any) -> None:
    """Engine node create and check_status: the engine answers; its name, version and
    swarm state are kept."""
    with engine(ctx, kwargs) as client:
        info, version = swarm.engine_info(client.api)
    state = info.get('Swarm') or {}
    persist(ctx, engine_name=info.get('Name', ''),
            engine_version=version.get('Version', ''),
            api_version=version.get('ApiVersion', ''),
            swarm_state=state.get('LocalNodeState', ''))
    ctx.logger.info('Engine %s: Docker %s, swarm %s', info.get('Name', ''),
                    version.get('Version', ''), state.get('LocalNodeState', ''))


@operation
def forget(ctx: Ctx, **kwargs: Any) -> None:
    """Engine node delete: nothing to remove; its runtime properties go."""
    drop(ctx, 'engine_name', 'engine_version', 'api_version', 'swarm_state')

