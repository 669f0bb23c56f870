"""Getting an image: one validated request, then import, build or pull it.

Shared by the container's ``create`` (seed style) and the Image node.
"""

from __future__ import annotations

import contextlib
import json
import os
from typing import Any, Iterator, Mapping

from docker_plugin import kinds, registry
from docker_plugin.errors import InvalidInputError, NotFoundError, RefusedError
from docker_plugin.options.checks import kind as kind_of
from docker_plugin.options.image import IMAGE_BUILD, IMAGE_IMPORT, IMAGE_PULL
from docker_plugin.options.refusals import blame
from docker_plugin.resources import images
from docker_plugin.resources.engine_api import EngineApi
from docker_plugin.tasks import lifecycle as objects
from docker_plugin.tasks.confine import (
    check_read,
    operation_context,
    resource_path,
    resources,
    within,
)
from docker_plugin.tasks.context import node_labels, persist, resolve_input, resource_labels
from docker_plugin.tasks.ctx import Ctx

SOURCES = {'image_import': IMAGE_IMPORT, 'image_build': IMAGE_BUILD, 'image_pull': IMAGE_PULL}
IMAGE_PROPS = ('image_id', 'image', 'image_source', 'image_created', 'image_digest')
# The fingerprint of what a built or imported image was made from (``images.fingerprint``).
SOURCE_LABEL = 'cloudify.image-source'


def _summary(info: Mapping[str, Any]) -> dict[str, Any]:
    return {'image_id': info['Id'], 'image': next(iter(info.get('RepoTags') or []), info['Id'])}


# Images a node built or imported (they carry its labels), for the shared lifecycle: one
# goes with every name it has, when no container uses it (``images.release``).
IMAGES = objects.Objects(
    kinds.node('image'), inspect=images.inspect_image, find_by_labels=images.find_by_labels,
    remove=lambda api, info: images.release(
        api, info['Id'], [t for t in info.get('RepoTags') or [] if t != '<none>:<none>']
    ).removed,
    summarise=_summary, ident=lambda info: str(info['Id']))


def has_source(ctx: Ctx, kwargs: Mapping[str, Any]) -> bool:
    """Whether the inputs or properties name an image source of their own."""
    config = resolve_input(ctx, kwargs, 'container_config')
    return any(resolve_input(ctx, kwargs, kind) for kind in SOURCES) or \
        bool(isinstance(config, dict) and config.get('image'))


def request(ctx: Ctx, kwargs: Mapping[str, Any],
            fallback: str = 'container_config.image') -> tuple[str, dict[str, Any]]:
    """Which image source the inputs name, validated: (kind, values). With none given,
    the error names ``fallback``: a Container's ``container_config.image``, an Image's
    ``image_pull.repository`` (what most give)."""
    given = {}
    for kind in SOURCES:
        value = resolve_input(ctx, kwargs, kind)
        if not isinstance(value, dict):
            raise InvalidInputError(kind, f'expected a dictionary, got {type(value).__name__}')
        if value:
            given[kind] = value
    if len(given) > 1:
        first, *others = [kind for kind in SOURCES if kind in given]
        raise InvalidInputError(others[0], f'give exactly one image source: {first} is given '
                                           'too')
    if not given:
        config = resolve_input(ctx, kwargs, 'container_config')
        if fallback == 'container_config.image' and not isinstance(config, dict):
            raise InvalidInputError('container_config', f'expected a dictionary, got '
                                                        f'{kind_of(config)}')
        image = config.get('image') if isinstance(config, dict) else None
        if image:
            values = IMAGE_PULL.parse({'repository': image}, 'container_config.image')
            return 'image_pull', _pull_values(values, 'container_config.image')
        raise InvalidInputError(
            fallback, 'required: no image source is given; give one of image_import.src (an '
            'http(s) URL or a tarball path), image_build.path (a context directory), '
            'image_pull.repository' + (', or container_config.image'
                                       if fallback == 'container_config.image' else ''))
    kind, raw = next(iter(given.items()))
    values = SOURCES[kind].parse(raw, kind)
    if kind == 'image_pull':
        values = _pull_values(values, kind)
    elif kind == 'image_build':
        check_read(ctx, values['path'], 'image_build.path', values.get('dockerfile'),
                   'image_build.dockerfile', 'the build context')
    elif not images.is_url(values['src']):
        check_read(ctx, values['src'], 'image_import.src')
    return kind, values


