"""daemon_client -> DaemonClientConfig -> DockerClient arguments (no engine)."""

from __future__ import annotations

import os
import subprocess

import docker.tls
import pytest

from docker_plugin import client
from docker_plugin.client import DaemonClientConfig, resolve_config
from docker_plugin.errors import InvalidInputError
from docker_plugin.pem import pem_paths

NO_ENV: dict[str, str] = {}


@pytest.mark.parametrize(('raw', 'expected'), [
    (None, {'base_url': 'unix:///var/run/docker.sock', 'version': 'auto', 'timeout': 60.0,
            'tls': False}),
    ({}, {'base_url': 'unix:///var/run/docker.sock'}),
    ({'base_url': 'tcp://10.0.0.5:2375'}, {'base_url': 'tcp://10.0.0.5:2375', 'tls': False}),
    ({'docker_host': 'tcp://h:1'}, {'base_url': 'tcp://h:1'}),
    ({'url': 'unix:///tmp/d.sock'}, {'base_url': 'unix:///tmp/d.sock'}),
    ({'host': 'engine.example', 'tls': True}, {'base_url': 'tcp://engine.example:2376'}),
    ({'host': 'engine.example'}, {'base_url': 'tcp://engine.example:2375'}),
    ({'hostname': 'e', 'port': 23760}, {'base_url': 'tcp://e:23760'}),
    ({'version': '1.41', 'timeout': 5}, {'version': '1.41', 'timeout': 5.0}),
    ({'api_version': 1.41}, {'version': '1.41'}),
    ({'base_url': 'tcp://h:2376', 'tls_verify': False},
     {'tls': False, 'tls_verify': False}),
    ({'base_url': 'tcp://h:2376', 'tls': {'ca_cert': '/ca.pem', 'verify': True}},
     {'tls': True, 'tls_verify': True, 'ca_cert': '/ca.pem'}),
])
def test_resolve(raw, expected):
    config = resolve_config(raw, environ=NO_ENV)
    for key, value in expected.items():
        assert getattr(config, key) == value, key


@pytest.mark.parametrize(('raw', 'field'), [
    ({'nope': 1}, 'daemon_client.nope'),
    ({'timeout': 'x'}, 'daemon_client.timeout'),
    ({'timeout': 0}, 'daemon_client.timeout'),
    ({'timeout': True}, 'daemon_client.timeout'),
    ({'tls': 'yes'}, 'daemon_client.tls'),
    ({'host': 'h', 'port': 'abc'}, 'daemon_client.port'),
    ({'host': 'h', 'port': 70000}, 'daemon_client.port'),
    ({'port': 2376}, 'daemon_client.port'),
    ({'version': 'v2'}, 'daemon_client.version'),
    ({'version': '1.12'}, 'daemon_client.version'),
    ({'version': '１.41'}, 'daemon_client.version'),
    ({'host': 'h', 'port': '２３７６'}, 'daemon_client.port'),
    ({'base_url': 'ssh://h'}, 'daemon_client.base_url'),  # ssh:// needs a user
    ({'base_url': 'tcp://h:99999'}, 'daemon_client.base_url'),
    ({'timeout': float('nan')}, 'daemon_client.timeout'),
    ({'timeout': 10 ** 30}, 'daemon_client.timeout'),
    ({'base_url': 'tcp://h:1', 'host': 'h'}, 'daemon_client.host'),
    ({'base_url': 'ftp://h'}, 'daemon_client.base_url'),
    ({'base_url': 'tcp://h:1', 'client_cert': '/c.pem'}, 'daemon_client.client_key'),
    ({'tls': True}, 'daemon_client.tls'),  # TLS over the unix socket
    ({'tls': {'bogus': 1}}, 'daemon_client.tls.bogus'),
    ('tcp://h:1', 'daemon_client'),
])
def test_bad_input_names_the_field(raw, field):
    with pytest.raises(InvalidInputError) as failure:
        resolve_config(raw, environ=NO_ENV)
    assert str(failure.value).startswith(f'{field}:')


def test_docker_env_fallbacks():
    env = {'DOCKER_HOST': 'tcp://10.1.1.1:2376', 'DOCKER_TLS_VERIFY': '1',
           'DOCKER_CERT_PATH': '/certs', 'DOCKER_API_VERSION': '1.40'}
    config = resolve_config({}, environ=env)
    assert config.base_url == 'tcp://10.1.1.1:2376' and config.version == '1.40'
    assert config.tls and config.tls_verify
    assert (config.ca_cert, config.client_cert, config.client_key) == (
        '/certs/ca.pem', '/certs/cert.pem', '/certs/key.pem')
    # Explicit settings win; use_env turns the environment off.
    assert resolve_config({'base_url': 'unix:///x.sock'}, environ=env).tls is False
    assert resolve_config({'use_env': False}, environ=env).base_url.startswith('unix://')


