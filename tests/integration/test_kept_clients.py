"""Clients of a unix-socket engine kept from one block to the next in one process
(``docker_plugin.client.Kept``), with one connection pool for every call: against the
real engine, and against a socket server that closes its idle connections as a
restarted engine does."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time

import pytest

from docker_plugin import client as clients
from docker_plugin import records
from docker_plugin.client import Kept, open_client, resolve_config
from docker_plugin.errors import UnreachableError
from docker_plugin.resources.container import execs

pytestmark = pytest.mark.engine
BASE = 'docker-plugin/busybox:latest'


@pytest.fixture(autouse=True)
def no_kept_clients():
    Kept.close_all()
    yield
    Kept.close_all()


@pytest.fixture
def connects(monkeypatch):
    """The unix-socket connections opened, by path."""
    opened: list[str] = []
    connect = socket.socket.connect

    def counted(sock, address):
        if sock.family == socket.AF_UNIX:
            opened.append(address)
        return connect(sock, address)

    monkeypatch.setattr(socket.socket, 'connect', counted)
    return opened


@pytest.fixture
def sleeper(docker_client, labelled):
    container = docker_client.containers.run(BASE, ['sleep', '300'], detach=True,
                                             labels=labelled)
    yield container.id
    container.remove(force=True)


def test_the_blocks_of_one_configuration_share_a_client_and_its_connection(sleeper,
                                                                           connects):
    config = resolve_config({})
    used = set()
    for _ in range(4):
        with open_client(config) as client:
            used.add(id(client))
            client.api.inspect_container(sleeper)
            client.api.inspect_image(BASE)
            client.api.containers(all=True, filters={'id': sleeper})
            client.api.top(sleeper)
    assert len(used) == 1
    assert len(connects) == 1  # the SDK alone opens one per URL: 4 blocks x 5 calls
    assert len(Kept.idle[Kept.key(config)]) == 1


def test_a_block_that_failed_leaves_no_client_behind():
    config = resolve_config({})
    with pytest.raises(RuntimeError), open_client(config) as failed:
        failed.api.ping()
        raise RuntimeError('the operation failed')
    assert not Kept.idle.get(Kept.key(config))
    with open_client(config) as fresh:
        assert fresh is not failed and fresh.api.ping()
    assert [kept for _, kept in Kept.idle[Kept.key(config)]] == [fresh]


def test_blocks_at_once_never_share_a_client():
    config = resolve_config({})
    with open_client(config) as first, open_client(config) as second:
        assert first is not second
        assert first.api.ping() and second.api.ping()
    assert {id(kept) for _, kept in Kept.idle[Kept.key(config)]} == {id(first), id(second)}
    with open_client(config) as again:  # the most recently given back
        assert again is first


def test_threads_take_their_own_clients(sleeper):
    config = resolve_config({})
    seen: list[tuple[int, int]] = []
    lock = threading.Lock()
    failures: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(20):
                with open_client(config) as client:
                    with lock:
                        seen.append((threading.get_ident(), id(client)))
                    assert client.api.inspect_container(sleeper)['Id'] == sleeper
                    with lock:  # nobody else holds this client while this block runs
                        holders = {t for t, c in seen if c == id(client)}
                        seen.remove((threading.get_ident(), id(client)))
                    assert holders == {threading.get_ident()}
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures
    assert 1 <= len(Kept.idle[Kept.key(config)]) <= 6


def test_other_configurations_get_clients_of_their_own_and_remote_ones_none():
    local, slower = resolve_config({}), resolve_config({'timeout': 61})
    with open_client(local) as a, open_client(slower) as b:
        assert a is not b and b.api.timeout == 61
    remote = resolve_config({'base_url': 'tcp://127.0.0.1:9', 'version': '1.41'})
    with open_client(remote):  # a pinned version: nothing is sent
        pass
    assert set(Kept.idle) == {Kept.key(local), Kept.key(slower)}


def test_host_credentials_are_kept_apart():
    """A client that forgot this host's Docker configuration (a manager's) is never
    handed to a block that may use it, nor the other way round."""
    with_host = resolve_config({})
    without = records.replace(with_host, host_credentials=False)
    with open_client(with_host) as a:
        pass
    with open_client(without) as b:
        assert b is not a and b.api.credstore_env is None and b.api._general_configs == {}


def test_a_kept_client_is_not_used_past_its_time(monkeypatch):
    config = resolve_config({})
    with open_client(config) as old:
        pass
    monkeypatch.setattr(clients, 'KEEP_FOR', 0.0)
    with open_client(config) as new:
        assert new is not old
    assert not old.api.get_adapter(clients.LOCAL_URL).pools  # closed, not left open
    assert not Kept.idle.get(Kept.key(config))  # too old to be given back, too


def test_no_more_than_keep_idle_clients_wait(monkeypatch):
    monkeypatch.setattr(clients, 'KEEP_IDLE', 2)
    config = resolve_config({})
    with open_client(config) as first, open_client(config), open_client(config):
        pass  # the blocks end last first: the first block's client is the third given back
    assert len(Kept.idle[Kept.key(config)]) == 2
    assert not first.api.get_adapter(clients.LOCAL_URL).pools


def test_after_a_fork_the_parents_clients_are_left_to_it(monkeypatch):
    config = resolve_config({})
    with open_client(config) as parents:
        pass
    monkeypatch.setattr(Kept, 'pid', -1)  # as a child of a fork sees it
    with open_client(config) as childs:
        assert childs is not parents
    assert parents.api.get_adapter(clients.LOCAL_URL).pools  # not closed: the parent's
    parents.close()


def test_an_exec_stream_keeps_its_connection_apart(sleeper, connects):
    """The exec's connection, taken over as a raw stream, never goes back to the
    shared pool: calls after it (in this block and the next) read their own answers."""
    config = resolve_config({})
    for round_ in range(3):
        with open_client(config) as client:
            for n in range(3):
                done = execs.run(client.api, sleeper, ['sh', '-c', f'echo out{round_}{n}'],
                                 time.monotonic() + 30)
                assert (done.exit_code, done.stdout.strip()) == (0, f'out{round_}{n}')
                assert client.api.inspect_container(sleeper)['Id'] == sleeper
                assert client.api.inspect_image(BASE)['Id'].startswith('sha256:')
            pools = set(client.api.get_adapter(clients.LOCAL_URL).pools.keys())
            others = pools - {clients.LOCAL_URL}
            assert clients.LOCAL_URL in pools and len(others) == 3 * (round_ + 1)
            assert all('/exec/' in url and url.endswith('/start') for url in others)
    # one shared connection, and one per exec start (3 x 3)
    assert len(connects) == 1 + 9


class RestartingEngine:
    """A unix-socket HTTP server that answers ``/version`` and ``/_ping`` on kept-alive
    connections, and whose ``restart`` closes them all without a word, as an engine
    that restarted between two operations leaves its clients' idle connections."""

    def __init__(self, path: str) -> None:
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(path)
        self.server.listen(8)
        self.accepted = 0
        self.open: list[socket.socket] = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        for _ in range(50):  # bounded: the test makes a handful of connections
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.accepted += 1
            self.open.append(conn)
            threading.Thread(target=self.answer, args=(conn,), daemon=True).start()

    @staticmethod
    def answer(conn: socket.socket) -> None:
        pending = b''
        with contextlib.suppress(OSError):
            for _ in range(100):
                while b'\r\n\r\n' not in pending:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    pending += chunk
                request, _, pending = pending.partition(b'\r\n\r\n')
                body = json.dumps({'ApiVersion': '1.41'}) if b' /version' in request else 'OK'
                conn.sendall(f'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n'
                             f'Content-Length: {len(body)}\r\n\r\n{body}'.encode())

    def restart(self) -> None:
        for conn in self.open:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        self.open = []
        time.sleep(0.1)  # as a restart takes a while: the close reaches the clients

    def close(self) -> None:
        self.restart()
        self.server.shutdown(socket.SHUT_RDWR)  # wakes the accept
        self.server.close()
        self.thread.join(timeout=15)


