"""The fault tier: a real engine SIGKILLed in the middle of an install of ten
containers (at create, at start) and of their uninstall (at stop), then
started again; and a registry that stalls under a push and a pull.

The engine is a namespaced test host (``helpers.remote_engine``), reached
over mutual TLS like any remote engine. The fault is injected at the exact
moment by wrapping the resource function the workflow calls (the local
workflow runs in this process): on its third call the engine is killed
(mid-call) and started again two seconds later on the same data root. The
workflow retries; afterwards each instance has exactly one container, all
running, and uninstall leaves nothing labelled behind. The containers have
``restart_policy: unless-stopped``, as containers that must outlive a daemon
restart do: an engine without live-restore stops everything on a crash.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from helpers.cloudify_local import TYPES_URL, LocalRun
from helpers.registry import run_registry
from helpers.remote_engine import remote_engine

from docker_plugin.resources.container import containers

pytestmark = [pytest.mark.engine, pytest.mark.fault]
REPO = Path(__file__).resolve().parents[2]
BASE = 'docker-plugin/busybox:latest'
INSTANCES = 10


def _blueprint(path: Path) -> Path:
    path.write_text(f"""tosca_definitions_version: cloudify_dsl_1_5
imports:
  - {TYPES_URL}
  - {REPO / 'plugin.yaml'}
inputs:
  daemon_client: {{type: dict}}
node_templates:
  c:
    type: cloudify.nodes.docker.Container
    capabilities:
      scalable:
        properties:
          default_instances: {INSTANCES}
    properties:
      daemon_client: {{get_input: daemon_client}}
      container_config:
        image: {BASE}
        command: [sh, -c, 'trap "exit 0" TERM; while true; do sleep 0.2; done']
        restart_policy: unless-stopped
      container_stop: {{timeout: 2}}
