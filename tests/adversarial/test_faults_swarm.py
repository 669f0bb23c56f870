"""The fault tier for the swarm: real faults on the three-engine lab
(tests/helpers/swarm.py), in the middle of the operations that wait.

* The manager engine is SIGKILLed (dockerd, its containerd and every task on
  it, as a crash) while a Service's ``start`` waits for convergence: the
  operation ends at once with a RecoverableError naming the unreachable
  engine (never a hang, never a NonRecoverableError); once the engine is
  back, the operation's retry resumes the same wait and converges, and
  delete leaves nothing labelled on the swarm.
* The registry the engines pull from is frozen (SIGSTOP: it accepts
  connections and never answers) while a Service is created, so pinning its
  image to a digest cannot finish: the create ends within the client's
  timeout, as a RecoverableError, and nothing is created; after SIGCONT the
  retried create works.
* A worker engine is down while a Service is deleted: the delete is bounded,
  removes the service and says which tasks it could not see end; and while the
  Swarm is deleted: the engines that can leave do, the lost one is named and
  its node removed by the manager, and the first engine leaves last.

Every wait is bounded by time and by count.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import threading
import time
from typing import Any, Iterator

import docker
import pytest
from cloudify.exceptions import NonRecoverableError, RecoverableError
from helpers.mock_ctx import node_ctx

from docker_plugin.tasks import waits
from docker_plugin.tasks.service import lifecycle as service

pytestmark = [pytest.mark.engine, pytest.mark.fault]
COMMAND = ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1; done']


@pytest.fixture
def manager_api(swarm):
    client = docker.DockerClient(base_url=swarm.manager.url, version='1.41', timeout=30)
    yield client.api
    client.close()


def _service_ctx(swarm: Any, unique: str, retry: int = 0, runtime: dict | None = None,
                 timeout: float = 5, **extra: Any) -> Any:
    config = {'image': swarm.ref('app:v1'), 'command': COMMAND, 'endpoint_mode': 'dnsrr',
              'stop_grace_period': '1s', 'replicas': 3, **extra}
    return node_ctx(unique, properties={
        'name': unique, 'service_config': config,
        'daemon_client': {**swarm.manager.daemon_client(), 'timeout': timeout},
        'converge': {'timeout': 90}}, runtime=runtime, node='svc', retry=retry)


def _retry(ctx: Any, swarm: Any, unique: str, retry: int, **extra: Any) -> Any:
    """The same instance's next try (its runtime properties kept)."""
    return _service_ctx(swarm, unique, retry, dict(ctx.instance.runtime_properties), **extra)


def _leftovers(swarm: Any, unique: str) -> dict[str, list[str]]:
    return {kind: swarm.manager.docker(kind, 'ls', '-q', '--filter',
                                       f'label=cloudify.deployment={unique}').split()
            for kind in ('service', 'secret', 'config', 'network')}


def _wait_manager_back(swarm: Any, timeout: float = 90) -> None:
    """The engine answers and its swarm has a leader again (bounded)."""
    swarm.manager.wait_ready(timeout=60)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if swarm.manager.docker('node', 'ls', '-q', check=False, timeout=20):
            return
        time.sleep(0.5)
    raise AssertionError('the restarted manager has no swarm leader')


@contextlib.contextmanager
def killed_after(engine: Any, seconds: float) -> Iterator[list[float]]:
    """Kill ``engine`` ``seconds`` into the block; it is started again after it."""
    when: list[float] = []

    def kill() -> None:
        when.append(time.monotonic())
        engine.kill()

    timer = threading.Timer(seconds, kill)
    timer.start()
    try:
        yield when
    finally:
        timer.cancel()
        timer.join(timeout=30)
        if engine.process is None:
            engine.start(wait=False)


def test_the_manager_killed_while_start_waits(swarm, unique):
    ctx = _service_ctx(swarm, unique)
    try:
        service.create(ctx=ctx)
        assert ctx.instance.runtime_properties['service_id']
        # start holds converged looks for the monitor window (5 s): the kill lands inside.
        started = time.monotonic()
        with killed_after(swarm.manager, 1.5) as when:
            with pytest.raises(RecoverableError) as failure:
                service.start(ctx=ctx)
        ended = time.monotonic()
        assert when, 'the fault was never injected'
        assert ended - when[0] < 15, f'took {ended - when[0]:.0f} s to notice the crash'
        assert ended - started < 20
        message = str(failure.value)
        assert 'unreachable' in message, message
        # The wait's state is kept for the retry, which resumes it.
        assert waits.key('start') in ctx.instance.runtime_properties
        _wait_manager_back(swarm)
        swarm.wait_nodes_ready(len(swarm.engines), timeout=90)
        for attempt in range(1, 30):
            again = _retry(ctx, swarm, unique, attempt)
            try:
                service.start(ctx=again)
                break
            except RecoverableError:
                time.sleep(2)  # the swarm settling after the crash: Cloudify retries
            ctx = again
        else:
            raise AssertionError('start never converged after the engine came back')
        assert again.instance.runtime_properties['converged']['data']['tasks'] == 3
        assert waits.key('start') not in again.instance.runtime_properties
        ctx = again
    finally:
        _wait_manager_back(swarm)
        current = _retry(ctx, swarm, unique, 0)
        service.delete(ctx=current)
    assert _leftovers(swarm, unique) == {k: [] for k in ('service', 'secret', 'config',
                                                          'network')}


