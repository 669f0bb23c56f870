"""The wagon a manager installs: built from a copy of the repository, from another
directory, and installed with ``wagon install`` into a venv that holds only
cloudify-common 7.0.5, where every operation of every plugin yaml imports, and so does
every module the plugin imports anywhere (``scripts/wagon_check.py imports``); then a
ComposeProject whose ``definition`` is YAML text runs its whole lifecycle in that venv
against the engine, one process per operation (``scripts/wagon.sh --engine``). Needs
the engine and PyPI (or the local wheel index) for the wheels."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from helpers.cleanup import labelled_objects, remove_labelled

from docker_plugin import PACKAGE_NAME, __version__

pytestmark = [pytest.mark.packaging, pytest.mark.engine]
REPO = Path(__file__).resolve().parents[2]
NOTHING = {'containers': [], 'images': [], 'networks': [], 'volumes': []}


@pytest.fixture(scope='module')
def wagon_run(tmp_path_factory):
    out = tmp_path_factory.mktemp('wagon') / 'w'
    result = subprocess.run(['bash', str(REPO / 'scripts' / 'wagon.sh'), '--engine', str(out)],
                            capture_output=True, text=True, timeout=900, cwd='/')
    compose = out / 'compose.json'
    report = json.loads(compose.read_text()) if compose.is_file() and \
        compose.read_text().strip() else {}
    yield out, result, report


@pytest.fixture(scope='module')
def cleaned(wagon_run, docker_client):
    _, _, report = wagon_run
    yield
    if report.get('deployment'):
        remove_labelled(docker_client, {'cloudify.deployment': report['deployment']})


def test_the_wagon_builds_installs_and_imports_every_module(wagon_run, cleaned):
    out, result, _ = wagon_run
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (wagon,) = out.glob('*.wgn')
    # the manager files it under setup.py's name and version, the plugin yamls' too
    assert wagon.name.startswith(f"{PACKAGE_NAME.replace('-', '_')}-{__version__}-")
    assert 'linux_x86_64' in wagon.name
    assert 'operations import from' in result.stdout
    assert 'other packages: cloudify, cryptography, docker, paramiko, requests, urllib3, yaml ' \
        'and the stdlib' in result.stdout
    site = next((out / 'manager-venv').glob('lib/python3*/site-packages'))
    assert (site / 'docker_plugin').is_dir() and (site / 'compose').is_dir()
    assert (site / 'yaml').is_dir()
    assert not list(site.glob('cloudify_docker_plugin*.egg-link'))  # a real install


@pytest.mark.compose
def test_a_compose_definition_runs_in_the_wagon_venv(wagon_run, cleaned, docker_client):
    out, result, report = wagon_run
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert report['operations'] == ['create', 'start', 'check_status', 'stop', 'delete']
    assert report['services'] == {'web': ['running'], 'worker': ['running']}
    # YAML was read, from the wagon's own copy of PyYAML
    assert report['yaml'] and report['yaml'].startswith(str(out / 'manager-venv'))
    assert labelled_objects(docker_client, {'cloudify.deployment': report['deployment']}) == \
        NOTHING


def test_the_whole_path_check_fails_without_pyyaml(wagon_run):
    """The check can fail, on the defect it exists for: PyYAML hidden from the wagon's
    venv, as it was missing from the wagon, fails it naming the modules that need it
    (importing the operations alone never noticed: they load YAML inside functions)."""
    out, _, _ = wagon_run
    hide_yaml = ("import runpy, sys; sys.modules['yaml'] = None; "
                 "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')")
    failed = subprocess.run([str(out / 'manager-venv' / 'bin' / 'python'), '-c', hide_yaml,
                             str(REPO / 'scripts' / 'wagon_check.py'), 'imports',
                             str(out / 'operations.txt')],
                            capture_output=True, text=True, timeout=120, cwd='/')
    assert failed.returncode != 0
    assert 'docker_plugin.importer.cli' in failed.stderr and '\n  yaml:' in failed.stderr
