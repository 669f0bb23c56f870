"""Operations of ``cloudify.nodes.docker.Image``: an image several containers share.

``create`` imports, builds or pulls it (the same sources as a container's
``create``) and gives it extra ``tags``; ``configure`` pushes it where
``push`` says; ``delete`` removes only what this deployment made (unless
``keep_locally``), after the tags it added, waiting for or refusing while a
container still uses it (``in_use``).
"""

from __future__ import annotations

import time
from typing import Any

from docker_plugin import image_ops, registry
from docker_plugin.cloudify_ops import docker_operation, drop, engine, persist, resolve_input
from docker_plugin.errors import ConflictError, InvalidInputError
from docker_plugin.resources import images

IMAGE_PROPS = ('image_id', 'image', 'image_source', 'image_created', 'image_digest',
               'image_tags', 'pushed')


def _split_tag(reference: Any, field: str) -> tuple[str, str]:
    if not isinstance(reference, str) or not reference:
        raise InvalidInputError(field, 'expected an image name like registry:5000/app:1')
    repository, tag = images.split_reference(reference)
    if tag and tag.startswith('sha256:'):
        raise InvalidInputError(field, 'a tag, not a digest')
    return repository, tag or 'latest'


def _tags(ctx: Any, kwargs: dict[str, Any]) -> list[tuple[str, str]]:
    raw = resolve_input(ctx, kwargs, 'tags', default=[])
    if not isinstance(raw, list):
        raise InvalidInputError('tags', 'expected a list of image names')
    return [_split_tag(item, f'tags[{i}]') for i, item in enumerate(raw)]


def _push_targets(ctx: Any, kwargs: dict[str, Any]) -> list[dict[str, Any]]:
    """``push``: one {repository, tag, auth} dict or a list of them."""
    raw = resolve_input(ctx, kwargs, 'push', default={})
    items = raw if isinstance(raw, list) else [raw] if raw else []
    targets = []
    for index, item in enumerate(items):
        field = f'push[{index}]' if isinstance(raw, list) else 'push'
        if not isinstance(item, dict):
            raise InvalidInputError(field, 'expected {repository, tag, auth}')
        unknown = set(item) - {'repository', 'tag', 'auth'}
        if unknown:
            raise InvalidInputError(f'{field}.{sorted(unknown)[0]}',
                                    'unknown key; use repository, tag, auth')
        repository, tag = _split_tag(item.get('repository'), f'{field}.repository')
        if item.get('tag') is not None:
            if not isinstance(item['tag'], str) or not item['tag']:
                raise InvalidInputError(f'{field}.tag', 'expected a string')
            tag = item['tag']
        auth = registry.auth_config(item.get('auth'), f'{field}.auth', repository)
        targets.append({'repository': repository, 'tag': tag, 'auth': auth})
    return targets


@docker_operation
def create(ctx: Any, **kwargs: Any) -> None:
    """Get the image, then give it its extra ``tags``."""
    kind, options = image_ops.image_request(ctx, kwargs)
    tags = _tags(ctx, kwargs)
    _push_targets(ctx, kwargs)  # validated now, used by configure
    with engine(ctx, kwargs) as client:
        api = client.api
        image_ops.ensure_image(ctx, api, kind, options)
        image_id = ctx.instance.runtime_properties['image_id']
        added = [images.tag(api, image_id, repository, tag) for repository, tag in tags]
    if added:
        known = list(ctx.instance.runtime_properties.get('image_tags') or [])
        persist(ctx, image_tags=known + [t for t in added if t not in known])
        ctx.logger.info('Tagged %s as %s', image_id, ', '.join(added))


@docker_operation
def push(ctx: Any, **kwargs: Any) -> None:
    """Push the image to every ``push`` target (tagging it there first)."""
    targets = _push_targets(ctx, kwargs)
    if not targets:
        return
    props = ctx.instance.runtime_properties
    image_id = props.get('image_id')
    if not image_id:
        raise InvalidInputError('runtime_properties.image_id', 'create made no image')
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
                                 target['auth'])
            pushed = [p for p in pushed if p['reference'] != reference]
            pushed.append({'reference': reference, 'digest': digest,
                           'registry': registry.registry_of(reference)})
            persist(ctx, pushed=pushed)
            ctx.logger.info('Pushed %s (%s)', reference, digest)


def _removal(ctx: Any, kwargs: dict[str, Any]) -> tuple[bool, bool, str, float]:
    keep = resolve_input(ctx, kwargs, 'keep_locally', default=False)
    force = resolve_input(ctx, kwargs, 'force_remove', default=False)
    in_use = resolve_input(ctx, kwargs, 'in_use', default='fail')
    timeout = resolve_input(ctx, kwargs, 'in_use_timeout', default=60)
    for name, value in (('keep_locally', keep), ('force_remove', force)):
        if not isinstance(value, bool):
            raise InvalidInputError(name, 'expected true or false')
    if in_use not in ('fail', 'wait'):
        raise InvalidInputError('in_use', 'fail or wait')
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout < 0:
        raise InvalidInputError('in_use_timeout', 'expected a number of seconds')
    return keep, force, in_use, float(timeout)


@docker_operation
def delete(ctx: Any, **kwargs: Any) -> None:
    """Remove what this deployment made: the tags it added and, if it made the
    image (built, imported, or pulled when absent), the image itself.

    A pulled image is removed by its name: if that image is known by other
    names too (it existed under another tag), only this name goes.
    """
    keep, force, in_use, timeout = _removal(ctx, kwargs)
    props = ctx.instance.runtime_properties
    image_id = props.get('image_id')
    if not image_id:
        return
    if keep:
        ctx.logger.info('Keeping image %s: keep_locally is set', props.get('image'))
        drop(ctx, *IMAGE_PROPS)
        return
    with engine(ctx, kwargs) as client:
        api = client.api
        for reference in props.get('image_tags') or []:
            if reference != props.get('image'):
                images.remove_image(api, reference)  # untags; the image stays
        if props.get('image_created'):
            target = props['image'] if props.get('image_source') == 'pull' else image_id
            if _remove_when_unused(ctx, api, target, force, in_use, timeout):
                ctx.logger.info('Removed image %s (%s)', props.get('image'), image_id)
        else:
            ctx.logger.info('Keeping image %s: it was there before this deployment',
                            props.get('image'))
    drop(ctx, *IMAGE_PROPS)


def _remove_when_unused(ctx: Any, api: Any, target: str, force: bool, in_use: str,
                        timeout: float) -> bool:
    """Remove, failing (``in_use: fail``) or waiting while containers use the image."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return images.remove_image(api, target, force=force)
        except ConflictError as exc:
            if in_use == 'fail' or time.monotonic() >= deadline:
                waited = f' (waited {timeout:g}s)' if in_use == 'wait' else ''
                raise ConflictError(f'{exc}{waited}; remove them, or set in_use: wait, '
                                    'keep_locally or force_remove') from None
            ctx.logger.info('Image %s is still in use; waiting', target)
            time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
