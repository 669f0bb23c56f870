"""Every way from a blueprint value to a local file or engine goes through the policy.

Checked on the source: the calls that turn a blueprint's value into a client
config, a downloaded or opened file, or a compose process are made only by
the modules that apply docker_plugin.confinement (or by the factories they
call), so a new operation cannot reach the host around it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / 'docker_plugin'
# call name -> the modules that may make it (relative to docker_plugin/)
ONLY_IN = {
    'resolve_config': {'tasks/confine.py'},  # blueprint dict -> client config, confined
    'download_resource': {'tasks/confine.py'},
    'download_directory': {'tasks/confine.py'},
    'open_client': {'tasks/context.py', 'resources/compose/engine.py'},  # configs from above
    'open_project': {'tasks/compose/lifecycle.py'},  # specs made by compose.spec, checked
    'find_binary': {'tasks/compose/lifecycle.py'},  # after compose.options refused compose_binary
    'symlink': {'resources/compose/engine.py'},  # links to certificates, in a private dir
}
# Modules of tasks/ that may open files: the policy's own (reading what it allowed).
OPENS_FILES = {'tasks/confine.py', 'tasks/compose/confine.py'}


def _calls(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else \
                func.id if isinstance(func, ast.Name) else ''
            names.add(name)
    return names


MODULES = sorted(PACKAGE.rglob('*.py'))


@pytest.mark.parametrize('path', MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_calls_that_reach_the_host_are_made_only_where_confined(path):
    where = str(path.relative_to(PACKAGE))
    if where.startswith('importer/'):
        return  # a console script run by a user on their own machine, not an operation
    for name in _calls(path) & set(ONLY_IN):
        assert where in ONLY_IN[name], f'{where} calls {name}: route it through tasks/confine'


@pytest.mark.parametrize('path', sorted((PACKAGE / 'tasks').glob('*.py')),
                         ids=lambda p: p.name)
def test_operations_open_files_only_through_the_policy(path):
    where = str(path.relative_to(PACKAGE))
    if where not in OPENS_FILES:
        assert not _calls(path) & {'open', 'fdopen', 'makedirs', 'listdir', 'walk'}, where
