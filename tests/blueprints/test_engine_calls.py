"""Engine API calls per container lifecycle, counted through a real local workflow.

On a manager each operation is a process of its own, and every call to the engine is
a round trip the operation waits for. A container's install and uninstall (create,
configure, start, stop, delete) make at most ``BUDGET`` calls: the API version asked
once and recorded (``_engine_api``), the image inspected once, create, start, one
inspect for the start report, stop, remove, and in the uninstall one look by labels for
what earlier runs of the node left (re-runs: tasks/lifecycle.py). Counted by wrapping the HTTP
session of this process (the workflow runs its operations in threads here); each call
is put down to the operation that made it, which the failure message shows.
"""

from __future__ import annotations

import collections
import re
import socket
import threading
from pathlib import Path
from typing import Any

import docker
import pytest
import requests
from cloudify.state import current_ctx
from cloudify.workflows import local
from helpers.cloudify_local import REPO, LocalRun

pytestmark = [pytest.mark.engine, pytest.mark.blueprint]
BUDGET = 8
COMMAND = '[sh, -c, ''trap "exit 0" TERM; while true; do sleep 0.2; done'']'
SEED = """
  c:
    type: cloudify.nodes.Root
    interfaces:
      cloudify.interfaces.lifecycle:
        create:
          implementation: docker.docker_plugin.tasks.create
          inputs: {container_config: {image: 'docker-plugin/busybox:latest'}}
        configure:
          implementation: docker.docker_plugin.tasks.configure
          inputs:
            container_config: {image: 'docker-plugin/busybox:latest', command: COMMAND}
        start: docker.docker_plugin.tasks.run
        stop:
          implementation: docker.docker_plugin.tasks.stop
          inputs: {container_stop: {timeout: 5}}
        delete:
          implementation: docker.docker_plugin.tasks.delete
          inputs: {container_stop: {timeout: 5}}
""".replace('COMMAND', COMMAND)
TYPED = """
  c:
    type: cloudify.nodes.docker.Container
    properties:
      container_config: {image: 'docker-plugin/busybox:latest', command: COMMAND}
      container_stop: {timeout: 5}
""".replace('COMMAND', COMMAND)


def _operation() -> str:
    """The name of the operation this thread runs ('-' outside one)."""
    try:
        return str(current_ctx.get_ctx().operation.name)
    except RuntimeError:  # no context: not an operation's thread
        return '-'


def _blueprint(path: Path, node: str) -> Path:
    path.write_text(f"""tosca_definitions_version: cloudify_dsl_1_5
imports:
  - http://cloudify.co/spec/cloudify/7.0.0/types.yaml
  - {REPO / 'plugin.yaml'}
node_templates:{node}""")
    return path


class Calls:
    """Engine API calls made in this process, by the operation that made them."""

    def __init__(self) -> None:
        self.by_operation: dict[str, list[str]] = collections.defaultdict(list)
        self._lock = threading.Lock()
        self._send = requests.Session.send

    def __enter__(self) -> Calls:
        original = self._send  # the send in place when this counter was made

        def send(session: Any, request: Any, **kwargs: Any) -> Any:
            path = re.sub(r'^/v1\.\d+', '', request.path_url.split('?')[0])
            path = re.sub(r'/[0-9a-f]{64}', '/{id}', path)
            operation = _operation()
            if operation != '-':  # not the test's own client
                with self._lock:
                    self.by_operation[operation.rpartition('.')[2]].append(
                        f'{request.method} {path}')
            return original(session, request, **kwargs)

        requests.Session.send = send  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        requests.Session.send = self._send  # type: ignore[method-assign]

    def all(self) -> list[str]:
        """Every call an operation made."""
        return [call for calls in self.by_operation.values() for call in calls]


