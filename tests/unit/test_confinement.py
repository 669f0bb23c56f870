"""The confinement policy (docker_plugin.confinement) and the operator's settings, alone.

Paths are real directories under tmp_path (the policy resolves symbolic
links); facts about the host are given, so no name is looked up and no
socket bound.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys

import pytest

from docker_plugin.confinement import (
    HostFacts,
    Mode,
    Policy,
    engine_key,
    inside,
    own_address,
)
from docker_plugin.errors import InvalidInputError, TransientError
from docker_plugin.operator_settings import Settings, settings_from

NAMES = {'localhost': ['127.0.0.1', '::1'], 'runsc': ['127.0.0.1'], 'engine.example': ['10.1.2.3'],
         'mine.example': ['192.0.2.2'], 'meta.example': ['169.254.169.254']}


def _resolve(host: str) -> list[str]:
    if host in NAMES:
        return NAMES[host]
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    try:  # the forms getaddrinfo reads as IPv4 without asking anyone (127.1, 0x7f000001)
        return [socket.inet_ntoa(socket.inet_aton(host))]
    except OSError:
        raise OSError(-2, 'Name or service not known') from None


FACTS = HostFacts(resolve=_resolve, is_own=lambda address: address == '192.0.2.2')


@pytest.fixture
def tree(tmp_path):
    """A blueprint directory with a build context, a link out of it and one inside it,
    and a work directory holding a link out of it."""
    blueprint, work, outside = tmp_path / 'bp', tmp_path / 'work', tmp_path / 'outside'
    (blueprint / 'ctx').mkdir(parents=True)
    (blueprint / 'ctx' / 'Dockerfile').write_text('FROM scratch\n')
    (blueprint / 'secret.txt').write_text('s')
    outside.mkdir()
    (outside / 'passwd').write_text('root')
    (blueprint / 'out').symlink_to(outside)
    (blueprint / 'alias').symlink_to(blueprint / 'ctx')
    work.mkdir()
    (work / 'escape').symlink_to(outside)
    return blueprint, work, outside


def _manager(tree, settings: Settings | None = None) -> Policy:
    blueprint, work, _ = tree
    return Policy(Mode.MANAGER, settings or Settings(), str(blueprint), str(work))


def _refused(call, field: str, *words: str) -> str:
    with pytest.raises(InvalidInputError) as caught:
        call()
    message = str(caught.value)
    assert message.startswith(f'{field}: '), message
    for word in words:
        assert word in message, message
    assert '\n' not in message
    return message


# ------------------------------------------------------------------ local: today's freedom
def test_local_mode_takes_every_path_and_engine_as_given(tree):
    rules = Policy(Mode.LOCAL)
    assert rules.read('/etc', 'f') == '/etc'
    assert rules.read('../../etc/passwd', 'f') == '../../etc/passwd'
    assert rules.write('/opt/anything', 'f') == '/opt/anything'
    assert rules.within('/ctx', '../Dockerfile', 'f') == '/ctx/../Dockerfile'
    rules.engine('unix:///var/run/docker.sock', 'daemon_client.base_url', FACTS)
    rules.engine('tcp://127.0.0.1:2375', 'daemon_client.base_url', FACTS)
    rules.program('/usr/bin/anything', 'compose_binary')
    rules.child_environment(['DOCKER_HOST', 'LD_PRELOAD', 'PATH'], 'environment')
    assert rules.unreachable('127.0.0.1', FACTS) is None


# ------------------------------------------------------------------ manager: reading
def test_a_path_inside_the_blueprint_is_its_real_path(tree):
    blueprint = tree[0]
    rules = _manager(tree)
    assert rules.read('ctx', 'image_build.path') == str(blueprint / 'ctx')
    assert rules.read('./ctx/../ctx/', 'image_build.path') == str(blueprint / 'ctx')
    assert rules.read('alias', 'image_build.path') == str(blueprint / 'ctx')  # a link inside
    assert rules.read('.', 'compose_files[0]') == str(blueprint)


@pytest.mark.parametrize('given', ['../../etc/passwd', '..', 'ctx/../../x', '../bp/ctx'])
def test_traversal_out_of_the_blueprint_is_refused(tree, given):
    _refused(lambda: _manager(tree).read(given, 'image_build.path'), 'image_build.path',
             repr(given), 'leads out of the blueprint', 'relative to it')


@pytest.mark.parametrize('given', ['/etc', '/etc/passwd', sys.prefix, '/proc/self/environ'])
def test_absolute_paths_are_refused(tree, given):
    _refused(lambda: _manager(tree).read(given, 'copy_to.source'), 'copy_to.source',
             "a path on the manager's own host", 'allow_read')


def test_an_absolute_path_of_the_blueprint_itself_is_refused_too(tree):
    # The author cannot know where the manager keeps the blueprint: relative is the rule.
    _refused(lambda: _manager(tree).read(str(tree[0] / 'ctx'), 'image_build.path'),
             'image_build.path', "manager's own host")


@pytest.mark.parametrize('given', ['out', 'out/passwd', 'ctx/../out'])
def test_symbolic_links_out_of_the_blueprint_are_refused(tree, given):
    _refused(lambda: _manager(tree).read(given, 'file'), 'file', 'symbolic link')


@pytest.mark.parametrize('given, why', [('~/.ssh/id_rsa', 'home directory'),
                                        ('~root', 'home directory'),
                                        ('ctx/\x00x', 'NUL')])
def test_home_directories_and_nul_are_refused(tree, given, why):
    _refused(lambda: _manager(tree).read(given, 'file'), 'file', why)


def test_the_operator_can_allow_a_host_directory_to_read(tree):
    outside = tree[2]
    rules = _manager(tree, Settings(read=(str(outside),)))
    assert rules.read(str(outside / 'passwd'), 'file') == str(outside / 'passwd')
    assert rules.read('out/passwd', 'file') == str(outside / 'passwd')  # a link there, too
    _refused(lambda: rules.read('/etc/passwd', 'file'), 'file', "manager's own host")


def test_on_a_manager_without_the_files_a_clean_relative_path_is_fetched(tree):
    rules = Policy(Mode.MANAGER, workdir=str(tree[1]))
    assert rules.read('ctx/./Dockerfile', 'f') == 'ctx/Dockerfile'
    assert rules.read('a/b/../c', 'f') == 'a/c'
    _refused(lambda: rules.read('a/../../b', 'f'), 'f', 'leads out of the blueprint')


def test_a_dockerfile_may_not_leave_its_build_context(tree):
    context = str(tree[0] / 'ctx')
    rules = _manager(tree)
    assert rules.within(context, 'Dockerfile', 'image_build.dockerfile') == \
        os.path.join(context, 'Dockerfile')
    _refused(lambda: rules.within(context, '../secret.txt', 'image_build.dockerfile',
                                  what='the build context'),
             'image_build.dockerfile', 'leads out of the build context')
    _refused(lambda: rules.within(context, '/etc/passwd', 'image_build.dockerfile'),
             'image_build.dockerfile', 'must be relative')


def test_a_dockerfile_is_checked_before_its_context_is_fetched():
    rules = Policy(Mode.MANAGER)
    assert rules.clean('docker/./Dockerfile', 'image_build.dockerfile', 'the build context') == \
        'docker/Dockerfile'
    for given, why in (('../secret.txt', 'leads out of the build context'),
                       ('/etc/passwd', 'must be relative'), ('~/x', 'home directory')):
        _refused(lambda given=given: rules.clean(given, 'image_build.dockerfile',
                                                 'the build context'),
                 'image_build.dockerfile', why)
    assert Policy(Mode.LOCAL).clean('../x', 'f', 'w') == '../x'


# ------------------------------------------------------------------ manager: writing
def test_copy_from_writes_inside_the_deployment_work_directory(tree):
    work = tree[1]
    rules = _manager(tree)
    assert rules.write('out', 'destination') == str(work / 'out')
    assert rules.write('a/b/../c', 'destination') == str(work / 'a' / 'c')
    assert rules.write(str(work / 'x'), 'destination') == str(work / 'x')


@pytest.mark.parametrize('given', [os.path.join(sys.prefix, 'lib'), '/tmp', '/etc/cron.d'])
def test_writing_elsewhere_on_the_host_is_refused(tree, given):
    _refused(lambda: _manager(tree).write(given, 'destination'), 'destination',
             "outside this deployment's work directory", 'allow_write')


@pytest.mark.parametrize('given', ['../../x', '..', 'escape', 'escape/deeper'])
def test_writing_out_of_the_work_directory_is_refused(tree, given):
    _refused(lambda: _manager(tree).write(given, 'destination'), 'destination',
             'leads out of')


def test_the_operator_can_allow_a_directory_to_write(tree):
    outside = tree[2]
    rules = _manager(tree, Settings(write=(str(outside),)))
    assert rules.write(str(outside / 'exports'), 'destination') == str(outside / 'exports')


def test_no_work_directory_no_writing(tree):
    _refused(lambda: Policy(Mode.MANAGER).write('out', 'destination'), 'destination',
             'no deployment work directory')


# ------------------------------------------------------------------ manager: engines
@pytest.mark.parametrize('url, why', [
    ('unix:///var/run/docker.sock', 'a socket'),
    ('unix:///tmp/other.sock', 'a socket'),
    ('tcp://127.0.0.1:2375', 'loopback'),
    ('tcp://127.1:2375', 'loopback'),
    ('tcp://2130706433:2375', 'loopback'),
    ('tcp://0x7f000001:2375', 'loopback'),
    ('tcp://localhost:2375', 'loopback'),
    ('tcp://runsc:2375', 'loopback'),
    ('https://[::1]:2376', 'loopback'),
    ('tcp://[::ffff:127.0.0.1]:2375', 'loopback'),
    ('tcp://0.0.0.0:2375', 'unspecified'),
    ('tcp://[::]:2375', 'unspecified'),
    ('http://169.254.169.254:80', 'link-local'),
    ('tcp://meta.example:80', 'link-local'),
    ('tcp://192.0.2.2:2375', 'an address of this host'),
    ('tcp://mine.example:2376', 'an address of this host'),
    ('tcp://224.0.0.1:2375', 'multicast'),
])
def test_the_manager_hosts_own_engine_is_refused(url, why):
    _refused(lambda: Policy(Mode.MANAGER).engine(url, 'daemon_client.base_url', FACTS),
             'daemon_client.base_url', url, why, 'allow_engines')


def test_a_remote_engine_is_allowed():
    Policy(Mode.MANAGER).engine('tcp://10.1.2.3:2376', 'daemon_client.base_url', FACTS)
    Policy(Mode.MANAGER).engine('https://engine.example:2376', 'daemon_client.host', FACTS)


def test_the_default_engine_says_it_is_the_default():
    message = _refused(lambda: Policy(Mode.MANAGER).engine(
        'unix:///var/run/docker.sock', 'daemon_client.base_url', FACTS, ' (the default)'),
        'daemon_client.base_url')
    assert 'unix:///var/run/docker.sock (the default) is a socket' in message


def test_a_name_that_does_not_resolve_is_retried_as_unreachable():
    with pytest.raises(TransientError, match='unreachable'):
        Policy(Mode.MANAGER).engine('tcp://nowhere.invalid:2376', 'daemon_client.host', FACTS)


def test_the_operator_can_allow_the_local_engine(tmp_path):
    real = tmp_path / 'run' / 'docker.sock'
    real.parent.mkdir()
    real.touch()
    (tmp_path / 'var-run').symlink_to(real.parent)
    settings = Settings(engines=(f'unix://{tmp_path}/var-run/docker.sock',
                                 'tcp://127.0.0.1:2375'))
    rules = Policy(Mode.MANAGER, settings)
    rules.engine(f'unix://{real}', 'daemon_client.base_url', FACTS)  # the same socket
    rules.engine('https://127.0.0.1:2375', 'daemon_client.base_url', FACTS)
    _refused(lambda: rules.engine('tcp://127.0.0.1:2376', 'daemon_client.base_url', FACTS),
             'daemon_client.base_url', 'loopback')
    _refused(lambda: rules.engine('tcp://localhost:2375', 'daemon_client.base_url', FACTS),
             'daemon_client.base_url', 'loopback')  # allowed as written, never by name
    assert rules.allowed_engine('tcp://127.0.0.1:2375')
    assert not rules.allowed_engine('unix:///var/run/docker.sock')


def test_engine_keys_name_one_endpoint_whatever_the_spelling():
    assert engine_key('https://Engine.Example:2376') == ('tcp', 'engine.example', 2376)
    assert engine_key('tcp://[::1]:2375') == ('tcp', '::1', 2375)
    assert engine_key('unix://var/run/../run/docker.sock', lambda p: os.path.normpath(p)) == \
        ('unix', '/var/run/docker.sock')
    with pytest.raises(ValueError):
        engine_key('docker.sock')


def test_own_addresses():
    assert own_address('10.1.2.3', lambda a: False) is None
    assert own_address('10.1.2.3', lambda a: True) == 'an address of this host'
    assert own_address('fe80::1%eth0', lambda a: False) == 'a link-local address'
    assert own_address('not-an-ip', lambda a: False) == 'not an address'


def test_readiness_probes_keep_off_the_managers_own_host():
    rules = Policy(Mode.MANAGER)
    assert 'loopback' in rules.unreachable('127.0.0.1', FACTS)
    assert 'loopback' in rules.unreachable('localhost', FACTS)
    assert rules.unreachable('10.1.2.3', FACTS) is None
    assert rules.unreachable('nowhere.invalid', FACTS) is None  # fails to connect by itself


# ------------------------------------------------------------------ manager: processes
def test_no_program_a_blueprint_names_is_run():
    _refused(lambda: Policy(Mode.MANAGER).program('/bin/sh', 'compose_binary'),
             'compose_binary', 'remove compose_binary')
    Policy(Mode.MANAGER).program('', 'compose_binary')


@pytest.mark.parametrize('name', ['DOCKER_HOST', 'DOCKER_CONFIG', 'COMPOSE_FILE',
                                  'COMPOSE_ENV_FILES', 'LD_PRELOAD', 'PATH', 'HOME', 'TMPDIR',
                                  'HTTPS_PROXY', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'GODEBUG',
                                  'BUILDX_CONFIG', 'SSH_AUTH_SOCK', 'SSL_CERT_FILE'])
def test_variables_of_the_compose_process_itself_are_refused(name):
    _refused(lambda: Policy(Mode.MANAGER).child_environment({name: 'x'}, 'environment'),
             f'environment.{name}', 'compose process itself')


def test_project_variables_and_harmless_compose_settings_pass():
    Policy(Mode.MANAGER).child_environment(
        ['APP_GREETING', 'DB_PASSWORD', 'GOOGLE_KEY', 'COMPOSE_PARALLEL_LIMIT'], 'environment')


def test_settings_that_were_ignored_are_told_with_every_refusal(tree):
    rules = _manager(tree, Settings(problem='/etc/cloudify/docker-plugin.yaml was ignored: x'))
    message = _refused(lambda: rules.read('/etc', 'file'), 'file')
    assert message.endswith('(note: /etc/cloudify/docker-plugin.yaml was ignored: x)')


def test_inside():
    assert inside('/a/b', ['/a'])
    assert inside('/a', ['/a'])
    assert not inside('/ab', ['/a'])
    assert inside('/x', ['/'])


# ------------------------------------------------------------------ the operator's settings
def test_settings_add_the_file_and_the_environment():
    found = settings_from({'allow_engines': ['unix:///var/run/docker.sock'],
                           'allow_read': ['/srv/builds'], 'allow_write': []}, 'f.yaml',
                          {'DOCKER_PLUGIN_ALLOW_ENGINES': 'tcp://127.0.0.1:2375, '
                                                          'https://[::1]:2376',
                           'DOCKER_PLUGIN_ALLOW_WRITE': '/srv/out:/srv/more'})
    assert found == Settings(engines=('unix:///var/run/docker.sock', 'tcp://127.0.0.1:2375',
                                      'https://[::1]:2376'),
                             read=('/srv/builds',), write=('/srv/out', '/srv/more'))


@pytest.mark.parametrize('data, problem', [
    ({'allow_engine': ['unix:///x']}, 'unknown keys allow_engine'),
    ({'allow_read': 'relative'}, 'must be a list'),
    ({'allow_read': ['relative']}, 'not an absolute path'),
    ({'allow_engines': ['/var/run/docker.sock']}, 'not a unix://'),
    (['allow_engines'], 'expected a mapping'),
])
def test_a_wrong_settings_file_allows_nothing_and_says_why(data, problem):
    found = settings_from(data, '/etc/cloudify/docker-plugin.yaml', {})
    assert (found.engines, found.read, found.write) == ((), (), ())
    assert found.problem.startswith('/etc/cloudify/docker-plugin.yaml was ignored: ')
    assert problem in found.problem


def test_a_wrong_environment_variable_is_ignored_alone():
    found = settings_from({'allow_read': ['/srv']}, 'f',
                          {'DOCKER_PLUGIN_ALLOW_WRITE': 'relative/dir',
                           'DOCKER_PLUGIN_ALLOW_ENGINES': 'tcp://10.0.0.1:2375'})
    assert found.read == ('/srv',) and found.engines == ('tcp://10.0.0.1:2375',)
    assert found.write == ()
    assert 'DOCKER_PLUGIN_ALLOW_WRITE was ignored' in found.problem


def test_no_settings_allow_nothing():
    assert settings_from(None, 'f', {}) == Settings()
