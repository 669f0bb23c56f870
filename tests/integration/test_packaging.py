"""The wagon a manager installs: built from a copy of the repository, from another
directory, and installed with ``wagon install`` into a venv that holds only
cloudify-common 7.0.5, where every operation of every plugin yaml imports
(scripts/wagon.sh does it; this runs it). Needs PyPI for the wheels."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.packaging
REPO = Path(__file__).resolve().parents[2]


def test_the_wagon_builds_installs_and_imports(tmp_path):
    result = subprocess.run(['bash', str(REPO / 'scripts' / 'wagon.sh'), str(tmp_path / 'w')],
                            capture_output=True, text=True, timeout=900, cwd='/')
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (wagon,) = (tmp_path / 'w').glob('*.wgn')
    assert wagon.name.startswith('cloudify_docker_plugin-') and 'linux_x86_64' in wagon.name
    assert 'operations import from' in result.stdout
    site = next((tmp_path / 'w' / 'manager-venv').glob('lib/python3*/site-packages'))
    assert (site / 'docker_plugin').is_dir() and (site / 'compose').is_dir()
    assert not list(site.glob('cloudify_docker_plugin*.egg-link'))  # a real install
