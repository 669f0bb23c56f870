"""A container's state against its blueprint: check_status, check_drift, update, pull."""

from __future__ import annotations

from typing import Any, Mapping

from docker_plugin.errors import StateError
from docker_plugin.resources import completion, container_drift, containers, images, reports
from docker_plugin.tasks import image_sources
from docker_plugin.tasks.context import (
    engine,
    existing_flags,
    learn_container_secrets,
    persist,
    recorded,
)
from docker_plugin.tasks.operation import operation
from docker_plugin.tasks.specs import gather


@operation
def check_status(ctx: Any, **kwargs: Any) -> None:
    """Healthy when the container exists and runs (and its healthcheck, if any, passes),
    or has completed (``resources.completion``: exited 0, not restarted, no healthcheck),
    or its readiness wait saw it end as expected and it is still exited with that code.

    Cloudify's ``check_status`` and ``heal`` workflows call this; an unhealthy
    instance is reinstalled by ``heal``.
    """
    container_id = recorded(ctx, 'container_id', 'container')
    with engine(ctx, kwargs) as client:
        info = containers.require(client.api, container_id)
    state = info['State']
    health = (state.get('Health') or {}).get('Status')
    done = ctx.instance.runtime_properties.get('completed_exit_code')
    if (done is not None and state.get('Status') == 'exited' and state.get('ExitCode') == done
            ) or completion.completed(state.get('Status', ''), state.get('ExitCode'),
                                      completion.container_restart(info),
                                      completion.container_healthcheck(info)):
        ctx.logger.info('Container %s completed (exited with code %s)', container_id[:12],
                        state.get('ExitCode'))
        return
    if not state.get('Running') or state.get('Paused') or health == 'unhealthy':
        raise StateError(f'container {container_id[:12]} is {reports.state_line(info)}')
    ctx.logger.info('Container %s is %s', container_id[:12], reports.state_line(info))


def _differences(ctx: Any, kwargs: Mapping[str, Any], api: Any) -> tuple[Any, list]:
    spec = gather(ctx, kwargs)
    info = containers.require(api, recorded(ctx, 'container_id', 'container'))
    learn_container_secrets(ctx, info)
    image = spec.image or ctx.instance.runtime_properties.get('image')
    return spec, container_drift.differences(api, spec, image, info)


def _record(ctx: Any, found: list) -> list[dict[str, Any]]:
    listed = [d.as_dict() for d in found]
    persist(ctx, drift=listed)
    if found:
        ctx.logger.warning('Drift: %s', '; '.join(d.describe() for d in found))
    else:
        ctx.logger.info('No drift: the container has every declared option')
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
    rename), its networks, aliases and addresses (reconnecting). Anything else
    needs a new container and is refused, naming it."""
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
        for line in container_drift.apply(api, container_id, spec, found):
            ctx.logger.info('Container %s: %s', container_id[:12], line)
        _, remaining = _differences(ctx, kwargs, api)
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
