"""Operations of ``cloudify.nodes.docker.Volume``."""

from __future__ import annotations

from typing import Any

from docker_plugin.errors import StateError
from docker_plugin.options.volume import VOLUME
from docker_plugin.resources import volumes
from docker_plugin.tasks import lifecycle as objects
from docker_plugin.tasks.context import (
    drop,
    engine,
    existing_flags,
    instance_labels,
    object_name,
    persist,
    recorded,
    resolve_input,
    resource_labels,
)
from docker_plugin.tasks.lifecycle import TAGGED
from docker_plugin.tasks.operation import operation

VOLUME_PROPS = ('volume_name', 'driver', 'mountpoint', 'volume_adopted', 'drift', TAGGED)


def _options(ctx: Any, kwargs: Any) -> dict[str, Any]:
    return VOLUME.validate(resolve_input(ctx, kwargs, 'volume_config'),
                           'volume_config').get('create', {})


@operation
def create(ctx: Any, **kwargs: Any) -> None:
    """Create the named volume from ``volume_config``, or adopt an existing one.

    An existing volume is never removed and made again: its data stays.
    """
    options = _options(ctx, kwargs)
    flags = existing_flags(ctx, kwargs)
    name = object_name(ctx, kwargs)
    with engine(ctx, kwargs) as client:
        api = client.api
        if ctx.instance.runtime_properties.get('volume_name') == name and \
                volumes.inspect(api, name):
            ctx.logger.info('Volume %s already present; nothing to do', name)
            return
        labels = resource_labels(ctx)

        info, adopted = objects.ensure(ctx, 'volume', name, flags, volumes.inspect(api, name),
                                       lambda: volumes.create(api, name, options, labels),
                                       table=VOLUME, given=options)
    persist(ctx, volume_adopted=adopted, **objects.tagged(adopted), **volumes.summarise(info))


@operation
def delete(ctx: Any, **kwargs: Any) -> None:
    """Remove the volume unless adopted or retained; never one still in use."""
    flags = existing_flags(ctx, kwargs)
    props = ctx.instance.runtime_properties
    name = props.get('volume_name')
    if name and not objects.should_remove(ctx, 'volume', name, props.get('volume_adopted', False),
                                          flags):
        drop(ctx, *VOLUME_PROPS)
        return
    with engine(ctx, kwargs) as client:
        api = client.api
        # Nothing recorded: create may have died right after the engine made it.
        labelled = [] if name else [
            v['Name'] for v in volumes.find_by_labels(api, instance_labels(ctx))]
        for volume in dict.fromkeys([*([name] if name else []), *labelled]):
            if flags['retain'] and volume != name:
                continue
            if volumes.remove(api, volume):
                ctx.logger.info('Removed volume %s', volume)
    drop(ctx, *VOLUME_PROPS)


@operation
def check_status(ctx: Any, **kwargs: Any) -> None:
    """Healthy when the recorded volume still exists."""
    name = recorded(ctx, 'volume_name', 'volume')
    with engine(ctx, kwargs) as client:
        if volumes.inspect(client.api, name) is None:
            raise StateError(f'volume {name} no longer exists')
    ctx.logger.info('Volume %s exists', name)


def _drift(ctx: Any, kwargs: Any, api: Any) -> list:
    name = recorded(ctx, 'volume_name', 'volume')
    info = volumes.inspect(api, name)
    if info is None:
        raise StateError(f'volume {name} no longer exists')
    return objects.differences(VOLUME, _options(ctx, kwargs), info)


@operation
def check_drift(ctx: Any, **kwargs: Any) -> list[dict[str, Any]]:
    """Where the volume differs from ``volume_config`` (kept in ``drift``)."""
    with engine(ctx, kwargs) as client:
        found = _drift(ctx, kwargs, client.api)
    return objects.record_drift(ctx, 'volume', found)


@operation
def update(ctx: Any, **kwargs: Any) -> list[dict[str, Any]]:
    """A volume cannot change in place, and making it again would lose its data:
    a drifted volume is refused, naming the options (no drift: nothing to do)."""
    with engine(ctx, kwargs) as client:
        found = _drift(ctx, kwargs, client.api)
    if found:
        raise StateError(f'{", ".join(sorted({d.option for d in found}))} changed; a volume '
                         'cannot change in place and making it again would lose its data: '
                         'create a new volume node (or reinstall, if the data may go)')
    return objects.record_drift(ctx, 'volume', found)


@operation
def pull(ctx: Any, **kwargs: Any) -> None:
    """``cloudify.interfaces.lifecycle.pull``: refresh the runtime properties from the engine."""
    objects.refresh(ctx, kwargs, 'volume', 'volume_name', volumes.inspect, volumes.summarise)