@pytest.mark.parametrize('node', [SEED, TYPED], ids=['seed', 'typed'])
def test_a_container_lifecycle_makes_at_most_eight_engine_calls(node, tmp_path, unique,
                                                                  docker_client):
    current_ctx.clear()  # a context an earlier test left on this thread is no operation
    run = LocalRun(_blueprint(tmp_path / 'calls.yaml', node), unique, {})
    calls = Calls()
    try:
        with calls:
            run.install()
        container_id = run.props('c')['container_id']
        assert docker_client.containers.get(container_id).status == 'running'
        with calls:
            run.uninstall()
    finally:
        run.teardown()
    made = calls.all()
    breakdown = dict(calls.by_operation)
    assert len(made) <= BUDGET, f'{len(made)} engine calls: {breakdown}'
    # The version negotiated once, by the first operation, then read from _engine_api.
    assert breakdown['create'][0] == 'GET /version' and made.count('GET /version') == 1, \
        breakdown
    assert made.count('GET /images/docker-plugin/busybox:latest/json') == 1, breakdown
    # Looked for by labels only where the uninstall sweeps what earlier runs left.
    assert [op for op, done in breakdown.items() for c in done
            if c.startswith('GET /containers/json')] == ['delete'], breakdown
    # The essential four, each once.
    for essential in ('POST /containers/create', 'POST /containers/{id}/start',
                      'POST /containers/{id}/stop', 'DELETE /containers/{id}'):
        assert made.count(essential) == 1, breakdown
    assert docker_client.containers.list(all=True, filters={
        'label': f'cloudify.deployment={unique}'}) == []


class Writes:
    """Writes and reads of node instances (runtime properties) in the local storage, by
    the operation that made them: on a manager each is a REST call the operation waits
    for (and a write makes the next read fetch the instance again)."""

    def __init__(self) -> None:
        self.by_operation: dict[str, collections.Counter[str]] = \
            collections.defaultdict(collections.Counter)
        self._lock = threading.Lock()
        self._saved: dict[str, Any] = {}

    def __enter__(self) -> Writes:
        for name in ('update_node_instance', 'get_node_instance', 'get_node',
                     'get_node_instances'):
            original = self._saved[name] = getattr(local.DeploymentStorage, name)

            def counted(storage: Any, *args: Any, _name: str = name, _original: Any = original,
                        **kwargs: Any) -> Any:
                operation = _operation()
                if operation != '-':  # not the workflow's own state changes
                    with self._lock:
                        interface, _, name = operation.rpartition('.')
                        self.by_operation[f"{interface.rpartition('.')[2]}.{name}"][_name] += 1
                return _original(storage, *args, **kwargs)
            setattr(local.DeploymentStorage, name, counted)
        return self

    def __exit__(self, *exc: object) -> None:
        for name, original in self._saved.items():
            setattr(local.DeploymentStorage, name, original)


@pytest.mark.parametrize('node', [SEED, TYPED], ids=['seed', 'typed'])
def test_a_container_lifecycle_writes_its_instance_once_an_operation(node, tmp_path, unique):
    """On a manager each of these is a REST call the operation waits for. Records that
    only spare a later look go with the operation's one write, and so does create's
    first contact with the engine (it makes nothing before its image record here; a
    build or an import writes it first); a write of what storage holds is none. A
    storage write reads
    the instance inside it (its version check), so an operation that writes once reads
    it at most three times: its first look, that check, and once more after the write
    only where the operation looks again. The node (its properties) is read once."""
    current_ctx.clear()
    three = node + '    capabilities: {scalable: {properties: {default_instances: 3}}}\n'
    run = LocalRun(_blueprint(tmp_path / 'writes.yaml', three), unique, {})
    writes = Writes()
    try:
        with writes:
            run.install()
            run.uninstall()
    finally:
        run.teardown()
    counted = {op: dict(seen) for op, seen in writes.by_operation.items()}
    for operation in ('create', 'configure', 'start', 'stop', 'delete'):
        seen = counted.get(f'lifecycle.{operation}', {})
        # One an instance, create's with the instance's first contact with its engine.
        assert seen.get('update_node_instance') == 3, counted
        # Its first look and its write's check; stop and delete look again after it.
        assert seen.get('get_node_instance', 0) <= (9 if operation in ('stop', 'delete')
                                                    else 6), counted
        assert seen.get('get_node', 0) <= 3, counted
    # The uninstall's sweeps ask whether the other instances live once (here, one
    # process), not each instance about each other one.
    assert counted['lifecycle.delete'].get('get_node_instances', 0) <= 1, counted
    # Of the instances' validations (the typed node's), the first reads the node and
    # the instance; the others take its report and read nothing.
    assert counted.get('validation.create', {}) == (
        {} if node is SEED else {'get_node': 1, 'get_node_instance': 1}), counted
    assert set(counted) <= {'validation.create'} | {
        f'lifecycle.{op}' for op in ('create', 'configure', 'start', 'stop', 'delete')}, counted


