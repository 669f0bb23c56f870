"""daemon_client -> DaemonClientConfig -> DockerClient arguments (no engine)."""

from __future__ import annotations

import os
import subprocess

import docker.tls
import pytest

from docker_plugin import client
from docker_plugin.client import DaemonClientConfig, resolve_config
from docker_plugin.errors import InvalidInputError

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


def test_pem_text_becomes_private_files_and_never_shows(pem):
    cert, key = pem
    config = resolve_config({'base_url': 'tcp://127.0.0.1:9', 'ca_cert': cert,
                             'client_cert': cert, 'client_key': key}, environ=NO_ENV)
    assert key not in repr(config) and key not in config.describe()
    assert 'client certificate' in config.describe()
    workdir: list[str] = []
    kwargs = client.client_kwargs(config, workdir)
    tls = kwargs['tls']
    assert isinstance(tls, docker.tls.TLSConfig)
    _, key_path = tls.cert
    assert open(key_path).read().strip() == key.strip()
    assert os.stat(key_path).st_mode & 0o777 == 0o600
    assert tls.verify == tls.ca_cert and os.path.isfile(tls.ca_cert)


def test_a_missing_file_is_named_but_not_echoed():
    secretish = '/no/such/dir/MIIEvQIBADANBgkqhkiG9w0'
    config = resolve_config({'base_url': 'tcp://h:1', 'client_cert': secretish,
                             'client_key': secretish}, environ=NO_ENV)
    with pytest.raises(InvalidInputError) as failure:
        client.client_kwargs(config, [])
    assert 'daemon_client.client_cert' in str(failure.value)
    assert secretish not in str(failure.value)


def test_verify_off():
    config = DaemonClientConfig(base_url='tcp://h:1', tls=True, tls_verify=False)
    assert client.client_kwargs(config, [])['tls'].verify is False


def test_open_client_removes_its_temporary_files(pem):
    cert, key = pem
    config = resolve_config({'base_url': 'tcp://127.0.0.1:9', 'version': '1.41',
                             'client_cert': cert, 'client_key': key, 'tls_verify': False},
                            environ=NO_ENV)
    with client.open_client(config) as docker_client:
        key_path = docker_client.api.cert[1]
        assert os.path.isfile(key_path)
    assert not os.path.exists(key_path)
    assert not os.path.exists(os.path.dirname(key_path))
