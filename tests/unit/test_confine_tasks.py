"""The policy applied to operations (docker_plugin.tasks.confine): the mode a run is in,
the operator's settings file, the work directory, fetching from a manager, client
configs and readiness probes. No engine: what is refused is refused before one."""

from __future__ import annotations

import os
import socket
import types
from typing import Any

import pytest
from cloudify.context import CloudifyContext
from cloudify.exceptions import NonRecoverableError
from helpers.mock_ctx import node_ctx

from docker_plugin import operator_settings
from docker_plugin.confinement import Mode
from docker_plugin.errors import InvalidInputError
from docker_plugin.resources.container import probes
from docker_plugin.tasks import confine, context, swarm_objects
from docker_plugin.tasks.container import commands as container_commands
from docker_plugin.tasks.image import sources as image_sources

PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'


@pytest.fixture(autouse=True)
def no_engine(monkeypatch):
    """What the policy refuses never reaches an engine: these tests fail if one is asked."""
    def refuse(config):
        raise AssertionError(f'an engine was reached: {config.base_url}')
    monkeypatch.setattr(context, 'open_client', refuse)


@pytest.fixture
def no_worker(monkeypatch):
    for name in (*confine.WORKER_MARKERS, operator_settings.ENV_ENGINES,
                 operator_settings.ENV_READ, operator_settings.ENV_WRITE, 'DOCKER_HOST'):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(operator_settings.SETTINGS_ENV, '/nonexistent/docker-plugin.yaml')


@pytest.fixture
def worker(no_worker, monkeypatch, tmp_path):
    """The process runs as a management worker's operation does."""
    monkeypatch.setenv('MGMTWORKER_HOME', str(tmp_path / 'mgmtworker'))
    monkeypatch.setenv('AGENT_WORK_DIR', str(tmp_path / 'mgmtworker' / 'work'))
    return tmp_path / 'mgmtworker' / 'work'


def _mock(resources: dict | None = None, **runtime) -> Any:
    return node_ctx('dep', runtime=runtime, node='n', instance='n_1', tenant={'name': 'acme'},
                    resources=resources or {})


# ------------------------------------------------------------------ the mode
def test_an_in_process_local_run_is_local(no_worker):
    ctx = CloudifyContext({'local': True, 'storage': object()})
    assert confine.run_mode(ctx) is Mode.LOCAL


def test_a_test_mock_is_local(no_worker):
    assert confine.run_mode(_mock()) is Mode.LOCAL


@pytest.mark.parametrize('context', [
    {'deployment_id': 'd', 'tenant': {'name': 't'}},  # what a manager dispatches
    {'local': True},  # says local, but no storage came with it: dispatched as JSON
    {'local': 'yes', 'storage': object()},  # not the flag cloudify-common sets
])
def test_every_other_context_is_confined(no_worker, context):
    assert confine.run_mode(CloudifyContext(context)) is Mode.MANAGER


def test_something_unknown_is_confined(no_worker):
    assert confine.run_mode(types.SimpleNamespace(_local=True)) is Mode.MANAGER
    assert confine.run_mode(None) is Mode.MANAGER


@pytest.mark.parametrize('marker', ['MGMTWORKER_HOME', 'AGENT_WORK_DIR'])
def test_a_workers_environment_confines_even_a_local_looking_context(no_worker, monkeypatch,
                                                                     marker):
    monkeypatch.setenv(marker, '/opt/mgmtworker')
    assert confine.run_mode(CloudifyContext({'local': True, 'storage': object()})) is \
        Mode.MANAGER
    assert confine.run_mode(_mock()) is Mode.MANAGER


def test_a_relationship_side_is_judged_by_its_operation(no_worker, monkeypatch):
    ctx = _mock()
    side = types.SimpleNamespace(node=None, instance=None)  # ctx.source of a relationship
    assert confine.policy(side).mode is Mode.LOCAL
    monkeypatch.setenv('MGMTWORKER_HOME', '/opt/mgmtworker')
    assert confine.policy(side).mode is Mode.MANAGER
    assert confine.operation_context(side) is ctx


# ------------------------------------------------------------------ roots
def test_the_work_directory_under_a_worker_is_per_deployment(worker):
    ctx = CloudifyContext({'deployment_id': 'dep', 'tenant': {'name': 'acme'}})
    assert confine.workdir(ctx, os.environ) == str(worker / 'deployments' / 'acme' / 'dep' /
                                                   'docker-plugin')


