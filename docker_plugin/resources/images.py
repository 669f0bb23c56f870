"""Images: import, build, pull, inspect and remove.

Every long call streams JSON progress through ``StreamConsumer``; ids come from
structured results (``aux.ID``, the import's final status, ``inspect_image``),
never from scraping text.
"""

from __future__ import annotations

import dataclasses
import os
import re
from typing import Any, Iterator, Mapping

import docker

from docker_plugin.errors import ConflictError, InvalidInputError, NotFoundError, engine_call
from docker_plugin.streams import Log, StreamConsumer

_IMAGE_ID = re.compile(r'^sha256:[0-9a-f]{64}$')


@dataclasses.dataclass(frozen=True)
class ImageResult:
    """What an image operation produced."""

    id: str
    reference: str
    source: str  # import | build | pull | existing
    digest: str | None = None  # the registry's digest, for pulled images


def reference(repository: str, tag: str | None) -> str:
    """``repo:tag`` or ``repo@sha256:...``."""
    if tag and tag.startswith('sha256:'):
        return f'{repository}@{tag}'
    return f'{repository}:{tag or "latest"}'


def is_url(text: str) -> bool:
    return text.startswith(('http://', 'https://'))


def _post_stream(api: docker.APIClient, path: str, params: Mapping[str, Any],
                 data: Any = None, headers: Mapping[str, str] | None = None) -> Iterator[Any]:
    """POST an endpoint that answers with a progress stream; no read timeout.

    The SDK's ``import_image`` reads the whole answer under the client's
    timeout, so a slow download fails; this streams it instead.
    """
    response = api._post(api._url(path), params=params, data=data, headers=headers,
                         stream=True, timeout=None)
    api._raise_for_status(response)
    return api._stream_helper(response, decode=False)


def split_reference(reference: str) -> tuple[str, str | None]:
    """``repo[:tag]`` or ``repo@digest`` -> (repo, tag-or-digest)."""
    if '@' in reference:
        repo, digest = reference.split('@', 1)
        return repo, digest
    name, _, tag = reference.rpartition(':')
    if name and '/' not in tag:
        return name, tag
    return reference, None


def import_image(api: docker.APIClient, src: str, repository: str | None, tag: str | None,
                 changes: list[str] | None, log: Log) -> ImageResult:
    """Import a root file system tarball from an http(s) URL or a local path."""
    params: dict[str, Any] = {'repo': repository, 'tag': tag if repository else None}
    if changes:
        params['changes'] = changes
    action = f'import {src}'
    consumer = StreamConsumer(action, log)
    with engine_call(action):
        if is_url(src):
            params['fromSrc'] = src
            consumer.consume(_post_stream(api, '/images/create', params))
        else:
            if not os.path.isfile(src):
                raise InvalidInputError('image_import.src',
                                        f'{src!r} is neither an http(s) URL nor a readable file')
            params['fromSrc'] = '-'
            with open(src, 'rb') as handle:
                consumer.consume(_post_stream(api, '/images/create', params, data=handle,
                                              headers={'Content-Type': 'application/tar'}))
    image_id = next((s for s in reversed(consumer.statuses) if _IMAGE_ID.match(s)), None)
    if image_id is None:
        raise ConflictError(f'{action}: the engine reported no image id')
    reference = f'{repository}:{tag or "latest"}' if repository else image_id
    return ImageResult(image_id, reference, 'import')


# image_build keys that the plugin handles itself rather than passing to the SDK.
BUILD_KEYS = {
    'path': (str,), 'tag': (str,), 'dockerfile': (str,), 'buildargs': (dict,),
    'rm': (bool,), 'forcerm': (bool,), 'nocache': (bool,), 'pull': (bool,),
    'labels': (dict,), 'target': (str,), 'network_mode': (str,), 'platform': (str,),
    'cache_from': (list,), 'extra_hosts': (dict, list), 'shmsize': (int,),
    'container_limits': (dict,), 'squash': (bool,), 'isolation': (str,), 'timeout': (int,),
    'quiet': (bool,), 'encoding': (str,), 'gzip': (bool,), 'use_config_proxy': (bool,),
}


def validate_build(raw: Mapping[str, Any] | None, field: str = 'image_build') -> dict[str, Any]:
    """Check an ``image_build`` dict: known keys, right types, a context path."""
    if not isinstance(raw, Mapping):
        raise InvalidInputError(field, f'expected a dictionary, got {type(raw).__name__}')
    if 'fileobj' in raw:
        raise InvalidInputError(f'{field}.fileobj', 'not supported; give path, a context directory')
    out: dict[str, Any] = {}
    for key, value in raw.items():
        types = BUILD_KEYS.get(key)
        if types is None:
            raise InvalidInputError(f'{field}.{key}', 'unknown option')
        if value is None:
            continue
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise InvalidInputError(f'{field}.{key}', f'expected {types[0].__name__}, '
                                                      f'got {type(value).__name__}')
        out[key] = value
    if not out.get('path'):
        raise InvalidInputError(f'{field}.path', 'required: a directory holding a Dockerfile')
    if 'buildargs' in out:
        out['buildargs'] = {str(k): str(v) for k, v in out['buildargs'].items()}
    return out


