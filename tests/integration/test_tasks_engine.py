"""The lifecycle tasks with a mock ctx against the real engine: TLS, secrets,
docker_env_var, name conflicts and existing images."""

from __future__ import annotations

import logging

import docker
import pytest
from cloudify.exceptions import NonRecoverableError, RecoverableError
from cloudify.state import current_ctx
from helpers.mock_ctx import node_ctx
from helpers.tls import make_pki, tls_engine_front

from docker_plugin import tasks
from docker_plugin.client import open_client, resolve_config
from docker_plugin.tasks.container import lifecycle as container_state

pytestmark = pytest.mark.engine
BASE = 'docker-plugin/busybox:latest'


@pytest.fixture
def make_ctx(unique):
    made = []

    def make(properties=None, runtime_properties=None):
        ctx = node_ctx(unique, properties, runtime_properties, node='c1',
                       instance=f'{unique}_inst')
        made.append(ctx)
        return ctx

    yield make
    current_ctx.clear()


def _lifecycle(ctx, **inputs):
    tasks.create(ctx=ctx, **inputs)
    tasks.configure(ctx=ctx, **inputs)
    tasks.run(ctx=ctx, **inputs)


def test_mutual_tls_with_pem_text_from_secrets_keeps_the_key_out_of_everything(
        make_ctx, tmp_path, caplog, docker_client, labelled):
    pki = make_pki(tmp_path)
    key_text = pki.client_key.read_text()
    with tls_engine_front(pki) as url:
        daemon = {'base_url': url, 'ca_cert': pki.ca_cert.read_text(),
                  'client_cert': pki.client_cert.read_text(), 'client_key': key_text,
                  'version': 'auto'}
        ctx = make_ctx()
        caplog.set_level(logging.DEBUG)
        inputs = {'daemon_client': daemon, 'container_config': {
            'image': BASE, 'command': ['sleep', '30'], 'labels': labelled}}
        _lifecycle(ctx, **inputs)
        props = dict(ctx.instance.runtime_properties)
        assert docker_client.containers.get(props['container_id']).status == 'running'
        assert 'client' in tls_engine_front.handshakes  # the client certificate's CN
        tasks.delete(ctx=ctx, daemon_client=daemon, container_stop={'timeout': 0})
    everything = repr(props) + '\n'.join(r.getMessage() for r in caplog.records)
    body = ''.join(key_text.splitlines()[1:-1])
    assert key_text not in everything and body[:40] not in everything
    assert 'container_id' not in ctx.instance.runtime_properties


def test_tls_with_an_untrusted_engine_certificate_is_a_clear_permanent_error(
        make_ctx, tmp_path):
    pki = make_pki(tmp_path)
    key_text = pki.client_key.read_text()
    with tls_engine_front(pki) as url:
        ctx = make_ctx()
        daemon = {'base_url': url, 'ca_cert': str(pki.other_ca_cert),
                  'client_cert': str(pki.client_cert), 'client_key': key_text}
        with pytest.raises(NonRecoverableError) as failure:
            tasks.configure(ctx=ctx, daemon_client=daemon,
                            container_config={'image': BASE, 'command': 'true'})
    message = str(failure.value)
    assert message.startswith('daemon_client:') and 'TLS handshake failed' in message
    assert 'BEGIN' not in message and key_text not in message


def test_tls_without_a_client_certificate_is_refused_by_the_engine(make_ctx, tmp_path):
    pki = make_pki(tmp_path)
    with tls_engine_front(pki) as url:
        ctx = make_ctx()
        with pytest.raises((NonRecoverableError, RecoverableError)) as failure:
            tasks.configure(ctx=ctx, daemon_client={'base_url': url, 'ca_cert': str(pki.ca_cert)},
                            container_config={'image': BASE, 'command': 'true'})
    # The engine wants a client certificate. Under TLS 1.3 the client learns it
    # either from the engine's alert (configuration: permanent) or only from the
    # connection closing (as a restarting engine's would: retried). Both say so.
    if isinstance(failure.value, NonRecoverableError):
        assert str(failure.value).startswith('daemon_client:'), str(failure.value)
        assert 'TLS handshake failed' in str(failure.value)
    else:
        assert 'TLS connection broken' in str(failure.value)


def test_docker_env_var_is_merged_into_the_environment(make_ctx, docker_client, labelled):
    ctx = make_ctx(runtime_properties={'docker_env_var': {'PEER_IP': '10.0.0.7', 'MODE': 'rt'}})
    tasks.configure(ctx=ctx, container_config={
        'image': BASE, 'command': 'env', 'environment': {'MODE': 'static', 'KEEP': 'yes'},
        'labels': labelled})
    container = docker_client.containers.get(ctx.instance.runtime_properties['container_id'])
    env = dict(e.split('=', 1) for e in container.attrs['Config']['Env'])
    assert env['PEER_IP'] == '10.0.0.7' and env['KEEP'] == 'yes'
    assert env['MODE'] == 'rt'  # the runtime value wins
    tasks.delete(ctx=ctx)