def test_the_operations_of_a_local_workflow_share_their_engine_connections(tmp_path, unique,
                                                                          monkeypatch):
    """In one process (a local workflow's threads) a unix socket's client is kept for the
    next operation and its calls share one connection (docker_plugin.client.Kept): three
    instances' fifteen operations, and their calls about as many objects, open at most one
    connection per operation running at once (three instances: three), not one a call."""
    from docker_plugin.client import Kept
    current_ctx.clear()
    Kept.close_all()
    opened: list[str] = []
    connect = socket.socket.connect

    def counted(sock: socket.socket, address: Any) -> Any:
        if sock.family == socket.AF_UNIX and _operation() != '-':
            opened.append(_operation())
        return connect(sock, address)

    monkeypatch.setattr(socket.socket, 'connect', counted)
    three = TYPED + '    capabilities: {scalable: {properties: {default_instances: 3}}}\n'
    run = LocalRun(_blueprint(tmp_path / 'connections.yaml', three), unique, {})
    calls = Calls()
    try:
        with calls:
            run.install()
            run.uninstall()
    finally:
        run.teardown()
        Kept.close_all()
    assert len(calls.all()) >= 3 * 8  # every call made, on...
    assert 1 <= len(opened) <= 3, opened  # ...at most three connections


@pytest.mark.parametrize('node', [SEED, TYPED], ids=['seed', 'typed'])
def test_a_local_workflow_reads_a_node_once_an_execution(node, tmp_path, unique, monkeypatch):
    """Cloudify hands each operation its node as a deep copy of its whole plan entry (a
    file parse first with ``cfy``): the first operation of an execution reads it, the
    others of that execution reuse what it read (docker_plugin.tasks.kept_nodes), and
    the next execution reads it again. The containers are made from the properties."""
    from cloudify.endpoint import LocalEndpoint

    from docker_plugin.tasks import kept_nodes
    current_ctx.clear()
    kept_nodes.forget_all()
    reads: collections.Counter[tuple[str, str]] = collections.Counter()
    get_node = LocalEndpoint.get_node

    def counted(endpoint: Any, node_id: str, *args: Any, **kwargs: Any) -> Any:
        if _operation() != '-':
            reads[(str(current_ctx.get_ctx().execution_id), node_id)] += 1
        return get_node(endpoint, node_id, *args, **kwargs)

    monkeypatch.setattr(LocalEndpoint, 'get_node', counted)
    three = node.replace("command:", "labels: {role: kept}, command:") + \
        '    capabilities: {scalable: {properties: {default_instances: 3}}}\n'
    run = LocalRun(_blueprint(tmp_path / 'reads.yaml', three), unique, {})
    try:
        run.execute('install', task_thread_pool_size=1)
        installed = dict(reads)
        reads.clear()
        run.operation('cloudify.interfaces.lifecycle.check_drift')
        drift = dict(reads)
        reads.clear()
        client = docker.from_env()
        try:
            made = client.containers.list(filters={'label': f'cloudify.deployment={unique}'})
            assert len(made) == 3 and all(c.labels.get('role') == 'kept' for c in made)
        finally:
            client.close()
        run.execute('uninstall', task_thread_pool_size=1)
        removed = dict(reads)
    finally:
        run.teardown()
        kept_nodes.forget_all()
    # three instances: validate (typed), create, configure, start (each validating first,
    # seed style); check_drift (typed: a seed node maps none); stop, delete
    assert list(installed.values()) == [1], installed
    assert list(drift.values()) == ([1] if node == TYPED else []), drift
    assert list(removed.values()) == [1], removed
    assert len({execution for execution, _ in [*installed, *drift, *removed]}) == \
        (3 if node == TYPED else 2)


@pytest.mark.parametrize('node', [SEED, TYPED], ids=['seed', 'typed'])
def test_an_install_reads_the_whole_deployment_once(node, tmp_path, unique, monkeypatch):
    """Validation reads every node of the deployment; the instances whose validation (or,
    seed style, first install operation) starts at once wait for the first's report
    instead of each reading the deployment again (docker_plugin.tasks.validation)."""
    from docker_plugin.tasks import deployment
    current_ctx.clear()
    reads: list[str] = []
    read = deployment.read

    def counted(ctx: Any) -> Any:
        reads.append(_operation())
        return read(ctx)

    monkeypatch.setattr(deployment, 'read', counted)
    four = node + '    capabilities: {scalable: {properties: {default_instances: 4}}}\n'
    run = LocalRun(_blueprint(tmp_path / 'validated.yaml', four), unique, {})
    try:
        run.execute('install', task_thread_pool_size=8)
        run.execute('uninstall', task_thread_pool_size=8)
    finally:
        run.teardown()
    assert len(reads) == 1, reads
