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

__version__ = '0.2.0'
