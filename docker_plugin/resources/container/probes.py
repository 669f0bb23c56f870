"""Readiness: whether a container runs, is healthy, is ready as ``docker compose up
--wait`` means it, logged a line, serves a port, or exited with the expected code;
and a bounded loop that waits for it.

``ready`` is running, and healthy when the container has a healthcheck (its
own or its image's: the engine merges them), or *completed*: exited 0 under
a restart policy that will not start it again, without a healthcheck
(``resources.completion``);
unhealthy fails it at once, as compose does. A container that exits while
one waits for anything but its exit (or its completion) fails the wait at
once, quoting its last log lines. "Serves a port" means the
application accepts: the container's own address is tried first (for an
engine on this host), then the published port, where a connection only
counts if it survives a short read (the engine's userland proxy accepts on
the host port even when nothing listens in the container, then closes).
"""

from __future__ import annotations

import re
import socket
import time
from typing import Any, Callable, Mapping

from docker_plugin import records
from docker_plugin.errors import StateError
from docker_plugin.resources import completion, waiting
from docker_plugin.resources.container import containers, logs
from docker_plugin.resources.container.reports import summarise
from docker_plugin.resources.engine_api import EngineApi

LOG_BYTES = 64000
Guard = Callable[[str], 'str | None']  # why a host may not be connected to (None: it may)


@records.record(frozen=True)
class WaitSpec:
    condition: str = 'running'
    timeout: float = 60.0
    interval: float = 0.5
    pattern: str | None = None
    port: int | None = None
    exit_code: int = 0
    run_async: bool = False

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> WaitSpec:
        """From ``options.lifecycle.wait_for``'s validated values."""
        return cls(values['condition'], float(values['timeout']), float(values['interval']),
                   values.get('pattern'), values.get('port'), values.get('exit_code', 0),
                   bool(values.get('async')))

    def describe(self) -> str:
        return {
            'running': 'to be running',
            'healthy': 'to be healthy',
            'ready': 'to be ready (running, healthy if it has a healthcheck, or completed)',
            'log': f'to log a line matching {self.pattern!r}',
            'port': f'to accept TCP connections on port {self.port}',
            'exited': f'to exit with code {self.exit_code}',
        }[self.condition]


@records.record
class Observation:
    done: bool
    seen: str  # what the probe saw, for progress and timeout messages
    logs: str = ''
    exit_code: int | None = None


def probe(api: EngineApi, container_id: str, spec: WaitSpec, engine_host: str | None,
          guard: Guard | None = None) -> Observation:
    """Look once. Raises StateError when the condition can no longer hold.

    Args:
        engine_host: the engine's address for published ports (None: this host).
        guard: why an address may not be connected to (None: it may), for a port.
    """
    info = containers.inspect(api, container_id)
    if info is None:
        raise StateError(f'container {container_id[:12]} disappeared while waiting '
                         f'for it {spec.describe()}')
    state = info['State']
    status = state.get('Status', '?')
    if spec.condition == 'exited':
        if state.get('Running') or status in ('created', 'restarting'):
            return Observation(False, f'still {status}')
        code = state.get('ExitCode')
        tail = logs.last_lines(api, container_id)
        if code != spec.exit_code:
            raise StateError(f'container {container_id[:12]} exited with code {code}, '
                             f'expected {spec.exit_code}; last output:\n{tail or "(none)"}')
        return Observation(True, f'exited with code {code}', tail, code)
    if spec.condition == 'ready' and completion.completed(
            status, state.get('ExitCode'), completion.container_restart(info),
            completion.container_healthcheck(info)):
        return Observation(True, 'completed (exited with code 0)',
                           logs.last_lines(api, container_id), 0)
    if not state.get('Running'):
        tail = logs.last_lines(api, container_id)
        raise StateError(f'container {container_id[:12]} is {status} (exit code '
                         f'{state.get("ExitCode")}) while waiting for it {spec.describe()}; '
                         f'last output:\n{tail or "(none)"}')
    if spec.condition == 'running':
        return Observation(True, 'running')
    if spec.condition in ('healthy', 'ready'):
        health = (state.get('Health') or {}).get('Status')
        if health is None:
            return Observation(True, 'running (no healthcheck defined)')
        if health == 'unhealthy' and spec.condition == 'ready':
            tail = logs.last_lines(api, container_id)
            raise StateError(f'container {container_id[:12]} is unhealthy while waiting for '
                             f'it {spec.describe()}; last output:\n{tail or "(none)"}')
        return Observation(health == 'healthy', f'health {health}')
    if spec.condition == 'log':
        text = logs.read(api, container_id, tail=1000, max_bytes=LOG_BYTES,
                         deadline=time.monotonic() + 30).text()
        match = re.search(spec.pattern or '', text, re.MULTILINE)
        if match:
            return Observation(True, f'logged {match.group(0)[:500]!r}')
        last = text.strip().splitlines()[-1:] or ['(no output yet)']
        return Observation(False, f'last line {last[0][:200]!r}')
    return _probe_port(info, spec.port or 0, engine_host, guard)


