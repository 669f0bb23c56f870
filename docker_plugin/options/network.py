"""Every option of a network, declared once (keywords of the SDK's create_network)."""

from __future__ import annotations

from typing import Any

import docker.types

from docker_plugin.errors import InvalidInputError
from docker_plugin.options.base import Option, OptionTable

_POOL_KEYS = {'subnet', 'gateway', 'ip_range', 'iprange', 'aux_addresses'}


def _normalise_ipam(value: Any, path: str) -> docker.types.IPAMConfig:
    unknown = set(value) - {'driver', 'config', 'pool_configs', 'options'}
    if unknown:
        raise InvalidInputError(f'{path}.{sorted(unknown)[0]}',
                                'unknown key; use driver, config, options')
    pools = []
    for index, pool in enumerate(value.get('config', value.get('pool_configs')) or []):
        sub = f'{path}.config[{index}]'
        if not isinstance(pool, dict) or set(pool) - _POOL_KEYS:
            raise InvalidInputError(sub, 'expected {subnet, gateway, ip_range, aux_addresses}')
        pools.append(docker.types.IPAMPool(
            subnet=pool.get('subnet'), gateway=pool.get('gateway'),
            iprange=pool.get('ip_range', pool.get('iprange')),
            aux_addresses=pool.get('aux_addresses')))
    return docker.types.IPAMConfig(driver=value.get('driver', 'default'), pool_configs=pools,
                                   options=value.get('options'))


def _labels(value: Any, path: str) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()}


NETWORK = OptionTable('network', [
    Option('driver', (str,), 'create', doc='bridge (default), overlay, macvlan, ...'),
    Option('options', (dict,), 'create', doc='driver options'),
    Option('ipam', (dict,), 'create', normalise=_normalise_ipam,
           doc='address management: driver, config [{subnet, gateway, ip_range, aux_addresses}]'),
    Option('internal', (bool,), 'create', doc='no access to the outside'),
    Option('attachable', (bool,), 'create', doc='standalone containers may attach (overlay)'),
    Option('enable_ipv6', (bool,), 'create', doc='IPv6 networking'),
    Option('labels', (dict,), 'create', normalise=_labels, doc='network labels'),
    Option('scope', (str,), 'create', doc='local, global or swarm'),
    Option('ingress', (bool,), 'create', doc='swarm routing-mesh network'),
    Option('check_duplicate', (bool,), 'create', doc='refuse a duplicate name (engine side)'),
])

# Per-connection settings of a container on a network (relationship properties).
ENDPOINT = OptionTable('endpoint', [
    Option('aliases', (list,), 'endpoint', doc='names other containers reach this one by'),
    Option('ipv4_address', (str,), 'endpoint', doc='fixed IPv4 address (needs an ipam subnet)'),
    Option('ipv6_address', (str,), 'endpoint', doc='fixed IPv6 address'),
    Option('links', (list,), 'endpoint', doc='legacy links, "container:alias"'),
    Option('link_local_ips', (list,), 'endpoint', doc='link-local addresses'),
    Option('driver_opt', (dict,), 'endpoint', doc='endpoint driver options'),
])
