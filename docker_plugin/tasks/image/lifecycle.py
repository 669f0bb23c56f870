"""Operations of ``cloudify.nodes.docker.Image``: an image several containers share.

``create`` imports, builds or pulls it (the same sources as a container's
``create``) and gives it extra ``tags``; ``configure`` pushes it where
``push`` says; ``delete`` removes only what this deployment made (unless
``keep_locally``), after the tags it added, waiting for or refusing while a
container still uses it (``in_use``). ``check_status`` says whether it is
still there; ``check_drift`` whether its tags still point at it (and, for a
pulled image, whether the registry now serves another one); ``update`` and
``pull`` bring it back in line.
"""

from __future__ import annotations

import time
from typing import Any, Mapping

from docker_plugin import kinds, records, registry
from docker_plugin.errors import StateError
from docker_plugin.options.image import IMAGE_NODE
from docker_plugin.resources import drift, images
from docker_plugin.resources.drift import Difference
from docker_plugin.resources.engine_api import EngineApi
from docker_plugin.tasks import lifecycle as objects
from docker_plugin.tasks.context import drop, engine, persist, recorded, resolve_input
from docker_plugin.tasks.ctx import Ctx
from docker_plugin.tasks.image import sources as image_sources
from docker_plugin.tasks.operation import operation

IMAGE_PROPS = (*image_sources.IMAGE_PROPS, 'image_tags', 'pushed', 'drift')


