"""Networks: create, inspect, connect, disconnect, remove, and drift of connections."""

from __future__ import annotations

import time
from typing import Any, Mapping, Sequence

from docker_plugin.errors import NotFoundError, RefusedError, StateError, done, engine_call, found
from docker_plugin.options.base import Update
from docker_plugin.options.network import ENDPOINT
from docker_plugin.resources import drift
from docker_plugin.resources.engine_api import EngineApi

# Network modes that are not a network a container can be disconnected from.
_NOT_A_NETWORK = ('host', 'none', 'default', '')


def inspect(api: EngineApi, name_or_id: str) -> dict[str, Any] | None:
    """Inspect data, or None when no such network exists."""
    return found(lambda: api.inspect_network(name_or_id), f'inspect network {name_or_id}')


def require(api: EngineApi, name_or_id: str) -> dict[str, Any]:
    """Inspect data of a network that must exist (one just made)."""
    info = inspect(api, name_or_id)
    if info is None:
        raise StateError(f'network {name_or_id[:25]} no longer exists')
    return info


def create(api: EngineApi, name: str, options: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    """Create a network and return its id."""
    kwargs = dict(options)
    kwargs['labels'] = {**dict(kwargs.get('labels') or {}), **labels}
    with engine_call(f'create network {name}'):
        return api.create_network(name, **kwargs)['Id']


def find_by_labels(api: EngineApi, labels: Mapping[str, str]) -> list[dict[str, Any]]:
    with engine_call('list networks by label'):
        return api.networks(filters={'label': [f'{k}={v}' for k, v in labels.items()]})


def connect(api: EngineApi, container_id: str, network: str, endpoint: Mapping[str, Any]) -> bool:
    """Connect a container with its aliases and addresses; reconnect if they differ.

    A container already on the network with the same settings is left alone,
    so running this again changes nothing. Returns True if it (re)connected.
    """
    with engine_call(f'inspect container {container_id[:12]}'):
        info = api.inspect_container(container_id)
    net = inspect(api, network)
    if net is None:
        raise StateError(f'connect to network {network}: no such network')
    current = ((info.get('NetworkSettings') or {}).get('Networks') or {}).get(net['Name'])
    if current is not None:
        if not endpoint_drift(net['Name'], endpoint, current):
            return False
        disconnect(api, container_id, net['Name'])
    with engine_call(f'connect container {container_id[:12]} to network {net["Name"]}'):
        api.connect_container_to_network(container_id, net['Id'], **endpoint)
    return True


def endpoint_drift(network: str, endpoint: Mapping[str, Any],
                   attached: Mapping[str, Any]) -> list[drift.Difference]:
    """How a container's connection differs from its relationship's properties."""
    declared = [k for k, v in endpoint.items() if v not in (None, '', [], {})]
    return drift.differences(ENDPOINT, declared, drift.desired_view(ENDPOINT, endpoint),
                             attached, prefix=f'NetworkSettings.Networks.{network}.')


def membership_drift(info: Mapping[str, Any], wanted: Sequence[tuple[str, Mapping[str, Any]]],
                     network_mode: str | None, strict: bool = False) -> list[drift.Difference]:
    """Networks the container should be on (relationships, else its network mode); with
    ``strict``, also those it is on and should not be (connected by hand)."""
    attached = (info.get('NetworkSettings') or {}).get('Networks') or {}
    expected = list(wanted)
    mode = network_mode or 'bridge'
    if not expected and mode not in _NOT_A_NETWORK and not mode.startswith('container:'):
        expected = [(mode, {})]
    found = []
    for name, endpoint in expected:
        if name not in attached:
            found.append(drift.Difference(f'networks.{name}', f'NetworkSettings.Networks.{name}',
                                          'connected', 'not connected', Update.RECONNECT))
        else:
            found += endpoint_drift(name, endpoint, attached[name] or {})
    if strict and mode not in ('host', 'none') and not mode.startswith('container:'):
        names = {name for name, _ in expected}
        found += [drift.Difference(f'networks.{name}', f'NetworkSettings.Networks.{name}',
                                   'not connected', 'connected', Update.RECONNECT)
                  for name in sorted(attached) if name not in names]
    return found


def disconnect(api: EngineApi, container_id: str, network: str) -> bool:
    """Disconnect; False when the container or network is already gone or detached."""
    try:
        with engine_call(f'disconnect container {container_id[:12]} from network {network}'):
            api.disconnect_container_from_network(container_id, network, force=True)
    except NotFoundError:
        return False
    except (RefusedError, StateError) as exc:
        if 'is not connected' in str(exc):
            return False
        raise
    return True


def users(api: EngineApi, info: Mapping[str, Any]) -> dict[str, str]:
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


def remove(api: EngineApi, network_id: str, name: str) -> bool:
    """Remove a network no container uses; False when it is already gone.

    Raises:
        StateError: containers still use it (named in the message).
    """
    info = inspect(api, network_id)
    if info is None:
        return False
    attached = users(api, info)
    if attached and info.get('Scope') == 'swarm':
        attached = _tasks_stopping(api, info, attached)
    if attached:
        raise StateError(
            f'network {name} is still used by containers '
            f'{", ".join(sorted(n or c[:12] for c, n in attached.items()))}; '
            'disconnect or remove them first')
    return done(lambda: api.remove_network(network_id), f'remove network {name}')


def _tasks_stopping(api: EngineApi, info: Mapping[str, Any], attached: dict[str, str],
                   timeout: float = 30.0) -> dict[str, str]:
    """On a swarm network: wait (bounded) while the only attached containers are
    tasks of removed services that the engine is still taking down."""
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / 0.25) + 1):
        if not attached:
            return attached
        with engine_call(f'list task containers on network {info["Name"]}'):
            tasks = {c['Id'] for c in api.containers(all=True, filters={
                'network': [info['Name']], 'label': ['com.docker.swarm.task.id']})}
        if set(attached) - tasks or time.monotonic() >= deadline:
            return attached
        time.sleep(0.25)
        attached = users(api, info)
    return attached


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
