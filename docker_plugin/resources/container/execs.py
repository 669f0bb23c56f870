"""Run a command in a container, bounded by a deadline, and stop it when it runs over.

The engine has no call that stops an exec. Each exec carries a marker in its
environment; at the deadline the output stream is shut (so a command that
prints nothing cannot hold the operation) and the processes carrying the
marker are killed from inside the container by a second, short exec (this
works on remote engines too). If the image has no shell for that, and the
engine runs on this host, the exec's own process is signalled by the PID its
inspect data gives. The result says which happened.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Mapping

from docker_plugin import records
from docker_plugin.errors import PluginError, TimeoutExpired, engine_call
from docker_plugin.resources.deadlines import guard, open_stream, raw_socket
from docker_plugin.resources.engine_api import EngineApi
from docker_plugin.resources.streams import Tail

MARKER = 'DOCKER_PLUGIN_EXEC_ID'
OUTPUT_BYTES = 64000


@records.record
class ExecResult:
    exit_code: int | None
    stdout: str
    stderr: str
    timed_out: bool = False
    stopped: str = ''     # how a command that ran over was stopped


def run(api: EngineApi, container_id: str, command: list[str], deadline: float, user: str = '',
        workdir: str | None = None, environment: Mapping[str, str] | None = None,
        privileged: bool = False, local_engine: bool = False) -> ExecResult:
    """Run ``command``; keep the last ``OUTPUT_BYTES`` of each stream.

    Args:
        local_engine: the engine runs on this host (a unix socket), so its
            PIDs can be signalled directly as a last resort.

    Raises:
        TimeoutExpired: it ran past ``deadline``; the message says how it was
            stopped and what it printed last.
    """
    from docker.utils.socket import frames_iter
    marker = os.urandom(16).hex()
    action = f'exec {command!r} in container {container_id[:12]}'[:300]
    env = {**dict(environment or {}), MARKER: marker}
    with engine_call(action):
        exec_id = api.exec_create(container_id, command, user=user, workdir=workdir,
                                  environment=env, privileged=privileged)['Id']
        response = open_stream(api, 'post', '/exec/{0}/start', exec_id,
                               body={'Tty': False, 'Detach': False},
                               headers={'Connection': 'Upgrade', 'Upgrade': 'tcp'},
                               deadline=deadline, action=action)
    out, err = Tail(OUTPUT_BYTES), Tail(OUTPUT_BYTES)
    try:
        with guard(api, response, action, deadline):
            for stream, data in frames_iter(raw_socket(response), False):
                (out if stream == 1 else err).add(data)
    except TimeoutExpired:
        how = stop(api, container_id, exec_id, marker, local_engine)
        raise TimeoutExpired(f'{action}: still running at its timeout; {how}; output so far: '
                             f'{out.text()[-500:]!r}') from None
    return ExecResult(exit_code(api, exec_id, action, deadline), out.text(), err.text())


def exit_code(api: EngineApi, exec_id: str, action: str, deadline: float,
              settle: float = 5.0) -> int | None:
    """The exec's exit code. The engine can answer the inspect that follows the end of
    the output with ``Running`` still true and no code (seen under load): ask again
    for a few seconds (never past the deadline); None if it never says."""
    until = min(deadline, time.monotonic() + settle)
    while True:
        with engine_call(action):
            info = api.exec_inspect(exec_id)
        if not info.get('Running') or time.monotonic() >= until:
            return info.get('ExitCode')
        time.sleep(0.05)


def stop(api: EngineApi, container_id: str, exec_id: str, marker: str, local_engine: bool) -> str:
    """Kill what an exec started; says what was done (never raises)."""
    script = (f'for p in /proc/[0-9]*; do grep -qz {MARKER}={marker} "$p/environ" 2>/dev/null '
              '&& kill -KILL "${p#/proc/}" 2>/dev/null; done; true')
    try:
        with engine_call('stop the exec'):
            killer = api.exec_create(container_id, ['sh', '-c', script])['Id']
            api.exec_start(killer)
    except PluginError as exc:
        reason = str(exc)[:200]
    else:
        if _ended(api, exec_id):
            return 'its processes were killed'
        reason = 'the processes did not end'
    if local_engine:
        pid = _pid(api, exec_id)
        if pid:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError as exc:
                return f'it could not be stopped ({reason}; signalling pid {pid}: {exc})'
            if _ended(api, exec_id):
                return f'its process (pid {pid} on the engine host) was killed'
    return f'it could not be stopped and may still run ({reason})'


def _pid(api: EngineApi, exec_id: str) -> int | None:
    try:
        with engine_call('inspect the exec'):
            return api.exec_inspect(exec_id).get('Pid') or None
    except PluginError:
        return None


def _ended(api: EngineApi, exec_id: str, wait: float = 3.0) -> bool:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            with engine_call('inspect the exec'):
                if not api.exec_inspect(exec_id).get('Running'):
                    return True
        except PluginError:
            return False
        time.sleep(0.1)
    return False
