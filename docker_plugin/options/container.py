"""Every option of a container, declared once.

``create`` options go into the create call's body (``Config``); ``host``
options into its ``HostConfig``. The seed's ``container_start`` dict carries
``host`` options: modern engines take those only at create time, so the plugin
applies them by creating the (never started) container with them; see
``docker_plugin.resources.containers.apply_host_options``.
"""

from __future__ import annotations

from typing import Any

import docker.types

from docker_plugin.errors import InvalidInputError
from docker_plugin.options.base import Option, OptionTable

STR, INT, BOOL, LIST, DICT = (str,), (int,), (bool,), (list,), (dict,)
NUM = (int, float)
STR_OR_LIST = (str, list)
DICT_OR_LIST = (dict, list)
SIZE = (int, str)  # bytes, or '512m' style


def _scalar_text(value: Any, path: str) -> str:
    if isinstance(value, (dict, list)):
        raise InvalidInputError(path, 'values must be strings, numbers or booleans')
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)


def normalise_environment(value: Any, path: str) -> dict[str, str]:
    """``{K: V}`` or ``['K=V', ...]`` -> ``{K: 'V'}``."""
    if isinstance(value, dict):
        return {str(k): _scalar_text(v, f'{path}.{k}') for k, v in value.items() if v is not None}
    env: dict[str, str] = {}
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item or item.startswith('='):
            raise InvalidInputError(f'{path}[{index}]', "expected 'NAME=value'")
        key, _, val = item.partition('=')
        env[key] = val
    return env


def _normalise_labels(value: Any, path: str) -> dict[str, str]:
    if isinstance(value, list):
        return {_scalar_text(item, f'{path}[{i}]'): '' for i, item in enumerate(value)}
    return {str(k): _scalar_text(v, f'{path}.{k}') for k, v in value.items()}


def _port_spec(value: Any, path: str) -> int | str:
    text = str(value)
    number, _, proto = text.partition('/')
    if isinstance(value, bool) or not number.isdigit() or not 0 < int(number) < 65536 \
            or proto not in ('', 'tcp', 'udp', 'sctp'):
        raise InvalidInputError(path, f"expected a port like 80 or '53/udp', got {value!r}")
    return int(number) if not proto else text


def _normalise_ports(value: Any, path: str) -> list[int | str]:
    return [_port_spec(item, f'{path}[{i}]') for i, item in enumerate(value)]


def _host_binding(value: Any, path: str) -> Any:
    """One binding: a host port, ``[ip, port]``, ``{host_ip, host_port}``, or None."""
    if value is None:
        return None
    if isinstance(value, dict):
        ip = value.get('host_ip', value.get('HostIp', ''))
        port = value.get('host_port', value.get('HostPort'))
        unknown = set(value) - {'host_ip', 'host_port', 'HostIp', 'HostPort'}
        if unknown:
            raise InvalidInputError(path, f'unknown keys {sorted(unknown)}; use host_ip, host_port')
        return (str(ip), _host_port(port, path)) if port is not None else (str(ip),)
    if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str) \
            and not str(value[0]).isdigit():
        if value[1] is None:  # any free port on that address
            return (value[0],)
        return (value[0], _host_port(value[1], path))
    return _host_port(value, path)


def _host_port(value: Any, path: str) -> int | str:
    text = str(value)
    if isinstance(value, bool) or not (text.isdigit() or _is_range(text)):
        raise InvalidInputError(path, f'expected a host port number, got {value!r}')
    return int(text) if text.isdigit() else text


def _is_range(text: str) -> bool:
    low, sep, high = text.partition('-')
    return bool(sep) and low.isdigit() and high.isdigit()


def normalise_port_bindings(value: Any, path: str) -> dict[Any, Any]:
    """``{container_port: binding or [bindings]}`` in YAML-friendly forms."""
    out: dict[Any, Any] = {}
    for key, binding in value.items():
        port = _port_spec(key, f'{path}.{key}')
        sub = f'{path}.{key}'
        if isinstance(binding, list) and not (len(binding) == 2 and isinstance(binding[0], str)
                                              and not binding[0].isdigit()):
            out[port] = [_host_binding(b, f'{sub}[{i}]') for i, b in enumerate(binding)]
        else:
            out[port] = _host_binding(binding, sub)
    return out


