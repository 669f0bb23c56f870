"""What a ComposeProject makes compose read, confined on a manager (tasks/compose/confine.py,
resources/compose/paths.py): checked before compose runs, and in the project compose
printed before anything is built. No compose process, no engine."""

from __future__ import annotations

import os
from typing import Any

import pytest
from helpers.mock_ctx import node_ctx

from docker_plugin.errors import InvalidInputError
from docker_plugin.resources.compose import paths as compose_paths
from docker_plugin.resources.compose.project import inline_directory
from docker_plugin.tasks.compose import lifecycle as compose

DOCUMENT = """
include:
  - inc/a.yaml
  - path: [inc/b.yaml, inc/c.yaml]
    env_file: inc/x.env
    project_directory: inc
services:
  web:
    image: busybox
    env_file: [a.env, {path: b.env, required: false}]
    label_file: labels.txt
    extends: {file: base.yaml, service: base}
    environment: !override {A: '1'}
  db:
    image: busybox
    env_file: db.env
    ports: !reset []
"""


def test_config_reads_finds_every_file_compose_reads_while_it_reads_the_project():
    found = list(compose_paths.config_reads(compose_paths.load(DOCUMENT)))
    assert found == [
        ('include[0]', 'file', 'inc/a.yaml'),
        ('include[1].path[0]', 'file', 'inc/b.yaml'),
        ('include[1].path[1]', 'file', 'inc/c.yaml'),
        ('include[1].env_file', 'data', 'inc/x.env'),
        ('include[1].project_directory', 'directory', 'inc'),
        ('services.web.env_file[0]', 'data', 'a.env'),
        ('services.web.env_file[1]', 'data', 'b.env'),
        ('services.web.label_file', 'data', 'labels.txt'),
        ('services.web.extends.file', 'file', 'base.yaml'),
        ('services.db.env_file', 'data', 'db.env'),
    ]


def test_model_reads_finds_what_build_and_run_read():
    model = {'services': {
        'web': {'build': {'context': '/p/app', 'dockerfile': '../Dockerfile.x',
                          'additional_contexts': {'extra': '/p/inc', 'img': 'docker-image://x',
                                                  'oci': 'oci-layout:///p/layout'},
                          'ssh': ['default', 'key=/root/.ssh/id_rsa,/p/k2']}},
        'remote': {'build': {'context': 'https://github.com/x/y.git#main'}},
        'list': {'build': {'context': '/p/l', 'additional_contexts': ['a=/p/a', 'b=service:x']}},
        'plain': {'image': 'busybox'}},
        'secrets': {'s1': {'file': '/p/s1.txt'}, 'env': {'environment': 'X'}},
        'configs': {'c1': {'file': 'rel.txt'}}}
    assert list(compose_paths.model_reads(model, '/p')) == [
        ('services.web.build.context', '/p/app'),
        ('services.web.build.dockerfile', '/p/app/../Dockerfile.x'),
        ('services.web.build.additional_contexts.extra', '/p/inc'),
        ('services.web.build.additional_contexts.oci', '/p/layout'),
        ('services.web.build.ssh.key', '/root/.ssh/id_rsa'),
        ('services.web.build.ssh.key', '/p/k2'),
        ('services.list.build.context', '/p/l'),
        ('services.list.build.additional_contexts.a', '/p/a'),
        ('secrets.s1.file', '/p/s1.txt'),
        ('configs.c1.file', '/p/rel.txt'),
    ]


def test_a_document_that_is_not_yaml_reads_nothing():
    assert compose_paths.load('services: [unclosed') is None
    assert list(compose_paths.config_reads(None)) == []


# ------------------------------------------------------------------ on a manager
@pytest.fixture
def blueprint(tmp_path, monkeypatch):
    """A blueprint with a compose project, a file outside it, and a worker's environment."""
    monkeypatch.setenv('MGMTWORKER_HOME', str(tmp_path / 'mgmtworker'))
    monkeypatch.setenv('DOCKER_PLUGIN_SETTINGS', '/nonexistent.yaml')
    root = tmp_path / 'bp'
    (root / 'app' / 'web').mkdir(parents=True)
    (root / 'app' / 'web' / 'Dockerfile').write_text('FROM scratch\n')
    (root / 'app' / 'web.env').write_text('A=1\n')
    (root / 'shared').mkdir()
    (root / 'shared' / 'common.env').write_text('B=2\n')
    (tmp_path / 'outside').mkdir()
    (tmp_path / 'outside' / 'secret.env').write_text('S=1\n')
    return root