def test_a_foreign_container_with_the_same_name_is_never_adopted(
        make_ctx, docker_client, unique, labelled):
    docker_client.containers.create(BASE, 'true', name=f'{unique}-taken', labels=labelled)
    ctx = make_ctx()
    with pytest.raises(NonRecoverableError, match=r'container_config\.name: container '
                       r'\S+-taken already exists and was not made by this deployment'):
        tasks.configure(ctx=ctx, container_config={'image': BASE, 'name': f'{unique}-taken'})
    assert 'container_id' not in ctx.instance.runtime_properties


def test_an_existing_image_is_used_and_kept(make_ctx, docker_client, labelled):
    ctx = make_ctx(properties={'container_config': {'image': BASE, 'command': ['true'],
                                                    'labels': labelled}})
    _lifecycle(ctx)
    props = ctx.instance.runtime_properties
    assert props['image_source'] == 'existing' and props['image_created'] is False
    assert props['exit_code'] in (0, None)
    tasks.stop(ctx=ctx)
    tasks.delete(ctx=ctx)
    docker_client.images.get(BASE)  # still there


def test_an_unreachable_registry_is_retried_with_the_image_named(make_ctx):
    ctx = make_ctx()
    with pytest.raises(RecoverableError) as failure:
        tasks.create(ctx=ctx, image_pull={'repository': '127.0.0.1:9/nothing/here', 'tag': 'x'})
    assert 'pull 127.0.0.1:9/nothing/here:x' in str(failure.value)
    assert 'image_id' not in ctx.instance.runtime_properties


def test_an_adopted_container_is_started_and_left_in_place(make_ctx, docker_client, unique,
                                                            labelled):
    theirs = docker_client.containers.create(BASE, ['sleep', '60'], name=f'{unique}-theirs',
                                             labels=labelled)
    props = {'container_config': {'name': f'{unique}-theirs'}, 'use_external_resource': True,
             'container_stop': {'timeout': 0}}
    ctx = make_ctx(properties=props)
    tasks.configure(ctx=ctx)
    tasks.run(ctx=ctx)
    runtime = ctx.instance.runtime_properties
    assert runtime['container_id'] == theirs.id and runtime['adopted'] is True
    theirs.reload()
    assert theirs.status == 'running'
    tasks.stop(ctx=ctx)
    tasks.delete(ctx=ctx)
    theirs.reload()
    assert theirs.status == 'running'  # adopted: not stopped, not removed
    assert 'container_id' not in ctx.instance.runtime_properties
    # Told to, it goes like any other.
    ctx = make_ctx(properties={**props, 'delete_adopted': True})
    tasks.configure(ctx=ctx)
    tasks.delete(ctx=ctx)
    with pytest.raises(docker.errors.NotFound):
        theirs.reload()


def test_use_external_resource_needs_the_container_to_exist(make_ctx, unique):
    ctx = make_ctx(properties={'container_config': {'name': f'{unique}-absent'},
                               'use_external_resource': True})
    with pytest.raises(NonRecoverableError, match='does not exist'):
        tasks.configure(ctx=ctx)


def test_volume_subpath_is_refused_by_an_engine_too_old_for_it(api):
    from docker_plugin.errors import InvalidInputError
    from docker_plugin.options.base import api_tuple
    from docker_plugin.resources.container import spec as specs
    spec = specs.build({}, {}, {}, [specs.volume_mount('vol', {'target': '/x',
                                                               'subpath': 'sub'})], [], 'n')
    if api_tuple(api.api_version) >= (1, 45):
        specs.check_engine_support(spec, api.api_version)  # supported: no error
    else:
        with pytest.raises(InvalidInputError, match=r'subpath.*1\.45'):
            specs.check_engine_support(spec, api.api_version)


@pytest.mark.parametrize('remove_volumes', [True, False])
def test_anonymous_volumes_follow_container_remove_v(make_ctx, docker_client, labelled,
                                                     remove_volumes):
    ctx = make_ctx(properties={'container_config': {
        'image': BASE, 'command': ['sleep', '30'], 'volumes': ['/anon'], 'labels': labelled}})
    tasks.configure(ctx=ctx)
    container = docker_client.containers.get(ctx.instance.runtime_properties['container_id'])
    (volume,) = [m['Name'] for m in container.attrs['Mounts'] if m['Destination'] == '/anon']
    tasks.delete(ctx=ctx, container_remove={'v': remove_volumes})
    if remove_volumes:
        with pytest.raises(docker.errors.NotFound):
            docker_client.volumes.get(volume)
    else:
        docker_client.volumes.get(volume).remove()  # kept, as asked; the test cleans up


