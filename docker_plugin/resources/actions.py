"""What can be done to a running container: the connector's action set.

Plain SDK code; every call is bounded by a deadline the caller gives, and a
timeout says what was being waited for.
"""

from __future__ import annotations

import io
import os
import posixpath
import tarfile
import time
from typing import Any, Iterable, Mapping

import docker
import requests

from docker_plugin.errors import ConflictError, InvalidInputError, PluginError, engine_call


class ActionTimeout(PluginError):
    """An action or wait ran past its timeout; the message says what it saw."""


def _short(container_id: str) -> str:
    return container_id[:12]


def pause(api: docker.APIClient, container_id: str) -> None:
    with engine_call(f'pause container {_short(container_id)}'):
        api.pause(container_id)


def unpause(api: docker.APIClient, container_id: str) -> None:
    with engine_call(f'unpause container {_short(container_id)}'):
        api.unpause(container_id)


def restart(api: docker.APIClient, container_id: str, timeout: int | None) -> None:
    with engine_call(f'restart container {_short(container_id)}'):
        api.restart(container_id, timeout=10 if timeout is None else timeout)


def kill(api: docker.APIClient, container_id: str, signal: str | int) -> None:
    with engine_call(f'send {signal} to container {_short(container_id)}'):
        api.kill(container_id, signal=signal)


def rename(api: docker.APIClient, container_id: str, name: str) -> None:
    with engine_call(f'rename container {_short(container_id)} to {name}'):
        api.rename(container_id, name)


def logs(api: docker.APIClient, container_id: str, tail: int | str = 'all',
         since: int | float | None = None, until: int | float | None = None,
         timestamps: bool = False, stdout: bool = True, stderr: bool = True) -> str:
    """Logs as text (the streams interleaved as the engine stored them)."""
    with engine_call(f'read logs of container {_short(container_id)}'):
        data = api.logs(container_id, stdout=stdout, stderr=stderr, tail=tail, since=since,
                        until=until, timestamps=timestamps)
    return data.decode('utf-8', errors='replace')


def exec_run(api: docker.APIClient, container_id: str, command: str | list[str],
             deadline: float, user: str = '', workdir: str | None = None,
             environment: Mapping[str, str] | None = None,
             privileged: bool = False) -> tuple[int | None, str, str]:
    """Run a command in the container: (exit code, stdout, stderr).

    Raises:
        ActionTimeout: it did not finish by ``deadline`` (with the output so far).
    """
    action = f'exec {command!r} in container {_short(container_id)}'
    out: list[bytes] = []
    err: list[bytes] = []
    with engine_call(action):
        exec_id = api.exec_create(container_id, command, user=user, workdir=workdir,
                                  environment=dict(environment or {}) or None,
                                  privileged=privileged)['Id']
        try:
            for chunk_out, chunk_err in api.exec_start(exec_id, stream=True, demux=True):
                if chunk_out:
                    out.append(chunk_out)
                if chunk_err:
                    err.append(chunk_err)
                if time.monotonic() > deadline:
                    raise ActionTimeout(f'{action}: still running at its timeout; output so '
                                        f'far: {_tail(out)!r}')
        except requests.exceptions.ConnectionError as exc:  # a read timeout on the stream
            if time.monotonic() >= deadline - 0.5:
                raise ActionTimeout(f'{action}: no output and not finished at its timeout; '
                                    f'output so far: {_tail(out)!r}') from None
            raise exc
        code = api.exec_inspect(exec_id).get('ExitCode')
    return code, b''.join(out).decode('utf-8', 'replace'), b''.join(err).decode('utf-8',
                                                                                  'replace')


def _tail(chunks: list[bytes], size: int = 500) -> str:
    return b''.join(chunks)[-size:].decode('utf-8', 'replace')


def wait_exit(api: docker.APIClient, container_id: str, timeout: float) -> int:
    """Block until the container stops; its exit code."""
    try:
        with engine_call(f'wait for container {_short(container_id)} to exit'):
            return api.wait(container_id, timeout=timeout)['StatusCode']
    except PluginError as exc:
        if 'timed out' in str(exc).lower() or 'unreachable or slow' in str(exc):
            raise ActionTimeout(f'container {_short(container_id)} still running after '
                                f'{timeout:g}s') from None
        raise


