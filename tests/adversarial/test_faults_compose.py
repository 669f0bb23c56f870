"""The fault tier for ComposeProject: the engine killed while ``start`` runs
``up --wait``, and a registry that stalls under ``pull`` and under ``up`` with
``pull_policy: always``.

The engine is a namespaced test host (``helpers.remote_engine``) reached over
mutual TLS, so killing it disturbs nothing else. It is SIGKILLed the moment
the project's container is up and still ``health: starting``: ``start`` must
end in a ``RecoverableError`` (engine unreachable) well within its timeout,
with no compose process left behind; once the engine is back the same
``start`` converges, and ``delete`` leaves nothing labelled. Frozen instead
(alive, silent), the engine holds compose until the plugin's deadline; a
ping then finds it silent, so the operation is retried too. The stalling
registry accepts connections and never answers: each operation ends at its
own timeout, its compose process killed, with an error saying so.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from cloudify.exceptions import NonRecoverableError, RecoverableError
from cloudify.state import current_ctx
from helpers.mock_ctx import node_ctx
from helpers.remote_engine import remote_engine

from docker_plugin.tasks.compose import lifecycle as compose
from docker_plugin.tasks.compose import lifecycle as compose_state

pytestmark = [pytest.mark.engine, pytest.mark.fault]
BASE = 'docker-plugin/busybox:latest'
LOOP = "trap 'exit 0' TERM; while true; do sleep 0.2; done"
# Healthy only after a few seconds: the engine is killed while up --wait waits.
SLOW_HEALTH = {
    'services': {'app': {
        'image': BASE, 'command': ['sh', '-c', f'sleep 6; touch /tmp/ready; {LOOP}'],
        'volumes': ['data:/data'], 'networks': ['back'],
        'healthcheck': {'test': ['CMD', 'test', '-f', '/tmp/ready'], 'interval': '1s',
                        'retries': 30}}},
    'networks': {'back': {}}, 'volumes': {'data': {}}}


@pytest.fixture(scope='module')
def engine(tmp_path_factory):
    with remote_engine(tmp_path_factory.mktemp('compose-fault-engine'), BASE, tag=216) as engine:
        yield engine


def _ctx(unique: str, properties: dict[str, Any]) -> Any:
    return node_ctx(unique, properties, node='app')


def compose_processes(project: str) -> list[str]:
    """Live processes whose command line names the project (compose's ``-p NAME``)."""
    found = []
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            argv = Path(f'/proc/{pid}/cmdline').read_bytes().split(b'\0')
            state = next((line for line in Path(f'/proc/{pid}/status').read_text().splitlines()
                          if line.startswith('State:')), '')
        except OSError:
            continue
        if project.encode() in argv and 'Z' not in state:
            found.append(f'{pid}: {b" ".join(argv).decode(errors="replace")[:200]}')
    return found


def labelled_on(cli: list[str], deployment: str) -> dict[str, list[str]]:
    """Containers, networks and volumes labelled with the deployment, on one engine."""
    found = {}
    for kind, listing in (('containers', ['ps', '-a', '-q']), ('networks', ['network', 'ls', '-q']),
                          ('volumes', ['volume', 'ls', '-q'])):
        label = f'label=cloudify.deployment={deployment}'
        out = subprocess.run([*cli, *listing, '--filter', label], capture_output=True,
                             text=True, timeout=60, check=True).stdout
        found[kind] = out.split()
    return found


NOTHING = {'containers': [], 'networks': [], 'volumes': []}


def _until(predicate: Any, timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def _retried(call: Any, ctx: Any, attempts: int = 10, **kwargs: Any) -> int:
    """Call a task as Cloudify would: again after each RecoverableError (bounded)."""
    for attempt in range(attempts):
        try:
            call(ctx=ctx, **kwargs)
            return attempt
        except RecoverableError:
            time.sleep(2)
    raise AssertionError(f'{call.__name__} still failing after {attempts} attempts')


@contextlib.contextmanager
def killed_when_starting(engine: Any, deployment: str, how: Any) -> Iterator[list[float]]:
    """Kill (SIGKILL, a crash) or stop (SIGTERM, then its containerd and containers) the
    engine once the project's container runs but is not healthy yet."""
    killed: list[float] = []
    done = threading.Event()

    def watch() -> None:
        deadline = time.monotonic() + 60
        while not done.is_set() and time.monotonic() < deadline:
            out = subprocess.run([*engine.cli(), 'ps', '--format', '{{.Status}}', '--filter',
                                  f'label=cloudify.deployment={deployment}'],
                                 capture_output=True, text=True, timeout=20).stdout
            if 'health: starting' in out:
                how() if callable(how) else getattr(engine, how)()
                killed.append(time.monotonic())
                return
            time.sleep(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield killed
    finally:
        done.set()
        watcher.join(timeout=30)


@pytest.mark.compose
@pytest.mark.parametrize('how', ['kill', 'stop'])
def test_the_engine_killed_while_up_waits(engine, unique, how):
    timeout = 90
    ctx = _ctx(unique, {'daemon_client': engine.daemon_client(), 'definition': SLOW_HEALTH,
                        'timeout': timeout, 'wait_timeout': 60, 'stop_timeout': 0,
                        'remove_volumes': True})
    project = None
    try:
        compose.create(ctx=ctx)
        project = ctx.instance.runtime_properties['project_name']
        started = time.monotonic()
        with killed_when_starting(engine, unique, how) as killed:
            with pytest.raises(RecoverableError) as failure:
                compose.start(ctx=ctx)
        ended = time.monotonic()
        assert killed, 'the fault was never injected'
        assert ended - started < timeout and ended - killed[0] < 30
        assert 'unreachable' in str(failure.value), str(failure.value)
        assert compose_processes(project) == []
        engine.start()
        _retried(compose.start, ctx)
        compose_state.check_status(ctx=ctx)
        (app,) = ctx.instance.runtime_properties['services']['app']
        assert app['state'] == 'running' and app['health'] == 'healthy'
        assert len(labelled_on(engine.cli(), unique)['containers']) == 1  # no stray copy
        _retried(compose.delete, ctx)
        assert labelled_on(engine.cli(), unique) == NOTHING
        assert compose_processes(project) == []
    finally:
        engine.wait_ready(timeout=60) if engine.process else engine.start()
        current_ctx.set(ctx)
        with contextlib.suppress(NonRecoverableError, RecoverableError):
            compose.delete(ctx=ctx)


@pytest.mark.compose
def test_an_engine_that_stops_answering_while_up_waits_is_retried(engine, unique):
    """The engine frozen (SIGSTOP: alive, silent): compose can only run to the plugin's
    deadline; a ping then tells passing trouble from a slow project, so the operation is
    retried, and converges once the engine answers again."""
    timeout = 12
    daemon = {**engine.daemon_client(), 'timeout': 3}
    ctx = _ctx(unique, {'daemon_client': daemon, 'definition': SLOW_HEALTH,
                        'timeout': timeout, 'wait_timeout': 60, 'stop_timeout': 0,
                        'remove_volumes': True})
    pid = engine.process.pid
    frozen: list[bool] = []

    def freeze() -> None:
        os.kill(pid, signal.SIGSTOP)
        frozen.append(True)

    try:
        compose.create(ctx=ctx)
        project = ctx.instance.runtime_properties['project_name']
        started = time.monotonic()
        with killed_when_starting(engine, unique, freeze) as injected:
            with pytest.raises(RecoverableError) as failure:
                compose.start(ctx=ctx)
        took = time.monotonic() - started
        assert injected and frozen, 'the fault was never injected'
        message = str(failure.value)
        assert f'did not finish within {timeout} s' in message, message
        assert 'the engine does not answer either' in message, message
        assert took < timeout + 15 and len(message) < 4000
        assert compose_processes(project) == []
        os.kill(pid, signal.SIGCONT)
        frozen.clear()
        _retried(compose.start, ctx)
        compose_state.check_status(ctx=ctx)
        assert len(labelled_on(engine.cli(), unique)['containers']) == 1
        _retried(compose.delete, ctx)
        assert labelled_on(engine.cli(), unique) == NOTHING
    finally:
        if frozen:
            os.kill(pid, signal.SIGCONT)
        current_ctx.set(ctx)
        with contextlib.suppress(NonRecoverableError, RecoverableError):
            compose.delete(ctx=ctx)


# ------------------------------------------------------------------ a stalling registry
class StallingRegistry:
    """Accepts connections on 127.0.0.1 and never answers (holds them open)."""

    def __init__(self) -> None:
        self.server = socket.create_server(('127.0.0.1', 0))
        self.address = f'127.0.0.1:{self.server.getsockname()[1]}'
        self.held: list[socket.socket] = []
        self.accepted = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            self.held.append(client)
            self.accepted.set()

    def close(self) -> None:
        self.server.close()
        for client in self.held:
            with contextlib.suppress(OSError):
                client.close()


@pytest.fixture
def stalling_registry():
    registry = StallingRegistry()
    try:
        yield registry
    finally:
        registry.close()


@pytest.mark.compose
@pytest.mark.parametrize('operation', ['pull', 'up'])
def test_a_stalling_registry_bounds_pull_and_up(stalling_registry, unique, docker_client,
                                                operation):
    image = f'{stalling_registry.address}/stall/{unique}:1'
    definition = {'services': {'app': {'image': image, 'command': ['sh', '-c', LOOP]}}}
    if operation == 'up':
        definition['services']['app']['pull_policy'] = 'always'
    else:  # pull: the image is here (tagged locally), the operation pulls it again
        docker_client.images.get(BASE).tag(image)
    timeout = 6
    ctx = _ctx(unique, {'definition': definition, 'timeout': timeout, 'stop_timeout': 0})
    try:
        compose.create(ctx=ctx)
        project = ctx.instance.runtime_properties['project_name']
        if operation == 'pull':
            compose.start(ctx=ctx)
        started = time.monotonic()
        with pytest.raises(NonRecoverableError) as failure:
            if operation == 'pull':
                compose_state.pull(ctx=ctx, pull='always')
            else:
                compose.start(ctx=ctx)
        took = time.monotonic() - started
        assert stalling_registry.accepted.is_set(), 'the registry was never asked'
        assert timeout - 1 < took < timeout + 10
        message = str(failure.value)
        assert f'compose {operation}: did not finish within {timeout} s and was killed' \
            in message, message
        assert len(message) < 4000 and '{' not in message  # in words, never raw JSON
        assert 'app: image pulling' in message, message
        assert compose_processes(project) == []
        compose.delete(ctx=ctx)
        assert labelled_on(['docker'], unique) == NOTHING
        assert compose_processes(project) == []
    finally:
        current_ctx.set(ctx)
        with contextlib.suppress(NonRecoverableError, RecoverableError):
            compose.delete(ctx=ctx)
        with contextlib.suppress(Exception):
            docker_client.images.remove(image)


def test_the_helpers_see_what_they_look_for(unique):
    """The orphan check would see a compose process (a sleeping stand-in named like one)."""
    name = f'dpt-orphan-{unique}'
    child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)', '-p', name])
    try:
        assert _until(lambda: compose_processes(name) != [], 5)
    finally:
        child.kill()
        child.wait(timeout=10)
    assert compose_processes(name) == []
