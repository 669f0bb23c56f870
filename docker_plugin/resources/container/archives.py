"""Copy files into and out of a container, bounded in size and always closed.

An archive answer is streamed with a size limit; a refused or failed copy
closes the response at once (an archive left open holds the container's
lock in the engine, and every later operation on it would hang). A 404 from
the archive endpoints is about the path unless the container itself is gone.
"""

from __future__ import annotations

import io
import os
import posixpath
import time
from typing import Any

from docker_plugin.errors import (
    InvalidInputError,
    NotFoundError,
    RefusedError,
    StateError,
    engine_call,
)
from docker_plugin.resources.container import containers
from docker_plugin.resources.deadlines import guard, open_stream
from docker_plugin.resources.engine_api import EngineApi


def _tar_of(source: str) -> bytes:
    import tarfile
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode='w') as tar:
        tar.add(source, arcname=os.path.basename(os.path.normpath(source)))
    return buffer.getvalue()


def _missing(api: EngineApi, container_id: str, field: str, path: str, exc: Exception) -> Exception:
    """A 404 names the path, unless the container is the thing that is gone."""
    if containers.inspect(api, container_id) is None:
        return StateError(f'container {container_id[:12]} no longer exists')
    return InvalidInputError(field, f'{path!r} does not exist in container '
                                    f'{container_id[:12]} ({str(exc)[-200:]})')


def copy_to(api: EngineApi, container_id: str, source: str, destination: str) -> None:
    """Copy a local file or directory into the container's ``destination`` directory."""
    if not os.path.exists(source):
        raise InvalidInputError('source', f'{source!r} does not exist')
    action = f'copy {source} into container {container_id[:12]}:{destination}'
    try:
        with engine_call(action):
            ok = api.put_archive(container_id, destination, _tar_of(source))
    except NotFoundError as exc:
        raise _missing(api, container_id, 'destination', destination, exc) from None
    except RefusedError as exc:
        raise InvalidInputError('destination', str(exc)) from None
    if not ok:
        raise RefusedError(f'{action}: the engine refused the archive')


def copy_from(api: EngineApi, container_id: str, source: str, destination: str, max_bytes: int,
              deadline: float | None = None) -> list[str]:
    """Copy a file or directory out of the container into a local directory.

    Members that would land outside ``destination`` (absolute paths, ``..``,
    links pointing out, devices) are refused. Returns the extracted paths.
    """
    action = f'copy {source} out of container {container_id[:12]}'
    deadline = deadline or time.monotonic() + 3600
    with engine_call(action):
        response = open_stream(api, 'get', '/containers/{0}/archive', container_id,
                               params={'path': source}, deadline=deadline, action=action)
    parts: list[bytes] = []
    size = 0
    try:
        with guard(api, response, action, deadline):
            for chunk in response.iter_content(65536, False):
                size += len(chunk)
                if size > max_bytes:
                    raise InvalidInputError('max_bytes', f'{source} is larger than {max_bytes} '
                                                         'bytes')
                parts.append(chunk)
    except NotFoundError as exc:
        raise _missing(api, container_id, 'source', source, exc) from None
    import tarfile
    os.makedirs(destination, exist_ok=True)
    root = os.path.realpath(destination)
    extracted = []
    try:
        with tarfile.open(fileobj=io.BytesIO(b''.join(parts))) as tar:
            members = tar.getmembers()
            for member in members:
                _check_member(member, root)
            for member in members:
                tar.extract(member, root, set_attrs=False)
                extracted.append(member.name)
    except tarfile.TarError as exc:
        raise RefusedError(f'{action}: not a readable archive: {exc}') from None
    return extracted


def _check_member(member: Any, root: str) -> None:
    name = member.name
    target = os.path.realpath(os.path.join(root, name))
    if posixpath.isabs(name) or not (target == root or target.startswith(root + os.sep)):
        raise RefusedError(f'refusing archive member {name!r}: it would land outside '
                           'the destination')
    if member.issym() or member.islnk():
        link = os.path.realpath(os.path.join(os.path.dirname(target), member.linkname)) \
            if member.issym() else os.path.realpath(os.path.join(root, member.linkname))
        if not (link == root or link.startswith(root + os.sep)):
            raise RefusedError(f'refusing link {name!r} -> {member.linkname!r}: it points '
                               'outside the destination')
    if member.isdev():
        raise RefusedError(f'refusing device file {name!r}')