""")
    return path


@pytest.fixture(scope='module')
def engine(tmp_path_factory):
    with remote_engine(tmp_path_factory.mktemp('fault-engine'), BASE, tag=219) as engine:
        yield engine


@contextlib.contextmanager
def crash_on(engine: Any, name: str, call_number: int = 3) -> Iterator[list[float]]:
    """Kill the engine during the ``call_number``-th call of ``containers.<name>``."""
    original = getattr(containers, name)
    calls, crashed, lock = [0], [], threading.Lock()

    def restart_later() -> None:
        time.sleep(2)
        engine.start()

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        with lock:
            calls[0] += 1
            crash = calls[0] == call_number
        if crash:
            killer = threading.Timer(0.02, engine.kill)
            killer.start()
            threading.Thread(target=lambda: (killer.join(), restart_later()),
                             daemon=True).start()
            crashed.append(time.monotonic())
        return original(*args, **kwargs)

    setattr(containers, name, wrapped)
    try:
        yield crashed
    finally:
        setattr(containers, name, original)
        engine.wait_ready(timeout=60)


def _engine_containers(engine: Any, deployment: str) -> list[dict[str, Any]]:
    out = subprocess.run([*engine.cli(), 'ps', '-a', '--no-trunc', '--format', '{{json .}}',
                          '--filter', f'label=cloudify.deployment={deployment}'],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


@pytest.mark.parametrize('phase', ['create', 'start', 'stop'])
def test_the_engine_killed_mid_workflow(engine, tmp_path, unique, phase):
    run = LocalRun(_blueprint(tmp_path / 'fault.yaml'), f'{unique}-{phase}',
                   {'daemon_client': engine.daemon_client()})
    retries = {'task_retries': 30, 'task_retry_interval': 1, 'task_thread_pool_size': 4}
    try:
        with crash_on(engine, phase) if phase != 'stop' else contextlib.nullcontext() as crash:
            run.env.execute('install', **retries)
        if phase != 'stop':
            assert crash, 'the fault was never injected'
        found = _engine_containers(engine, run.name)
        recorded = sorted(i.runtime_properties['container_id'] for i in run.instances('c'))
        assert len(found) == INSTANCES and len(set(recorded)) == INSTANCES
        assert sorted(c['ID'] for c in found) == recorded  # one per instance, no strays
        deadline = time.monotonic() + 60
        while any(c['State'] != 'running' for c in found) and time.monotonic() < deadline:
            time.sleep(1)  # the engine starts what it stopped when it crashed
            found = _engine_containers(engine, run.name)
        assert {c['State'] for c in found} == {'running'}
        with crash_on(engine, 'stop') if phase == 'stop' else contextlib.nullcontext() as crash:
            run.env.execute('uninstall', **retries)
        if phase == 'stop':
            assert crash, 'the fault was never injected'
        assert _engine_containers(engine, run.name) == []
    finally:
        engine.wait_ready(timeout=60)
        subprocess.run([*engine.cli(), 'rm', '-f', *[c['ID'] for c in _engine_containers(
            engine, run.name)]], capture_output=True, timeout=60)


# ------------------------------------------------------------------ a stalling registry
class StallingProxy:
    """A TCP proxy on 127.0.0.1 in front of a registry that can stop passing bytes."""

    def __init__(self, target: str):
        host, port = target.split(':')
        self.target = (host, int(port))
        self.server = socket.create_server(('127.0.0.1', 0))
        self.address = f'127.0.0.1:{self.server.getsockname()[1]}'
        self.flowing = threading.Event()
        self.flowing.set()
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target, timeout=30)
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(src, dst), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while not self.closed:
                data = src.recv(65536)
                if not data:
                    break
                self.flowing.wait(timeout=600)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.closed = True
        self.flowing.set()
        self.server.close()


@pytest.fixture
def stalling_registry(tmp_path):
    with run_registry(tmp_path / 'registry') as registry:
        proxy = StallingProxy(registry.address)
        try:
            yield registry, proxy
        finally:
            proxy.close()


def _ctx(unique: str, properties: dict) -> Any:
    from helpers.mock_ctx import node_ctx
    return node_ctx(unique, properties, node='img')


def test_a_stalling_registry_is_waited_for_and_bounded(stalling_registry, unique, tmp_path,
                                                       docker_client):
    from cloudify.exceptions import NonRecoverableError

    from docker_plugin.tasks.image import lifecycle as image_tasks
    registry, proxy = stalling_registry
    (tmp_path / 'ctx').mkdir()
    (tmp_path / 'ctx' / 'Dockerfile').write_text(
        f'FROM {BASE}\nRUN head -c 3000000 /dev/urandom > /blob\n')
    repo = f'{proxy.address}/stall/{unique}'
    auth = {**registry.auth, 'registry': proxy.address}
    fast_client = {'timeout': 2}  # shorter than the stalls below
    builder = _ctx(unique, {'daemon_client': fast_client,
                            'image_build': {'path': str(tmp_path / 'ctx')},
                            'push': {'repository': repo, 'tag': '1', 'auth': auth}})
    try:
        image_tasks.create(ctx=builder)
        # Silent for 5 s (longer than the client's 2 s): the push waits and succeeds.
        proxy.flowing.clear()
        threading.Timer(5, proxy.flowing.set).start()
        started = time.monotonic()
        image_tasks.push(ctx=builder)
        assert time.monotonic() - started >= 4
        assert builder.instance.runtime_properties['pushed'][0]['digest'].startswith('sha256:')
        # Silent for longer than the pull's own timeout: it stops, and says so.
        puller = _ctx(unique, {'daemon_client': fast_client, 'image_pull': {
            'repository': repo, 'tag': '1', 'auth': auth, 'policy': 'always', 'timeout': 3}})
        docker_client.images.remove(f'{repo}:1')
        proxy.flowing.clear()
        started = time.monotonic()
        with pytest.raises(NonRecoverableError, match=r'(not finished at|before) its timeout'):
            image_tasks.create(ctx=puller)
        assert time.monotonic() - started < 15
        proxy.flowing.set()
        image_tasks.create(ctx=puller)  # the registry is back: the same pull works
        image_tasks.delete(ctx=puller)
    finally:
        proxy.flowing.set()
        image_tasks.delete(ctx=builder)
