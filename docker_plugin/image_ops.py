"""Getting an image: one validated request, then import, build or pull it.

Shared by the container's ``create`` (seed style) and the Image node.
"""

from __future__ import annotations

import json
from typing import Any

from docker_plugin import registry
from docker_plugin.cloudify_ops import blueprint_path, persist, resolve_input, resource_labels
from docker_plugin.errors import InvalidInputError, NotFoundError
from docker_plugin.resources import images

SOURCES = ('image_import', 'image_build', 'image_pull')


def _plain_dict(value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInputError(field, f'expected a dictionary, got {type(value).__name__}')
    return value


def has_source(ctx: Any, kwargs: dict[str, Any]) -> bool:
    """Whether the inputs or properties name an image source of their own."""
    config = resolve_input(ctx, kwargs, 'container_config')
    return any(resolve_input(ctx, kwargs, kind) for kind in SOURCES) or \
        bool(isinstance(config, dict) and config.get('image'))


def image_request(ctx: Any, kwargs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Which image source the inputs name, validated: (kind, options)."""
    sources = {}
    for kind in ('image_import', 'image_build', 'image_pull'):
        value = resolve_input(ctx, kwargs, kind)
        if _plain_dict(value, kind):
            sources[kind] = value
    if len(sources) > 1:
        raise InvalidInputError(' and '.join(sorted(sources)),
                                'give exactly one image source, not several')
    if not sources:
        config = _plain_dict(resolve_input(ctx, kwargs, 'container_config'), 'container_config')
        if isinstance(config.get('image'), str) and config['image']:
            repo, tag = images.split_reference(config['image'])
            return 'image_pull', {'repository': repo, 'tag': tag, 'policy': 'missing'}
        raise InvalidInputError(
            'image_import/image_build', 'give exactly one image source: image_import.src (an '
            'http(s) URL or a tarball path), image_build.path (a context directory), '
            'image_pull.repository, or container_config.image')
    kind, raw = next(iter(sources.items()))
    if kind == 'image_build':
        return kind, images.validate_build(raw)
    if kind == 'image_import':
        unknown = set(raw) - {'src', 'repository', 'tag', 'changes'}
        if unknown:
            raise InvalidInputError(f'image_import.{sorted(unknown)[0]}', 'unknown option')
        if not isinstance(raw.get('src'), str) or not raw['src']:
            raise InvalidInputError('image_import.src',
                                    'required: an http(s) URL or a tarball path')
        for key in ('repository', 'tag'):
            if raw.get(key) is not None and not isinstance(raw[key], str):
                raise InvalidInputError(f'image_import.{key}', 'expected a string')
        if raw.get('changes') is not None and not isinstance(raw['changes'], list):
            raise InvalidInputError('image_import.changes', 'expected a list of instructions')
        return kind, dict(raw)
    unknown = set(raw) - {'repository', 'tag', 'platform', 'policy', 'auth', 'auth_config'}
    if unknown:
        raise InvalidInputError(f'image_pull.{sorted(unknown)[0]}', 'unknown option')
    if not isinstance(raw.get('repository'), str) or not raw['repository']:
        raise InvalidInputError('image_pull.repository', 'required: the image to pull')
    policy = raw.get('policy', 'missing')
    if policy not in ('missing', 'always', 'never'):
        raise InvalidInputError('image_pull.policy', 'must be missing, always or never')
    options = dict(raw)
    repository, tag = options['repository'], options.get('tag')
    if tag is None:
        repository, tag = images.split_reference(repository)
    options['auth'] = registry.auth_config(raw.get('auth', raw.get('auth_config')),
                                           'image_pull.auth', images.reference(repository, tag))
    options.pop('auth_config', None)
    return kind, options



def ensure_image(ctx: Any, api: Any, kind: str,
                 options: dict[str, Any]) -> images.ImageResult | None:
    """Make the image exist as requested and record it in runtime properties.

    Returns None when an earlier run already made it (nothing to do).
    """
    log = ctx.logger.info
    props = ctx.instance.runtime_properties
    if props.get('image_id') and images.inspect_image(api, props['image_id']):
        ctx.logger.info('Image %s already present (%s); nothing to do',
                        props.get('image'), props['image_id'])
        return None
    if kind == 'image_import':
        src = options['src']
        if not images.is_url(src):
            src = blueprint_path(ctx, src, 'image_import.src')
        # Imported images carry the Cloudify labels too (as built ones do).
        changes = list(options.get('changes') or []) + [
            f'LABEL {key}={json.dumps(value)}' for key, value in resource_labels(ctx).items()]
        result = images.import_image(api, src, options.get('repository'),
                                     options.get('tag'), changes, log)
        created = True
    elif kind == 'image_build':
        options['path'] = blueprint_path(ctx, options['path'], 'image_build.path')
        result = images.build_image(api, options, resource_labels(ctx), log)
        created = True
    else:
        result, created = pull(api, options, log)
    persist(ctx, image_id=result.id, image=result.reference, image_source=result.source,
            image_created=created, image_digest=result.digest)
    ctx.logger.info('Image %s ready: %s (%s)', result.reference, result.id, result.source)
    return result


def pull(api: Any, options: dict[str, Any], log: Any) -> tuple[images.ImageResult, bool]:
    """Pull as the policy says: (result, whether this pull brought the image here)."""
    repository, tag = options['repository'], options.get('tag')
    if tag is None:
        repository, tag = images.split_reference(repository)
    reference = images.reference(repository, tag)
    policy = options.get('policy', 'missing')
    info = images.inspect_image(api, reference)
    if info is not None and policy != 'always':
        return images.ImageResult(info['Id'], reference, 'existing',
                                  images.repo_digest(info, repository)), False
    if info is None and policy == 'never':
        raise InvalidInputError('image_pull.policy',
                                f'image {reference} is not present and policy is never')
    try:
        pulled = images.pull_image(api, repository, tag, log, options.get('auth'),
                                   options.get('platform'))
    except NotFoundError as exc:
        raise InvalidInputError(
            'image_pull', f'{reference} not found in registry {registry.registry_of(reference)}: '
                          f'{exc}') from None
    return pulled, info is None