@pytest.fixture(scope='module')
def pem(tmp_path_factory):
    directory = tmp_path_factory.mktemp('pem')
    key, cert = directory / 'k.pem', directory / 'c.pem'
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout',
                    str(key), '-out', str(cert), '-days', '1', '-subj', '/CN=t'],
                   check=True, capture_output=True, timeout=60)
    return cert.read_text(), key.read_text()


def test_pem_text_becomes_in_memory_files_and_never_shows(pem):
    cert, key = pem
    config = resolve_config({'base_url': 'tcp://127.0.0.1:9', 'ca_cert': cert,
                             'client_cert': cert, 'client_key': key}, environ=NO_ENV)
    assert key not in repr(config) and key not in config.describe()
    assert 'client certificate' in config.describe()
    with pem_paths() as path_for:
        tls = client.client_kwargs(config, path_for)['tls']
        assert isinstance(tls, docker.tls.TLSConfig)
        _, key_path = tls.cert
        assert key_path.startswith('/proc/self/fd/')  # a memfd: no file system holds it
        assert open(key_path).read().strip() == key.strip()
        assert tls.verify == tls.ca_cert and os.path.exists(tls.ca_cert)
    assert not os.path.exists(key_path) or open(key_path).read() != key


def test_without_memfd_pem_goes_to_a_private_directory_removed_after(pem, monkeypatch):
    _, key = pem
    monkeypatch.delattr(os, 'memfd_create')
    with pem_paths() as path_for:
        path = path_for(key, 'client_key')
        assert os.stat(path).st_mode & 0o777 == 0o600
        assert os.stat(os.path.dirname(path)).st_mode & 0o777 == 0o700
    assert not os.path.exists(os.path.dirname(path))


def test_a_missing_file_is_named_but_not_echoed():
    secretish = '/no/such/dir/MIIEvQIBADANBgkqhkiG9w0'
    config = resolve_config({'base_url': 'tcp://h:1', 'client_cert': secretish,
                             'client_key': secretish}, environ=NO_ENV)
    with pytest.raises(InvalidInputError) as failure, pem_paths() as path_for:
        client.client_kwargs(config, path_for)
    assert 'daemon_client.client_cert' in str(failure.value)
    assert secretish not in str(failure.value)


def test_verify_off():
    config = DaemonClientConfig(base_url='tcp://h:1', tls=True, tls_verify=False)
    with pem_paths() as path_for:
        assert client.client_kwargs(config, path_for)['tls'].verify is False


@pytest.mark.parametrize('requested', ['1.30', '1.41'])
def test_over_tls_the_requested_version_is_used(pem, requested):
    cert, key = pem
    config = resolve_config({'base_url': 'tcp://127.0.0.1:9', 'version': requested,
                             'client_cert': cert, 'client_key': key, 'tls_verify': False},
                            environ=NO_ENV)
    for _ in range(2):  # and again in the same process: nothing sticks
        with client.open_client(config) as docker_client:
            assert docker_client.api.api_version == requested


def test_certificates_imply_tls_and_its_port(pem):
    cert, key = pem
    config = resolve_config({'host': '10.0.0.9', 'client_cert': cert, 'client_key': key},
                            environ=NO_ENV)
    assert config.tls and config.base_url == 'tcp://10.0.0.9:2376'
    assert resolve_config({'host': 'h', 'ca_cert': cert}, environ=NO_ENV).base_url.endswith(
        ':2376')


def test_open_client_leaves_no_key_material_behind(pem, tmp_path, monkeypatch):
    cert, key = pem
    monkeypatch.setattr('tempfile.tempdir', str(tmp_path))
    config = resolve_config({'base_url': 'tcp://127.0.0.1:9', 'version': '1.41',
                             'client_cert': cert, 'client_key': key, 'tls_verify': False},
                            environ=NO_ENV)
    with client.open_client(config) as docker_client:
        key_path = docker_client.api.cert[1]
        assert open(key_path).read().strip() == key.strip()
    assert list(tmp_path.iterdir()) == []  # nothing was ever written to a temp directory
