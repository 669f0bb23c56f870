"""The fuzz tier on a manager: every path and engine input, fuzzed, in MANAGER mode.

The process runs as a management worker's operation does (``MGMTWORKER_HOME``
and ``AGENT_WORK_DIR`` set); the operator allows one engine,
``tcp://127.0.0.1:9``, where nothing listens. Paths come from
``fuzzing.paths()`` (climbing pieces, links out, home directories,
interpolation, NUL, look-alikes, absolute places); engines from
``fuzzing.LOCAL_ENGINES`` (this host in many spellings). The invariant, on
top of fuzzing.py's (refused naming the field, or accepted and then the
allowed engine is unreachable): an audit hook sees every file the process
opens or lists and every connection it makes, and none may touch the
directory outside the blueprint, and none may go anywhere but the allowed
engine; nothing is written outside the deployment's work directory. Compose
documents whose paths are fuzzed are read by compose itself (``config``),
and what it read may not show the canary files outside the blueprint.
"""

from __future__ import annotations

import json
import os
import sys
import types
import uuid
from typing import Any

import pytest
from cloudify.exceptions import NonRecoverableError
from fuzzing import EXAMPLES, LOCAL_ENGINES, SETTINGS, Outcomes, paths
from helpers.mock_ctx import node_ctx
from hypothesis import example, given, settings
from hypothesis import strategies as st

from docker_plugin.errors import InvalidInputError
from docker_plugin.tasks import swarm_objects
from docker_plugin.tasks.compose import lifecycle as compose
from docker_plugin.tasks.container import commands as container_commands
from docker_plugin.tasks.image import lifecycle as image

pytestmark = [pytest.mark.fuzz]
ALLOWED = 'tcp://127.0.0.1:9'
DOWN = {'base_url': ALLOWED, 'version': '1.41', 'timeout': 2}
OUTCOMES = Outcomes()
SEEN: list[str] = []  # what the audit hook caught touching outside, or connecting elsewhere
WATCH = types.SimpleNamespace(outside=None, on=False)


def _audit(event: str, args: tuple) -> None:
    if not WATCH.on:
        return
    if event in ('open', 'os.listdir', 'os.scandir', 'shutil.copyfile', 'os.chdir') and args:
        path = args[0]
        path = os.fsdecode(path) if isinstance(path, (str, bytes)) else ''
        if path and os.path.realpath(path).startswith(WATCH.outside):
            SEEN.append(f'{event} {path}')
    elif event == 'socket.connect' and len(args) > 1:
        address = args[1]
        if address != ('127.0.0.1', 9):
            SEEN.append(f'connect {address!r}')


sys.addaudithook(_audit)


@pytest.fixture(scope='module')
def tree(tmp_path_factory):
    """The blueprint (with links out), the outside with canaries, the work root."""
    root = tmp_path_factory.mktemp('confine-fuzz')
    bp, outside, agent = root / 'bp', root / 'outside', root / 'agent'
    for directory in (bp / 'ctx', bp / 'compose', outside, agent):
        directory.mkdir(parents=True)
    (bp / 'ctx' / 'Dockerfile').write_text('FROM scratch\n')
    (bp / 'secret.txt').write_text('value\n')
    (bp / 'compose' / 'canary.env').write_text('INSIDE=1\n')
    (outside / 'canary.env').write_text('CANARY_LEAK=1\n')
    (outside / 'canary.yaml').write_text('services:\n  canary-leak:\n    image: x\n')
    (outside / 'passwd').write_text('CANARY_LEAK=1\n')
    (bp / 'out').symlink_to(outside)
    (bp / 'ctx' / 'escape').symlink_to(outside / 'passwd')
    WATCH.outside = os.path.realpath(outside)
    return types.SimpleNamespace(root=root, bp=bp, outside=outside, agent=agent)


@pytest.fixture(autouse=True, scope='module')
def report():
    yield
    OUTCOMES.save()


