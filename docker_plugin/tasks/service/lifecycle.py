"""Operations of ``cloudify.nodes.docker.Service``: create, converge, drift, update, delete.

``create`` pins the image to its digest, resolves networks, secrets and
configs to ids and creates the service (its id kept at once); ``start``
waits for it to converge (``converge`` input or property: synchronously or
through retries, timeout enforced). ``update`` sends the declared spec when
it drifted and waits again; a failed rollout (paused, or rolled back) fails
the operation with the failing tasks' errors and logs, and keeps the service.
"""

from __future__ import annotations

from typing import Any, Mapping

from docker_plugin import kinds
from docker_plugin.errors import InvalidInputError, RefusedError, StateError
from docker_plugin.options.service import SERVICE
from docker_plugin.resources import drift
from docker_plugin.resources.engine_api import EngineApi
from docker_plugin.resources.swarm import service_spec, services
from docker_plugin.tasks import lifecycle as objects
from docker_plugin.tasks import waits
from docker_plugin.tasks.context import (
    engine,
    existing_flags,
    persist,
    recorded,
)
from docker_plugin.tasks.ctx import Ctx
from docker_plugin.tasks.operation import operation
from docker_plugin.tasks.service import converge as service_waiting
from docker_plugin.tasks.service.spec import FIELD, gather, resolve

OBJECTS = objects.Objects(
    kinds.node('service'), inspect=services.inspect, find_by_labels=services.find_by_labels,
    remove=lambda api, info: services.remove(api, info['ID']), summarise=services.summarise)


def desired(api: EngineApi, spec: service_spec.ServiceSpec,
            pinned: str | None = None) -> dict[str, Any]:
    """The engine spec the blueprint asks for now: image pinned (or ``pinned``, when
    this operation pinned it already), names resolved."""
    SERVICE.check_api(spec.values, api.api_version, FIELD)
    image = pinned or spec.values['image']
    if spec.values.get('resolve_image') != 'never' and not pinned:
        try:
            image = services.pin_image(api, image, spec.auth)
        except RefusedError as exc:
            raise InvalidInputError(f'{FIELD}.image', str(exc)) from None
    return service_spec.build(resolve(api, spec), image)


@operation
def create(ctx: Ctx, **kwargs: Any) -> None:
    """Create the service (or adopt one of its name, as the existing-resource flags say)."""
    spec = gather(ctx, kwargs)
    flags = existing_flags(ctx, kwargs)
    with engine(ctx, kwargs) as client:
        api = client.api
        existing = services.inspect(api, spec.name)

        def make() -> dict[str, Any]:
            body = desired(api, spec)
            ctx.logger.info('Service %s: image %s', spec.name,
                            body['TaskTemplate']['ContainerSpec']['Image'])
            try:
                service_id = services.create(api, body, spec.auth)
            except RefusedError as exc:
                given = {name: value for name, value in spec.values.items()
                         if value is not None}
                raise objects.refused(exc, 'the engine refused the service', SERVICE,
                                      {FIELD: given}, FIELD) from None
            persist(ctx, service_id=service_id, service_name=spec.name)
            info = services.require(api, service_id)
            _kept(ctx, spec, body, info)
            return info

        objects.make_or_adopt(ctx, api, OBJECTS, spec.name, flags, existing, make)


def _kept(ctx: Ctx, spec: service_spec.ServiceSpec, body: dict[str, Any],
          info: dict[str, Any]) -> None:
    """Warn about declared options the engine did not keep (an older engine may
    drop fields it does not know without a word)."""
    image = body['TaskTemplate']['ContainerSpec']['Image']
    found = drift.differences(SERVICE, service_spec.declared(spec.values),
                              service_spec.desired_view(spec, image),
                              service_spec.actual_view(info['Spec'], spec),
                              written=spec.written)
    if found:
        ctx.logger.warning('Service %s: the engine did not keep %s', spec.name,
                           '; '.join(d.describe() for d in found))


@operation
def start(ctx: Ctx, **kwargs: Any) -> Any:
    """Wait until the service runs its spec everywhere (held for the monitor window)."""
    settings = service_waiting.options(ctx, kwargs)
    service_id = recorded(ctx, 'service_id', 'service')
    with engine(ctx, kwargs) as client:
        api = client.api
        state = service_waiting.pending(ctx, 'start')
        if state is None:
            info = services.require(api, service_id)
            state = service_waiting.begin(ctx, 'start', None, info['Spec'], settings)
        outcome = service_waiting.converge(ctx, api, service_id, state, settings, 'start')
        if isinstance(outcome, waits.Retry):
            return outcome.request(ctx)
        persist(ctx, **services.summarise(services.require(api, service_id)))
    return None


