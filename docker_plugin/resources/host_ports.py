"""Host ports in use on an engine's host, found without changing anything there.

Two sources, neither of which binds, connects out or starts anything:

* ``published``: the ports the engine's running containers publish (its own
  container list), with the Cloudify deployment each container carries;
* ``listening``, for an engine on this host's unix socket only: the sockets
  listening in the network namespace of the engine's process (whoever holds
  the socket's other end, ``SO_PEERCRED``), read from ``/proc/<pid>/net``.
  A port a container publishes shows there too (``docker-proxy``): those are
  told by ``published``; what is left is some other process.

Binding a test socket would have told the same for this host's own namespace,
but for a moment it would hold the port itself, and it could not see into an
engine's namespace of its own.
"""

from __future__ import annotations

import os
import socket
import struct
from typing import Iterator

from docker_plugin.claims import Holder
from docker_plugin.resources.engine_api import EngineApi

# /proc/net states: a TCP socket listening; a UDP socket bound and not connected.
LISTEN = {'tcp': '0A', 'udp': '07'}
PEER_TIMEOUT = 2.0


def published(api: EngineApi) -> list[Holder]:
    """The host ports the engine's running (and paused) containers publish."""
    found = []
    for container in api.containers():
        labels = container.get('Labels') or {}
        deployment = str(labels.get('cloudify.deployment') or '')
        name = str((container.get('Names') or [''])[0]).lstrip('/') or \
            str(container.get('Id', ''))[:12]
        by = f'container {name}' + (f' of deployment {deployment}' if deployment else '')
        for port in container.get('Ports') or []:
            if port.get('PublicPort'):
                found.append(Holder(str(port.get('IP') or ''), int(port['PublicPort']),
                                    str(port.get('Type') or 'tcp'), by, deployment))
    return found


def listening(base_url: str) -> list[Holder] | None:
    """Sockets listening where an engine on this host's unix socket binds its ports;
    None when that cannot be read (another kind of engine, no such process, no access)."""
    if not base_url.startswith('unix://'):
        return None
    pid = engine_pid('/' + base_url[len('unix://'):].lstrip('/'))
    if pid is None:
        return None
    found = []
    try:
        for proto in LISTEN:
            for suffix in ('', '6'):
                path = f'/proc/{pid}/net/{proto}{suffix}'
                if os.path.exists(path):
                    found += [Holder(ip, port, proto, f'a process listening on '
                                     f'{_joined(ip, port)}')
                              for ip, port in _sockets(path, LISTEN[proto])]
    except (OSError, ValueError):
        return None
    return found


def holders(api: EngineApi, base_url: str) -> list[Holder]:
    """Everything that holds a host port on the engine's host, as far as can be seen:
    containers first; then other processes, where the engine is on this host."""
    containers = published(api)
    seen = {(h.port, h.proto) for h in containers}
    others = [h for h in listening(base_url) or [] if (h.port, h.proto) not in seen]
    return containers + others


def engine_pid(path: str) -> int | None:
    """The process at the other end of the engine's unix socket."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(PEER_TIMEOUT)
            sock.connect(path)
            raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                  struct.calcsize('3i'))
    except (OSError, AttributeError):
        return None
    pid = struct.unpack('3i', raw)[0]
    return pid if pid > 0 else None


def _sockets(path: str, state: str) -> Iterator[tuple[str, int]]:
    with open(path) as handle:
        lines = handle.read().splitlines()[1:]
    for line in lines:
        parts = line.split()
        if len(parts) < 4 or parts[3] != state:
            continue
        address, _, port = parts[1].partition(':')
        remote = parts[2].partition(':')[0]
        if state == LISTEN['udp'] and remote.strip('0'):
            continue  # a connected UDP socket
        yield _address(address), int(port, 16)


def _address(hexed: str) -> str:
    """A /proc/net address: 32-bit words in host order (little-endian here)."""
    raw = b''.join(bytes.fromhex(hexed[i:i + 8])[::-1] for i in range(0, len(hexed), 8))
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, raw)
    text = socket.inet_ntop(socket.AF_INET6, raw)
    return text[len('::ffff:'):] if text.startswith('::ffff:') and '.' in text else text


def _joined(ip: str, port: int) -> str:
    return f'[{ip}]:{port}' if ':' in ip else f'{ip}:{port}'