@pytest.fixture
def manager(tree, monkeypatch):
    monkeypatch.setenv('MGMTWORKER_HOME', str(tree.root / 'mgmtworker'))
    monkeypatch.setenv('AGENT_WORK_DIR', str(tree.agent))
    monkeypatch.setenv('DOCKER_PLUGIN_SETTINGS', str(tree.root / 'absent.yaml'))
    monkeypatch.setenv('DOCKER_PLUGIN_ALLOW_ENGINES', ALLOWED)
    for name in ('DOCKER_PLUGIN_ALLOW_READ', 'DOCKER_PLUGIN_ALLOW_WRITE', 'DOCKER_HOST'):
        monkeypatch.delenv(name, raising=False)
    return tree


def _place(path: str, tree) -> str:
    return path.replace('@OUT', str(tree.outside)).replace('@BP', str(tree.bp)).replace(
        '@PREFIX', sys.prefix)


def _ctx(tree, **runtime) -> Any:
    return node_ctx('fuzz-confine', runtime=runtime, node='f', tenant={'name': 't'},
                    blueprint_dir=str(tree.bp))


def _outside_listing(tree) -> list[str]:
    return sorted(os.listdir(tree.outside)) + sorted(os.listdir(sys.prefix))


def _watched(name: str, fields: tuple[str, ...], call, tree) -> str:
    """One example: fuzzing.py's invariant, then nothing touched outside, nothing written."""
    before = _outside_listing(tree)
    SEEN.clear()
    WATCH.on = True
    try:
        outcome = OUTCOMES.check(name, fields, call, engine_down=True)
    finally:
        WATCH.on = False
    assert SEEN == [], f'{name}: {SEEN[:5]}'
    assert _outside_listing(tree) == before
    return outcome


def _leads_inside(path: str, root: str) -> bool:
    """The oracle: whether a path given relative to ``root`` really stays inside it."""
    if '\x00' in path or path.startswith('~') or os.path.isabs(path):
        return False
    real, top = os.path.realpath(os.path.join(root, path)), os.path.realpath(root)
    return real == top or real.startswith(top + os.sep)


INPUTS = {
    'image_build.path': lambda ctx, p: image.create(ctx=ctx, daemon_client=DOWN,
                                                    image_build={'path': p}),
    'image_build.dockerfile': lambda ctx, p: image.create(
        ctx=ctx, daemon_client=DOWN, image_build={'path': 'ctx', 'dockerfile': p}),
    'image_import.src': lambda ctx, p: image.create(ctx=ctx, daemon_client=DOWN,
                                                    image_build={}, image_import={'src': p}),
    'source': lambda ctx, p: container_commands.copy_to(ctx=ctx, daemon_client=DOWN, source=p,
                                                        destination='/tmp'),
    'destination': lambda ctx, p: container_commands.copy_from(
        ctx=ctx, daemon_client=DOWN, source='/etc', destination=p),
    'file': lambda ctx, p: swarm_objects.secret_create(ctx=ctx, daemon_client=DOWN, name='s',
                                                       file=p),
    'daemon_client.ca_cert': lambda ctx, p: image.create(
        ctx=ctx, daemon_client={**DOWN, 'ca_cert': p}, image_pull={'repository': 'x'}),
}


INSIDE = {'image_build.path': 'ctx', 'image_build.dockerfile': 'Dockerfile',
          'image_import.src': 'secret.txt', 'source': 'secret.txt', 'destination': 'out',
          'file': 'secret.txt', 'daemon_client.ca_cert': 'secret.txt'}


def _with_inside_examples(test):
    """The blueprint's own files, always among the examples: they must pass."""
    for name, path in INSIDE.items():
        test = example(name=name, path=path)(test)
    return test


@SETTINGS
@_with_inside_examples
@given(name=st.sampled_from(sorted(INPUTS)), path=paths())
def test_paths_on_a_manager(manager, name, path):
    ctx = _ctx(manager, container_id='f' * 64)
    given_path = _place(path, manager)
    fields = (name, 'image_build', 'image_import', 'daemon_client', 'data')
    outcome = _watched(f'manager {name}', fields, lambda: INPUTS[name](ctx, given_path),
                       manager)
    root = {'destination': manager.agent / 'deployments' / 't' / 'fuzz-confine' /
            'docker-plugin', 'image_build.dockerfile': manager.bp / 'ctx'}.get(name, manager.bp)
    assert not outcome.startswith('accepted') or _leads_inside(given_path, str(root)), \
        f'{name}: {given_path!r} leads out of {root}, yet it was accepted'