@contextlib.contextmanager
def frozen(process: Any) -> Iterator[None]:
    """SIGSTOP a process this run started; SIGCONT it after, whatever happened."""
    os.kill(process.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(process.pid, signal.SIGCONT)


def test_a_frozen_registry_while_the_image_is_pinned(swarm, unique):
    registry = swarm._registries[0]  # the one the engines reach (10.252.N.1:5000)
    ctx = _service_ctx(swarm, unique, image=swarm.ref('app:moving'))
    try:
        started = time.monotonic()
        with frozen(registry):
            with pytest.raises((RecoverableError, NonRecoverableError)) as failure:
                service.create(ctx=ctx)
        took = time.monotonic() - started
        message = str(failure.value)
        assert took < 40, f'took {took:.0f} s'
        assert isinstance(failure.value, RecoverableError), message
        assert 'service_id' not in ctx.instance.runtime_properties
        assert _leftovers(swarm, unique)['service'] == []
        again = _retry(ctx, swarm, unique, 1, image=swarm.ref('app:moving'))
        service.create(ctx=again)
        service.start(ctx=again)
        assert '@sha256:' in again.instance.runtime_properties['image']
        ctx = again
    finally:
        service.delete(ctx=_retry(ctx, swarm, unique, 0))
    assert _leftovers(swarm, unique)['service'] == []


def test_delete_while_a_worker_is_down(swarm, unique, manager_api, caplog):
    """The manager cannot see the lost worker's task end: delete does not wait for it
    (it used to wait its whole minute, silently), and names it."""
    ctx = _service_ctx(swarm, unique, placement={'max_replicas': 1})  # one task per node
    lost = swarm.engines[2]
    try:
        service.create(ctx=ctx)
        service.start(ctx=ctx)
        lost.kill()
        deadline = time.monotonic() + 30
        while not any(n['Status']['State'] == 'down' for n in manager_api.nodes()):
            assert time.monotonic() < deadline, 'the manager never saw the worker down'
            time.sleep(0.5)
        caplog.clear()
        started = time.monotonic()
        service.delete(ctx=_retry(ctx, swarm, unique, 0))
        took = time.monotonic() - started
        assert took < 20, f'delete took {took:.0f} s'
        assert _leftovers(swarm, unique)['service'] == []
        warned = [r.getMessage() for r in caplog.records if r.levelname == 'WARNING']
        assert len(warned) == 1 and f'on {lost.name} (down)' in warned[0], warned
        assert 'not seen to end' in warned[0]
    finally:
        if lost.process is None:
            lost.start()
        swarm.wait_nodes_ready(len(swarm.engines), timeout=90)
        service.delete(ctx=_retry(ctx, swarm, unique, 0))
    # Back, the worker removes the task's container itself.
    deadline = time.monotonic() + 60
    while lost.docker('ps', '-aq', '--filter', f'label=com.docker.swarm.service.name={unique}'):
        assert time.monotonic() < deadline, 'the returned worker kept the task'
        time.sleep(1)


def test_swarm_delete_while_a_worker_is_down(swarm_lab, unique, caplog):
    """The joined engines leave; the one that is down cannot, so it is named and a
    manager removes its node; then the first engine leaves. Bounded, no retry loop."""
    from docker_plugin.tasks.swarm import lifecycle as swarm_tasks
    lab = swarm_lab
    lab.ensure_unformed()
    first, *others = lab.engines
    lost = others[-1]
    ctx = node_ctx(unique, node='swarm', properties={
        'daemon_client': first.daemon_client(),
        'swarm_config': {'advertise_addr': first.address, 'subnet_size': 28,
                         'default_addr_pool': [f'10.253.{lab.tag}.0/24'],
                         'dispatcher_heartbeat_period': '2s'},
        'workers': [{'daemon_client': e.daemon_client(), 'advertise_addr': e.address}
                    for e in others]})
    try:
        swarm_tasks.create(ctx=ctx)
        swarm_tasks.start(ctx=ctx)
        assert len(ctx.instance.runtime_properties['joined']) == 2
        lost.kill()
        caplog.clear()
        started = time.monotonic()
        swarm_tasks.delete(ctx=ctx)
        took = time.monotonic() - started
        assert took < 30, f'delete took {took:.0f} s'
        warned = [r.getMessage() for r in caplog.records if r.levelname == 'WARNING']
        assert len(warned) == 1 and lost.url in warned[0] and 'cannot be reached' in warned[0]
        assert {first.swarm_state(), others[0].swarm_state()} == {'inactive'}
        assert 'joined' not in ctx.instance.runtime_properties
    finally:
        if lost.process is None:
            # Its machine is rebuilt: it would otherwise look for its gone swarm at start.
            shutil.rmtree(lost.data_root / 'swarm', ignore_errors=True)
            lost.start()
    assert lost.swarm_state() == 'inactive'
