"""ComposeProject operations with a mock ctx against the real engine: mutual TLS with
PEM text that never touches a disk, and waits that honour their timeouts."""

from __future__ import annotations

import logging
import os
import tempfile
import time

import pytest
from cloudify.exceptions import NonRecoverableError
from cloudify.mocks import MockCloudifyContext
from cloudify.state import current_ctx
from helpers.cleanup import labelled_objects
from helpers.tls import make_pki, tls_engine_front

from docker_plugin.resources import compose_process
from docker_plugin.tasks import compose, compose_state

pytestmark = pytest.mark.engine
NOTHING = {'containers': [], 'images': [], 'networks': [], 'volumes': []}
LOOP = ['sh', '-c', "trap 'exit 0' TERM; while true; do sleep 0.2; done"]


@pytest.fixture
def make_ctx(unique, docker_client):
    def make(properties=None):
        ctx = MockCloudifyContext(
            node_id=f'{unique}_app', node_name='app', deployment_id=unique, blueprint_id='bp',
            properties=properties or {},
            operation={'name': 'op', 'retry_number': 0, 'max_retries': 0})
        current_ctx.set(ctx)
        return ctx
    yield make
    current_ctx.clear()
    for container in docker_client.containers.list(
            all=True, filters={'label': f'cloudify.deployment={unique}'}):
        container.remove(force=True)
    for network in docker_client.networks.list(filters={'label': f'cloudify.deployment={unique}'}):
        network.remove()


def _files_holding(text: str, since: float, besides: str) -> list[str]:
    """Files under the temporary directory (but not under ``besides``), changed since
    ``since``, that hold ``text``."""
    found = []
    for root, _, names in os.walk(tempfile.gettempdir()):
        if root.startswith(besides):
            continue
        for name in names:
            path = os.path.join(root, name)
            try:
                if os.path.islink(path) or os.path.getmtime(path) < since or \
                        os.path.getsize(path) > 10 ** 6:
                    continue
                with open(path, errors='replace') as handle:
                    if text in handle.read():
                        found.append(path)
            except OSError:
                continue
    return found


def test_a_project_on_an_engine_behind_mutual_tls_with_pem_text(make_ctx, tmp_path, caplog,
                                                                docker_client, unique,
                                                                monkeypatch):
    (tmp_path / 'pki').mkdir()
    pki = make_pki(tmp_path / 'pki')
    key = pki.client_key.read_text()
    body = ''.join(key.splitlines()[1:-1])[:40]
    seen_links = []
    real_run = compose_process.run

    def spy(argv, env, *args, **kwargs):
        directory = env.get('DOCKER_CERT_PATH')
        if directory:
            seen_links.append({name: (os.path.islink(os.path.join(directory, name)),
                                      os.readlink(os.path.join(directory, name)))
                               for name in os.listdir(directory)})
        return real_run(argv, env, *args, **kwargs)

    monkeypatch.setattr(compose_process, 'run', spy)
    since = time.time() - 1
    caplog.set_level(logging.DEBUG)
    with tls_engine_front(pki) as url:
        daemon = {'base_url': url, 'ca_cert': pki.ca_cert.read_text(),
                  'client_cert': pki.client_cert.read_text(), 'client_key': key}
        ctx = make_ctx({'daemon_client': daemon, 'stop_timeout': 0, 'definition': {
            'services': {'app': {'image': 'docker-plugin/busybox:latest', 'command': LOOP}}}})
        compose.create(ctx=ctx)
        compose.start(ctx=ctx)
        compose_state.check_status(ctx=ctx)
        (app,) = ctx.instance.runtime_properties['services']['app']
        assert docker_client.containers.get(app['id']).status == 'running'
        assert 'client' in tls_engine_front.handshakes  # compose showed the client certificate
        compose.stop(ctx=ctx)
        compose.delete(ctx=ctx)
    assert labelled_objects(docker_client, {'cloudify.deployment': unique}) == NOTHING
    # compose read its certificates through links to in-memory files, never from a disk.
    assert seen_links and all(
        set(links) == {'ca.pem', 'cert.pem', 'key.pem'} and
        all(is_link and target.startswith('/proc/self/fd/') for is_link, target in
            links.values()) for links in seen_links)
    assert not [p for p in os.listdir(tempfile.gettempdir())
                if p.startswith('docker-plugin-certs-')]
    assert _files_holding(body, since, str(tmp_path / 'pki')) == []
    logged = '\n'.join(r.getMessage() for r in caplog.records)
    assert body not in logged and body not in repr(dict(ctx.instance.runtime_properties))


def test_waits_honour_their_timeouts(make_ctx, docker_client, unique):
    never_healthy = {'services': {'app': {
        'image': 'docker-plugin/busybox:latest', 'command': LOOP,
        'healthcheck': {'test': ['CMD', 'false'], 'interval': '30s', 'start_period': '60s'}}}}
    ctx = make_ctx({'definition': never_healthy, 'wait_timeout': 2, 'stop_timeout': 0})
    compose.create(ctx=ctx)
    started = time.monotonic()
    with pytest.raises(NonRecoverableError, match='compose up: application not healthy '
                                                  'after 2s'):
        compose.start(ctx=ctx)
    assert time.monotonic() - started < 15
    # The plugin's own deadline kills a compose command that outlives it.
    started = time.monotonic()
    with pytest.raises(NonRecoverableError, match=r'compose up: did not finish within 1 s and '
                                                  'was killed'):
        compose.start(ctx=ctx, timeout=1, wait_timeout=60)
    assert time.monotonic() - started < 10
    compose.delete(ctx=ctx)
    assert labelled_objects(docker_client, {'cloudify.deployment': unique}) == NOTHING