def test_a_kept_client_whose_engine_restarted_connects_again(tmp_path):
    engine = RestartingEngine(str(tmp_path / 'engine.sock'))
    try:
        config = resolve_config({'base_url': f'unix://{tmp_path}/engine.sock'})
        with open_client(config) as first:
            assert first.api.api_version == '1.41' and first.api.ping()
        assert engine.accepted == 1  # one connection for both calls
        for round_ in range(3):
            engine.restart()
            with open_client(config) as again:  # kept: its connection was closed
                assert again is first and again.api.ping() and again.api.ping()
            assert engine.accepted == 2 + round_
    finally:
        engine.close()


def test_a_kept_client_of_an_engine_that_is_gone_fails_as_unreachable_and_is_dropped(
        tmp_path):
    """The engine killed between two operations: the next one fails as any first
    contact with a dead engine does (retried by the unreachable budget), and the
    client is not kept for the one after."""
    path = tmp_path / 'engine.sock'
    engine = RestartingEngine(str(path))
    config = resolve_config({'base_url': f'unix://{path}', 'timeout': 5})
    with open_client(config) as first:
        assert first.api.ping()
    engine.close()
    path.unlink()
    with pytest.raises(UnreachableError) as failure, open_client(config):
        pass
    assert failure.value.reason == 'no such socket file'
    assert not Kept.idle.get(Kept.key(config))
    assert not first.api.get_adapter(clients.LOCAL_URL).pools  # closed


def test_each_block_speaks_the_api_version_it_asks_for():
    """The version is set at every block: a client kept from a negotiated block serves
    a pinned one (as an instance's later operations pin what its first negotiated), and
    the other way round, each at its own version."""
    auto = resolve_config({})
    pinned = records.replace(auto, version='1.30')
    with open_client(auto) as first:
        negotiated = first.api.api_version
    with open_client(pinned) as second:
        assert second is first and second.api.api_version == '1.30'
        assert second.api.version(api_version=True)['ApiVersion'] == negotiated
    with open_client(auto) as third:
        assert third is first and third.api.api_version == negotiated
