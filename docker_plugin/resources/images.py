"""Images: import, build, pull, push, tag, inspect and remove.

Every long call streams JSON progress through ``StreamConsumer`` under a
deadline of its own (no read timeout: registries and builds may be silent
for long stretches); ids come from structured results (``aux.ID``, the
import's final status, ``inspect_image``), never from scraping text.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from typing import Any, Mapping

from docker_plugin import records
from docker_plugin.errors import (
    NotFoundError,
    RefusedError,
    StateError,
    engine_call,
    found,
)
from docker_plugin.resources.deadlines import guard, open_stream, sdk_stream
from docker_plugin.resources.engine_api import EngineApi
from docker_plugin.resources.streams import Log, StreamConsumer

_IMAGE_ID = re.compile(r'^sha256:[0-9a-f]{64}$')


@records.record(frozen=True)
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


def split_reference(text: str) -> tuple[str, str | None]:
    """``repo[:tag]`` or ``repo@digest`` -> (repo, tag-or-digest)."""
    if '@' in text:
        repo, digest = text.split('@', 1)
        return repo, digest
    name, _, tag = text.rpartition(':')
    if name and '/' not in tag:
        return name, tag
    return text, None


def canonical_reference(text: str) -> str:
    """One spelling per image name: 'busybox', 'busybox:latest' and
    'docker.io/library/busybox:latest' are all 'busybox:latest' (a digest wins over a
    tag; an image id is kept as it is)."""
    if text.startswith('sha256:'):
        return text
    repository, tag = split_reference(text)
    if '@' in text:
        repository = repository.rpartition(':')[0] if ':' in repository.rpartition('/')[2] \
            else repository
    for prefix in ('docker.io/', 'index.docker.io/', 'registry-1.docker.io/'):
        if repository.startswith(prefix):
            repository = repository[len(prefix):]
            break
    if repository.startswith('library/') and repository.count('/') == 1:
        repository = repository[len('library/'):]
    separator = '@' if '@' in text else ':'
    return f'{repository}{separator}{tag or "latest"}'


def fingerprint(options: Mapping[str, Any], context: str | None = None,
                tarball: str | None = None) -> str:
    """What an image is made from, as a short hash: the build or import options, and the
    files of the build ``context`` (each one's path, whether it is executable, its bytes
    or a link's target) or the bytes of an imported ``tarball``. Two builds with the
    same fingerprint make the same image, but for what the context does not hold (base
    images, what RUN steps download)."""
    digest = hashlib.sha256(json.dumps(options, sort_keys=True, default=str).encode())
    if context is not None:
        for directory, dirs, files in os.walk(context):
            dirs.sort()
            for name in sorted(files):
                path = os.path.join(directory, name)
                digest.update(os.path.relpath(path, context).encode() + b'\0')
                if os.path.islink(path):
                    digest.update(b'link\0' + os.readlink(path).encode() + b'\0')
                    continue
                digest.update(b'x\0' if os.access(path, os.X_OK) else b'-\0')
                _file_into(digest, path)
    if tarball is not None:
        _file_into(digest, tarball)
    return digest.hexdigest()[:32]


def _file_into(digest: Any, path: str) -> None:
    with open(path, 'rb') as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b''):
            digest.update(chunk)
    digest.update(b'\0')


def is_url(text: str) -> bool:
    return text.startswith(('http://', 'https://'))


def _deadline(timeout: float | None) -> float | None:
    return None if timeout is None else time.monotonic() + float(timeout)


def import_image(api: EngineApi, src: str, repository: str | None, tag: str | None,
                 changes: list[str] | None, log: Log, timeout: float | None = None) -> ImageResult:
    """Import a root file system tarball from an http(s) URL or a local path."""
    params: dict[str, Any] = {'repo': repository, 'tag': tag if repository else None}
    if changes:
        params['changes'] = changes
    action = f'import {src}'
    consumer = StreamConsumer(action, log, failure=RefusedError)
    with engine_call(action):
        if is_url(src):
            params['fromSrc'] = src
            deadline = _deadline(timeout)
            response = open_stream(api, 'post', '/images/create', params=params,
                                   deadline=deadline, action=action)
            with guard(api, response, action, deadline):
                consumer.consume(api._stream_helper(response, decode=False))
        else:
            params['fromSrc'] = '-'
            deadline = _deadline(timeout)
            with open(src, 'rb') as handle:
                response = open_stream(api, 'post', '/images/create', params=params, data=handle,
                                       headers={'Content-Type': 'application/tar'},
                                       deadline=deadline, action=action)
                with guard(api, response, action, deadline):
                    consumer.consume(api._stream_helper(response, decode=False))
    image_id = next((s for s in reversed(consumer.statuses) if _IMAGE_ID.match(s)), None)
    if image_id is None:
        raise RefusedError(f'{action}: the engine reported no image id')
    name = f'{repository}:{tag or "latest"}' if repository else image_id
    return ImageResult(image_id, name, 'import')


def build_image(api: EngineApi, options: Mapping[str, Any], labels: Mapping[str, str],
                log: Log, timeout: float | None = None) -> ImageResult:
    """Build from a context directory; fail with the failing step and its output."""
    opts = dict(options)
    path = opts.pop('path')
    opts['labels'] = {**labels, **opts.get('labels', {})}
    opts.setdefault('rm', True)
    opts.setdefault('forcerm', True)  # a failed step leaves no intermediate container
    action = f'build {opts.get("tag") or path}'
    consumer = StreamConsumer(action, log, failure=RefusedError)
    deadline = _deadline(timeout)
    with engine_call(action):
        stream, response = sdk_stream(api, api.build, path=path, decode=False, timeout=None,
                                      deadline=deadline, action=action, **opts)
        with guard(api, response, action, deadline):
            consumer.consume(stream)
    image_id = next((a['ID'] for a in reversed(consumer.aux) if 'ID' in a), None)
    if image_id is None:
        raise RefusedError(f'{action}: the engine reported no image id')
    return ImageResult(image_id, opts.get('tag') or image_id, 'build')


def pull_image(api: EngineApi, repository: str, tag: str | None, log: Log,
               auth_config: Mapping[str, str] | None = None, platform: str | None = None,
               timeout: float | None = None) -> ImageResult:
    """Pull ``repository:tag`` (or ``@digest``) and return its local id.

    The request is made here rather than by the SDK's ``pull``, which waits
    for the engine's answer without any limit: the engine answers only once
    the registry has, and a silent registry would hold the operation forever.
    """
    from docker import auth
    ref = reference(repository, tag)
    action = f'pull {ref}'
    consumer = StreamConsumer(action, log)
    deadline = _deadline(timeout)
    params = {'tag': tag or 'latest', 'fromImage': repository}
    if platform:
        params['platform'] = platform
    with engine_call(action):
        header = auth.encode_header(dict(auth_config)) if auth_config else \
            auth.get_config_header(api, auth.resolve_repository_name(repository)[0])
        response = open_stream(api, 'post', '/images/create', params=params,
                               headers={'X-Registry-Auth': header} if header else {},
                               deadline=deadline, action=action)
        with guard(api, response, action, deadline):
            consumer.consume(api._stream_helper(response, decode=False))
        info = api.inspect_image(ref)
    return ImageResult(info['Id'], ref, 'pull', repo_digest(info, repository))


def push(api: EngineApi, repository: str, tag_name: str, log: Log,
         auth_config: Mapping[str, str] | None = None, timeout: float | None = None) -> str:
    """Push ``repository:tag`` and return the digest the registry reports.

    The SDK's push does not raise on errors reported inside the stream (HTTP
    200); the stream is consumed and classified here.
    """
    action = f'push {repository}:{tag_name}'
    consumer = StreamConsumer(action, log)
    deadline = _deadline(timeout)
    with engine_call(action):
        stream, response = sdk_stream(api, api.push, repository, tag_name, stream=True,
                                      decode=False,
                                      auth_config=dict(auth_config) if auth_config else None,
                                      deadline=deadline, action=action)
        with guard(api, response, action, deadline):
            consumer.consume(stream)
    digest = next((a.get('Digest') for a in reversed(consumer.aux) if a.get('Digest')), None)
    if digest is None:
        raise RefusedError(f'{action}: the registry reported no digest')
    return digest


def pull_as(api: EngineApi, repository: str, tag: str | None, policy: str, log: Log,
            auth_config: Mapping[str, str] | None = None, platform: str | None = None,
            timeout: float | None = None) -> tuple[ImageResult, bool]:
    """Pull as the policy says (``missing``, ``always``, ``never``).

    Returns:
        (the image, whether this pull brought it here).

    Raises:
        NotFoundError: not present with policy ``never``, or unknown to the registry.
    """
    ref = reference(repository, tag)
    info = inspect_image(api, ref)
    if info is not None and policy != 'always':
        return ImageResult(info['Id'], ref, 'existing', repo_digest(info, repository)), False
    if info is None and policy == 'never':
        raise NotFoundError(f'image {ref} is not present and the pull policy is never')
    return pull_image(api, repository, tag, log, auth_config, platform, timeout), info is None


def inspect_image(api: EngineApi, name: str) -> dict[str, Any] | None:
    """The image's inspect data, or None when it does not exist locally."""
    return found(lambda: api.inspect_image(name), f'inspect image {name}')