def _ctx(root) -> Any:
    return node_ctx('dep', node='p', instance='p_1', blueprint_dir=str(root))


def _spec(root, text: str | None = None, **properties):
    if text is not None:
        (root / 'app' / 'compose.yaml').write_text(text)
        properties.setdefault('compose_files', ['app/compose.yaml'])
    ctx = _ctx(root)
    return compose.spec(ctx, compose.options(ctx, properties))


def _refused(call, field: str, *words: str) -> str:
    with pytest.raises(InvalidInputError) as caught:
        call()
    message = str(caught.value)
    assert message.startswith(f'{field}: ') and '\n' not in message, message
    for word in words:
        assert word in message, message
    return message


def test_a_project_inside_the_blueprint_passes_with_its_audit(blueprint):
    spec = _spec(blueprint, 'services:\n  web:\n    build: ./web\n    env_file: web.env\n'
                            '    image: x\n')
    assert spec.files == (str(blueprint / 'app' / 'compose.yaml'),)
    spec.audit({'services': {'web': {'build': {'context': str(blueprint / 'app' / 'web'),
                                               'dockerfile': 'Dockerfile'}}}})


@pytest.mark.parametrize('service, where', [
    ('env_file: /etc/passwd', 'services.web.env_file'),
    ('env_file: [ok.env, ../../../outside/secret.env]', 'services.web.env_file[1]'),
    ('env_file: [{path: ~/.docker/config.json}]', 'services.web.env_file[0]'),
    ('label_file: /etc/hostname', 'services.web.label_file'),
    ('extends: {file: ../../outside/base.yaml, service: x}', 'services.web.extends.file'),
])
def test_files_read_with_the_project_must_be_the_blueprints(blueprint, service, where):
    _refused(lambda: _spec(blueprint, f'services:\n  web:\n    image: x\n    {service}\n'),
             'compose_files', f'compose.yaml {where}')


def test_a_path_through_the_blueprint_but_outside_the_project_is_fine(blueprint):
    _spec(blueprint, 'services:\n  web:\n    image: x\n    env_file: ../shared/common.env\n')


@pytest.mark.parametrize('value, why', [('${SECRETS}/x.env', 'interpolation'),
                                        ('$HOME/.env', 'interpolation'),
                                        ('oci://registry/project', 'fetched by the manager'),
                                        ('git@github.com:x/y.git', 'fetched by the manager')])
def test_paths_compose_would_work_out_or_fetch_are_refused(blueprint, value, why):
    _refused(lambda: _spec(blueprint, f'include:\n  - {value!r}\nservices: {{}}\n'),
             'compose_files', 'include[0]', why)


def test_paths_written_with_json_escapes_are_read_as_compose_reads_them(blueprint):
    # Found by the fuzz tier exploring: YAML reads the JSON escape of a character beyond
    # the BMP as two halves, and they escaped as UnicodeEncodeError.
    (blueprint / 'app' / '\U00010000.env').write_text('A=1\n')
    _spec(blueprint, '{"services": {"web": {"image": "x", "env_file": "\\ud800\\udc00.env"}}}')
    _refused(lambda: _spec(blueprint, '{"services": {"web": {"image": "x", '
                                      '"env_file": "\\ud800.env"}}}'),
             'compose_files', 'services.web.env_file', 'not text')


def test_what_an_included_file_reads_is_checked_too(blueprint):
    (blueprint / 'app' / 'inc.yaml').write_text(
        'services:\n  leak:\n    image: x\n    env_file: /etc/shadow\n')
    _refused(lambda: _spec(blueprint, 'include: [inc.yaml]\nservices: {}\n'), 'compose_files',
             'inc.yaml services.leak.env_file', "'/etc/shadow'")
    (blueprint / 'app' / 'inc.yaml').write_text('services:\n  ok:\n    image: x\n')
    _spec(blueprint, 'include: [inc.yaml]\nservices: {}\n')


def test_files_that_include_each_other_end(blueprint):
    (blueprint / 'app' / 'a.yaml').write_text('include: [b.yaml]\n')
    (blueprint / 'app' / 'b.yaml').write_text('include: [a.yaml]\n')
    _spec(blueprint, 'include: [a.yaml]\nservices: {}\n')


