"""Published ports, in one shape for every kind.

``{'<port>/<protocol>': [{'host_ip': '127.0.0.1', 'host_port': 8080}, ...]}``,
ports as integers; a port the container exposes without publishing it maps to
None. A container's inspect data (``NetworkSettings.Ports``, whose host ports
are text), the container list a compose project is read from (``Ports``) and
compose's own ``ps`` (``Publishers``) all come out this way, so a Container's
``ports``, a ComposeProject's ``services`` and its ``ps`` result read alike.
Pure functions: no engine calls.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Mapping, Optional

Ports = Dict[str, Optional[List[Dict[str, Any]]]]  # a runtime alias: typing's spelling


def number(value: Any) -> int | None:
    """A port as an integer (the engine writes host ports as text); None for none."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value or None
    text = str(value or '').strip()
    return int(text) if text.isascii() and text.isdigit() else None


def binding(host_ip: Any, host_port: Any) -> dict[str, Any]:
    return {'host_ip': str(host_ip or ''), 'host_port': number(host_port)}


def from_inspect(ports: Mapping[str, Any] | None) -> Ports:
    """From inspect's ``NetworkSettings.Ports`` (``{'80/tcp': [{HostIp, HostPort}] | None}``)."""
    return {str(port): None if bound is None else
            [binding(b.get('HostIp'), b.get('HostPort')) for b in bound]
            for port, bound in (ports or {}).items()}


def from_list(entries: Iterable[Mapping[str, Any]] | None) -> Ports:
    """From the container list's ``Ports`` (``[{IP, PrivatePort, PublicPort, Type}]``)."""
    out: Ports = {}
    for entry in entries or []:
        _add(out, entry.get('PrivatePort'), entry.get('Type'), entry.get('IP'),
             entry.get('PublicPort'))
    return out


def from_publishers(entries: Iterable[Mapping[str, Any]] | None) -> Ports:
    """From compose ps's ``Publishers`` (``[{URL, TargetPort, PublishedPort, Protocol}]``)."""
    out: Ports = {}
    for entry in entries or []:
        _add(out, entry.get('TargetPort'), entry.get('Protocol'), entry.get('URL'),
             entry.get('PublishedPort'))
    return out


def _add(out: Ports, port: Any, protocol: Any, host_ip: Any, host_port: Any) -> None:
    key = f'{number(port) or port}/{protocol or "tcp"}'
    found = out.get(key)
    if number(host_port) is None:
        out.setdefault(key, None)
        return
    out[key] = [*(found or []), binding(host_ip, host_port)]


def describe(ports: Ports) -> list[str]:
    """One line per binding, for a person: ``port 80/tcp -> 127.0.0.1:8080``."""
    lines = []
    for port, bound in ports.items():
        if not bound:
            lines.append(f'port {port}: exposed, not published')
        for b in bound or []:
            lines.append(f"port {port} -> {b['host_ip'] or '0.0.0.0'}:{b['host_port']}")
    return lines
