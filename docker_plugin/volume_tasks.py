"""Operations of ``cloudify.nodes.docker.Volume``."""

from __future__ import annotations

from typing import Any

from docker_plugin import object_ops
from docker_plugin.cloudify_ops import (
    adoption_flags,
    daemon_config,
    docker_operation,
    drop,
    engine,
    persist,
    resolve_input,
    resource_labels,
)
from docker_plugin.options.volume import VOLUME
from docker_plugin.resources import volumes

VOLUME_PROPS = ('volume_name', 'driver', 'mountpoint', 'volume_adopted')


@docker_operation
def create(ctx: Any, **kwargs: Any) -> None:
    """Create the named volume from ``volume_config``, or adopt an existing one.

    An existing volume is never removed and made again: its data stays.
    """
    options = VOLUME.validate(resolve_input(ctx, kwargs, 'volume_config'),
                              'volume_config').get('create', {})
    flags = adoption_flags(ctx, kwargs)
    name = object_ops.object_name(ctx, kwargs)
    config = daemon_config(ctx, kwargs)
    with engine(ctx, kwargs, config) as client:
        api = client.api
        if ctx.instance.runtime_properties.get('volume_name') == name and \
                volumes.inspect(api, name):
            ctx.logger.info('Volume %s already present; nothing to do', name)
            return
        labels = resource_labels(ctx)
        info, adopted = object_ops.ensure(
            ctx, 'volume', name, flags, volumes.inspect(api, name), lambda i: i.get('Labels'),
            lambda: volumes.create(api, name, options, labels))
    persist(ctx, volume_adopted=adopted, **volumes.summarise(info))


@docker_operation
def delete(ctx: Any, **kwargs: Any) -> None:
    """Remove the volume unless adopted or retained; never one still in use."""
    flags = adoption_flags(ctx, kwargs)
    props = ctx.instance.runtime_properties
    name = props.get('volume_name')
    if not name:
        ctx.logger.info('No volume recorded; nothing to remove')
        return
    if object_ops.should_remove(ctx, 'volume', name, props.get('volume_adopted', False), flags,
                                object_ops.retain(ctx, kwargs)):
        config = daemon_config(ctx, kwargs)
        with engine(ctx, kwargs, config) as client:
            if volumes.remove(client.api, name):
                ctx.logger.info('Removed volume %s', name)
    drop(ctx, *VOLUME_PROPS)