@SETTINGS
@given(url=st.sampled_from(LOCAL_ENGINES), field=st.sampled_from(['base_url', 'host']))
def test_engines_on_a_manager(manager, url, field):
    ctx = _ctx(manager, container_id='f' * 64)
    raw = {'base_url': url} if field == 'base_url' else \
        {'host': url.split('://')[1].rsplit(':', 1)[0].strip('[]/'), 'port': 9}
    _watched('manager daemon_client', ('daemon_client',),
             lambda: container_commands.copy_to(ctx=ctx, daemon_client={**raw, 'timeout': 2},
                                                source='secret.txt', destination='/tmp'),
             manager)


DOCUMENT_PATHS = {  # where a fuzzed path goes in a compose document
    'env_file': lambda p: {'services': {'web': {'image': 'x', 'env_file': p}}},
    'include': lambda p: {'include': [p], 'services': {'web': {'image': 'x'}}},
    'extends': lambda p: {'services': {'web': {'image': 'x', 'extends': {'file': p,
                                                                         'service': 'w'}}}},
    'label_file': lambda p: {'services': {'web': {'image': 'x', 'label_file': p}}},
    'build': lambda p: {'services': {'web': {'image': 'x', 'build': p}}},
    'dockerfile': lambda p: {'services': {'web': {'image': 'x', 'build': {
        'context': '../ctx', 'dockerfile': p}}}},
    'secret': lambda p: {'services': {'web': {'image': 'x', 'secrets': ['s']}},
                         'secrets': {'s': {'file': p}}},
    'env_files': None, 'project_directory': None,
}


CANARIES = [('env_file', '@OUT/canary.env'), ('env_file', '../out/canary.env'),
            ('include', '@OUT/canary.yaml'), ('include', '../out/canary.yaml'),
            ('label_file', '../out/canary.env'), ('env_files', '@OUT/canary.env'),
            ('env_files', 'out/canary.env'), ('build', '@OUT'), ('build', '../out'),
            ('secret', '../out/passwd'), ('dockerfile', '../ctx/escape'),
            ('project_directory', 'out'), ('env_file', 'canary.env')]


def _with_canaries(test):
    """Every way to a canary outside the blueprint, always among the examples."""
    for where, path in CANARIES:
        test = example(where=where, path=path)(test)
    return test


@pytest.mark.compose
@settings(SETTINGS, max_examples=max(10, EXAMPLES // 3))
@_with_canaries
@given(where=st.sampled_from(sorted(DOCUMENT_PATHS)), path=paths())
def test_compose_documents_on_a_manager(manager, where, path):
    """Compose itself reads what the checks let through: never a canary outside."""
    ctx = _ctx(manager)
    given_path = _place(path, manager)
    name = f'fuzz-{uuid.uuid4().hex[:8]}'
    document = manager.bp / 'compose' / f'{name}.yaml'
    build = DOCUMENT_PATHS[where]
    document.write_text(json.dumps(build(given_path) if build else {
        'services': {'web': {'image': 'x'}}}))
    props = {'compose_files': [f'compose/{name}.yaml'], 'project_name': name}
    if where in ('env_files', 'project_directory'):
        props[where] = [given_path] if where == 'env_files' else given_path
    printed = []

    def read_project():
        try:
            opts = compose.options(ctx, props)
            with compose.project(ctx, {'daemon_client': DOWN}, opts) as project:
                printed.append(json.dumps(project.model()))
        except InvalidInputError as exc:
            raise NonRecoverableError(str(exc)) from None
    try:
        _watched(f'manager compose {where}', ('compose_files', 'env_files', 'project_directory',
                                              'definition'), read_project, manager)
    finally:
        document.unlink()
    assert not any('CANARY' in text or 'canary-leak' in text or str(manager.outside) in text
                   for text in printed), printed
