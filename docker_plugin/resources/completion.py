"""When a container that stopped has done its work: one rule for every node that waits.

A container has *completed* when it exited with code 0, its restart policy
will not start it again (``no``, the default, or ``on-failure``, which
restarts only failures), and it has no healthcheck (a healthcheck says a
container serves: its exit is an outage, whatever the code).
``docker compose up --wait`` calls such a container a failure (``container
x exited (0)``) unless another service waits for it with
``service_completed_successfully``; the plugin counts it as done wherever it
waits for readiness (ComposeProject's ``start``, the Container node's
``ready`` wait that ``compose-to-blueprint`` writes for every service) and
where it checks state later (``check_status`` of both), so a seed that
finishes after install is not "unhealthy". The price: a server without a
healthcheck, under restart ``no``, stopped by hand with code 0, looks
completed too.

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


def completed(status: str, exit_code: Any, restart_policy: Any,
              healthcheck: bool = False) -> bool:
    """Whether a container in this state has done its work (see the module's rule)."""
    return status == 'exited' and exit_code == 0 and not healthcheck and \
        policy_name(restart_policy) in NOT_RESTARTED


def has_healthcheck(test: Any) -> bool:
    """Whether a healthcheck's test (the engine's ``Config.Healthcheck.Test``, or a compose
    service's ``healthcheck.test``) checks anything (``['NONE']``: disabled)."""
    return bool(test) and list(test)[:1] != ['NONE'] if isinstance(test, (list, tuple)) \
        else bool(test)


def container_healthcheck(info: Mapping[str, Any]) -> bool:
    """Whether a container has a healthcheck (its own or its image's, as the engine
    merged them), from its inspect answer."""
    return has_healthcheck(((info.get('Config') or {}).get('Healthcheck') or {}).get('Test'))


def compose_healthcheck(service: Mapping[str, Any]) -> bool:
    """Whether a compose service's file gives it a healthcheck (its image may, unseen)."""
    check = service.get('healthcheck') or {}
    return not check.get('disable') and has_healthcheck(check.get('test'))


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
