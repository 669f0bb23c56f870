"""Networks: create, inspect, connect, disconnect, remove."""

from __future__ import annotations

from typing import Any, Mapping

import docker

from docker_plugin.errors import ConflictError, NotFoundError, engine_call


def inspect(api: docker.APIClient, name_or_id: str) -> dict[str, Any] | None:
    """Inspect data, or None when no such network exists."""
    try:
        with engine_call(f'inspect network {name_or_id}'):
            return api.inspect_network(name_or_id)
    except NotFoundError:
        return None


def create(api: docker.APIClient, name: str, options: Mapping[str, Any],
           labels: Mapping[str, str]) -> str:
    """Create a network and return its id."""
    kwargs = dict(options)
    kwargs['labels'] = {**dict(kwargs.get('labels') or {}), **labels}
    with engine_call(f'create network {name}'):
        return api.create_network(name, **kwargs)['Id']


def endpoint_config(api: docker.APIClient, endpoint: Mapping[str, Any]) -> dict[str, Any]:
    """The EndpointSettings body for one connection."""
    with engine_call('build endpoint config'):
        return dict(api.create_endpoint_config(**endpoint))


def connect(api: docker.APIClient, container_id: str, network: str,
            endpoint: Mapping[str, Any]) -> None:
    """Connect a container with its aliases and addresses; reconnects if settings differ.

    A container already on the network with the same aliases and addresses is
    left alone, so running this again changes nothing.
    """
    info = api.inspect_container(container_id)
    current = (info.get('NetworkSettings') or {}).get('Networks') or {}
    net = inspect(api, network)
    if net is None:
        raise NotFoundError(f'connect to network {network}: no such network')
    attached = current.get(net['Name'])
    if attached is not None:
        if _same_endpoint(attached, endpoint, container_id):
            return
        disconnect(api, container_id, net['Name'])
    with engine_call(f'connect container {container_id[:12]} to network {net["Name"]}'):
        api.connect_container_to_network(container_id, net['Id'], **endpoint)


def _same_endpoint(attached: Mapping[str, Any], endpoint: Mapping[str, Any],
                   container_id: str) -> bool:
    wanted_aliases = set(endpoint.get('aliases') or [])
    have_aliases = set(attached.get('Aliases') or []) - {container_id[:12]}
    ipam = attached.get('IPAMConfig') or {}
    return (wanted_aliases <= have_aliases
            and (endpoint.get('ipv4_address') or '') == (ipam.get('IPv4Address') or '')
            and (endpoint.get('ipv6_address') or '') == (ipam.get('IPv6Address') or ''))


def disconnect(api: docker.APIClient, container_id: str, network: str) -> bool:
    """Disconnect; False when the container or network is already gone or detached."""
    try:
        with engine_call(f'disconnect container {container_id[:12]} from network {network}'):
            api.disconnect_container_from_network(container_id, network, force=True)
    except NotFoundError:
        return False
    except ConflictError as exc:
        if 'is not connected' in str(exc):
            return False
        raise
    return True


def users(api: docker.APIClient, info: Mapping[str, Any]) -> dict[str, str]:
    """Containers attached to a network, running or not: id -> name.

    The network's own inspect lists only running endpoints; a created or
    stopped container that names the network would lose it silently.
    """
    attached = {cid: (c or {}).get('Name', '')
                for cid, c in (info.get('Containers') or {}).items()}
    with engine_call(f'list containers on network {info["Name"]}'):
        # By name too: a created container's endpoint has no network id yet.
        filters = {'network': [info['Name'], info['Id']]}
        for container in api.containers(all=True, filters=filters):
            attached.setdefault(container['Id'], (container.get('Names') or [''])[0].lstrip('/'))
    return attached


def remove(api: docker.APIClient, network_id: str, name: str) -> bool:
    """Remove a network no container uses; False when it is already gone.

    Raises:
        ConflictError: containers still use it (named in the message).
    """
    info = inspect(api, network_id)
    if info is None:
        return False
    attached = users(api, info)
    if attached:
        raise ConflictError(
            f'network {name} is still used by containers '
            f'{", ".join(sorted(n or c[:12] for c, n in attached.items()))}; '
            'disconnect or remove them first')
    try:
        with engine_call(f'remove network {name}'):
            api.remove_network(network_id)
    except NotFoundError:
        return False
    return True


def summarise(info: Mapping[str, Any]) -> dict[str, Any]:
    """Runtime properties describing a network."""
    ipam = info.get('IPAM') or {}
    return {
        'network_id': info['Id'],
        'network_name': info['Name'],
        'driver': info.get('Driver', ''),
        'subnets': [c.get('Subnet', '') for c in ipam.get('Config') or [] if c.get('Subnet')],
        'gateways': [c.get('Gateway', '') for c in ipam.get('Config') or [] if c.get('Gateway')],
        'internal': bool(info.get('Internal')),
    }