def _node(ctx: Ctx, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The node's own properties (tags, push, removal), validated."""
    raw = {name: resolve_input(ctx, kwargs, name, default=IMAGE_NODE.options[name].default)
           for name in IMAGE_NODE.names()}
    if raw['push'] in ({}, []):
        raw['push'] = None  # the property's default: push nowhere
    return IMAGE_NODE.parse(raw)


def _push_targets(values: Mapping[str, Any]) -> list[dict[str, Any]]:
    items = values['push'] if isinstance(values['push'], list) else \
        [values['push']] if values['push'] else []
    targets = []
    for index, item in enumerate(items):
        field = f'push[{index}]' if isinstance(values['push'], list) else 'push'
        repository, tag = images.split_reference(item['repository'])
        tag = item.get('tag') or tag or 'latest'
        auth = registry.auth_config(item.get('auth'), f'{field}.auth', repository)
        targets.append({'repository': repository, 'tag': tag, 'auth': auth,
                        'timeout': item.get('timeout', 3600)})
    return targets


def _tags(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    out = []
    for reference in values['tags']:
        repository, tag = images.split_reference(reference)
        out.append((repository, tag or 'latest'))
    return out


def planned(ctx: Ctx, kwargs: Mapping[str, Any]) -> None:
    """What ``create`` and ``configure`` check before the engine, for validation: the
    source (and its files, in a local run), the tags and the push targets."""
    image_sources.planned(ctx, kwargs, 'image_pull.repository')
    _push_targets(_node(ctx, kwargs))


@operation
def create(ctx: Ctx, **kwargs: Any) -> None:
    """Get the image, then give it its extra ``tags``."""
    kind, values = image_sources.request(ctx, kwargs, 'image_pull.repository')
    node = _node(ctx, kwargs)
    _push_targets(node)  # validated now, used by configure
    with engine(ctx, kwargs, contact_now=False) as client:  # obtain writes before it makes
        api = client.api
        image_sources.obtain(ctx, api, kind, values)
        image_id = ctx.instance.runtime_properties['image_id']
        added = [images.tag(api, image_id, repository, tag) for repository, tag in _tags(node)]
    if added:
        known = list(ctx.instance.runtime_properties.get('image_tags') or [])
        persist(ctx, image_tags=known + [t for t in added if t not in known])
        ctx.logger.info('Tagged %s as %s', image_id, ', '.join(added))


@operation
def push(ctx: Ctx, **kwargs: Any) -> None:
    """Push the image to every ``push`` target (tagging it there first)."""
    targets = _push_targets(_node(ctx, kwargs))
    if not targets:
        return
    props = ctx.instance.runtime_properties
    image_id = recorded(ctx, 'image_id', 'image', ': create made none')
    pushed = list(props.get('pushed') or [])
    tags = list(props.get('image_tags') or [])
    with engine(ctx, kwargs) as client:
        api = client.api
        for target in targets:
            reference = images.tag(api, image_id, target['repository'], target['tag'])
            if reference not in tags:
                tags.append(reference)
                persist(ctx, image_tags=tags)
            digest = images.push(api, target['repository'], target['tag'], ctx.logger.info,
                                 target['auth'], target['timeout'])
            pushed = [p for p in pushed if p['reference'] != reference]
            pushed.append({'reference': reference, 'digest': digest,
                           'registry': registry.registry_of(reference)})
            persist(ctx, pushed=pushed)
            ctx.logger.info('Pushed %s (%s)', reference, digest)


@operation
def delete(ctx: Ctx, **kwargs: Any) -> None:
    """Remove what this deployment made: the names this node added (its extra tags,
    and the image's name when it made the image: built, imported, or pulled when
    absent) and, when it made the image and nothing else holds it (no other name, no
    container: ``in_use`` says whether to fail or wait while containers use it), the
    image itself. Built or imported images this instance made but did not record go
    too, and in an uninstall those earlier runs of this node made."""
    node = _node(ctx, kwargs)
    props = ctx.instance.runtime_properties
    if node['keep_locally']:
        if props.get('image_id'):
            ctx.logger.info('Keeping image %s: keep_locally is set', props.get('image'))
        drop(ctx, *IMAGE_PROPS)
        return
    recorded_id = props.get('image_id')

    def remove(api: EngineApi, info: Mapping[str, Any]) -> bool:
        if info['Id'] == recorded_id:
            return _release_recorded(ctx, api, node)
        return image_sources.IMAGES.remove(api, info)

    with objects.engine_to_clean(ctx, kwargs) as client:
        if client is not None:
            objects.remove_ours(ctx, client.api,
                                records.replace(image_sources.IMAGES, remove=remove))
    drop(ctx, *IMAGE_PROPS)


def _release_recorded(ctx: Ctx, api: EngineApi, node: Mapping[str, Any]) -> bool:
    """The names this node added go; the image too when this node made it and nothing
    else holds it (``images.release``), waiting (``in_use: wait``) or failing while
    containers use it, unless ``force_remove``. True when the image went."""
    props = ctx.instance.runtime_properties
    image_id, image = props['image_id'], props.get('image')
    created = bool(props.get('image_created'))
    names = [image] if created and image and image != image_id else []
    names += [t for t in props.get('image_tags') or [] if t not in names]
    timeout = float(node['in_use_timeout'])
    deadline = time.monotonic() + timeout
    while True:
        released = images.release(api, image_id, names, remove=created,
                                  force=node['force_remove'])
        if not released.users:
            break
        if node['in_use'] == 'fail' or time.monotonic() >= deadline:
            waited = f' (waited {timeout:g}s)' if node['in_use'] == 'wait' else ''
            raise StateError(f'image {image} is still used by containers '
                             f'{", ".join(released.users)}{waited}; remove them, or set '
                             'in_use: wait, keep_locally or force_remove')
        ctx.logger.info('Image %s is still in use; waiting', image)
        time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
    if not created:
        ctx.logger.info('Keeping image %s: it was there before this deployment%s', image,
                        f' (untagged {", ".join(released.untagged)})'
                        if released.untagged else '')
    elif not released.removed:
        ctx.logger.info('%s', released.describe(image or image_id).capitalize())
    return released.removed


@operation
def check_status(ctx: Ctx, **kwargs: Any) -> None:
    """Healthy when the recorded image still exists on the engine."""
    image_id = recorded(ctx, 'image_id', 'image', ': create made none')
    with engine(ctx, kwargs) as client:
        if images.inspect_image(client.api, image_id) is None:
            raise StateError(f'image {ctx.instance.runtime_properties.get("image")} '
                             f'({image_id}) is no longer on the engine')
    ctx.logger.info('Image %s is present', image_id)


STRATEGY = kinds.node('image').update  # update gets it again from its source


def image_drift(ctx: Ctx, api: EngineApi, kwargs: Mapping[str, Any]) -> list[Difference]:
    """Names that no longer point at the image, and (pulled images) a registry
    that now serves another digest for the name; each with what update does with it."""
    props = ctx.instance.runtime_properties
    image_id = recorded(ctx, 'image_id', 'image', ': create made none')
    found = []
    for name in [props.get('image'), *(props.get('image_tags') or [])]:
        if not name or name == image_id or '@' in name:
            continue
        now = (images.inspect_image(api, name) or {}).get('Id')
        if now != image_id:
            found.append(Difference('tags', name, image_id, now, drift.Update.RECREATE))
    if props.get('image_source') == 'pull' and '@' not in props['image']:
        kind, values = image_sources.request(ctx, kwargs, 'image_pull.repository')
        auth = values.get('auth') if kind == 'image_pull' else None
        served = images.registry_digest(api, props['image'], auth)
        if served and props.get('image_digest') and served != props['image_digest']:
            found.append(Difference('image_pull', props['image'], served, props['image_digest'],
                                    drift.Update.RECREATE))
    return objects.planned(STRATEGY, 'image', found)


def _plan(ctx: Ctx, kwargs: Mapping[str, Any]) -> list[Difference]:
    with engine(ctx, kwargs) as client:
        return image_drift(ctx, client.api, kwargs)


@operation
def check_drift(ctx: Ctx, **kwargs: Any) -> list[dict[str, Any]]:
    """Where the image differs from what was recorded, each with what update does with it
    (also kept in ``drift``)."""
    return objects.record_drift(ctx, 'image', _plan(ctx, kwargs))


@operation
@objects.preview_of(STRATEGY, 'image', lambda ctx: str(ctx.instance.runtime_properties.get(
    'image') or ''), _plan)
def update(ctx: Ctx, **kwargs: Any) -> None:
    """Get the image again (pull, build or import) and re-tag it: what ``pull`` does.
    ``preview: true``: the plan only."""
    refresh(ctx, kwargs)


@operation
def pull(ctx: Ctx, **kwargs: Any) -> None:
    """``cloudify.interfaces.lifecycle.pull``: get the image again from its source
    and refresh the runtime properties from the engine."""
    refresh(ctx, kwargs)


def refresh(ctx: Ctx, kwargs: Mapping[str, Any]) -> None:
    kind, values = image_sources.request(ctx, kwargs, 'image_pull.repository')
    node = _node(ctx, kwargs)
    if kind == 'image_pull':
        values['policy'] = 'always'
    previous = dict(ctx.instance.runtime_properties)
    drop(ctx, 'image_id')
    with engine(ctx, kwargs) as client:
        api = client.api
        image_sources.obtain(ctx, api, kind, values, reuse=False)
        persist(ctx, image_created=bool(previous.get('image_created')) or
                ctx.instance.runtime_properties.get('image_created', False))
        image_id = ctx.instance.runtime_properties['image_id']
        for repository, tag in _tags(node):
            images.tag(api, image_id, repository, tag)
        found = [d.as_dict() for d in image_drift(ctx, api, kwargs)]
    persist(ctx, drift=found)
    ctx.logger.info('Image %s is %s (was %s)', ctx.instance.runtime_properties['image'],
                    image_id, previous.get('image_id'))
