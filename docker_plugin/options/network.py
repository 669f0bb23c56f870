"""Every option of a network, and of a container's connection to one, declared once.

``NETWORK`` holds keywords of the SDK's ``create_network``; ``ENDPOINT`` the
properties of ``cloudify.relationships.docker.connected_to_network`` (keywords
of ``connect_container_to_network``), read back from the container's
``NetworkSettings.Networks.<network>``. Networks cannot change in place: a
drifted option needs a new network (see README); a drifted endpoint is
fixed by connecting the container again.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from docker_plugin.errors import InvalidInputError
from docker_plugin.options.base import Compare, Option, OptionTable, Update
from docker_plugin.options.checks import (
    FLAG,
    TEXT_MAP,
    Custom,
    ListOf,
    Record,
    Text,
)
from docker_plugin.options.container_values import LABELS
from docker_plugin.options.units import IP, ip_text

SUPERSET, IGNORE = Compare.SUPERSET, Compare.IGNORE
CIDR = Text(pattern=r'[0-9A-Fa-f:.]+/[0-9]{1,3}', what='a subnet like 10.9.0.0/24')
_POOL = Record({'subnet': CIDR, 'gateway': IP, 'ip_range': CIDR,
                'aux_addresses': Custom((dict,), lambda value, path: {
                    str(k): ip_text(a, f'{path}.{k}', allow_empty=False)
                    for k, a in value.items()}, 'a dictionary of name: IP address')},
               aliases={'iprange': 'ip_range'})


def _ipam(value: Any, path: str) -> dict[str, Any]:
    """Address management in the engine's own form (what inspect shows back)."""
    fields = Record({'driver': Text(non_empty=True), 'config': ListOf(_POOL),
                     'options': TEXT_MAP},
                    aliases={'pool_configs': 'config'})(value, path)
    keys = {'subnet': 'Subnet', 'gateway': 'Gateway', 'ip_range': 'IPRange',
            'aux_addresses': 'AuxiliaryAddresses'}
    pools = [{keys[k]: item for k, item in pool.items()} for pool in fields.get('config') or []]
    return {'Driver': fields.get('driver', 'default'), 'Config': pools,
            'Options': fields.get('options') or {}}


def _no_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _no_nulls(v) for k, v in value.items() if v not in (None, '', {}, [])}
    if isinstance(value, list):
        return [_no_nulls(v) for v in value]
    return value


NETWORK = OptionTable('network', [
    Option('driver', Text(non_empty=True, max_len=255), 'create', read='Driver',
           doc='bridge (default), overlay, macvlan, ...'),
    Option('options', TEXT_MAP, 'create', read='Options', compare=SUPERSET,
           doc='driver options'),
    Option('ipam', Custom((dict,), _ipam, 'address management: {driver, config, options}'),
           'create', read='IPAM', compare=SUPERSET, canon=_no_nulls,
           doc='address management: driver, config [{subnet, gateway, ip_range, '
               'aux_addresses}], options'),
    Option('internal', FLAG, 'create', read='Internal', doc='no access to the outside'),
    Option('attachable', FLAG, 'create', read='Attachable',
           doc='standalone containers may attach (overlay)'),
    Option('enable_ipv6', FLAG, 'create', read='EnableIPv6', doc='IPv6 networking'),
    Option('labels', LABELS, 'create', read='Labels', compare=SUPERSET, doc='network labels'),
    Option('scope', Text(choices=('local', 'global', 'swarm')), 'create', read='Scope',
           doc='local, global or swarm'),
    Option('ingress', FLAG, 'create', read='Ingress', doc='swarm routing-mesh network'),
    Option('check_duplicate', FLAG, 'create', compare=IGNORE,
           doc='refuse a duplicate name (engine side; not kept)'),
])

RECONNECT = Update.RECONNECT


def _address(version: int) -> Custom:
    def convert(value: str, path: str) -> str:
        if value:
            ip_text(value, path)
            if ipaddress.ip_address(value).version != version:
                raise InvalidInputError(path, f'expected an IPv{version} address, got {value!r}')
        return value
    return Custom((str,), convert, f'an IPv{version} address')


def _aliases(value: Any, path: str) -> list[str]:
    return ListOf(Text(non_empty=True, max_len=255))(value, path)


ENDPOINT = OptionTable('endpoint', [
    Option('aliases', Custom((list,), _aliases, 'a list of names'), 'endpoint', read='Aliases',
           compare=SUPERSET, update=RECONNECT,
           doc='names other containers on the network reach this one by'),
    Option('ipv4_address', _address(4), 'endpoint',
           read='IPAMConfig.IPv4Address', update=RECONNECT,
           doc='fixed IPv4 address (the network needs an ipam subnet)'),
    Option('ipv6_address', _address(6), 'endpoint',
           read='IPAMConfig.IPv6Address', update=RECONNECT, doc='fixed IPv6 address'),
    Option('links', ListOf(Text(non_empty=True)), 'endpoint', compare=IGNORE, update=RECONNECT,
           doc='legacy links, "container:alias" (rewritten by the engine: not compared)'),
    Option('link_local_ips', ListOf(IP), 'endpoint', read='IPAMConfig.LinkLocalIPs',
           compare=Compare.SET, update=RECONNECT, doc='link-local addresses'),
    Option('driver_opt', TEXT_MAP, 'endpoint', read='DriverOpts', compare=SUPERSET,
           update=RECONNECT, doc='endpoint driver options'),
])
