"""``docker.interfaces.service``: scale, rollback, logs and ps of a running service.

``scale`` and ``rollback`` change the service and wait for it to converge,
as ``update`` does (``converge`` input or property). A manual rollback asks
the engine for the previous spec (``?rollback=previous``: the docker SDK has
no call for it); its ``rollback_completed`` is its success.
"""

from __future__ import annotations

import copy
from typing import Any

from docker_plugin import results
from docker_plugin.errors import InvalidInputError, StateError
from docker_plugin.options.service import LOGS, SCALE
from docker_plugin.resources.engine_api import EngineApi
from docker_plugin.resources.swarm import convergence, service_logs, services
from docker_plugin.tasks import waits
from docker_plugin.tasks.context import engine, persist, recorded, report_action
from docker_plugin.tasks.ctx import Ctx
from docker_plugin.tasks.operation import operation
from docker_plugin.tasks.service import converge as service_waiting

TASK_COLUMNS = (('id', 'ID'), ('slot', 'SLOT'), ('node', 'NODE'), ('desired_state', 'DESIRED'),
                ('state', 'STATE'), ('exit_code', 'EXIT CODE'), ('error', 'ERROR'))


def _finish(ctx: Ctx, api: EngineApi, service_id: str, outcome: Any) -> Any:
    if isinstance(outcome, waits.Retry):
        return outcome.request(ctx)  # still waiting, through Cloudify's retries
    persist(ctx, **services.summarise(services.require(api, service_id)))
    return None


@operation
def scale(ctx: Ctx, **kwargs: Any) -> Any:
    """Set the number of tasks of a replicated service (input ``replicas``) and wait;
    the count is kept (``replicas``) and wins over the blueprint's from then on."""
    wanted = SCALE.parse({'replicas': kwargs.get('replicas')})['replicas']
    settings = service_waiting.options(ctx, kwargs)
    service_id = recorded(ctx, 'service_id', 'service')
    with engine(ctx, kwargs) as client:
        api = client.api
        state = service_waiting.pending(ctx, 'scale')
        if state is None:
            info = services.require(api, service_id)
            mode = convergence.mode_of(info['Spec'])
            if mode != 'replicated':
                raise InvalidInputError('replicas', f'only a replicated service scales; this '
                                                    f'one is {mode}')
            spec = copy.deepcopy(info['Spec'])
            spec['Mode']['Replicated']['Replicas'] = wanted
            ctx.logger.info('Scaling service %s to %d tasks', spec.get('Name'), wanted)
            before = services.update(api, service_id, spec)
            persist(ctx, replicas=wanted)
            state = service_waiting.begin(ctx, 'scale', before, spec, settings)
        outcome = service_waiting.converge(ctx, api, service_id, state, settings, 'scale')
        return _finish(ctx, api, service_id, outcome)


@operation
def rollback(ctx: Ctx, **kwargs: Any) -> Any:
    """Go back to the service's previous spec and wait for it to converge."""
    settings = service_waiting.options(ctx, kwargs)
    service_id = recorded(ctx, 'service_id', 'service')
    with engine(ctx, kwargs) as client:
        api = client.api
        state = service_waiting.pending(ctx, 'rollback')
        if state is None:
            info = services.require(api, service_id)
            if not info.get('PreviousSpec'):
                raise StateError(f'service {info["Spec"].get("Name")} has no previous spec to '
                                 'roll back to')
            previous = info['PreviousSpec']
            ctx.logger.info('Rolling service %s back to its previous spec (image %s)',
                            info['Spec'].get('Name'), ((previous.get('TaskTemplate') or {}).get(
                                'ContainerSpec') or {}).get('Image', '?'))
            before = services.update(api, service_id, {}, rollback=True)
            replicas = ((previous.get('Mode') or {}).get('Replicated') or {}).get('Replicas')
            if replicas is not None and ctx.instance.runtime_properties.get('replicas') \
                    is not None:
                persist(ctx, replicas=replicas)
            state = service_waiting.begin(ctx, 'rollback', before, previous, settings,
                                          expect_rollback=True)
        outcome = service_waiting.converge(ctx, api, service_id, state, settings, 'rollback')
        return _finish(ctx, api, service_id, outcome)


@operation
def logs(ctx: Ctx, **kwargs: Any) -> str:
    """The last lines of every task's output (``tail`` per task, bounded in bytes)."""
    values = LOGS.parse({k: v for k, v in kwargs.items() if k in LOGS}, '')
    service_id = recorded(ctx, 'service_id', 'service')
    with engine(ctx, kwargs) as client:
        info = services.require(client.api, service_id)
        tty = bool(((info['Spec'].get('TaskTemplate') or {}).get('ContainerSpec') or {}).get(
            'TTY'))
        kept = service_logs.read(client.api, 'services', service_id, values['tail'],
                                 values['since'], values['timestamps'], values['max_bytes'],
                                 values['timeout'], tty)
    text = kept.text()
    message, data = results.logs(text, kept.total)
    return report_action(ctx, 'logs', 0, f'service {info["Spec"].get("Name")}: {message}',
                         data, text)['logs']


@operation
def ps(ctx: Ctx, **kwargs: Any) -> list[dict[str, Any]]:
    """The service's tasks, newest first: node, desired and current state, error."""
    service_id = recorded(ctx, 'service_id', 'service')
    with engine(ctx, kwargs) as client:
        rows = services.ps(client.api, service_id)
    shown = results.table([{**r, 'id': r['id'][:12]} for r in rows], TASK_COLUMNS)
    return report_action(ctx, 'ps', 0, results.count(len(rows), 'task'), rows, shown)
