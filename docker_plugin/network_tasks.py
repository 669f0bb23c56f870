"""Operations of ``cloudify.nodes.docker.Network`` and of connecting containers to it."""

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
from docker_plugin.options.network import NETWORK
from docker_plugin.resources import networks

NETWORK_PROPS = ('network_id', 'network_name', 'driver', 'subnets', 'gateways', 'internal',
                 'network_adopted')


@docker_operation
def create(ctx: Any, **kwargs: Any) -> None:
    """Create the network from ``network_config``, or adopt an existing one."""
    options = NETWORK.validate(resolve_input(ctx, kwargs, 'network_config'),
                               'network_config').get('create', {})
    flags = adoption_flags(ctx, kwargs)
    name = object_ops.object_name(ctx, kwargs)
    config = daemon_config(ctx, kwargs)
    with engine(ctx, kwargs, config) as client:
        api = client.api
        known = ctx.instance.runtime_properties.get('network_id')
        if known and networks.inspect(api, known):
            ctx.logger.info('Network %s already present; nothing to do', name)
            return
        labels = resource_labels(ctx)

        def make() -> dict[str, Any]:
            return networks.inspect(api, networks.create(api, name, options, labels))

        info, adopted = object_ops.ensure(ctx, 'network', name, flags,
                                          networks.inspect(api, name),
                                          lambda i: i.get('Labels'), make)
    persist(ctx, network_adopted=adopted, **networks.summarise(info))


@docker_operation
def delete(ctx: Any, **kwargs: Any) -> None:
    """Remove the network unless it was adopted or is retained; never one still in use."""
    flags = adoption_flags(ctx, kwargs)
    props = ctx.instance.runtime_properties
    network_id, name = props.get('network_id'), props.get('network_name', '')
    if not network_id:
        ctx.logger.info('No network recorded; nothing to remove')
        return
    if object_ops.should_remove(ctx, 'network', name, props.get('network_adopted', False),
                                flags, object_ops.retain(ctx, kwargs)):
        config = daemon_config(ctx, kwargs)
        with engine(ctx, kwargs, config) as client:
            if networks.remove(client.api, network_id, name):
                ctx.logger.info('Removed network %s', name)
    drop(ctx, *NETWORK_PROPS)


@docker_operation
def disconnect(ctx: Any, **kwargs: Any) -> None:
    """Relationship unlink (source side): take the container off the network."""
    container_id = ctx.source.instance.runtime_properties.get('container_id')
    network = ctx.target.instance.runtime_properties.get('network_name')
    if not container_id or not network:
        return
    with engine(ctx, kwargs, daemon_config(ctx.source, kwargs)) as client:
        if networks.disconnect(client.api, container_id, network):
            ctx.logger.info('Disconnected container %s from network %s', container_id, network)

