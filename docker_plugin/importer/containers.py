"""One compose service's own options as a Container node's ``container_config``.

Works on compose's normalised (long) syntax. Everything a service sets is
either mapped here, mapped by ``blueprint`` (image and build, environment,
networks, named volumes, depends_on, secrets and configs, replicas), or
reported in ``notes``: nothing is dropped silently.
"""

from __future__ import annotations

import math
import re
from typing import Any, Callable, Mapping

from docker_plugin.errors import InvalidInputError
from docker_plugin.importer import values
from docker_plugin.options.units import DURATION

# Keys ``blueprint`` maps (with the service's relationships and nodes).
ELSEWHERE = {'image', 'build', 'pull_policy', 'environment', 'env_file', 'networks',
             'depends_on', 'secrets', 'configs', 'scale', 'profiles', 'network_mode',
             'volumes_from', 'container_name', 'links'}
# Same name, same meaning: copied as they are.
SAME = ('command', 'entrypoint', 'user', 'working_dir', 'hostname', 'domainname', 'labels',
        'stop_signal', 'tty', 'stdin_open', 'mac_address', 'privileged', 'cap_add',
        'cap_drop', 'dns_search', 'dns_opt', 'sysctls', 'init', 'read_only', 'security_opt',
        'userns_mode', 'cgroup_parent', 'group_add', 'storage_opt', 'isolation',
        'oom_score_adj', 'oom_kill_disable', 'mem_reservation', 'mem_swappiness',
        'cpu_shares', 'cpu_quota', 'cpu_period', 'cpu_rt_period', 'cpu_rt_runtime',
        'pids_limit', 'device_cgroup_rules', 'runtime', 'platform')
# Compose name -> container_config name.
RENAMED = {'pid': 'pid_mode', 'ipc': 'ipc_mode', 'uts': 'uts_mode', 'cgroup': 'cgroupns',
           'cpuset': 'cpuset_cpus', 'mem_limit': 'mem_limit', 'memswap_limit': 'memswap_limit'}
RESTART = {'none': 'no', 'on-failure': 'on-failure', 'any': 'always'}
# A mount's own keys (besides the options under its type's key).
MOUNT_KEYS = {'type', 'source', 'target', 'read_only'}
MOUNT_OPTIONS = ('volume', 'bind', 'tmpfs')


def node_id(prefix: str, name: str) -> str:
    """A node name for a compose key (letters, digits, ``_`` and ``-``)."""
    return prefix + re.sub(r'[^A-Za-z0-9_-]', '_', name)