@operation
def delete(ctx: Ctx, **kwargs: Any) -> None:
    """Remove the service (and any this instance made but never recorded), unless it
    was adopted or is retained; wait (bounded) until its tasks are gone."""
    def gone(api: EngineApi, info: Mapping[str, Any]) -> None:
        left = services.wait_gone(api, info['ID'])
        if left:
            ctx.logger.warning('Service %s: %d of its tasks not seen to end (their nodes '
                               'remove them when they answer again): %s',
                               info['Spec'].get('Name') or info['ID'][:12], len(left),
                               ', '.join(left[:10]))
    objects.delete(ctx, kwargs, OBJECTS, after=gone)


@operation
def check_status(ctx: Ctx, **kwargs: Any) -> None:
    """Healthy when as many tasks run as the service wants, on nodes that are up.

    Fails naming the nodes that are down; with every task running it passes
    and warns about down nodes that held tasks."""
    service_id = recorded(ctx, 'service_id', 'service')
    with engine(ctx, kwargs) as client:
        status = services.status(client.api, service_id)
    persist(ctx, status=status)
    down = f'; nodes down: {", ".join(status["down_nodes"])}' if status['down_nodes'] else ''
    line = f'{status["running"]} of {status["desired"]} tasks running{down}'
    if status['running'] < status['desired']:
        raise StateError(f'service {status["name"]}: {line}')
    if down:
        ctx.logger.warning('Service %s: %s', status['name'], line)
    else:
        ctx.logger.info('Service %s: %s', status['name'], line)


def _differences(ctx: Ctx, kwargs: Mapping[str, Any], spec: service_spec.ServiceSpec,
                 api: EngineApi, pinned: str | None = None) -> tuple[dict, list]:
    """(the body to send, the differences each with what update does with it) of the
    recorded service from ``spec``."""
    info = services.require(api, recorded(ctx, 'service_id', 'service'))
    body = desired(api, spec, pinned)
    view = service_spec.desired_view(spec, body['TaskTemplate']['ContainerSpec']['Image'])
    actual = service_spec.actual_view(info['Spec'], spec)
    return body, objects.plan(ctx, kwargs, OBJECTS, drift.differences(
        SERVICE, service_spec.declared(spec.values), view, actual, written=spec.written))


def _plan(ctx: Ctx, kwargs: Mapping[str, Any]) -> list:
    spec = gather(ctx, kwargs)
    with engine(ctx, kwargs) as client:
        return _differences(ctx, kwargs, spec, client.api)[1]


@operation
def check_drift(ctx: Ctx, **kwargs: Any) -> list[dict[str, Any]]:
    """Where the service differs from ``service_config`` and its relationships (a
    moved tag shows as image drift), each with what update does with it; kept in
    ``drift``."""
    return objects.record_drift(ctx, 'service', _plan(ctx, kwargs))


@operation
@objects.preview(OBJECTS, _plan)
def update(ctx: Ctx, **kwargs: Any) -> Any:
    """Send the declared spec when it drifted (a rolling update) and wait for it.

    The mode cannot change in place (refused, naming it, and nothing is sent); an
    adopted service changes only with modify_external_resource. A rollout that
    pauses or rolls back fails the operation, with the failing tasks' errors and
    logs. ``preview: true``: the plan only."""
    spec, settings = gather(ctx, kwargs), service_waiting.options(ctx, kwargs)
    with engine(ctx, kwargs) as client:
        api = client.api
        service_id = recorded(ctx, 'service_id', 'service')
        state = service_waiting.pending(ctx, 'update')
        if state is None:
            body, found = _differences(ctx, kwargs, spec, api)
            objects.refuse(found)
            if not found:
                return objects.record_drift(ctx, 'service', found)
            ctx.logger.info('Updating service %s:\n  %s', spec.name,
                            '\n  '.join(d.describe() for d in found))
            before = services.update(api, service_id, body, spec.auth)
            state = service_waiting.begin(ctx, 'update', before, body, settings)
        outcome = service_waiting.converge(ctx, api, service_id, state, settings, 'update')
        if isinstance(outcome, waits.Retry):
            return outcome.request(ctx)
        info = services.require(api, service_id)
        persist(ctx, **services.summarise(info))
        # What was just rolled out was pinned a moment ago: not asked of the registry again.
        pinned = ((info['Spec'].get('TaskTemplate') or {}).get('ContainerSpec') or {}).get(
            'Image')
        _, remaining = _differences(ctx, kwargs, spec, api, pinned)
    return objects.record_drift(ctx, 'service', remaining)


@operation
def pull(ctx: Ctx, **kwargs: Any) -> None:
    """``cloudify.interfaces.lifecycle.pull``: refresh the runtime properties (image,
    version, ports, the tasks running against those wanted) from the manager."""
    with engine(ctx, kwargs) as client:
        api = client.api
        info = objects.require(ctx, api, OBJECTS)
        persist(ctx, **services.summarise(info), status=services.status(api, info['ID']))
    ctx.logger.info('Service %s refreshed from the engine', info['Spec'].get('Name', ''))
