"""``compose-to-blueprint``: a compose file turned into a blueprint of the plugin's typed nodes.

Compose itself normalises the project (``config --format json``: interpolation,
override files, ``extends``, ``include``, profiles, short syntax to long);
this package maps the result: every network and volume to a
``cloudify.nodes.docker.Network`` / ``Volume`` node (``external: true`` to
``use_external_resource``), every distinct image (built or pulled) to one
``cloudify.nodes.docker.Image`` that every container running it uses, every
service to a ``cloudify.nodes.docker.Container`` (replicas to instances) with
its relationships and a readiness wait as ``up --wait`` would (and better).
No secret is written: each is an input. What it cannot map is listed at the
top of the blueprint and on stderr, never dropped silently.

With ``--swarm`` (``stack``, ``stack_services``) the file is a stack: swarm
Service, overlay Network, Secret and Config nodes.

Layers: ``source`` runs compose; ``containers`` maps one service's options;
``images`` makes the Image nodes; ``blueprint`` assembles the nodes; ``stack``
and ``stack_services`` do the same for a swarm; ``values`` holds what both
mappings convert alike; ``secret_spans`` says where a secret sits in a value,
``file_secrets`` finds and names every secret of the file, ``variables`` makes
them (and compose variables) inputs; ``cli`` is the console script. None of it
imports ``cloudify``.
"""
