"""When a container that stopped has done its work: one rule for every node that waits.

A container has *completed* when it exited with code 0 and its restart
policy will not start it again: ``no`` (the default), or ``on-failure``,
which restarts only failures. ``docker compose up --wait`` calls such a
container a failure (``container x exited (0)``) unless another service
waits for it with ``service_completed_successfully``; the plugin counts it
as done wherever it waits for readiness: ComposeProject's ``start`` and the
Container node's ``ready`` wait (what ``compose-to-blueprint`` writes for
every service). Where state is checked later (``check_status``), a stopped
container is healthy only if it was seen completing, so that a server
stopped by hand is not mistaken for a job that finished.

Pure functions: no engine calls.
"""

from __future__ import annotations

from typing import Any, Mapping

# Restart policies under which the engine leaves a container that exited 0 alone.
NOT_RESTARTED = frozenset({'', 'no', 'on-failure'})
# deploy.restart_policy.condition -> the container restart policy compose gives.
CONDITIONS = {'none': 'no', 'on-failure': 'on-failure', 'any': 'always', '': 'always'}


def policy_name(policy: Any) -> str:
    """``on-failure:3`` -> ``on-failure``; None -> ``''``."""
    return str(policy or '').split(':', 1)[0].strip()


def completed(status: str, exit_code: Any, restart_policy: Any) -> bool:
    """Whether a container in this state has done its work (see the module's rule)."""
    return status == 'exited' and exit_code == 0 and \
        policy_name(restart_policy) in NOT_RESTARTED


def compose_restart(service: Mapping[str, Any]) -> str:
    """The restart policy compose gives a service's containers: ``restart``, else
    ``deploy.restart_policy`` (``condition`` converted as compose converts it), else ``no``."""
    if service.get('restart'):
        return policy_name(service['restart'])
    policy = (service.get('deploy') or {}).get('restart_policy')
    if isinstance(policy, Mapping):
        return CONDITIONS.get(str(policy.get('condition') or ''), 'always')
    return 'no'


def container_restart(info: Mapping[str, Any]) -> str:
    """The restart policy of a container, from its inspect answer."""
    return policy_name(((info.get('HostConfig') or {}).get('RestartPolicy') or {}).get('Name'))