def planned(ctx: Ctx, kwargs: Mapping[str, Any],
            fallback: str = 'container_config.image') -> tuple[str, dict[str, Any]]:
    """``request``, and (where the blueprint's files are on this host: a local run) the
    files it names exist, as ``obtain`` will need them: for validation, before
    anything is made. On a manager a file would be downloaded to be looked at: it is
    found when ``create`` runs."""
    kind, values = request(ctx, kwargs, fallback)
    if resources(operation_context(ctx)) is None:
        return kind, values
    if kind == 'image_build':
        _context_dir(ctx, values)
    elif kind == 'image_import' and not images.is_url(values['src']):
        _import_file(ctx, values['src'])
    return kind, values


def _pull_values(values: dict[str, Any], field: str) -> dict[str, Any]:
    if values.get('tag') is None:
        values['repository'], values['tag'] = images.split_reference(values['repository'])
    elif '@' in values['repository'] or ':' in values['repository'].rpartition('/')[2]:
        raise InvalidInputError(f'{field}.tag', 'the repository already names a tag or digest')
    name = images.reference(values['repository'], values['tag'])
    values['auth'] = registry.auth_config(values.get('auth'), f'{field}.auth', name)
    return values


@contextlib.contextmanager
def _refusals_named(kind: str, values: Mapping[str, Any]) -> Iterator[None]:
    """A refusal about one of the options given (``options.refusals.blame``: a tag the
    engine will not take, a target or Dockerfile it cannot find) names it; one about the
    build's steps stays as the engine said it."""
    try:
        yield
    except RefusedError as exc:
        given = {k: v for k, v in values.items() if v is not None and k != 'timeout'}
        option = blame(SOURCES[kind], given, exc.detail or str(exc))
        if option is None:
            raise
        raise InvalidInputError(f'{kind}.{option}', f'the engine refused it: {exc}') from None


def obtain(ctx: Ctx, api: EngineApi, kind: str, values: dict[str, Any],
           reuse: bool = True) -> images.ImageResult | None:
    """Make the image exist as requested and record it in runtime properties.

    A built or imported image carries a fingerprint of its source (``SOURCE_LABEL``):
    with ``reuse``, one this deployment's node made from the same source before (an
    earlier run, or this instance before it could record it) is used again: nothing is
    built, and no name moves. Returns None when this instance recorded it already
    (nothing to do).

    What the operation staged (its first contact with the engine: ``engine`` with
    ``contact_now`` False) is written before a build or an import, so that an uninstall
    after a kill looks for the labelled image; otherwise it goes with the record. A
    pulled image carries no label of ours to be looked for: the record is all there is.
    """
    log = ctx.logger.info
    props = ctx.instance.runtime_properties
    if props.get('image_id') and images.inspect_image(api, props['image_id']):
        log('Image %s already present (%s); nothing to do', props.get('image'), props['image_id'])
        return None
    labels = resource_labels(ctx)
    source = _fingerprint(ctx, kind, values)
    if source:
        labels[SOURCE_LABEL] = source
        earlier = _made_before(ctx, api, kind, values, source) if reuse else None
        if earlier is not None:
            _record(ctx, earlier, True)
            return earlier
    if kind in ('image_import', 'image_build'):
        persist(ctx)  # what was staged, before anything is made (nothing staged: no write)
    if kind == 'image_import':
        src = values['src']
        if not images.is_url(src):
            src = _import_file(ctx, src)
        # Imported images carry the Cloudify labels too (as built ones do).
        changes = list(values.get('changes') or []) + [
            f'LABEL {key}={json.dumps(value)}' for key, value in labels.items()]
        with _refusals_named('image_import', values):
            result = images.import_image(api, src, values.get('repository'), values.get('tag'),
                                         changes, log, values['timeout'])
        created = True
    elif kind == 'image_build':
        options = {k: v for k, v in values.items()
                   if v is not None and IMAGE_BUILD.options[k].section == 'build'}
        options['path'] = _context_dir(ctx, values)
        with _refusals_named('image_build', values):
            result = images.build_image(api, options, labels, log, values['timeout'])
        created = True
    else:
        try:
            result, created = images.pull_as(api, values['repository'], values.get('tag'),
                                             values['policy'], log, values.get('auth'),
                                             values.get('platform'), values['timeout'])
        except NotFoundError as exc:
            name = images.reference(values['repository'], values.get('tag'))
            field = 'image_pull.policy' if values['policy'] == 'never' else 'image_pull'
            raise InvalidInputError(field, f'{name} not found in registry '
                                           f'{registry.registry_of(name)}: {exc}') from None
    _record(ctx, result, created)
    return result


