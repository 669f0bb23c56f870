"""Operations of ``cloudify.nodes.docker.Network``, and of connecting containers to it."""

from __future__ import annotations

from typing import Any, Mapping

from docker_plugin import kinds
from docker_plugin.options.network import ENDPOINT, NETWORK
from docker_plugin.resources import networks
from docker_plugin.resources.container import containers
from docker_plugin.resources.engine_api import EngineApi
from docker_plugin.tasks import lifecycle as objects
from docker_plugin.tasks.container.spec import BASE_KEYS, NETWORK_RELATIONSHIP
from docker_plugin.tasks.context import (
    daemon_config,
    engine,
    existing_flags,
    object_name,
    resolve_input,
    resource_labels,
)
from docker_plugin.tasks.ctx import Ctx
from docker_plugin.tasks.operation import operation
from docker_plugin.tasks.relationships import own_properties

CONNECTION = kinds.UpdateStrategy.IN_PLACE  # a connection changes by connecting again
OBJECTS = objects.Objects(
    kinds.node('network'), inspect=networks.inspect, find_by_labels=networks.find_by_labels,
    remove=lambda api, info: networks.remove(api, info['Id'], info['Name']),
    summarise=networks.summarise)


def options(ctx: Ctx, kwargs: Any) -> dict[str, Any]:
    return NETWORK.validate(resolve_input(ctx, kwargs, 'network_config'),
                            'network_config').get('create', {})


@operation
def create(ctx: Ctx, **kwargs: Any) -> None:
    """Create the network from ``network_config``, or adopt an existing one."""
    declared = options(ctx, kwargs)
    flags = existing_flags(ctx, kwargs)
    name = object_name(ctx, kwargs)
    with engine(ctx, kwargs) as client:
        api = client.api
        labels = resource_labels(ctx)
        objects.make_or_adopt(
            ctx, api, OBJECTS, name, flags, networks.inspect(api, name),
            lambda: networks.require(api, networks.create(api, name, declared, labels)),
            table=NETWORK, given=declared,
            differs=lambda info: objects.differences(NETWORK, declared, info))


@operation
def delete(ctx: Ctx, **kwargs: Any) -> None:
    """Remove the network unless it was adopted or is retained; never one still in use."""
    objects.delete(ctx, kwargs, OBJECTS)


@operation
def disconnect(ctx: Ctx, **kwargs: Any) -> None:
    """Relationship unlink (source side): take the container off the network."""
    container_id = ctx.source.instance.runtime_properties.get('container_id')
    network = ctx.target.instance.runtime_properties.get('network_name')
    if not container_id or not network:
        return
    with engine(ctx, kwargs, daemon_config(ctx.source, kwargs)) as client:
        if networks.disconnect(client.api, container_id, network):
            ctx.logger.info('Disconnected container %s from network %s', container_id, network)


def _connection(ctx: Ctx, kwargs: Any) -> tuple[str | None, str | None, dict[str, Any]]:
    """(container id, network name, endpoint options) of this relationship."""
    properties = own_properties(ctx, NETWORK_RELATIONSHIP)
    field = f'relationship to {ctx.target.node.id}'
    endpoint = ENDPOINT.validate(properties, field, extra=BASE_KEYS).get('endpoint', {})
    return (ctx.source.instance.runtime_properties.get('container_id'),
            ctx.target.instance.runtime_properties.get('network_name'), endpoint)


def _connection_drift(ctx: Ctx, kwargs: Mapping[str, Any]) -> list:
    """How the connection differs from its declared aliases and addresses, each with what
    update does with it (connects it again)."""
    container_id, network, endpoint = _connection(ctx, kwargs)
    if not container_id or not network:
        return []
    with engine(ctx, kwargs, daemon_config(ctx.source, kwargs)) as client:
        info = containers.require(client.api, container_id)
    return objects.planned(CONNECTION, 'connection', networks.membership_drift(
        info, [(network, endpoint)], None))


@operation
def check_connection(ctx: Ctx, **kwargs: Any) -> list[dict[str, Any]]:
    """Relationship check_drift (source side): is the container still on the network,
    with the declared aliases and addresses?"""
    found = _connection_drift(ctx, kwargs)
    network = ctx.target.instance.runtime_properties.get('network_name')
    for difference in found:
        ctx.logger.warning('Drift of the connection to %s: %s', network, difference.describe())
    return [d.as_dict() for d in found]


@operation
@objects.preview_of(CONNECTION, 'connection', lambda ctx: 'to ' + str(
    ctx.target.instance.runtime_properties.get('network_name') or ''), _connection_drift)
def reconnect(ctx: Ctx, **kwargs: Any) -> None:
    """Relationship update (source side): connect the container again with the
    declared aliases and addresses when they drifted. ``preview: true``: the plan only."""
    container_id, network, endpoint = _connection(ctx, kwargs)
    if not container_id or not network:
        return
    with engine(ctx, kwargs, daemon_config(ctx.source, kwargs)) as client:
        if networks.connect(client.api, container_id, network, endpoint):
            ctx.logger.info('Connected container %s to network %s again', container_id[:12],
                            network)


@operation
def check_status(ctx: Ctx, **kwargs: Any) -> None:
    """Healthy when the recorded network still exists."""
    objects.status(ctx, kwargs, OBJECTS)


def _drift(ctx: Ctx, kwargs: Any, api: EngineApi) -> tuple[objects.Info, list]:
    """(inspect, the differences each with what update does with it: the network is made
    again, unless it was adopted or containers use it)."""
    info = objects.require(ctx, api, OBJECTS)
    found = objects.differences(NETWORK, options(ctx, kwargs), info)
    attached = networks.users(api, info) if found else {}
    users = ', '.join(sorted(n or c[:12] for c, n in attached.items()))
    return info, objects.plan(ctx, kwargs, OBJECTS, found, (
        f'the network must be made again, but containers {users} use it: remove them first '
        '(or reinstall)') if users else '')


def _plan(ctx: Ctx, kwargs: Mapping[str, Any]) -> list:
    with engine(ctx, kwargs) as client:
        return _drift(ctx, kwargs, client.api)[1]


@operation
def check_drift(ctx: Ctx, **kwargs: Any) -> list[dict[str, Any]]:
    """Where the network differs from ``network_config``, each with what update does with
    it (kept in ``drift``)."""
    return objects.record_drift(ctx, 'network', _plan(ctx, kwargs))


@operation
@objects.preview(OBJECTS, _plan)
def update(ctx: Ctx, **kwargs: Any) -> list[dict[str, Any]]:
    """A network cannot change in place: a drifted one is created again with its
    declared options when no container is attached to it (and it was not adopted,
    unless modify_external_resource is set); otherwise this refuses, naming them.
    ``preview: true``: the plan only."""
    with engine(ctx, kwargs) as client:
        api = client.api
        info, found = _drift(ctx, kwargs, api)
        if not found:
            return objects.record_drift(ctx, 'network', found)
        objects.refuse(found)
        networks.remove(api, info['Id'], info['Name'])
        new_id = networks.create(api, info['Name'], options(ctx, kwargs), resource_labels(ctx))
        objects.record(ctx, OBJECTS, networks.inspect(api, new_id) or {}, False)
        ctx.logger.info('Network %s created again with its declared options', info['Name'])
        _, remaining = _drift(ctx, kwargs, api)
    return objects.record_drift(ctx, 'network', remaining)


@operation
def pull(ctx: Ctx, **kwargs: Any) -> None:
    """``cloudify.interfaces.lifecycle.pull``: refresh the runtime properties from the engine."""
    objects.refresh(ctx, kwargs, OBJECTS)
