"""ComposeProject operations with a mock ctx against the real engine: mutual TLS with
PEM text that never touches a disk, and waits that honour their timeouts."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import tempfile
import time

import pytest
from cloudify.exceptions import NonRecoverableError
from cloudify.state import current_ctx
from helpers.cleanup import labelled_objects
from helpers.mock_ctx import node_ctx
from helpers.tls import make_pki, tls_engine_front

from docker_plugin.resources.compose import binary as compose_binary
from docker_plugin.resources.compose import process as compose_process
from docker_plugin.resources.compose.project import inline_directory
from docker_plugin.tasks.compose import lifecycle as compose
from docker_plugin.tasks.compose import lifecycle as compose_state

pytestmark = [pytest.mark.engine, pytest.mark.compose]
NOTHING = {'containers': [], 'images': [], 'networks': [], 'volumes': []}
LOOP = ['sh', '-c', "trap 'exit 0' TERM; while true; do sleep 0.2; done"]


@pytest.fixture
def make_ctx(unique, docker_client):
    def make(properties=None):
        return node_ctx(unique, properties, node='app', instance=f'{unique}_app')
    yield make
    current_ctx.clear()
    for container in docker_client.containers.list(
            all=True, filters={'label': f'cloudify.deployment={unique}'}):
        container.remove(force=True)
    for network in docker_client.networks.list(filters={'label': f'cloudify.deployment={unique}'}):
        network.remove()


def _files_holding(text: str, since: float, besides: str) -> list[str]:
    """Files the plugin or compose could have written (the temporary directory's own
    files, the plugin's directories there, ~/.docker), changed since ``since``, that hold
    ``text`` (``besides``: a directory left out). Other tests' directories are not read."""
    tmp = tempfile.gettempdir()
    roots = [os.path.join(tmp, n) for n in os.listdir(tmp) if n.startswith('docker-plugin')]
    roots.append(os.path.expanduser('~/.docker'))
    candidates = [os.path.join(tmp, n) for n in os.listdir(tmp)
                  if os.path.isfile(os.path.join(tmp, n))]
    for root in roots:
        for directory, _, names in os.walk(root):
            if not directory.startswith(besides):
                candidates += [os.path.join(directory, n) for n in names]
    found = []
    for path in candidates:
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
    # The inline definition's project directory existed only while compose ran.
    assert not os.path.exists(inline_directory(f'{unique}-{unique}_app'))
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


def test_a_secret_quoted_by_a_failing_up_is_masked_and_left_nowhere(make_ctx, caplog,
                                                                     docker_client, unique):
    canary = f'canary{unique[4:]}'  # a valid image tag, and a secret
    since = time.time() - 1
    caplog.set_level(logging.DEBUG)
    ctx = make_ctx({'secret_environment': {'TAG': canary}, 'pull': 'never', 'definition': {
        'services': {'app': {'image': 'docker-plugin/busybox:${TAG}', 'command': LOOP}}}})
    compose.create(ctx=ctx)
    with pytest.raises(NonRecoverableError) as failure:
        compose.start(ctx=ctx)
    assert 'docker-plugin/busybox:******' in str(failure.value)
    assert canary not in str(failure.value)
    logged = '\n'.join(r.getMessage() for r in caplog.records)
    assert canary not in logged and canary not in repr(dict(ctx.instance.runtime_properties))
    compose.delete(ctx=ctx)
    assert _files_holding(canary, since, '/nonexistent') == []
    assert labelled_objects(docker_client, {'cloudify.deployment': unique}) == NOTHING


def test_a_running_project_is_adopted_and_left_as_found(make_ctx, docker_client, unique):
    definition = {'services': {'app': {'image': 'docker-plugin/busybox:latest',
                                       'command': LOOP}}}
    binary = compose_binary.find_binary()
    env = {'PATH': os.environ['PATH'], 'HOME': os.environ.get('HOME', '/root')}
    directory = tempfile.mkdtemp(prefix='dpt-compose-')
    try:
        with open(os.path.join(directory, 'compose.yaml'), 'w') as handle:
            json.dump(definition, handle)
        argv = [binary, '-p', unique, '--project-directory', directory, '-f',
                os.path.join(directory, 'compose.yaml')]
        subprocess.run([*argv, 'up', '-d', '--wait'], env=env, check=True, timeout=120,
                       capture_output=True)
        ctx = make_ctx({'definition': definition, 'project_name': unique})
        with pytest.raises(NonRecoverableError, match=f'project_name: compose project {unique} '
                                                      'already exists'):
            compose.create(ctx=ctx)
        ctx = make_ctx({'definition': definition, 'project_name': unique,
                        'use_external_resource': True})
        compose.create(ctx=ctx)
        compose.start(ctx=ctx)
        compose_state.check_status(ctx=ctx)
        assert ctx.instance.runtime_properties['adopted'] is True
        (app,) = ctx.instance.runtime_properties['services']['app']
        assert 'cloudify.deployment' not in docker_client.containers.get(app['id']).labels
        compose.stop(ctx=ctx)
        compose.delete(ctx=ctx)
        assert docker_client.containers.get(app['id']).status == 'running'  # left as found
    finally:
        subprocess.run([*argv, 'down', '-t', '0'], env=env, timeout=120, capture_output=True,
                       check=False)
        shutil.rmtree(directory, ignore_errors=True)