def stats(api: docker.APIClient, container_id: str) -> dict[str, Any]:
    """A one-shot resource snapshot: CPU %, memory, network and block IO, processes."""
    with engine_call(f'read stats of container {_short(container_id)}'):
        raw = api.stats(container_id, stream=False)
    cpu, pre = raw.get('cpu_stats') or {}, raw.get('precpu_stats') or {}
    cpu_delta = (cpu.get('cpu_usage', {}).get('total_usage', 0)
                 - pre.get('cpu_usage', {}).get('total_usage', 0))
    system_delta = cpu.get('system_cpu_usage', 0) - pre.get('system_cpu_usage', 0)
    cpus = cpu.get('online_cpus') or len(cpu.get('cpu_usage', {}).get('percpu_usage') or []) or 1
    memory = raw.get('memory_stats') or {}
    networks = raw.get('networks') or {}
    blkio = (raw.get('blkio_stats') or {}).get('io_service_bytes_recursive') or []
    return {
        'cpu_percent': round(cpu_delta / system_delta * cpus * 100, 2) if system_delta > 0
        else 0.0,
        'memory_usage': memory.get('usage', 0),
        'memory_limit': memory.get('limit', 0),
        'network_rx_bytes': sum(n.get('rx_bytes', 0) for n in networks.values()),
        'network_tx_bytes': sum(n.get('tx_bytes', 0) for n in networks.values()),
        'block_read_bytes': sum(b.get('value', 0) for b in blkio if b.get('op') == 'Read'),
        'block_write_bytes': sum(b.get('value', 0) for b in blkio if b.get('op') == 'Write'),
        'pids': (raw.get('pids_stats') or {}).get('current', 0),
    }


def update(api: docker.APIClient, container_id: str, options: Mapping[str, Any]) -> list[str]:
    """Change resources and restart policy in place; the engine's warnings."""
    with engine_call(f'update container {_short(container_id)}'):
        result = api.update_container(container_id, **options)
    return list((result or {}).get('Warnings') or [])


def list_containers(api: docker.APIClient, filters: Mapping[str, Any] | None,
                    all_states: bool, limit: int) -> list[dict[str, Any]]:
    with engine_call('list containers'):
        found = api.containers(all=all_states, filters=dict(filters or {}) or None)
    return [{'id': c['Id'], 'name': (c.get('Names') or [''])[0].lstrip('/'),
             'image': c.get('Image', ''), 'state': c.get('State', ''),
             'status': c.get('Status', ''), 'labels': c.get('Labels') or {}}
            for c in found[:limit]]


def list_images(api: docker.APIClient, name: str | None, filters: Mapping[str, Any] | None,
                limit: int) -> list[dict[str, Any]]:
    with engine_call('list images'):
        found = api.images(name=name, filters=dict(filters or {}) or None)
    return [{'id': i['Id'], 'tags': i.get('RepoTags') or [], 'size': i.get('Size', 0),
             'created': i.get('Created', 0), 'labels': i.get('Labels') or {}}
            for i in found[:limit]]


# ---------------------------------------------------------------- copy in and out
def _tar_of(source: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode='w') as tar:
        tar.add(source, arcname=os.path.basename(os.path.normpath(source)))
    return buffer.getvalue()


def copy_to(api: docker.APIClient, container_id: str, source: str, destination: str) -> None:
    """Copy a local file or directory into the container's ``destination`` directory."""
    if not os.path.exists(source):
        raise InvalidInputError('source', f'{source!r} does not exist')
    with engine_call(f'copy {source} into container {_short(container_id)}:{destination}'):
        ok = api.put_archive(container_id, destination, _tar_of(source))
    if not ok:
        raise ConflictError(f'copy into {destination}: the engine refused the archive')


def copy_from(api: docker.APIClient, container_id: str, source: str, destination: str,
              max_bytes: int) -> list[str]:
    """Copy a file or directory out of the container into a local directory.

    Members that would land outside ``destination`` (absolute paths, ``..``,
    links pointing out) are refused. Returns the extracted paths.
    """
    with engine_call(f'copy {source} out of container {_short(container_id)}'):
        stream, _ = api.get_archive(container_id, source)
        data = _bounded(stream, max_bytes, source)
    os.makedirs(destination, exist_ok=True)
    root = os.path.realpath(destination)
    extracted = []
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = tar.getmembers()
        for member in members:
            _check_member(member, root)
        for member in members:
            tar.extract(member, root, set_attrs=False)
            extracted.append(member.name)
    return extracted


def _bounded(stream: Iterable[bytes], max_bytes: int, source: str) -> bytes:
    parts, size = [], 0
    for chunk in stream:
        size += len(chunk)
        if size > max_bytes:
            raise InvalidInputError('max_bytes', f'{source} is larger than {max_bytes} bytes')
        parts.append(chunk)
    return b''.join(parts)


def _check_member(member: tarfile.TarInfo, root: str) -> None:
    name = member.name
    target = os.path.realpath(os.path.join(root, name))
    if posixpath.isabs(name) or not (target == root or target.startswith(root + os.sep)):
        raise ConflictError(f'refusing archive member {name!r}: it would land outside '
                            'the destination')
    if member.issym() or member.islnk():
        link = os.path.realpath(os.path.join(os.path.dirname(target), member.linkname)) \
            if member.issym() else os.path.realpath(os.path.join(root, member.linkname))
        if not (link == root or link.startswith(root + os.sep)):
            raise ConflictError(f'refusing link {name!r} -> {member.linkname!r}: it points '
                                'outside the destination')
    if member.isdev():
        raise ConflictError(f'refusing device file {name!r}')
