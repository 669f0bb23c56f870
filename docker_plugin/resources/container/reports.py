"""What to say about a container: runtime properties and log lines, from inspect data.

Pure functions: no engine calls.
"""

from __future__ import annotations

from typing import Any, Mapping

from docker_plugin.options.checks import ascii_int


def summarise(info: Mapping[str, Any]) -> dict[str, Any]:
    """Runtime properties that describe a container, from one inspect answer."""
    settings = info.get('NetworkSettings') or {}
    networks: dict[str, dict[str, Any]] = {}
    for net_name, net in (settings.get('Networks') or {}).items():
        net = net or {}
        networks[net_name] = {
            'ip': net.get('IPAddress') or '',
            'prefix_len': net.get('IPPrefixLen') or 0,
            'gateway': net.get('Gateway') or '',
            'ipv6': net.get('GlobalIPv6Address') or '',
            'mac': net.get('MacAddress') or '',
            'aliases': list(net.get('Aliases') or []),
            'network_id': net.get('NetworkID') or '',
        }
    ip = settings.get('IPAddress') or next(
        (n['ip'] for n in networks.values() if n['ip']), '')
    ports: dict[str, list[dict[str, str]] | None] = {}
    for port, bindings in (settings.get('Ports') or {}).items():
        ports[port] = None if bindings is None else [
            {'host_ip': b.get('HostIp', ''), 'host_port': b.get('HostPort', '')} for b in bindings]
    state = info.get('State') or {}
    return {
        'container_id': info['Id'],
        'container_name': info.get('Name', '').lstrip('/'),
        'image_id': info.get('Image', ''),
        'state': state.get('Status', ''),
        'exit_code': state.get('ExitCode'),
        'ip': ip,
        'networks': networks,
        'ports': ports,
        'host_ports': host_ports(ports),
    }


def host_ports(ports: Mapping[str, list[dict[str, str]] | None]) -> dict[str, int]:
    """The host port each published container port got, as an integer
    (``{'8080/tcp': 32768}``): what the engine chose for a range or for any free
    port, per instance. A port published on several addresses (IPv4 and IPv6) has
    one host port; the first is kept."""
    found = {}
    for port, bindings in ports.items():
        numbers = [ascii_int(str(b['host_port'])) for b in bindings or []]
        number = next((n for n in numbers if n is not None), None)
        if number is not None:
            found[port] = number
    return found


def describe_networks(summary: Mapping[str, Any]) -> list[str]:
    """Human lines: one per network interface."""
    lines = []
    for name, net in summary['networks'].items():
        address = f"{net['ip']}/{net['prefix_len']}" if net['ip'] else 'no IPv4 address'
        extra = f", IPv6 {net['ipv6']}" if net['ipv6'] else ''
        lines.append(f"network {name}: {address}, gateway {net['gateway'] or '-'}, "
                     f"MAC {net['mac'] or '-'}{extra}")
    return lines or ['no network interfaces']


def describe_ports(summary: Mapping[str, Any]) -> list[str]:
    lines = []
    for port, bindings in summary['ports'].items():
        if not bindings:
            lines.append(f'port {port}: exposed, not published')
        for b in bindings or []:
            lines.append(f"port {port} -> {b['host_ip'] or '0.0.0.0'}:{b['host_port']}")
    return lines or ['no ports']


def format_top(table: Mapping[str, Any] | None) -> str:
    """The ``top`` answer as an aligned text table."""
    if not table:
        return '(not running)'
    rows = [list(table.get('Titles') or [])] + [list(r) for r in table.get('Processes') or []]
    widths = [max(len(str(r[i])) for r in rows if i < len(r)) for i in range(len(rows[0]))]
    return '\n'.join('  '.join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)


def state_line(info: Mapping[str, Any]) -> str:
    """``running``, ``exited (1)``, ``running and unhealthy`` ..."""
    state = info.get('State') or {}
    status = state.get('Status', '?')
    if status == 'exited':
        status = f'exited ({state.get("ExitCode")})'
    health = (state.get('Health') or {}).get('Status')
    return f'{status} and {health}' if health else status
