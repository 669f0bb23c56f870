"""Readiness waits: until a container runs, is healthy, logged a line, listens
on a port, or exited with the expected code.

``validate`` checks a ``wait_for`` dict; ``probe`` looks once and says whether
the condition holds; ``wait`` polls ``probe`` until it holds or the timeout,
which the plugin enforces itself (local Cloudify runs enforce none). A
container that exits while one waits for anything but its exit fails at
once, quoting its last log lines.
"""

from __future__ import annotations

import dataclasses
import re
import socket
import time
from typing import Any, Callable, Mapping

import docker

from docker_plugin.errors import ConflictError, InvalidInputError
from docker_plugin.resources import containers
from docker_plugin.resources.actions import ActionTimeout

CONDITIONS = ('running', 'healthy', 'log', 'port', 'exited')
FIELD = 'wait_for'


@dataclasses.dataclass(frozen=True)
class WaitSpec:
    condition: str
    timeout: float = 60.0
    interval: float = 0.5
    pattern: str | None = None
    port: int | None = None
    exit_code: int = 0
    run_async: bool = False

    def describe(self) -> str:
        return {
            'running': 'to be running',
            'healthy': 'to be healthy',
            'log': f'to log a line matching {self.pattern!r}',
            'port': f'to accept TCP connections on port {self.port}',
            'exited': f'to exit with code {self.exit_code}',
        }[self.condition]


@dataclasses.dataclass
class Observation:
    done: bool
    seen: str  # what the probe saw, for progress and timeout messages
    logs: str = ''
    exit_code: int | None = None


def validate(raw: Mapping[str, Any] | None, field: str = FIELD) -> WaitSpec | None:
    """A WaitSpec from the blueprint's dict, or None when nothing is to be waited for."""
    if not raw:
        return None
    if not isinstance(raw, Mapping):
        raise InvalidInputError(field, f'expected a dictionary, got {type(raw).__name__}')
    known = {'condition', 'timeout', 'interval', 'pattern', 'port', 'exit_code', 'async'}
    unknown = set(raw) - known
    if unknown:
        raise InvalidInputError(f'{field}.{sorted(unknown)[0]}',
                                f'unknown option; known: {", ".join(sorted(known))}')
    condition = raw.get('condition', 'running')
    if condition not in CONDITIONS:
        raise InvalidInputError(f'{field}.condition', f'one of {", ".join(CONDITIONS)}')
    numbers = {}
    for key, default in (('timeout', 60.0), ('interval', 0.5)):
        value = raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise InvalidInputError(f'{field}.{key}', 'expected a number of seconds > 0')
        numbers[key] = float(value)
    pattern = raw.get('pattern')
    if condition == 'log':
        if not isinstance(pattern, str) or not pattern:
            raise InvalidInputError(f'{field}.pattern', 'required for condition log: a regex')
        try:
            re.compile(pattern)
        except re.error as exc:
            raise InvalidInputError(f'{field}.pattern', f'not a regular expression: {exc}') \
                from None
    port = raw.get('port')
    if condition == 'port' and (isinstance(port, bool) or not isinstance(port, int)
                                or not 0 < port < 65536):
        raise InvalidInputError(f'{field}.port', 'required for condition port: a TCP port')
    exit_code = raw.get('exit_code', 0)
    if isinstance(exit_code, bool) or not isinstance(exit_code, int):
        raise InvalidInputError(f'{field}.exit_code', 'expected an integer')
    run_async = raw.get('async', False)
    if not isinstance(run_async, bool):
        raise InvalidInputError(f'{field}.async', 'expected true or false')
    return WaitSpec(condition, numbers['timeout'], numbers['interval'], pattern, port,
                    exit_code, run_async)


def probe(api: docker.APIClient, container_id: str, spec: WaitSpec) -> Observation:
    """Look once. Raises ConflictError when the condition can no longer hold."""
    info = containers.inspect(api, container_id)
    if info is None:
        raise ConflictError(f'container {container_id[:12]} disappeared while waiting '
                            f'for it {spec.describe()}')
    state = info['State']
    status = state.get('Status', '?')
    if spec.condition == 'exited':
        if state.get('Running') or status in ('created', 'restarting'):
            return Observation(False, f'still {status}')
        code = state.get('ExitCode')
        tail = containers.logs_tail(api, container_id, lines=20)
        if code != spec.exit_code:
            raise ConflictError(f'container {container_id[:12]} exited with code {code}, '
                                f'expected {spec.exit_code}; last output:\n{tail or "(none)"}')
        return Observation(True, f'exited with code {code}', tail, code)
    if not state.get('Running'):
        tail = containers.logs_tail(api, container_id, lines=20)
        raise ConflictError(f'container {container_id[:12]} is {status} (exit code '
                            f'{state.get("ExitCode")}) while waiting for it {spec.describe()}; '
                            f'last output:\n{tail or "(none)"}')
    if spec.condition == 'running':
        return Observation(True, 'running')
    if spec.condition == 'healthy':
        health = (state.get('Health') or {}).get('Status')
        if health is None:
            return Observation(True, 'running (no healthcheck defined)')
        return Observation(health == 'healthy', f'health {health}')
    if spec.condition == 'log':
        text = containers.logs_tail(api, container_id, lines=1000)
        match = re.search(spec.pattern or '', text, re.MULTILINE)
        if match:
            return Observation(True, f'logged {match.group(0)!r}')
        last = text.strip().splitlines()[-1:] or ['(no output yet)']
        return Observation(False, f'last line {last[0]!r}')
    return _probe_port(info, spec.port or 0)


def _probe_port(info: Mapping[str, Any], port: int) -> Observation:
    """Connect to the published port on loopback, else to the container's own address."""
    summary = containers.summarise(info)
    targets = []
    for binding in summary['ports'].get(f'{port}/tcp') or []:
        if binding['host_ip'] in ('', '0.0.0.0', '127.0.0.1', '::'):
            targets.append(('127.0.0.1', int(binding['host_port'])))
    targets += [(net['ip'], port) for net in summary['networks'].values() if net['ip']]
    if not targets:
        return Observation(False, f'no address to reach port {port} on')
    errors = []
    for host, target_port in targets:
        try:
            with socket.create_connection((host, target_port), timeout=1):
                return Observation(True, f'{host}:{target_port} accepted a connection')
        except OSError as exc:
            errors.append(f'{host}:{target_port} {exc.strerror or exc}')
    return Observation(False, '; '.join(errors))


def wait(api: docker.APIClient, container_id: str, spec: WaitSpec, log: Callable[[str], None],
         clock: Callable[[], float] = time.monotonic,
         sleep: Callable[[float], None] = time.sleep) -> Observation:
    """Poll until the condition holds, or raise ActionTimeout after ``spec.timeout``."""
    deadline = clock() + spec.timeout
    last_seen = ''
    while True:
        seen = probe(api, container_id, spec)
        if seen.done:
            return seen
        if seen.seen != last_seen:
            log(f'waiting for container {container_id[:12]} {spec.describe()}: {seen.seen}')
            last_seen = seen.seen
        if clock() >= deadline:
            raise ActionTimeout(f'container {container_id[:12]} was not ready after '
                                f'{spec.timeout:g}s: waited for it {spec.describe()}, '
                                f'last saw: {seen.seen}')
        sleep(min(spec.interval, max(0.0, deadline - clock())))
