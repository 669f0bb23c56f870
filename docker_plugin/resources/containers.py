"""Containers: create, start, inspect, stop, remove, and what to report about them."""

from __future__ import annotations

from typing import Any, Callable, Mapping

import docker

from docker_plugin.errors import ConflictError, NotFoundError, engine_call

NEVER = '0001-01-01T00:00:00Z'


def _short(container_id: str) -> str:
    return container_id[:12]


def inspect(api: docker.APIClient, container_id: str) -> dict[str, Any] | None:
    """Inspect data, or None when the container does not exist."""
    try:
        with engine_call(f'inspect container {_short(container_id)}'):
            return api.inspect_container(container_id)
    except NotFoundError:
        return None


def find_by_labels(api: docker.APIClient, labels: Mapping[str, str]) -> list[dict[str, Any]]:
    """Containers (running or not) carrying every given label; filtered by the engine."""
    filters = {'label': [f'{k}={v}' for k, v in labels.items()]}
    with engine_call('list containers by label'):
        return api.containers(all=True, filters=filters)


def host_config(api: docker.APIClient, host_options: Mapping[str, Any]) -> dict[str, Any]:
    """HostConfig body for the given host options (only what was asked for)."""
    with engine_call('build host config'):
        config = dict(api.create_host_config(**host_options))
    if 'network_mode' not in host_options:
        config.pop('NetworkMode', None)
    return config


def _exposed(create: Mapping[str, Any], host_options: Mapping[str, Any]) -> list[Any]:
    """Ports to expose: the user's plus every port that has a binding."""
    ports = list(create.get('ports') or [])
    for port in (host_options.get('port_bindings') or {}):
        if port not in ports and str(port) not in map(str, ports):
            ports.append(port)
    return ports


def create(api: docker.APIClient, image: str, create_options: Mapping[str, Any],
           host_options: Mapping[str, Any], labels: Mapping[str, str],
           name: str | None) -> str:
    """Create a container and return its id.

    Raises:
        ConflictError: the name is taken (the message names it).
        NotFoundError: the image does not exist locally.
    """
    kwargs = {k: v for k, v in create_options.items() if k not in ('image', 'name', 'detach')}
    kwargs['labels'] = {**dict(kwargs.get('labels') or {}), **labels}
    ports = _exposed(kwargs, host_options)
    if ports:
        kwargs['ports'] = ports
    if host_options:
        kwargs['host_config'] = host_config(api, host_options)
    with engine_call(f'create container {name or ""} from {image}'.replace('  ', ' ')):
        result = api.create_container(image=image, name=name, **kwargs)
    return result['Id']


def never_started(info: Mapping[str, Any]) -> bool:
    return info['State'].get('StartedAt', NEVER) == NEVER and not info['State'].get('Running')


def recreate_with_host_options(api: docker.APIClient, info: Mapping[str, Any],
                               host_options: Mapping[str, Any],
                               on_created: Callable[[str], None]) -> str:
    """Apply ``container_start`` host options to a container that never ran.

    The engine accepts HostConfig only at create time, so the container is
    created again from its own inspect data with the new HostConfig merged in.
    It never started, so nothing can be lost. Order, safe to resume at any
    point: rename the old one aside, create the new one under the old name,
    report its id (``on_created`` persists it), then remove the old one.

    Returns:
        The new container's id.
    """
    old_id = info['Id']
    if not never_started(info):
        raise ConflictError(f'container {_short(old_id)} has already run; its host options '
                            'can no longer change')
    name = info['Name'].lstrip('/')
    config = {k: v for k, v in info['Config'].items() if v not in (None, '', [], {})}
    if config.get('Hostname') == old_id[:12]:
        config.pop('Hostname')  # engine-made; the new container gets its own
    merged_host = {**info['HostConfig'], **host_config(api, host_options)}
    mode = merged_host.get('NetworkMode', '')
    if mode == 'host' or mode.startswith('container:'):
        for key in ('Hostname', 'Domainname', 'MacAddress'):
            config.pop(key, None)
        if mode.startswith('container:'):
            config.pop('ExposedPorts', None)
    exposed = dict(config.get('ExposedPorts') or {})
    for port in (host_options.get('port_bindings') or {}):
        key = str(port) if '/' in str(port) else f'{port}/tcp'
        exposed.setdefault(key, {})
    if exposed and not mode.startswith('container:'):
        config['ExposedPorts'] = exposed
    config['HostConfig'] = merged_host
    aside = f'{name}-replaced-{old_id[:8]}'
    with engine_call(f'rename container {name} aside'):
        api.rename(old_id, aside)
    with engine_call(f'create container {name} with its start options'):
        new_id = api.create_container_from_config(config, name)['Id']
    on_created(new_id)
    remove(api, old_id, v=True, force=True)  # it never ran: its anonymous volumes are empty
    return new_id


def start(api: docker.APIClient, container_id: str) -> None:
    """Start; a container that is already running is left alone."""
    with engine_call(f'start container {_short(container_id)}'):
        api.start(container_id)


def stop(api: docker.APIClient, container_id: str, timeout: int | None = None) -> bool:
    """Stop; False when the container is gone. Stopped already counts as done."""
    try:
        with engine_call(f'stop container {_short(container_id)}'):
            api.stop(container_id, timeout=timeout)
    except NotFoundError:
        return False
    return True


def remove(api: docker.APIClient, container_id: str, v: bool = False, link: bool = False,
           force: bool = False) -> bool:
    """Remove; False when the container was already gone."""
    try:
        with engine_call(f'remove container {_short(container_id)}'):
            api.remove_container(container_id, v=v, link=link, force=force)
    except NotFoundError:
        return False
    return True


def top(api: docker.APIClient, container_id: str) -> dict[str, Any] | None:
    """The process table, or None when the container is not running."""
    try:
        with engine_call(f'list processes of container {_short(container_id)}'):
            return api.top(container_id)
    except (NotFoundError, ConflictError):
        return None


def logs_tail(api: docker.APIClient, container_id: str, lines: int = 20) -> str:
    """The last lines of output (stdout and stderr), for messages."""
    try:
        with engine_call(f'read logs of container {_short(container_id)}'):
            data = api.logs(container_id, stdout=True, stderr=True, tail=lines)
    except (NotFoundError, ConflictError):
        return ''
    return data.decode('utf-8', errors='replace').rstrip()


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
    }


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
