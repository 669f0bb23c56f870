"""Drive a running container: the connector's action set (plain SDK code)."""

from __future__ import annotations

from typing import Any, Mapping

from docker_plugin.errors import engine_call
from docker_plugin.options.base import Update
from docker_plugin.options.container import CONTAINER
from docker_plugin.resources.container.containers import short
from docker_plugin.resources.engine_api import EngineApi


def pause(api: EngineApi, container_id: str) -> None:
    with engine_call(f'pause container {short(container_id)}'):
        api.pause(container_id)


def unpause(api: EngineApi, container_id: str) -> None:
    with engine_call(f'unpause container {short(container_id)}'):
        api.unpause(container_id)


def restart(api: EngineApi, container_id: str, timeout: int | None) -> None:
    with engine_call(f'restart container {short(container_id)}'):
        api.restart(container_id, timeout=10 if timeout is None else timeout)


def kill(api: EngineApi, container_id: str, signal: str | int) -> None:
    with engine_call(f'send {signal} to container {short(container_id)}'):
        api.kill(container_id, signal=signal)


def rename(api: EngineApi, container_id: str, name: str) -> None:
    with engine_call(f'rename container {short(container_id)} to {name}'):
        api.rename(container_id, name)


def stats(api: EngineApi, container_id: str) -> dict[str, Any]:
    """A one-shot resource snapshot: CPU %, memory, network and block IO, processes."""
    with engine_call(f'read stats of container {short(container_id)}'):
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


def update_body(values: Mapping[str, Any]) -> dict[str, Any]:
    """The engine's update call for in-place options (``Update.UPDATE_CALL`` in the
    container table): each value as the engine stores it, under its HostConfig key;
    zero and false values are sent too.

    Raises:
        ValueError: an option the update call does not change (a caller's mistake).
    """
    body = {}
    for name, value in values.items():
        option = CONTAINER.options[name]
        if option.update is not Update.UPDATE_CALL or not option.read:
            raise ValueError(f'{name} is not changed by the update call')
        body[option.read.rsplit('.', 1)[-1]] = option.engine_value(value)
    return body


# The update call keeps a field's old value when it is given 0 (or '' for the cpusets):
# only these take a zero.
_ZERO_APPLIES = ('PidsLimit', 'RestartPolicy')


def applies_in_place(name: str, value: Any) -> bool:
    """Whether the engine's update call sets this validated value: it leaves a field
    as it was when given zero or nothing (PidsLimit aside), so those need a new
    container."""
    option = CONTAINER.options[name]
    if option.update is not Update.UPDATE_CALL or not option.read:
        return False
    key, stored = option.read.rsplit('.', 1)[-1], option.engine_value(value)
    return key in _ZERO_APPLIES or stored not in (0, '', None)


def update(api: EngineApi, container_id: str, body: Mapping[str, Any]) -> list[str]:
    """Change resources and restart policy in place; the engine's warnings.

    ``body`` is the engine's own update body (HostConfig keys). It is sent as it
    is: the SDK's ``update_container`` leaves out zero and false values and has no
    keyword for PidsLimit, NanoCpus or the realtime CPU settings.
    """
    with engine_call(f'update container {short(container_id)}'):
        result = api._result(api._post_json(api._url('/containers/{0}/update', container_id),
                                            data=dict(body)), True)
    return list((result or {}).get('Warnings') or [])


def list_containers(api: EngineApi, filters: Mapping[str, Any] | None, all_states: bool,
                    limit: int) -> list[dict[str, Any]]:
    with engine_call('list containers'):
        found = api.containers(all=all_states, filters=dict(filters or {}) or None)
    return [{'id': c['Id'], 'name': (c.get('Names') or [''])[0].lstrip('/'),
             'image': c.get('Image', ''), 'state': c.get('State', ''),
             'status': c.get('Status', ''), 'labels': c.get('Labels') or {}}
            for c in found[:limit]]


def list_images(api: EngineApi, name: str | None, filters: Mapping[str, Any] | None,
                limit: int) -> list[dict[str, Any]]:
    with engine_call('list images'):
        found = api.images(name=name, filters=dict(filters or {}) or None)
    return [{'id': i['Id'], 'tags': i.get('RepoTags') or [], 'size': i.get('Size', 0),
             'created': i.get('Created', 0), 'labels': i.get('Labels') or {}}
            for i in found[:limit]]
