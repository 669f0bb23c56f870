"""Grammars of a container's ports: the ones it exposes and where they are published.

Container ports are kept as (number, protocol): the SDK writes a tuple as
``number/protocol``, while a string such as '53/udp' would become
'53/udp/tcp'. Ranges ('9010-9050') are expanded port by port, as the engine
keeps them; published ports take the YAML-friendly dictionary or the docker
CLI's ``[ip:][host_port:]container_port[/protocol]`` list. ``exposed_ports``
and ``stored_bindings`` say what the engine stores for each (the desired
side of drift).
"""

from __future__ import annotations

from typing import Any, Tuple

from docker_plugin.errors import InvalidInputError
from docker_plugin.options.checks import Custom, ascii_int, kind
from docker_plugin.options.units import ip_text

PROTOCOLS = ('tcp', 'udp', 'sctp')
Port = Tuple[int, str]


def port_number(text: str, path: str, allow_zero: bool = False) -> int:
    number = ascii_int(text)
    if number is None or not (0 if allow_zero else 1) <= number <= 65535:
        raise InvalidInputError(path, f'expected a port number from {0 if allow_zero else 1} '
                                      f'to 65535, got {text[:40]!r}')
    return number


def port_range(text: str, path: str, allow_zero: bool = False) -> list[int]:
    """'80' -> [80]; '9010-9050' -> [9010, ..., 9050]."""
    low, sep, high = text.partition('-')
    first = port_number(low, path, allow_zero)
    if not sep:
        return [first]
    last = port_number(high, path)
    if first > last:
        raise InvalidInputError(path, f'a port range must go up, got {text[:40]!r}')
    return list(range(first, last + 1))


def _protocol(text: str, value: Any, path: str) -> str:
    if text not in ('', *PROTOCOLS):
        raise InvalidInputError(path, f"expected a port like 80, '53/udp' or '9010-9050', got "
                                      f'{value!r}'[:200])
    return text or 'tcp'


def port_spec(value: Any, path: str) -> list[Port]:
    """Container ports: 80, '80', '53/udp', '9010-9050[/udp]' -> [(80, 'tcp'), ...]."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InvalidInputError(path, f"expected a port like 80 or '53/udp', got {kind(value)}")
    numbers, _, proto = str(value).partition('/')
    protocol = _protocol(proto, value, path)
    return [(number, protocol) for number in port_range(numbers, path)]


def ports(value: Any, path: str) -> list[Port]:
    """A list of container ports (ranges expanded), each once, in the order given."""
    out: dict[Port, None] = {}
    for index, item in enumerate(value):
        out.update(dict.fromkeys(port_spec(item, f'{path}[{index}]')))
    return list(out)


PORTS = Custom((list, tuple), ports, "a list of ports like 80, '53/udp' or '9010-9050'")


def port_key(port: Port) -> str:
    """How the engine names a container port: '53/udp'."""
    return f'{port[0]}/{port[1]}'


def exposed_ports(value: list[Port]) -> dict[str, dict]:
    """``ports`` as the engine stores them (``Config.ExposedPorts``)."""
    return {port_key(port): {} for port in value}


def _host_port(value: Any, path: str) -> int | str | None:
    if value is None or value == '':
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InvalidInputError(path, f'expected a host port number, got {kind(value)}')
    low, sep, high = str(value).partition('-')
    if sep:
        first, last = port_number(low, path), port_number(high, path)
        if first > last:
            raise InvalidInputError(path, f'a port range must go up, got {value!r}')
        return f'{first}-{last}'
    return port_number(low, path, allow_zero=True)


def _binding(value: Any, path: str) -> Any:
    """One binding: a host port, ``[ip, port]``, ``{host_ip, host_port}``, an address
    alone (any free port on it), or None."""
    if value is None:
        return None
    if isinstance(value, dict):
        unknown = set(value) - {'host_ip', 'host_port', 'HostIp', 'HostPort'}
        if unknown:
            raise InvalidInputError(path, f'unknown keys {sorted(map(str, unknown))}; use '
                                          'host_ip, host_port')
        ip = ip_text(value.get('host_ip', value.get('HostIp', '')), f'{path}.host_ip')
        port = _host_port(value.get('host_port', value.get('HostPort')), f'{path}.host_port')
        return (ip,) if port is None else (ip, port)
    if _is_ip_pair(value):
        ip = ip_text(value[0], f'{path}[0]')
        port = _host_port(value[1], f'{path}[1]')
        return (ip,) if port is None else (ip, port)
    if _is_address(value):  # ['127.0.0.1']: that address, any free port
        return (value,)
    return _host_port(value, path)


def _is_address(value: Any) -> bool:
    """An IP address alone (a host port is never one)."""
    try:
        ip_text(value, '')
    except InvalidInputError:
        return False
    return isinstance(value, str) and bool(value)


def _is_ip_pair(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and isinstance(value[0], str) \
        and ascii_int(value[0].split('-')[0]) is None


def _spread(ports_: list[Port], binding: Any, path: str) -> list[tuple[Port, Any]]:
    """Bindings of a container port range, as the docker CLI pairs them: a host range
    of the same length goes port by port; a host range for one container port lets
    the engine pick; no host port gives each a port of the engine's choice."""
    if len(ports_) == 1:
        return [(ports_[0], binding)]
    ip, host = (binding[0], binding[1] if len(binding) > 1 else None) \
        if isinstance(binding, tuple) else ('', binding)
    if host is None:
        return [(port, binding) for port in ports_]
    hosts = port_range(str(host), path)
    if len(hosts) != len(ports_):
        raise InvalidInputError(path, f'{len(ports_)} container ports need a host range of '
                                      f'the same length, got {host!r}')
    return [(port, (ip, number) if ip else number) for port, number in zip(ports_, hosts)]