@pytest.mark.parametrize('deployment, tenant', [('../x', 'acme'), ('dep', '..'), ('', 'acme')])
def test_no_work_directory_from_odd_names(worker, deployment, tenant):
    ctx = CloudifyContext({'deployment_id': deployment, 'tenant': {'name': tenant}})
    assert confine.workdir(ctx, os.environ) is None


def test_a_cfy_local_storage_gives_its_deployment_workdir(tmp_path):
    storage = types.SimpleNamespace(get_workdir=lambda: str(tmp_path / 'workdir'),
                                    get_blueprint=lambda: {'resources': str(tmp_path)})
    ctx = CloudifyContext({'local': True, 'storage': storage})
    assert confine.workdir(ctx, {}) == str(tmp_path / 'workdir' / 'docker-plugin')
    assert confine.resources(ctx) == str(tmp_path)


# ------------------------------------------------------------------ the settings file
def _settings_file(tmp_path, text: str, mode: int = 0o644, uid: int = 0):
    path = tmp_path / 'docker-plugin.yaml'
    path.write_text(text)
    os.chmod(path, mode)
    os.chown(path, uid, 0)
    return {operator_settings.SETTINGS_ENV: str(path)}


@pytest.mark.skipif(os.geteuid() != 0, reason='makes files of other owners')
def test_a_root_owned_settings_file_is_honoured(tmp_path):
    environ = _settings_file(tmp_path, 'allow_engines: [unix:///var/run/docker.sock]\n')
    found = operator_settings.load_settings(environ)
    assert found.engines == ('unix:///var/run/docker.sock',) and not found.problem


@pytest.mark.skipif(os.geteuid() != 0, reason='makes files of other owners')
@pytest.mark.parametrize('mode, uid, why', [(0o666, 0, 'nobody else write it'),
                                            (0o664, 0, 'nobody else write it'),
                                            (0o644, 1000, 'root must own it')])
def test_a_settings_file_others_could_write_is_ignored(tmp_path, mode, uid, why):
    environ = _settings_file(tmp_path, 'allow_engines: [unix:///var/run/docker.sock]\n',
                             mode, uid)
    found = operator_settings.load_settings(environ)
    assert found.engines == () and why in found.problem


@pytest.mark.skipif(os.geteuid() != 0, reason='makes files of other owners')
def test_a_settings_file_that_is_not_yaml_is_ignored(tmp_path):
    found = operator_settings.load_settings(_settings_file(tmp_path, 'allow_engines: [unclosed\n'))
    assert found.engines == () and 'not YAML' in found.problem


def test_a_directory_is_no_settings_file(tmp_path):
    found = operator_settings.load_settings({operator_settings.SETTINGS_ENV: str(tmp_path)})
    assert 'was ignored' in found.problem


def test_no_settings_file_allows_what_the_environment_allows():
    found = operator_settings.load_settings({operator_settings.SETTINGS_ENV: '/nonexistent.yaml',
                                   'DOCKER_PLUGIN_ALLOW_ENGINES': 'unix:///run/docker.sock'})
    assert found.engines == ('unix:///run/docker.sock',) and not found.problem


# ------------------------------------------------------------------ host facts
def test_this_hosts_addresses_are_those_a_socket_binds_to():
    assert confine._is_own('127.0.0.1')
    assert not confine._is_own('192.0.2.254')  # TEST-NET-1: nobody's
    assert confine._resolve('localhost')


# ------------------------------------------------------------------ reading on a manager
def test_on_a_manager_nothing_escaping_is_even_asked_for(worker):
    asked = []
    ctx = _mock()
    ctx.download_resource = lambda path, target_path=None: asked.append(path) or '/dev/null'
    for given in ('../other-blueprint/secret.txt', '/etc/passwd', '~/x'):
        with pytest.raises(InvalidInputError, match='file: '):
            confine.resource_path(ctx, given, 'file')
    assert asked == []
    assert confine.resource_path(ctx, 'files/./a.txt', 'file') == '/dev/null'
    assert asked == ['files/a.txt']


def test_tls_files_on_a_manager_are_pem_text_or_blueprint_files(worker, tmp_path):
    ctx = _mock()
    ctx._endpoint = types.SimpleNamespace(storage=types.SimpleNamespace(
        get_blueprint=lambda: {'resources': str(tmp_path)}))
    (tmp_path / 'ca.pem').write_text(PEM)
    remote = {'base_url': 'tcp://10.9.8.7:2376'}
    with pytest.raises(InvalidInputError) as caught:
        confine.client_config(ctx, {**remote, 'ca_cert': '/etc/cloudify/ssl/ca.pem'})
    assert str(caught.value).startswith("daemon_client.ca_cert: '/etc/cloudify/ssl/ca.pem' is a "
                                        "path on the manager's own host; on a Cloudify manager "
                                        'give the PEM text')
    with pytest.raises(InvalidInputError, match=r'^daemon_client\.tls\.ca_cert: '):
        confine.client_config(ctx, {**remote, 'tls': {'ca': '../../ca.pem'}})
    config = confine.client_config(ctx, {**remote, 'ca_cert': 'ca.pem', 'client_cert': PEM,
                                         'client_key': PEM})
    assert config.ca_cert == str(tmp_path / 'ca.pem') and config.client_key == PEM


