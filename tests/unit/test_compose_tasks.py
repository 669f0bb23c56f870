"""ComposeProject operations with a mock ctx and no engine.

Bad input fails before anything runs, naming the field; a file compose
refuses fails quoting compose (it reads files without the engine); an engine
that does not answer is retried; secret interpolation values never reach an
error.
"""

from __future__ import annotations

import pytest
from cloudify.exceptions import NonRecoverableError, RecoverableError
from cloudify.state import current_ctx
from helpers.mock_ctx import node_ctx

from docker_plugin.tasks.compose import commands as compose_actions
from docker_plugin.tasks.compose import lifecycle as compose
from docker_plugin.tasks.compose import lifecycle as compose_state

COMPOSE = pytest.mark.compose
DOWN = {'base_url': 'tcp://127.0.0.1:9', 'version': '1.41', 'timeout': 2}
GOOD = {'services': {'web': {'image': 'docker-plugin/busybox:latest',
                             'environment': {'TOKEN': '${TOKEN:-none}'}}}}


@pytest.fixture
def make_ctx():
    def make(properties=None, runtime_properties=None):
        return node_ctx('dep', properties, runtime_properties, node='app', instance='app_abc')
    yield make
    current_ctx.clear()


@pytest.mark.parametrize(('inputs', 'field'), [
    ({}, 'compose_files'),
    ({'definition': GOOD, 'compose_files': ['a.yaml']}, 'compose_files'),
    ({'definition': GOOD, 'project_name': 'Shop Front'}, 'project_name'),
    ({'definition': GOOD, 'scale': {'web': -1}}, 'scale.web'),
    ({'definition': GOOD, 'scale': {'web': 'two'}}, 'scale.web'),
    ({'definition': GOOD, 'pull': 'sometimes'}, 'pull'),
    ({'definition': GOOD, 'wait_timeout': 0}, 'wait_timeout'),
    ({'definition': GOOD, 'profiles': ['has space']}, 'profiles[0]'),
    ({'definition': GOOD, 'colour': 'red'}, 'colour'),
    ({'definition': {'services': ['web']}}, 'definition.services'),
    # compose itself says which services the project has
    pytest.param({'definition': GOOD, 'services': ['api']}, 'services[0]', marks=COMPOSE),
    pytest.param({'definition': GOOD, 'scale': {'api': 2}}, 'scale.api', marks=COMPOSE),
    ({'compose_files': ['/nonexistent/compose.yaml']}, 'compose_files[0]'),
    ({'definition': GOOD, 'env_files': ['/nonexistent/.env']}, 'env_files[0]'),
    ({'definition': GOOD, 'compose_binary': '/nonexistent/compose'}, 'compose_binary'),
])
def test_bad_input_fails_naming_the_field(make_ctx, inputs, field):
    ctx = make_ctx()
    inputs.setdefault('daemon_client', DOWN)
    with pytest.raises(NonRecoverableError) as failure:
        compose.create(ctx=ctx, **inputs)
    assert str(failure.value).startswith(f'{field}:'), str(failure.value)
    assert 'project_name' not in ctx.instance.runtime_properties


@pytest.mark.compose
@pytest.mark.parametrize(('definition', 'quoted'), [
    ({'services': {'web': {'image': 'x', 'colour': 'red'}}},
     "additional properties 'colour' not allowed"),
    ('services:\n  web: [\n', 'failed to parse'),
    ({'services': {'web': {'image': '${IMAGE:?give IMAGE}'}}},
     'required variable IMAGE is missing a value: give IMAGE'),
    ({'services': {'web': {'image': 'x', 'depends_on': ['db']}}}, 'depends on undefined'),
])
def test_a_file_compose_refuses_is_permanent_and_quotes_compose(make_ctx, definition, quoted):
    with pytest.raises(NonRecoverableError) as failure:
        compose.create(ctx=make_ctx(), definition=definition, daemon_client=DOWN)
    assert str(failure.value).startswith('definition: compose refused the project: ')
    assert quoted in str(failure.value)


def test_a_project_directory_that_is_a_file_is_refused_naming_it(make_ctx, tmp_path):
    # Found by the fuzz tier exploring: a file there escaped as FileExistsError.
    (tmp_path / 'compose.yaml').write_text('services: {}\n')
    with pytest.raises(NonRecoverableError, match=r"^project_directory: '.*compose.yaml' is "
                                                  r'not a directory'):
        compose.create(ctx=make_ctx(), definition=GOOD, daemon_client=DOWN,
                       project_directory=str(tmp_path / 'compose.yaml'))


def test_a_missing_compose_file_names_the_file(make_ctx, tmp_path):
    (tmp_path / 'compose.yaml').write_text('services: {}\n')
    with pytest.raises(NonRecoverableError, match=r"^compose_files\[1\]: .*not found"):
        compose.create(ctx=make_ctx(), compose_files=[str(tmp_path / 'compose.yaml'),
                                                      str(tmp_path / 'override.yaml')],
                       daemon_client=DOWN)


@pytest.mark.compose
def test_an_engine_that_does_not_answer_is_retried(make_ctx):
    ctx = make_ctx()
    with pytest.raises(RecoverableError, match='unreachable'):
        compose.create(ctx=ctx, definition=GOOD, daemon_client=DOWN)
    ctx = make_ctx(runtime_properties={'project_name': 'dep-app_abc'})
    with pytest.raises(RecoverableError, match='compose up: Docker engine unreachable'):
        compose.start(ctx=ctx, definition=GOOD, daemon_client=DOWN)
    with pytest.raises(RecoverableError, match='unreachable'):
        compose_state.check_status(ctx=ctx, daemon_client=DOWN)


@pytest.mark.compose
def test_secret_interpolation_values_never_reach_an_error(make_ctx, caplog):
    canary = 'canary-7f3a9-secret'
    definition = {'services': {'web': {'image': 'x', 'ports': ['${TOKEN}']}}}
    with pytest.raises(NonRecoverableError) as failure:
        compose.create(ctx=make_ctx(), definition=definition, daemon_client=DOWN,
                       secret_environment={'TOKEN': canary})
    assert 'invalid containerPort: ******' in str(failure.value)
    assert canary not in str(failure.value)
    assert canary not in caplog.text


def test_actions_need_a_project_and_valid_inputs(make_ctx):
    with pytest.raises(NonRecoverableError, match='no compose project recorded'):
        compose_actions.ps(ctx=make_ctx(), daemon_client=DOWN)
    ctx = make_ctx(properties={'definition': GOOD},
                   runtime_properties={'project_name': 'dep-app_abc'})
    with pytest.raises(NonRecoverableError, match=r'^service: required'):
        compose_actions.exec_command(ctx=ctx, command=['true'], daemon_client=DOWN)
    with pytest.raises(NonRecoverableError, match=r'^tail: '):
        compose_actions.logs(ctx=ctx, tail='some', daemon_client=DOWN)


def test_delete_of_a_retained_project_runs_nothing(make_ctx):
    ctx = make_ctx(properties={'definition': GOOD, 'retain': True},
                   runtime_properties={'project_name': 'dep-app_abc'})
    compose.stop(ctx=ctx, daemon_client=DOWN)  # would fail on the engine otherwise
    compose.delete(ctx=ctx, daemon_client=DOWN)
    assert 'project_name' not in ctx.instance.runtime_properties
