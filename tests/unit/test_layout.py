"""The layers hold by test, not by convention.

``tasks/`` is the only package that imports ``cloudify``; it reaches the SDK
only through ``resources/`` (it never imports ``docker``); ``options/`` holds
declarations and imports neither ``cloudify`` nor ``resources``; the
compose importer (``importer/``, a console script) sits beside ``tasks/`` and
uses ``resources/`` without Cloudify; no module
imports ``docker`` at load time (operations start faster: it is imported
where it is used). Modules are sized by cohesion, not by a line count.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from docker_plugin import kinds

PACKAGE = Path(__file__).resolve().parents[2] / 'docker_plugin'
MODULES = sorted(PACKAGE.rglob('*.py'))


def _imports(path: Path, top_level_only: bool = False) -> set[str]:
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def _layer(path: Path) -> str:
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else 'top'


@pytest.mark.parametrize('path', MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_layers(path):
    imports = _imports(path)
    layer = _layer(path)
    uses_cloudify = any(name == 'cloudify' or name.startswith('cloudify.') for name in imports)
    uses_docker = any(name == 'docker' or name.startswith('docker.') for name in imports)
    assert uses_cloudify == (layer == 'tasks' and uses_cloudify), 'only tasks/ imports cloudify'
    if layer == 'tasks':
        assert not uses_docker, 'tasks/ reaches the SDK only through resources/'
    if layer == 'options':
        assert not any(name.startswith(('docker_plugin.resources', 'docker_plugin.tasks'))
                       for name in imports), 'options/ holds declarations only'
    if layer in ('resources', 'importer'):
        assert not any(name.startswith('docker_plugin.tasks') for name in imports)
    if layer == 'top':
        assert not any(name.startswith(('docker_plugin.resources', 'docker_plugin.tasks'))
                       for name in imports), 'the top-level helpers sit below every layer'


def test_the_task_packages_are_the_registrys_kinds():
    """``tasks/<kind>/`` for every node kind of docker_plugin.kinds with operations (a
    relationship's operations live in its kind's package), and no package the registry does
    not know: code two kinds share is a module of ``tasks/`` itself."""
    packages = {init.parent.name for init in (PACKAGE / 'tasks').glob('*/__init__.py')}
    assert packages == {entry.kind for entry in kinds.NODES if entry.interfaces}
    assert {rel.kind for rel in kinds.RELATIONSHIPS} <= packages


@pytest.mark.parametrize('path', MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_nothing_imports_docker_at_load_time(path):
    assert not any(name == 'docker' or name.startswith('docker.')
                   for name in _imports(path, top_level_only=True))


def test_importing_every_operation_does_not_load_the_sdk():
    """Every operation the registry names, imported as a worker would: not one of them
    loads the docker SDK (it is imported when an engine is reached)."""
    code = ('import sys; from docker_plugin import kinds\n'
            'for entry in kinds.NODES:\n'
            '    for _, op in entry.operations():\n'
            '        kinds.resolve(op.impl, entry.package)\n'
            'for rel in kinds.RELATIONSHIPS:\n'
            '    for op in rel.source_ops:\n'
            '        kinds.resolve(op.impl, rel.package)\n'
            "print('docker' in sys.modules)")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         timeout=60, check=True).stdout.strip()
    assert out == 'False'


def test_a_containers_plain_operations_do_not_load_what_only_run_and_drift_use():
    """The readiness waits and the container's drift are imported by the operations
    that use them (run, check_drift, update), not by every operation's import."""
    later = ('docker_plugin.tasks.container.readiness', 'docker_plugin.tasks.waits',
             'docker_plugin.resources.container.drift')
    code = ('import sys; import docker_plugin.tasks as seed\n'
            'from docker_plugin.tasks import container\n'
            'for name in ("create", "configure", "stop", "delete"):\n'
            '    getattr(seed, name), getattr(container, name)\n'
            f'print([m for m in {later!r} if m in sys.modules])\n'
            'container.lifecycle.readiness.wait_spec\n'
            f'print([m for m in {later!r} if m in sys.modules])')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         timeout=60, check=True).stdout.splitlines()
    assert out == ['[]', str(list(later[:2]))]


def test_plain_operations_do_not_load_what_only_validation_and_sweeps_read():
    """The deployment's reader (validation, and the uninstall sweep asking which
    instances live) costs about 4 ms to import: no plain operation loads it."""
    later = ('docker_plugin.tasks.deployment', 'docker_plugin.tasks.validation')
    code = ('import sys; import docker_plugin.tasks as seed\n'
            'from docker_plugin.tasks import container, network, volume, image\n'
            'for name in ("create", "configure", "run", "stop", "delete"):\n'
            '    getattr(seed, name)\n'
            'for kind in (container, network, volume, image):\n'
            '    kind.create, kind.delete\n'
            f'print([m for m in {later!r} if m in sys.modules])')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         timeout=60, check=True).stdout.strip()
    assert out == '[]'


def test_every_test_module_has_a_name_of_its_own():
    """pytest imports test modules by their basename (rootdir-relative, no packages): two
    ``test_x.py`` in two tiers stop the whole run at collection."""
    seen: dict[str, list[str]] = {}
    for path in (PACKAGE.parent / 'tests').rglob('test_*.py'):
        seen.setdefault(path.name, []).append(str(path.relative_to(PACKAGE.parent)))
    assert {name: paths for name, paths in seen.items() if len(paths) > 1} == {}