class ServiceMapping:
    """``container_config`` (and ``container_stop``) for one service, with notes."""

    def __init__(self, name: str, service: Mapping[str, Any]):
        self.name = name
        self.service = service
        self.config: dict[str, Any] = {}
        self.stop: dict[str, Any] = {}
        self.notes: list[str] = []
        self.named_volumes: list[dict[str, Any]] = []  # (volume key, mount properties)

    def note(self, key: str, why: str) -> None:
        self.notes.append(f'services.{self.name}.{key}: {why}')

    def map(self) -> ServiceMapping:
        handlers: dict[str, Callable[[Any], None]] = {
            'ports': self._ports, 'expose': self._expose, 'healthcheck': self._healthcheck,
            'restart': self._restart, 'stop_grace_period': self._grace,
            'deploy': self._deploy, 'volumes': self._volumes, 'tmpfs': self._tmpfs,
            'ulimits': self._ulimits, 'logging': self._logging, 'devices': self._devices,
            'extra_hosts': self._extra_hosts, 'dns': self._dns, 'shm_size': self._shm,
            'cpus': self._cpus}
        for key, value in self.service.items():
            if value is None or key in ELSEWHERE:
                continue
            if key in SAME:
                self.config[key] = value
            elif key in RENAMED:
                self.config[RENAMED[key]] = value
            elif key in handlers:
                handlers[key](value)
            else:
                self.note(key, 'not mapped (no Container option does this)')
        return self

    # ------------------------------------------------------------------ ports
    def _expose(self, value: list[Any]) -> None:
        for item in value:
            port = str(item)
            self.config.setdefault('ports', []).append(int(port) if port.isdigit() else port)

    def _ports(self, value: list[Mapping[str, Any]]) -> None:
        bindings: dict[Any, list[Any]] = {}
        for item in value:
            protocol = item.get('protocol') or 'tcp'
            key: Any = item['target'] if protocol == 'tcp' else f'{item["target"]}/{protocol}'
            if key not in self.config.setdefault('ports', []):
                self.config['ports'].append(key)
            published = str(item.get('published') or '')
            port: Any = int(published) if published.isdigit() else (published or None)
            host_ip = item.get('host_ip') or ''
            bindings.setdefault(key, []).append([host_ip, port] if host_ip else port)
            if item.get('mode') == 'host' or item.get('app_protocol') or item.get('name'):
                self.note('ports', 'mode, name and app_protocol are not kept (publishing is)')
        self.config['port_bindings'] = {k: v[0] if len(v) == 1 else v for k, v in
                                        bindings.items()}

    # ------------------------------------------------------------------ lifecycle
    def _healthcheck(self, value: Mapping[str, Any]) -> None:
        check = values.healthcheck(value, self.note)
        if check:
            self.config['healthcheck'] = check

    def _restart(self, value: str) -> None:
        if value != 'no':
            self.config['restart_policy'] = value

    def _grace(self, value: str) -> None:
        try:
            seconds = math.ceil(DURATION(value, 'stop_grace_period') / 10 ** 9)
        except InvalidInputError:
            self.note('stop_grace_period', f'{value!r} is not a duration')
            return
        self.config['stop_timeout'] = seconds
        self.stop['timeout'] = seconds

    def _deploy(self, value: Mapping[str, Any]) -> None:
        for key, item in value.items():
            if key == 'replicas' or item in (None, {}, []):
                continue  # instances (blueprint), or nothing said
            if key == 'resources':
                self._resources(item or {})
            elif key == 'restart_policy' and 'restart' not in self.service:
                condition = RESTART.get((item or {}).get('condition', 'any'), 'always')
                attempts = (item or {}).get('max_attempts')
                self.config['restart_policy'] = f'{condition}:{attempts}' if \
                    condition == 'on-failure' and attempts else condition
                for extra in set(item or {}) - {'condition', 'max_attempts'}:
                    self.note(f'deploy.restart_policy.{extra}', 'not mapped')
            else:
                self.note(f'deploy.{key}', 'not mapped (Swarm only)')

    def _resources(self, value: Mapping[str, Any]) -> None:
        limits = value.get('limits') or {}
        for key, item in limits.items():
            if key == 'cpus':
                self._cpus(item)
            elif key == 'memory':
                self.config['mem_limit'] = item
            elif key == 'pids':
                self.config['pids_limit'] = item
            else:
                self.note(f'deploy.resources.limits.{key}', 'not mapped')
        for key, item in (value.get('reservations') or {}).items():
            if key == 'memory':
                self.config['mem_reservation'] = item
            else:
                self.note(f'deploy.resources.reservations.{key}', 'not mapped')

    def _cpus(self, value: Any) -> None:
        self.config['nano_cpus'] = round(float(value) * 10 ** 9)

    # ------------------------------------------------------------------ storage
    def _volumes(self, value: list[Mapping[str, Any]]) -> None:
        for index, mount in enumerate(value):
            kind, target = mount.get('type'), mount.get('target')
            options = dict(mount.get(kind) or {}) if kind in MOUNT_OPTIONS else {}
            where = f'volumes[{index}]'
            for key in sorted(set(mount) - MOUNT_KEYS - {kind}):
                self.note(f'{where}.{key}', 'not mapped')
            if kind == 'volume' and mount.get('source'):
                properties = {'target': target}
                if mount.get('read_only'):
                    properties['read_only'] = True
                if options.pop('nocopy', None):
                    properties['no_copy'] = True
                if options.get('subpath'):
                    properties['subpath'] = options.pop('subpath')
                self.named_volumes.append({'volume': mount['source'], **properties})
            elif kind == 'volume':
                options.pop('nocopy', None)
                self.config.setdefault('volumes', []).append(target)
            elif kind == 'bind':
                # the Binds the engine takes: host:container:ro|rw[,propagation][,z|Z]
                flags = [options.pop(k) for k in ('propagation', 'selinux') if options.get(k)]
                options.pop('create_host_path', None)  # Binds: the engine creates it
                mode = ','.join(['ro' if mount.get('read_only') else 'rw', *flags])
                self.config.setdefault('binds', []).append(f'{mount["source"]}:{target}:{mode}')
            elif kind == 'tmpfs':
                settings = [f'size={options.pop("size")}'] if options.get('size') else []
                self.config.setdefault('tmpfs', {})[target] = ','.join(settings)
            else:
                self.note(where, f'a {kind} mount is not mapped')
                continue
            for key in sorted(k for k, v in options.items() if v not in (None, False, '')):
                self.note(f'{where}.{kind}.{key}', 'not mapped')

    def _tmpfs(self, value: Any) -> None:
        for item in [value] if isinstance(value, str) else value:
            target, _, options = str(item).partition(':')
            self.config.setdefault('tmpfs', {})[target] = options

    def _shm(self, value: Any) -> None:
        self.config['shm_size'] = int(value) if str(value).isdigit() else value

    # ------------------------------------------------------------------ the rest
    def _ulimits(self, value: Mapping[str, Any]) -> None:
        self.config['ulimits'] = values.ulimits(value)

    def _logging(self, value: Mapping[str, Any]) -> None:
        self.config['log_config'] = values.logging(value)

    def _devices(self, value: list[Any]) -> None:
        self.config['devices'] = [
            item if isinstance(item, str) else
            ':'.join(p for p in (item.get('source'), item.get('target') or item.get('source'),
                                 item.get('permissions')) if p) for item in value]

    def _extra_hosts(self, value: Any) -> None:
        self.config['extra_hosts'] = values.extra_hosts(value)

    def _dns(self, value: Any) -> None:
        self.config['dns'] = [value] if isinstance(value, str) else list(value)