def build_image(api: docker.APIClient, options: Mapping[str, Any], labels: Mapping[str, str],
                log: Log) -> ImageResult:
    """Build from a context directory; fail with the failing step and its output."""
    opts = dict(options)
    path = opts.pop('path')
    if not os.path.isdir(path):
        raise InvalidInputError('image_build.path', f'{path!r} is not a directory')
    dockerfile = opts.get('dockerfile') or 'Dockerfile'
    if not os.path.isabs(dockerfile) and not os.path.isfile(os.path.join(path, dockerfile)):
        raise InvalidInputError('image_build.dockerfile', f'no {dockerfile} in {path}')
    opts['labels'] = {**labels, **opts.get('labels', {})}
    opts.setdefault('rm', True)
    # A failed step would otherwise leave its intermediate container behind.
    opts.setdefault('forcerm', True)
    action = f'build {opts.get("tag") or path}'
    consumer = StreamConsumer(action, log)
    with engine_call(action):
        consumer.consume(api.build(path=path, decode=True, **opts))
    image_id = next((a['ID'] for a in reversed(consumer.aux) if 'ID' in a), None)
    if image_id is None:
        raise ConflictError(f'{action}: the engine reported no image id')
    return ImageResult(image_id, opts.get('tag') or image_id, 'build')


def pull_image(api: docker.APIClient, repository: str, tag: str | None, log: Log,
               auth_config: Mapping[str, str] | None = None,
               platform: str | None = None) -> ImageResult:
    """Pull ``repository:tag`` (or ``@digest``) and return its local id."""
    ref = reference(repository, tag)
    action = f'pull {ref}'
    consumer = StreamConsumer(action, log)
    with engine_call(action):
        consumer.consume(api.pull(repository, tag=tag or 'latest', stream=True, decode=True,
                                  auth_config=dict(auth_config) if auth_config else None,
                                  platform=platform))
        info = api.inspect_image(ref)
    return ImageResult(info['Id'], ref, 'pull', repo_digest(info, repository))


def inspect_image(api: docker.APIClient, reference: str) -> dict[str, Any] | None:
    """The image's inspect data, or None when it does not exist locally."""
    try:
        with engine_call(f'inspect image {reference}'):
            return api.inspect_image(reference)
    except NotFoundError:
        return None


def remove_image(api: docker.APIClient, image: str, force: bool = False) -> bool:
    """Remove an image (or, given one of several names, just that name).

    Returns False when it was already gone.

    Raises:
        ConflictError: containers still use it (they are named).
    """
    try:
        with engine_call(f'remove image {image}'):
            api.remove_image(image, force=force)
    except NotFoundError:
        return False
    except ConflictError as exc:
        names = users(api, image)
        who = f'containers {", ".join(sorted(names))}' if names else 'a container'
        raise ConflictError(f'image {image} is still used by {who} ({exc})') from None
    return True


def tag(api: docker.APIClient, image: str, repository: str, tag_name: str) -> str:
    """Give ``image`` the name ``repository:tag``; returns that reference."""
    with engine_call(f'tag image {image} as {repository}:{tag_name}'):
        api.tag(image, repository, tag_name, force=True)
    return f'{repository}:{tag_name}'


def push(api: docker.APIClient, repository: str, tag_name: str, log: Log,
         auth_config: Mapping[str, str] | None = None) -> str:
    """Push ``repository:tag`` and return the digest the registry reports.

    The SDK's push does not raise on errors reported inside the stream (HTTP
    200); the stream is consumed and classified here.
    """
    action = f'push {repository}:{tag_name}'
    consumer = StreamConsumer(action, log)
    with engine_call(action):
        consumer.consume(api.push(repository, tag_name, stream=True, decode=True,
                                  auth_config=dict(auth_config) if auth_config else None))
    digest = next((a.get('Digest') for a in reversed(consumer.aux) if a.get('Digest')), None)
    if digest is None:
        raise ConflictError(f'{action}: the registry reported no digest')
    return digest


def repo_digest(info: Mapping[str, Any], repository: str) -> str | None:
    """The digest a registry gave this image under ``repository``, if any."""
    for entry in info.get('RepoDigests') or []:
        repo, _, digest = entry.partition('@')
        if repo == repository:
            return digest
    return None


def users(api: docker.APIClient, image_id: str) -> list[str]:
    """Names of the containers (running or not) created from this image."""
    with engine_call(f'list containers using image {image_id}'):
        found = api.containers(all=True, filters={'ancestor': image_id})
    return [(c.get('Names') or [c['Id'][:12]])[0].lstrip('/') for c in found]