def remove_image(api: EngineApi, image: str, force: bool = False) -> bool:
    """Remove an image (or, given one of several names, just that name).

    Returns False when it was already gone.

    Raises:
        StateError: containers still use it (they are named).
    """
    try:
        with engine_call(f'remove image {image}'):
            api.remove_image(image, force=force)
    except NotFoundError:
        return False
    except RefusedError as exc:
        names = users(api, image)
        who = f'containers {", ".join(sorted(names))}' if names else 'a container'
        raise StateError(f'image {image} is still used by {who} ({exc})') from None
    return True


@records.record(frozen=True)
class Released:
    """What ``release`` did with an image and the names given."""

    gone: bool = False                  # there was no such image
    removed: bool = False               # the image itself went
    untagged: tuple[str, ...] = ()      # names taken off it, the image staying
    other_names: tuple[str, ...] = ()   # names it keeps, not among those given
    users: tuple[str, ...] = ()         # containers that keep it (and its last name)

    def describe(self, image: str) -> str:
        """One line for a person."""
        if self.gone:
            return f'image {image} is already gone'
        if self.removed:
            return f'removed image {image}'
        done = f'untagged {", ".join(self.untagged)}; ' if self.untagged else ''
        why = f'it is also named {", ".join(self.other_names)}' if self.other_names else \
            f'containers {", ".join(self.users)} use it' if self.users else \
            'it is not this deployment\'s to remove'
        return f'{done}image {image} stays: {why}'