@pytest.mark.smoke
def test_the_lifecycle_on_a_remote_engine_over_mutual_tls(make_ctx, remote_tls_engine,
                                                           caplog):
    """A real dockerd with --tlsverify on another (namespaced) host, reached by
    host and port with the certificates given as PEM text, as from secrets."""
    daemon = remote_tls_engine.daemon_client()
    caplog.set_level(logging.DEBUG)
    ctx = make_ctx(properties={
        'daemon_client': daemon, 'container_config': {'image': BASE, 'command': ['sleep', '60']},
        'container_stop': {'timeout': 0}})
    tasks.create(ctx=ctx)
    tasks.configure(ctx=ctx)
    tasks.run(ctx=ctx)
    props = dict(ctx.instance.runtime_properties)
    assert props['state'] == 'running'
    assert props['ip'].startswith(remote_tls_engine.subnet_prefix)  # the remote bridge
    # (A plain DockerClient here would check against REQUESTS_CA_BUNDLE, which
    # this machine sets: the plugin's factory pins the engine's CA.)
    with open_client(resolve_config(daemon)) as remote:
        assert remote.containers.get(props['container_id']).status == 'running'
        tasks.stop(ctx=ctx)
        tasks.delete(ctx=ctx)
        with pytest.raises(docker.errors.NotFound):
            remote.containers.get(props['container_id'])
    key = daemon['client_key']
    body = ''.join(key.splitlines()[1:-1])
    logged = '\n'.join(r.getMessage() for r in caplog.records) + repr(props)
    assert key not in logged and body[:40] not in logged
    # Without a client certificate the engine refuses: a clear, permanent error.
    ctx = make_ctx(properties={'daemon_client': {k: v for k, v in daemon.items()
                                                 if k not in ('client_cert', 'client_key')},
                               'container_config': {'image': BASE}})
    with pytest.raises(NonRecoverableError, match='daemon_client'):
        tasks.configure(ctx=ctx)


@pytest.mark.smoke
def test_drift_is_found_and_what_can_change_in_place_is_updated(make_ctx, docker_client,
                                                                 labelled):
    config = {'image': BASE, 'command': ['sleep', '60'], 'environment': {'MODE': 'a'},
              'labels': labelled, 'cpu_shares': 512, 'restart_policy': 'on-failure:2',
              'port_bindings': {80: ['127.0.0.1', None]}, 'container_config_unused': None}
    config.pop('container_config_unused')
    ctx = make_ctx(properties={'container_config': config, 'container_stop': {'timeout': 0}})
    tasks.configure(ctx=ctx)
    tasks.run(ctx=ctx)
    assert container_state.check_drift(ctx=ctx) == []
    container = docker_client.containers.get(ctx.instance.runtime_properties['container_id'])
    container.update(cpu_shares=256)  # changed behind Cloudify's back

    (found,) = container_state.check_drift(ctx=ctx)
    assert (found['option'], found['desired'], found['actual'], found['updatable']) == (
        'cpu_shares', 512, 256, True)
    assert ctx.instance.runtime_properties['drift'] == [found]
    container_state.update(ctx=ctx)
    container.reload()
    assert container.attrs['HostConfig']['CpuShares'] == 512
    assert container_state.check_drift(ctx=ctx) == []

    # What needs a new container is named, not applied; env values are never shown.
    changed = {**config, 'command': ['sleep', '61'], 'environment': {'MODE': 'secret-b'}}
    found = container_state.check_drift(ctx=ctx, container_config=changed)
    assert {d['option'] for d in found} == {'command', 'environment'}
    assert 'secret-b' not in repr(found)
    with pytest.raises(NonRecoverableError, match='command, environment changed'):
        container_state.update(ctx=ctx, container_config=changed)
    tasks.delete(ctx=ctx)


def test_a_local_socket_is_reached_without_the_environments_proxies(monkeypatch):
    """The local engine's socket takes no proxy, netrc login or CA bundle from the
    environment (requests would look each up at every call): a proxy that does not
    answer changes nothing. A tcp:// engine keeps them (a proxy may be its way)."""
    for name in ('HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'http_proxy', 'all_proxy'):
        monkeypatch.setenv(name, 'http://127.0.0.1:9')  # discard: nothing answers
    monkeypatch.delenv('NO_PROXY', raising=False)
    monkeypatch.delenv('no_proxy', raising=False)
    with open_client(resolve_config({})) as local:
        assert local.api.trust_env is False
        assert local.api.inspect_image(BASE)['Id']
    with open_client(resolve_config({'base_url': 'tcp://127.0.0.1:9', 'version': '1.41'})) \
            as remote:  # a pinned version: nothing is sent
        assert remote.api.trust_env is True