def _normalise_binds(value: Any, path: str) -> Any:
    if isinstance(value, list):
        for index, item in enumerate(value):
            if not isinstance(item, str) or ':' not in item:
                raise InvalidInputError(f'{path}[{index}]',
                                        "expected 'host_path:container_path[:ro]'")
        return value
    out = {}
    for host_path, spec in value.items():
        sub = f'{path}.{host_path}'
        if isinstance(spec, str):
            spec = {'bind': spec}
        if not isinstance(spec, dict) or not isinstance(spec.get('bind'), str):
            raise InvalidInputError(sub, "expected {bind: /container/path, mode: rw|ro}")
        unknown = set(spec) - {'bind', 'mode', 'ro'}
        if unknown:
            raise InvalidInputError(sub, f'unknown keys {sorted(unknown)}; use bind, mode, ro')
        out[host_path] = dict(spec)
    return out


def _normalise_restart_policy(value: Any, path: str) -> dict[str, Any]:
    names = ('no', 'always', 'unless-stopped', 'on-failure')
    if isinstance(value, str):
        name, _, count = value.partition(':')
        value = {'Name': name, 'MaximumRetryCount': int(count) if count.isdigit() else 0}
    policy = {'Name': value.get('Name', value.get('name', '')),
              'MaximumRetryCount': value.get('MaximumRetryCount',
                                             value.get('maximum_retry_count', 0))}
    if policy['Name'] not in names:
        raise InvalidInputError(path, f'name must be one of {", ".join(names)}')
    if not isinstance(policy['MaximumRetryCount'], int):
        raise InvalidInputError(path, 'maximum_retry_count must be an integer')
    return policy


def _typed_list(factory: Any) -> Any:
    def convert(value: Any, path: str) -> list[Any]:
        out = []
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                out.append(item)
                continue
            try:
                out.append(factory(**item))
            except (TypeError, ValueError) as exc:
                raise InvalidInputError(f'{path}[{index}]', str(exc)) from None
        return out
    return convert


def _typed_dict(factory: Any) -> Any:
    def convert(value: Any, path: str) -> Any:
        try:
            return factory(**value)
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(path, str(exc)) from None
    return convert


def _create(name: str, types: tuple[type, ...], doc: str = '', **kw: Any) -> Option:
    return Option(name, types, 'create', doc=doc, **kw)


def _host(name: str, types: tuple[type, ...], doc: str = '', **kw: Any) -> Option:
    return Option(name, types, 'host', doc=doc, **kw)