def release(api: EngineApi, image_id: str, names: list[str], remove: bool = True,
            force: bool = False) -> Released:
    """Take ``names`` (those a node added) off the image ``image_id``, and the image
    itself when ``remove`` and nothing else holds it: no other name, and no container
    (unless ``force``). A name that points at another image now is not this image's:
    left alone. The last name of an image containers use stays with it (removing it
    would leave their image nameless); so does the last name of an image not ours
    to remove (``remove`` false).

    Raises:
        StateError: the engine refused to remove the image (images built on it).
    """
    info = inspect_image(api, image_id)
    if info is None:
        return Released(gone=True)
    tags = [t for t in info.get('RepoTags') or [] if t != '<none>:<none>']
    known = {canonical_reference(t): t for t in [*tags, *(info.get('RepoDigests') or [])]}
    ours = list(dict.fromkeys(known[canonical_reference(n)] for n in names
                              if canonical_reference(n) in known))
    others = tuple(t for t in tags if t not in ours)
    if others or not remove:
        keep_last = [] if others else ours[-1:]
        untag = [n for n in ours if n not in keep_last]
        for name in untag:
            _untag(api, name)
        return Released(untagged=tuple(untag), other_names=others)
    users_of = tuple(users(api, image_id))
    if users_of and not force:
        return Released(users=users_of)
    for name in ours[:-1]:
        _untag(api, name)
    last = ours[-1] if ours and not force else image_id
    try:
        with engine_call(f'remove image {last}'):
            api.remove_image(last, force=force)
    except NotFoundError:
        return Released(gone=True)
    except RefusedError as exc:
        raise StateError(f'image {last} cannot be removed: {exc}') from None
    return Released(removed=True, untagged=tuple(ours[:-1]))


def _untag(api: EngineApi, name: str) -> None:
    """Take one name off an image that keeps another (the engine then only untags)."""
    try:
        with engine_call(f'untag image {name}'):
            api.remove_image(name)
    except NotFoundError:
        pass


def tag(api: EngineApi, image: str, repository: str, tag_name: str) -> str:
    """Give ``image`` the name ``repository:tag``; returns that reference."""
    with engine_call(f'tag image {image} as {repository}:{tag_name}'):
        api.tag(image, repository, tag_name, force=True)
    return f'{repository}:{tag_name}'


def repo_digest(info: Mapping[str, Any], repository: str) -> str | None:
    """The digest a registry gave this image under ``repository``, if any."""
    for entry in info.get('RepoDigests') or []:
        repo, _, digest = entry.partition('@')
        if repo == repository:
            return digest
    return None


def registry_digest(api: EngineApi, name: str,
                    auth_config: Mapping[str, str] | None = None) -> str | None:
    """The digest the registry serves for ``name`` now (None: it has none)."""
    served = found(lambda: api.inspect_distribution(
        name, auth_config=dict(auth_config) if auth_config else None),
        f'ask the registry about {name}')
    return None if served is None else (served.get('Descriptor') or {}).get('digest')


def users(api: EngineApi, image_id: str) -> list[str]:
    """Names of the containers (running or not) created from this image."""
    with engine_call(f'list containers using image {image_id}'):
        using = api.containers(all=True, filters={'ancestor': image_id})
    return [(c.get('Names') or [c['Id'][:12]])[0].lstrip('/') for c in using]


def find_by_labels(api: EngineApi, labels: Mapping[str, str]) -> list[dict[str, Any]]:
    """Images carrying every given label."""
    with engine_call('list images by label'):
        return api.images(filters={'label': [f'{k}={v}' for k, v in labels.items()]})
