"""Proofs that run inside the wagon's venv (cloudify-common 7.0.5 and the wagon, nothing
else), as a management worker runs the plugin. ``scripts/wagon.sh`` calls it with that
venv's interpreter; it uses only the standard library, cloudify-common and what the wagon
installed, and must never see the repository's copy of the plugin.

    python wagon_check.py imports OPERATIONS_FILE
        Every operation (one ``plugin.module.function`` a line) imports and is callable;
        then the whole path: every module of the installed plugin, and every module any
        of them imports anywhere (inside functions too: what an operation loads only
        when it runs), imports. A module the wagon does not carry fails here, not on a
        manager in the middle of an install.

    python wagon_check.py compose DEPLOYMENT
        A ComposeProject whose ``definition`` is YAML text (anchors and a merge key, so it
        is read as YAML, not as JSON) goes through create, start, check_status, stop and
        delete against the engine of ``DOCKER_HOST`` (default: the local socket), one
        process per operation as on a manager. Prints one JSON line: the operations run,
        the services after start, and where ``yaml`` was imported from.
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

IMAGE = 'docker-plugin/busybox:latest'
DEFINITION = f"""\
x-common: &common
  image: {IMAGE}
  pull_policy: never
  init: true
services:
  web:
    <<: *common
    command: ["sh", "-c", "while :; do sleep 1; done"]
  worker:
    <<: *common
    command: ["sh", "-c", "while :; do sleep 1; done"]
    depends_on: [web]
"""
OPERATIONS = ('create', 'start', 'check_status', 'stop', 'delete')
MODULES = {'check_status': 'docker_plugin.tasks.compose.lifecycle'}


def _installed_plugin() -> Path:
    import docker_plugin
    where = Path(docker_plugin.__file__).resolve().parent
    if 'site-packages' not in where.parts:
        raise SystemExit(f'docker_plugin comes from {where}, not from the wagon')
    return where


def _imported_names(path: Path, package: str) -> set[str]:
    """Every module an import statement of ``path`` names, wherever it stands (relative
    imports resolved against ``package``, the module's package)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                parent = package.rsplit('.', node.level - 1)[0] if node.level > 1 else package
                base = f'{parent}.{base}' if base else parent
            names.add(base)
            # ``from package import module`` names a module too
            names |= {f'{base}.{alias.name}' for alias in node.names}
    return names


def check_imports(operations_file: str) -> None:
    listed = Path(operations_file).read_text().split()
    for mapping in listed:
        module, func = mapping.split('.', 1)[1].rsplit('.', 1)
        if not callable(getattr(importlib.import_module(module), func, None)):
            raise SystemExit(f'{mapping}: not a callable of {module}')
    root = _installed_plugin()
    modules, wanted = set(), set()
    for path in sorted(root.rglob('*.py')):
        parts = ('docker_plugin', *path.relative_to(root).with_suffix('').parts)
        is_package = parts[-1] == '__init__'
        name = '.'.join(parts[:-1] if is_package else parts)
        modules.add(name)
        wanted |= _imported_names(path, name if is_package else name.rpartition('.')[0])
    missing, others = [], set()
    for name in sorted(modules | wanted):
        try:
            importlib.import_module(name)
            others.add(name.split('.')[0] if name not in modules else 'docker_plugin')
        except ModuleNotFoundError as exc:
            # ``from package import name`` where name is an attribute, not a module
            parent = name.rpartition('.')[0]
            if exc.name == name and parent and parent in sys.modules and \
                    hasattr(sys.modules[parent], name.rpartition('.')[2]):
                continue
            missing.append(f'{name}: {exc}')
    if missing:
        raise SystemExit('the wagon does not carry what the plugin imports:\n  ' +
                         '\n  '.join(missing))
    others.discard('docker_plugin')
    print(f'[wagon] {len(listed)} operations import from {root}; so do its {len(modules)} '
          f'modules and what they import from {len(others)} other packages: '
          f'{", ".join(sorted(others - set(sys.stdlib_module_names)))} and the stdlib')


def run_operation(request_file: str) -> None:
    """One operation in this process, as a management worker runs it (the child)."""
    from cloudify.mocks import MockCloudifyContext
    from cloudify.state import current_ctx

    request = json.loads(Path(request_file).read_text())
    ctx = MockCloudifyContext(
        node_id=request['instance'], node_name='app', deployment_id=request['deployment'],
        blueprint_id='wagon-check', properties=request['properties'],
        runtime_properties=request['runtime'],
        operation={'name': f'cloudify.interfaces.lifecycle.{request["operation"]}',
                   'retry_number': 0, 'max_retries': 0})
    current_ctx.set(ctx)
    operation = getattr(importlib.import_module(request['module']), request['operation'])
    try:
        result = operation(ctx=ctx)
    finally:
        current_ctx.clear()
    Path(request_file).write_text(json.dumps({
        'runtime': dict(ctx.instance.runtime_properties), 'result': result,
        'yaml': getattr(sys.modules.get('yaml'), '__file__', None)}))


def check_compose(deployment: str) -> None:
    _installed_plugin()
    runtime: dict = {}
    report: dict = {'deployment': deployment, 'operations': [], 'services': None,
                    'yaml': None}
    with tempfile.TemporaryDirectory(prefix='wagon-check-') as scratch:
        request_file = os.path.join(scratch, 'request.json')
        for name in OPERATIONS:
            Path(request_file).write_text(json.dumps({
                'deployment': deployment, 'instance': f'app_{deployment}', 'operation': name,
                'module': MODULES.get(name, 'docker_plugin.tasks.compose.lifecycle'),
                'properties': {'definition': DEFINITION, 'project_name': deployment,
                               'timeout': 120, 'wait_timeout': 60},
                'runtime': runtime}))
            done = subprocess.run([sys.executable, __file__, 'operation', request_file],
                                  capture_output=True, text=True, timeout=300, cwd='/')
            if done.returncode:
                raise SystemExit(f'{name} failed in the wagon venv:\n{done.stdout[-2000:]}'
                                 f'\n{done.stderr[-4000:]}')
            answer = json.loads(Path(request_file).read_text())
            runtime = answer['runtime']
            report['operations'].append(name)
            report['yaml'] = report['yaml'] or answer['yaml']
            if name == 'start':
                report['services'] = {
                    service: [item['state'] for item in items]
                    for service, items in runtime.get('services', {}).items()}
    print(json.dumps(report))


def main(argv: list[str]) -> None:
    command, argument = argv
    {'imports': check_imports, 'compose': check_compose,
     'operation': run_operation}[command](argument)


if __name__ == '__main__':
    main(sys.argv[1:])
