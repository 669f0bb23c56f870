"""The end of a container's life: stop and delete (the seed's names).

What was adopted is left as found unless ``delete_adopted`` is set; ``retain``
keeps what this deployment made; containers this instance made but never
recorded (a crash right after the engine answered) are found by their labels
and removed too.
"""

from __future__ import annotations

from typing import Any

from docker_plugin.adoption import removes
from docker_plugin.errors import PluginError, StateError
from docker_plugin.options.lifecycle import REMOVE, STOP
from docker_plugin.resources import containers, images
from docker_plugin.tasks import image_sources
from docker_plugin.tasks.container import CONTAINER_PROPS
from docker_plugin.tasks.context import (
    drop,
    engine,
    existing_flags,
    instance_labels,
    parse,
    persist,
)
from docker_plugin.tasks.operation import operation


@operation
def stop(ctx: Any, **kwargs: Any) -> None:
    """Stop the container (``container_stop.timeout``); gone or stopped is done."""
    timeout = parse(ctx, kwargs, 'container_stop', STOP)['timeout']
    container_id = ctx.instance.runtime_properties.get('container_id')
    if not container_id:
        ctx.logger.info('No container recorded; nothing to stop')
        return
    if _keep_adopted(ctx, kwargs, 'stop'):
        return
    with engine(ctx, kwargs) as client:
        api = client.api
        ctx.logger.info('Stopping container %s (timeout %s)', container_id,
                        'engine default' if timeout is None else f'{timeout}s')
        # Stopping what is stopped is a no-op for the engine; a paused one stops too.
        info = containers.inspect(api, container_id) \
            if containers.stop(api, container_id, timeout) else None
        if info is None:
            ctx.logger.info('Container %s is already gone', container_id)
            return
    persist(ctx, state=info['State'].get('Status', ''), exit_code=info['State'].get('ExitCode'))
    ctx.logger.info('Container %s is %s', container_id, info['State'].get('Status'))


def _keep_adopted(ctx: Any, kwargs: dict[str, Any], verb: str) -> bool:
    """True (and logged) when the container must be left as found: it was adopted
    (without delete_adopted), or retain is set."""
    flags = existing_flags(ctx, kwargs)
    adopted = bool(ctx.instance.runtime_properties.get('container_adopted'))
    remove, why = removes(adopted, flags['delete_adopted'], flags['retain'])
    if remove:
        return False
    ctx.logger.info('Not going to %s container %s: %s', verb,
                    ctx.instance.runtime_properties.get('container_id'), why)
    return True


@operation
def delete(ctx: Any, **kwargs: Any) -> None:
    """Stop if running, remove the container (and any this instance made but did
    not record, found by its labels), and the image if ``remove_image``."""
    timeout = parse(ctx, kwargs, 'container_stop', STOP)['timeout']
    options = parse(ctx, kwargs, 'container_remove', REMOVE)
    remove_image = options.pop('remove_image')
    props = ctx.instance.runtime_properties
    container_id = props.get('container_id')
    if container_id and _keep_adopted(ctx, kwargs, 'remove'):
        drop(ctx, *CONTAINER_PROPS)
        return
    with engine(ctx, kwargs) as client:
        api = client.api
        image = props.get('image_id')
        # Nothing recorded: configure may have died right after the engine made it.
        found = [] if container_id else [
            c['Id'] for c in containers.find_by_labels(api, instance_labels(ctx))]
        for cid in dict.fromkeys([*filter(None, [container_id]), *found]):
            info = containers.inspect(api, cid)
            if info is None:
                ctx.logger.info('Container %s is already gone', cid)
                continue
            image = image or info.get('Image')
            if info['State'].get('Running') or info['State'].get('Paused'):
                ctx.logger.info('Stopping container %s before removing it', cid)
                containers.stop(api, cid, timeout)
            containers.remove(api, cid, **options)
            ctx.logger.info('Removed container %s%s', cid, '' if cid == container_id
                            else ' (made by this instance, not recorded)')
        drop(ctx, *CONTAINER_PROPS)
        if remove_image and image:
            _remove_image(ctx, api, image)


def _remove_image(ctx: Any, api: Any, image: str) -> None:
    try:
        removed = images.remove_image(api, image)
    except PluginError as exc:
        raise StateError(f'remove_image: {exc}. Remove the containers using it, or set '
                         'remove_image to false.') from None
    if removed:
        ctx.logger.info('Removed image %s', image)
    drop(ctx, *image_sources.IMAGE_PROPS)
