"""Operations of ``cloudify.nodes.docker.Volume``."""

from __future__ import annotations

from typing import Any, Mapping

from docker_plugin import kinds
from docker_plugin.options.volume import VOLUME
from docker_plugin.resources import volumes
from docker_plugin.tasks import lifecycle as objects
from docker_plugin.tasks.context import (
    engine,
    existing_flags,
    object_name,
    resolve_input,
    resource_labels,
)
from docker_plugin.tasks.ctx import Ctx
from docker_plugin.tasks.operation import operation

OBJECTS = objects.Objects(
    kinds.node('volume'), inspect=volumes.inspect, find_by_labels=volumes.find_by_labels,
    remove=lambda api, info: volumes.remove(api, info['Name']), summarise=volumes.summarise,
    ident=lambda info: info['Name'])


def options(ctx: Ctx, kwargs: Any) -> dict[str, Any]:
    return VOLUME.validate(resolve_input(ctx, kwargs, 'volume_config'),
                           'volume_config').get('create', {})


@operation
def create(ctx: Ctx, **kwargs: Any) -> None:
    """Create the named volume from ``volume_config``, or adopt an existing one.

    An existing volume is never removed and made again: its data stays.
    """
    declared = options(ctx, kwargs)
    flags = existing_flags(ctx, kwargs)
    name = object_name(ctx, kwargs)
    with engine(ctx, kwargs) as client:
        api = client.api
        labels = resource_labels(ctx)
        objects.make_or_adopt(ctx, api, OBJECTS, name, flags, volumes.inspect(api, name),
                              lambda: volumes.create(api, name, declared, labels),
                              table=VOLUME, given=declared,
                              differs=lambda info: objects.differences(VOLUME, declared, info))


@operation
def delete(ctx: Ctx, **kwargs: Any) -> None:
    """Remove the volume unless adopted or retained; never one still in use."""
    objects.delete(ctx, kwargs, OBJECTS)


@operation
def check_status(ctx: Ctx, **kwargs: Any) -> None:
    """Healthy when the recorded volume still exists."""
    objects.status(ctx, kwargs, OBJECTS)


def _plan(ctx: Ctx, kwargs: Mapping[str, Any]) -> list:
    """The differences from ``volume_config``, each refused by update (a volume made
    again would lose its data)."""
    with engine(ctx, kwargs) as client:
        info = objects.require(ctx, client.api, OBJECTS)
    return objects.plan(ctx, kwargs, OBJECTS,
                        objects.differences(VOLUME, options(ctx, kwargs), info))


@operation
def check_drift(ctx: Ctx, **kwargs: Any) -> list[dict[str, Any]]:
    """Where the volume differs from ``volume_config``, each with what update does with
    it (kept in ``drift``)."""
    return objects.record_drift(ctx, 'volume', _plan(ctx, kwargs))


@operation
@objects.preview(OBJECTS, _plan)
def update(ctx: Ctx, **kwargs: Any) -> list[dict[str, Any]]:
    """A volume cannot change in place, and making it again would lose its data:
    a drifted volume is refused, naming the options (no drift: nothing to do).
    ``preview: true``: the plan only."""
    found = _plan(ctx, kwargs)
    objects.refuse(found)
    return objects.record_drift(ctx, 'volume', found)


@operation
def pull(ctx: Ctx, **kwargs: Any) -> None:
    """``cloudify.interfaces.lifecycle.pull``: refresh the runtime properties from the engine."""
    objects.refresh(ctx, kwargs, OBJECTS)