def _targets(info: Mapping[str, Any], port: int, engine_host: str | None) -> list[tuple]:
    summary = summarise(info)
    direct = [(net['ip'], port, False) for net in summary['networks'].values() if net['ip']]
    published = []
    for binding in summary['ports'].get(f'{port}/tcp') or []:
        address = binding['host_ip']
        if address in ('', '0.0.0.0', '::'):
            address = engine_host or '127.0.0.1'
        published.append((address, int(binding['host_port']), True))
    return (direct if engine_host is None else []) + published


def _probe_port(info: Mapping[str, Any], port: int, engine_host: str | None,
                guard: Guard | None = None) -> Observation:
    targets = _targets(info, port, engine_host)
    if not targets:
        return Observation(False, f'no address to reach port {port} on')
    seen = []
    for host, target_port, through_proxy in targets:
        refused = guard(host) if guard is not None else None
        if refused:
            seen.append(f'{host}:{target_port} not tried ({refused})')
            continue
        try:
            with socket.create_connection((host, target_port), timeout=1) as conn:
                if through_proxy and not _survives_read(conn):
                    seen.append(f'{host}:{target_port} closed the connection at once '
                                '(nothing listens behind it yet)')
                    continue
                return Observation(True, f'{host}:{target_port} accepted a connection')
        except OSError as exc:
            seen.append(f'{host}:{target_port} {exc.strerror or exc}')
    return Observation(False, '; '.join(seen))


def _survives_read(conn: socket.socket, wait: float = 0.3) -> bool:
    """True if the peer keeps the connection open (or talks) for ``wait`` seconds."""
    conn.settimeout(wait)
    try:
        return conn.recv(1) != b''
    except socket.timeout:
        return True
    except OSError:
        return False


def look(api: EngineApi, container_id: str, spec: WaitSpec, engine_host: str | None = None,
         guard: Guard | None = None) -> waiting.Look:
    """The readiness wait as a look of ``resources.waiting``: Done(the observation)."""
    def once(state: waiting.WaitState) -> waiting.Done[Observation] | waiting.Pending:
        seen = probe(api, container_id, spec, engine_host, guard)
        return waiting.Done(seen) if seen.done else waiting.Pending(seen.seen)
    return once


def describe(container_id: str, spec: WaitSpec) -> str:
    return f'container {container_id[:12]} {spec.describe()}'


def late(container_id: str, spec: WaitSpec) -> waiting.Late:
    """What a readiness wait says when its deadline passed."""
    return lambda state: (f'container {container_id[:12]} was not ready after '
                          f'{spec.timeout:g}s: waited for it {spec.describe()}, '
                          f'last saw: {state.seen}')


def wait(api: EngineApi, container_id: str, spec: WaitSpec, log: Callable[[str], None],
         engine_host: str | None = None, clock: Callable[[], float] = time.monotonic,
         sleep: Callable[[float], None] = time.sleep, guard: Guard | None = None) -> Observation:
    """Poll until the condition holds, or raise TimeoutExpired after ``spec.timeout``
    (held here; the task layer's resumable wait uses ``look`` the same way)."""
    state = waiting.start(spec.timeout, clock=clock)
    return waiting.hold(look(api, container_id, spec, engine_host, guard), state,
                        describe(container_id, spec), spec.interval, log, clock, sleep,
                        late(container_id, spec)).value