def test_links_out_of_the_blueprint_among_the_projects_files_are_refused(blueprint):
    outside = blueprint.parent / 'outside'
    (blueprint / 'app' / '.env').symlink_to(outside / 'secret.env')
    _refused(lambda: _spec(blueprint, 'services:\n  web:\n    image: x\n'), 'compose_files',
             "'.env'", 'symbolic link')
    (blueprint / 'app' / '.env').unlink()
    (blueprint / 'app' / 'linked.yaml').symlink_to(outside / 'secret.env')
    _refused(lambda: _spec(blueprint, compose_files=['app/linked.yaml']), 'compose_files',
             'symbolic link')


@pytest.mark.parametrize('where, value', [
    ('services.web.build.context', '/etc'),
    ('services.web.build.dockerfile', '../../../outside/secret.env'),
    ('services.web.build.additional_contexts.x', '/root'),
    ('secrets.s.file', '/etc/shadow'),
    ('configs.c.file', '/etc/cloudify/config.yaml'),
])
def test_the_audit_refuses_builds_and_files_outside_the_blueprint(blueprint, where, value):
    spec = _spec(blueprint, 'services:\n  web:\n    image: x\n')
    context = str(blueprint / 'app' / 'web')
    build = {'context': context, 'dockerfile': 'Dockerfile'}
    model: dict = {'services': {'web': {'build': build}}}
    if where.endswith('context'):
        build['context'] = value
    elif where.endswith('dockerfile'):
        build['dockerfile'] = value
    elif '.additional_contexts.' in where:
        build['additional_contexts'] = {'x': value}
    else:
        kind, name, _ = where.split('.')
        model[kind] = {name: {'file': value}}
    _refused(lambda: spec.audit(model), 'compose_files', where, repr(os.path.join(
        context, value) if where.endswith('dockerfile') else value))


def test_an_inline_definition_reads_no_file_of_the_manager(blueprint):
    def inline(document):
        ctx = _ctx(blueprint)
        return compose.spec(ctx, compose.options(ctx, {'definition': document}))
    _refused(lambda: inline({'services': {'web': {'image': 'x', 'env_file': 'x.env'}}}),
             'definition', 'the definition services.web.env_file')
    spec = inline({'services': {'web': {'image': 'x', 'build': '.'}}})
    directory = inline_directory(spec.name)
    _refused(lambda: spec.audit({'services': {'web': {'build': {'context': directory}}}}),
             'definition', 'services.web.build.context')


@pytest.mark.parametrize('properties, field', [
    ({'compose_binary': '/bin/sh'}, 'compose_binary'),
    ({'environment': {'DOCKER_HOST': 'unix:///var/run/docker.sock'}}, 'environment.DOCKER_HOST'),
    ({'environment': {'COMPOSE_ENV_FILES': '/etc/shadow'}}, 'environment.COMPOSE_ENV_FILES'),
    ({'secret_environment': {'LD_PRELOAD': 'x.so'}}, 'secret_environment.LD_PRELOAD'),
])
def test_no_program_or_process_variable_from_the_blueprint(blueprint, properties, field):
    ctx = _ctx(blueprint)
    _refused(lambda: compose.options(ctx, {'compose_files': ['app/compose.yaml'],
                                           **properties}), field)


def test_locally_compose_reads_what_it_is_given(blueprint, monkeypatch):
    monkeypatch.delenv('MGMTWORKER_HOME')
    spec = _spec(blueprint, 'services:\n  web:\n    image: x\n    env_file: /etc/hostname\n',
                 environment={'DOCKER_HOST': 'unix:///var/run/docker.sock'})
    assert spec.audit is None


def test_the_inline_directory_is_private_to_its_user(tmp_path, monkeypatch):
    """Another user of the host cannot make an inline project's directory first (with a
    compose.yaml in it that compose would read): it lives in a directory only this user
    can write, and a root that is not that is refused."""
    import tempfile

    from docker_plugin.errors import StateError
    monkeypatch.setattr(tempfile, 'gettempdir', lambda: str(tmp_path))
    path = inline_directory('proj')
    root = os.path.dirname(path)
    assert oct(os.stat(root).st_mode & 0o777) == '0o700'
    os.chmod(root, 0o777)
    with pytest.raises(StateError, match='only this user'):
        inline_directory('proj')