def _published(text: Any, path: str) -> tuple[list[Port], Any]:
    """The docker CLI's ``[ip:][host_port:]container_port[/protocol]``."""
    if not isinstance(text, str):
        return port_spec(text, path), None
    rest, _, proto = text.partition('/')
    ip = ''
    if rest.startswith('['):  # [IPv6]:host:container
        ip, sep, rest = rest[1:].partition(']:')
        if not sep:
            raise InvalidInputError(path, f"expected '[ipv6]:host_port:container_port', got "
                                          f'{text[:60]!r}')
        ip_text(ip, path)
        host, _, container = rest.partition(':')
    else:
        parts = rest.split(':')
        if len(parts) > 3:
            raise InvalidInputError(path, "expected '[ip:][host_port:]container_port[/proto]' "
                                          f'(an IPv6 address in brackets), got {text[:60]!r}')
        container, host = parts[-1], parts[-2] if len(parts) > 1 else ''
        ip = ip_text(parts[0], path) if len(parts) == 3 else ''
    container_ports = port_spec(f'{container}/{proto}' if proto else container, path)
    port = _host_port(host, path)
    binding = (ip, port) if ip and port is not None else (ip,) if ip else port
    return container_ports, binding


def port_bindings(value: Any, path: str) -> dict[str, Any]:
    """``{container_port: binding or [bindings]}`` in YAML-friendly forms, or the docker
    CLI's list (``['8080:80', '127.0.0.1::53/udp', '9010-9050:9010-9050']``), as
    ``{'80/tcp': binding or [bindings]}`` for the SDK."""
    pairs: list[tuple[Port, Any]] = []
    if isinstance(value, list):
        for index, item in enumerate(value):
            sub = f'{path}[{index}]'
            container_ports, binding = _published(item, sub)
            pairs += _spread(container_ports, binding, sub)
    else:
        for key, binding in value.items():
            sub = f'{path}.{key}'
            container_ports = port_spec(key, sub)
            if isinstance(binding, list) and not _is_ip_pair(binding):
                found = [_binding(b, f'{sub}[{i}]') for i, b in enumerate(binding)]
                for one in found:
                    pairs += _spread(container_ports, one, sub)
            else:
                pairs += _spread(container_ports, _binding(binding, sub), sub)
    out: dict[str, list[Any]] = {}
    for port, binding in pairs:
        out.setdefault(port_key(port), []).append(binding)
    return {key: found[0] if len(found) == 1 else found for key, found in out.items()}


PORT_BINDINGS = Custom((dict, list), port_bindings, 'a dictionary of container port: host '
                                                    "port, [ip, port] or a list of them; or "
                                                    "['[ip:][host:]container[/proto]', ...]")


def stored_bindings(value: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
    """``port_bindings`` as the engine stores them (``HostConfig.PortBindings``)."""
    def one(binding: Any) -> dict[str, str]:
        if isinstance(binding, tuple):
            ip, port = binding[0], binding[1] if len(binding) > 1 else None
        else:
            ip, port = '', binding
        return {'HostIp': ip, 'HostPort': '' if port is None else str(port)}
    return {key: [one(b) for b in (found if isinstance(found, list) else [found])]
            for key, found in value.items()}
