"""A container's state against its blueprint: check_status, check_drift, update, pull."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from docker_plugin.errors import StateError
from docker_plugin.resources import container_drift, containers, images, reports
from docker_plugin.resources import spec as specs
from docker_plugin.tasks import image_sources
from docker_plugin.tasks.context import (
    engine,
    existing_flags,
    learn_container_secrets,
    persist,
    recorded,
    resource_labels,
)
from docker_plugin.tasks.operation import operation
from docker_plugin.tasks.specs import declared_state, gather

# Options the engine discarded on this host (it said so when it was given them).
DISCARDED = 'discarded_options'


@operation
def check_status(ctx: Any, **kwargs: Any) -> None:
    """Healthy when the container exists and runs (and its healthcheck, if any, passes).

    Cloudify's ``check_status`` and ``heal`` workflows call this; an unhealthy
    instance is reinstalled by ``heal``.
    """
    container_id = recorded(ctx, 'container_id', 'container')
    with engine(ctx, kwargs) as client:
        info = containers.require(client.api, container_id)
    state = info['State']
    health = (state.get('Health') or {}).get('Status')
    paused_as_declared = state.get('Paused') and declared_state(ctx, kwargs).get('paused')
    if not state.get('Running') or (state.get('Paused') and not paused_as_declared) or \
            health == 'unhealthy':
        raise StateError(f'container {container_id[:12]} is {reports.state_line(info)}')
    ctx.logger.info('Container %s is %s', container_id[:12], reports.state_line(info))


def context(ctx: Any, spec: specs.ContainerSpec) -> container_drift.Context:
    """What drift compares besides the spec: the image, the plugin's labels (not on an
    adopted container) and what the engine discarded."""
    props = ctx.instance.runtime_properties
    return container_drift.Context(
        image=spec.image or props.get('image'),
        labels=None if props.get('container_adopted') else resource_labels(ctx),
        discarded=props.get(DISCARDED) or ())


def _differences(ctx: Any, kwargs: Mapping[str, Any], api: Any) -> tuple[Any, list]:
    spec = gather(ctx, kwargs)
    info = containers.require(api, recorded(ctx, 'container_id', 'container'))
    learn_container_secrets(ctx, info)
    return spec, container_drift.differences(api, spec, info, context(ctx, spec))


def record_discarded(ctx: Any, api: Any, spec: specs.ContainerSpec, container_id: str,
                     asked: Iterable[str], warnings: list[str]) -> list[str]:
    """After a call the engine answered with warnings: the options it discarded (it
    holds nothing for them), recorded so that drift leaves them out, and said once."""
    if not warnings:
        return []
    info = containers.require(api, container_id)
    found = container_drift.differences(api, spec, info, context(ctx, spec))
    dropped = container_drift.discarded(found, asked, warnings)
    if dropped:
        known = list(ctx.instance.runtime_properties.get(DISCARDED) or [])
        persist(ctx, **{DISCARDED: sorted(set(known) | set(dropped))})
        ctx.logger.warning('The engine discarded %s on this host (%s): not compared for drift '
                           'while declared', ', '.join(dropped), ' '.join(warnings)[:500])
    return dropped


def _record(ctx: Any, found: list) -> list[dict[str, Any]]:
    listed = [d.as_dict() for d in found]
    persist(ctx, drift=listed)
    if found:
        ctx.logger.warning('Drift: %s', '; '.join(d.describe() for d in found))
    else:
        ctx.logger.info('No drift: the container has every declared option')
    skipped = ctx.instance.runtime_properties.get(DISCARDED)
    if skipped:
        ctx.logger.info('Not compared: %s (discarded by the engine on this host)',
                        ', '.join(skipped))
    return listed


@operation
def check_drift(ctx: Any, **kwargs: Any) -> list[dict[str, Any]]:
    """Where the container differs from its declared options, image and networks
    (also kept in the ``drift`` runtime property); an empty list means none."""
    with engine(ctx, kwargs) as client:
        _, found = _differences(ctx, kwargs, client.api)
    return _record(ctx, found)


@operation
def update(ctx: Any, **kwargs: Any) -> list[dict[str, Any]]:
    """Bring the container back to its declared options where the engine can do
    it in place: resources and restart policy (the update call), its name (a
    rename), pause or unpause, its networks, aliases and addresses (reconnecting).
    Anything else needs a new container and is refused, naming it."""
    if ctx.instance.runtime_properties.get('container_adopted') and \
            not existing_flags(ctx, kwargs)['modify_external_resource']:
        raise StateError('the container was adopted: set modify_external_resource to let '
                         'update change it')
    with engine(ctx, kwargs) as client:
        api = client.api
        spec, found = _differences(ctx, kwargs, api)
        fixed = sorted({d.option for d in found if not d.updatable})
        if fixed:
            raise StateError(f'{", ".join(fixed)} changed and cannot be applied to the '
                             'existing container: reinstall (or heal) this node')
        container_id = recorded(ctx, 'container_id', 'container')
        applied = container_drift.apply(api, container_id, spec, found)
        dropped = record_discarded(ctx, api, spec, container_id, applied.updated,
                                   applied.warnings)
        _, remaining = _differences(ctx, kwargs, api)
        refused = sorted({d.option for d in remaining if d.option in applied.updated})
        taken = [name for name in applied.updated if name not in refused and name not in dropped]
        for line in ([f'updated {", ".join(taken)}'] if taken else []) + applied.done:
            ctx.logger.info('Container %s: %s', container_id[:12], line)
        if refused:
            ctx.logger.warning('Container %s: the engine left %s as it was (%s)',
                               container_id[:12], ', '.join(refused),
                               ' '.join(applied.warnings)[:500] or 'it gave no reason')
        persist(ctx, **reports.summarise(containers.require(api, container_id)))
    return _record(ctx, remaining)


@operation
def pull(ctx: Any, **kwargs: Any) -> None:
    """``cloudify.interfaces.lifecycle.pull``: pull the container's image again
    (an image that never came from a registry is left as it is) and refresh the runtime
    properties from the engine; a container running an older image than the
    one pulled shows as ``image`` drift."""
    container_id = recorded(ctx, 'container_id', 'container')
    props = ctx.instance.runtime_properties
    pulled = None
    with engine(ctx, kwargs) as client:
        api = client.api
        local = images.inspect_image(api, props['image']) if props.get('image') else None
        from_registry = props.get('image_source') == 'pull' or bool(
            (local or {}).get('RepoDigests'))
        if not from_registry:
            ctx.logger.info('Image %s was not pulled from a registry: nothing to pull',
                            props.get('image'))
        else:
            repository, tag = images.split_reference(props['image'])
            kind, values = image_sources.request(ctx, kwargs) if image_sources.has_source(
                ctx, kwargs) else ('image_pull', {})
            auth = values.get('auth') if kind == 'image_pull' else None
            pulled = images.pull_image(api, repository, tag, ctx.logger.info, auth)
            persist(ctx, image_digest=pulled.digest)
        info = containers.require(api, container_id)
        learn_container_secrets(ctx, info)
        persist(ctx, **reports.summarise(info))
    if pulled is not None and pulled.id != info.get('Image'):
        ctx.logger.warning('Container %s runs %s; %s is now %s: the container needs '
                           'creating again (reinstall or heal) to run it', container_id[:12],
                           info.get('Image'), pulled.reference, pulled.id)