def test_the_engine_field_and_its_origin(worker, monkeypatch):
    ctx = _mock()
    with pytest.raises(InvalidInputError, match=r'^daemon_client\.base_url: unix:///var/run/'
                                                r'docker\.sock \(the default: no daemon_client'):
        confine.client_config(ctx, {})
    with pytest.raises(InvalidInputError, match=r'^daemon_client\.host: tcp://localhost:2375 '):
        confine.client_config(ctx, {'host': 'localhost'})
    monkeypatch.setenv('DOCKER_HOST', 'unix:///run/docker.sock')
    with pytest.raises(InvalidInputError, match=r'\(DOCKER_HOST of the worker\)'):
        confine.client_config(ctx, {})
    monkeypatch.setenv('DOCKER_PLUGIN_ALLOW_ENGINES', 'unix:///run/docker.sock')
    assert confine.client_config(ctx, {}).base_url == 'unix:///run/docker.sock'


# ------------------------------------------------------------------ through the tasks
def test_copy_from_on_a_manager_writes_into_the_work_directory(worker):
    ctx = _mock(container_id='c' * 64)
    remote = {'base_url': 'tcp://10.9.8.7:2376', 'timeout': 1}
    for destination in ('/opt/mgmtworker/env/lib/python3.11/site-packages', '../../..'):
        with pytest.raises(NonRecoverableError, match=r'^destination: '):
            container_commands.copy_from(ctx=ctx, daemon_client=remote, source='/etc',
                                         destination=destination)
    assert confine.write_directory(ctx, 'out', 'destination') == \
        str(worker / 'deployments' / 'acme' / 'dep' / 'docker-plugin' / 'out')
    assert oct(os.stat(worker / 'deployments' / 'acme' / 'dep' / 'docker-plugin').st_mode
               )[-3:] == '700'


def test_image_sources_are_refused_before_the_engine(worker):
    ctx = _mock()
    for kind, raw, field in (('image_build', {'path': '/etc'}, 'image_build.path'),
                             ('image_import', {'src': '../../x.tar'}, 'image_import.src')):
        with pytest.raises(InvalidInputError, match=f'^{field}: '):
            image_sources.request(ctx, {kind: raw})
    kind, values = image_sources.request(ctx, {'image_import': {'src': 'https://h/x.tar'}})
    assert values['src'] == 'https://h/x.tar'


def test_a_secret_file_is_refused_before_the_engine(worker):
    ctx = _mock()
    with pytest.raises(NonRecoverableError, match=r"^file: '/etc/shadow' is a path on the "):
        swarm_objects.secret_create(ctx=ctx, daemon_client={'base_url': 'tcp://10.9.8.7:1'},
                                    name='s', file='/etc/shadow')


def test_a_probe_never_connects_where_the_guard_says_no(monkeypatch):
    tried = []
    monkeypatch.setattr(socket, 'create_connection', lambda *a, **k: tried.append(a) or
                        (_ for _ in ()).throw(OSError('refused')))
    info = {'Id': 'c' * 64, 'Name': '/c', 'State': {'Status': 'running'},
            'NetworkSettings': {'Ports': {'80/tcp': [{'HostIp': '127.0.0.1',
                                                      'HostPort': '8080'}]}, 'Networks': {}}}
    seen = probes._probe_port(info, 80, '10.9.8.7', lambda host: 'a loopback address')
    assert tried == [] and not seen.done
    assert "127.0.0.1:8080 not tried (a loopback address)" in seen.seen


def test_a_manager_never_lends_the_workers_docker_configuration(worker, no_worker):
    """Registry logins, credential helpers and proxies of the worker's user are the
    manager's: a blueprint's client on a manager has none of them; locally it has them."""
    remote = {'base_url': 'tcp://10.9.8.7:2376'}
    assert confine.client_config(_mock(), remote).host_credentials is False


def test_a_local_run_keeps_the_users_docker_configuration(no_worker):
    assert confine.client_config(_mock(), {}).host_credentials is True
