"""A client (and a compose process) made without the host user's Docker configuration:
what a manager gives a tenant's blueprint. No engine is reached."""

from __future__ import annotations

import base64
import json
import os

import docker
from docker import auth

from docker_plugin.client import DaemonClientConfig, forget_host_configuration
from docker_plugin.resources.compose.engine import engine_environment

REGISTRY = 'registry.example:5000'


def _user_config(directory) -> None:
    directory.mkdir()
    token = base64.b64encode(b'operator:manager-password').decode()
    (directory / 'config.json').write_text(json.dumps({
        'auths': {REGISTRY: {'auth': token}},
        'credsStore': 'desktop',
        'proxies': {'default': {'httpProxy': 'http://proxy.example:3128'}}}))


def test_the_sdk_forgets_logins_helpers_and_proxies(tmp_path, monkeypatch):
    _user_config(tmp_path / 'docker')
    monkeypatch.setenv('DOCKER_CONFIG', str(tmp_path / 'docker'))
    api = docker.APIClient(base_url='unix:///nonexistent.sock', version='1.41')
    assert REGISTRY in api._auth_configs.auths and api._auth_configs.creds_store == 'desktop'
    assert api._proxy_configs.http == 'http://proxy.example:3128'
    forget_host_configuration(api)
    assert auth.resolve_authconfig(api._auth_configs, REGISTRY) is None
    assert api._auth_configs.get_credential_store(REGISTRY) is None
    assert not api._proxy_configs.http and api._general_configs == {}
    api.close()


def test_compose_gets_an_empty_configuration_of_its_own(tmp_path):
    _user_config(tmp_path / 'docker')
    base = {'PATH': '/usr/bin', 'HOME': str(tmp_path), 'DOCKER_CONFIG': str(tmp_path / 'docker')}
    lent = DaemonClientConfig(base_url='tcp://10.9.8.7:2375')
    with engine_environment(lent, base) as env:
        assert env.environ['DOCKER_CONFIG'] == str(tmp_path / 'docker')
    confined = DaemonClientConfig(base_url='tcp://10.9.8.7:2375', host_credentials=False)
    with engine_environment(confined, base) as env:
        own = env.environ['DOCKER_CONFIG']
        assert own != str(tmp_path / 'docker') and os.listdir(own) == []
        assert oct(os.stat(own).st_mode & 0o777) == '0o700'
    assert not os.path.exists(own)
