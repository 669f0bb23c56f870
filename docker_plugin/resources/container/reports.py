"""What to say about a container: runtime properties and log lines, from inspect data.

Pure functions: no engine calls.
"""

from __future__ import annotations

from typing import Any, Mapping

from docker_plugin import results
from docker_plugin.resources import published


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
    state = info.get('State') or {}
    ports = published.from_inspect(settings.get('Ports'))
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


def host_ports(ports: published.Ports) -> dict[str, int]:
    """The host port each published container port got, as an integer
    (``{'8080/tcp': 32768}``): what the engine chose for a range or for any free
    port, per instance. A port published on several addresses (IPv4 and IPv6) has
    one host port; the first is kept."""
    found = {}
    for port, bindings in ports.items():
        number = next((b['host_port'] for b in bindings or [] if b['host_port']), None)
        if number is not None:
            found[port] = number
    return found


def main_process(info: Mapping[str, Any]) -> str:
    """The container's main process as inspect shows it: its path and arguments, and the
    host PID (what ``top`` would list first)."""
    words = [str(info.get('Path') or ''), *(str(a) for a in info.get('Args') or [])]
    command = ' '.join(w for w in words if w)[:300] or '(unknown)'
    pid = (info.get('State') or {}).get('Pid')
    return f'{command} (PID {pid})' if pid else command


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
    return published.describe(summary['ports']) or ['no ports']


def format_top(table: Mapping[str, Any] | None) -> str:
    """The ``top`` answer as an aligned text table."""
    if not table:
        return '(not running)'
    titles = [str(title) for title in table.get('Titles') or []]
    rows = [dict(zip(titles, row)) for row in table.get('Processes') or []]
    return results.table(rows, [(title, title) for title in titles])


def inspected(info: Mapping[str, Any]) -> dict[str, Any]:
    """What ``inspect`` keeps: the summary, the state, part of the configuration (the
    environment by name only, never its values) and the restart policy."""
    config = dict(info.get('Config') or {})
    config['Env'] = [str(entry).split('=', 1)[0] for entry in config.get('Env') or []]
    return {**summarise(info), 'status': info.get('State') or {},
            'config': {k: config.get(k) for k in ('Image', 'Cmd', 'Entrypoint', 'Env',
                                                  'Labels', 'WorkingDir', 'User')},
            'restart_policy': (info.get('HostConfig') or {}).get('RestartPolicy')}


def describe(inspected: Mapping[str, Any]) -> list[str]:
    """What ``inspect`` shows a person (from ``inspected``): state, image, command,
    networks, ports, restart policy and the environment's names."""
    config = inspected.get('config') or {}
    policy = inspected.get('restart_policy') or {}
    retries = policy.get('MaximumRetryCount')
    command = [*(config.get('Entrypoint') or []), *(config.get('Cmd') or [])]
    return [f"state: {state_line({'State': inspected.get('status') or {}})}",
            f"image: {config.get('Image') or '-'} ({inspected['image_id'][:19] or '-'})",
            f"command: {' '.join(map(str, command)) or '-'}",
            *describe_networks(inspected), *describe_ports(inspected),
            f"restart policy: {policy.get('Name') or 'no'}"
            + (f' (at most {results.count(retries, "retry")})' if retries else ''),
            f"environment: {', '.join(sorted(config.get('Env') or [])) or '-'}"]


def state_line(info: Mapping[str, Any]) -> str:
    """``running``, ``exited (1)``, ``running and unhealthy`` ..."""
    state = info.get('State') or {}
    status = state.get('Status', '?')
    if status == 'exited':
        status = f'exited ({state.get("ExitCode")})'
    health = (state.get('Health') or {}).get('Status')
    return f'{status} and {health}' if health else status
