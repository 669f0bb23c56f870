"""Every blueprint in blueprints/ installs as a user would run it: ``cfy install``
with its own defaults, or with the inputs file shipped beside it in
``blueprints/inputs/`` (and the script that starts what it needs, for the
registry pipeline). Then ``cfy uninstall`` leaves nothing labelled behind.
``swarm.yaml`` needs engines to form a swarm: it gets the three-engine lab and
the inputs ``scripts/swarm-demo.sh`` gives it (``tests/helpers/swarm.py
inputs``), and every engine must have left the swarm after uninstall.
``swarm-maintenance.yaml`` needs a swarm to take a node out of: it gets the lab
formed, and after uninstall every engine is in it and every node active."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers.cleanup import labelled_objects, remove_labelled
from helpers.cloudify_local import REPO, Cfy

from docker_plugin import kinds

pytestmark = [pytest.mark.engine, pytest.mark.blueprint]
NOTHING = {'containers': [], 'images': [], 'networks': [], 'volumes': []}
# What a blueprint needs installed first (a deployment of another blueprint).
NEEDS = {'stack-adopt': 'stack'}
# Blueprints whose inputs depend on engines made for the run (see the docstring): whether
# the lab is formed into a swarm first, and the inputs it gives.
LAB_INPUTS = {
    'swarm': (False, lambda lab, unique: lab.blueprint_inputs(prefix=unique)),
    'swarm-maintenance': (True, lambda lab, unique: {'manager': lab.manager.daemon_client(),
                                                     'node': lab.engines[2].name}),
}
# What a blueprint keeps on uninstall by its own word: compose-project keeps its
# data (remove_volumes is false by default); the seed's example, as written,
# removes its container but not the image it imported (no remove_image).
KEEPS = {'compose-project': 'volumes', 'seed-example': 'images'}


def _blueprint(path: Path) -> Any:
    """One shipped blueprint as a case, marked by what its install runs: compose for a
    ComposeProject node, the swarm lab for the blueprints that need its engines."""
    nodes = (yaml.safe_load(path.read_text()) or {}).get('node_templates') or {}
    marks = [*([pytest.mark.compose] if any(
        node.get('type') == kinds.type_name('compose') for node in nodes.values()) else []),
             *([pytest.mark.swarm] if path.stem in LAB_INPUTS else []),
             *([pytest.mark.smoke] if path.stem == 'demo' else [])]  # what demo.sh runs
    return pytest.param(path.stem, marks=marks, id=path.stem)


BLUEPRINTS = [_blueprint(path) for path in sorted((REPO / 'blueprints').glob('*.yaml'))]


@pytest.fixture
def local_registry():
    script = REPO / 'scripts' / 'local-registry.sh'
    subprocess.run(['bash', str(script), 'start'], check=True, timeout=60)
    yield
    subprocess.run(['bash', str(script), 'stop'], check=True, timeout=60)


def _install(cfy: Cfy, name: str, blueprint_id: str, inputs: Path | None = None) -> None:
    inputs = inputs or REPO / 'blueprints' / 'inputs' / f'{name}.yaml'
    args = ['install', str(REPO / 'blueprints' / f'{name}.yaml'), '-b', blueprint_id]
    if inputs.exists():
        args += ['-i', str(inputs)]
    result = cfy(*args, check=False)
    assert result.returncode == 0, f'{name}:\n{result.stdout[-4000:]}\n{result.stderr[-2000:]}'


def _uninstall(cfy: Cfy, blueprint_id: str) -> None:
    result = cfy('uninstall', '-b', blueprint_id, check=False)
    assert result.returncode == 0, result.stdout[-4000:]


@pytest.mark.parametrize('name', BLUEPRINTS)
def test_the_blueprint_installs_as_shipped(name, cfy, docker_client, unique, request,
                                          tmp_path):
    if name == 'registry-pipeline':
        request.getfixturevalue('local_registry')
    lab = inputs = None
    if name in LAB_INPUTS:
        formed, lab_inputs = LAB_INPUTS[name]
        lab = request.getfixturevalue('swarm_lab')
        lab.ensure_formed() if formed else lab.ensure_unformed()
        inputs = tmp_path / 'inputs.json'
        inputs.write_text(json.dumps(lab_inputs(lab, unique)))
    installed: list[str] = []
    try:
        for step in [*([NEEDS[name]] if name in NEEDS else []), name]:
            installed.append(f'{unique}-{step}')  # even half installed, it is uninstalled
            _install(cfy, step, f'{unique}-{step}', inputs if step == name else None)
        for blueprint_id in reversed(installed):
            _uninstall(cfy, blueprint_id)
            installed.remove(blueprint_id)
    finally:
        for blueprint_id in reversed(installed):
            cfy('uninstall', '-b', blueprint_id, check=False)
            remove_labelled(docker_client, {'cloudify.deployment': blueprint_id})
    for blueprint_id in (f'{unique}-{name}', *(f'{unique}-{s}' for s in [NEEDS.get(name)] if s)):
        left = labelled_objects(docker_client, {'cloudify.deployment': blueprint_id})
        kept = KEEPS.get(name)
        if kept and blueprint_id.endswith(name):
            assert left[kept], f'the {kept} were to be kept'
            remove_labelled(docker_client, {'cloudify.deployment': blueprint_id})
            left[kept] = []
        assert left == NOTHING
    if lab is not None:
        states = {e.name: e.docker('info', '--format', '{{.Swarm.LocalNodeState}}')
                  for e in lab.engines}
        assert set(states.values()) == {'active' if formed else 'inactive'}, states
        if formed:  # a swarm it adopted: every node as it found it
            assert lab.manager.docker('node', 'ls', '--format', '{{.Availability}}').split() \
                == ['Active'] * len(lab.engines)


def test_every_blueprint_that_needs_inputs_ships_them():
    for name in (case.values[0] for case in BLUEPRINTS):
        text = (REPO / 'blueprints' / f'{name}.yaml').read_text()
        required = [k for k, v in (yaml.safe_load(text).get('inputs') or {}).items()
                    if not (isinstance(v, dict) and 'default' in v)]
        if required and name not in LAB_INPUTS:
            given = yaml.safe_load((REPO / 'blueprints' / 'inputs' / f'{name}.yaml').read_text())
            assert set(required) <= set(given), name
    assert Path(REPO / 'scripts' / 'local-registry.sh').exists()
