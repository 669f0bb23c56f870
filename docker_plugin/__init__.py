"""Cloudify plugin that orchestrates Docker engines from TOSCA blueprints.

Layers, top to bottom:

* ``docker_plugin.tasks`` (and the other ``*_tasks`` modules): the operations
  ``plugin.yaml`` names. The only code that touches ``ctx``.
* ``docker_plugin.options``: one declarative table per Docker object, used to
  validate user input and build SDK calls.
* ``docker_plugin.resources``: plain Python that drives the docker SDK and knows
  nothing of Cloudify.
* ``docker_plugin.client`` / ``docker_plugin.errors``: the one client factory and
  the one place engine errors are classified.
"""

# The package a manager knows the plugin by (setup.py, the wagon, every plugin yaml's
# package_name and ``plugin:<name>`` imports). It is the upstream plugin's name: this
# plugin succeeds cloudify-cosmo's 2.0.x line, so its versions start above it (3.0.0),
# and a manager that holds both resolves an unversioned import to this one.
PACKAGE_NAME = 'cloudify-docker-plugin'
__version__ = '3.0.0'