CONTAINER = OptionTable('container', [
    # --- the create call's body --------------------------------------------------
    _create('image', STR, 'image to run; defaults to the image made by create'),
    _create('command', STR_OR_LIST, 'command to run'),
    _create('entrypoint', STR_OR_LIST, 'entrypoint override'),
    _create('environment', DICT_OR_LIST, 'environment variables', normalise=normalise_environment),
    _create('secret_environment', DICT, 'environment variables whose values are secrets (e.g. '
            'from get_secret): masked in every log, event, runtime property and error',
            normalise=normalise_environment, secret=True),
    _create('ports', LIST, 'container ports to expose, e.g. 80 or "53/udp"',
            normalise=_normalise_ports),
    _create('volumes', STR_OR_LIST + DICT, 'container paths to declare as volumes'),
    _create('name', STR, 'container name'),
    _create('hostname', STR, 'host name inside the container'),
    _create('domainname', STR, 'domain name inside the container'),
    _create('user', (str, int), 'user (name or uid) to run as'),
    _create('working_dir', STR, 'working directory'),
    _create('labels', DICT_OR_LIST, 'container labels', normalise=_normalise_labels),
    _create('stdin_open', BOOL, 'keep stdin open'),
    _create('tty', BOOL, 'allocate a pseudo-TTY'),
    _create('detach', BOOL, 'accepted for compatibility; containers always start detached'),
    _create('network_disabled', BOOL, 'disable networking'),
    _create('mac_address', STR, 'MAC address'),
    _create('stop_signal', STR, 'signal that stops the container'),
    _create('stop_timeout', INT, 'seconds the engine waits on stop before killing'),
    _create('healthcheck', DICT, 'healthcheck: test, interval, timeout, retries, start_period (ns)',
            normalise=_typed_dict(docker.types.Healthcheck)),
    _create('runtime', STR, 'OCI runtime'),
    _create('platform', STR, 'platform, e.g. linux/amd64'),
    _create('networking_config', DICT, 'raw NetworkingConfig body'),
    # --- HostConfig ------------------------------------------------------------
    _host('port_bindings', DICT, 'container port -> host port, [ip, port] or list of them',
          normalise=normalise_port_bindings),
    _host('publish_all_ports', BOOL, 'publish every exposed port on a random host port'),
    _host('binds', DICT_OR_LIST, 'bind mounts: {host: {bind, mode}} or ["host:ctr:ro"]',
          normalise=_normalise_binds),
    _host('mounts', LIST, 'mounts: dicts of target, source, type, read_only, ...',
          normalise=_typed_list(docker.types.Mount)),
    _host('volumes_from', LIST, 'containers whose volumes to mount'),
    _host('volume_driver', STR, 'volume driver'),
    _host('tmpfs', DICT_OR_LIST, 'tmpfs mounts'),
    _host('network_mode', STR, 'bridge, host, none, container:<id> or a network name'),
    _host('links', DICT_OR_LIST, 'legacy links {container: alias}'),
    _host('dns', LIST, 'DNS servers'),
    _host('dns_search', LIST, 'DNS search domains'),
    _host('dns_opt', LIST, 'DNS options'),
    _host('extra_hosts', DICT_OR_LIST, 'extra /etc/hosts entries'),
    _host('restart_policy', (dict, str), 'restart policy: name and maximum_retry_count',
          updatable=True, normalise=_normalise_restart_policy),
    _host('privileged', BOOL, 'privileged mode'),
    _host('cap_add', LIST, 'capabilities to add'),
    _host('cap_drop', LIST, 'capabilities to drop'),
    _host('devices', LIST, 'host devices'),
    _host('device_requests', LIST, 'device requests (GPUs)',
          normalise=_typed_list(docker.types.DeviceRequest)),
    _host('device_cgroup_rules', LIST, 'device cgroup rules'),
    _host('read_only', BOOL, 'read-only root file system'),
    _host('security_opt', LIST, 'security options'),
    _host('pid_mode', STR, 'PID namespace'),
    _host('ipc_mode', STR, 'IPC namespace'),
    _host('uts_mode', STR, 'UTS namespace'),
    _host('userns_mode', STR, 'user namespace'),
    _host('cgroupns', STR, 'cgroup namespace'),
    _host('cgroup_parent', STR, 'parent cgroup'),
    _host('group_add', LIST, 'extra groups'),
    _host('ulimits', LIST, 'ulimits: dicts of name, soft, hard',
          normalise=_typed_list(docker.types.Ulimit)),
    _host('log_config', DICT, 'logging driver: type and config',
          normalise=_typed_dict(docker.types.LogConfig)),
    _host('sysctls', DICT, 'kernel parameters'),
    _host('shm_size', SIZE, 'size of /dev/shm'),
    _host('storage_opt', DICT, 'storage driver options'),
    _host('init', BOOL, 'run an init process as PID 1'),
    _host('init_path', STR, 'path of the init binary'),
    _host('auto_remove', BOOL, 'remove the container when it exits'),
    _host('isolation', STR, 'isolation technology'),
    _host('oom_kill_disable', BOOL, 'disable the OOM killer'),
    _host('oom_score_adj', INT, 'OOM score adjustment'),
    _host('lxc_conf', DICT_OR_LIST, 'legacy LXC options'),
    _host('mem_limit', SIZE, 'memory limit', updatable=True),
    _host('mem_reservation', SIZE, 'memory soft limit', updatable=True),
    _host('memswap_limit', SIZE, 'memory plus swap limit', updatable=True),
    _host('mem_swappiness', INT, 'swappiness 0-100'),
    _host('kernel_memory', SIZE, 'kernel memory limit', updatable=True),
    _host('cpu_shares', INT, 'relative CPU weight', updatable=True),
    _host('cpu_period', INT, 'CFS period (us)', updatable=True),
    _host('cpu_quota', INT, 'CFS quota (us)', updatable=True),
    _host('cpu_rt_period', INT, 'realtime period (us)'),
    _host('cpu_rt_runtime', INT, 'realtime runtime (us)'),
    _host('cpuset_cpus', STR, 'CPUs allowed, e.g. "0-1"', updatable=True),
    _host('cpuset_mems', STR, 'memory nodes allowed', updatable=True),
    _host('cpu_count', INT, 'CPU count (Windows)'),
    _host('cpu_percent', INT, 'CPU percent (Windows)'),
    _host('nano_cpus', INT, 'CPU quota in units of 1e-9 CPUs'),
    _host('blkio_weight', INT, 'block IO weight', updatable=True),
    _host('blkio_weight_device', LIST, 'per-device block IO weight'),
    _host('device_read_bps', LIST, 'read rate limits'),
    _host('device_write_bps', LIST, 'write rate limits'),
    _host('device_read_iops', LIST, 'read IOPS limits'),
    _host('device_write_iops', LIST, 'write IOPS limits'),
    _host('pids_limit', INT, 'process count limit'),
])

# container_start takes HostConfig options only, as the seed's start call did.
START_SECTIONS = ('host',)
# Keys of container_stop and container_remove (with the seed's extra key).
STOP_KEYS = ('timeout',)
REMOVE_KEYS = ('v', 'link', 'force', 'remove_image')
