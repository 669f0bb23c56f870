"""The operations of ``cloudify.nodes.docker.SwarmNode`` by the names plugin.yaml gives them
(``docker.docker_plugin.tasks.swarm_node.<operation>``), each imported when first asked for.
Which function implements each is said in ``docker_plugin.kinds``."""

from docker_plugin.kinds import facade

__getattr__, __dir__ = facade(__name__)