def _record(ctx: Ctx, result: images.ImageResult, created: bool) -> None:
    persist(ctx, image_id=result.id, image=result.reference, image_source=result.source,
            image_created=created, image_digest=result.digest)
    ctx.logger.info('Image %s ready: %s (%s)', result.reference, result.id, result.source)


def _fingerprint(ctx: Ctx, kind: str, values: Mapping[str, Any]) -> str | None:
    """The fingerprint of what a build or import is made from (None: a pull, or a build
    asked to be fresh with nocache or pull)."""
    options = {k: v for k, v in values.items() if k != 'timeout' and v is not None}
    if kind == 'image_build':
        if values.get('nocache') or values.get('pull'):
            return None
        return images.fingerprint(options, context=_context_dir(ctx, values))
    if kind == 'image_import':
        if images.is_url(values['src']):
            return images.fingerprint(options)
        return images.fingerprint(options, tarball=_import_file(ctx, values['src']))
    return None


def _made_before(ctx: Ctx, api: EngineApi, kind: str, values: Mapping[str, Any],
                 source: str) -> images.ImageResult | None:
    """The newest image this deployment's node made from the same source, named as the
    source names it again (a name another build moved is moved back), or None."""
    found = images.find_by_labels(api, {**node_labels(ctx), SOURCE_LABEL: source})
    if not found:
        return None
    newest = max(found, key=lambda info: info.get('Created') or 0)
    name = values.get('tag') if kind == 'image_build' else \
        images.reference(values['repository'], values.get('tag')) \
        if values.get('repository') else None
    if name:
        repository, tag = images.split_reference(name)
        images.tag(api, newest['Id'], repository, tag or 'latest')
    ctx.logger.info('Using image %s again (%s): this deployment\'s node made it from the '
                    'same source before (%s %s), so nothing is built', name or newest['Id'],
                    newest['Id'][:19], kind, source[:12])
    return images.ImageResult(newest['Id'], name or newest['Id'], kind.split('_')[1])


def _import_file(ctx: Ctx, given: str) -> str:
    found = resource_path(ctx, given, 'image_import.src')
    if not os.path.isfile(found):
        raise InvalidInputError('image_import.src', f'{given!r} is neither an http(s) URL nor '
                                                    'a readable file')
    return found


def _context_dir(ctx: Ctx, values: Mapping[str, Any]) -> str:
    path = resource_path(ctx, values['path'], 'image_build.path')
    if not os.path.isdir(path):
        raise InvalidInputError('image_build.path', f'{values["path"]!r} is not a directory')
    dockerfile = values.get('dockerfile') or 'Dockerfile'
    if os.path.isabs(dockerfile) or not os.path.isfile(
            within(ctx, path, dockerfile, 'image_build.dockerfile', 'the build context')):
        raise InvalidInputError('image_build.dockerfile',
                                f'no {dockerfile} in the context directory {values["path"]}')
    return path
